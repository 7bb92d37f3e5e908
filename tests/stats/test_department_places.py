"""Programmes and trade fairs are placed by the province whose department recorded them
(department_province_id), in a copy of the gazetteer (no sample data).

Fairs: `department_province` (codes) and `as_of` filter the list and the statistics, and
`department_province` is a unit dimension of the statistics, exactly as programmes' `province`;
the fair's own `province` stays the venue's text. The overview and the statistics then agree.
Writes: a programme's department province exists in some part of its year, a fair's on some day
of the fair (422 naming the field; a constraint trigger is the database's backstop).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import plain_url
from tests.stats.helpers import JSON, get_stats, resolve_unit

API = "/api/v1"
REFORM = "2025-07-01"
pytestmark = pytest.mark.usefixtures("fresh_stats_memory")


def _fair(name: str, start: str, end: str, department: int | None, **extra: Any) -> JSON:
    body: JSON = {"name": name, "kind": "attended", "province": "Hà Nội", "start_on": start, "end_on": end}
    if department is not None:
        body["department_province_id"] = department
    return {**body, **extra}


def _programme(name: str, year: int, department: int | None) -> JSON:
    body: JSON = {"name": name, "kind": "trade_promotion", "activity": "fair_participation", "year": year}
    if department is not None:
        body["department_province_id"] = department
    return body


@pytest.fixture(scope="module")
async def units(gazetteer_copy: str) -> dict[str, int]:
    from tests.stats.helpers import app_client

    async with app_client(gazetteer_copy) as (_, client):
        return {
            "nam_dinh": await resolve_unit(client, "36", "2015-01-01"),
            "ha_nam": await resolve_unit(client, "35", "2015-01-01"),
            "old_ninh_binh": await resolve_unit(client, "37", "2015-01-01"),
            "ninh_binh": await resolve_unit(client, "37", REFORM),
        }


@pytest.fixture(scope="module")
async def client(gazetteer_copy: str, units: dict[str, int]) -> AsyncIterator[httpx.AsyncClient]:
    """Fairs: Nam Định 2015 (held in Hà Nội, twice), Hà Nam 2015, old Ninh Bình 2014, the new Ninh
    Bình 2026, and one without a department (2015); programmes of Nam Định 2015 and Ninh Bình 2026."""
    from tests.stats.helpers import app_client

    async with app_client(gazetteer_copy) as (_, client):
        for body in (
            _fair("ND 1", "2015-04-01", "2015-04-05", units["nam_dinh"], standard_booths=10),
            _fair("ND 2", "2015-10-01", "2015-10-05", units["nam_dinh"], standard_booths=20, kind="hosted"),
            _fair("HN", "2015-05-01", "2015-05-03", units["ha_nam"], standard_booths=4, province="Hà Nam"),
            _fair("NB old", "2014-05-01", "2014-05-03", units["old_ninh_binh"], standard_booths=2),
            _fair("NB new", "2026-05-01", "2026-05-03", units["ninh_binh"], standard_booths=1),
            _fair("Nobody's", "2015-06-01", "2015-06-02", None, standard_booths=100),
        ):
            made = await client.post(f"{API}/trade-fairs", json=body)
            assert made.status_code == 201, made.text
        programmes = (
            _programme("P ND", 2015, units["nam_dinh"]),
            _programme("P NB", 2026, units["ninh_binh"]),
        )
        for body in programmes:
            made = await client.post(f"{API}/programmes", json=body)
            assert made.status_code == 201, made.text
        yield client


async def _names(client: httpx.AsyncClient, **params: Any) -> list[str]:
    response = await client.get(f"{API}/trade-fairs", params={"sort": "name", **params})
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


def _rows(body: JSON) -> list[tuple[str | None, int]]:
    """(department province code, fairs) per row: as recorded, two units can have one code."""
    return [((row["department_province"] or {}).get("code"), row["fairs"]) for row in body["rows"]]


async def _patch(client: httpx.AsyncClient, path: str, body: JSON) -> httpx.Response:
    current = await client.get(path)
    return await client.patch(path, json=body, headers={"If-Match": current.headers["ETag"]})


# -- F3: the department's geography of fairs --------------------------------------------------------


async def test_the_list_filters_by_department_province_as_recorded(client: httpx.AsyncClient) -> None:
    assert await _names(client, department_province="36") == ["ND 1", "ND 2"]
    assert await _names(client, department_province="35,36") == ["HN", "ND 1", "ND 2"]
    # As recorded, a code names its units of every period: 37 is old and new Ninh Bình.
    assert await _names(client, department_province="37") == ["NB new", "NB old"]


async def test_the_list_filters_by_the_provinces_of_a_day(client: httpx.AsyncClient) -> None:
    # From 2025-07-01, Hà Nam, Nam Định and old Ninh Bình are the new Ninh Bình (37); 36 names nothing.
    everything = ["HN", "NB new", "NB old", "ND 1", "ND 2"]
    assert await _names(client, department_province="37", as_of=REFORM) == everything
    assert await _names(client, department_province="36", as_of=REFORM) == []
    # Before the reform, the new Ninh Bình has three predecessors: its fair is in none of them.
    assert await _names(client, department_province="36", as_of="2020-01-01") == ["ND 1", "ND 2"]
    assert await _names(client, department_province="37", as_of="2020-01-01") == ["NB old"]
    # as_of alone filters nothing.
    assert len(await _names(client, as_of=REFORM)) == 6


async def test_province_stays_the_venue(client: httpx.AsyncClient) -> None:
    assert await _names(client, province="Hà Nam") == ["HN"]
    assert await _names(client, province="36") == []
    body = await get_stats(client, "trade-fairs", group_by="province")
    assert {row["province"]: row["fairs"] for row in body["rows"]} == {"Hà Nam": 1, "Hà Nội": 5}
    # A code is not a text's filter, and a text is not a code.
    refused = await client.get(f"{API}/trade-fairs", params={"department_province": "Nam Định"})
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")


async def test_statistics_group_by_department_province(
    client: httpx.AsyncClient, units: dict[str, int]
) -> None:
    recorded = await get_stats(client, "trade-fairs", group_by="department_province")
    # As recorded, old Ninh Bình (until 2025-06-30) and the new one (from 2025-07-01) are two units
    # of code 37, and two rows.
    assert _rows(recorded) == [("35", 1), ("36", 2), ("37", 1), ("37", 1), (None, 1)]
    assert {row["department_province"]["id"] for row in recorded["rows"][2:4]} == {
        units["old_ninh_binh"],
        units["ninh_binh"],
    }
    today = await get_stats(client, "trade-fairs", group_by="department_province", as_of=REFORM)
    assert _rows(today) == [("37", 5), (None, 1)]
    assert today["rows"][0]["department_province"] == {
        "id": units["ninh_binh"],
        "code": "37",
        "name": "Ninh Bình",
    }
    before = await get_stats(client, "trade-fairs", group_by="department_province", as_of="2020-01-01")
    assert _rows(before) == [("35", 1), ("36", 2), ("37", 1), (None, 2)]
    # Every fair in one row, on any day.
    for body in (recorded, today, before):
        assert sum(row["fairs"] for row in body["rows"]) == body["totals"]["fairs"] == 6


async def test_statistics_filter_by_department_province(client: httpx.AsyncClient) -> None:
    body = await get_stats(
        client, "trade-fairs", group_by="kind,department_province", department_province="37", as_of=REFORM
    )
    assert body["totals"]["fairs"] == 5
    assert body["totals"]["standard_booths"] == 10 + 20 + 4 + 2 + 1
    recorded = await get_stats(client, "trade-fairs", group_by="year", department_province="36")
    assert {row["year"]: row["fairs"] for row in recorded["rows"]} == {2015: 2}


@pytest.mark.parametrize(
    ("province", "as_of", "fairs"),
    [("36", None, 2), ("35,36", None, 3), ("37", REFORM, 3), ("36", REFORM, 0)],
)
async def test_the_overview_and_the_statistics_agree(
    client: httpx.AsyncClient, province: str, as_of: str | None, fairs: int
) -> None:
    geography = {"as_of": as_of} if as_of else {}
    overview = await get_stats(client, "overview", year=2015, province=province, **geography)
    by_department = await get_stats(
        client, "trade-fairs", group_by="kind", year=2015, department_province=province, **geography
    )
    assert sum(overview["trade_promotion"]["fairs"].values()) == by_department["totals"]["fairs"] == fairs
    hosted = [row for row in by_department["rows"] if row["kind"]["code"] == "hosted"]
    assert overview["trade_promotion"]["hosted_booths"] == sum(row["standard_booths"] for row in hosted)


async def test_no_district_nor_commune_for_fairs(client: httpx.AsyncClient) -> None:
    for name in ("district", "commune"):
        refused = await client.get(f"{API}/stats/trade-fairs", params={"group_by": "kind", name: "362"})
        assert refused.status_code == 422, refused.text


# -- F4: a department province exists when the programme or the fair took place --------------------


def _fields(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return {error["field"]: error["message"] for error in response.json()["errors"]}


async def test_a_programme_department_exists_in_its_year(
    client: httpx.AsyncClient, units: dict[str, int]
) -> None:
    early = await client.post(f"{API}/programmes", json=_programme("R 2015", 2015, units["ninh_binh"]))
    message = _fields(early)["department_province_id"]
    assert "2025-07-01" in message and "2015" in message, message
    late = await client.post(f"{API}/programmes", json=_programme("R 2027", 2027, units["nam_dinh"]))
    assert "2025-06-30" in _fields(late)["department_province_id"]
    # 2025 has days of both.
    for unit in ("nam_dinh", "ninh_binh"):
        made = await client.post(f"{API}/programmes", json=_programme(f"R 2025 {unit}", 2025, units[unit]))
        assert made.status_code == 201, made.text
    # In Vietnamese too.
    vi = await client.post(
        f"{API}/programmes",
        json=_programme("R vi", 2027, units["nam_dinh"]),
        headers={"Accept-Language": "vi"},
    )
    assert "đề án thuộc năm 2027" in _fields(vi)["department_province_id"]


async def test_a_programme_moved_to_another_year_is_checked(
    client: httpx.AsyncClient, units: dict[str, int]
) -> None:
    made = await client.post(f"{API}/programmes", json=_programme("R moved", 2016, units["nam_dinh"]))
    assert made.status_code == 201, made.text
    path = f"{API}/programmes/{made.json()['id']}"
    assert "year" in _fields(await _patch(client, path, {"year": 2026}))
    assert "department_province_id" in _fields(
        await _patch(client, path, {"department_province_id": units["ninh_binh"]})
    )
    both = await _patch(client, path, {"year": 2026, "department_province_id": units["ninh_binh"]})
    assert both.status_code == 200, both.text
    assert (await _patch(client, path, {"name": "R moved on"})).status_code == 200
    # A programme without a department has nothing to check.
    assert (await _patch(client, path, {"department_province_id": None, "year": 2015})).status_code == 200


async def test_a_fair_department_exists_on_a_day_of_the_fair(
    client: httpx.AsyncClient, units: dict[str, int]
) -> None:
    fairs = f"{API}/trade-fairs"
    early = await client.post(fairs, json=_fair("R1", "2015-03-01", "2015-03-02", units["ninh_binh"]))
    assert "2025-07-01" in _fields(early)["department_province_id"]
    late = await client.post(fairs, json=_fair("R2", "2026-03-01", "2026-03-02", units["nam_dinh"]))
    assert "2025-06-30" in _fields(late)["department_province_id"]
    # A fair across the reform: either department.
    for unit in ("nam_dinh", "ninh_binh"):
        made = await client.post(
            f"{API}/trade-fairs", json=_fair(f"R across {unit}", "2025-06-28", "2025-07-02", units[unit])
        )
        assert made.status_code == 201, made.text
    path = f"{API}/trade-fairs/{made.json()['id']}"  # the new Ninh Bình's
    assert "end_on" in _fields(await _patch(client, path, {"end_on": "2025-06-30"}))
    assert "start_on" in _fields(
        await _patch(client, path, {"start_on": "2024-06-28", "end_on": "2024-07-02"})
    )
    moved = await _patch(client, path, {"start_on": "2026-06-28", "end_on": "2026-07-02"})
    assert moved.status_code == 200, moved.text


async def test_a_department_province_keeps_its_period(
    client: httpx.AsyncClient, units: dict[str, int]
) -> None:
    """The period of a province that programmes or fairs name does not change over the API (409),
    as for a unit records are placed in: their years were checked against it."""
    path = f"{API}/admin-units/{units['ha_nam']}"
    problem = await _patch(client, path, {"valid_to": "2014-12-31"})
    assert problem.status_code == 409, problem.text
    assert (await _patch(client, path, {"name_with_type": "Tỉnh Hà Nam"})).status_code == 200


async def test_the_database_refuses_a_department_of_another_time(
    gazetteer_copy: str, units: dict[str, int]
) -> None:
    programme = (
        "INSERT INTO programme (id, name, kind, activity, year, department_province_id)"
        " VALUES (8801, 'DB', 'trade_promotion', 'fair_participation', {year}, {unit})"
    )
    fair = (
        "INSERT INTO trade_fair (id, name, kind, start_on, end_on, department_province_id)"
        " VALUES (8802, 'DB', 'hosted', '{start}', '{end}', {unit})"
    )
    cases = {
        (programme.format(year=2015, unit=units["ninh_binh"]),): "ck_programme_department_province_in_year",
        (
            programme.format(year=2025, unit=units["nam_dinh"]),
            "UPDATE programme SET year = 2026 WHERE id = 8801",
        ): "ck_programme_department_province_in_year",
        (fair.format(start="2026-01-01", end="2026-01-02", unit=units["nam_dinh"]),): (
            "ck_trade_fair_department_province_on_dates"
        ),
        (
            fair.format(start="2025-06-30", end="2025-07-01", unit=units["nam_dinh"]),
            "UPDATE trade_fair SET start_on = '2025-07-01' WHERE id = 8802",
        ): "ck_trade_fair_department_province_on_dates",
    }
    for statements, constraint in cases.items():
        error = await _refused(gazetteer_copy, *statements)
        assert (error.sqlstate, error.constraint_name) == ("23514", constraint), statements


async def _refused(url: str, *statements: str) -> asyncpg.PostgresError:
    conn = await asyncpg.connect(plain_url(url))
    try:
        async with conn.transaction():
            with pytest.raises(asyncpg.PostgresError) as caught:
                for statement in statements:
                    await conn.execute(statement)
        return caught.value
    finally:
        await conn.close()
