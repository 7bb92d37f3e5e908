"""Passwords (app/auth/passwords.py, app/auth/router.py): the policy, changing one's own, an
administrator's reset to a temporary password that must be changed first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.passwords import MIN_LENGTH, common_passwords, policy_error, temporary_password
from app.models import AccessToken, Role, StaffAccount
from tests.auth.helpers import PASSWORD, account, assert_unauthenticated, client_of, sign_in, token_for
from tests.factories import API, assert_invalid, assert_problem

NEW = "mây tre đan Phú Vinh 2026"
UNIT = {"code": "36", "name": "Nam Định", "level": "province"}
# What an editor may write (administrative units need an administrator).
PROGRAMME = {
    "name": "Đào tạo nghề",
    "kind": "industrial_extension",
    "activity": "vocational_training",
    "year": 2015,
}


@pytest.mark.parametrize(
    ("password", "refused"),
    [
        ("short pass", "at least 12"),
        ("my lan.nguyen password", "username"),
        ("xx LAN.NGUYEN xx", "username"),
        ("Password1234", "common"),
        ("matkhau123456", "common"),
        (PASSWORD, None),
        (NEW, None),
    ],
)
def test_policy(password: str, refused: str | None) -> None:
    error = policy_error(password, "lan.nguyen", "password")
    if refused is None:
        assert error is None
    else:
        assert error is not None and error.field == "password" and refused in error.message


def test_the_common_list_and_temporary_passwords() -> None:
    common = common_passwords()
    assert 100 <= len(common) <= 300
    assert all(len(p) >= MIN_LENGTH for p in common)  # shorter ones are refused by length already
    made = {temporary_password("lan.nguyen") for _ in range(20)}
    assert len(made) == 20
    assert all(policy_error(p, "lan.nguyen", "password") is None for p in made)


@pytest.mark.parametrize("password", ["lan.nguyen 2026 mây tre", "qwerty123456", "ngắn quá"])
async def test_creating_an_account_applies_the_policy(client: httpx.AsyncClient, password: str) -> None:
    body = {"username": "lan.nguyen", "display_name": "Lan", "role": "editor", "password": password}
    assert_invalid(await client.post(f"{API}/admin/accounts", json=body), "password")


async def test_changing_ones_own_password(client: httpx.AsyncClient, db: AsyncSession) -> None:
    who = await account(db, "lan.nguyen")
    other_token = await token_for(db, who)
    token = await token_for(db, who)
    async with client_of(client, {"Authorization": f"Bearer {token}"}) as http:
        change = f"{API}/auth/password"
        wrong = await http.post(change, json={"current_password": "not it at all", "new_password": NEW})
        assert_invalid(wrong, "current_password")
        assert_invalid(await http.post(change, json={"current_password": PASSWORD, "new_password": "123"}),
                       "new_password")  # fmt: skip
        weak = await http.post(change, json={"current_password": PASSWORD, "new_password": "iloveyou1234"})
        assert_invalid(weak, "new_password")
        same = await http.post(change, json={"current_password": PASSWORD, "new_password": PASSWORD})
        assert_invalid(same, "new_password")
        changed = await http.post(change, json={"current_password": PASSWORD, "new_password": NEW})
        assert changed.status_code == 204, changed.text
        assert (await http.get(f"{API}/auth/me")).status_code == 200  # the token used goes on
    async with client_of(client, {"Authorization": f"Bearer {other_token}"}) as old:
        assert_unauthenticated(await old.get(f"{API}/auth/me"))  # every other token stops
    async with client_of(client, {}, addr="10.5.0.1") as anyone:
        assert_unauthenticated(await sign_in(anyone, "lan.nguyen"))
        assert (await sign_in(anyone, "lan.nguyen", NEW)).status_code == 200
    # The wrong current password was recorded although that request answered 422.
    trail = (await client.get(f"{API}/audit/security", params={"target": "lan.nguyen"})).json()
    actions = [e["action"] for e in trail["items"]]
    assert actions == [
        "sign_in",
        "sign_in_failed",
        "password_changed",
        "password_change_failed",
        "account_created",
    ]


async def test_an_api_key_has_no_password_to_change(client: httpx.AsyncClient) -> None:
    body = {"current_password": PASSWORD, "new_password": NEW}
    assert_problem(await client.post(f"{API}/auth/password", json=body), 403)


async def test_reset_gives_a_temporary_password_that_must_be_changed_first(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    who = await account(db, "lan.nguyen")
    before = await token_for(db, who)
    reset = await client.post(f"{API}/admin/accounts/lan.nguyen/password-reset")
    assert reset.status_code == 200, reset.text
    assert reset.headers["cache-control"] == "no-store"
    body = reset.json()
    temporary = body["temporary_password"]
    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(hours=71) < expires - datetime.now(UTC) <= timedelta(hours=72)
    async with client_of(client, {"Authorization": f"Bearer {before}"}) as old:
        assert_unauthenticated(await old.get(f"{API}/auth/me"))
    listed = {a["username"]: a for a in (await client.get(f"{API}/admin/accounts")).json()}
    assert listed["lan.nguyen"]["must_change_password"] is True

    anonymous = client_of(client, {}, addr="10.6.0.1")
    async with anonymous:
        assert_unauthenticated(await sign_in(anonymous, "lan.nguyen"))  # the old password is gone
        signed = await sign_in(anonymous, "lan.nguyen", temporary)
    assert signed.status_code == 200, signed.text
    async with client_of(client, {"Authorization": f"Bearer {signed.json()['access_token']}"}) as http:
        me = await http.get(f"{API}/auth/me")
        assert me.json()["must_change_password"] is True
        refused = assert_problem(await http.post(f"{API}/admin-units", json=UNIT), 403)
        assert "/api/v1/auth/password" in refused["detail"]
        assert_problem(await http.get(f"{API}/villages/1/history"), 403)
        changed = await http.post(
            f"{API}/auth/password", json={"current_password": temporary, "new_password": NEW}
        )
        assert changed.status_code == 204, changed.text
        assert (await http.get(f"{API}/auth/me")).json()["must_change_password"] is False
        assert (await http.post(f"{API}/programmes", json=PROGRAMME)).status_code == 201


async def test_an_expired_temporary_password_opens_nothing(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await account(db, "lan.nguyen")
    temporary = (await client.post(f"{API}/admin/accounts/lan.nguyen/password-reset")).json()[
        "temporary_password"
    ]
    row = await db.scalar(select(StaffAccount).where(StaffAccount.username == "lan.nguyen"))
    assert row is not None
    row.password_expires_at = datetime.now(UTC) - timedelta(minutes=1)
    await db.commit()
    async with client_of(client, {}, addr="10.7.0.1") as http:
        expired = await sign_in(http, "lan.nguyen", temporary)
        assert_unauthenticated(expired)
        assert "expired" in expired.json()["detail"]
    assert (await db.scalars(select(AccessToken))).first() is None


async def test_an_administrator_resets_others_not_themselves(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin = await account(db, "quan.tri", Role.admin)
    token = await token_for(db, admin)
    async with client_of(client, {"Authorization": f"Bearer {token}"}) as http:
        assert_problem(await http.post(f"{API}/admin/accounts/quan.tri/password-reset"), 409)
    assert_problem(await client.post(f"{API}/admin/accounts/nobody.here/password-reset"), 404)


async def test_a_disabled_account_is_enabled_again_over_the_api(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await account(db, "lan.nguyen")
    assert (
        await client.patch(f"{API}/admin/accounts/lan.nguyen", json={"is_active": False})
    ).status_code == 200
    async with client_of(client, {}, addr="10.8.0.1") as http:
        assert_unauthenticated(await sign_in(http, "lan.nguyen"))
        enabled = await client.patch(f"{API}/admin/accounts/lan.nguyen", json={"is_active": True})
        assert enabled.status_code == 200 and enabled.json()["is_active"] is True
        assert (await sign_in(http, "lan.nguyen")).status_code == 200
