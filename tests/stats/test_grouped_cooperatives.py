"""GET /api/v1/stats/cooperatives?group_by=...: co-operatives, members and charter capital by
sector, legal form, status, district and founding year.

Data are written through the API in the test's rolled-back transaction; every expected number is
worked out by hand in the comment beside it.
"""

from __future__ import annotations

import httpx
import pytest

from tests import factories as f
from tests.stats.helpers import Districts, M, c, districts, get_stats, tabulate

pytestmark = pytest.mark.usefixtures("fresh_stats_memory")


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
