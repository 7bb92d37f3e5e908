"""The sample data reproduces the report's 2015 figures, and loading it twice changes nothing.

Every expected number is the report's (the README's figures of 2015) or the figure the sample data states;
the checks are SQL written here, not the application's own statistics.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any, NamedTuple

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app.seed import load_sample_data
from tests.conftest import create_database, drop_database

TABLES = (
    "admin_unit",
    "admin_unit_succession",
    "village",
    "village_figure",
    "cooperative",
    "programme",
    "programme_funding",
    "programme_beneficiary",
    "trade_fair",
    "trade_fair_participant",
)
REAL_VILLAGES = {"Vân Chàng", "La Xuyên", "Cát Đằng", "Tống Xá", "Thạch Cầu", "Kiên Lao"}
RECOGNISED_BY_2015 = """
    status IN ('craft_village', 'traditional_craft_village')
    AND recognised_on <= DATE '2015-12-31' AND revoked_on IS NULL
"""
ACTIVE_IN_2015 = """
    founded_on <= DATE '2015-12-31' AND (dissolved_on IS NULL OR dissolved_on >= DATE '2015-01-01')
"""
PUBLIC_SOURCES = "('central', 'provincial', 'district', 'commune')"


class Seeded(NamedTuple):
    url: str
    report: str


@pytest.fixture(scope="module")
def seeded(server_url: str, gazetteer_url: str) -> Iterator[Seeded]:
    """A database of its own holding the gazetteer, loaded once, so the shared test database stays empty."""
    url = create_database(server_url, prefix="cv_seed", template=gazetteer_url)
    try:
        # Loading an empty database must go ahead even when asked to load only if empty.
        report = asyncio.run(load_sample_data(url, only_if_empty=True))
        yield Seeded(url, report)
    finally:
        drop_database(server_url, url)


async def rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    """The rows of hand-written SQL, whose column types only the statement knows."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            return [tuple(row) for row in await conn.execute(text(sql))]
    finally:
        await engine.dispose()


async def integer(url: str, sql: str) -> int:
    """A single integer; bool, float and Decimal are refused, so money stays whole đồng."""
    ((result,),) = await rows(url, sql)
    assert type(result) is int, (sql, type(result))
    return result


async def snapshot(url: str) -> dict[str, tuple[object, ...]]:
    """Per table: count, highest id, sum of versions, last update, and a digest of every row."""
    taken: dict[str, tuple[object, ...]] = {}
    for table in TABLES:
        # A succession is a plain link: no version, no timestamps.
        bookkeeping = (
            "0::bigint, NULL" if table == "admin_unit_succession" else "sum(version)::bigint, max(updated_at)"
        )
        (row,) = await rows(
            url,
            f"SELECT count(*), max(id), {bookkeeping},"
            f" md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) FROM {table} t",
        )
        taken[table] = row
    return taken


def test_first_load_reports_what_it_added(seeded: Seeded) -> None:
    places, sample = seeded.report.splitlines()
    assert places.startswith("places: 0 units added, 0 changed, 14185 kept; ")
    assert sample.startswith("sample data: ")
    assert sample.endswith(" records added, 0 already present")


async def test_nam_dinh_and_its_ten_districts(seeded: Seeded) -> None:
    url = seeded.url
    nam_dinh = await integer(
        url,
        "SELECT count(*) FROM admin_unit WHERE (code = '36' AND level = 'province' AND valid_from IS NULL)"
        " OR parent_id = (SELECT id FROM admin_unit WHERE code = '36' AND valid_from IS NULL)",
    )
    assert nam_dinh == 11
    districts = await rows(
        url,
        "SELECT d.code, d.name FROM admin_unit d JOIN admin_unit p ON p.id = d.parent_id"
        " WHERE p.code = '36' AND d.level = 'district' AND d.valid_to <= DATE '2025-06-30'"
        " AND (d.valid_from IS NULL OR d.valid_from <= DATE '2015-12-31') ORDER BY d.code",
    )
    # The gazetteer's: Mỹ Lộc until 2024-08-31, the others until 2025-06-30.
    assert [(code, name) for code, name in districts] == [
        ("356", "Nam Định"),
        ("358", "Mỹ Lộc"),
        ("359", "Vụ Bản"),
        ("360", "Ý Yên"),
        ("361", "Nghĩa Hưng"),
        ("362", "Nam Trực"),
        ("363", "Trực Ninh"),
        ("364", "Xuân Trường"),
        ("365", "Giao Thủy"),
        ("366", "Hải Hậu"),
    ]
    merged = await rows(
        url,
        "SELECT level, valid_from::text, valid_to::text FROM admin_unit WHERE code = '37' ORDER BY valid_to",
    )
    assert merged == [("province", None, "2025-06-30"), ("province", "2025-07-01", None)]


async def test_villages_by_group_and_recognition(seeded: Seeded) -> None:
    url = seeded.url
    assert await integer(url, "SELECT count(*) FROM village") == 98
    assert await integer(url, "SELECT count(*) FROM village WHERE established_year > 2015") == 0
    groups = await rows(url, "SELECT craft_group, count(*) FROM village GROUP BY craft_group")
    assert {g: n for g, n in groups} == {"agro_processing": 11, "manufacturing": 51, "handicraft": 36}
    assert await integer(url, f"SELECT count(*) FROM village WHERE {RECOGNISED_BY_2015}") == 51
    assert await integer(url, "SELECT count(*) FROM village WHERE status = 'unrecognised'") == 47
    # Every village is in one of Nam Định's districts, and no name repeats within a district.
    assert (
        await integer(
            url,
            "SELECT count(DISTINCT (v.name, v.district_id)) FROM village v"
            " JOIN admin_unit d ON d.id = v.district_id JOIN admin_unit p ON p.id = d.parent_id"
            " WHERE p.code = '36'",
        )
        == 98
    )


async def test_only_invented_villages_are_illustrative(seeded: Seeded) -> None:
    url = seeded.url
    real = await rows(url, "SELECT name FROM village WHERE NOT is_illustrative")
    assert {name for (name,) in real} == REAL_VILLAGES
    assert await integer(url, "SELECT count(*) FROM village WHERE is_illustrative") == 92
    assert await integer(url, "SELECT count(*) FROM village WHERE name <> normalize(name, NFC)") == 0


async def test_village_figures_2015(seeded: Seeded) -> None:
    url = seeded.url
    value_2015 = await integer(
        url, "SELECT sum(production_value_vnd)::bigint FROM village_figure WHERE year = 2015"
    )
    assert value_2015 == 4_100_000_000_000
    workers_2015 = await integer(url, "SELECT sum(workers)::bigint FROM village_figure WHERE year = 2015")
    assert workers_2015 >= 44_000
    assert workers_2015 == 44_350
    assert (
        await integer(
            url,
            "SELECT count(*) FROM village_figure f JOIN village v ON v.id = f.village_id"
            " WHERE f.households > v.households_total OR f.qualifier <> 'exact'",
        )
        == 0
    )


async def test_every_village_has_five_years_that_differ(seeded: Seeded) -> None:
    url = seeded.url
    per_village = await rows(
        url,
        "SELECT count(*) FROM village v LEFT JOIN village_figure f ON f.village_id = v.id"
        " AND f.year BETWEEN 2013 AND 2017 GROUP BY v.id",
    )
    assert {n for (n,) in per_village} == {5}
    totals = await rows(
        url,
        "SELECT year, sum(production_value_vnd)::bigint, sum(workers)::bigint FROM village_figure"
        " GROUP BY year ORDER BY year",
    )
    values = [v for _, v, _ in totals]
    workers = [w for _, _, w in totals]
    assert [y for y, _, _ in totals] == [2013, 2014, 2015, 2016, 2017]
    assert values == sorted(values) and len(set(values)) == 5
    assert workers == sorted(workers) and len(set(workers)) == 5


async def test_cooperatives_active_in_2015(seeded: Seeded) -> None:
    url = seeded.url
    assert await integer(url, f"SELECT count(*) FROM cooperative WHERE {ACTIVE_IN_2015}") == 32
    sectors = await rows(
        url, f"SELECT sector, count(*) FROM cooperative WHERE {ACTIVE_IN_2015} GROUP BY sector"
    )
    by_sector = {s: n for s, n in sectors}
    assert by_sector["textile_garment"] == 20
    assert by_sector["mechanical"] == 4
    assert sum(n for s, n in by_sector.items() if s not in {"textile_garment", "mechanical"}) == 8
    assert set(by_sector) - {"textile_garment", "mechanical"} <= {
        "wood_processing",
        "chemicals",
        "clean_water",
        "sedge",
        "agro_processing",
    }
    assert (
        await integer(
            url,
            "SELECT count(*) FROM cooperative WHERE members < 7 OR legal_form <> 'cooperative'"
            " OR registration_code !~ '^06[0-9]{8}$'",
        )
        == 0
    )


async def test_extension_programmes_2015(seeded: Seeded) -> None:
    url = seeded.url
    scope = "p.year = 2015 AND p.kind = 'industrial_extension'"
    assert await integer(url, f"SELECT count(*) FROM programme p WHERE {scope}") == 20
    public = await integer(
        url,
        "SELECT coalesce(sum(f.amount_vnd), 0)::bigint FROM programme_funding f"
        f" JOIN programme p ON p.id = f.programme_id WHERE {scope} AND f.source IN {PUBLIC_SOURCES}",
    )
    assert public == 4_340_000_000
    counterpart = await integer(
        url,
        "SELECT coalesce(sum(f.amount_vnd), 0)::bigint FROM programme_funding f"
        f" JOIN programme p ON p.id = f.programme_id WHERE {scope} AND f.source = 'counterpart'",
    )
    assert counterpart == 0


async def test_trade_promotion_programmes_2015(seeded: Seeded) -> None:
    url = seeded.url
    scope = "p.year = 2015 AND p.kind = 'trade_promotion'"
    activities = await rows(
        url, f"SELECT activity, count(*) FROM programme p WHERE {scope} GROUP BY activity"
    )
    by_activity = {a: n for a, n in activities}
    assert sum(by_activity.values()) == 11
    assert by_activity["fair_participation"] == 8
    assert by_activity["fair_hosting"] == 1
    assert by_activity["trade_conference"] == 1
    public = await integer(
        url,
        "SELECT coalesce(sum(f.amount_vnd), 0)::bigint FROM programme_funding f"
        f" JOIN programme p ON p.id = f.programme_id WHERE {scope} AND f.source IN {PUBLIC_SOURCES}",
    )
    assert public == 821_500_000


async def test_fairs_2015(seeded: Seeded) -> None:
    url = seeded.url
    in_2015 = "extract(year FROM start_on) = 2015"
    kinds = await rows(url, f"SELECT kind, count(*) FROM trade_fair WHERE {in_2015} GROUP BY kind")
    assert {k: n for k, n in kinds} == {"attended": 8, "hosted": 1, "trade_conference": 1}
    hosted = await rows(
        url, f"SELECT standard_booths, city FROM trade_fair WHERE {in_2015} AND kind = 'hosted'"
    )
    assert hosted == [(320, "Nam Định")]
    conference = await rows(
        url, f"SELECT city, country FROM trade_fair WHERE {in_2015} AND kind = 'trade_conference'"
    )
    assert conference == [("Lào Cai", "VN")]
    # Each 2015 fair was paid for by one of 2015's trade-promotion programmes.
    unpaid = await integer(
        url,
        "SELECT count(*) FROM trade_fair t LEFT JOIN programme p ON p.id = t.programme_id"
        " AND p.year = 2015 AND p.kind = 'trade_promotion'"
        " WHERE extract(year FROM t.start_on) = 2015 AND p.id IS NULL",
    )
    assert unpaid == 0
    assert await integer(url, "SELECT count(*) FROM trade_fair WHERE end_on < start_on") == 0


async def test_loading_twice_changes_nothing(seeded: Seeded) -> None:
    before = await snapshot(seeded.url)
    report = await load_sample_data(seeded.url, only_if_empty=False)
    places, sample = report.splitlines()
    assert places.startswith("places: 0 units added, 0 changed, ")
    assert sample.startswith("sample data: 0 records added, ")
    assert await snapshot(seeded.url) == before


async def test_only_if_empty_leaves_a_loaded_database_alone(seeded: Seeded) -> None:
    before = await snapshot(seeded.url)
    report = await load_sample_data(seeded.url, only_if_empty=True)
    assert "not loaded" in report
    assert await snapshot(seeded.url) == before
