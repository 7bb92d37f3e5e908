"""API keys act with at most their creator's current rights (app/kit/principal.py), none while
their creator's password is reset, never change their creator's account, and make no keys
(app/auth/router.py)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import ApiKey, Role
from tests.auth.helpers import JSON, account, assert_unauthenticated, client_of, sign_in, token_for
from tests.factories import API, assert_problem

NEW = "mây tre đan Phú Vinh 2026"


async def key_made_by(client: httpx.AsyncClient, db: AsyncSession, username: str) -> tuple[JSON, str]:
    """An administrator's account, and an admin key it creates with its bearer token."""
    who = await account(db, username, Role.admin)
    token = await token_for(db, who)
    async with client_of(client, {"Authorization": f"Bearer {token}"}) as http:
        made = await http.post(f"{API}/admin/keys", json={"name": f"key of {username}", "role": "admin"})
    assert made.status_code == 201, made.text
    body: JSON = made.json()
    return body, body["key"]


async def test_a_key_of_a_disabled_creator_is_refused_and_cannot_re_enable_it(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    made, secret = await key_made_by(client, db, "quan.tri")
    disabled = await client.patch(f"{API}/admin/accounts/quan.tri", json={"is_active": False})
    assert disabled.status_code == 200, disabled.text
    async with client_of(client, {"X-API-Key": secret}) as key:
        refused = await key.get(f"{API}/auth/me")
        assert_unauthenticated(refused)
        assert "disabled" in refused.json()["detail"]
        again = await key.patch(f"{API}/admin/accounts/quan.tri", json={"is_active": True})
        assert_unauthenticated(again)
    listed = {a["username"]: a for a in (await client.get(f"{API}/admin/accounts")).json()}
    assert listed["quan.tri"]["is_active"] is False
    # Enabled again by another administrator, the key works again.
    assert (await client.patch(f"{API}/admin/accounts/quan.tri", json={"is_active": True})).status_code == 200
    async with client_of(client, {"X-API-Key": secret}) as key:
        assert (await key.get(f"{API}/auth/me")).json()["role"] == "admin"
    row = await db.get(ApiKey, made["id"])
    assert row is not None and row.creator_id == listed["quan.tri"]["id"]


async def test_a_demoted_creator_limits_the_key(client: httpx.AsyncClient, db: AsyncSession) -> None:
    _, secret = await key_made_by(client, db, "quan.tri")
    demoted = await client.patch(f"{API}/admin/accounts/quan.tri", json={"role": "editor"})
    assert demoted.status_code == 200, demoted.text
    async with client_of(client, {"X-API-Key": secret}) as key:
        assert (await key.get(f"{API}/auth/me")).json()["role"] == "editor"
        assert_problem(await key.get(f"{API}/admin/accounts"), 403)
        assert_problem(await key.post(f"{API}/admin/keys", json={"name": "x", "role": "admin"}), 403)
        assert_problem(
            await key.post(
                f"{API}/admin-units", json={"code": "36", "name": "Nam Định", "level": "province"}
            ),
            403,
        )
        made = await key.post(
            f"{API}/programmes",
            json={
                "name": "Đào tạo nghề",
                "kind": "industrial_extension",
                "activity": "consulting",
                "year": 2015,
            },
        )
        assert made.status_code == 201, made.text  # an editor still writes records
    listed = (await client.get(f"{API}/admin/keys")).json()
    assert {k["role"] for k in listed if k["name"] == "key of quan.tri"} == {"admin"}  # its own role


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PATCH", "/admin/accounts/quan.tri", {"is_active": False}),
        ("PATCH", "/admin/accounts/quan.tri", {"role": "editor"}),
        ("PATCH", "/admin/accounts/quan.tri", {"role": "admin"}),
        ("POST", "/admin/accounts/quan.tri/password-reset", None),
    ],
)
async def test_a_key_never_changes_its_creators_account(
    client: httpx.AsyncClient, db: AsyncSession, method: str, path: str, body: JSON | None
) -> None:
    _, secret = await key_made_by(client, db, "quan.tri")
    await account(db, "lan.nguyen")
    async with client_of(client, {"X-API-Key": secret}) as key:
        refused = await key.request(method, f"{API}{path}", json=body)
        assert_problem(refused, 403)
        assert "created" in refused.json()["detail"]
        # Nor can it make a key to do it with: an API key makes no keys.
        assert_problem(await key.post(f"{API}/admin/keys", json={"name": "child", "role": "admin"}), 403)
        # Other accounts it may manage.
        other = await key.patch(f"{API}/admin/accounts/lan.nguyen", json={"role": "admin"})
        assert other.status_code == 200, other.text


async def test_a_command_line_key_has_its_own_role(client: httpx.AsyncClient) -> None:
    # The suite's key (tests/conftest.py) was made without a creator, as `keys create` makes one.
    me = await client.get(f"{API}/auth/me")
    assert me.json()["role"] == "admin" and me.json()["kind"] == "api_key"


async def test_an_api_key_cannot_create_keys(client: httpx.AsyncClient, db: AsyncSession) -> None:
    """A key made by a key would outlive the revocation of its maker and show the account's name
    as its creator: keys are made by a staff account signed in with its password."""
    _, secret = await key_made_by(client, db, "quan.tri")
    before = len((await client.get(f"{API}/admin/keys")).json())
    # The creator's key, and the suite's key made on the command line: both admin, both refused.
    for headers in ({"X-API-Key": secret}, dict(client.headers)):
        async with client_of(client, headers) as key:
            refused = await key.post(f"{API}/admin/keys", json={"name": "child", "role": "editor"})
            assert_problem(refused, 403)
            assert "cannot create keys" in refused.json()["detail"]
            vietnamese = await key.post(
                f"{API}/admin/keys", json={"name": "child", "role": "editor"},
                headers={"Accept-Language": "vi"},
            )  # fmt: skip
            assert "không được tạo khóa" in vietnamese.json()["detail"]
    assert len((await client.get(f"{API}/admin/keys")).json()) == before
    # A key may still list and revoke keys (an administrator's key manages them).
    async with client_of(client, {"X-API-Key": secret}) as key:
        assert (await key.get(f"{API}/admin/keys")).status_code == 200


async def test_a_key_is_refused_while_its_creators_password_is_reset(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    made, secret = await key_made_by(client, db, "quan.tri")
    reset = await client.post(f"{API}/admin/accounts/quan.tri/password-reset")
    assert reset.status_code == 200, reset.text
    async with client_of(client, {"X-API-Key": secret}) as key:
        refused = await key.get(f"{API}/auth/me")
        assert_problem(refused, 403)
        assert "quan.tri" in refused.json()["detail"] and "reset" in refused.json()["detail"]
        write = await key.post(
            f"{API}/admin-units", json={"code": "36", "name": "Nam Định", "level": "province"}
        )
        assert_problem(write, 403)
    # Its owner signs in with the temporary password and changes it: the key works again.
    temporary = reset.json()["temporary_password"]
    async with client_of(client, {}) as http:
        signed = await sign_in(http, "quan.tri", temporary)
    assert signed.status_code == 200, signed.text
    async with client_of(client, {"Authorization": "Bearer " + signed.json()["access_token"]}) as owner:
        changed = await owner.post(
            f"{API}/auth/password", json={"current_password": temporary, "new_password": NEW}
        )
        assert changed.status_code == 204, changed.text
    async with client_of(client, {"X-API-Key": secret}) as key:
        me = await key.get(f"{API}/auth/me")
        assert me.status_code == 200 and me.json()["id"] == made["id"]
