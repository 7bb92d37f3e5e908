"""Credentials for the auth tests: accounts, tokens and keys made in the test's transaction, clients
sending exactly the headers given, signing in."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import service
from app.models import Role, StaffAccount
from tests.factories import API, assert_problem

PASSWORD = "correct horse battery"
JSON = dict[str, Any]


def client_of(base: httpx.AsyncClient, headers: dict[str, str], addr: str = "127.0.0.1") -> httpx.AsyncClient:
    """Another client of the same app and test transaction, sending exactly these headers."""
    transport = base._transport
    assert isinstance(transport, httpx.ASGITransport)
    if addr != "127.0.0.1":
        transport = httpx.ASGITransport(app=transport.app, raise_app_exceptions=False, client=(addr, 123))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=headers)


async def account(db: AsyncSession, username: str, role: Role = Role.editor) -> StaffAccount:
    made = await service.create_account(db, username, f"Cán bộ {username}", role, PASSWORD)
    await db.commit()
    return made


async def token_for(db: AsyncSession, who: StaffAccount, ttl: timedelta = timedelta(hours=1)) -> str:
    token, _ = await service.issue_token(db, who, ttl)
    await db.commit()
    return token


async def admin_bearer(db: AsyncSession, username: str = "quan.tri") -> dict[str, str]:
    """The headers of a new administrator's bearer token: API keys are made with one (an API key
    cannot create keys)."""
    who = await account(db, username, Role.admin)
    return {"Authorization": f"Bearer {await token_for(db, who)}"}


async def key_for(db: AsyncSession, role: Role, name: str | None = None) -> tuple[int, str]:
    made, secret = await service.create_key(db, name or f"key {role.value}", role, "test")
    await db.commit()
    return made.id, secret


async def sign_in(http: httpx.AsyncClient, username: str, password: str = PASSWORD) -> httpx.Response:
    return await http.post(f"{API}/auth/token", data={"username": username, "password": password})


def assert_unauthenticated(response: httpx.Response) -> None:
    assert_problem(response, 401)
    assert "Bearer" in response.headers["www-authenticate"]
