"""The five endpoints every resource has (app/kit/service.py, app/kit/router.py), for every resource.

What each resource accepts and must refuse is declared by hand in its test package's facts
(tests/<package>/facts.py, a tests.factories.ResourceFacts): a registered resource without them
fails here, saying which file to write.
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import (
    API,
    PATHS,
    assert_invalid,
    assert_problem,
    create,
    facts,
    paths_where,
    places,
    snapshot,
    valid_body,
)


@pytest.mark.parametrize("path", PATHS)
async def test_lifecycle(client: httpx.AsyncClient, path: str) -> None:
    known = facts(path)
    at = await places(client)
    response = await client.post(f"{API}/{path}", json=valid_body(path, at))
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["version"] == 1
    assert response.headers["location"] == f"{API}/{path}/{created['id']}"

    read = await client.get(response.headers["location"])
    assert read.status_code == 200
    assert read.json() == created

    listing = (await client.get(f"{API}/{path}")).json()
    assert listing["total"] == known.total_after_create
    assert created in listing["items"]

    field, value = known.change
    changed = await client.patch(f"{API}/{path}/{created['id']}", json={field: value})
    assert changed.status_code == 200, changed.text
    assert changed.json()[field] == value
    assert changed.json()["version"] == 2
    again = await client.patch(f"{API}/{path}/{created['id']}", json={field: value, **known.second_change})
    assert again.json()["version"] == 3
    reread = (await client.get(f"{API}/{path}/{created['id']}")).json()
    assert reread == again.json()
    assert reread[field] == value

    deleted = await client.delete(f"{API}/{path}/{created['id']}")
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert_problem(await client.get(f"{API}/{path}/{created['id']}"), 404)
    assert_problem(await client.delete(f"{API}/{path}/{created['id']}"), 404)
    after = (await client.get(f"{API}/{path}")).json()
    assert after["total"] == known.total_after_create - 1


@pytest.mark.parametrize("path", PATHS)
async def test_missing_record_is_404(client: httpx.AsyncClient, db: AsyncSession, path: str) -> None:
    await places(client)
    before = await snapshot(db)
    field, value = facts(path).change
    for method, body in [("GET", None), ("PATCH", {field: value}), ("DELETE", None)]:
        response = await client.request(method, f"{API}/{path}/987654", json=body)
        problem = assert_problem(response, 404)
        assert problem["type"].endswith("not-found")
        assert "987654" in problem["detail"]
    assert await snapshot(db) == before


@pytest.mark.parametrize("path", PATHS)
async def test_create_without_required_fields(client: httpx.AsyncClient, db: AsyncSession, path: str) -> None:
    required = facts(path).required
    before = await snapshot(db)
    problem = assert_invalid(await client.post(f"{API}/{path}", json={}))
    assert {e["field"] for e in problem["errors"]} == required
    assert {e["message"] for e in problem["errors"]} == {"Field required"}
    assert await snapshot(db) == before


@pytest.mark.parametrize("path", PATHS)
async def test_patch_to_null_is_refused(
    client: httpx.AsyncClient, db: AsyncSession, path: str, subtests: pytest.Subtests
) -> None:
    not_null = facts(path).not_null
    at = await places(client)
    record = await create(client, path, valid_body(path, at))
    for field in not_null:
        with subtests.test(field=field):
            before = await snapshot(db)
            response = await client.patch(f"{API}/{path}/{record['id']}", json={field: None})
            problem = assert_invalid(response, field)
            assert problem["type"].endswith("validation-failed")
            assert await snapshot(db) == before
    reread = (await client.get(f"{API}/{path}/{record['id']}")).json()
    assert reread == record
    assert reread["version"] == 1


@pytest.mark.parametrize("path", PATHS)
async def test_largest_id_is_404(client: httpx.AsyncClient, path: str) -> None:
    assert_problem(await client.get(f"{API}/{path}/9223372036854775807"), 404)


@pytest.mark.parametrize("path", PATHS)
async def test_unknown_and_read_only_fields_are_refused(
    client: httpx.AsyncClient, db: AsyncSession, path: str
) -> None:
    at = await places(client)
    record = await create(client, path, valid_body(path, at, 1))
    before = await snapshot(db)
    for field in ["colour", "id", "version", "created_at", "updated_at", "district", "search_text"]:
        posted = await client.post(f"{API}/{path}", json={**valid_body(path, at, 2), field: 5})
        assert_invalid(posted, field)
        if field == "version":
            continue  # in a PATCH body, `version` is the version being changed (instead of If-Match)
        patched = await client.patch(f"{API}/{path}/{record['id']}", json={field: 5})
        assert_invalid(patched, field)
    assert await snapshot(db) == before


@pytest.mark.parametrize("path", PATHS)
async def test_empty_patch_changes_nothing(client: httpx.AsyncClient, db: AsyncSession, path: str) -> None:
    at = await places(client)
    record = await create(client, path, valid_body(path, at))
    response = await client.patch(f"{API}/{path}/{record['id']}", json={})
    assert response.status_code == 200
    assert response.json() == record


# Text that JSON must escape, and characters outside the Basic Multilingual Plane.
TRICKY = 'Làng "Đông" \\ / <b>&amp;</b>\ttab\u0001\u001f \u2028 😀 Ω'


@pytest.mark.parametrize("path", paths_where(lambda known: known.named))
async def test_text_round_trips_exactly(client: httpx.AsyncClient, path: str) -> None:
    at = await places(client)
    created = await create(client, path, {**valid_body(path, at, 3), "name": TRICKY})
    assert created["name"] == TRICKY
    assert (await client.get(f"{API}/{path}/{created['id']}")).json()["name"] == TRICKY
    listed = (await client.get(f"{API}/{path}", params={"sort": "-id", "limit": 1})).json()
    assert listed["items"][0]["name"] == TRICKY
    patched = await client.patch(f"{API}/{path}/{created['id']}", json={"name": TRICKY + "!"})
    assert patched.json()["name"] == TRICKY + "!"


async def test_a_snapshot_sees_every_kind_of_change(client: httpx.AsyncClient, db: AsyncSession) -> None:
    """The check behind 'a refused write changes nothing' can tell when something changed."""
    at = await places(client)
    prog = await create(client, "programmes", valid_body("programmes", at))
    before = await snapshot(db)
    await client.patch(f"{API}/villages/{at.village_id}", json={"notes": "x"})
    after_update = await snapshot(db)
    assert after_update != before
    funding = [{"source": "other", "amount_vnd": 1}]
    await client.patch(f"{API}/programmes/{prog['id']}", json={"funding": funding})
    after_lines = await snapshot(db)
    assert after_lines["programme_funding"] != after_update["programme_funding"]
    await client.delete(f"{API}/programmes/{prog['id']}")
    assert (await snapshot(db))["programme"] != after_lines["programme"]
