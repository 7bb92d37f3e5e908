"""Migration 0008 on a copy of the sample as it stood at 0007 (villages and co-operatives with a
district and a commune's name): every record is placed in its commune or reported, nothing is
lost or guessed; `python -m app places unplaced` reports the same records, and `places match`
places what a later gazetteer lets it place, twice changing nothing.

What is expected comes from the sample files' `commune_code` column (each record's 2015 commune
as the gazetteer holds it, written from the official lists), not from the matching.
"""

from __future__ import annotations

import asyncio
import csv
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from alembic import command
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from app.admin_units import placing
from app.admin_units.gazetteer import load_places
from tests.conftest import create_database, drop_database, plain_url
from tests.models.test_migrations import alembic_config

ROOT = Path(__file__).resolve().parents[2]
DISTRICT_IN_2015 = (
    "SELECT id FROM admin_unit WHERE level = 'district' AND code = {code}"
    " AND (valid_from IS NULL OR valid_from <= '2015-12-31')"
    " AND (valid_to IS NULL OR valid_to >= '2015-12-31')"
)


def sample(path: str) -> list[dict[str, str]]:
    with (ROOT / "app" / path / "sample.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


async def _fill_at_0007(url: str) -> None:
    """The sample's villages, their figures' years and the co-operatives, written with the columns
    of revision 0007 (a district and, for a village, the commune's name)."""
    conn = await asyncpg.connect(plain_url(url))
    try:
        villages: dict[str, int] = {}
        for row in sample("villages"):
            villages[f"{row['district']}/{row['name']}"] = await conn.fetchval(
                "INSERT INTO village (name, commune, district_id, craft_group)"
                f" VALUES ($1, $2, ({DISTRICT_IN_2015.format(code='$3')}), $4) RETURNING id",
                row["name"],
                row["commune"] or None,
                row["district"],
                row["craft_group"],
            )
        for row in sample("village_figures"):
            await conn.execute(
                "INSERT INTO village_figure (village_id, year) VALUES ($1, $2)",
                villages[row["village"]],
                int(row["year"]),
            )
        for row in sample("cooperatives"):
            await conn.execute(
                "INSERT INTO cooperative"
                " (name, registration_code, sector, district_id, village_id, founded_on)"
                f" VALUES ($1, $2, $3, ({DISTRICT_IN_2015.format(code='$4')}), $5, $6::text::date)",
                row["name"],
                row["registration_code"],
                row["sector"],
                row["district"],
                villages.get(row["village"]),
                row["founded_on"] or None,
            )
    finally:
        await conn.close()


ALLOW_COMMAND_LINE = """
ALTER TABLE audit_event DROP CONSTRAINT ck_audit_event_actor_kind_valid;
ALTER TABLE audit_event ADD CONSTRAINT ck_audit_event_actor_kind_valid
    CHECK (actor_kind IN ('account', 'api_key', 'command_line'));
"""


async def _execute(url: str, sql: str) -> None:
    conn = await asyncpg.connect(plain_url(url))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@dataclass(frozen=True)
class Migrated:
    url: str
    warnings: list[str]  # what the migration reported, one record a line


@pytest.fixture(scope="module")
def migrated(server_url: str) -> Iterator[Migrated]:
    """A database taken to 0007, given the gazetteer and the sample, then migrated to head."""
    url = create_database(server_url, prefix="cv_placing")
    config = alembic_config(url)
    logger = logging.getLogger("alembic.runtime.migration")
    seen: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.WARNING:
                seen.append(record.getMessage())

    handler = Keep()
    try:
        command.upgrade(config, "0007")
        # Today's loader writes the command line's audit events, which the trail allows from 0008
        # on (0010 on a database migrated before that): allowed here for the load alone.
        asyncio.run(_execute(url, ALLOW_COMMAND_LINE))
        asyncio.run(load_places(url))
        asyncio.run(_fill_at_0007(url))
        logger.addHandler(handler)
        try:
            command.upgrade(config, "head")
        finally:
            logger.removeHandler(handler)
        yield Migrated(url, seen)
    finally:
        drop_database(server_url, url)


async def _fetch(url: str, sql: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(plain_url(url))
    try:
        rows: list[asyncpg.Record] = await conn.fetch(sql)
        return rows
    finally:
        await conn.close()


def fetch(url: str, sql: str) -> list[asyncpg.Record]:
    return asyncio.run(_fetch(url, sql))


PLACES = """
SELECT r.name, d.code AS district, c.code AS commune, p.code AS province, r.commune_id IS NULL AS unplaced
FROM {table} r LEFT JOIN admin_unit d ON d.id = r.district_id LEFT JOIN admin_unit c ON c.id = r.commune_id
JOIN admin_unit p ON p.id = r.province_id
"""


def test_every_village_is_placed_in_its_2015_commune_or_reported(migrated: Migrated) -> None:
    rows = {(r["district"], r["name"]): r for r in fetch(migrated.url, PLACES.format(table="village"))}
    expected = sample("villages")
    assert len(rows) == len(expected)  # nothing lost
    reported = [line for line in migrated.warnings if line.startswith("not placed: village ")]
    for village in expected:
        row = rows[(village["district"], village["name"])]
        assert row["province"] == "36"  # its district's parent
        assert row["district"] == village["district"]  # kept as it was
        assert row["commune"] == (village["commune_code"] or None), village["name"]
    unplaced = [v for v in expected if not v["commune_code"]]
    assert len(reported) == len(unplaced)
    for village in unplaced:
        assert any(
            f"{village['name']!r}, commune {village['commune']!r}, district {village['district']}" in line
            for line in reported
        ), village["name"]


def test_every_cooperative_is_placed_in_its_villages_commune_or_reported(migrated: Migrated) -> None:
    rows = {r["name"]: r for r in fetch(migrated.url, PLACES.format(table="cooperative"))}
    expected = sample("cooperatives")
    assert len(rows) == len(expected)
    reported = [line for line in migrated.warnings if line.startswith("not placed: cooperative ")]
    for cooperative in expected:
        row = rows[cooperative["name"]]
        assert (row["district"], row["province"]) == (cooperative["district"], "36")
        assert row["commune"] == (cooperative["commune_code"] or None), cooperative["name"]
    assert len(reported) == sum(1 for c in expected if not c["commune_code"])


def test_each_record_placed_has_its_event_at_its_new_version(migrated: Migrated) -> None:
    """0008 writes an audit event with each placing, in the same statement: the changes feed and
    the webhooks see it; 0010 then finds nothing placed left without one."""
    for table, resource in (("village", "villages"), ("cooperative", "cooperatives")):
        rows = fetch(
            migrated.url,
            f"""
            SELECT r.id, r.version, r.commune_id, e.actor_kind, e.actor_name, e.changes, e.action
            FROM {table} r LEFT JOIN audit_event e ON e.resource = '{resource}' AND e.record_id = r.id
            WHERE r.commune_id IS NOT NULL ORDER BY r.id
            """,
        )
        assert rows
        for row in rows:
            assert row["version"] == 2, row  # placed: a new version
            assert (row["actor_kind"], row["actor_name"], row["action"]) == (
                "command_line",
                "migration 0008",
                "update",
            )
            assert json.loads(row["changes"]) == {"commune_id": [None, row["commune_id"]]}


async def _placing(url: str, action: str) -> placing.Matched | list[placing.Unplaced]:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with AsyncSession(engine) as session, session.begin():
            if action == "match":
                return await placing.match(session)
            return await placing.unplaced(session)
    finally:
        await engine.dispose()


def test_the_command_reports_what_the_migration_reported(migrated: Migrated) -> None:
    unplaced = asyncio.run(_placing(migrated.url, "unplaced"))
    assert isinstance(unplaced, list)
    assert sorted(map(str, unplaced)) == sorted(migrated.warnings)


def test_the_command_line_report_in_json(migrated: Migrated) -> None:
    answer = subprocess.run(
        [sys.executable, "-m", "app", "places", "unplaced", "--json"],
        env={**os.environ, "DATABASE_URL": migrated.url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )
    assert answer.returncode == 0, answer.stderr
    document = json.loads(answer.stdout)
    assert len(document["unplaced"]) == len(migrated.warnings)
    assert set(document["unplaced"][0]) == {"table", "id", "name", "commune", "district"}


def test_matching_again_changes_nothing_and_places_what_it_now_can(migrated: Migrated) -> None:
    first = asyncio.run(_placing(migrated.url, "match"))
    assert isinstance(first, placing.Matched)
    assert (first.villages, first.cooperatives, first.rederived) == (0, 0, 0)
    # A village whose commune was forgotten is placed again; one whose name two communes of its
    # district share is left as it is (unique matches only).
    fetch(
        migrated.url,
        """
        WITH v AS (SELECT id FROM village WHERE commune_id IS NOT NULL ORDER BY id LIMIT 2)
        UPDATE village SET commune_id = NULL WHERE id IN (SELECT id FROM v)
        """,
    )
    twin = fetch(
        migrated.url,
        """
        INSERT INTO admin_unit (code, name, level, parent_id, valid_from, valid_to)
        SELECT '99999', c.name, 'commune', c.parent_id, '1990-01-01', '2025-06-30'
        FROM village v JOIN admin_unit c ON lower(f_unaccent(c.name)) = lower(f_unaccent(v.commune))
         AND c.parent_id = v.district_id
        WHERE v.commune_id IS NULL AND c.level = 'commune'
        ORDER BY v.id LIMIT 1
        RETURNING id
        """,
    )
    assert twin
    second = asyncio.run(_placing(migrated.url, "match"))
    assert isinstance(second, placing.Matched)
    assert second.villages == 1
    assert len(second.unplaced) == len(migrated.warnings) + 1
    third = asyncio.run(_placing(migrated.url, "match"))
    assert isinstance(third, placing.Matched)
    assert (third.villages, third.cooperatives, third.rederived) == (0, 0, 0)
