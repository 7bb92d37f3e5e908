"""The plans PostgreSQL chooses for filtered statistics: the statements a request runs are captured
as sent to the driver and EXPLAINed with the same parameters, on tables big enough (and analysed)
for an index to pay."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from tests.stats.helpers import STATS, statements

pytestmark = pytest.mark.usefixtures("fresh_stats_memory")


def _plan_nodes(plan: Any) -> list[tuple[str, str | None]]:
    """(node type, index name) of every node of an EXPLAIN (FORMAT JSON) plan."""
    found = [(plan["Node Type"], plan.get("Index Name"))]
    for child in plan.get("Plans", []):
        found += _plan_nodes(child)
    return found


async def _explain_what_a_request_runs(
    client: httpx.AsyncClient, db: AsyncSession, engine: AsyncEngine, url: str, table: str
) -> list[list[tuple[str, str | None]]]:
    """EXPLAIN each statement the statistic runs on `table` (rows and totals), with its parameters."""
    with statements(engine) as sent:
        response = await client.get(url)
    assert response.status_code == 200, response.text
    queries = [(sql, params) for sql, params in sent if f"FROM {table}" in sql and "GROUP BY" in sql.upper()]
    queries += [
        (sql, params) for sql, params in sent if f"FROM {table}" in sql and (sql, params) not in queries
    ]
    assert queries, sent
    conn = await db.connection()
    plans = []
    for sql, params in queries:
        result = await conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + sql, params)
        document = result.scalar_one()
        plan = (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]
        plans.append(_plan_nodes(plan))
    return plans


INDEX_SCANS = {"Index Scan", "Index Only Scan", "Bitmap Index Scan"}


def _uses(plan: list[tuple[str, str | None]], index: str) -> bool:
    return any(node in INDEX_SCANS and name == index for node, name in plan)


async def _many_fairs(db: AsyncSession) -> None:
    """10,000 fairs over 100 years (1950-2049), 100 a year; analysed."""
    await db.execute(
        text(
            "INSERT INTO trade_fair (name, kind, start_on, end_on)"
            " SELECT 'Hội chợ ' || g, 'attended', d, d"
            " FROM generate_series(1, 10000) g, make_date(1950 + g % 100, 1 + g % 12, 1 + g % 28) d"
        )
    )
    await db.execute(text("ANALYZE trade_fair"))


async def test_filtered_statistics_use_the_indexes(
    client: httpx.AsyncClient, db: AsyncSession, engine: AsyncEngine
) -> None:
    # 100 districts x 100 villages, 100 years x 100 programmes, 100 years x 100 fairs: a filter on
    # one district, one year or one year's dates selects 1 % of a table, where an index wins.
    await db.execute(text("INSERT INTO admin_unit (code, name, level) VALUES ('99', 'Tỉnh', 'province')"))
    await db.execute(
        text(
            "INSERT INTO admin_unit (code, name, level, parent_id)"
            " SELECT lpad(g::text, 3, '0'), 'Huyện ' || g, 'district',"
            " (SELECT id FROM admin_unit WHERE code = '99')"
            " FROM generate_series(1, 100) g"
        )
    )
    await db.execute(
        text(
            "INSERT INTO village (name, district_id, craft_group)"
            " SELECT 'Làng ' || g, d.id, 'salt' FROM generate_series(1, 10000) g"
            " JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM admin_unit"
            "       WHERE level = 'district' AND parent_id = (SELECT id FROM admin_unit WHERE code = '99'))"
            " d ON d.n = g % 100"
        )
    )
    await db.execute(
        text(
            "INSERT INTO programme (name, kind, activity, year)"
            " SELECT 'Đề án ' || g, 'industrial_extension', 'consulting', 1950 + g % 100"
            " FROM generate_series(1, 10000) g"
        )
    )
    await _many_fairs(db)
    for table in ("admin_unit", "village", "programme"):
        await db.execute(text(f"ANALYZE {table}"))
    district_id = (await db.execute(text("SELECT min(id) FROM admin_unit WHERE code = '007'"))).scalar_one()

    village_plans = await _explain_what_a_request_runs(
        client,
        db,
        engine,
        f"{STATS}/villages?group_by=craft_group&year=2015&district_id={district_id}",
        "village",
    )
    assert all(_uses(plan, "ix_village_district_id") for plan in village_plans), village_plans

    programme_plans = await _explain_what_a_request_runs(
        client, db, engine, f"{STATS}/programmes?group_by=kind&year=2015", "programme"
    )
    assert all(_uses(plan, "ix_programme_year") for plan in programme_plans), programme_plans

    fair_plans = await _explain_what_a_request_runs(
        client, db, engine, f"{STATS}/trade-fairs?group_by=kind&year_from=2015&year_to=2015", "trade_fair"
    )
    assert all(_uses(plan, "ix_trade_fair_start_on") for plan in fair_plans), fair_plans


async def test_fairs_of_a_year_use_the_start_on_index(
    client: httpx.AsyncClient, db: AsyncSession, engine: AsyncEngine
) -> None:
    await _many_fairs(db)
    plans = await _explain_what_a_request_runs(
        client, db, engine, f"{STATS}/trade-fairs?group_by=kind&year=2015", "trade_fair"
    )
    assert all(_uses(plan, "ix_trade_fair_start_on") for plan in plans), plans
