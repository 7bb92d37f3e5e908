"""Who may write (app/auth/, app/kit/principal.py): every credential against every write route,
the administrator's and staff's reads, and the public reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import service
from app.models import Role
from tests.auth.helpers import JSON, PASSWORD, account, assert_unauthenticated, client_of, key_for, token_for
from tests.factories import API, PATHS, assert_problem, create, facts, places, snapshot, valid_body

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
        field, value = facts(path).change
        admins = facts(path).admins_only
        found.append(Route("POST", f"{API}/{path}", valid_body(path, at, 30 + n), admins, 201))
        found.append(Route("PATCH", f"{API}/{path}/{target['id']}", {field: value}, admins, 200, '"1"'))
        found.append(Route("DELETE", f"{API}/{path}/{target['id']}", None, admins, 204, '"2"'))
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
            elif "key" in kind and route.method == "POST" and route.path.endswith("/admin/keys"):
                assert_problem(response, 403)  # keys are made with a password, not by a key
            else:
                assert response.status_code == route.success, (route, response.text)
                assert response.headers["cache-control"] == "no-store"
                succeeded += 1
                continue
            assert await snapshot(db) == before, f"{route.method} {route.path} changed the database"
    # Each resource's three routes (18 for the six of today), and the administrator's four (three
    # for an admin key, which cannot create keys); an editor's do not include those of the
    # resources only administrators write (admin units).
    on_records = 3 * len(PATHS)
    editors = 3 * sum(not facts(p).admins_only for p in PATHS)
    admin = on_records + (3 if "key" in kind else 4)
    assert succeeded == {"refused": 0, "editor": editors, "admin": admin}[allowed]


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
