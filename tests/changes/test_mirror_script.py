"""scripts/mirror.py, the README's reference consumer, against a live `python -m app serve`: its
SQLite copy equals the service after the first copy, after changes, and after a cursor past the
retention made it start again."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from app.changes.feed import Cursor, Position
from app.registry import REGISTRY
from tests.conftest import committed_key, plain_url
from tests.servers import app_env, fresh_database, serving

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "mirror.py"
API = "/api/v1"
pytestmark = pytest.mark.slow
JSON = dict[str, Any]

SETUP = """
INSERT INTO admin_unit (code, name, level) VALUES ('36', 'Nam Định', 'province');
INSERT INTO admin_unit (code, name, level, parent_id)
SELECT '362', 'Nam Trực', 'district', id FROM admin_unit;
INSERT INTO village (name, district_id, craft_group)
SELECT 'Làng ' || n, (SELECT id FROM admin_unit WHERE level = 'district'), 'handicraft'
  FROM generate_series(1, 30) AS n;
"""


async def _prepare(url: str) -> str:
    conn = await asyncpg.connect(plain_url(url))
    try:
        await conn.execute(SETUP)  # records without events, as the seed and the gazetteer write them
    finally:
        await conn.close()
    engine = create_async_engine(url)
    try:
        return await committed_key(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def live(server_url: str) -> Iterator[tuple[str, str]]:
    with fresh_database(server_url, "cv_mirror") as url:
        key = asyncio.run(_prepare(url))
        with serving(app_env(DATABASE_URL=url, LOG_LEVEL="warning"), "--no-migrate") as base:
            yield base, key


def mirror(base: str, key: str, db: Path) -> str:
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--url", base, "--key", key, "--db", str(db), "--once"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    return run.stdout


def _own(resource: str, record: JSON) -> JSON:
    """The record without its summaries of the records it refers to (a village's `district`):
    those are rendered when the record's own change is read, and a change of the district is an
    item of its own (README, *Keeping a copy in sync*)."""
    summaries = REGISTRY.by_path[resource].summaries
    return {k: v for k, v in record.items() if k not in summaries}


def copied(db: Path, *, whole: bool = False) -> dict[tuple[str, int], JSON]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT resource, id, version, body FROM record").fetchall()
    assert all(json.loads(body)["version"] == version for _, _, version, body in rows)
    return {
        (resource, record_id): json.loads(body) if whole else _own(resource, json.loads(body))
        for resource, record_id, _, body in rows
    }


def service(http: httpx.Client) -> dict[tuple[str, int], JSON]:
    paths = http.get("/openapi.json").json()["components"]["schemas"]["ResourcePath"]["enum"]
    assert paths == [res.path for res in REGISTRY]
    records: dict[tuple[str, int], JSON] = {}
    for path in paths:
        page = http.get(f"{API}/{path}", params={"limit": 500}).json()
        assert page["total"] <= 500
        records.update({(path, item["id"]): _own(path, item) for item in page["items"]})
    return records


def test_the_reference_consumer_keeps_an_equal_copy(live: tuple[str, str], tmp_path: Path) -> None:
    base, key = live
    db = tmp_path / "mirror.sqlite"
    with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=30) as http:
        first = mirror(base, key, db)
        assert "copied 32 records: 2 admin-units, 30 villages" in first
        assert "applied 0 changes; up to date with 32 records" in first
        assert copied(db) == service(http)
        assert copied(db, whole=True)[("villages", 3)] == http.get(f"{API}/villages/3").json()

        district = copied(db)[("admin-units", 2)]["id"]  # 1 is its province
        made = http.post(
            f"{API}/villages", json={"name": "Mới", "district_id": district, "craft_group": "salt"}
        )
        assert made.status_code == 201
        assert http.patch(
            f"{API}/villages/3", json={"households_total": 7}, headers={"If-Match": '"1"'}
        ).is_success
        assert http.delete(f"{API}/villages/4", headers={"If-Match": '"1"'}).status_code == 204
        gone = http.post(
            f"{API}/cooperatives", json={"name": "HTX", "sector": "mechanical", "district_id": district}
        )
        assert (
            http.delete(f"{API}/cooperatives/{gone.json()['id']}", headers={"If-Match": '"1"'}).status_code
            == 204
        )
        assert http.patch(
            f"{API}/admin-units/{district}", json={"name": "Nam Trực 2"}, headers={"If-Match": '"1"'}
        ).is_success

        second = mirror(base, key, db)
        assert "applied 6 changes; up to date with 32 records" in second
        assert copied(db) == service(http)
        assert copied(db)[("admin-units", district)]["name"] == "Nam Trực 2"
        # A village the feed did not mention keeps the summary it was copied with.
        assert copied(db, whole=True)[("villages", 5)]["district"]["name"] == "Nam Trực"
        assert copied(db, whole=True)[("villages", 3)]["district"]["name"] == "Nam Trực 2"
        assert "applied 0 changes" in mirror(base, key, db)

        # A cursor past the retention (410): the script copies everything again.
        old = Cursor(Position(3, 0), int(time.time()) - 200 * 86_400).encode()
        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE state SET value = ? WHERE key = 'cursor'", (old,))
            conn.execute("DELETE FROM record WHERE id = 5")
        third = mirror(base, key, db)
        assert "older than the feed's retention" in third and "copied 32 records" in third
        assert copied(db) == service(http)
