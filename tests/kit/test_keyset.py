"""Keyset paging: following `next` walks a list in exactly the order offset paging gives, for every
sort (ascending, descending, nulls, ties, the search order), and records inserted or deleted
meanwhile make no other record skipped or repeated."""

from __future__ import annotations

import base64
import json
import random
from typing import Any

import httpx
import pytest

from tests.factories import API, assert_invalid, ids, links, places, village

JSON = dict[str, Any]
SORTS = [
    ["id"],
    ["-id"],
    ["name"],
    ["-name"],
    ["established_year"],
    ["-established_year"],
    ["households_total", "-established_year"],
    ["-households_total", "name"],
    ["recognised_on", "-id"],
    ["status", "-recognised_on", "established_year"],
    ["-created_at"],
]


async def walk(client: httpx.AsyncClient, params: dict[str, str], limit: int) -> list[int]:
    """Every id, page after page by following `next` (the body's and the Link header's agree)."""
    seen: list[int] = []
    response = await client.get(f"{API}/villages", params={**params, "limit": str(limit)})
    for _ in range(1000):
        assert response.status_code == 200, response.text
        body = response.json()
        seen += ids(body)
        rels = links(response)
        if body["next"] is None:
            assert "next" not in rels
            return seen
        assert len(body["items"]) == limit
        assert rels["next"]["after"] == [body["next"]] and "offset" not in rels["next"]
        assert "prev" not in rels or "after" not in response.request.url.params
        response = await client.get(f"{API}/villages", params=rels["next"])
    raise AssertionError("next never ended")


async def some_villages(client: httpx.AsyncClient, seed: int, how_many: int) -> int:
    """Villages with ties and nulls in every sortable column; the district's id."""
    at = await places(client)
    rng = random.Random(seed)
    for n in range(how_many):
        recognised = rng.random() < 0.5
        await village(
            client,
            at.district_id,
            name=rng.choice(["Vân Chàng", "Đông Hồ", "Bát Tràng", "An Phú", "Ấp Bắc"]) + f" {n % 3}",
            established_year=rng.choice([None, 1500, 1800, 1800, 1990]),
            households_total=rng.choice([None, 10, 10, 200]),
            status="craft_village" if recognised else "unrecognised",
            recognised_on=rng.choice(["2006-05-10", "2010-01-01"]) if recognised else None,
        )
    return at.district_id


@pytest.mark.parametrize("seed", [1, 2])
async def test_next_walks_the_offset_order_for_every_sort(client: httpx.AsyncClient, seed: int) -> None:
    district_id = await some_villages(client, seed, 23)
    for sort in SORTS:
        params = {"district_id": str(district_id), "sort": ",".join(sort)}
        whole = await client.get(f"{API}/villages", params={**params, "limit": "500"})
        expected = ids(whole.json())
        assert len(expected) == 24  # the 23 and the one places() made
        for limit in (1, 4, 7):
            assert await walk(client, params, limit) == expected, (sort, limit)


async def test_search_order_continues_by_cursor(client: httpx.AsyncClient) -> None:
    await some_villages(client, 3, 15)
    params = {"q": "van chang"}
    whole = ids((await client.get(f"{API}/villages", params={**params, "limit": "500"})).json())
    assert whole and await walk(client, params, 2) == whole


async def test_inserts_and_deletes_between_pages_skip_and_repeat_nothing(client: httpx.AsyncClient) -> None:
    district_id = await some_villages(client, 4, 20)
    params = {"district_id": str(district_id), "sort": "name", "limit": "3"}
    before = set(ids((await client.get(f"{API}/villages", params={**params, "limit": "500"})).json()))
    seen: list[int] = []
    deleted: set[int] = set()
    response = await client.get(f"{API}/villages", params=params)
    rng = random.Random(4)
    while True:
        body = response.json()
        seen += ids(body)
        if body["next"] is None:
            break
        # Meanwhile others write: a new village sorting anywhere, and one not yet seen deleted.
        await village(client, district_id, name=rng.choice(["A", "Ư", "Vân Chàng 1", "Z"]) + " mới")
        unseen = sorted(before - set(seen) - deleted)
        if unseen and rng.random() < 0.5:
            gone = rng.choice(unseen)
            assert (await client.delete(f"{API}/villages/{gone}")).status_code == 204
            deleted.add(gone)
        response = await client.get(f"{API}/villages", params=links(response)["next"])
    assert len(seen) == len(set(seen)), "a record came twice"
    assert before - deleted <= set(seen), "a record present all along was skipped"


def cursor(data: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


async def test_bad_cursors_are_422_and_name_after(client: httpx.AsyncClient) -> None:
    district_id = await some_villages(client, 5, 4)
    first = (await client.get(f"{API}/villages", params={"sort": "name", "limit": "2"})).json()
    good = first["next"]
    assert good is not None
    for params in [
        {"after": "not-a-cursor"},
        {"after": "!!!"},
        {"after": cursor([1, 2])},
        {"after": cursor({"s": "", "k": ["x"]})},  # an id that is text
        {"after": cursor({"s": "", "k": [2**70]})},
        {"after": cursor({"s": "", "k": [None]})},  # ids are never null
        {"after": cursor({"s": "", "k": [1], "x": 1})},
        {"after": good},  # made for sort=name, used without a sort
        {"after": good, "sort": "-name"},
        {"after": good, "sort": "name", "offset": "2"},
        {"after": cursor({"s": "recognised_on", "k": ["2015-13-01", 1]}), "sort": "recognised_on"},
        {"after": cursor({"s": "created_at", "k": ["2015-01-01T00:00:00", 1]}), "sort": "created_at"},
        {"after": ""},
        {"after": base64.urlsafe_b64encode(b"[" * 1400).decode().rstrip("=")},  # too deep for json
        {"after": "A" * 2001},
    ]:
        response = await client.get(f"{API}/villages", params=params)
        assert_invalid(response, "after", location="query")
    ok = await client.get(f"{API}/villages", params={"after": good, "sort": "name", "limit": "2"})
    assert ok.status_code == 200 and len(ok.json()["items"]) == 2
    # A cursor made by hand at a position is a position like any other.
    by_id = await client.get(
        f"{API}/villages", params={"after": cursor({"s": "", "k": [0]}), "district_id": str(district_id)}
    )
    assert by_id.status_code == 200 and by_id.json()["total"] == 5 and len(by_id.json()["items"]) == 5
