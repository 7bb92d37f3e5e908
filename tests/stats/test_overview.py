"""GET /api/v1/stats/overview: the report's 2015 figures from the sample data, and the definitions.

The sample data (app/seed.py) is loaded once into a database of the statistics tests' own (`seeded`
in tests/stats/conftest.py). Every expected number is the report's (the README's figures of 2015) or
worked out by hand from the seed's tables, with the arithmetic beside it; none is computed by the
code under test.
"""

from __future__ import annotations

import httpx
import pytest

from tests import factories as f
from tests.stats.helpers import JSON, get_stats

NO_GROUPS = {
    "agro_processing": 0,
    "handicraft": 0,
    "material_processing": 0,
    "manufacturing": 0,
    "ornamental": 0,
    "salt": 0,
    "rural_services": 0,
}
NO_SECTORS = {
    "textile_garment": 0,
    "mechanical": 0,
    "wood_processing": 0,
    "chemicals": 0,
    "clean_water": 0,
    "sedge": 0,
    "agro_processing": 0,
    "handicraft": 0,
    "other": 0,
}
NO_FAIRS = {"hosted": 0, "attended": 0, "overseas": 0, "trade_conference": 0}


pytestmark = pytest.mark.usefixtures("fresh_stats_memory")


# -- the sample data -----------------------------------------------------------------------------


async def test_overview_2015_is_the_report(seeded: httpx.AsyncClient) -> None:
    overview = await get_stats(seeded, "overview", year=2015)
    assert overview == {
        "year": 2015,
        "villages": {
            "total": 98,  # 11 + 51 + 36 (report)
            "recognised": 51,  # report; 6 real + 5 + 24 + 16 invented (seed _RECOGNISED_INVENTED)
            "by_craft_group": {
                **NO_GROUPS,
                "agro_processing": 11,
                "manufacturing": 51,
                "handicraft": 36,
            },
            "workers": 44_350,  # "over 44,000": the seed's WORKERS_2015
            "production_value_vnd": 4_100_000_000_000,  # "about 4,100 tỷ" = 4,100 × 10^9
        },
        "cooperatives": {
            "total": 32,  # 20 + 4 + 8 others (report)
            "by_sector": {
                **NO_SECTORS,
                "textile_garment": 20,
                "mechanical": 4,
                # The 8 others (seed _COOP_PLANS): wood 2, chemicals 1 + 1 (dissolved 2016),
                # clean water 1, sedge 2, farm produce 1 = 8. The 2017 and 2018 ones are not yet.
                "wood_processing": 2,
                "chemicals": 2,
                "clean_water": 1,
                "sedge": 2,
                "agro_processing": 1,
            },
        },
        "industrial_extension": {
            "programmes": 20,
            # Public lines of the 20 rows of 2015 (millions): (300+120) + (260+120) + 350 + 310
            # + (250+30) + (230+30) + 180 + 160 + 150 + 140 + 120 + 110 + (120+30) + 130 + 120
            # + 100 + (200+100) + 260 + 230 + (170+20) = 4,340 million = 4.34 tỷ.
            "support_vnd": 4_340_000_000,
            "counterpart_vnd": 0,  # no 2015 row has a counterpart line
        },
        "trade_promotion": {
            "programmes": 11,  # 8 fairs elsewhere + own fair + Lào Cai conference + FTA conference
            # (millions) 65 + 58 + 52 + 48 + 45 + 42 + 38 + 35 = 383 for the 8 attended fairs;
            # + 320 own fair + 78.5 Lào Cai + 40 FTA conference = 821.5 million.
            "support_vnd": 821_500_000,
            "fairs": {"hosted": 1, "attended": 8, "overseas": 0, "trade_conference": 1},
            "hosted_booths": 320,  # Nam Định Industry-Trade Fair 2015
        },
    }


async def test_overview_2014_and_2016_from_the_seed_tables(seeded: httpx.AsyncClient) -> None:
    y2014 = await get_stats(seeded, "overview", year=2014)
    # Invented villages are established by 1870 + k*37 % 140 <= 2009, real ones have no year: all 98.
    assert y2014["villages"]["total"] == 98
    # Recognised on date(2005 + k % 11, ...): in 2015 when k % 11 == 10, k in {10, 21, ..., 87}.
    # Manufacturing is k 10..57 (index k-10, every odd index of 48 recognised): 21 and 43, not
    # 10, 32, 54. Handicraft is k 58..91 (16 of 34 spread): index 29 (k 87) is, since
    # 30*16//34 = 14 > 29*16//34 = 13; indexes 7 (k 65) and 18 (k 76) are not. So 51 - 3 = 48.
    assert y2014["villages"]["recognised"] == 48
    assert y2014["cooperatives"]["total"] == 32  # all founded 1997 + i*7 % 18 <= 2014
    assert y2014["industrial_extension"] == {
        "programmes": 3,
        "support_vnd": 570_000_000,  # (250 + 80) + 90 + 150 million
        "counterpart_vnd": 455_000_000,  # 420 + 35 million
    }
    assert y2014["trade_promotion"] == {
        "programmes": 2,
        "support_vnd": 360_000_000,  # own fair 2014: 300 + Vietnam Expo 2014: 60 million
        "fairs": {**NO_FAIRS, "hosted": 1, "attended": 1},
        "hosted_booths": 280,
    }

    y2016 = await get_stats(seeded, "overview", year=2016)
    assert y2016["villages"]["total"] == 98
    # No recognition after 2015 (2005 + k % 11 <= 2015); the one revocation was in 2014.
    assert y2016["villages"]["recognised"] == 51
    # The chemicals co-operative dissolved on 30 Sep 2016 still counts in 2016.
    assert y2016["cooperatives"]["by_sector"]["chemicals"] == 2
    assert y2016["cooperatives"]["total"] == 32
    assert y2016["industrial_extension"] == {
        "programmes": 4,
        "support_vnd": 1_150_000_000,  # (400 + 150) + 180 + 170 + (210 + 40) million
        "counterpart_vnd": 540_000_000,  # 300 + 240 million
    }
    assert y2016["trade_promotion"] == {
        "programmes": 3,
        "support_vnd": 570_000_000,  # Vietnam Expo 70 + CAEXPO 150 + own fair 350 million
        "fairs": {**NO_FAIRS, "hosted": 1, "attended": 1, "overseas": 1},  # CAEXPO, Nam Ninh (CN)
        "hosted_booths": 350,
    }

    y2017 = await get_stats(seeded, "overview", year=2017)
    # 32 - 1 (chemicals, dissolved 30 Sep 2016) + 1 (textile, founded 15 Mar 2017) = 32.
    assert y2017["cooperatives"]["total"] == 32
    assert y2017["cooperatives"]["by_sector"]["chemicals"] == 1
    assert y2017["cooperatives"]["by_sector"]["textile_garment"] == 21
    assert y2017["industrial_extension"]["programmes"] == 0
    assert y2017["trade_promotion"]["fairs"] == NO_FAIRS


async def test_grouped_statistics_of_the_sample_data(seeded: httpx.AsyncClient) -> None:
    villages = await get_stats(seeded, "villages", group_by="craft_group", year=2015)
    counts = {r["craft_group"]["code"]: (r["villages"], r["recognised"]) for r in villages["rows"]}
    # Recognised: agro 5 invented + Kiên Lao; manufacturing 24 + Vân Chàng, Tống Xá, Thạch Cầu;
    # handicraft 16 + La Xuyên, Cát Đằng.
    assert counts == {"agro_processing": (11, 6), "manufacturing": (51, 27), "handicraft": (36, 18)}
    assert villages["totals"]["villages"] == 98
    assert villages["totals"]["recognised"] == 51  # 6 + 27 + 18
    assert villages["totals"]["workers"] == 44_350
    assert villages["totals"]["production_value_vnd"] == 4_100_000_000_000

    programmes = await get_stats(seeded, "programmes", group_by="year,kind", year_from=2013, year_to=2016)
    money = {
        (r["year"], r["kind"]["code"]): (r["programmes"], r["support_vnd"], r["counterpart_vnd"])
        for r in programmes["rows"]
    }
    assert money == {
        (2013, "industrial_extension"): (0, 0, 0),  # no programme in 2013: filled with zeros
        (2013, "trade_promotion"): (0, 0, 0),
        (2014, "industrial_extension"): (3, 570_000_000, 455_000_000),
        (2014, "trade_promotion"): (2, 360_000_000, 0),
        (2015, "industrial_extension"): (20, 4_340_000_000, 0),
        (2015, "trade_promotion"): (11, 821_500_000, 0),
        (2016, "industrial_extension"): (4, 1_150_000_000, 540_000_000),
        (2016, "trade_promotion"): (3, 570_000_000, 0),
    }
    # 3 + 2 + 20 + 11 + 4 + 3 = 43; 570 + 360 + 4,340 + 821.5 + 1,150 + 570 = 7,811.5 million.
    assert programmes["totals"]["programmes"] == 43
    assert programmes["totals"]["support_vnd"] == 7_811_500_000
    assert programmes["totals"]["counterpart_vnd"] == 995_000_000  # 455 + 540 million

    fairs = await get_stats(seeded, "trade-fairs", group_by="kind", year=2015)
    by_kind = {r["kind"]["code"]: (r["fairs"], r["standard_booths"]) for r in fairs["rows"]}
    # Only the own fair gives its booths; kinds without a 2015 fair have no row.
    assert by_kind == {"attended": (8, 0), "hosted": (1, 320), "trade_conference": (1, 0)}
    assert fairs["totals"]["exhibitors"] == 230
    assert fairs["totals"]["visitors"] == 52_000

    cooperatives = await get_stats(seeded, "cooperatives", group_by="sector")
    # Every co-operative whatever its dates: the 32 of 2015 + textile 2017 + lacquer 2018.
    sectors = {r["sector"]["code"]: r["cooperatives"] for r in cooperatives["rows"]}
    assert sectors == {
        "textile_garment": 21,
        "mechanical": 4,
        "wood_processing": 2,
        "chemicals": 2,
        "clean_water": 1,
        "sedge": 2,
        "agro_processing": 1,
        "handicraft": 1,
    }
    assert cooperatives["totals"]["cooperatives"] == 34


# -- the definitions, on data written here -------------------------------------------------------


async def _definitions_data(client: httpx.AsyncClient) -> None:
    """Records on both sides of every boundary of the 2015 overview."""
    province = await f.province(client)
    d = (await f.district(client, province["id"]))["id"]

    async def village(name: str, group: str, **extra: object) -> JSON:
        return await f.village(client, d, name, craft_group=group, **extra)

    await village("A mới lập", "manufacturing", established_year=2016)  # not yet in 2015
    b = await village("B lập 2015", "salt", established_year=2015)
    await village("C công nhận 2016", "handicraft", status="craft_village", recognised_on="2016-01-01")
    dv = await village(
        "D công nhận cuối năm", "handicraft", status="craft_village", recognised_on="2015-12-31"
    )
    await village(
        "E thu hồi cuối năm",
        "manufacturing",
        status="craft_village",
        recognised_on="2010-01-01",
        revoked_on="2015-12-31",
    )
    await village(
        "F thu hồi 2016",
        "ornamental",
        status="traditional_craft_village",
        recognised_on="2010-01-01",
        revoked_on="2016-01-01",
    )
    await village("G chưa công nhận", "salt", recognised_on="2010-01-01")
    await f.figure(client, b["id"], 2015, workers=100, production_value_vnd=1_000_000)
    await f.figure(client, dv["id"], 2015, workers=50, production_value_vnd=2_000_000)
    await f.figure(client, dv["id"], 2014, workers=999, production_value_vnd=999)

    async def cooperative(name: str, sector: str, **extra: object) -> None:
        await f.cooperative(client, d, name, sector=sector, **extra)

    await cooperative("HTX giải thể 31/12/2014", "sedge", founded_on="2000-01-01", dissolved_on="2014-12-31")
    await cooperative("HTX giải thể 1/1/2015", "textile_garment", dissolved_on="2015-01-01")
    await cooperative("HTX lập 1/1/2016", "chemicals", founded_on="2016-01-01")
    await cooperative("HTX lập 31/12/2015", "mechanical", founded_on="2015-12-31")
    await cooperative("HTX không rõ ngày", "other")

    every_source = [
        {"source": "central", "amount_vnd": 100},
        {"source": "provincial", "amount_vnd": 200},
        {"source": "district", "amount_vnd": 300},
        {"source": "commune", "amount_vnd": 400},
        {"source": "counterpart", "amount_vnd": 1_000},
        {"source": "other", "amount_vnd": 5_000},
    ]
    await f.programme(client, "Đề án mọi nguồn", funding=every_source)
    await f.programme(client, "Đề án chưa có kinh phí")
    await f.programme(client, "Đề án 2014", year=2014, funding=[{"source": "central", "amount_vnd": 7}])
    promotion = {"kind": "trade_promotion", "activity": "fair_hosting"}
    lines = [
        {"source": "provincial", "amount_vnd": 50_000},
        {"source": "counterpart", "amount_vnd": 9},
        {"source": "other", "amount_vnd": 3},
    ]
    await f.programme(client, "Tổ chức hội chợ 2015", funding=lines, **promotion)
    await f.programme(
        client,
        "Tổ chức hội chợ 2016",
        year=2016,
        funding=[{"source": "provincial", "amount_vnd": 11}],
        **promotion,
    )

    await f.fair(client, "Hội chợ cuối năm", start_on="2015-12-31", end_on="2016-01-02", standard_booths=100)
    await f.fair(
        client, "Hội chợ đầu năm 2016", start_on="2016-01-01", end_on="2016-01-03", standard_booths=500
    )
    await f.fair(
        client,
        "Hội chợ Hà Nội",
        kind="attended",
        start_on="2015-03-01",
        end_on="2015-03-04",
        standard_booths=40,
    )
    await f.fair(
        client, "Hội nghị giao thương", kind="trade_conference", start_on="2015-06-01", end_on="2015-06-01"
    )
    await f.fair(
        client, "Hội chợ Côn Minh", kind="overseas", country="CN", start_on="2014-12-30", end_on="2015-01-02"
    )
    await f.fair(client, "Hội chợ chưa rõ gian hàng", start_on="2015-05-01", end_on="2015-05-03")


async def test_overview_definitions(client: httpx.AsyncClient) -> None:
    await _definitions_data(client)
    overview = await get_stats(client, "overview", year=2015)
    assert overview == {
        "year": 2015,
        "villages": {
            # B (est. 2015), C, D, E, F, G (no year); A is established in 2016.
            "total": 6,
            # D (recognised on 31 Dec 2015) and F (revoked only in 2016). Not C (recognised in
            # 2016), E (revoked on 31 Dec 2015), G (status unrecognised despite a date).
            "recognised": 2,
            "by_craft_group": {**NO_GROUPS, "salt": 2, "handicraft": 2, "manufacturing": 1, "ornamental": 1},
            "workers": 150,  # 2015 figures of B and D: 100 + 50; D's 2014 figure not counted
            "production_value_vnd": 3_000_000,  # 1,000,000 + 2,000,000
        },
        "cooperatives": {
            # Dissolved 1 Jan 2015, founded 31 Dec 2015, no dates. Not dissolved 31 Dec 2014,
            # nor founded 1 Jan 2016.
            "total": 3,
            "by_sector": {**NO_SECTORS, "textile_garment": 1, "mechanical": 1, "other": 1},
        },
        "industrial_extension": {
            "programmes": 2,  # every-source and unfunded; the 2014 one not
            "support_vnd": 1_000,  # central 100 + provincial 200 + district 300 + commune 400
            "counterpart_vnd": 1_000,  # counterpart apart; 'other' 5,000 in neither
        },
        "trade_promotion": {
            "programmes": 1,
            "support_vnd": 50_000,  # provincial only: counterpart 9 and other 3 are not support
            # By the year of start_on: the fair of 31 Dec 2015 is 2015's, the one starting
            # 1 Jan 2016 is not, nor the overseas fair starting 30 Dec 2014.
            "fairs": {"hosted": 2, "attended": 1, "overseas": 0, "trade_conference": 1},
            "hosted_booths": 100,  # 100 + none; the attended fair's 40 booths are not the host's
        },
    }

    overview_2016 = await get_stats(client, "overview", year=2016)
    assert overview_2016["villages"]["total"] == 7  # A joins
    assert overview_2016["villages"]["recognised"] == 2  # C and D; F revoked on 1 Jan 2016
    # Founded 1 Jan 2016, founded 31 Dec 2015, no dates; the one dissolved 1 Jan 2015 has gone.
    assert overview_2016["cooperatives"]["by_sector"] == {
        **NO_SECTORS,
        "chemicals": 1,
        "mechanical": 1,
        "other": 1,
    }
    assert overview_2016["trade_promotion"]["fairs"] == {**NO_FAIRS, "hosted": 1}
    assert overview_2016["trade_promotion"]["hosted_booths"] == 500
    assert overview_2016["trade_promotion"]["support_vnd"] == 11
    assert overview_2016["industrial_extension"] == {"programmes": 0, "support_vnd": 0, "counterpart_vnd": 0}


async def test_overview_of_an_empty_year_lists_every_code(client: httpx.AsyncClient) -> None:
    overview = await get_stats(client, "overview", year=1990)
    assert overview == {
        "year": 1990,
        "villages": {
            "total": 0,
            "recognised": 0,
            "by_craft_group": NO_GROUPS,
            "workers": 0,
            "production_value_vnd": 0,
        },
        "cooperatives": {"total": 0, "by_sector": NO_SECTORS},
        "industrial_extension": {"programmes": 0, "support_vnd": 0, "counterpart_vnd": 0},
        "trade_promotion": {"programmes": 0, "support_vnd": 0, "fairs": NO_FAIRS, "hosted_booths": 0},
    }


@pytest.mark.parametrize("query", ["", "?year=", "?year=1899", "?year=2101", "?year=2015.5"])
async def test_overview_refuses_a_bad_year(client: httpx.AsyncClient, query: str) -> None:
    response = await client.get("/api/v1/stats/overview" + query)
    f.assert_problem(response, 422)
