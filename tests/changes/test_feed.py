"""The changes feed on committed data: a consumer's mirror equals the database however
transactions overlap; deletes and re-creates; cursors refused (410, 422); credentials (401).

Writers here are plain asyncpg transactions that write a village and its audit event, as the
service does, then sleep before they commit, some long and some short, some taking their
transaction id long before they write: commit order, start order and event-id order all differ.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import pytest

from app.__main__ import migrate
from app.changes.feed import Cursor, Position
from tests.conftest import create_database, drop_database, plain_url
from tests.stats.helpers import app_client

API = "/api/v1"
JSON = dict[str, Any]
SEEDS = (1, 2, 3, 4)
DISTRICT = 1

SETUP = f"""
INSERT INTO admin_unit (id, code, name, level, parent_id)
VALUES ({DISTRICT + 1}, '36', 'Nam Định', 'province', NULL),
       ({DISTRICT}, '362', 'Nam Trực', 'district', {DISTRICT + 1});
INSERT INTO village (name, district_id, craft_group)
SELECT 'Làng ' || n, {DISTRICT}, 'handicraft' FROM generate_series(1, 20) AS n;
"""
EVENT = """
INSERT INTO audit_event (actor_kind, actor_id, actor_name, action, resource, record_id, changes, version)
VALUES ('api_key', 0, 'writer', $1, 'villages', $2, '{}', $3)
"""


@pytest.fixture(scope="module")
def template(server_url: str) -> Iterator[str]:
    """A migrated database nothing connects to, copied for each scenario."""
    url = create_database(server_url, "cv_feed_tpl")
    try:
        migrate(url)
        yield url
    finally:
        drop_database(server_url, url)


@pytest.fixture
def fresh(server_url: str, template: str) -> Iterator[str]:
    url = create_database(server_url, "cv_feed", template=template)
    try:
        yield url
    finally:
        drop_database(server_url, url)


async def _write(conn: asyncpg.Connection, rng: random.Random, ids: list[int]) -> None:
    """One transaction: maybe take an id early, write one change with its event, sleep, commit
    (or roll back, leaving nothing)."""
    async with conn.transaction():
        if rng.random() < 0.3:
            await conn.fetchval("SELECT pg_current_xact_id()")  # numbered now, written later
            await asyncio.sleep(rng.choice((0.0, 0.05, 0.4)))
        roll = rng.random()
        if roll < 0.3 or not ids:
            row = await conn.fetchrow(
                "INSERT INTO village (name, district_id, craft_group) VALUES ($1, $2, 'handicraft') "
                "RETURNING id, version",
                f"Làng mới {rng.random():.6f}",
                DISTRICT,
            )
            await conn.execute(EVENT, "create", row["id"], row["version"])
            ids.append(row["id"])
        elif roll < 0.85:
            target = rng.choice(ids)
            row = await conn.fetchrow(
                "UPDATE village SET households_total = $2, version = version + 1, updated_at = now() "
                "WHERE id = $1 RETURNING id, version",
                target,
                rng.randrange(1, 5000),
            )
            if row is not None:
                await conn.execute(EVENT, "update", row["id"], row["version"])
        else:
            target = rng.choice(ids)
            row = await conn.fetchrow("DELETE FROM village WHERE id = $1 RETURNING id, version", target)
            if row is not None:
                await conn.execute(EVENT, "delete", row["id"], row["version"])
                if target in ids:
                    ids.remove(target)
        await asyncio.sleep(rng.choice((0.0, 0.01, 0.05, 0.2, 0.6)))
        if rng.random() < 0.1:
            raise _RollBack


class _RollBack(Exception):
    pass


async def _writer(url: str, seed: int, ids: list[int], count: int) -> None:
    rng = random.Random(seed)
    conn = await asyncpg.connect(plain_url(url))
    try:
        for _ in range(count):
            with contextlib.suppress(_RollBack):
                await _write(conn, rng, ids)
    finally:
        await conn.close()


async def _all_pages(client: httpx.AsyncClient, path: str) -> list[JSON]:
    items: list[JSON] = []
    offset = 0
    while True:
        page = (await client.get(path, params={"limit": 500, "offset": offset, "sort": "id"})).json()
        items += page["items"]
        offset += 500
        if offset >= page["total"]:
            return items


class Mirror:
    """A consumer: take a cursor, copy the list, then apply the feed in order."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.records: dict[int, JSON] = {}
        self.seen: list[tuple[str, int, str, int]] = []
        self.cursor = ""

    async def start(self) -> None:
        self.cursor = (await self.client.get(f"{API}/changes/head")).json()["next"]
        for record in await _all_pages(self.client, f"{API}/villages"):
            self.records[record["id"]] = record

    async def poll(self, limit: int) -> int:
        answer = await self.client.get(f"{API}/changes", params={"after": self.cursor, "limit": limit})
        assert answer.status_code == 200, answer.text
        page = answer.json()
        for item in page["items"]:
            self.seen.append((item["resource"], item["id"], item["action"], item["version"]))
            if item["record"] is None:
                self.records.pop(item["id"], None)
            else:
                self.records[item["id"]] = item["record"]
        self.cursor = page["next"]
        return len(page["items"])


async def _naive(url: str, stop: asyncio.Event) -> set[int]:
    """What `id > last id seen` would have collected: the mistake the feed must not make."""
    conn = await asyncpg.connect(plain_url(url))
    seen: set[int] = set()
    last = 0
    try:
        while not stop.is_set():
            for row in await conn.fetch("SELECT id FROM audit_event WHERE id > $1 ORDER BY id", last):
                seen.add(row["id"])
                last = row["id"]
            await asyncio.sleep(0.02)
    finally:
        await conn.close()
    return seen


async def _scenario(url: str, seed: int) -> int:
    """Run writers and a polling consumer; check the mirror. Returns how many committed events
    a naive `id > last` poller missed meanwhile."""
    setup = await asyncpg.connect(plain_url(url))
    try:
        await setup.execute(SETUP)
        ids = [r["id"] for r in await setup.fetch("SELECT id FROM village ORDER BY id")]
    finally:
        await setup.close()
    async with app_client(url) as (_, client):
        mirror = Mirror(client)
        await mirror.start()
        stop = asyncio.Event()
        naive = asyncio.create_task(_naive(url, stop))
        writers = [asyncio.create_task(_writer(url, seed * 100 + n, ids, 12)) for n in range(6)]
        rng = random.Random(seed)
        try:
            while not all(w.done() for w in writers):
                await mirror.poll(rng.choice((1, 3, 7, 100)))
                await asyncio.sleep(rng.choice((0.0, 0.02, 0.1)))
            await asyncio.gather(*writers)
            while await mirror.poll(5):
                pass
        finally:
            for task in writers:
                task.cancel()
            stop.set()
            naive_seen = await naive
        assert await mirror.poll(100) == 0  # up to date: an empty page

        database = {r["id"]: r for r in await _all_pages(client, f"{API}/villages")}
        assert mirror.records == database
        conn = await asyncpg.connect(plain_url(url))
        try:
            events = await conn.fetch("SELECT id, resource, record_id, action, version FROM audit_event")
        finally:
            await conn.close()
        committed = sorted((e["resource"], e["record_id"], e["action"], e["version"]) for e in events)
        assert sorted(mirror.seen) == committed  # every committed change, each once
        assert len(set(mirror.seen)) == len(mirror.seen)
        return len({e["id"] for e in events} - naive_seen)


NAIVE_MISSES: dict[int, int] = {}


@pytest.mark.parametrize("seed", SEEDS)
async def test_a_mirror_following_the_feed_equals_the_database(fresh: str, seed: int) -> None:
    NAIVE_MISSES[seed] = await _scenario(fresh, seed)


def test_the_scenarios_commit_out_of_order() -> None:
    """The writers do make `id > last id` lose changes, so the test above tests something."""
    if not NAIVE_MISSES:
        pytest.skip("the scenarios did not run")
    assert sum(NAIVE_MISSES.values()) > 0, NAIVE_MISSES


# -- through the API ------------------------------------------------------------------------------

VILLAGE = {"name": "Thôn Đông Hoà", "district_id": DISTRICT, "craft_group": "ornamental"}


async def _district(url: str) -> None:
    conn = await asyncpg.connect(plain_url(url))
    try:
        await conn.execute(SETUP.split(";", 1)[0])
    finally:
        await conn.close()


async def _feed(client: httpx.AsyncClient, after: str, **params: Any) -> tuple[list[JSON], str]:
    answer = await client.get(f"{API}/changes", params={"after": after, **params})
    assert answer.status_code == 200, answer.text
    page = answer.json()
    return page["items"], page["next"]


async def test_creates_updates_deletes_and_recreates(fresh: str) -> None:
    await _district(fresh)
    async with app_client(fresh) as (_, client):
        head = (await client.get(f"{API}/changes/head")).json()["next"]
        assert (await _feed(client, head))[0] == []
        first = (await client.post(f"{API}/villages", json=VILLAGE)).json()
        patched = await client.patch(
            f"{API}/villages/{first['id']}", json={"households_total": 50}, headers={"If-Match": '"1"'}
        )
        assert patched.status_code == 200
        assert (
            await client.delete(f"{API}/villages/{first['id']}", headers={"If-Match": '"2"'})
        ).status_code == 204
        second = (await client.post(f"{API}/villages", json=VILLAGE)).json()
        kept = (await client.post(f"{API}/villages", json={**VILLAGE, "name": "Kept"})).json()
        await client.patch(f"{API}/villages/{kept['id']}", json={"notes": "x"}, headers={"If-Match": '"1"'})

        items, following = await _feed(client, head)
        assert [(i["id"], i["action"], i["version"]) for i in items] == [
            (first["id"], "create", 1),
            (first["id"], "update", 2),
            (first["id"], "delete", 2),
            (second["id"], "create", 1),
            (kept["id"], "create", 1),
            (kept["id"], "update", 2),
        ]
        assert all(i["resource"] == "villages" and i["request_id"] for i in items)
        # The record as it is now: gone for the deleted one, at version 2 for both of kept's items.
        assert [i["record"] for i in items[:3]] == [None, None, None]
        now = (await client.get(f"{API}/villages/{kept['id']}")).json()
        assert items[4]["record"] == items[5]["record"] == now
        assert items[3]["record"] == (await client.get(f"{API}/villages/{second['id']}")).json()
        # Up to date: an empty page whose next is where to poll from; it moves on with new changes.
        assert (await _feed(client, following))[0] == []
        await client.patch(f"{API}/villages/{second['id']}", json={"notes": "y"}, headers={"If-Match": '"1"'})
        later, _ = await _feed(client, following)
        assert [(i["id"], i["action"], i["version"]) for i in later] == [(second["id"], "update", 2)]

        # Pages of two, following next, give the same items; a resource filter leaves others out.
        paged: list[JSON] = []
        cursor = head
        while True:
            page, cursor = await _feed(client, cursor, limit=2)
            if not page:
                break
            paged += page
        assert [(i["id"], i["action"]) for i in paged] == [(i["id"], i["action"]) for i in items + later]
        assert (await _feed(client, head, resource="cooperatives,trade-fairs"))[0] == []
        assert len((await _feed(client, head, resource="villages"))[0]) == 7

        # Without a cursor the feed starts at the oldest change within the retention.
        start = await client.get(f"{API}/changes")
        assert [i["id"] for i in start.json()["items"]] == [i["id"] for i in items + later]


def _cursor(xact: int, event_id: int, issued: float) -> str:
    return Cursor(Position(xact, event_id), int(issued)).encode()


async def test_a_cursor_older_than_the_retention_is_gone(fresh: str) -> None:
    async with app_client(fresh) as (app, client):
        days = app.state.changes_retention_days
        assert days == 90
        old = _cursor(3, 0, time.time() - days * 86_400 - 60)
        answer = await client.get(f"{API}/changes", params={"after": old}, headers={"Accept-Language": "vi"})
        assert answer.status_code == 410
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["type"] == "urn:craftvillage:problem:cursor-expired"
        assert "đồng bộ lại" in answer.json()["detail"]
        english = (await client.get(f"{API}/changes", params={"after": old})).json()["detail"]
        assert "resynchronise" in english and "/api/v1/changes/head" in english
        recent = _cursor(3, 0, time.time() - (days - 1) * 86_400)
        assert (await client.get(f"{API}/changes", params={"after": recent})).status_code == 200
        app.state.changes_retention_days = 1
        assert (await client.get(f"{API}/changes", params={"after": recent})).status_code == 410


@pytest.mark.parametrize(
    "after",
    [
        "",
        "not a cursor",
        "YWJj",  # "abc"
        "%%%",
        _cursor(3, 0, 0).replace("Y", "Z", 1),
        Cursor(Position(3, 0), 0).encode()[:-2],
        _cursor(3, 0, time.time() + 86_400),  # issued tomorrow
        _cursor(2**62, 0, time.time()),  # a position no page has reached
        "x" * 201,
    ],
)
async def test_a_malformed_cursor_is_refused(fresh: str, after: str) -> None:
    async with app_client(fresh) as (_, client):
        answer = await client.get(f"{API}/changes", params={"after": after})
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"][0]["field"] == "after"


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 1001}, {"resource": "nothing"}, {"since": "x"}])
async def test_bad_parameters_are_refused(
    anonymous: httpx.AsyncClient, client: httpx.AsyncClient, params: JSON
) -> None:
    assert (await client.get(f"{API}/changes", params=params)).status_code == 422


async def test_the_feed_needs_a_credential(anonymous: httpx.AsyncClient) -> None:
    for path in ("/changes", "/changes/head"):
        answer = await anonymous.get(API + path)
        assert answer.status_code == 401
        assert answer.headers["content-type"] == "application/problem+json"


async def test_fields_narrow_each_record_to_its_own_resources_fields(fresh: str) -> None:
    await _district(fresh)
    async with app_client(fresh) as (_, client):
        head = (await client.get(f"{API}/changes/head")).json()["next"]
        village = (await client.post(f"{API}/villages", json=VILLAGE)).json()
        figure = await client.post(f"{API}/village-figures", json={"village_id": village["id"], "year": 2015})
        assert figure.status_code == 201, figure.text
        items, _ = await _feed(client, head, fields="name,district_id")
        records = {(i["resource"], i["id"]): i["record"] for i in items}
        assert records == {
            ("villages", village["id"]): {"name": VILLAGE["name"], "district_id": DISTRICT},
            ("village-figures", figure.json()["id"]): {},  # a figure has neither field
        }
        items, _ = await _feed(client, head, fields="year,id", resource="village-figures")
        assert [i["record"] for i in items] == [{"id": figure.json()["id"], "year": 2015}]
        for bad in (
            {"fields": "registration_code", "resource": "villages"},
            {"fields": "nope"},
            {"fields": ""},
        ):
            answer = await client.get(f"{API}/changes", params={"after": head, **bad})
            assert answer.status_code == 422, answer.text
            assert [e["field"].split(".")[0] for e in answer.json()["errors"]] == ["fields"]
