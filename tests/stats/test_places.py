"""Statistics and list filters by the places of a date (province, district, commune, as_of).

On the sample (Nam Định's 2015 report): filtering by province 36 as recorded, or by 37 as of
2025-07-01 (Nam Định merged whole into Ninh Bình), changes nothing; national totals by recorded and
by 2025 geography are equal; no group is dropped or doubled. Hand-built records in a copy of the
gazetteer: a commune merged whole (13777 Thành Lợi → Phường Trường Thi, a code reused), one merged
in part (13285 Quang Trung, Hà Nam → Phủ Lý and Hà Nam wards): unassigned on 2025-07-01 unless the
village's other_commune_ids say which part it went to; a renamed commune (24235 Krông Na → Buôn Đôn).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.stats.helpers import JSON, STATS, get_stats, tabulate

API = "/api/v1"
REFORM = "2025-07-01"
pytestmark = pytest.mark.usefixtures("fresh_stats_memory")


async def overview(client: httpx.AsyncClient, **params: Any) -> JSON:
    return await get_stats(client, "overview", **params)


async def test_the_source_report_by_province_as_recorded_and_as_of_today(seeded: httpx.AsyncClient) -> None:
    whole = await overview(seeded, year=2015)
    assert whole["villages"]["total"] > 0 and whole["cooperatives"]["total"] > 0
    assert whole["industrial_extension"]["programmes"] > 0
    assert await overview(seeded, year=2015, province="36") == whole
    assert await overview(seeded, year=2015, province="37", as_of=REFORM) == whole
    assert await overview(seeded, year=2015, province="36,37", as_of=REFORM) == whole
    # Nam Định is not a province on 2025-07-01; Hà Nội holds none of the sample.
    for params in ({"province": "36", "as_of": REFORM}, {"province": "01"}):
        nothing = await overview(seeded, year=2015, **params)
        assert nothing["villages"]["total"] == nothing["cooperatives"]["total"] == 0
        assert sum(nothing["trade_promotion"]["fairs"].values()) == 0


@pytest.mark.parametrize(
    ("path", "dims"),
    [
        ("villages", ["province", "district", "commune"]),
        ("villages", ["commune", "year"]),
        ("cooperatives", ["province", "district", "commune"]),
        ("programmes", ["province"]),
    ],
)
async def test_national_totals_are_the_same_by_recorded_and_by_current_places(
    seeded: httpx.AsyncClient, path: str, dims: list[str]
) -> None:
    recorded = await get_stats(seeded, path, group_by=",".join(dims))
    today = await get_stats(seeded, path, group_by=",".join(dims), as_of=REFORM)
    assert today["totals"] == recorded["totals"]
    for body in (recorded, today):
        rows = tabulate(body)  # no group twice
        if "year" not in dims and path != "programmes":  # each record in exactly one row
            for measure, total in body["totals"].items():
                assert sum(row[measure] for row in rows.values()) == total, measure
    if "province" in dims:
        assert {row["province"]["code"] for row in recorded["rows"] if row["province"]} == {"36"}
        assert {row["province"]["code"] for row in today["rows"] if row["province"]} == {"37"}
    if "district" in dims:  # no district after the reform: one group, unassigned
        assert {json.dumps(row["district"]) for row in today["rows"]} == {"null"}


async def test_no_geography_keeps_the_district_rows(seeded: httpx.AsyncClient) -> None:
    body = await get_stats(seeded, "villages", group_by="district")
    assert all(set(row["district"]) == {"id", "code", "name"} for row in body["rows"])
    # as_of changes only the units: other dimensions, and lists without a code, are as they were.
    assert await get_stats(seeded, "villages", group_by="craft_group,year", as_of=REFORM) == await get_stats(
        seeded, "villages", group_by="craft_group,year"
    )
    plain = await seeded.get(f"{API}/villages")
    dated = await seeded.get(f"{API}/villages", params={"as_of": REFORM})
    assert plain.json() == dated.json()


async def test_list_filters_by_code_as_recorded_and_as_of(seeded: httpx.AsyncClient) -> None:
    async def total(path: str, **params: Any) -> int:
        response = await seeded.get(f"{API}/{path}", params=params)
        assert response.status_code == 200, response.text
        return int(response.json()["total"])

    villages = await total("villages")
    assert await total("villages", province="36") == villages
    assert await total("villages", province="37", as_of=REFORM) == villages
    assert await total("villages", province="37") == 0  # recorded: old Ninh Bình
    assert await total("villages", commune="13966") == 1  # Vân Chàng, xã Nam Giang
    # Nam Giang merged whole into xã Nam Trực, which took its code: the same village in 2025.
    assert await total("villages", commune="13966", as_of=REFORM) >= 1
    assert await total("villages", district="362", as_of=REFORM) == 0
    assert await total("village-figures", province="36") == await total("village-figures")
    assert await total("cooperatives", province="37", as_of=REFORM) == await total("cooperatives")
    assert await total("programmes", province="36") == await total("programmes")
    assert await total("programmes", province="37", as_of="2026-01-01") == await total("programmes")
    grouped = await get_stats(seeded, "villages", group_by="commune", commune="13966", as_of=REFORM)
    assert [row["commune"]["name"] for row in grouped["rows"]] == ["Nam Trực"]


@pytest.mark.parametrize("name", ["district", "commune"])
async def test_programmes_have_no_district_nor_commune(seeded: httpx.AsyncClient, name: str) -> None:
    for url in (f"{API}/programmes", f"{STATS}/programmes?group_by=year"):
        response = await seeded.get(url, params={name: "362" if name == "district" else "13966"})
        assert response.status_code == 422, response.text
        (error,) = response.json()["errors"]
        assert "province of the department" in error["message"], error


async def test_codes_are_checked(seeded: httpx.AsyncClient) -> None:
    for params in ({"province": "360"}, {"district": "36"}, {"commune": "1377"}, {"as_of": "2025-7-1"}):
        response = await seeded.get(f"{API}/villages", params=params)
        assert response.status_code == 422, (params, response.text)


# -- hand-built records in a copy of the gazetteer -------------------------------------------------


@pytest.fixture(scope="module")
async def built(gazetteer_copy: str) -> AsyncIterator[httpx.AsyncClient]:
    """Villages in: Thành Lợi (merged whole), Quang Trung (merged in part; one with its 2025 ward
    in other_commune_ids), Krông Na (renamed), each with 2015 figures."""
    from tests.stats.helpers import app_client

    async with app_client(gazetteer_copy) as (_, client):

        async def unit(code: str, on: str) -> int:
            response = await client.get(f"{API}/admin-units/resolve", params={"code": code, "on": on})
            assert response.status_code == 200, response.text
            return int(response.json()["id"])

        async def village(name: str, commune_id: int, others: list[int] | None = None) -> None:
            body = {
                "name": name,
                "craft_group": "handicraft",
                "commune_id": commune_id,
                "other_commune_ids": others or [],
            }
            made = await client.post(f"{API}/villages", json=body)
            assert made.status_code == 201, made.text
            figure = {"village_id": made.json()["id"], "year": 2015, "workers": 10}
            assert (await client.post(f"{API}/village-figures", json=figure)).status_code == 201

        await village("A", await unit("13777", "2015-01-01"))
        await village("B", await unit("13285", "2015-01-01"))
        await village("C", await unit("13285", "2015-01-01"), [await unit("13366", REFORM)])
        await village("D", await unit("24235", "2015-01-01"))
        yield client


def by_name(body: JSON, dim: str) -> dict[str | None, int]:
    return {(row[dim] or {}).get("name"): row["workers"] for row in body["rows"]}


async def test_communes_merged_whole_in_part_and_renamed(built: httpx.AsyncClient) -> None:
    recorded = await get_stats(built, "villages", group_by="commune", year=2015)
    assert by_name(recorded, "commune") == {"Thành Lợi": 10, "Quang Trung": 20, "Krông Na": 10}
    today = await get_stats(built, "villages", group_by="commune", year=2015, as_of=REFORM)
    # B cannot be told (merged in part); C says where it went; the code 13777 now names a ward.
    assert by_name(today, "commune") == {"Trường Thi": 10, "Hà Nam": 10, "Buôn Đôn": 10, None: 10}
    assert today["totals"] == recorded["totals"]
    provinces = await get_stats(built, "villages", group_by="province", year=2015, as_of=REFORM)
    # Hà Nam (35) went whole into Ninh Bình: B is unassigned as a commune, not as a province.
    assert by_name(provinces, "province") == {"Ninh Bình": 30, "Đắk Lắk": 10}
    listed = await built.get(f"{API}/villages", params={"commune": "13366", "as_of": REFORM})
    assert [v["name"] for v in listed.json()["items"]] == ["C"]
    listed = await built.get(f"{API}/villages", params={"commune": "13285"})
    assert sorted(v["name"] for v in listed.json()["items"]) == ["B", "C"]
