"""The parameters of the grouped statistics: group_by must name one to three of the statistic's
dimensions (a refusal lists them), given repeated, comma-separated or both, and unknown or invalid
filters are refused."""

from __future__ import annotations

import json

import httpx
import pytest

from tests import factories as f
from tests.stats.helpers import DIMENSIONS, JSON, STATS

pytestmark = pytest.mark.usefixtures("fresh_stats_memory")


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


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("programmes", "group_by=kind&group_by=kind"),  # repeated parameter
        ("programmes", "group_by=kind,year&group_by=kind"),  # comma and repeated mixed
        ("villages", "group_by=year&group_by=status,year"),
        ("cooperatives", "group_by=sector&group_by=status&group_by=district&group_by=legal_form"),  # four
        ("trade-fairs", "group_by=kind,year&group_by=province&group_by=country"),  # four, mixed
        ("trade-fairs", "group_by=kind&group_by=colour"),  # unknown
        ("villages", "group_by=status&group_by="),  # an empty value is refused, not ignored
    ],
)
async def test_bad_repeated_group_by_lists_the_allowed_dimensions(
    client: httpx.AsyncClient, path: str, query: str
) -> None:
    body = f.assert_invalid(await client.get(f"{STATS}/{path}?{query}"), "group_by", location="query")
    assert body["allowed"] == DIMENSIONS[path]


async def test_overlong_group_by_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{STATS}/villages", params={"group_by": ["status", "x" * 300]})
    f.assert_invalid(response, "group_by", location="query")


async def _answer(client: httpx.AsyncClient, path: str, query: str) -> tuple[JSON, str]:
    response = await client.get(f"{STATS}/{path}?{query}")
    assert response.status_code == 200, response.text
    body: JSON = json.loads(response.content)
    return body, response.headers["x-stats-source"]


@pytest.mark.parametrize(
    ("path", "forms", "dims"),
    [
        (
            "programmes",
            ["group_by=year,kind", "group_by=year&group_by=kind", "group_by=year%2Ckind"],
            ["year", "kind"],
        ),
        (
            "villages",
            [
                "group_by=craft_group,status,district&year=2015",
                "group_by=craft_group&group_by=status&group_by=district&year=2015",
                "group_by=craft_group,status&group_by=district&year=2015",
                "group_by=craft_group&group_by=status,district&year=2015",
            ],
            ["craft_group", "status", "district"],
        ),
        (
            "trade-fairs",
            ["group_by=country,kind", "group_by=country&group_by=kind", "group_by= country &group_by=kind"],
            ["country", "kind"],
        ),
    ],
)
async def test_repeated_comma_and_mixed_group_by_are_all_honoured(
    seeded: httpx.AsyncClient, path: str, forms: list[str], dims: list[str]
) -> None:
    """Every form gives the same answer, grouped by every dimension named (not only the last)."""
    answers = [(await _answer(seeded, path, query))[0] for query in forms]
    first = answers[0]
    assert first["group_by"] == dims
    assert first["rows"], "the sample data have rows for these dimensions"
    assert all(set(dims) <= set(row) for row in first["rows"])
    assert len({tuple(json.dumps(row[d]) for d in dims) for row in first["rows"]}) == len(first["rows"])
    for answer in answers[1:]:
        assert answer == first


async def test_the_order_of_repeated_dimensions_is_kept_and_cached_apart(seeded: httpx.AsyncClient) -> None:
    """group_by=year&group_by=kind and group_by=kind&group_by=year are two answers (sorted by
    year, then by kind): the cache must not serve one for the other."""
    by_year, _ = await _answer(
        seeded, "programmes", "group_by=year&group_by=kind&year_from=2014&year_to=2016"
    )
    by_kind, source = await _answer(
        seeded, "programmes", "group_by=kind&group_by=year&year_from=2014&year_to=2016"
    )
    assert by_year["group_by"] == ["year", "kind"]
    assert by_kind["group_by"] == ["kind", "year"]
    assert source == "computed"
    years = [row["year"] for row in by_year["rows"]]
    kinds = [row["kind"]["code"] for row in by_kind["rows"]]
    assert years == sorted(years)
    assert kinds == sorted(kinds)
    assert by_year["rows"] != by_kind["rows"]
    same_groups = [sorted(json.dumps(row, sort_keys=True) for row in b["rows"]) for b in (by_year, by_kind)]
    assert same_groups[0] == same_groups[1]
