"""Changes made outside a request are in the feed and go to the webhooks like any other:
`places match` and the gazetteer loader write their audit events in the statement that changes
the records, and migration 0010 writes those that migration 0008 and `places match` left out."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from alembic import command
from fastapi import FastAPI

from app.admin_units.gazetteer import load_places
from app.core.settings import Settings
from app.main import create_app
from app.webhooks import outbox
from tests.conftest import committed_key, create_database, drop_database, plain_url
from tests.models.test_migrations import alembic_config

API = "/api/v1"
ROOT = Path(__file__).resolve().parents[2]

# A commune of a district before 2025 whose name no other commune of that district shares.
UNIQUE_COMMUNE = """
SELECT c.id, c.name, c.parent_id FROM admin_unit c JOIN admin_unit d ON d.id = c.parent_id
WHERE c.level = 'commune' AND d.level = 'district'
  AND (SELECT count(*) FROM admin_unit o WHERE o.parent_id = c.parent_id AND o.level = 'commune'
       AND lower(f_unaccent(o.name)) = lower(f_unaccent(c.name))) = 1
ORDER BY c.id LIMIT 1
"""


async def _rows(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(plain_url(url))
    try:
        rows: list[asyncpg.Record] = await conn.fetch(sql, *args)
        return rows
    finally:
        await conn.close()


@asynccontextmanager
async def serving(url: str) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The app on `url` (lifespan run, its webhook worker off) and an administrator's client."""
    app = create_app(Settings(database_url=url, webhook_worker=False))
    async with app.router.lifespan_context(app):
        secret = await committed_key(app.state.engine)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", headers={"X-API-Key": secret}
        ) as client:
            yield app, client


async def _feed(client: httpx.AsyncClient, after: str) -> list[dict[str, Any]]:
    answer = await client.get(f"{API}/changes", params={"after": after, "limit": 1000})
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


async def test_places_match_is_in_the_feed_the_audit_trail_and_the_webhooks(gazetteer_copy: str) -> None:
    url = gazetteer_copy
    commune = (await _rows(url, UNIQUE_COMMUNE))[0]
    village = (
        await _rows(
            url,
            "INSERT INTO village (name, commune, district_id, craft_group) "
            "VALUES ('Làng thử', $1, $2, 'handicraft') RETURNING id, version, commune_id",
            commune["name"].upper(),
            commune["parent_id"],
        )
    )[0]
    assert (village["version"], village["commune_id"]) == (1, None)
    async with serving(url) as (app, client):
        head = (await client.get(f"{API}/changes/head")).json()["next"]
        # A subscription to every resource, from the head on.
        await _rows(
            url,
            "INSERT INTO webhook_subscription (url, secret, position_xact, created_by) "
            "VALUES ('http://127.0.0.1:9/hook', 'a-secret-of-twenty-chars', "
            "pg_snapshot_xmin(pg_current_snapshot())::text::bigint, 'test')",
        )
        answer = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "app", "places", "match", "--json"],
            env={**os.environ, "DATABASE_URL": url},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=ROOT,
        )
        assert answer.returncode == 0, answer.stderr
        assert json.loads(answer.stdout)["placed"] == {"villages": 1, "cooperatives": 0}

        items = await _feed(client, head)
        assert [(i["resource"], i["id"], i["action"], i["version"]) for i in items] == [
            ("villages", village["id"], "update", 2)
        ]
        assert items[0]["record"]["commune_id"] == commune["id"]
        assert items[0]["record"] == (await client.get(f"{API}/villages/{village['id']}")).json()
        assert items[0]["request_id"] is None

        trail = await client.get(f"{API}/audit", params={"resource": "villages"})
        assert trail.status_code == 200, trail.text
        event = trail.json()["items"][0]
        assert (event["actor_kind"], event["actor_id"], event["record_id"]) == (
            "command_line",
            0,
            village["id"],
        )
        assert event["actor_name"]  # the system user
        assert event["changes"] == {"commune_id": [None, commune["id"]]}  # district and province as were

        conn = await asyncpg.connect(plain_url(url))
        try:
            assert await outbox.fan_out(conn, app.state.registry, None) == 1
            delivery = await conn.fetchrow("SELECT resource, record_id, action, body FROM webhook_delivery")
        finally:
            await conn.close()
        assert (delivery["resource"], delivery["record_id"], delivery["action"]) == (
            "villages",
            village["id"],
            "update",
        )
        assert json.loads(delivery["body"])["record"]["commune_id"] == commune["id"]


async def test_a_gazetteer_load_is_in_the_feed(gazetteer_copy: str) -> None:
    url = gazetteer_copy
    counts = await _rows(
        url,
        "SELECT (SELECT count(*) FROM admin_unit) AS units, "
        "(SELECT count(*) FROM audit_event WHERE resource = 'admin-units' AND action = 'create' "
        " AND actor_kind = 'command_line') AS created",
    )
    assert counts[0]["units"] == counts[0]["created"] > 10_000  # the first load: one create each
    unit = (
        await _rows(url, "SELECT id, name, version FROM admin_unit WHERE code = '36' ORDER BY id LIMIT 1")
    )[0]
    created = (
        await _rows(
            url,
            "SELECT changes FROM audit_event WHERE resource = 'admin-units' AND record_id = $1",
            unit["id"],
        )
    )[0]
    assert json.loads(created["changes"])["name"] == [None, unit["name"]]
    # A unit changed by hand is brought back by the next load: an update, the record as it now is.
    await _rows(
        url, "UPDATE admin_unit SET name = 'Tên sai', version = version + 1 WHERE id = $1", unit["id"]
    )
    async with serving(url) as (_, client):
        head = (await client.get(f"{API}/changes/head")).json()["next"]
        report = await load_places(url)
        assert (report.units_added, report.units_changed) == (0, 1)
        items = await _feed(client, head)
        assert [(i["resource"], i["id"], i["action"], i["version"]) for i in items] == [
            ("admin-units", unit["id"], "update", unit["version"] + 2)
        ]
        assert items[0]["record"]["name"] == unit["name"]
        event = (await client.get(f"{API}/audit", params={"resource": "admin-units", "limit": 1})).json()
        assert event["items"][0]["changes"] == {"name": ["Tên sai", unit["name"]]}
        # Loading again changes nothing and writes nothing.
        again = (await client.get(f"{API}/changes/head")).json()["next"]
        await load_places(url)
        assert await _feed(client, again) == []


# -- migration 0010 on a database whose records 0008 and `places match` changed silently ----------


@pytest.fixture
def at_0009(server_url: str) -> Iterator[str]:
    url = create_database(server_url, prefix="cv_repair")
    try:
        command.upgrade(alembic_config(url), "0009")
        yield url
    finally:
        drop_database(server_url, url)


EVENT = """
INSERT INTO audit_event (actor_kind, actor_id, actor_name, action, resource, record_id, changes, version)
VALUES ('api_key', 1, 'writer', $1, $2, $3, $4::jsonb, $5)
"""

SILENT = """
INSERT INTO admin_unit (id, code, name, level, parent_id) VALUES
    (1, '36', 'Nam Định', 'province', NULL), (2, '362', 'Nam Trực', 'district', 1),
    (3, '14000', 'Nam Giang', 'commune', 2);
-- Created by requests (events at version 1), before the places of records existed...
INSERT INTO village (id, name, commune, district_id, craft_group) VALUES
    (1, 'Placed by 0008', 'Nam Giang', 2, 'handicraft'),
    (2, 'Placed by places match', 'Nam Giang', 2, 'handicraft'),
    (3, 'Left alone', NULL, 2, 'handicraft'),
    (4, 'Loaded in bulk', NULL, 2, 'handicraft'),
    (5, 'Placed by a request', 'Nam Giang', 2, 'handicraft');
INSERT INTO cooperative (id, name, registration_code, sector, district_id, village_id)
VALUES (1, 'HTX thử', 'HTX-1', 'handicraft', 2, 1);
"""


async def _silently_changed(url: str) -> None:
    """Records as 0008 and `places match` left them before they wrote events."""
    conn = await asyncpg.connect(plain_url(url))
    try:
        await conn.execute(SILENT)
        for record_id in (1, 2, 3, 5):
            await conn.execute(EVENT, "create", "villages", record_id, '{"commune": [null, "x"]}', 1)
        await conn.execute(EVENT, "create", "cooperatives", 1, "{}", 1)
        # 0008: the commune set, no new version, no event.
        await conn.execute("UPDATE village SET commune_id = 3 WHERE id = 1")
        await conn.execute("UPDATE cooperative SET commune_id = 3 WHERE id = 1")
        # places match: a new version, no event.
        await conn.execute("UPDATE village SET commune_id = 3, version = version + 1 WHERE id = 2")
        # A request: a new version and its event.
        await conn.execute("UPDATE village SET commune_id = 3, version = version + 1 WHERE id = 5")
        await conn.execute(EVENT, "update", "villages", 5, '{"commune_id": [null, 3]}', 2)
    finally:
        await conn.close()


def test_migration_0010_writes_the_events_left_out(at_0009: str) -> None:
    asyncio.run(_silently_changed(at_0009))
    horizon = asyncio.run(_rows(at_0009, "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS x"))
    command.upgrade(alembic_config(at_0009), "0010")
    events = asyncio.run(
        _rows(
            at_0009,
            "SELECT resource, record_id, action, version, actor_kind, actor_name, changes, xact "
            "FROM audit_event WHERE actor_name = 'migration 0010' ORDER BY resource, record_id",
        )
    )
    found = [(e["resource"], e["record_id"], e["version"], json.loads(e["changes"])) for e in events]
    assert found == [
        ("cooperatives", 1, 1, {"commune_id": [None, 3]}),
        ("villages", 1, 1, {"commune_id": [None, 3]}),
        ("villages", 2, 2, {"commune_id": [None, 3]}),
        ("villages", 4, 1, {}),
    ]
    assert {(e["action"], e["actor_kind"]) for e in events} == {("update", "command_line")}
    # After any position a consumer was given before the migration: the feed serves them.
    assert all(e["xact"] >= horizon[0]["x"] for e in events)
    # Every record now has an event at its version; a second run would find nothing to write.
    missing = asyncio.run(
        _rows(
            at_0009,
            "SELECT v.id FROM village v WHERE NOT EXISTS (SELECT FROM audit_event e WHERE "
            "e.resource = 'villages' AND e.record_id = v.id AND e.version = v.version)",
        )
    )
    assert missing == []
