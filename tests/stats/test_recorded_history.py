""" "As recorded" for a record with a history: a village and a co-operative moved to the 2025 ward
that Xã Thành Lợi (13777, Vụ Bản 359, Nam Định 36) became (Phường Trường Thi, the same code since
2025-07-01, Ninh Bình 37), with Thành Lợi in other_commune_ids.

Its 2015 figures count under Thành Lợi, Vụ Bản and Nam Định, its 2025 figures under Trường Thi (no
district) and Ninh Bình; the overview of 2015 for province 36 holds it; a list as recorded finds it
(no year) by its recorded units, or by those of a day with as_of; the figures list by the units of
each figure's year.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from typing import Any

import httpx
import pytest

from tests.stats.helpers import JSON, get_stats, resolve_unit

API = "/api/v1"
REFORM = "2025-07-01"
pytestmark = pytest.mark.usefixtures("fresh_stats_memory")


@pytest.fixture(scope="module")
async def moved(gazetteer_copy: str) -> AsyncIterator[httpx.AsyncClient]:
    from tests.stats.helpers import app_client

    async with app_client(gazetteer_copy) as (_, client):

        def unit(code: str, on: str) -> Awaitable[int]:
            return resolve_unit(client, code, on)

        ward, old = await unit("13777", REFORM), await unit("13777", "2015-01-01")
        # A village that stayed in Vụ Bản (no history), as the control.
        stayed = await unit("13744", "2015-01-01")
        for name, commune, others, figures in (
            ("Moved", ward, [old], {2015: 7, 2025: 3}),
            ("Stayed", stayed, [], {2015: 100}),
        ):
            body = {
                "name": name,
                "craft_group": "handicraft",
                "commune_id": commune,
                "other_commune_ids": others,
            }
            made = await client.post(f"{API}/villages", json=body)
            assert made.status_code == 201, made.text
            assert made.json()["province"]["code"] == ("37" if others else "36")
            for year, workers in figures.items():
                figure = {"village_id": made.json()["id"], "year": year, "workers": workers}
                assert (await client.post(f"{API}/village-figures", json=figure)).status_code == 201
        cooperative = {
            "name": "HTX Moved",
            "sector": "mechanical",
            "commune_id": ward,
            "other_commune_ids": [old],
            "founded_on": "2010-05-01",
        }
        made = await client.post(f"{API}/cooperatives", json=cooperative)
        assert made.status_code == 201, made.text
        yield client


def workers_by(body: JSON, dim: str) -> dict[str | None, int]:
    return {(row[dim] or {}).get("name"): row["workers"] for row in body["rows"]}


@pytest.mark.parametrize(
    ("dim", "year", "expected"),
    [
        ("commune", 2015, {"Thành Lợi": 7, "Minh Thuận": 100}),
        ("district", 2015, {"Vụ Bản": 107}),
        ("province", 2015, {"Nam Định": 107}),
        ("commune", 2025, {"Trường Thi": 3, "Minh Thuận": 0}),
        ("district", 2025, {None: 3, "Vụ Bản": 0}),
        ("province", 2025, {"Ninh Bình": 3, "Nam Định": 0}),
    ],
)
async def test_figures_count_under_the_units_of_their_year(
    moved: httpx.AsyncClient, dim: str, year: int, expected: dict[str | None, int]
) -> None:
    body = await get_stats(moved, "villages", group_by=dim, year=year)
    assert workers_by(body, dim) == expected


async def test_a_year_range_splits_the_moved_village_by_year(moved: httpx.AsyncClient) -> None:
    body = await get_stats(moved, "villages", group_by="year,province", year_from=2015, year_to=2025)
    rows = {(row["year"], (row["province"] or {}).get("code")): row for row in body["rows"]}
    assert rows[(2015, "36")]["villages"] == 2 and rows[(2015, "36")]["workers"] == 107
    assert rows[(2015, "37")]["villages"] == 0  # the range's gaps are filled with zeros
    assert rows[(2025, "37")]["villages"] == 1 and rows[(2025, "37")]["workers"] == 3
    assert rows[(2025, "36")]["villages"] == 1  # Stayed, recorded in Nam Định
    today = await get_stats(
        moved, "villages", group_by="year,province", year_from=2015, year_to=2025, as_of=REFORM
    )
    assert today["totals"] == body["totals"]


async def test_a_filter_of_a_statistic_takes_the_unit_of_each_year(moved: httpx.AsyncClient) -> None:
    in_2015 = await get_stats(moved, "villages", group_by="craft_group", district="359", year=2015)
    assert in_2015["totals"]["villages"] == 2 and in_2015["totals"]["workers"] == 107
    in_2025 = await get_stats(moved, "villages", group_by="craft_group", district="359", year=2025)
    assert in_2025["totals"]["villages"] == 1 and in_2025["totals"]["workers"] == 0
    ninh_binh = await get_stats(moved, "villages", group_by="craft_group", province="37", year=2025)
    assert ninh_binh["totals"]["villages"] == 1 and ninh_binh["totals"]["workers"] == 3


async def test_the_overview_of_2015_holds_the_moved_records_in_their_2015_province(
    moved: httpx.AsyncClient,
) -> None:
    whole = await get_stats(moved, "overview", year=2015)
    assert whole["villages"]["total"] == 2 and whole["villages"]["workers"] == 107
    assert whole["cooperatives"]["total"] == 1
    assert await get_stats(moved, "overview", year=2015, province="36") == whole
    assert await get_stats(moved, "overview", year=2015, province="37", as_of=REFORM) == whole
    nothing = await get_stats(moved, "overview", year=2015, province="37")
    assert nothing["villages"]["total"] == 0 and nothing["cooperatives"]["total"] == 0
    in_2025 = await get_stats(moved, "overview", year=2025, province="37")
    assert in_2025["villages"]["total"] == 1 and in_2025["villages"]["workers"] == 3
    assert in_2025["cooperatives"]["total"] == 1


async def names(client: httpx.AsyncClient, path: str, **params: Any) -> list[str]:
    response = await client.get(f"{API}/{path}", params=params)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    if path == "village-figures":
        return sorted(f"{item['village']['name']} {item['year']}" for item in items)
    return sorted(item["name"] for item in items)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"district": "359"}, ["Stayed"]),
        ({"province": "36"}, ["Stayed"]),
        ({"province": "37"}, ["Moved"]),
        ({"commune": "13777"}, ["Moved"]),
        ({"province": "36", "commune": "13777"}, []),
        ({"district": "359", "as_of": "2025-06-30"}, ["Moved", "Stayed"]),
        ({"province": "36", "as_of": REFORM}, []),
        ({"province": "37", "as_of": REFORM}, ["Moved", "Stayed"]),
        ({"district": "359", "as_of": "2015-06-01"}, ["Moved", "Stayed"]),
    ],
)
async def test_a_list_is_by_the_recorded_units_or_those_of_a_day(
    moved: httpx.AsyncClient, params: dict[str, str], expected: list[str]
) -> None:
    assert await names(moved, "villages", **params) == expected


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"province": "36"}, ["Moved 2015", "Stayed 2015"]),
        ({"province": "37"}, ["Moved 2025"]),
        ({"district": "359"}, ["Moved 2015", "Stayed 2015"]),
        ({"province": "37", "as_of": REFORM}, ["Moved 2015", "Moved 2025", "Stayed 2015"]),
    ],
)
async def test_the_figures_list_places_each_figure_in_the_units_of_its_year(
    moved: httpx.AsyncClient, params: dict[str, str], expected: list[str]
) -> None:
    assert await names(moved, "village-figures", **params) == expected


async def test_cooperative_lists_and_statistics(moved: httpx.AsyncClient) -> None:
    assert await names(moved, "cooperatives", district="359") == []
    assert await names(moved, "cooperatives", district="359", as_of="2020-01-01") == ["HTX Moved"]
    assert await names(moved, "cooperatives", province="37") == ["HTX Moved"]
    # The statistic of co-operatives (no year) groups and filters by the recorded units.
    grouped = await get_stats(moved, "cooperatives", group_by="province")
    assert {row["province"]["code"]: row["cooperatives"] for row in grouped["rows"]} == {"37": 1}
    assert (await get_stats(moved, "cooperatives", group_by="sector", district="359"))["totals"][
        "cooperatives"
    ] == 0
