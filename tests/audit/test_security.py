"""Security events (app/auth/events.py) and their listing for administrators at
GET /api/v1/audit/security (app/audit/router.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Role, SecurityEvent
from tests.auth.helpers import PASSWORD, account, admin_bearer, client_of, key_for, sign_in, token_for
from tests.factories import API, assert_problem

JSON = dict[str, Any]
SECURITY = f"{API}/audit/security"
NEW = "mây tre đan Phú Vinh 2026"


async def security(client: httpx.AsyncClient, **params: Any) -> JSON:
    response = await client.get(SECURITY, params=params)
    assert response.status_code == 200, response.text
    body: JSON = response.json()
    return body


def actions(page: JSON) -> list[str]:
    return [e["action"] for e in page["items"]]


async def test_every_kind_of_event_is_recorded_with_who_whom_and_where(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin_headers = await admin_bearer(db)  # an administrator's token, to make a key with
    headers = {"X-Request-ID": "req-sec-1"}
    created = await client.post(
        f"{API}/admin/accounts",
        json={"username": "lan.nguyen", "display_name": "Lan", "role": "editor", "password": PASSWORD},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    await client.patch(f"{API}/admin/accounts/lan.nguyen", json={"role": "admin"})
    await client.patch(f"{API}/admin/accounts/lan.nguyen", json={"is_active": False})
    await client.patch(f"{API}/admin/accounts/lan.nguyen", json={"is_active": True})
    reset = (await client.post(f"{API}/admin/accounts/lan.nguyen/password-reset")).json()
    async with client_of(client, admin_headers) as admin:  # keys are made with a password
        key = (await admin.post(f"{API}/admin/keys", json={"name": "cổng", "role": "editor"})).json()
    await client.delete(f"{API}/admin/keys/{key['id']}")
    async with client_of(client, {}, addr="10.20.0.1") as http:
        await sign_in(http, "lan.nguyen", "a wrong password!")
        signed = await sign_in(http, "lan.nguyen", reset["temporary_password"])
        token = signed.json()["access_token"]
        changed = await http.post(
            f"{API}/auth/password",
            json={"current_password": reset["temporary_password"], "new_password": NEW},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert changed.status_code == 204, changed.text

    page = await security(client)
    assert actions(page) == [
        "password_changed",
        "sign_in",
        "sign_in_failed",
        "key_revoked",
        "key_created",
        "password_reset",
        "account_enabled",
        "account_disabled",
        "role_changed",
        "account_created",
        "account_created",  # the administrator who makes the key (tests/auth/helpers.py)
        "key_created",  # the suite's own key (tests/conftest.py), made as the command line does
    ]
    by_action: dict[str, JSON] = {}
    for event in page["items"]:
        by_action.setdefault(event["action"], event)
    made = by_action["account_created"]
    assert (made["actor_kind"], made["actor_name"], made["target_kind"], made["target_name"]) == (
        "api_key", "test suite", "account", "lan.nguyen",
    )  # fmt: skip
    assert made["target_id"] == created.json()["id"] and made["request_id"] == "req-sec-1"
    assert made["details"] == {"role": "editor"}
    assert by_action["role_changed"]["details"] == {"role": ["editor", "admin"]}
    assert by_action["key_created"]["target_kind"] == "api_key"
    assert by_action["key_created"]["target_id"] == key["id"]
    failed = by_action["sign_in_failed"]
    assert (failed["actor_kind"], failed["actor_id"], failed["client_addr"]) == (
        "anonymous",
        None,
        "10.20.0.1",
    )
    assert failed["details"] == {"reason": "wrong_password"}
    assert by_action["sign_in"]["actor_name"] == "lan.nguyen"
    assert by_action["sign_in"]["details"] == {"must_change_password": True}
    assert by_action["password_changed"]["actor_kind"] == "account"
    # Never a password, a token or a key.
    listed = (await client.get(SECURITY)).text
    for secret in (PASSWORD, NEW, reset["temporary_password"], token, key["key"]):
        assert secret not in listed
    stored = await db.execute(text("SELECT details::text, coalesce(target_name, '') FROM security_event"))
    assert not any(secret in str(row) for row in stored for secret in (PASSWORD, NEW, key["key"]))


async def test_failures_and_lockouts_are_committed_refused_changes_leave_nothing(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await account(db, "lan.nguyen")
    async with client_of(client, {}, addr="10.21.0.1") as http:
        for _ in range(7):
            await sign_in(http, "lan.nguyen", "a wrong password!")
    page = await security(client, target="lan.nguyen", action="sign_in_failed,sign_in_throttled")
    assert actions(page) == ["sign_in_throttled", *["sign_in_failed"] * 5]  # one lockout, not two
    lockout = (await security(client, action="sign_in_throttled"))["items"][0]
    assert lockout["details"]["limits"] == ["pair"] and lockout["details"]["retry_after"] >= 1
    admin = await account(db, "quan.tri", Role.admin)
    token = await token_for(db, admin)
    async with client_of(client, {"Authorization": f"Bearer {token}"}) as own:
        assert_problem(await own.patch(f"{API}/admin/accounts/quan.tri", json={"role": "editor"}), 409)
    assert (await security(client, target="quan.tri", action="role_changed"))["total"] == 0


async def test_filters_and_pages(client: httpx.AsyncClient, db: AsyncSession) -> None:
    # By the command line (no request), as the suite's own key was (tests/conftest.py).
    await account(db, "lan.nguyen")
    async with client_of(client, {}, addr="10.22.0.1") as http:
        for n in range(3):
            await sign_in(http, f"khach.{n}", "a wrong password!")
        await sign_in(http, "lan.nguyen")
    everything = await security(client)
    assert everything["total"] == 6
    assert (await security(client, action="sign_in_failed"))["total"] == 3
    assert (await security(client, action="sign_in_failed,sign_in"))["total"] == 4
    assert (await security(client, actor_kind="command_line"))["total"] == 2
    assert (await security(client, actor_kind="anonymous,command_line"))["total"] == 5
    assert (await security(client, actor="lan.nguyen"))["total"] == 1
    assert (await security(client, target="khach.1"))["total"] == 1
    assert (await security(client, client_addr="10.22.0.1"))["total"] == 4
    moment = datetime.fromisoformat(everything["items"][0]["at"])
    assert (await security(client, at_from=moment.isoformat(), at_to=moment.isoformat()))["total"] == 6
    assert (await security(client, at_from=(moment + timedelta(seconds=1)).isoformat()))["total"] == 0
    first = await client.get(SECURITY, params={"limit": 2})
    second = await security(client, limit=2, offset=2)
    third = await security(client, limit=2, offset=4)
    seen = [e["id"] for p in (first.json(), second, third) for e in p["items"]]
    assert seen == sorted(seen, reverse=True) and len(set(seen)) == 6
    assert 'rel="next"' in first.headers["link"]
    assert_problem(await client.get(SECURITY, params={"action": "nope"}), 422)
    assert_problem(await client.get(SECURITY, params={"limit": 0}), 422)
    assert_problem(await client.get(SECURITY, params={"since": "2026-01-01"}), 422)


async def test_only_administrators_read_them(client: httpx.AsyncClient, db: AsyncSession) -> None:
    _, editor = await key_for(db, Role.editor)
    async with client_of(client, {"X-API-Key": editor}) as http:
        assert_problem(await http.get(SECURITY), 403)
    async with client_of(client, {}) as anonymous:
        assert_problem(await anonymous.get(SECURITY), 401)


async def test_the_events_are_append_only(db: AsyncSession) -> None:
    await account(db, "lan.nguyen")
    event = (await db.scalars(select(SecurityEvent))).first()
    assert event is not None
    try:
        async with db.begin_nested():
            await db.execute(text("DELETE FROM security_event"))
    except DBAPIError as error:
        assert "cannot be changed or deleted" in str(error)
    else:
        raise AssertionError("a security event was deleted")
