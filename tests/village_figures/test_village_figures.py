"""Yearly figures of a village: one set per village and year, money in whole đồng."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import (
    API,
    JSON,
    assert_invalid,
    assert_problem,
    district,
    figure,
    ids,
    places,
    province,
    snapshot,
    village,
)

FIGURES = f"{API}/village-figures"


async def test_create_with_the_2015_report_figures(client: httpx.AsyncClient) -> None:
    at = await places(client)
    response = await client.post(
        FIGURES,
        json={
            "village_id": at.village_id,
            "year": 2015,
            "households": 1_250,
            "workers": 44_000,
            "production_value_vnd": 4_100_000_000_000,
            "average_income_vnd": 48_000_000,
            "qualifier": "at_least",
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["village"] == {"id": at.village_id, "name": "Vị Khê"}
    assert body["production_value_vnd"] == 4_100_000_000_000
    assert re.search(r'"production_value_vnd"\s*:\s*4100000000000\b', response.text)
    assert body["workers"] == 44_000
    assert body["qualifier"] == "at_least"
    assert (await client.get(f"{FIGURES}/{body['id']}")).json() == body


async def test_qualifier_defaults_to_exact(client: httpx.AsyncClient) -> None:
    at = await places(client)
    assert (await figure(client, at.village_id))["qualifier"] == "exact"


async def test_second_figures_for_the_same_year_is_409(client: httpx.AsyncClient, db: AsyncSession) -> None:
    at = await places(client)
    await figure(client, at.village_id, year=2015, workers=100)
    before = await snapshot(db)
    problem = assert_problem(
        await client.post(FIGURES, json={"village_id": at.village_id, "year": 2015, "workers": 200}), 409
    )
    assert problem["type"].endswith("conflict")
    assert "already has figures for this year" in problem["detail"]
    assert await snapshot(db) == before


async def test_same_year_for_another_village_is_fine(client: httpx.AsyncClient) -> None:
    at = await places(client)
    other = await village(client, at.district_id, name="Vân Chàng")
    await figure(client, at.village_id, year=2015)
    assert (await figure(client, other["id"], year=2015))["year"] == 2015


async def test_patch_onto_a_taken_year_is_409(client: httpx.AsyncClient, db: AsyncSession) -> None:
    at = await places(client)
    await figure(client, at.village_id, year=2015)
    later = await figure(client, at.village_id, year=2016)
    before = await snapshot(db)
    assert_problem(await client.patch(f"{FIGURES}/{later['id']}", json={"year": 2015}), 409)
    assert await snapshot(db) == before
    moved = await client.patch(f"{FIGURES}/{later['id']}", json={"year": 2017})
    assert moved.status_code == 200
    assert (moved.json()["year"], moved.json()["version"]) == (2017, 2)


INVALID: list[tuple[JSON, str]] = [
    ({"year": 1899}, "year"),
    ({"year": 2101}, "year"),
    ({"year": "2015"}, "year"),
    ({"households": -1}, "households"),
    ({"workers": 2**31}, "workers"),
    ({"workers": 44000.5}, "workers"),
    ({"production_value_vnd": 2**63}, "production_value_vnd"),
    ({"production_value_vnd": -1}, "production_value_vnd"),
    ({"production_value_vnd": 1.5}, "production_value_vnd"),
    ({"production_value_vnd": "100"}, "production_value_vnd"),
    ({"production_value_vnd": True}, "production_value_vnd"),
    ({"production_value_vnd": 4.1e12}, "production_value_vnd"),
    ({"average_income_vnd": 10**30}, "average_income_vnd"),
    ({"qualifier": "about"}, "qualifier"),
    ({"village_id": -3}, "village_id"),
]


async def test_invalid_field_is_422(
    client: httpx.AsyncClient, db: AsyncSession, subtests: pytest.Subtests
) -> None:
    at = await places(client)
    existing = await figure(client, at.village_id, year=2014)
    for change, field in INVALID:
        with subtests.test(field=field, change=str(change)[:80]):
            before = await snapshot(db)
            body = {"village_id": at.village_id, "year": 2015, **change}
            assert_invalid(await client.post(FIGURES, json=body), field)
            assert_invalid(await client.patch(f"{FIGURES}/{existing['id']}", json=change), field)
            assert await snapshot(db) == before


async def test_village_that_does_not_exist_is_422(client: httpx.AsyncClient, db: AsyncSession) -> None:
    at = await places(client)
    existing = await figure(client, at.village_id)
    before = await snapshot(db)
    assert_invalid(await client.post(FIGURES, json={"village_id": 777, "year": 2015}), "village_id")
    assert_invalid(await client.patch(f"{FIGURES}/{existing['id']}", json={"village_id": 777}), "village_id")
    assert await snapshot(db) == before


@pytest.fixture
async def series(client: httpx.AsyncClient) -> dict[str, int]:
    """Figures of three villages in two districts; label -> id."""
    nam_dinh = await province(client)
    nam_truc = await district(client, nam_dinh["id"])
    y_yen = await district(client, nam_dinh["id"], code="360", name="Ý Yên")
    van_chang = await village(client, nam_truc["id"], name="Vân Chàng", craft_group="manufacturing")
    vi_khe = await village(client, nam_truc["id"], name="Vị Khê", craft_group="ornamental")
    la_xuyen = await village(client, y_yen["id"], name="La Xuyên", craft_group="handicraft")
    a = await figure(
        client,
        van_chang["id"],
        2014,
        households=800,
        workers=3_000,
        production_value_vnd=900_000_000_000,
        average_income_vnd=40_000_000,
    )
    b = await figure(
        client,
        van_chang["id"],
        2015,
        households=820,
        workers=3_200,
        production_value_vnd=1_000_000_000_000,
        average_income_vnd=45_000_000,
        qualifier="approximate",
    )
    c = await figure(client, vi_khe["id"], 2015, households=300, workers=700, qualifier="at_least")
    d = await figure(
        client,
        la_xuyen["id"],
        2016,
        households=500,
        workers=1_500,
        production_value_vnd=250_000_000_000,
        average_income_vnd=60_000_000,
    )
    return {
        "A": a["id"],
        "B": b["id"],
        "C": c["id"],
        "D": d["id"],
        "van_chang": van_chang["id"],
        "vi_khe": vi_khe["id"],
        "nam_truc": nam_truc["id"],
        "y_yen": y_yen["id"],
    }


FILTERS = [
    ("village_id={van_chang}", "AB"),
    ("village_id={van_chang},{vi_khe}", "ABC"),
    ("district_id={y_yen}", "D"),
    ("district_id={nam_truc}", "ABC"),
    ("craft_group=ornamental,handicraft", "CD"),
    ("qualifier=exact", "AD"),
    ("qualifier=approximate&qualifier=at_least", "BC"),
    ("year=2015", "BC"),
    ("year=2014,2016", "AD"),
    ("year_from=2015", "BCD"),
    ("year_to=2015", "ABC"),
    ("year_from=2015&year_to=2015", "BC"),
    ("households_min=800", "AB"),
    ("households_max=500", "CD"),
    ("workers_min=3000", "AB"),
    ("workers_min=3001", "B"),
    ("workers_max=1500", "CD"),
    ("workers_min=701&workers_max=3000", "AD"),
    ("production_value_vnd_min=1000000000000", "B"),
    ("production_value_vnd_max=900000000000", "AD"),
    ("average_income_vnd_min=45000000", "BD"),
    ("average_income_vnd_max=44999999", "A"),
    ("q=van chang", "AB"),
    ("q=VỊ KHÊ", "C"),
    ("q=xuyen&year=2015", ""),
]


async def test_filters(client: httpx.AsyncClient, series: dict[str, int], subtests: pytest.Subtests) -> None:
    for query, expected in FILTERS:
        with subtests.test(query=query):
            response = await client.get(f"{FIGURES}?{query.format(**series)}&sort=id")
            assert response.status_code == 200, response.text
            page = response.json()
            assert ids(page) == [series[k] for k in expected]
            assert page["total"] == len(expected)


async def test_sort_by_village_name_then_year(client: httpx.AsyncClient, series: dict[str, int]) -> None:
    # La Xuyên < Vân Chàng < Vị Khê (a before i); within Vân Chàng, the later year first.
    page = (await client.get(f"{FIGURES}?sort=village,-year")).json()
    assert ids(page) == [series[k] for k in "DBAC"]
    page = (await client.get(f"{FIGURES}?sort=-production_value_vnd")).json()
    assert ids(page) == [series[k] for k in "BADC"]  # no value (C) last, either way
    page = (await client.get(f"{FIGURES}?sort=production_value_vnd")).json()
    assert ids(page) == [series[k] for k in "DABC"]


@pytest.mark.parametrize(
    "query",
    [
        "year=1899",
        "year=2015,abc",
        "year_from=2101",
        "workers_min=-1",
        "workers_max=2147483648",
        "production_value_vnd_min=9223372036854775808",
        "average_income_vnd_max=1.5",
        "qualifier=about",
        "craft_group=pottery",
        "village_id=0",
        "district_id=-1",
    ],
)
async def test_invalid_filter_is_422(client: httpx.AsyncClient, query: str) -> None:
    assert_invalid(await client.get(f"{FIGURES}?{query}"), query.split("=", maxsplit=1)[0], location="query")
