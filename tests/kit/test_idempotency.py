"""Idempotency-Key on POST (app/kit/idempotency.py): repeats replay the first answer and create nothing."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.auth import service
from app.kit.idempotency import _lock_id
from app.models import Role
from tests.factories import API, assert_invalid, assert_problem, count, fair_body, places, snapshot

JSON = dict[str, Any]
UNIT = {"code": "36", "name": "Nam Định", "level": "province"}


async def post(http: httpx.AsyncClient, key: str, body: JSON, path: str = "admin-units") -> httpx.Response:
    return await http.post(f"{API}/{path}", json=body, headers={"Idempotency-Key": key})


async def test_a_repeat_replays_the_first_answer_and_creates_nothing(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    first = await post(client, "tao-tinh-36", UNIT)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    before = await snapshot(db)
    for _ in range(3):
        again = await post(client, "tao-tinh-36", dict(reversed(UNIT.items())))  # same body, keys reordered
        assert again.status_code == 201
        assert again.headers["idempotent-replayed"] == "true"
        assert again.content == first.content
        assert again.headers["location"] == first.headers["location"]
    assert await snapshot(db) == before
    assert await count(db, "admin_unit") == 1
    assert await count(db, "audit_event") == 1


async def test_same_key_other_body_is_refused(client: httpx.AsyncClient, db: AsyncSession) -> None:
    assert (await post(client, "k1", UNIT)).status_code == 201
    before = await snapshot(db)
    other = await post(client, "k1", {**UNIT, "name": "Hà Nam"})
    assert_invalid(other, "Idempotency-Key", location="header")
    # Another collection with the same key is another request too.
    assert_problem(await post(client, "k1", fair_body(), "trade-fairs"), 422)
    assert await snapshot(db) == before


async def test_without_a_key_every_post_creates(client: httpx.AsyncClient, db: AsyncSession) -> None:
    body = {"name": "Hội chợ", "kind": "hosted", "start_on": "2015-10-01", "end_on": "2015-10-05"}
    for _ in range(2):
        assert (await client.post(f"{API}/trade-fairs", json=body)).status_code == 201
    assert await count(db, "trade_fair") == 2


async def test_keys_are_scoped_to_the_credential(client: httpx.AsyncClient, db: AsyncSession) -> None:
    _, secret = await service.create_key(db, "máy khác", Role.admin, "test")
    await db.commit()
    mine = await post(client, "chung", UNIT)
    async with httpx.AsyncClient(
        transport=client._transport, base_url="http://testserver", headers={"X-API-Key": secret}
    ) as other:
        theirs = await post(other, "chung", {**UNIT, "code": "35", "name": "Hà Nam"})
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert "idempotent-replayed" not in theirs.headers
    assert await count(db, "admin_unit") == 2


async def test_a_failed_first_attempt_is_not_stored(client: httpx.AsyncClient, db: AsyncSession) -> None:
    at = await places(client)
    body = {"name": "Làng mới", "district_id": 999_999, "craft_group": "manufacturing"}
    assert_problem(await post(client, "lang", body, "villages"), 422)
    fixed = await post(client, "lang", {**body, "district_id": at.district_id}, "villages")
    assert fixed.status_code == 201 and "idempotent-replayed" not in fixed.headers
    assert await count(db, "idempotency_record") == 1


async def test_malformed_keys_are_refused(client: httpx.AsyncClient, db: AsyncSession) -> None:
    before = await snapshot(db)
    for key in ("x" * 201, "two words", ""):
        response = await client.post(f"{API}/admin-units", json=UNIT, headers={"Idempotency-Key": key})
        assert_problem(response, 422)
    assert await snapshot(db) == before


async def test_a_repeat_while_the_first_runs_gets_409(
    client: httpx.AsyncClient, engine: AsyncEngine, db: AsyncSession
) -> None:
    me = (await client.get(f"{API}/auth/me")).json()
    credential = f"{me['kind']}:{me['id']}"
    before = await snapshot(db)
    # Another transaction holds the key's lock, as the first request does until it commits.
    async with engine.connect() as other, other.begin():
        assert await other.scalar(select(func.pg_try_advisory_xact_lock(_lock_id(credential, "dang-chay"))))
        busy = await post(client, "dang-chay", UNIT)
        assert_problem(busy, 409)
        assert busy.headers["retry-after"] == "1"
        assert await snapshot(db) == before
    # The lock released, the request goes through.
    assert (await post(client, "dang-chay", UNIT)).status_code == 201
