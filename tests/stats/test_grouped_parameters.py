"""The parameters of the grouped statistics: group_by must name one to three of the statistic's
dimensions (a refusal lists them), and unknown or invalid filters are refused."""

from __future__ import annotations

import httpx
import pytest

from tests import factories as f
from tests.stats.helpers import STATS

pytestmark = pytest.mark.usefixtures("fresh_stats_memory")


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
