"""Every money sum a statistic returns is exact where a double is not: sums of 2^53 + 1 đồng, and of
values far beyond 2^53 whose rounding to a double would change them. Any float on the path from
the SQL to the JSON body (a cast to double precision, a float in Python, a JSON number written
in floating point) turns these into other numbers, and a test here fails.

Read from the raw body with json.loads, which reads every JSON integer as an exact int. A money
column is a BIGINT that may not be negative; each value here fits in one, and the sums that a
single value cannot reach are made of several rows.
"""

from __future__ import annotations

import json

import httpx
import pytest

from tests import factories as f
from tests.stats.helpers import STATS, districts, get_stats, tabulate

pytestmark = pytest.mark.usefixtures("fresh_stats_memory")

# 2^53 + 1 = 9,007,199,254,740,993: the smallest whole number a double cannot hold (it rounds to
# 2^53). Two rows make it, neither of which a double rounds.
EDGE_PARTS = (2**52, 2**52 + 1)
EDGE = 9_007_199_254_740_993
# Two values beyond 2^53 that a double rounds (to a multiple of 1024 and of 512), and their sum,
# which a double rounds again: 6,917,529,027,641,081,860 becomes …856.
FAR_PARTS = (2**62 + 1, 2**61 + 3)
FAR = 6_917_529_027_641_081_860
BOTH = EDGE + FAR


def test_the_numbers_are_what_a_double_cannot_hold() -> None:
    assert sum(EDGE_PARTS) == EDGE == 2**53 + 1 and sum(FAR_PARTS) == FAR
    for exact in (EDGE, FAR, BOTH, *FAR_PARTS):
        assert int(float(exact)) != exact, exact
    assert all(part < 2**63 for part in FAR_PARTS)  # each fits in a BIGINT column
    assert json.loads(str(EDGE)) == EDGE and type(json.loads(str(EDGE))) is int


def money(body: dict[str, object], *names: str) -> dict[str, object]:
    """The named members, each of which must be a JSON integer."""
    found = {name: body[name] for name in names}
    assert all(type(value) is int for value in found.values()), found
    return found


async def test_programme_support_and_counterpart(client: httpx.AsyncClient) -> None:
    def lines(source: str, parts: tuple[int, ...]) -> list[dict[str, object]]:
        return [{"source": source, "amount_vnd": amount} for amount in parts]

    await f.programme(
        client,
        "Đề án biên",
        year=2020,
        funding=lines("central", EDGE_PARTS) + lines("counterpart", EDGE_PARTS),
    )
    await f.programme(
        client,
        "Đề án xa",
        year=2021,
        funding=lines("provincial", FAR_PARTS) + lines("counterpart", FAR_PARTS),
    )
    names = ("support_vnd", "counterpart_vnd")

    by_year = await get_stats(client, "programmes", group_by="year", year_from=2020, year_to=2021)
    rows = tabulate(by_year)
    assert money(rows[(2020,)], *names) == {"support_vnd": EDGE, "counterpart_vnd": EDGE}
    assert money(rows[(2021,)], *names) == {"support_vnd": FAR, "counterpart_vnd": FAR}
    assert money(by_year["totals"], *names) == {"support_vnd": BOTH, "counterpart_vnd": BOTH}

    by_source = await get_stats(client, "programmes", group_by="funding_source")
    rows = tabulate(by_source)
    assert money(rows[("central",)], *names) == {"support_vnd": EDGE, "counterpart_vnd": 0}
    assert money(rows[("provincial",)], *names) == {"support_vnd": FAR, "counterpart_vnd": 0}
    assert money(rows[("counterpart",)], *names) == {"support_vnd": 0, "counterpart_vnd": BOTH}
    assert money(by_source["totals"], *names) == {"support_vnd": BOTH, "counterpart_vnd": BOTH}

    for year, expected in ((2020, EDGE), (2021, FAR)):
        response = await client.get(f"{STATS}/overview", params={"year": year})
        assert response.status_code == 200, response.text
        extension = json.loads(response.content)["industrial_extension"]
        assert money(extension, *names) == {"support_vnd": expected, "counterpart_vnd": expected}
        # Written as a JSON integer, digit for digit, not as a float such as 9.007199254740992e15.
        assert f'"support_vnd":{expected},'.encode() in response.content


async def test_village_production_value(client: httpx.AsyncClient) -> None:
    at = await districts(client)
    for n, amount in enumerate(EDGE_PARTS):
        village = await f.village(client, at.d1["id"], f"Làng Biên {n}")
        await f.figure(client, village["id"], 2020, production_value_vnd=amount)
    for n, amount in enumerate(FAR_PARTS):
        village = await f.village(client, at.d2["id"], f"Làng Xa {n}")
        await f.figure(client, village["id"], 2021, production_value_vnd=amount)

    body = await get_stats(client, "villages", group_by="district,year", year_from=2020, year_to=2021)
    rows = tabulate(body)
    assert {key: row["production_value_vnd"] for key, row in rows.items()} == {
        ("362", 2020): EDGE,
        ("362", 2021): 0,
        ("360", 2020): 0,
        ("360", 2021): FAR,
    }
    assert money(body["totals"], "production_value_vnd") == {"production_value_vnd": BOTH}

    by_district = await get_stats(client, "villages", group_by="district", year_from=2020, year_to=2021)
    assert {key: row["production_value_vnd"] for key, row in tabulate(by_district).items()} == {
        ("362",): EDGE,
        ("360",): FAR,
    }

    for year, expected in ((2020, EDGE), (2021, FAR)):
        overview = await get_stats(client, "overview", year=year)
        assert money(overview["villages"], "production_value_vnd") == {"production_value_vnd": expected}


async def test_cooperative_charter_capital(client: httpx.AsyncClient) -> None:
    at = await districts(client)
    for n, amount in enumerate(EDGE_PARTS):
        await f.cooperative(client, at.d1["id"], f"HTX Biên {n}", charter_capital_vnd=amount)
    for n, amount in enumerate(FAR_PARTS):
        await f.cooperative(
            client, at.d2["id"], f"HTX Xa {n}", charter_capital_vnd=amount, sector="textile_garment"
        )

    body = await get_stats(client, "cooperatives", group_by="sector")
    rows = tabulate(body)
    assert money(rows[("mechanical",)], "charter_capital_vnd") == {"charter_capital_vnd": EDGE}
    assert money(rows[("textile_garment",)], "charter_capital_vnd") == {"charter_capital_vnd": FAR}
    assert money(body["totals"], "charter_capital_vnd") == {"charter_capital_vnd": BOTH}

    by_district = await get_stats(client, "cooperatives", group_by="district")
    assert {key: row["charter_capital_vnd"] for key, row in tabulate(by_district).items()} == {
        ("362",): EDGE,
        ("360",): FAR,
    }


async def test_trade_fair_contracts_and_sales(client: httpx.AsyncClient) -> None:
    for year, parts in ((2020, EDGE_PARTS), (2021, FAR_PARTS)):
        for n, amount in enumerate(parts):
            await f.fair(
                client,
                f"Hội chợ {year} số {n}",
                start_on=f"{year}-05-0{n + 1}",
                end_on=f"{year}-05-0{n + 3}",
                contract_value_vnd=amount,
                sales_vnd=parts[1 - n],
            )
    names = ("contract_value_vnd", "sales_vnd")

    body = await get_stats(client, "trade-fairs", group_by="year", year_from=2020, year_to=2021)
    rows = tabulate(body)
    assert money(rows[(2020,)], *names) == {"contract_value_vnd": EDGE, "sales_vnd": EDGE}
    assert money(rows[(2021,)], *names) == {"contract_value_vnd": FAR, "sales_vnd": FAR}
    assert money(body["totals"], *names) == {"contract_value_vnd": BOTH, "sales_vnd": BOTH}

    by_kind = await get_stats(client, "trade-fairs", group_by="kind", year=2020)
    assert money(tabulate(by_kind)[("hosted",)], *names) == {"contract_value_vnd": EDGE, "sales_vnd": EDGE}
