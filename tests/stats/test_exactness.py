"""Sums stay exact far beyond 64 bits, and money is a JSON integer, in the overview and the
grouped statistics."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests import factories as f
from tests.stats.helpers import STATS, districts, get_stats, p, tabulate

pytestmark = pytest.mark.usefixtures("fresh_stats_memory")


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
