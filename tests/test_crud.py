"""The five endpoints every resource has (app/crud.py, app/crud_router.py), for every resource."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import (
    API,
    PATHS,
    assert_invalid,
    assert_problem,
    create,
    places,
    snapshot,
    valid_body,
)

# A change each resource accepts, and the field it changes.
CHANGES: dict[str, tuple[str, Any]] = {
    "admin-units": ("name", "Xã Nam Giang"),
    "villages": ("households_total", 120),
    "village-figures": ("workers", 44_000),
    "cooperatives": ("members", 7),
    "programmes": ("status", "completed"),
    "trade-fairs": ("standard_booths", 320),
}

# Records of each collection after places() and one create: places() makes a province, a
# district and a village.
TOTAL_AFTER_CREATE = {
    "admin-units": 3,
    "villages": 2,
    "village-figures": 1,
    "cooperatives": 1,
    "programmes": 1,
    "trade-fairs": 1,
}

# Fields a create body must carry.
REQUIRED = {
    "admin-units": {"code", "name", "level"},
    "villages": {"name", "district_id", "craft_group"},
    "village-figures": {"village_id", "year"},
    "cooperatives": {"name", "sector", "district_id"},
    "programmes": {"name", "kind", "activity", "year"},
    "trade-fairs": {"name", "kind", "start_on", "end_on"},
}

# Fields that always have a value (required, or defaulted but never null).
NOT_NULL = {
    "admin-units": ["code", "name", "level"],
    "villages": [
        "name",
        "district_id",
        "craft_group",
        "crafts",
        "status",
        "has_environment_plan",
        "on_polluted_list",
        "is_illustrative",
    ],
    "village-figures": ["village_id", "year", "qualifier"],
    "cooperatives": ["name", "sector", "district_id", "legal_form", "status"],
    "programmes": ["name", "kind", "activity", "year", "status", "funding", "beneficiaries"],
    "trade-fairs": ["name", "kind", "start_on", "end_on", "country", "participants"],
}


@pytest.mark.parametrize("path", PATHS)
async def test_lifecycle(client: httpx.AsyncClient, path: str) -> None:
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
    assert listing["total"] == TOTAL_AFTER_CREATE[path]
    assert created in listing["items"]

    field, value = CHANGES[path]
    changed = await client.patch(f"{API}/{path}/{created['id']}", json={field: value})
    assert changed.status_code == 200, changed.text
    assert changed.json()[field] == value
    assert changed.json()["version"] == 2
    again = await client.patch(f"{API}/{path}/{created['id']}", json={field: value, **_second(path)})
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
    assert after["total"] == TOTAL_AFTER_CREATE[path] - 1


def _second(path: str) -> dict[str, Any]:
    """A second, different change for each resource, so that the version moves again."""
    changes: dict[str, dict[str, Any]] = {
        "admin-units": {"code": "999"},
        "villages": {"commune": "Nam Giang"},
        "village-figures": {"households": 500},
        "cooperatives": {"founded_on": "2010-01-01"},
        "programmes": {"implementer": "Trung tâm Khuyến công"},
        "trade-fairs": {"visitors": 10_000},
    }
    return changes[path]


@pytest.mark.parametrize("path", PATHS)
async def test_missing_record_is_404(client: httpx.AsyncClient, db: AsyncSession, path: str) -> None:
    await places(client)
    before = await snapshot(db)
    field, value = CHANGES[path]
    for method, body in [("GET", None), ("PATCH", {field: value}), ("DELETE", None)]:
        response = await client.request(method, f"{API}/{path}/987654", json=body)
        problem = assert_problem(response, 404)
        assert problem["type"].endswith("not-found")
        assert "987654" in problem["detail"]
    assert await snapshot(db) == before


@pytest.mark.parametrize("path", PATHS)
async def test_create_without_required_fields(client: httpx.AsyncClient, db: AsyncSession, path: str) -> None:
    before = await snapshot(db)
    problem = assert_invalid(await client.post(f"{API}/{path}", json={}))
    assert {e["field"] for e in problem["errors"]} == REQUIRED[path]
    assert {e["message"] for e in problem["errors"]} == {"Field required"}
    assert await snapshot(db) == before


@pytest.mark.parametrize("path", PATHS)
async def test_patch_to_null_is_refused(
    client: httpx.AsyncClient, db: AsyncSession, path: str, subtests: pytest.Subtests
) -> None:
    at = await places(client)
    record = await create(client, path, valid_body(path, at))
    for field in NOT_NULL[path]:
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


@pytest.mark.parametrize("path", [p for p in PATHS if p != "village-figures"])
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
