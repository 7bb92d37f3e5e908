"""Accounts and bearer tokens (app/auth/): signing in and out, expiry, revocation when an account
changes, and passwords that are never shown and stored as argon2id."""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AccessToken, StaffAccount
from tests.auth.helpers import JSON, PASSWORD, account, assert_unauthenticated, client_of, sign_in, token_for
from tests.factories import API, assert_problem


async def test_sign_in_issues_a_token_with_an_expiry(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, db: AsyncSession
) -> None:
    await account(db, "lan.nguyen")
    response = await sign_in(anonymous, "lan.nguyen")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 480 * 60
    assert response.headers["cache-control"] == "no-store"  # RFC 6749 §5.1
    stored = (await db.execute(select(AccessToken))).scalars().one()
    assert stored.token_hash == hashlib.sha256(body["access_token"].encode()).digest()
    assert timedelta(minutes=479) < stored.expires_at - stored.issued_at <= timedelta(minutes=481)
    async with client_of(client, {"Authorization": f"Bearer {body['access_token']}"}) as http:
        me = await http.get(f"{API}/auth/me")
        assert me.json() == {
            "kind": "account",
            "id": stored.account_id,
            "name": "lan.nguyen",
            "role": "editor",
            "must_change_password": False,
        }


async def test_wrong_password_unknown_user_and_disabled_account_cannot_sign_in(
    anonymous: httpx.AsyncClient, db: AsyncSession
) -> None:
    who = await account(db, "lan.nguyen")
    assert_unauthenticated(await sign_in(anonymous, "lan.nguyen", "wrong password!"))
    assert_unauthenticated(await sign_in(anonymous, "nobody.here"))
    who.is_active = False
    await db.commit()
    assert_unauthenticated(await sign_in(anonymous, "lan.nguyen"))
    assert (await db.execute(select(AccessToken))).first() is None


async def test_sign_out_revokes_the_token_at_once(client: httpx.AsyncClient, db: AsyncSession) -> None:
    token = await token_for(db, await account(db, "lan.nguyen"))
    async with client_of(client, {"Authorization": f"Bearer {token}"}) as http:
        assert (await http.get(f"{API}/auth/me")).status_code == 200
        assert (await http.post(f"{API}/auth/sign-out")).status_code == 204
        assert_unauthenticated(await http.get(f"{API}/auth/me"))
        assert_unauthenticated(await http.post(f"{API}/admin-units", json={}))


async def test_an_api_key_cannot_sign_out(client: httpx.AsyncClient) -> None:
    assert_unauthenticated(await client.post(f"{API}/auth/sign-out"))
    assert (await client.get(f"{API}/auth/me")).status_code == 200


@pytest.mark.parametrize("change", [{"is_active": False}, {"role": "admin"}])
async def test_disabling_or_changing_role_stops_tokens_at_once(
    client: httpx.AsyncClient, db: AsyncSession, change: JSON
) -> None:
    token = await token_for(db, await account(db, "lan.nguyen"))
    async with client_of(client, {"Authorization": f"Bearer {token}"}) as http:
        assert (await http.get(f"{API}/auth/me")).status_code == 200
        response = await client.patch(f"{API}/admin/accounts/lan.nguyen", json=change)
        assert response.status_code == 200, response.text
        assert_unauthenticated(await http.get(f"{API}/auth/me"))


async def test_accounts_never_show_passwords_and_store_argon2id(
    client: httpx.AsyncClient, db: AsyncSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = {
        "username": "lan.nguyen",
        "display_name": "Nguyễn Thị Lan",
        "role": "editor",
        "password": PASSWORD,
    }
    created = await client.post(f"{API}/admin/accounts", json=body)
    assert created.status_code == 201, created.text
    assert set(created.json()) == {
        "id",
        "username",
        "display_name",
        "role",
        "is_active",
        "must_change_password",
    }
    listed = await client.get(f"{API}/admin/accounts")
    assert [a["username"] for a in listed.json()] == ["lan.nguyen"]
    await sign_in(client, "lan.nguyen")
    await sign_in(client, "lan.nguyen", "a wrong password")
    for response in (created, listed):
        assert PASSWORD not in response.text and "argon2" not in response.text
    assert PASSWORD not in caplog.text
    stored = await db.scalar(select(StaffAccount.password_hash).where(StaffAccount.username == "lan.nguyen"))
    assert stored is not None and stored.startswith("$argon2id$")
    assert_problem(await client.post(f"{API}/admin/accounts", json=body), 409)
    short = {**body, "username": "ngan", "password": "short"}
    assert_problem(await client.post(f"{API}/admin/accounts", json=short), 422)
