"""GET /api/v1/stats/programmes?group_by=...: programmes, support, counterpart funds and
beneficiaries by year, kind, activity and funding source.

Data are written through the API in the test's rolled-back transaction; every expected number is
worked out by hand in the comment beside it.
"""

from __future__ import annotations

import httpx
import pytest

from tests import factories as f
from tests.stats.helpers import JSON, M, districts, get_stats, p, tabulate

pytestmark = pytest.mark.usefixtures("fresh_stats_memory")


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
    unfunded = [r for r in body["rows"] if r["funding_source"] is None]
    assert len(unfunded) == 1  # the source of programmes without funding lines is null, not a label
    provincial = next(
        r for r in body["rows"] if r["funding_source"] and r["funding_source"]["code"] == "provincial"
    )
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
