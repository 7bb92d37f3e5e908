"""GET /api/v1/stats/trade-fairs?group_by=...: fairs, booths, exhibitors, visitors and money by
year, kind, province and country.

Data are written through the API in the test's rolled-back transaction; every expected number is
worked out by hand in the comment beside it.
"""

from __future__ import annotations

import httpx
import pytest

from tests import factories as f
from tests.stats.helpers import B, M, get_stats, t, tabulate

pytestmark = pytest.mark.usefixtures("fresh_stats_memory")


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
