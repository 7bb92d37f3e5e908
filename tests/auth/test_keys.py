"""API keys (app/auth/): shown once, stored hashed, used, revoked."""

from __future__ import annotations

import hashlib

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import ApiKey
from tests.auth.helpers import admin_bearer, assert_unauthenticated, client_of
from tests.factories import API, assert_problem


async def test_api_key_shown_once_stored_hashed_and_revocable(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    async with client_of(client, await admin_bearer(db)) as admin:
        created = await admin.post(f"{API}/admin/keys", json={"name": "cổng dữ liệu", "role": "editor"})
    assert created.status_code == 201, created.text
    body = created.json()
    secret = body["key"]
    assert secret.startswith("cvk_") and len(secret) >= 40 and body["prefix"] == secret[:12]
    assert body["created_by"] == "quan.tri" and body["created_at"] and body["last_used_at"] is None
    listed = await client.get(f"{API}/admin/keys")
    assert secret not in listed.text and all("key" not in k for k in listed.json())
    row = await db.get(ApiKey, body["id"])
    assert row is not None
    assert row.key_hash == hashlib.sha256(secret.encode()).digest()
    assert secret.encode() not in row.key_hash

    async with client_of(client, {"X-API-Key": secret}) as http:
        me = await http.get(f"{API}/auth/me")
        assert me.json() == {
            "kind": "api_key",
            "id": body["id"],
            "name": "cổng dữ liệu",
            "role": "editor",
            "must_change_password": False,
        }
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
