"""Mỹ Lộc district (358), merged whole into Nam Định city (356) on 2024-09-01, and its communes:
each a unit until 2024-08-31 under 358 and another from 2024-09-01 under 356, then the 2025
reform. Resolving around both changes, following successions across them, searching by the old
names, and a database loaded before these rows brought up to date by loading again.

Expected facts come from changes-before-2025.csv and the official lists (SOURCES.md), counted
here, never from the loader.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

import app.admin_units.gazetteer as gazetteer
from app.__main__ import migrate
from app.admin_units.gazetteer import load_places
from tests.admin_units.test_gazetteer import links, query, resolve, rows_of, search, unit_id
from tests.conftest import create_database, drop_database
from tests.stats.helpers import app_client

CHANGES = "changes-before-2025.csv"
# The eleven communes of Mỹ Lộc in 2015 (SOURCES.md): the township and ten communes.
MY_LOC_2015 = {
    "13708": "Thị trấn Mỹ Lộc",
    "13711": "Xã Mỹ Hà",
    "13714": "Xã Mỹ Tiến",
    "13717": "Xã Mỹ Thắng",
    "13720": "Xã Mỹ Trung",
    "13723": "Xã Mỹ Tân",
    "13726": "Xã Mỹ Phúc",
    "13729": "Xã Mỹ Hưng",
    "13732": "Xã Mỹ Thuận",
    "13735": "Xã Mỹ Thịnh",
    "13738": "Xã Mỹ Thành",
}


def commune_changes() -> list[dict[str, str]]:
    return [r for r in rows_of(CHANGES) if r["level"] == "commune"]


def my_loc_changes() -> list[dict[str, str]]:
    return [r for r in commune_changes() if r["parentCode"] == "358"]


@pytest.fixture(scope="module")
async def places(gazetteer_copy: str) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(gazetteer_copy) as (_, client):
        yield client


def test_the_file_has_a_row_for_each_commune_of_my_loc() -> None:
    rows = my_loc_changes()
    assert {r["code"]: r["nameWithType"] for r in rows} == MY_LOC_2015
    assert {(r["effectiveOn"], r["parentCode"]) for r in rows} == {("2024-09-01", "358")}
    # Every successor is a commune of Nam Định city in the list of 2025-06-30.
    city = {r["code"]: r for r in rows_of("communes-legacy.csv") if r["districtCode"] == "356"}
    assert {r["successorCode"] for r in rows} <= city.keys()
    # Same code, name and type on both sides: unchanged; same code, another name or type: renamed.
    for r in rows:
        after = city[r["successorCode"]]
        if r["successorCode"] != r["code"]:
            assert r["kind"] == "whole"
        elif after["nameWithType"] == r["nameWithType"]:
            assert r["kind"] == "unchanged"
        else:
            assert r["kind"] == "renamed"


async def test_counts_around_the_change(gazetteer_copy: str) -> None:
    rows = commune_changes()
    listed = len(rows_of("communes-legacy.csv"))
    legacy = {r["code"] for r in rows_of("communes-legacy.csv")}
    # The codes that go on in the list of 2025-06-30, as a successor or as a unit the row does not name.
    starting = sum(r["code"] in legacy for r in rows)
    counted = await query(
        gazetteer_copy,
        """
        SELECT d.day::text, l.level,
               (SELECT count(*) FROM admin_unit u WHERE u.level = l.level
                  AND (u.valid_from IS NULL OR u.valid_from <= d.day)
                  AND (u.valid_to IS NULL OR u.valid_to >= d.day)) AS n
        FROM (VALUES (DATE '2024-08-31'), (DATE '2024-09-01')) d(day),
             (VALUES ('district'), ('commune')) l(level)
        """,
    )
    assert {(r["day"], r["level"]): r["n"] for r in counted} == {
        ("2024-08-31", "district"): 697,
        ("2024-08-31", "commune"): listed - starting + len(rows),
        ("2024-09-01", "district"): 696,
        ("2024-09-01", "commune"): listed,
    }
    assert (starting, len(rows)) == (8 + 3 + 3, 11 + 9 + 17)  # Mỹ Lộc; 1104 sourced; ended
    # Under Mỹ Lộc on its last day: its eleven communes; under the city the day after: 21 units
    # (on its last day, also Xã Lộc An, ended without a recorded successor).
    under = await query(
        gazetteer_copy,
        """
        SELECT p.code, d.day::text, count(*) AS n FROM admin_unit u
        JOIN admin_unit p ON p.id = u.parent_id
        CROSS JOIN (VALUES (DATE '2024-08-31'), (DATE '2024-09-01')) d(day)
        WHERE u.level = 'commune' AND p.code IN ('356', '358')
          AND (u.valid_from IS NULL OR u.valid_from <= d.day) AND (u.valid_to IS NULL OR u.valid_to >= d.day)
        GROUP BY 1, 2
        """,
    )
    city_now = sum(r["districtCode"] == "356" for r in rows_of("communes-legacy.csv"))
    assert {(r["code"], r["day"]): r["n"] for r in under} == {
        ("358", "2024-08-31"): 11,
        ("356", "2024-08-31"): city_now - 8 + 1,
        ("356", "2024-09-01"): city_now,
    }
    assert city_now == 21  # 14 wards and 7 communes (the resolution)


async def test_every_change_before_2025_with_a_successor_is_a_succession(gazetteer_copy: str) -> None:
    rows = [r for r in rows_of(CHANGES) if r["successorCode"]]
    assert len(rows_of(CHANGES)) - len(rows) == 17  # ended, successor not recorded: no link
    expected = set()
    for r in rows:
        on = date.fromisoformat(r["effectiveOn"])
        expected.add(
            (
                r["level"],
                r["code"],
                on - timedelta(days=1),
                r["successorCode"],
                on,
                r["kind"],
                r["note"] or None,
            )
        )
    stored = await query(
        gazetteer_copy,
        """
        SELECT o.level, o.code, o.valid_to, n.code AS new, s.effective_on, s.kind, s.note
        FROM admin_unit_succession s
        JOIN admin_unit o ON o.id = s.predecessor_id JOIN admin_unit n ON n.id = s.successor_id
        WHERE s.effective_on < DATE '2025-07-01'
        """,
    )
    assert {tuple(r) for r in stored} == expected
    assert len(stored) == len(rows)


@pytest.mark.parametrize("code", sorted(MY_LOC_2015))
async def test_a_commune_of_my_loc_on_its_last_day_and_the_day_after(
    places: httpx.AsyncClient, code: str
) -> None:
    before = (await resolve(places, code, "2015-06-01")).json()
    assert before == (await resolve(places, code, "2024-08-31")).json()
    assert (before["name_with_type"], before["valid_from"], before["valid_to"]) == (
        MY_LOC_2015[code],
        None,
        "2024-08-31",
    )
    assert before["parent"]["code"] == "358"
    (row,) = [r for r in commune_changes() if r["code"] == code]
    after = await resolve(places, code, "2024-09-01")
    if row["successorCode"] != code:  # the code ceased
        assert after.status_code == 404
        return
    assert after.status_code == 200, after.text
    city = after.json()
    assert (city["valid_from"], city["valid_to"], city["parent"]["code"]) == (
        "2024-09-01",
        "2025-06-30",
        "356",
    )
    assert city["id"] != before["id"]
    assert city == (await resolve(places, code, "2025-06-30")).json()


@pytest.mark.parametrize(
    ("code", "on", "name_with_type", "parent"),
    [
        ("13708", "2024-08-31", "Thị trấn Mỹ Lộc", "358"),
        ("13708", "2024-09-01", "Phường Hưng Lộc", "356"),
        ("13708", "2025-06-30", "Phường Hưng Lộc", "356"),
        ("13708", "2025-07-01", "Phường Mỹ Lộc", "37"),
        ("13735", "2024-08-31", "Xã Mỹ Thịnh", "358"),
        ("13735", "2024-09-01", "Xã Mỹ Lộc", "356"),
        ("13777", "2024-09-01", "Xã Thành Lợi", "359"),
        ("13777", "2025-06-30", "Xã Thành Lợi", "359"),
        ("13777", "2025-07-01", "Phường Trường Thi", "37"),
        ("358", "2024-08-31", "Huyện Mỹ Lộc", "36"),
    ],
)
async def test_resolve_around_both_changes(
    places: httpx.AsyncClient, code: str, on: str, name_with_type: str, parent: str
) -> None:
    response = await resolve(places, code, on)
    assert response.status_code == 200, response.text
    assert (response.json()["name_with_type"], response.json()["parent"]["code"]) == (name_with_type, parent)


def steps(found: list[Any]) -> list[tuple[str, str, str | None, str | None, str, str]]:
    return [
        (
            s["unit"]["code"],
            s["unit"]["name_with_type"],
            s["unit"]["valid_from"],
            s["unit"]["valid_to"],
            s["effective_on"],
            s["kind"],
        )
        for s in found
    ]


async def test_successions_across_both_steps(places: httpx.AsyncClient) -> None:
    my_hung = await unit_id(places, "13729", "2015-06-01")
    (first,) = await links(places, my_hung, "successors")
    assert steps([first]) == [("13708", "Phường Hưng Lộc", "2024-09-01", "2025-06-30", "2024-09-01", "whole")]
    hung_loc = first["unit"]["id"]
    assert steps(await links(places, hung_loc, "predecessors")) == [
        ("13708", "Thị trấn Mỹ Lộc", None, "2024-08-31", "2024-09-01", "renamed"),
        ("13729", "Xã Mỹ Hưng", None, "2024-08-31", "2024-09-01", "whole"),
    ]
    (second,) = await links(places, hung_loc, "successors")
    assert steps([second]) == [("13708", "Phường Mỹ Lộc", "2025-07-01", None, "2025-07-01", "whole")]
    # The 2025 ward's predecessors are the units of 2025-06-30, none of those retired in 2024.
    ward = second["unit"]["id"]
    assert steps(await links(places, ward, "predecessors")) == [
        ("13708", "Phường Hưng Lộc", "2024-09-01", "2025-06-30", "2025-07-01", "whole"),
        ("13732", "Xã Mỹ Thuận", "2024-09-01", "2025-06-30", "2025-07-01", "whole"),
        ("13735", "Xã Mỹ Lộc", "2024-09-01", "2025-06-30", "2025-07-01", "whole"),
    ]
    # A commune that only changed district: the same commune, then its 2025 ward.
    my_ha = await unit_id(places, "13711", "2015-06-01")
    (same,) = await links(places, my_ha, "successors")
    assert steps([same]) == [("13711", "Xã Mỹ Hà", "2024-09-01", "2025-06-30", "2024-09-01", "unchanged")]
    assert same["note"] == "Nhập toàn bộ huyện Mỹ Lộc vào thành phố Nam Định"
    (dong_a,) = await links(places, same["unit"]["id"], "successors")
    assert (dong_a["unit"]["code"], dong_a["unit"]["valid_from"]) == ("13693", "2025-07-01")
    assert await links(places, my_ha, "predecessors") == []


async def test_every_commune_of_2015_reaches_one_unit_of_2025_in_two_steps(gazetteer_copy: str) -> None:
    reached = await query(
        gazetteer_copy,
        """
        SELECT o.code, count(DISTINCT m.id) AS middle, array_agg(DISTINCT n.code) AS last,
               bool_and(n.valid_from = DATE '2025-07-01') AS new
        FROM admin_unit o
        JOIN admin_unit_succession a ON a.predecessor_id = o.id
        JOIN admin_unit m ON m.id = a.successor_id
        JOIN admin_unit_succession b ON b.predecessor_id = m.id
        JOIN admin_unit n ON n.id = b.successor_id
        WHERE o.level = 'commune' AND o.valid_to = DATE '2024-08-31' AND o.code = ANY($1::text[])
        GROUP BY o.code
        """,
        sorted(MY_LOC_2015),
    )
    assert {r["code"] for r in reached} == MY_LOC_2015.keys()
    assert {(r["middle"], tuple(r["last"]), r["new"]) for r in reached} == {
        (1, ("13669",), True),  # Mỹ Phúc
        (1, ("13684",), True),  # Mỹ Trung, Mỹ Tân
        (1, ("13693",), True),  # Mỹ Hà, Mỹ Thắng
        (1, ("13708",), True),  # the rest: Phường Mỹ Lộc
    }


async def test_search_by_the_old_names(places: httpx.AsyncClient) -> None:
    def brief(units: list[Any]) -> set[tuple[str, str, str | None, str | None]]:
        return {(u["level"], u["code"], u["name_with_type"], u["valid_to"]) for u in units}

    found = brief(await search(places, q="Mỹ Lộc"))
    assert {
        ("district", "358", "Huyện Mỹ Lộc", "2024-08-31"),  # the old district
        ("commune", "13708", "Thị trấn Mỹ Lộc", "2024-08-31"),  # the old township
        ("commune", "13708", "Phường Hưng Lộc", "2025-06-30"),  # it, renamed (a former name)
        ("commune", "13735", "Xã Mỹ Lộc", "2025-06-30"),  # the commune of 2024
        ("commune", "13708", "Phường Mỹ Lộc", None),  # the new ward
    } <= found
    # On a day, only that day's.
    assert brief(await search(places, q="Mỹ Lộc", on="2015-06-01", level="commune")) >= {
        ("commune", "13708", "Thị trấn Mỹ Lộc", "2024-08-31")
    }
    assert ("commune", "13708", "Phường Mỹ Lộc", None) not in brief(
        await search(places, q="Mỹ Lộc", on="2015-06-01")
    )
    # A commune that ceased, and the one that took it in (a former name), by their districts.
    my_loc = str(await unit_id(places, "358", "2015-06-01"))
    city = str(await unit_id(places, "356", "2024-09-01"))
    assert brief(await search(places, q="my thanh", level="commune", parent_id=my_loc)) == {
        ("commune", "13738", "Xã Mỹ Thành", "2024-08-31")
    }
    assert brief(await search(places, q="Mỹ Thành", level="commune", parent_id=city)) == {
        ("commune", "13735", "Xã Mỹ Lộc", "2025-06-30")
    }


@pytest.mark.parametrize(
    ("kept", "units", "successions"),
    [
        # Only the district's and the township's rows: Mỹ Lộc's 3 ceased + 7 periods, 8 ends; 10
        # links, 7 moved. Then Resolution 1104's other rows (below).
        (("358", "13708"), (10 + 26, 8 + 6), (10 + 9, 7 + 6)),
        # The Mỹ Lộc rows (the previous file): the 9 sourced rows of 1104 (6 ceased, 3 periods, 3
        # ends; 9 links, 3 moved) and the 17 ended without successor (14 ceased, 3 periods, 3
        # ends; no link, 3 moved).
        ((*MY_LOC_2015, "358"), (26, 6), (9, 6)),
    ],
    ids=["district-and-township", "my-loc"],
)
def test_a_database_loaded_before_these_rows_converges(
    server_url: str,
    gazetteer_copy: str,
    monkeypatch: pytest.MonkeyPatch,
    kept: tuple[str, ...],
    units: tuple[int, int],
    successions: tuple[int, int],
) -> None:
    """A previous load had only some rows: Xã Đồng Thịnh (13900) was one unit, until 2025-06-30,
    and so was Mỹ Hà (13711) when its row was not there. Loading again keeps each one's id on the
    period it starts (none: the old one), adds the period from 2024-09-01, moves the 2025 link to
    it, and ends with what a fresh load has."""
    url = create_database(server_url, prefix="cv_my_loc_old")
    original = gazetteer.read

    def as_before(name: str) -> list[dict[str, str]]:
        rows = original(name)
        return [r for r in rows if r["code"] in kept] if name == CHANGES else rows

    try:
        migrate(url)
        with monkeypatch.context() as patched:
            patched.setattr(gazetteer, "read", as_before)
            asyncio.run(load_places(url))
        (my_ha,) = asyncio.run(
            query(
                url,
                "SELECT id, valid_to::text FROM admin_unit WHERE code = '13711' AND valid_from IS NULL",
            )
        )
        assert my_ha["valid_to"] == ("2024-08-31" if "13711" in kept else "2025-06-30")
        (link,) = asyncio.run(
            query(url, "SELECT id FROM admin_unit_succession WHERE predecessor_id = $1", my_ha["id"])
        )
        (dong_thinh,) = asyncio.run(
            query(
                url,
                "SELECT id, valid_to::text FROM admin_unit WHERE code = '13900' AND valid_from IS NULL",
            )
        )
        assert dong_thinh["valid_to"] == "2025-06-30"
        (dong_thinh_link,) = asyncio.run(
            query(url, "SELECT id FROM admin_unit_succession WHERE predecessor_id = $1", dong_thinh["id"])
        )

        report = asyncio.run(load_places(url))
        assert (report.units_added, report.units_changed) == units
        assert (report.successions_added, report.successions_changed) == successions
        rows = asyncio.run(
            query(
                url,
                "SELECT u.id, u.name, u.valid_from::text, u.valid_to::text FROM admin_unit u"
                " WHERE u.code = '13900' AND u.level = 'commune' ORDER BY u.valid_from NULLS FIRST",
            )
        )
        assert [tuple(r) for r in rows] == [
            (dong_thinh["id"], "Nghĩa Thịnh", None, "2024-08-31"),
            (rows[1]["id"], "Đồng Thịnh", "2024-09-01", "2025-06-30"),
            (rows[2]["id"], "Đồng Thịnh", "2025-07-01", None),
        ]
        # Its 2025 link moves to the period from 2024-09-01; the period until 2024-08-31 has none.
        (moved,) = asyncio.run(
            query(
                url, "SELECT predecessor_id FROM admin_unit_succession WHERE id = $1", dong_thinh_link["id"]
            )
        )
        assert moved["predecessor_id"] == rows[1]["id"]
        assert (
            asyncio.run(
                query(url, "SELECT id FROM admin_unit_succession WHERE predecessor_id = $1", dong_thinh["id"])
            )
            == []
        )
        rows = asyncio.run(
            query(
                url,
                "SELECT u.id, u.valid_from::text, u.valid_to::text, p.code AS parent FROM admin_unit u"
                " JOIN admin_unit p ON p.id = u.parent_id WHERE u.code = '13711'"
                " ORDER BY u.valid_from NULLS FIRST",
            )
        )
        assert [tuple(r) for r in rows] == [
            (my_ha["id"], None, "2024-08-31", "358"),
            (rows[1]["id"], "2024-09-01", "2025-06-30", "356"),
        ]
        (moved,) = asyncio.run(
            query(url, "SELECT predecessor_id FROM admin_unit_succession WHERE id = $1", link["id"])
        )
        # Mỹ Hà's 2025 link moved to its period from 2024-09-01 (its link of 2024 when already split).
        assert moved["predecessor_id"] == rows[0 if "13711" in kept else 1]["id"]
        assert asyncio.run(natural(url)) == asyncio.run(natural(gazetteer_copy))  # a fresh load's copy
        again = asyncio.run(load_places(url))
        assert (
            again.units_added,
            again.units_changed,
            again.successions_added,
            again.successions_changed,
        ) == (
            0,
            0,
            0,
            0,
        )
    finally:
        drop_database(server_url, url)


async def natural(url: str) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    """Units and successions by what they are, not by id."""
    units = await query(
        url,
        """
        SELECT u.level, u.code, u.valid_from, u.valid_to, u.name, u.type, u.name_with_type,
               u.former_names::text, p.level, p.code, p.valid_from
        FROM admin_unit u LEFT JOIN admin_unit p ON p.id = u.parent_id
        """,
    )
    successions = await query(
        url,
        """
        SELECT o.level, o.code, o.valid_from, n.level, n.code, n.valid_from, s.effective_on, s.kind, s.note
        FROM admin_unit_succession s
        JOIN admin_unit o ON o.id = s.predecessor_id JOIN admin_unit n ON n.id = s.successor_id
        """,
    )
    return {tuple(r) for r in units}, {tuple(r) for r in successions}
