"""Resolution 1104/NQ-UBTVQH15 (in force from 2024-09-01) outside Mỹ Lộc: the communes of Ý Yên
and Xuân Trường whose merger is sourced, each linked to the unit that took it in; and the sample's
other 2015 communes that the list before the resolution has and the list of 2025-06-30 lacks,
ended on 2024-08-31 with no successor recorded (changes-before-2025.csv, SOURCES.md).

Expected facts come from the CSV files, counted here, never from the loader.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.admin_units.test_gazetteer import links, query, resolve, rows_of, unit_id
from tests.stats.helpers import app_client

CHANGES = "changes-before-2025.csv"
NOT_RECORDED = (
    "in the GSO list before Resolution 1104, absent after it; the unit that took it in: not recorded"
)
# Sourced mergers: retired code -> the code of the unit that took it in (a commune of 2025-06-30).
SOURCED = {
    "13858": "13876",  # Yên Quang -> Hồng Quang
    "13855": "13876",  # Yên Hồng
    "13876": "13876",  # Yên Bằng, renamed Hồng Quang
    "13807": "13807",  # Yên Lợi, renamed Tân Minh
    "13804": "13807",  # Yên Tân
    "13816": "13807",  # Yên Minh
    "14119": "14122",  # Xuân Bắc -> Trà Lũ
    "14131": "14122",  # Xuân Trung
    "14122": "14122",  # Xuân Phương, renamed Trà Lũ
}
# Ended, successor not recorded: the 2015 commune and its district.
ENDED = {
    "13702": ("Xã Lộc An", "356"),
    "13744": ("Xã Minh Thuận", "359"),
    "13750": ("Xã Tân Khánh", "359"),
    "13798": ("Xã Yên Trung", "360"),
    "13813": ("Xã Yên Nghĩa", "360"),
    "13819": ("Xã Yên Phương", "360"),
    "13840": ("Xã Yên Hưng", "360"),
    "13897": ("Xã Nghĩa Đồng", "361"),
    "13900": ("Xã Nghĩa Thịnh", "361"),
    "13903": ("Xã Nghĩa Minh", "361"),
    "13969": ("Xã Nam Mỹ", "362"),
    "13981": ("Xã Nam Toàn", "362"),
    "14137": ("Xã Xuân Kiên", "364"),
    "14140": ("Xã Xuân Tiến", "364"),
    "14230": ("Xã Hải Vân", "366"),
    "14242": ("Xã Hải Bắc", "366"),
    "14257": ("Xã Hải Phương", "366"),
}


@pytest.fixture(scope="module")
async def places(gazetteer_copy: str) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(gazetteer_copy) as (_, client):
        yield client


def legacy() -> dict[str, dict[str, str]]:
    return {r["code"]: r for r in rows_of("communes-legacy.csv")}


def test_the_rows_of_1104_outside_my_loc() -> None:
    rows = [r for r in rows_of(CHANGES) if r["parentCode"] not in ("36", "358")]
    assert {r["code"]: r["successorCode"] for r in rows if r["successorCode"]} == SOURCED
    ended = [r for r in rows if not r["successorCode"]]
    assert {r["code"]: (r["nameWithType"], r["parentCode"]) for r in ended} == ENDED
    assert {r["effectiveOn"] for r in rows} == {"2024-09-01"}
    # An ended row says no more than is known: no kind, no note, the same source.
    assert {(r["kind"], r["note"], r["source"]) for r in ended} == {("", "", NOT_RECORDED)}
    # Yên Xá (13837) went before 2024, on a day not known: not recorded.
    assert "13837" not in {r["code"] for r in rows}
    listed = legacy()
    for r in rows:
        # The retired unit is not in the list of 2025-06-30 (its code, if any, names another unit).
        assert listed.get(r["code"], {}).get("nameWithType") != r["nameWithType"], r["code"]
        if r["successorCode"]:
            after = listed[r["successorCode"]]
            assert after["districtCode"] == r["parentCode"]
            assert r["kind"] == ("renamed" if r["successorCode"] == r["code"] else "whole")


@pytest.mark.parametrize("code", sorted(ENDED))
async def test_a_commune_ended_without_successor(places: httpx.AsyncClient, code: str) -> None:
    name_with_type, district = ENDED[code]
    before = await resolve(places, code, "2024-08-31")
    assert before.status_code == 200, before.text
    unit = before.json()
    assert unit == (await resolve(places, code, "2015-12-31")).json()
    assert (unit["name_with_type"], unit["valid_from"], unit["valid_to"], unit["parent"]["code"]) == (
        name_with_type,
        None,
        "2024-08-31",
        district,
    )
    assert await links(places, unit["id"], "successors") == []
    assert await links(places, unit["id"], "predecessors") == []
    after = await resolve(places, code, "2024-09-01")
    if code not in legacy():
        assert after.status_code == 404
        return
    # The code goes on as another unit of the list, from the day of the change.
    assert after.status_code == 200, after.text
    other = after.json()
    assert other["id"] != unit["id"]
    assert (other["name_with_type"], other["valid_from"], other["valid_to"]) == (
        "Xã " + legacy()[code]["name"],
        "2024-09-01",
        "2025-06-30",
    )
    assert await links(places, other["id"], "predecessors") == []


@pytest.mark.parametrize("code", sorted(SOURCED))
async def test_a_sourced_merger(places: httpx.AsyncClient, code: str) -> None:
    old = await unit_id(places, code, "2024-08-31")
    (step,) = await links(places, old, "successors")
    successor = SOURCED[code]
    assert (step["unit"]["code"], step["unit"]["valid_from"], step["effective_on"]) == (
        successor,
        "2024-09-01",
        "2024-09-01",
    )
    assert step["unit"]["name"] == legacy()[successor]["name"]
    # And on to the 2025 commune the conversion table names for the successor.
    (then,) = await links(places, step["unit"]["id"], "successors")
    (converted,) = {r["newWardCode"] for r in rows_of("conversion-2025.csv") if r["oldWardCode"] == successor}
    assert (then["unit"]["code"], then["effective_on"]) == (converted, "2025-07-01")


async def test_counts_of_the_communes_of_nam_dinh(gazetteer_copy: str) -> None:
    counted = await query(
        gazetteer_copy,
        """
        SELECT d.day::text, count(*) AS n FROM admin_unit u
        JOIN admin_unit p ON p.id = u.parent_id
        CROSS JOIN (VALUES (DATE '2024-08-31'), (DATE '2024-09-01')) d(day)
        WHERE u.level = 'commune' AND p.level = 'district'
          AND p.code IN (SELECT code FROM admin_unit WHERE level = 'district' AND parent_id =
                         (SELECT id FROM admin_unit WHERE level = 'province' AND code = '36'))
          AND (u.valid_from IS NULL OR u.valid_from <= d.day) AND (u.valid_to IS NULL OR u.valid_to >= d.day)
        GROUP BY 1
        """,
    )
    listed = sum(r["provinceCode"] == "36" for r in rows_of("communes-legacy.csv"))
    rows = [r for r in rows_of(CHANGES) if r["level"] == "commune"]
    going_on = sum(r["code"] in legacy() for r in rows)
    assert {r["day"]: r["n"] for r in counted} == {
        "2024-08-31": listed - going_on + len(rows),
        "2024-09-01": listed,
    }
    assert listed == 175  # SOURCES.md: Nam Định's 175 communes on 2025-06-30
