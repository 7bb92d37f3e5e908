"""Optimistic locking: ETag from the version, 304, If-Match or `version` required (428), stale (412)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import (
    API,
    PATHS,
    assert_problem,
    create,
    facts,
    fair,
    places,
    programme,
    snapshot,
    valid_body,
)

JSON = dict[str, Any]


async def test_item_etag_and_if_none_match(client: httpx.AsyncClient, anonymous: httpx.AsyncClient) -> None:
    at = await places(client)
    url = f"{API}/villages/{at.village_id}"
    first = await anonymous.get(url)
    assert first.headers["etag"] == '"1"' and first.json()["version"] == 1
    unchanged = await anonymous.get(url, headers={"If-None-Match": '"1"'})
    assert unchanged.status_code == 304 and unchanged.content == b"" and unchanged.headers["etag"] == '"1"'
    assert (await anonymous.head(url, headers={"If-None-Match": '"1"'})).status_code == 304
    await client.patch(url, json={"households_total": 40})
    changed = await anonymous.get(url, headers={"If-None-Match": '"1"'})
    assert changed.status_code == 200 and changed.headers["etag"] == '"2"'
    assert changed.json()["households_total"] == 40


@pytest.mark.parametrize("path", PATHS)
async def test_changes_need_the_version_last_seen(
    client: httpx.AsyncClient, strict: httpx.AsyncClient, db: AsyncSession, path: str
) -> None:
    at = await places(client)
    record = await create(client, path, valid_body(path, at, 50))
    url = f"{API}/{path}/{record['id']}"
    (field, value), other = facts(path).change, facts(path).other_value
    before = await snapshot(db)

    missing = assert_problem(await strict.patch(url, json={field: value}), 428)
    assert missing["current_version"] == 1
    assert_problem(await strict.delete(url), 428)
    assert_problem(await strict.patch(url, json={field: value}, headers={"If-Match": "1"}), 428)
    assert await snapshot(db) == before

    ok = await strict.patch(url, json={field: value}, headers={"If-Match": '"1"'})
    assert ok.status_code == 200, ok.text
    assert ok.headers["etag"] == '"2"' and ok.json()["version"] == 2 and ok.json()[field] == value
    after_first = await snapshot(db)

    stale = await strict.patch(url, json={field: other}, headers={"If-Match": '"1"'})
    assert assert_problem(stale, 412)["current_version"] == 2
    assert stale.headers["etag"] == '"2"'
    stale_body = await strict.patch(url, json={field: other, "version": 1})
    assert assert_problem(stale_body, 412)["current_version"] == 2
    assert assert_problem(await strict.delete(url, headers={"If-Match": '"1"'}), 412)["current_version"] == 2
    disagree = await strict.patch(url, json={field: other, "version": 2}, headers={"If-Match": '"1"'})
    assert_problem(disagree, 422)
    assert await snapshot(db) == after_first

    by_body = await strict.patch(url, json={field: other, "version": 2})
    assert by_body.status_code == 200 and by_body.json()["version"] == 3
    assert (await strict.get(url)).headers["etag"] == '"3"'
    assert (await strict.delete(url, headers={"If-Match": '"3"'})).status_code == 204
    assert_problem(await strict.get(url), 404)


async def test_programme_lists_change_with_their_parent(
    client: httpx.AsyncClient, strict: httpx.AsyncClient
) -> None:
    at = await places(client)
    coop = await create(client, "cooperatives", valid_body("cooperatives", at))
    made = await programme(client, funding=[{"source": "central", "amount_vnd": 100_000_000}])
    url = f"{API}/programmes/{made['id']}"
    assert_problem(await strict.patch(url, json={"funding": []}), 428)

    funding = [{"source": "provincial", "amount_vnd": 50_000_000}, {"source": "central", "amount_vnd": 1}]
    response = await strict.patch(url, json={"funding": funding}, headers={"If-Match": '"1"'})
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"2"'
    beneficiaries = [{"village_id": at.village_id}, {"cooperative_id": coop["id"]}]
    response = await strict.patch(url, json={"beneficiaries": beneficiaries, "version": 2})
    assert response.status_code == 200 and response.json()["version"] == 3
    read = (await strict.get(url)).json()
    assert sorted(f["amount_vnd"] for f in read["funding"]) == [1, 50_000_000]
    assert {(b["village_id"], b["cooperative_id"]) for b in read["beneficiaries"]} == {
        (at.village_id, None),
        (None, coop["id"]),
    }
    # A client holding version 2 cannot overwrite the beneficiaries it did not see.
    assert (
        assert_problem(await strict.patch(url, json={"funding": [], "version": 2}), 412)["current_version"]
        == 3
    )


async def test_fair_participants_change_with_their_parent(
    client: httpx.AsyncClient, strict: httpx.AsyncClient
) -> None:
    at = await places(client)
    made = await fair(client)
    url = f"{API}/trade-fairs/{made['id']}"
    participants = [{"village_id": at.village_id, "booths": 3}]
    response = await strict.patch(url, json={"participants": participants}, headers={"If-Match": '"1"'})
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 2 and response.headers["etag"] == '"2"'
    assert [p["booths"] for p in (await strict.get(url)).json()["participants"]] == [3]
    response = await strict.patch(url, json={"participants": [], "version": 2})
    assert response.json()["version"] == 3 and response.json()["participants"] == []


async def test_version_moves_exactly_with_recorded_changes(
    client: httpx.AsyncClient, strict: httpx.AsyncClient
) -> None:
    """Whatever a PATCH does, the version counts the update events of the record."""
    made = await programme(client, funding=[{"source": "central", "amount_vnd": 100_000_000}])
    url = f"{API}/programmes/{made['id']}"
    same_list = [{"source": "central", "amount_vnd": 100_000_000}]
    for body in ({"funding": same_list}, {"name": made["name"]}, {"year": 2016}, {"funding": same_list}):
        current = (await strict.get(url)).headers["etag"]
        response = await strict.patch(url, json=body, headers={"If-Match": current})
        assert response.status_code == 200, response.text
    history = (await client.get(f"{url}/history")).json()
    updates = [e for e in history["items"] if e["action"] == "update"]
    assert len(updates) == 1 and updates[0]["changes"] == {"year": [2015, 2016]}
    assert (await strict.get(url)).json()["version"] == 1 + len(updates)
