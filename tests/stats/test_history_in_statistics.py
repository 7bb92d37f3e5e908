"""Records with a history in statistics: found by a review of issue 11, each test failed on 86fb418.

- Over a range of years without the year as a dimension, a village with a history sits in one group
  (its units of the range's last year), so the rows add up to the totals.
- On an as_of day between its own communes' periods, a village follows the image of its own
  commune nearest in time (Mỹ Hà, recorded in 2015, went unchanged into Nam Định city on 2024-09-01).

Built in a copy of the gazetteer (no sample data), as tests/stats/test_recorded_history.py does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.stats.helpers import JSON, get_stats, resolve_unit

API = "/api/v1"
REFORM = "2025-07-01"
pytestmark = pytest.mark.usefixtures("fresh_stats_memory")


async def _village(
    client: httpx.AsyncClient, name: str, commune: int, others: list[int], figures: dict[int, int], group: str
) -> int:
    body = {"name": name, "craft_group": group, "commune_id": commune, "other_commune_ids": others}
    made = await client.post(f"{API}/villages", json=body)
    assert made.status_code == 201, made.text
    for year, workers in figures.items():
        figure = {"village_id": made.json()["id"], "year": year, "workers": workers}
        response = await client.post(f"{API}/village-figures", json=figure)
        assert response.status_code == 201, response.text
    return int(made.json()["id"])


@pytest.fixture(scope="module")
async def client(gazetteer_copy: str) -> AsyncIterator[httpx.AsyncClient]:
    from tests.stats.helpers import app_client

    async with app_client(gazetteer_copy) as (_, client):
        # Moved: recorded in Phường Trường Thi (2025), its 2015 commune Xã Thành Lợi (Vụ Bản, 36) in
        # other_commune_ids (the pattern the README recommends). Stayed: Minh Thuận, Vụ Bản, no history.
        ward, old = (
            await resolve_unit(client, "13777", REFORM),
            await resolve_unit(client, "13777", "2015-01-01"),
        )
        await _village(client, "Moved", ward, [old], {2015: 7, 2025: 3}, "handicraft")
        await _village(
            client, "Stayed", await resolve_unit(client, "13744", "2015-01-01"), [], {2015: 100}, "handicraft"
        )
        # DongA: recorded in Phường Đông A (13693, 2025), its 2015 commune Xã Mỹ Hà (13711, Mỹ Lộc 358)
        # in other_commune_ids. Mỹ Hà went "unchanged" into Mỹ Hà of Nam Định city (356) on 2024-09-01.
        dong_a, my_ha = (
            await resolve_unit(client, "13693", REFORM),
            await resolve_unit(client, "13711", "2015-01-01"),
        )
        await _village(client, "DongA", dong_a, [my_ha], {2015: 50, 2025: 60}, "salt")
        yield client


def _sum(body: JSON, measure: str) -> int:
    return sum(int(row[measure]) for row in body["rows"])


# -- as recorded, a record with a history is in one row over a range of years ----------------------


@pytest.mark.parametrize("dim", ["province", "district", "commune"])
async def test_rows_add_up_to_the_totals_as_recorded_over_several_years(
    client: httpx.AsyncClient, dim: str
) -> None:
    """Over 2015..2025, Moved and DongA were in Nam Định (36) and are in Ninh Bình (37) from the
    reform: each is counted once, with all its figures, under its units of 2025 (on 86fb418 the rows
    held 5 villages against totals of 3)."""
    recorded = await get_stats(client, "villages", group_by=dim, craft_group="handicraft,salt")
    today = await get_stats(client, "villages", group_by=dim, craft_group="handicraft,salt", as_of=REFORM)
    assert _sum(today, "villages") == today["totals"]["villages"] == 3
    assert recorded["totals"]["villages"] == 3
    assert _sum(recorded, "villages") == recorded["totals"]["villages"], recorded["rows"]
    assert _sum(recorded, "workers") == recorded["totals"]["workers"] == 7 + 3 + 100 + 50 + 60
    if dim == "province":
        rows = {row["province"]["code"]: (row["villages"], row["workers"]) for row in recorded["rows"]}
        assert rows == {"36": (1, 100), "37": (2, 7 + 3 + 50 + 60)}
        # One year alone places them by that year's units.
        in_2015 = await get_stats(client, "villages", group_by=dim, year=2015, craft_group="handicraft,salt")
        assert {row["province"]["code"]: row["villages"] for row in in_2015["rows"]} == {"36": 3}


# -- as_of on a day before the recorded 2025 ward: the history is followed ----------------------


@pytest.mark.parametrize("day", ["2024-09-01", "2024-10-01", "2025-06-30"])
async def test_a_history_is_followed_to_the_day(client: httpx.AsyncClient, day: str) -> None:
    """DongA's own communes are Xã Mỹ Hà 13711 (Mỹ Lộc, until 2024-08-31) and Phường Đông A (from
    2025-07-01, formed by a merger: no image before it). On a day between them it is where Mỹ Hà
    went on 2024-09-01 (Xã Mỹ Hà of Nam Định city 356), at every level; on 86fb418 it was in the
    null group, even as a province, and left out of the overview of Nam Định as of that day."""
    body = await get_stats(
        client, "villages", group_by="province,district,commune", craft_group="salt", as_of=day
    )
    rows = [
        tuple((row[d] or {}).get("code") for d in ("province", "district", "commune")) for row in body["rows"]
    ]
    assert rows == [("36", "356", "13711")]
    listed = await client.get(f"{API}/villages", params={"district": "356", "as_of": day})
    assert [item["name"] for item in listed.json()["items"]] == ["DongA"]
    overview = await get_stats(client, "overview", year=2015, province="36", as_of=day)
    assert overview["villages"]["by_craft_group"]["salt"] == 1
    assert overview["villages"]["workers"] == 50 + 7 + 100
