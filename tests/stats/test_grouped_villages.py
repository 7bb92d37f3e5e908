"""GET /api/v1/stats/villages?group_by=...: villages, households, workers and production value
by craft group, status, district and year.

Data are written through the API in the test's rolled-back transaction; every expected number is
worked out by hand in the comment beside it.
"""

from __future__ import annotations

import httpx
import pytest

from tests import factories as f
from tests.stats.helpers import B, Districts, M, districts, get_stats, tabulate, v

pytestmark = pytest.mark.usefixtures("fresh_stats_memory")


async def village_data(client: httpx.AsyncClient) -> Districts:
    """Five villages in two districts, figures for 2014-2016.

    V1 D1 manufacturing craft_village, recognised 2010-05-01, est. 1900; 2014: 100 h, 200 w, 1 tỷ;
       2015: 110 h, 220 w, 1.5 tỷ
    V2 D1 handicraft unrecognised, no est.;                                2015: 50 h, 60 w, 0.7 tỷ
    V3 D2 manufacturing traditional, recognised 2015-06-01, est. 1950;     2016: 30 h, 40 w, 0.3 tỷ
    V4 D2 handicraft craft_village, recognised 2012-01-01, revoked 2015-03-01; 2015: 20 h, 25 w, 0.25 tỷ
    V5 D1 manufacturing unrecognised, est. 2016;                           2016: 5 h, 8 w, 0.04 tỷ
    """
    at = await districts(client)
    d1, d2 = at.d1["id"], at.d2["id"]
    v1 = await f.village(
        client,
        d1,
        "Làng Một",
        craft_group="manufacturing",
        status="craft_village",
        recognised_on="2010-05-01",
        established_year=1900,
    )
    v2 = await f.village(client, d1, "Làng Hai", craft_group="handicraft")
    v3 = await f.village(
        client,
        d2,
        "Làng Ba",
        craft_group="manufacturing",
        status="traditional_craft_village",
        recognised_on="2015-06-01",
        established_year=1950,
    )
    v4 = await f.village(
        client,
        d2,
        "Làng Bốn",
        craft_group="handicraft",
        status="craft_village",
        recognised_on="2012-01-01",
        revoked_on="2015-03-01",
    )
    v5 = await f.village(client, d1, "Làng Năm", craft_group="manufacturing", established_year=2016)
    for village, year, households, workers, value in (
        (v1, 2014, 100, 200, 1 * B),
        (v1, 2015, 110, 220, 1_500 * M),
        (v2, 2015, 50, 60, 700 * M),
        (v3, 2016, 30, 40, 300 * M),
        (v4, 2015, 20, 25, 250 * M),
        (v5, 2016, 5, 8, 40 * M),
    ):
        await f.figure(
            client, village["id"], year, households=households, workers=workers, production_value_vnd=value
        )
    return at


# In 2015: V1, V2, V3, V4 exist (V5 from 2016); recognised at 31 Dec 2015: V1, V3 (V4 revoked
# before); 2015 figures: V1, V2, V4.
TOTALS_2015 = v(
    4,
    2,
    180,  # 110 + 50 + 20
    305,  # 220 + 60 + 25
    2_450 * M,  # 1,500 + 700 + 250 million
)


async def test_villages_by_each_dimension_alone(client: httpx.AsyncClient) -> None:
    at = await village_data(client)

    by_group = await get_stats(client, "villages", group_by="craft_group", year=2015)
    assert by_group["group_by"] == ["craft_group"]
    assert tabulate(by_group) == {
        ("handicraft",): v(2, 0, 70, 85, 950 * M),  # V2 + V4: 50 + 20 h, 60 + 25 w, 700 + 250 M
        ("manufacturing",): v(2, 2, 110, 220, 1_500 * M),  # V1 + V3 (no 2015 figure)
    }
    assert by_group["totals"] == TOTALS_2015

    by_status = await get_stats(client, "villages", group_by="status", year=2015)
    assert tabulate(by_status) == {
        ("craft_village",): v(2, 1, 130, 245, 1_750 * M),  # V1 + V4 (revoked): 110 + 20, 220 + 25
        ("traditional_craft_village",): v(1, 1, 0, 0, 0),  # V3
        ("unrecognised",): v(1, 0, 50, 60, 700 * M),  # V2
    }
    assert by_status["totals"] == TOTALS_2015

    by_district = await get_stats(client, "villages", group_by="district", year=2015)
    assert tabulate(by_district) == {
        ("362",): v(2, 1, 160, 280, 2_200 * M),  # V1 + V2: 110 + 50, 220 + 60, 1,500 + 700 M
        ("360",): v(2, 1, 20, 25, 250 * M),  # V3 + V4
    }
    districts_shown = {r["district"]["code"]: r["district"] for r in by_district["rows"]}
    assert districts_shown == {
        "362": {"id": at.d1["id"], "code": "362", "name": "Nam Trực"},
        "360": {"id": at.d2["id"], "code": "360", "name": "Ý Yên"},
    }
    assert by_district["totals"] == TOTALS_2015

    # No years given: those that have figures, 2014 to 2016.
    by_year = await get_stats(client, "villages", group_by="year")
    assert tabulate(by_year) == {
        # V1-V4 exist; recognised at 31 Dec 2014: V1, V4 (revoked only in 2015); V1's figures.
        (2014,): v(4, 2, 100, 200, 1 * B),
        (2015,): TOTALS_2015,
        # All five; recognised V1, V3; figures V3 + V5: 30 + 5 h, 40 + 8 w, 300 + 40 M.
        (2016,): v(5, 2, 35, 48, 340 * M),
    }
    assert [r["year"] for r in by_year["rows"]] == [2014, 2015, 2016]
    assert all(type(r["year"]) is int for r in by_year["rows"])
    # Over the three years each village counts once: 5; recognised at the end of one of the years:
    # V1, V3, V4 = 3; figures 100 + 180 + 35 h, 200 + 305 + 48 w, 1,000 + 2,450 + 340 M.
    assert by_year["totals"] == v(5, 3, 315, 553, 3_790 * M)


async def test_villages_by_two_and_three_dimensions(client: httpx.AsyncClient) -> None:
    await village_data(client)

    two = await get_stats(client, "villages", group_by="district,craft_group", year=2016)
    assert two["group_by"] == ["district", "craft_group"]
    # 2016: all five exist; recognised V1, V3; figures V3 (30, 40, 300 M), V5 (5, 8, 40 M).
    assert tabulate(two) == {
        ("362", "manufacturing"): v(2, 1, 5, 8, 40 * M),  # V1 + V5
        ("362", "handicraft"): v(1, 0, 0, 0, 0),  # V2
        ("360", "manufacturing"): v(1, 1, 30, 40, 300 * M),  # V3
        ("360", "handicraft"): v(1, 0, 0, 0, 0),  # V4
    }
    assert two["totals"] == v(5, 2, 35, 48, 340 * M)

    three = await get_stats(client, "villages", group_by="district,craft_group,status", year=2015)
    assert tabulate(three) == {
        ("362", "manufacturing", "craft_village"): v(1, 1, 110, 220, 1_500 * M),  # V1
        ("362", "handicraft", "unrecognised"): v(1, 0, 50, 60, 700 * M),  # V2
        ("360", "manufacturing", "traditional_craft_village"): v(1, 1, 0, 0, 0),  # V3
        ("360", "handicraft", "craft_village"): v(1, 0, 20, 25, 250 * M),  # V4
    }
    assert three["totals"] == TOTALS_2015


async def test_villages_filters(client: httpx.AsyncClient) -> None:
    at = await village_data(client)

    in_d2 = await get_stats(client, "villages", group_by="craft_group", year=2015, district_id=at.d2["id"])
    assert tabulate(in_d2) == {
        ("handicraft",): v(1, 0, 20, 25, 250 * M),  # V4
        ("manufacturing",): v(1, 1, 0, 0, 0),  # V3
    }
    assert in_d2["totals"] == v(2, 1, 20, 25, 250 * M)

    # A list of years: 2014 and 2016, not 2015.
    years = await get_stats(client, "villages", group_by="year", year="2014,2016")
    assert tabulate(years) == {(2014,): v(4, 2, 100, 200, 1 * B), (2016,): v(5, 2, 35, 48, 340 * M)}
    # Recognised in 2014 (V1, V4) or 2016 (V1, V3): 3; 100 + 35, 200 + 48, 1,000 + 340 M.
    assert years["totals"] == v(5, 3, 135, 248, 1_340 * M)

    established = await get_stats(
        client,
        "villages",
        group_by="status",
        year=2016,
        established_year_from=1901,
        craft_group="manufacturing",
    )
    # Manufacturing villages established 1901 or later: V3 (1950) and V5 (2016).
    assert tabulate(established) == {
        ("traditional_craft_village",): v(1, 1, 30, 40, 300 * M),
        ("unrecognised",): v(1, 0, 5, 8, 40 * M),
    }


async def test_villages_every_year_of_a_range_appears(client: httpx.AsyncClient) -> None:
    at = await village_data(client)
    body = await get_stats(
        client,
        "villages",
        group_by="year,status",
        year_from=2013,
        year_to=2017,
        district_id=at.d1["id"],
        craft_group="manufacturing",
    )
    # Manufacturing in D1: V1 (craft_village, est. 1900) and V5 (unrecognised, est. 2016). The
    # statuses found are crossed with every year; years without figures give zeros.
    assert tabulate(body) == {
        (2013, "craft_village"): v(1, 1, 0, 0, 0),
        (2013, "unrecognised"): v(0, 0, 0, 0, 0),
        (2014, "craft_village"): v(1, 1, 100, 200, 1 * B),
        (2014, "unrecognised"): v(0, 0, 0, 0, 0),
        (2015, "craft_village"): v(1, 1, 110, 220, 1_500 * M),
        (2015, "unrecognised"): v(0, 0, 0, 0, 0),
        (2016, "craft_village"): v(1, 1, 0, 0, 0),
        (2016, "unrecognised"): v(1, 0, 5, 8, 40 * M),
        (2017, "craft_village"): v(1, 1, 0, 0, 0),
        (2017, "unrecognised"): v(1, 0, 0, 0, 0),
    }
    # V1 and V5 once each; V1 recognised; 100 + 110 + 5 h, 200 + 220 + 8 w, 1,000 + 1,500 + 40 M.
    assert body["totals"] == v(2, 1, 215, 428, 2_540 * M)
    # Every row is whole: the filled ones carry their labels too.
    filled = next(r for r in body["rows"] if r["year"] == 2013 and r["status"]["code"] == "unrecognised")
    assert filled["status"] == {
        "code": "unrecognised",
        "vi": "Làng có nghề (chưa công nhận)",
        "en": "Village with a craft, not recognised",
    }


async def test_enumerations_carry_both_labels(client: httpx.AsyncClient) -> None:
    await village_data(client)
    body = await get_stats(client, "villages", group_by="craft_group,status", year=2015)
    row = next(r for r in body["rows"] if r["status"]["code"] == "craft_village" and r["workers"] == 220)
    assert row == {
        "craft_group": {
            "code": "manufacturing",
            "vi": (
                "Sản xuất đồ gỗ, mây tre đan, gốm sứ, thủy tinh, dệt may, sợi, thêu ren, đan lát, cơ khí nhỏ"
            ),
            "en": "Wood, rattan-bamboo, ceramics, glass, textiles, embroidery, small mechanical goods",
        },
        "status": {"code": "craft_village", "vi": "Làng nghề", "en": "Recognised craft village"},
        **v(1, 1, 110, 220, 1_500 * M),  # V1
    }
