"""Reading the audit trail (app/audit/router.py): the whole trail for administrators, filtered and
paged, and one record's history for staff."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import service
from app.models import Role
from tests.factories import API, assert_problem, create, places, trail


async def test_audit_filters_and_pages(client: httpx.AsyncClient, db: AsyncSession) -> None:
    at = await places(client)  # admin-units 1 (province), 2 (district), villages: 1
    await client.patch(f"{API}/villages/{at.village_id}", json={"households_total": 50})
    await client.patch(f"{API}/villages/{at.village_id}", json={"households_total": 60})
    everything = await trail(client)
    assert everything["total"] == 5
    assert (await trail(client, resource="villages"))["total"] == 3
    assert (await trail(client, resource="admin-units,villages"))["total"] == 5
    assert (await trail(client, resource="admin-units", record_id=at.province["id"]))["total"] == 1
    assert (await trail(client, action="update"))["total"] == 2
    assert (await trail(client, action="create", resource="villages"))["total"] == 1
    assert (await trail(client, actor="test suite"))["total"] == 5
    assert (await trail(client, actor="somebody"))["total"] == 0
    # Every event of one transaction shares its time: the test's transaction start.
    moment = datetime.fromisoformat(everything["items"][0]["at"])
    assert (await trail(client, at_from=moment.isoformat(), at_to=moment.isoformat()))["total"] == 5
    assert (await trail(client, at_from=(moment + timedelta(seconds=1)).isoformat()))["total"] == 0
    assert (await trail(client, at_to=(moment - timedelta(seconds=1)).isoformat()))["total"] == 0

    first = await client.get(f"{API}/audit", params={"limit": 2})
    second = await trail(client, limit=2, offset=2)
    third = await trail(client, limit=2, offset=4)
    assert [len(p) for p in (first.json()["items"], second["items"], third["items"])] == [2, 2, 1]
    seen = [e["id"] for p in (first.json(), second, third) for e in p["items"]]
    assert seen == sorted(seen, reverse=True) and len(set(seen)) == 5
    assert 'rel="next"' in first.headers["link"]
    assert_problem(await client.get(f"{API}/audit", params={"limit": 0}), 422)


async def test_history_of_one_record_for_staff(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, db: AsyncSession
) -> None:
    at = await places(client)
    await client.patch(f"{API}/villages/{at.village_id}", json={"households_total": 50})
    _, secret = await service.create_key(db, "biên tập", Role.editor, "test")
    await db.commit()
    async with httpx.AsyncClient(
        transport=client._transport, base_url="http://testserver", headers={"X-API-Key": secret}
    ) as editor:
        history = await editor.get(f"{API}/villages/{at.village_id}/history")
        assert history.status_code == 200, history.text
        assert [e["action"] for e in history.json()["items"]] == ["update", "create"]
        assert history.json()["total"] == 2
        assert_problem(await editor.get(f"{API}/audit"), 403)
        district = await editor.get(f"{API}/admin-units/{at.district['id']}/history")
        assert [e["record_id"] for e in district.json()["items"]] == [at.district["id"]]
    assert_problem(await anonymous.get(f"{API}/villages/{at.village_id}/history"), 401)


async def test_history_of_a_deleted_record_remains_and_of_a_missing_one_is_404(
    client: httpx.AsyncClient,
) -> None:
    unit = await create(client, "admin-units", {"code": "36", "name": "Nam Định", "level": "province"})
    gone = await client.delete(f"{API}/admin-units/{unit['id']}", headers={"If-Match": '"1"'})
    assert gone.status_code == 204, gone.text
    history = await client.get(f"{API}/admin-units/{unit['id']}/history")
    assert [e["action"] for e in history.json()["items"]] == ["delete", "create"]
    assert_problem(await client.get(f"{API}/admin-units/{unit['id'] + 1000}/history"), 404)
