"""Credentials (app/auth/): who may write, tokens, API keys, the command line, sign-in throttling,
and the protections every response carries (security headers, CORS, body limit)."""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.__main__ import migrate
from app.auth import service
from app.core.settings import Settings
from app.main import create_app
from app.models import AccessToken, ApiKey, Role, StaffAccount
from tests.conftest import create_database, drop_database
from tests.factories import API, PATHS, assert_problem, create, places, snapshot, valid_body
from tests.stats_helpers import app_client

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery"
JSON = dict[str, Any]

# A field each resource's PATCH changes, and a value to change it to.
CHANGES: dict[str, tuple[str, Any]] = {
    "admin-units": ("name", "Xã Nam Giang"),
    "villages": ("households_total", 120),
    "village-figures": ("workers", 44_000),
    "cooperatives": ("members", 7),
    "programmes": ("status", "completed"),
    "trade-fairs": ("standard_booths", 320),
}


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


async def key_for(db: AsyncSession, role: Role, name: str | None = None) -> tuple[int, str]:
    made, secret = await service.create_key(db, name or f"key {role.value}", role, "test")
    await db.commit()
    return made.id, secret


async def sign_in(http: httpx.AsyncClient, username: str, password: str = PASSWORD) -> httpx.Response:
    return await http.post(f"{API}/auth/token", data={"username": username, "password": password})


def assert_unauthenticated(response: httpx.Response) -> None:
    assert_problem(response, 401)
    assert "Bearer" in response.headers["www-authenticate"]


# -- the matrix: every credential against every write route ------------------------------------

# What each kind of credential may do: "none" refused 401, "editor" writes records but is refused
# 403 on the admin routes, "admin" does everything.
CREDENTIALS = {
    "none": "refused",
    "malformed bearer": "refused",
    "malformed key": "refused",
    "wrong token": "refused",
    "wrong key": "refused",
    "expired token": "refused",
    "revoked token": "refused",
    "revoked key": "refused",
    "token of a disabled account": "refused",
    "both token and key": "refused",
    "editor token": "editor",
    "editor key": "editor",
    "admin token": "admin",
    "admin key": "admin",
}


async def credential_headers(db: AsyncSession, kind: str) -> dict[str, str]:
    """Headers carrying one kind of credential, made in the test's transaction."""
    if kind == "none":
        return {}
    if kind == "malformed bearer":
        return {"Authorization": "Basic dXNlcjpwYXNz"}
    if kind == "malformed key":
        return {"X-API-Key": "cvk_short"}
    if kind == "wrong token":
        return {"Authorization": "Bearer " + "x" * 43}
    if kind == "wrong key":
        return {"X-API-Key": "cvk_" + "y" * 43}
    if kind in ("editor key", "admin key", "revoked key"):
        key_id, secret = await key_for(db, Role.admin if kind == "admin key" else Role.editor)
        if kind == "revoked key":
            await service.revoke_key(db, key_id)
            await db.commit()
        return {"X-API-Key": secret}
    role = (
        Role.admin if kind in ("admin token", "revoked token", "token of a disabled account") else Role.editor
    )
    who = await account(db, "can.bo", role)
    token = await token_for(db, who, timedelta(minutes=-1) if kind == "expired token" else timedelta(hours=1))
    if kind == "revoked token":
        await service.revoke_tokens(db, who.id)
    if kind == "token of a disabled account":
        who.is_active = False
    await db.commit()
    headers = {"Authorization": f"Bearer {token}"}
    if kind == "both token and key":
        headers["X-API-Key"] = (await key_for(db, Role.admin))[1]
    return headers


@dataclass
class Route:
    method: str
    path: str
    body: JSON | None
    admin_only: bool
    success: int
    if_match: str | None = None


async def routes(client: httpx.AsyncClient, db: AsyncSession) -> list[Route]:
    """Every write route, each with a target made for it by the administrator."""
    at = await places(client)
    found: list[Route] = []
    for n, path in enumerate(PATHS):
        target = await create(client, path, valid_body(path, at, 10 + n))
        field, value = CHANGES[path]
        found.append(Route("POST", f"{API}/{path}", valid_body(path, at, 30 + n), False, 201))
        found.append(Route("PATCH", f"{API}/{path}/{target['id']}", {field: value}, False, 200, '"1"'))
        found.append(Route("DELETE", f"{API}/{path}/{target['id']}", None, False, 204, '"2"'))
    await account(db, "muc.tieu")
    key_id, _ = await key_for(db, Role.editor, "target key")
    new_account = {"username": "moi.tao", "display_name": "Người mới", "role": "editor", "password": PASSWORD}
    found += [
        Route("POST", f"{API}/admin/accounts", new_account, True, 201),
        Route("PATCH", f"{API}/admin/accounts/muc.tieu", {"role": "admin"}, True, 200),
        Route("POST", f"{API}/admin/keys", {"name": "máy mới", "role": "editor"}, True, 201),
        Route("DELETE", f"{API}/admin/keys/{key_id}", None, True, 200),
    ]
    return found


@pytest.mark.parametrize("kind", list(CREDENTIALS))
async def test_every_write_route_with_every_credential(
    client: httpx.AsyncClient, db: AsyncSession, kind: str
) -> None:
    targets = await routes(client, db)
    headers = await credential_headers(db, kind)
    allowed = CREDENTIALS[kind]
    succeeded = 0
    async with client_of(client, headers) as http:
        for route in targets:
            extra = {"If-Match": route.if_match} if route.if_match else {}
            before = await snapshot(db)
            response = await http.request(
                route.method, route.path, json=route.body, headers={**headers, **extra}
            )
            if allowed == "refused":
                assert_unauthenticated(response)
            elif allowed == "editor" and route.admin_only:
                assert_problem(response, 403)
            else:
                assert response.status_code == route.success, (route, response.text)
                assert response.headers["cache-control"] == "no-store"
                succeeded += 1
                continue
            assert await snapshot(db) == before, f"{route.method} {route.path} changed the database"
    assert succeeded == {"refused": 0, "editor": 18, "admin": 22}[allowed]


@pytest.mark.parametrize("kind", ["none", "wrong key", "expired token", "editor key", "admin key"])
async def test_admin_and_staff_reads_need_their_role(
    client: httpx.AsyncClient, db: AsyncSession, kind: str
) -> None:
    at = await places(client)
    headers = await credential_headers(db, kind)
    history = f"{API}/villages/{at.village_id}/history"
    async with client_of(client, headers) as http:
        for path in (f"{API}/admin/accounts", f"{API}/admin/keys", f"{API}/audit", history):
            response = await http.get(path)
            if kind in ("none", "wrong key", "expired token"):
                assert_unauthenticated(response)
            elif kind == "editor key" and path != history:
                assert_problem(response, 403)
            else:
                assert response.status_code == 200, response.text


async def test_reads_stay_public(client: httpx.AsyncClient, anonymous: httpx.AsyncClient) -> None:
    at = await places(client)
    for path in PATHS:
        assert (await anonymous.get(f"{API}/{path}")).status_code == 200
        assert (await anonymous.head(f"{API}/{path}")).status_code == 200
    assert (await anonymous.get(f"{API}/villages/{at.village_id}")).status_code == 200
    assert (await anonymous.head(f"{API}/villages/{at.village_id}")).status_code == 200


# -- tokens ------------------------------------------------------------------------------------


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
    assert set(created.json()) == {"id", "username", "display_name", "role", "is_active"}
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


# -- API keys ----------------------------------------------------------------------------------


async def test_api_key_shown_once_stored_hashed_and_revocable(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    created = await client.post(f"{API}/admin/keys", json={"name": "cổng dữ liệu", "role": "editor"})
    assert created.status_code == 201, created.text
    body = created.json()
    secret = body["key"]
    assert secret.startswith("cvk_") and len(secret) >= 40 and body["prefix"] == secret[:12]
    assert body["created_by"] == "test suite" and body["created_at"] and body["last_used_at"] is None
    listed = await client.get(f"{API}/admin/keys")
    assert secret not in listed.text and all("key" not in k for k in listed.json())
    row = await db.get(ApiKey, body["id"])
    assert row is not None
    assert row.key_hash == hashlib.sha256(secret.encode()).digest()
    assert secret.encode() not in row.key_hash

    async with client_of(client, {"X-API-Key": secret}) as http:
        me = await http.get(f"{API}/auth/me")
        assert me.json() == {"kind": "api_key", "id": body["id"], "name": "cổng dữ liệu", "role": "editor"}
        db.expunge_all()  # the app's session is this test's: forget the key as first loaded
        used = next(k for k in (await client.get(f"{API}/admin/keys")).json() if k["id"] == body["id"])
        assert used["last_used_at"] is not None
        # The same prefix with another secret is not the key.
        async with client_of(client, {"X-API-Key": secret[:-4] + "AAAA"}) as forged:
            assert_unauthenticated(await forged.get(f"{API}/auth/me"))
        revoked = await client.delete(f"{API}/admin/keys/{body['id']}")
        assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
        assert_unauthenticated(await http.get(f"{API}/auth/me"))
    assert_problem(await client.delete(f"{API}/admin/keys/999999"), 404)


# -- the command line --------------------------------------------------------------------------


@pytest.fixture
def scratch_url(server_url: str) -> Iterator[str]:
    url = create_database(server_url, "cv_cli")
    try:
        migrate(url)
        yield url
    finally:
        drop_database(server_url, url)


def cli(url: str, *args: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"TEST_DATABASE_URL", "CRAFTVILLAGE_PASSWORD"}}
    env["DATABASE_URL"] = url
    if password is not None:
        env["CRAFTVILLAGE_PASSWORD"] = password
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.mark.slow
async def test_command_line_manages_accounts_and_keys(scratch_url: str) -> None:
    made = cli(scratch_url, "users", "create", "quan.tri", "--display-name", "Quản trị", "--role", "admin",
               password=PASSWORD)  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert PASSWORD not in made.stdout + made.stderr
    cli(scratch_url, "users", "create", "lan.nguyen", "--display-name", "Lan", password=PASSWORD)
    too_short = cli(scratch_url, "users", "create", "ngan.ngan", "--display-name", "N", password="short")
    assert too_short.returncode != 0

    key = cli(scratch_url, "keys", "create", "--name", "cổng dữ liệu", "--role", "editor")
    assert key.returncode == 0, key.stderr
    secret = key.stdout.strip().splitlines()[-1]
    assert secret.startswith("cvk_") and " " not in secret

    async with app_client(scratch_url) as (_, admin_client):
        http = httpx.AsyncClient(transport=admin_client._transport, base_url="http://testserver")
        for who, role in (("quan.tri", "admin"), ("lan.nguyen", "editor")):
            signed = await sign_in(http, who)
            assert signed.status_code == 200, signed.text
            headers = {"Authorization": "Bearer " + signed.json()["access_token"]}
            me = await http.get(f"{API}/auth/me", headers=headers)
            assert me.json()["role"] == role
        lan_token = (await sign_in(http, "lan.nguyen")).json()["access_token"]
        me = await http.get(f"{API}/auth/me", headers={"X-API-Key": secret})
        assert me.json()["name"] == "cổng dữ liệu"
        key_id = me.json()["id"]

        users = cli(scratch_url, "users", "list")
        assert [line.split("\t")[1:4] for line in users.stdout.splitlines()] == [
            ["lan.nguyen", "editor", "active"],
            ["quan.tri", "admin", "active"],
        ]
        lan = {"Authorization": f"Bearer {lan_token}"}
        assert (await http.get(f"{API}/auth/me", headers=lan)).status_code == 200
        assert cli(scratch_url, "users", "set-role", "lan.nguyen", "admin").returncode == 0
        assert_unauthenticated(await http.get(f"{API}/auth/me", headers=lan))
        assert cli(scratch_url, "users", "disable", "lan.nguyen").returncode == 0
        assert_unauthenticated(await sign_in(http, "lan.nguyen"))

        keys = cli(scratch_url, "keys", "list")
        assert secret not in keys.stdout and secret[:12] in keys.stdout
        assert cli(scratch_url, "keys", "revoke", str(key_id)).returncode == 0
        assert_unauthenticated(await http.get(f"{API}/auth/me", headers={"X-API-Key": secret}))
        await http.aclose()


# -- sign-in throttling ------------------------------------------------------------------------


async def test_failed_sign_ins_for_one_username_are_slowed(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await account(db, "lan.nguyen")
    # Four failures from four addresses, then the right password: still let in.
    for n in range(4):
        async with client_of(client, {}, addr=f"10.0.0.{n + 1}") as http:
            assert_unauthenticated(await sign_in(http, "lan.nguyen", "wrong password!"))
    async with client_of(client, {}, addr="10.0.0.9") as http:
        assert (await sign_in(http, "lan.nguyen")).status_code == 200
    # Success clears the username's count; five more failures, from five addresses, block it.
    for n in range(5):
        async with client_of(client, {}, addr=f"10.0.1.{n + 1}") as http:
            assert_unauthenticated(await sign_in(http, "lan.nguyen", "wrong password!"))
    async with client_of(client, {}, addr="10.0.2.1") as http:
        blocked = await sign_in(http, "lan.nguyen")  # even with the right password
        assert_problem(blocked, 429)
        assert int(blocked.headers["retry-after"]) >= 1
    assert (await db.execute(select(AccessToken))).scalars().all().__len__() == 1


async def test_failed_sign_ins_from_one_client_are_slowed(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await account(db, "lan.nguyen")
    async with client_of(client, {}, addr="10.9.9.9") as http:
        for n in range(5):
            assert_unauthenticated(await sign_in(http, f"khach.{n}", "wrong password!"))
        blocked = await sign_in(http, "lan.nguyen")
        assert_problem(blocked, 429)
        assert int(blocked.headers["retry-after"]) >= 1
    async with client_of(client, {}, addr="10.9.9.8") as other:
        assert (await sign_in(other, "lan.nguyen")).status_code == 200


# -- headers, CORS, body limit -----------------------------------------------------------------


async def test_security_headers_on_every_response(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    responses = [
        await anonymous.get(f"{API}/villages"),
        await anonymous.get(f"{API}/villages/999999"),
        await anonymous.post(f"{API}/villages", json={}),
        await client.get(f"{API}/admin/keys"),
        await client.post(f"{API}/admin-units", json={"code": "36", "name": "Nam Định", "level": "province"}),
    ]
    for response in responses:
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert responses[0].headers.get("cache-control") != "no-store"  # public reads may be cached
    assert responses[3].headers["cache-control"] == "no-store"
    assert responses[4].status_code == 201 and responses[4].headers["cache-control"] == "no-store"


def preflight(origin: str) -> dict[str, str]:
    return {"Origin": origin, "Access-Control-Request-Method": "PATCH"}


async def cors_client(database_url: str, origins: list[str]) -> tuple[FastAPI, httpx.AsyncClient]:
    app = create_app(Settings(database_url=database_url, cors_origins=origins))
    return app, httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def test_cors_allows_only_configured_origins(database_url: str, client: httpx.AsyncClient) -> None:
    _, http = await cors_client(database_url, ["https://sct.namdinh.gov.vn"])
    async with http:
        ok = await http.options(f"{API}/villages/1", headers=preflight("https://sct.namdinh.gov.vn"))
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == "https://sct.namdinh.gov.vn"
        assert ok.headers["access-control-allow-credentials"] == "true"
        assert "PATCH" in ok.headers["access-control-allow-methods"]
        evil = await http.options(f"{API}/villages/1", headers=preflight("https://evil.example"))
        assert "access-control-allow-origin" not in evil.headers
    # None by default.
    default = await client.get(f"{API}/villages", headers={"Origin": "https://sct.namdinh.gov.vn"})
    assert "access-control-allow-origin" not in default.headers


async def test_cors_wildcard_never_with_credentials(database_url: str) -> None:
    _, http = await cors_client(database_url, ["*"])
    async with http:
        response = await http.options(f"{API}/villages", headers=preflight("https://any.example"))
        assert response.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in response.headers


async def test_bodies_over_one_mebibyte_are_refused(client: httpx.AsyncClient, db: AsyncSession) -> None:
    before = await snapshot(db)
    big = b'{"name": "' + b"x" * (1_048_576 + 10) + b'"}'
    declared = await client.post(f"{API}/villages", content=big, headers={"Content-Type": "application/json"})
    assert_problem(declared, 413)
    assert declared.headers["x-content-type-options"] == "nosniff"

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(big), 65_536):
            yield big[start : start + 65_536]

    chunked = await client.post(
        f"{API}/villages", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in chunked.request.headers
    assert chunked.status_code == 413, chunked.text
    assert chunked.headers["content-type"] == "application/problem+json"
    assert chunked.json()["status"] == 413
    assert await snapshot(db) == before
    # Just under the limit is read (and judged on its content).
    fits = await client.post(
        f"{API}/villages",
        content=big[: 1_048_576 - 100] + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert fits.status_code == 422
