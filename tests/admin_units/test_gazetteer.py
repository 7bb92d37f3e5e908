"""The national gazetteer: what `places load` stores, resolving a code on a day, successions,
search by old and new names, and who may write.

The gazetteer is loaded once per run (conftest `gazetteer_url`); this module reads a copy of it.
Expected numbers come from the CSV files (counted here) and from the official facts in
app/admin_units/gazetteer/SOURCES.md, never from the loader.
"""

from __future__ import annotations

import asyncio
import csv
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.__main__ import migrate
from app.admin_units.gazetteer import load_places
from app.auth.service import create_key
from app.models import Role
from tests.conftest import create_database, drop_database, plain_url
from tests.factories import API, JSON, assert_problem, district, province, village
from tests.stats.helpers import app_client

UNITS = f"{API}/admin-units"
DATA = Path(__file__).resolve().parents[2] / "app" / "admin_units" / "gazetteer"
TABLES = ("admin_unit", "admin_unit_succession")


def rows_of(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
async def places(gazetteer_copy: str) -> AsyncIterator[httpx.AsyncClient]:
    """An administrator's client of an application on the gazetteer's copy."""
    async with app_client(gazetteer_copy) as (_, client):
        yield client


async def query(url: str, sql: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(plain_url(url))
    try:
        found: list[asyncpg.Record] = await conn.fetch(sql, *args)
        return found
    finally:
        await conn.close()


async def checksum(url: str) -> dict[str, tuple[Any, ...]]:
    """Per table: rows, highest id and a digest of every row."""
    taken = {}
    for table in TABLES:
        (row,) = await query(
            url, f"SELECT count(*), max(id), md5(string_agg(t::text, '|' ORDER BY t.id)) FROM {table} t"
        )
        taken[table] = tuple(row)
    return taken


async def resolve(client: httpx.AsyncClient, code: str, on: str, **extra: str) -> httpx.Response:
    return await client.get(f"{UNITS}/resolve", params={"code": code, "on": on, **extra})


async def test_counts_per_level_and_period(gazetteer_copy: str) -> None:
    counted = await query(
        gazetteer_copy,
        """
        SELECT d.day::text, l.level,
               (SELECT count(*) FROM admin_unit u WHERE u.level = l.level
                  AND (u.valid_from IS NULL OR u.valid_from <= d.day)
                  AND (u.valid_to IS NULL OR u.valid_to >= d.day)) AS n
        FROM (VALUES (DATE '2025-06-30'), (DATE '2025-07-01')) d(day),
             (VALUES ('province'), ('district'), ('commune')) l(level)
        """,
    )
    found = {(r["day"], r["level"]): r["n"] for r in counted}
    # 698 district rows list 794 Tân An and 900 Hà Tiên twice each: 696 districts.
    assert len(rows_of("districts-legacy.csv")) == 698
    assert found == {
        ("2025-06-30", "province"): 63,
        ("2025-06-30", "district"): 696,
        ("2025-06-30", "commune"): 10_033,
        ("2025-07-01", "province"): 34,
        ("2025-07-01", "district"): 0,
        ("2025-07-01", "commune"): 3_321,
    }
    # Before 2024-09-01 Nam Định had ten districts, Mỹ Lộc among them.
    (ten,) = await query(
        gazetteer_copy,
        "SELECT count(*) FROM admin_unit d JOIN admin_unit p ON p.id = d.parent_id"
        " WHERE p.code = '36' AND d.level = 'district' AND (d.valid_to >= DATE '2024-08-31')"
        " AND (d.valid_from IS NULL OR d.valid_from <= DATE '2024-08-31')",
    )
    assert ten[0] == 10
    # Every unit but a province has a parent of the level above, valid on the unit's last day.
    (orphans,) = await query(
        gazetteer_copy,
        """
        SELECT count(*) FROM admin_unit u LEFT JOIN admin_unit p ON p.id = u.parent_id
        WHERE u.level <> 'province' AND (p.id IS NULL
           OR p.level <> CASE WHEN u.level = 'district' OR u.valid_from >= DATE '2025-07-01'
                              THEN 'province' ELSE 'district' END
           OR NOT daterange(p.valid_from, p.valid_to, '[]') @> coalesce(u.valid_to, u.valid_from))
        """,
    )
    assert orphans[0] == 0


async def test_every_row_of_the_conversion_table_is_a_succession(gazetteer_copy: str) -> None:
    table = rows_of("conversion-2025.csv")
    expected = {(r["oldWardCode"] or r["oldDistrictCode"], r["newWardCode"], r["note"]) for r in table}
    assert len(expected) == len(table) == 10_571
    stored = await query(
        gazetteer_copy,
        """
        SELECT o.code AS old, n.code AS new, s.note FROM admin_unit_succession s
        JOIN admin_unit o ON o.id = s.predecessor_id JOIN admin_unit n ON n.id = s.successor_id
        WHERE s.effective_on = DATE '2025-07-01' AND n.level = 'commune'
          AND o.valid_to = DATE '2025-06-30' AND n.valid_from = DATE '2025-07-01'
        """,
    )
    assert {(r["old"], r["new"], r["note"]) for r in stored} == expected
    assert len(stored) == 10_571
    kinds = await query(
        gazetteer_copy,
        "SELECT kind, count(*) AS n FROM admin_unit_succession s JOIN admin_unit n ON n.id = s.successor_id"
        " WHERE n.level = 'commune' AND s.effective_on = DATE '2025-07-01' GROUP BY kind",
    )
    notes = [r["note"] for r in table]
    part = sum("một phần" in n.lower() or n.startswith("Phần còn lại") for n in notes)
    unchanged = sum(n.startswith("Giữ nguyên") for n in notes)
    renamed = sum(n.startswith("Đổi") and "một phần" not in n for n in notes)
    assert {r["kind"]: r["n"] for r in kinds} == {
        "part": part,
        "unchanged": unchanged,
        "renamed": renamed,
        "whole": len(notes) - part - unchanged - renamed,
    }


@pytest.mark.parametrize(
    ("code", "on", "name_with_type", "valid_from", "valid_to"),
    [
        ("13777", "2015-06-01", "Xã Thành Lợi", None, "2025-06-30"),
        ("13777", "2025-06-30", "Xã Thành Lợi", None, "2025-06-30"),
        ("13777", "2025-07-01", "Phường Trường Thi", "2025-07-01", None),
        ("358", "2015-06-01", "Huyện Mỹ Lộc", None, "2024-08-31"),
        ("358", "2024-08-31", "Huyện Mỹ Lộc", None, "2024-08-31"),
        ("356", "2024-09-01", "Thành phố Nam Định", None, "2025-06-30"),
        ("13708", "2024-08-31", "Thị trấn Mỹ Lộc", None, "2024-08-31"),
        ("13708", "2024-09-01", "Phường Hưng Lộc", "2024-09-01", "2025-06-30"),
        ("13708", "2025-07-01", "Phường Mỹ Lộc", "2025-07-01", None),
        ("36", "2025-06-30", "Tỉnh Nam Định", None, "2025-06-30"),
        ("37", "2025-06-30", "Tỉnh Ninh Bình", None, "2025-06-30"),
        ("37", "2025-07-01", "Tỉnh Ninh Bình", "2025-07-01", None),
    ],
)
async def test_resolve_a_code_on_a_day(
    places: httpx.AsyncClient,
    code: str,
    on: str,
    name_with_type: str,
    valid_from: str | None,
    valid_to: str | None,
) -> None:
    response = await resolve(places, code, on)
    assert response.status_code == 200, response.text
    unit = response.json()
    assert (unit["code"], unit["name_with_type"]) == (code, name_with_type)
    assert (unit["valid_from"], unit["valid_to"]) == (valid_from, valid_to)
    assert unit["level"] == {2: "province", 3: "district", 5: "commune"}[len(code)]
    assert response.headers["etag"] == f'"{unit["version"]}"'


@pytest.mark.parametrize(
    ("code", "on"), [("358", "2024-09-01"), ("36", "2025-07-01"), ("99999", "2015-01-01")]
)
async def test_resolve_finds_nothing_when_the_code_named_nothing_that_day(
    places: httpx.AsyncClient, code: str, on: str
) -> None:
    problem = assert_problem(await resolve(places, code, on), 404)
    assert code in problem["detail"] and on in problem["detail"]


@pytest.mark.parametrize(
    "params",
    [
        {"code": "abc", "on": "2015-01-01"},
        {"code": "1234", "on": "2015-01-01"},  # four digits: no level
        {"code": "13777", "on": "2015-13-01"},
        {"code": "13777", "on": "01/06/2015"},
        {"code": "13777"},
        {"on": "2015-01-01"},
        {"code": "13777", "on": "2015-01-01", "level": "hamlet"},
    ],
)
async def test_resolve_refuses_malformed_questions(places: httpx.AsyncClient, params: dict[str, str]) -> None:
    assert_problem(await places.get(f"{UNITS}/resolve", params=params), 422)


async def test_resolve_with_a_level_given(places: httpx.AsyncClient) -> None:
    response = await resolve(places, "13777", "2015-06-01", level="commune")
    assert response.json()["name"] == "Thành Lợi"
    assert_problem(await resolve(places, "13777", "2015-06-01", level="district"), 404)


async def unit_id(client: httpx.AsyncClient, code: str, on: str) -> int:
    response = await resolve(client, code, on)
    assert response.status_code == 200, response.text
    return int(response.json()["id"])


async def links(client: httpx.AsyncClient, unit: int, direction: str) -> list[JSON]:
    response = await client.get(f"{UNITS}/{unit}/{direction}")
    assert response.status_code == 200, response.text
    body: list[JSON] = response.json()
    return body


async def test_a_new_ward_and_the_old_communes_it_came_from(places: httpx.AsyncClient) -> None:
    truong_thi = await unit_id(places, "13777", "2025-07-01")
    before = await links(places, truong_thi, "predecessors")
    assert sorted((p["unit"]["code"], p["unit"]["name_with_type"]) for p in before) == [
        ("13657", "Phường Trường Thi"),
        ("13777", "Xã Thành Lợi"),
    ]
    assert {(p["effective_on"], p["kind"], p["note"]) for p in before} == {
        ("2025-07-01", "whole", "Nhập toàn bộ")
    }
    assert {p["unit"]["valid_to"] for p in before} == {"2025-06-30"}
    thanh_loi = await unit_id(places, "13777", "2015-06-01")
    after = await links(places, thanh_loi, "successors")
    assert [(s["unit"]["id"], s["kind"]) for s in after] == [(truong_thi, "whole")]


async def test_the_new_ninh_binh_province_and_its_three_predecessors(places: httpx.AsyncClient) -> None:
    ninh_binh = await unit_id(places, "37", "2025-07-01")
    before = await links(places, ninh_binh, "predecessors")
    assert [(p["unit"]["code"], p["unit"]["valid_to"], p["kind"]) for p in before] == [
        ("35", "2025-06-30", "whole"),
        ("36", "2025-06-30", "whole"),
        ("37", "2025-06-30", "whole"),
    ]
    nam_dinh = await unit_id(places, "36", "2015-06-01")
    assert [s["unit"]["id"] for s in await links(places, nam_dinh, "successors")] == [ninh_binh]
    # A province none merged with, whose code went on: unchanged.
    ha_noi = await unit_id(places, "01", "2015-06-01")
    assert [(s["unit"]["code"], s["kind"]) for s in await links(places, ha_noi, "successors")] == [
        ("01", "unchanged")
    ]


async def test_my_loc_before_2025(places: httpx.AsyncClient) -> None:
    my_loc = await unit_id(places, "358", "2015-06-01")
    (step,) = await links(places, my_loc, "successors")
    assert (step["unit"]["code"], step["unit"]["level"], step["effective_on"], step["kind"]) == (
        "356",
        "district",
        "2024-09-01",
        "whole",
    )
    township = await unit_id(places, "13708", "2015-06-01")
    (renamed,) = await links(places, township, "successors")
    assert (renamed["unit"]["name_with_type"], renamed["kind"]) == ("Phường Hưng Lộc", "renamed")
    city = await unit_id(places, "356", "2015-06-01")
    assert my_loc in [p["unit"]["id"] for p in await links(places, city, "predecessors")]


async def test_links_of_a_unit_that_does_not_exist_are_404(places: httpx.AsyncClient) -> None:
    for direction in ("predecessors", "successors"):
        assert_problem(await places.get(f"{UNITS}/999999999/{direction}"), 404)
        assert_problem(await places.get(f"{UNITS}/abc/{direction}"), 422)


async def search(client: httpx.AsyncClient, **params: str) -> list[JSON]:
    response = await client.get(UNITS, params={"limit": "100", **params})
    assert response.status_code == 200, response.text
    items: list[JSON] = response.json()["items"]
    return items


async def test_search_finds_old_and_new_names(places: httpx.AsyncClient) -> None:
    found = {(u["level"], u["code"], u["type"], u["valid_to"]) for u in await search(places, q="Mỹ Lộc")}
    assert ("district", "358", "district", "2024-08-31") in found  # the old district
    assert ("commune", "13708", "township", "2024-08-31") in found  # the old township
    assert ("commune", "13708", "ward", None) in found  # the new ward
    # Former names: Trúc Bạch ward took in Nguyễn Trung Trực ward before 2025.
    (truc_bach,) = await search(places, q="nguyen trung truc", on="2025-06-30")
    assert (truc_bach["code"], truc_bach["former_names"]) == ("00004", ["Nguyễn Trung Trực"])
    # The name with its type finds a unit too, and `on` keeps only that day's.
    wards = await search(places, q="Phường Trường Thi", on="2025-07-01")
    assert "13777" in {w["code"] for w in wards}
    assert {w["valid_from"] for w in wards} == {"2025-07-01"}


async def test_filters_by_day_and_type(places: httpx.AsyncClient) -> None:
    zones = await places.get(UNITS, params={"type": "special_zone", "on": "2025-07-01", "limit": "1"})
    assert zones.json()["total"] == 13
    none = await places.get(UNITS, params={"level": "district", "on": "2025-07-01"})
    assert none.json()["total"] == 0
    townships = await places.get(UNITS, params={"type": "township", "on": "2025-06-30", "limit": "1"})
    assert townships.json()["total"] == sum(r["type"] == "town" for r in rows_of("communes-legacy.csv"))
    assert_problem(await places.get(UNITS, params={"type": "village"}), 422)
    assert_problem(await places.get(UNITS, params={"on": "2025-02-30"}), 422)


async def test_two_periods_of_one_code_never_overlap(places: httpx.AsyncClient) -> None:
    province = await places.get(UNITS, params={"level": "province", "code": "37", "on": "2025-07-01"})
    body = {
        "code": "13777",
        "name": "Thử",
        "level": "commune",
        "parent_id": province.json()["items"][0]["id"],
        "valid_from": "2020-01-01",
        "valid_to": "2025-12-31",
    }
    problem = assert_problem(await places.post(UNITS, json=body), 409)
    assert problem["constraint"] == "ex_admin_unit_period_overlap"
    assert "for part of the period" in problem["detail"]
    # A type of another level is refused before the database is asked.
    assert_problem(await places.post(UNITS, json={**body, "code": "99998", "type": "urban_district"}), 422)


async def test_loading_twice_changes_nothing(gazetteer_copy: str) -> None:
    before = await checksum(gazetteer_copy)
    report = await load_places(gazetteer_copy)
    assert (
        report.units_added,
        report.units_changed,
        report.successions_added,
        report.successions_changed,
    ) == (
        0,
        0,
        0,
        0,
    )
    assert report.units_kept == before["admin_unit"][0]
    assert report.successions_kept == before["admin_unit_succession"][0]
    assert await checksum(gazetteer_copy) == before


def test_loading_keeps_the_records_already_there(server_url: str) -> None:
    """A database from before the gazetteer: its units are adopted, their ids and referrers kept."""
    url = create_database(server_url, prefix="cv_places_adopt")

    async def before() -> tuple[int, int]:
        conn = await asyncpg.connect(plain_url(url))
        try:
            nam_dinh = await conn.fetchval(
                "INSERT INTO admin_unit (code, name, level, valid_to) VALUES ('36', 'Nam Định', 'province',"
                " '2025-06-30') RETURNING id"
            )
            my_loc = await conn.fetchval(
                "INSERT INTO admin_unit (code, name, level, parent_id, valid_to)"
                " VALUES ('358', 'Mỹ Lộc', 'district', $1, '2025-06-30') RETURNING id",
                nam_dinh,
            )
            await conn.execute(
                "INSERT INTO village (name, district_id, craft_group) VALUES ('Làng thử', $1, 'handicraft')",
                my_loc,
            )
            return nam_dinh, my_loc
        finally:
            await conn.close()

    try:
        migrate(url)
        nam_dinh, my_loc = asyncio.run(before())
        report = asyncio.run(load_places(url))
        assert (report.units_changed, report.units_kept) == (2, 0)
        (row,) = asyncio.run(
            query(
                url,
                "SELECT name_with_type, valid_to::text, parent_id, type FROM admin_unit WHERE id = $1",
                my_loc,
            )
        )
        # The official end of Mỹ Lộc district replaces the one typed by hand.
        assert tuple(row) == ("Huyện Mỹ Lộc", "2024-08-31", nam_dinh, "district")
        (kept,) = asyncio.run(query(url, "SELECT district_id FROM village"))
        assert kept[0] == my_loc
    finally:
        drop_database(server_url, url)


async def test_an_editor_cannot_write_admin_units_an_administrator_can(
    client: httpx.AsyncClient, db: AsyncSession, engine: AsyncEngine
) -> None:
    nam_dinh = await province(client)  # the client is an administrator's
    nam_truc = await district(client, nam_dinh["id"])
    await village(client, nam_truc["id"])
    _, secret = await create_key(db, "biên tập", Role.editor, "test")
    await db.commit()
    async with httpx.AsyncClient(
        transport=client._transport, base_url="http://testserver", headers={"X-API-Key": secret}
    ) as editor:
        body = {"code": "35", "name": "Hà Nam", "level": "province"}
        refused = assert_problem(await editor.post(UNITS, json=body), 403)
        assert "admin" in refused["detail"]
        assert_problem(
            await editor.patch(f"{UNITS}/{nam_dinh['id']}", json={"name": "X"}, headers={"If-Match": '"1"'}),
            403,
        )
        assert_problem(await editor.delete(f"{UNITS}/{nam_truc['id']}", headers={"If-Match": '"1"'}), 403)
        # Reading stays public, and the editor still writes villages.
        assert (await editor.get(f"{UNITS}/{nam_dinh['id']}")).status_code == 200
        made = await editor.post(
            f"{API}/villages",
            json={"name": "Làng mới", "district_id": nam_truc["id"], "craft_group": "handicraft"},
        )
        assert made.status_code == 201, made.text
    assert (await client.post(UNITS, json=body)).status_code == 201


async def test_resolve_answers_only_reads(places: httpx.AsyncClient) -> None:
    """Writes to /resolve are 405, not a 422 from /{record_id} reading "resolve" as an id."""
    for method in ("PATCH", "DELETE", "POST", "PUT"):
        response = await places.request(
            method, f"{UNITS}/resolve", params={"code": "13777", "on": "2015-06-01"}
        )
        refused = assert_problem(response, 405)
        assert response.headers["allow"] == "GET, HEAD" and method in refused["detail"]
    options = await places.options(f"{UNITS}/resolve")  # the generic 405 names the same methods
    assert assert_problem(options, 405) and options.headers["allow"] == "GET, HEAD"


async def test_every_loaded_unit_has_the_shape_of_its_level(gazetteer_copy: str) -> None:
    """The national lists fit the rules the API and the CHECK constraints ck_admin_unit_code_fits_level
    and ck_admin_unit_parent_given (migration 0012) hold every unit to: the code has 2, 3 or 5
    digits by level, and a district or a commune has a parent (a province none)."""
    conn = await asyncpg.connect(plain_url(gazetteer_copy))
    try:
        rows = await conn.fetch(
            "SELECT level, length(code) AS digits, code ~ '^[0-9]+$' AS numeric,"
            " parent_id IS NOT NULL AS parented, count(*) AS n FROM admin_unit GROUP BY 1, 2, 3, 4 ORDER BY 1"
        )
    finally:
        await conn.close()
    assert [tuple(row)[:4] for row in rows] == [
        ("commune", 5, True, True),
        ("district", 3, True, True),
        ("province", 2, True, False),
    ]
    assert sum(row["n"] for row in rows) == 14185
