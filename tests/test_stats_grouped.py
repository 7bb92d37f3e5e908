"""GET /api/v1/stats/{villages,cooperatives,programmes,trade-fairs}?group_by=...: grouped figures.

Data are written through the API in the test's rolled-back transaction; every expected number is
worked out by hand in the comment beside it. Also: refusals, exact sums far beyond 64 bits, and
the plans PostgreSQL chooses for filtered statistics: the statements a request runs are captured
as sent to the driver and EXPLAINed with the same parameters, on tables big enough (and analysed)
for an index to pay.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.stats.cache import Memory
from tests import factories as f
from tests.stats_helpers import JSON, STATS, get_stats, named, statements, tabulate

VILLAGE = ("villages", "recognised", "households", "workers", "production_value_vnd")
COOPERATIVE = ("cooperatives", "members", "charter_capital_vnd")
PROGRAMME = ("programmes", "support_vnd", "counterpart_vnd", "beneficiaries")
FAIR = ("fairs", "standard_booths", "exhibitors", "visitors", "contract_value_vnd", "sales_vnd")

M = 1_000_000  # one triệu đồng
B = 1_000_000_000  # one tỷ đồng


def v(*values: int) -> dict[str, int]:
    return named(VILLAGE, *values)


def c(*values: int) -> dict[str, int]:
    return named(COOPERATIVE, *values)


def p(*values: int) -> dict[str, int]:
    return named(PROGRAMME, *values)


def t(*values: int) -> dict[str, int]:
    return named(FAIR, *values)


@pytest.fixture(autouse=True)
def fresh_stats_memory(app: FastAPI) -> None:
    """Each test's writes are rolled back, data versions included, so a tag can recur with other
    data in the next test: start each test with an empty statistics memory."""
    app.state.stats_memory = Memory()


@dataclass(frozen=True)
class Districts:
    d1: JSON  # 362 Nam Trực
    d2: JSON  # 360 Ý Yên


async def districts(client: httpx.AsyncClient) -> Districts:
    province = await f.province(client)
    d1 = await f.district(client, province["id"])
    d2 = await f.district(client, province["id"], code="360", name="Ý Yên")
    return Districts(d1, d2)


# -- villages ------------------------------------------------------------------------------------


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


# -- co-operatives -------------------------------------------------------------------------------


async def cooperative_data(client: httpx.AsyncClient) -> Districts:
    """C1 D1 textile cooperative active, 10 members, 500 M, founded 2010-03-01
    C2 D1 mechanical union active, 7 members, 1,200 M, founded 2015-07-15
    C3 D2 textile cooperative dissolved, 20 members, 300 M, founded 2010-11-11, dissolved 2016-01-01
    C4 D2 sedge group suspended, no members, no capital, no dates"""
    at = await districts(client)
    d1, d2 = at.d1["id"], at.d2["id"]
    await f.cooperative(
        client,
        d1,
        "HTX Một",
        sector="textile_garment",
        members=10,
        charter_capital_vnd=500 * M,
        founded_on="2010-03-01",
    )
    await f.cooperative(
        client,
        d1,
        "Liên hiệp HTX Hai",
        sector="mechanical",
        legal_form="cooperative_union",
        members=7,
        charter_capital_vnd=1_200 * M,
        founded_on="2015-07-15",
    )
    await f.cooperative(
        client,
        d2,
        "HTX Ba",
        sector="textile_garment",
        status="dissolved",
        members=20,
        charter_capital_vnd=300 * M,
        founded_on="2010-11-11",
        dissolved_on="2016-01-01",
    )
    await f.cooperative(
        client, d2, "Tổ hợp tác Bốn", sector="sedge", legal_form="cooperative_group", status="suspended"
    )
    return at


COOP_TOTALS = c(4, 37, 2_000 * M)  # 10 + 7 + 20 members; 500 + 1,200 + 300 M


async def test_cooperatives_by_each_dimension_alone(client: httpx.AsyncClient) -> None:
    at = await cooperative_data(client)
    expected = {
        "sector": {
            ("mechanical",): c(1, 7, 1_200 * M),  # C2
            ("sedge",): c(1, 0, 0),  # C4: nothing recorded counts as zero
            ("textile_garment",): c(2, 30, 800 * M),  # C1 + C3: 10 + 20, 500 + 300 M
        },
        "legal_form": {
            ("cooperative",): c(2, 30, 800 * M),  # C1 + C3
            ("cooperative_union",): c(1, 7, 1_200 * M),  # C2
            ("cooperative_group",): c(1, 0, 0),  # C4
        },
        "status": {
            ("active",): c(2, 17, 1_700 * M),  # C1 + C2: 10 + 7, 500 + 1,200 M
            ("dissolved",): c(1, 20, 300 * M),  # C3
            ("suspended",): c(1, 0, 0),  # C4
        },
        "district": {
            ("362",): c(2, 17, 1_700 * M),  # C1 + C2
            ("360",): c(2, 20, 300 * M),  # C3 + C4
        },
        "founded_year": {
            (2010,): c(2, 30, 800 * M),  # C1 + C3
            (2015,): c(1, 7, 1_200 * M),  # C2
            (None,): c(1, 0, 0),  # C4 has no founding date
        },
    }
    for dimension, rows in expected.items():
        body = await get_stats(client, "cooperatives", group_by=dimension)
        assert body["group_by"] == [dimension]
        assert tabulate(body) == rows, dimension
        assert body["totals"] == COOP_TOTALS, dimension
    by_district = await get_stats(client, "cooperatives", group_by="district")
    assert {r["district"]["id"] for r in by_district["rows"]} == {at.d1["id"], at.d2["id"]}
    assert next(r for r in by_district["rows"] if r["district"]["code"] == "360")["district"] == {
        "id": at.d2["id"],
        "code": "360",
        "name": "Ý Yên",
    }


async def test_cooperatives_combinations_and_filters(client: httpx.AsyncClient) -> None:
    at = await cooperative_data(client)

    two = await get_stats(client, "cooperatives", group_by="district,sector")
    assert tabulate(two) == {
        ("362", "mechanical"): c(1, 7, 1_200 * M),  # C2
        ("362", "textile_garment"): c(1, 10, 500 * M),  # C1
        ("360", "sedge"): c(1, 0, 0),  # C4
        ("360", "textile_garment"): c(1, 20, 300 * M),  # C3
    }
    assert two["totals"] == COOP_TOTALS

    three = await get_stats(client, "cooperatives", group_by="sector,status,founded_year")
    assert tabulate(three) == {
        ("mechanical", "active", 2015): c(1, 7, 1_200 * M),
        ("sedge", "suspended", None): c(1, 0, 0),
        ("textile_garment", "active", 2010): c(1, 10, 500 * M),
        ("textile_garment", "dissolved", 2010): c(1, 20, 300 * M),
    }

    in_d1 = await get_stats(client, "cooperatives", group_by="sector", district_id=at.d1["id"])
    assert tabulate(in_d1) == {("mechanical",): c(1, 7, 1_200 * M), ("textile_garment",): c(1, 10, 500 * M)}
    assert in_d1["totals"] == c(2, 17, 1_700 * M)

    textile = await get_stats(client, "cooperatives", group_by="status", sector="textile_garment")
    assert tabulate(textile) == {("active",): c(1, 10, 500 * M), ("dissolved",): c(1, 20, 300 * M)}

    # Founded in 2011 or later: C2 only (C4, without a date, is not selected).
    recent = await get_stats(client, "cooperatives", group_by="legal_form", founded_on_from="2011-01-01")
    assert tabulate(recent) == {("cooperative_union",): c(1, 7, 1_200 * M)}
    assert recent["totals"] == c(1, 7, 1_200 * M)


# -- programmes ----------------------------------------------------------------------------------


async def programme_data(client: httpx.AsyncClient) -> None:
    """P1 extension vocational_training 2014: central 100 M, provincial 50 M, counterpart 30 M;
       beneficiaries a village and a co-operative (2)
    P2 extension demonstration_model 2015: provincial 200 M, other 10 M; beneficiary the village (1)
    P3 promotion fair_participation 2015: provincial 60 M; no beneficiary
    P4 promotion market_information 2017: no funding line; beneficiary the co-operative (1)
    No programme in 2016."""
    at = await districts(client)
    village = await f.village(client, at.d1["id"], "Làng Hưởng")
    cooperative = await f.cooperative(client, at.d1["id"], "HTX Hưởng")

    def line(source: str, amount: int) -> JSON:
        return {"source": source, "amount_vnd": amount}

    await f.programme(
        client,
        "P1 Đào tạo nghề",
        year=2014,
        funding=[line("central", 100 * M), line("provincial", 50 * M), line("counterpart", 30 * M)],
        beneficiaries=[{"village_id": village["id"]}, {"cooperative_id": cooperative["id"]}],
    )
    await f.programme(
        client,
        "P2 Mô hình trình diễn",
        activity="demonstration_model",
        funding=[line("provincial", 200 * M), line("other", 10 * M)],
        beneficiaries=[{"village_id": village["id"]}],
    )
    await f.programme(
        client,
        "P3 Tham gia hội chợ",
        kind="trade_promotion",
        activity="fair_participation",
        funding=[line("provincial", 60 * M)],
    )
    await f.programme(
        client,
        "P4 Thông tin thị trường",
        kind="trade_promotion",
        activity="market_information",
        year=2017,
        beneficiaries=[{"cooperative_id": cooperative["id"]}],
    )


# Support: 150 (P1: 100 + 50) + 200 (P2) + 60 (P3) = 410 M; counterpart 30 M (P1); P2's 'other'
# 10 M in neither; beneficiaries 2 + 1 + 0 + 1.
PROGRAMME_TOTALS = p(4, 410 * M, 30 * M, 4)


async def test_programmes_by_each_dimension_alone(client: httpx.AsyncClient) -> None:
    await programme_data(client)
    expected = {
        "year": {
            (2014,): p(1, 150 * M, 30 * M, 2),  # P1
            (2015,): p(2, 260 * M, 0, 1),  # P2 + P3: 200 + 60 M; beneficiaries 1 + 0
            (2017,): p(1, 0, 0, 1),  # P4
        },
        "kind": {
            ("industrial_extension",): p(2, 350 * M, 30 * M, 3),  # P1 + P2: 150 + 200 M; 2 + 1
            ("trade_promotion",): p(2, 60 * M, 0, 1),  # P3 + P4
        },
        "activity": {
            ("vocational_training",): p(1, 150 * M, 30 * M, 2),
            ("demonstration_model",): p(1, 200 * M, 0, 1),
            ("fair_participation",): p(1, 60 * M, 0, 0),
            ("market_information",): p(1, 0, 0, 1),
        },
    }
    for dimension, rows in expected.items():
        body = await get_stats(client, "programmes", group_by=dimension)
        assert tabulate(body) == rows, dimension
        assert body["totals"] == PROGRAMME_TOTALS, dimension


async def test_programmes_by_funding_source(client: httpx.AsyncClient) -> None:
    await programme_data(client)
    body = await get_stats(client, "programmes", group_by="funding_source")
    assert tabulate(body) == {
        ("central",): p(1, 100 * M, 0, 2),  # P1's central line; P1's 2 beneficiaries
        # P1, P2 and P3 each appear here and under their other sources: 50 + 200 + 60 M; 2 + 1 + 0.
        ("provincial",): p(3, 310 * M, 0, 3),
        ("counterpart",): p(1, 0, 30 * M, 2),  # P1: counterpart is not support
        ("other",): p(1, 0, 0, 1),  # P2's 10 M: neither support nor counterpart
        (None,): p(1, 0, 0, 1),  # P4 has no funding line
    }
    unfunded = next(r for r in body["rows"] if r["funding_source"]["code"] is None)
    assert unfunded["funding_source"] == {"code": None, "vi": None, "en": None}
    provincial = next(r for r in body["rows"] if r["funding_source"]["code"] == "provincial")
    assert provincial["funding_source"] == {
        "code": "provincial",
        "vi": "Ngân sách tỉnh",
        "en": "Provincial budget",
    }
    # The totals count each programme once: 4, not 1 + 3 + 1 + 1 + 1 = 7.
    assert body["totals"] == PROGRAMME_TOTALS


async def test_programmes_combinations_gaps_and_filters(client: httpx.AsyncClient) -> None:
    await programme_data(client)

    two = await get_stats(client, "programmes", group_by="year,kind", year_from=2014, year_to=2017)
    # Both kinds are crossed with every year 2014-2017, zeros included (2016 has no programme).
    assert tabulate(two) == {
        (2014, "industrial_extension"): p(1, 150 * M, 30 * M, 2),
        (2014, "trade_promotion"): p(0, 0, 0, 0),
        (2015, "industrial_extension"): p(1, 200 * M, 0, 1),
        (2015, "trade_promotion"): p(1, 60 * M, 0, 0),
        (2016, "industrial_extension"): p(0, 0, 0, 0),
        (2016, "trade_promotion"): p(0, 0, 0, 0),
        (2017, "industrial_extension"): p(0, 0, 0, 0),
        (2017, "trade_promotion"): p(1, 0, 0, 1),
    }
    assert [(r["year"], r["kind"]["code"]) for r in two["rows"]][:2] == [
        (2014, "industrial_extension"),
        (2014, "trade_promotion"),
    ]
    assert two["totals"] == PROGRAMME_TOTALS

    years = await get_stats(client, "programmes", group_by="year", year_from=2012, year_to=2018)
    assert tabulate(years) == {
        (2012,): p(0, 0, 0, 0),
        (2013,): p(0, 0, 0, 0),
        (2014,): p(1, 150 * M, 30 * M, 2),
        (2015,): p(2, 260 * M, 0, 1),
        (2016,): p(0, 0, 0, 0),
        (2017,): p(1, 0, 0, 1),
        (2018,): p(0, 0, 0, 0),
    }
    assert [r["year"] for r in years["rows"]] == list(range(2012, 2019))

    three = await get_stats(client, "programmes", group_by="year,kind,funding_source")
    assert tabulate(three) == {
        (2014, "industrial_extension", "central"): p(1, 100 * M, 0, 2),
        (2014, "industrial_extension", "counterpart"): p(1, 0, 30 * M, 2),
        (2014, "industrial_extension", "provincial"): p(1, 50 * M, 0, 2),
        (2015, "industrial_extension", "other"): p(1, 0, 0, 1),
        (2015, "industrial_extension", "provincial"): p(1, 200 * M, 0, 1),
        (2015, "trade_promotion", "provincial"): p(1, 60 * M, 0, 0),
        (2017, "trade_promotion", None): p(1, 0, 0, 1),
    }
    assert three["totals"] == PROGRAMME_TOTALS

    extension = await get_stats(client, "programmes", group_by="year", kind="industrial_extension")
    assert tabulate(extension) == {(2014,): p(1, 150 * M, 30 * M, 2), (2015,): p(1, 200 * M, 0, 1)}
    assert extension["totals"] == p(2, 350 * M, 30 * M, 3)

    since_2015 = await get_stats(client, "programmes", group_by="kind", year_from=2015)
    assert tabulate(since_2015) == {
        ("industrial_extension",): p(1, 200 * M, 0, 1),  # P2
        ("trade_promotion",): p(2, 60 * M, 0, 1),  # P3 + P4
    }
    assert since_2015["totals"] == p(3, 260 * M, 0, 2)

    # Programmes with a counterpart line (P1), with all their money.
    with_counterpart = await get_stats(client, "programmes", group_by="kind", funding_source="counterpart")
    assert tabulate(with_counterpart) == {("industrial_extension",): p(1, 150 * M, 30 * M, 2)}


# -- trade fairs ---------------------------------------------------------------------------------


async def fair_data(client: httpx.AsyncClient) -> None:
    """F1 hosted 2014-10-01, Nam Định VN: 200 booths, 150 exhibitors, 10,000 visitors, 5 tỷ, 1 tỷ
    F2 attended 2015-04-08, Hà Nội VN: 10, 5, -, -, 200 M
    F3 overseas 2015-09-11, CN, no province: 4, 2, 0, 3 tỷ, 0
    F4 hosted 2017-12-31 to 2018-01-03, Nam Định VN: 320, 230, 52,000, 12 tỷ, 2.5 tỷ"""
    await f.fair(
        client,
        "F1 Hội chợ Nam Định 2014",
        start_on="2014-10-01",
        end_on="2014-10-05",
        province="Nam Định",
        standard_booths=200,
        exhibitors=150,
        visitors=10_000,
        contract_value_vnd=5 * B,
        sales_vnd=1 * B,
    )
    await f.fair(
        client,
        "F2 Hội chợ Hà Nội 2015",
        kind="attended",
        start_on="2015-04-08",
        end_on="2015-04-11",
        province="Hà Nội",
        standard_booths=10,
        exhibitors=5,
        sales_vnd=200 * M,
    )
    await f.fair(
        client,
        "F3 CAEXPO 2015",
        kind="overseas",
        country="CN",
        start_on="2015-09-11",
        end_on="2015-09-14",
        standard_booths=4,
        exhibitors=2,
        visitors=0,
        contract_value_vnd=3 * B,
        sales_vnd=0,
    )
    await f.fair(
        client,
        "F4 Hội chợ Nam Định cuối năm",
        start_on="2017-12-31",
        end_on="2018-01-03",
        province="Nam Định",
        standard_booths=320,
        exhibitors=230,
        visitors=52_000,
        contract_value_vnd=12 * B,
        sales_vnd=2_500 * M,
    )


# 200 + 10 + 4 + 320 booths; 150 + 5 + 2 + 230 exhibitors; 10,000 + 52,000 visitors;
# 5 + 3 + 12 tỷ contracts; 1,000 + 200 + 2,500 M sales.
FAIR_TOTALS = t(4, 534, 387, 62_000, 20 * B, 3_700 * M)


async def test_trade_fairs_by_each_dimension_alone(client: httpx.AsyncClient) -> None:
    await fair_data(client)
    expected = {
        "year": {
            (2014,): t(1, 200, 150, 10_000, 5 * B, 1 * B),  # F1
            (2015,): t(2, 14, 7, 0, 3 * B, 200 * M),  # F2 + F3: 10 + 4, 5 + 2
            (2017,): t(1, 320, 230, 52_000, 12 * B, 2_500 * M),  # F4, by its start in 2017
        },
        "kind": {
            ("hosted",): t(2, 520, 380, 62_000, 17 * B, 3_500 * M),  # F1 + F4
            ("attended",): t(1, 10, 5, 0, 0, 200 * M),  # F2
            ("overseas",): t(1, 4, 2, 0, 3 * B, 0),  # F3
        },
        "province": {
            ("Nam Định",): t(2, 520, 380, 62_000, 17 * B, 3_500 * M),
            ("Hà Nội",): t(1, 10, 5, 0, 0, 200 * M),
            (None,): t(1, 4, 2, 0, 3 * B, 0),
        },
        "country": {
            ("VN",): t(3, 530, 385, 62_000, 17 * B, 3_700 * M),  # F1 + F2 + F4
            ("CN",): t(1, 4, 2, 0, 3 * B, 0),
        },
    }
    for dimension, rows in expected.items():
        body = await get_stats(client, "trade-fairs", group_by=dimension)
        assert tabulate(body) == rows, dimension
        assert body["totals"] == FAIR_TOTALS, dimension
    kinds = await get_stats(client, "trade-fairs", group_by="kind")
    assert next(r for r in kinds["rows"] if r["kind"]["code"] == "overseas")["kind"] == {
        "code": "overseas",
        "vi": "Hội chợ nước ngoài",
        "en": "Overseas",
    }


async def test_trade_fairs_combinations_gaps_and_filters(client: httpx.AsyncClient) -> None:
    await fair_data(client)

    body = await get_stats(client, "trade-fairs", group_by="year,kind", year_from=2013, year_to=2018)
    rows = tabulate(body)
    # 6 years x the 3 kinds found = 18 rows; all but four are zeros.
    assert len(rows) == 18
    nonzero = {key: row for key, row in rows.items() if row != t(0, 0, 0, 0, 0, 0)}
    assert nonzero == {
        (2014, "hosted"): t(1, 200, 150, 10_000, 5 * B, 1 * B),
        (2015, "attended"): t(1, 10, 5, 0, 0, 200 * M),
        (2015, "overseas"): t(1, 4, 2, 0, 3 * B, 0),
        (2017, "hosted"): t(1, 320, 230, 52_000, 12 * B, 2_500 * M),
    }
    assert {year for year, _ in rows} == set(range(2013, 2019))
    assert body["totals"] == FAIR_TOTALS

    three = await get_stats(client, "trade-fairs", group_by="year,kind,country")
    assert tabulate(three) == {
        (2014, "hosted", "VN"): t(1, 200, 150, 10_000, 5 * B, 1 * B),
        (2015, "attended", "VN"): t(1, 10, 5, 0, 0, 200 * M),
        (2015, "overseas", "CN"): t(1, 4, 2, 0, 3 * B, 0),
        (2017, "hosted", "VN"): t(1, 320, 230, 52_000, 12 * B, 2_500 * M),
    }

    hosted = await get_stats(client, "trade-fairs", group_by="year", kind="hosted")
    assert tabulate(hosted) == {
        (2014,): t(1, 200, 150, 10_000, 5 * B, 1 * B),
        (2017,): t(1, 320, 230, 52_000, 12 * B, 2_500 * M),
    }
    assert hosted["totals"] == t(2, 520, 380, 62_000, 17 * B, 3_500 * M)

    # Fairs starting in 2015 or later: F2, F3, F4.
    since = await get_stats(client, "trade-fairs", group_by="kind", year_from=2015)
    assert since["totals"] == t(3, 334, 237, 52_000, 15 * B, 2_700 * M)  # 10+4+320, 5+2+230, ...

    in_2015 = await get_stats(client, "trade-fairs", group_by="country", year=2015)
    assert tabulate(in_2015) == {("VN",): t(1, 10, 5, 0, 0, 200 * M), ("CN",): t(1, 4, 2, 0, 3 * B, 0)}


# -- refusals ------------------------------------------------------------------------------------

DIMENSIONS = {
    "villages": ["craft_group", "status", "district", "year"],
    "cooperatives": ["sector", "legal_form", "status", "district", "founded_year"],
    "programmes": ["year", "kind", "activity", "funding_source"],
    "trade-fairs": ["year", "kind", "province", "country"],
}


def _bad_group_bys() -> list[tuple[str, str]]:
    cases = []
    for path, dims in DIMENSIONS.items():
        cases += [
            (path, "colour"),  # unknown
            (path, f"{dims[0]},nonsense"),  # one known, one unknown
            (path, f"{dims[1]},{dims[1]}"),  # repeated
            (path, ",".join(dims[:4])),  # four
            (path, ""),  # none
        ]
    return cases


@pytest.mark.parametrize(("path", "group_by"), _bad_group_bys())
async def test_bad_group_by_lists_the_allowed_dimensions(
    client: httpx.AsyncClient, path: str, group_by: str
) -> None:
    response = await client.get(f"{STATS}/{path}", params={"group_by": group_by})
    body = f.assert_invalid(response, "group_by", location="query")
    assert body["allowed"] == DIMENSIONS[path]
    for dimension in DIMENSIONS[path]:
        assert dimension in body["detail"]


@pytest.mark.parametrize("path", list(DIMENSIONS))
async def test_missing_group_by_lists_the_allowed_dimensions(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(f"{STATS}/{path}")
    body = f.assert_invalid(response, "group_by", location="query")
    assert body.get("allowed") == DIMENSIONS[path]


@pytest.mark.parametrize("path", list(DIMENSIONS))
async def test_missing_group_by_is_refused(client: httpx.AsyncClient, path: str) -> None:
    f.assert_invalid(await client.get(f"{STATS}/{path}"), "group_by", location="query")


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("villages", "group_by=status&colour=red"),
        ("villages", "group_by=status&limit=10"),  # paging belongs to the lists only
        ("villages", "group_by=year&year_from=1899"),
        ("cooperatives", "group_by=sector&sector=banking"),
        ("cooperatives", "group_by=sector&year=2015"),  # co-operatives take no year
        ("programmes", "group_by=kind&kind=lottery"),
        ("programmes", "group_by=kind&sort=year"),
        ("trade-fairs", "group_by=kind&country=Vietnam"),
        ("trade-fairs", "group_by=kind&district_id=1"),
    ],
)
async def test_unknown_or_invalid_filter_is_refused(client: httpx.AsyncClient, path: str, query: str) -> None:
    response = await client.get(f"{STATS}/{path}?{query}")
    body = f.assert_invalid(response, location="query")
    assert body["errors"], body


# -- exactness -----------------------------------------------------------------------------------


async def test_a_hundred_thousand_lines_of_a_trillion(client: httpx.AsyncClient, db: AsyncSession) -> None:
    programme = await f.programme(client, "Đề án nghìn tỷ", year=2019)
    await db.execute(
        text(
            "INSERT INTO programme_funding (programme_id, source, amount_vnd)"
            " SELECT :id, 'central', 1000000000000 FROM generate_series(1, 100000)"
        ),
        {"id": programme["id"]},
    )
    expected = 100_000 * 10**12  # = 10^17, beyond any 32-bit and most float mantissas' exactness

    response = await client.get(f"{STATS}/overview", params={"year": 2019})
    assert response.status_code == 200, response.text
    support = json.loads(response.content)["industrial_extension"]["support_vnd"]
    assert type(support) is int
    assert support == expected == 100_000_000_000_000_000
    assert b'"support_vnd":100000000000000000' in response.content  # an integer, not 1e17

    grouped = await get_stats(client, "programmes", group_by="year", year=2019)
    assert tabulate(grouped) == {(2019,): p(1, expected, 0, 0)}
    assert grouped["totals"] == p(1, expected, 0, 0)


async def test_sums_beyond_sixty_four_bits_stay_exact(client: httpx.AsyncClient) -> None:
    big = 9_000_000_000_000_000_000  # 9 * 10^18: a line may hold it (< 2^63 - 1 = 9,223,372,036,854,775,807)
    line = {"source": "provincial", "amount_vnd": big}
    await f.programme(client, "Đề án khổng lồ", year=2020, funding=[line] * 10)
    at = await districts(client)
    one = await f.village(client, at.d1["id"], "Làng Giàu")
    two = await f.village(client, at.d1["id"], "Làng Giàu Hơn")
    for village in (one, two):
        await f.figure(client, village["id"], 2020, production_value_vnd=big)
    for name in ("Hội chợ Lớn", "Hội chợ Lớn Hơn"):
        await f.fair(
            client, name, start_on="2020-05-01", end_on="2020-05-03", contract_value_vnd=big, sales_vnd=big
        )
    for name in ("HTX Giàu", "HTX Giàu Hơn"):
        await f.cooperative(client, at.d1["id"], name, charter_capital_vnd=big)
    ten = 90_000_000_000_000_000_000  # 10 * 9 * 10^18 = 9 * 10^19 > 2^64 = 18,446,744,073,709,551,616
    two_big = 18_000_000_000_000_000_000  # 2 * 9 * 10^18 = 1.8 * 10^19 > 2^63

    overview = await get_stats(client, "overview", year=2020)
    assert overview["industrial_extension"]["support_vnd"] == ten
    assert overview["villages"]["production_value_vnd"] == two_big

    programmes = await get_stats(client, "programmes", group_by="funding_source", year=2020)
    assert tabulate(programmes) == {("provincial",): p(1, ten, 0, 0)}
    assert programmes["totals"]["support_vnd"] == ten

    villages = await get_stats(client, "villages", group_by="district", year=2020)
    assert villages["totals"]["production_value_vnd"] == two_big

    fairs = await get_stats(client, "trade-fairs", group_by="year", year=2020)
    assert fairs["totals"]["contract_value_vnd"] == two_big
    assert fairs["totals"]["sales_vnd"] == two_big

    cooperatives = await get_stats(client, "cooperatives", group_by="sector")
    assert cooperatives["totals"]["charter_capital_vnd"] == two_big


# -- plans ---------------------------------------------------------------------------------------


def _plan_nodes(plan: Any) -> list[tuple[str, str | None]]:
    """(node type, index name) of every node of an EXPLAIN (FORMAT JSON) plan."""
    found = [(plan["Node Type"], plan.get("Index Name"))]
    for child in plan.get("Plans", []):
        found += _plan_nodes(child)
    return found


async def _explain_what_a_request_runs(
    client: httpx.AsyncClient, db: AsyncSession, engine: AsyncEngine, url: str, table: str
) -> list[list[tuple[str, str | None]]]:
    """EXPLAIN each statement the statistic runs on `table` (rows and totals), with its parameters."""
    with statements(engine) as sent:
        response = await client.get(url)
    assert response.status_code == 200, response.text
    queries = [(sql, params) for sql, params in sent if f"FROM {table}" in sql and "GROUP BY" in sql.upper()]
    queries += [
        (sql, params) for sql, params in sent if f"FROM {table}" in sql and (sql, params) not in queries
    ]
    assert queries, sent
    conn = await db.connection()
    plans = []
    for sql, params in queries:
        result = await conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + sql, params)
        document = result.scalar_one()
        plan = (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]
        plans.append(_plan_nodes(plan))
    return plans


INDEX_SCANS = {"Index Scan", "Index Only Scan", "Bitmap Index Scan"}


def _uses(plan: list[tuple[str, str | None]], index: str) -> bool:
    return any(node in INDEX_SCANS and name == index for node, name in plan)


async def _many_fairs(db: AsyncSession) -> None:
    """10,000 fairs over 100 years (1950-2049), 100 a year; analysed."""
    await db.execute(
        text(
            "INSERT INTO trade_fair (name, kind, start_on, end_on)"
            " SELECT 'Hội chợ ' || g, 'attended', d, d"
            " FROM generate_series(1, 10000) g, make_date(1950 + g % 100, 1 + g % 12, 1 + g % 28) d"
        )
    )
    await db.execute(text("ANALYZE trade_fair"))


async def test_filtered_statistics_use_the_indexes(
    client: httpx.AsyncClient, db: AsyncSession, engine: AsyncEngine
) -> None:
    # 100 districts x 100 villages, 100 years x 100 programmes, 100 years x 100 fairs: a filter on
    # one district, one year or one year's dates selects 1 % of a table, where an index wins.
    await db.execute(
        text(
            "INSERT INTO admin_unit (code, name, level)"
            " SELECT 'x' || g, 'Huyện ' || g, 'district' FROM generate_series(1, 100) g"
        )
    )
    await db.execute(
        text(
            "INSERT INTO village (name, district_id, craft_group)"
            " SELECT 'Làng ' || g, d.id, 'salt' FROM generate_series(1, 10000) g"
            " JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM admin_unit"
            "       WHERE code LIKE 'x%') d ON d.n = g % 100"
        )
    )
    await db.execute(
        text(
            "INSERT INTO programme (name, kind, activity, year)"
            " SELECT 'Đề án ' || g, 'industrial_extension', 'consulting', 1950 + g % 100"
            " FROM generate_series(1, 10000) g"
        )
    )
    await _many_fairs(db)
    for table in ("admin_unit", "village", "programme"):
        await db.execute(text(f"ANALYZE {table}"))
    district_id = (await db.execute(text("SELECT min(id) FROM admin_unit WHERE code = 'x7'"))).scalar_one()

    village_plans = await _explain_what_a_request_runs(
        client,
        db,
        engine,
        f"{STATS}/villages?group_by=craft_group&year=2015&district_id={district_id}",
        "village",
    )
    assert all(_uses(plan, "ix_village_district_id") for plan in village_plans), village_plans

    programme_plans = await _explain_what_a_request_runs(
        client, db, engine, f"{STATS}/programmes?group_by=kind&year=2015", "programme"
    )
    assert all(_uses(plan, "ix_programme_year") for plan in programme_plans), programme_plans

    fair_plans = await _explain_what_a_request_runs(
        client, db, engine, f"{STATS}/trade-fairs?group_by=kind&year_from=2015&year_to=2015", "trade_fair"
    )
    assert all(_uses(plan, "ix_trade_fair_start_on") for plan in fair_plans), fair_plans


async def test_fairs_of_a_year_use_the_start_on_index(
    client: httpx.AsyncClient, db: AsyncSession, engine: AsyncEngine
) -> None:
    await _many_fairs(db)
    plans = await _explain_what_a_request_runs(
        client, db, engine, f"{STATS}/trade-fairs?group_by=kind&year=2015", "trade_fair"
    )
    assert all(_uses(plan, "ix_trade_fair_start_on") for plan in plans), plans
