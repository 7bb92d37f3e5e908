"""Recording the audit trail (app/kit/audit.py): one event per committed write, none else, and
events that cannot be changed."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import service
from app.kit import router as crud_router
from app.models import Role
from tests.factories import API, assert_problem, count, create, places, programme, snapshot, trail


async def test_create_update_delete_each_write_one_event(client: httpx.AsyncClient) -> None:
    at = await places(client)
    body = {"name": "HTX Mây tre đan", "sector": "sedge", "district_id": at.district_id, "members": 5}
    coop = await create(client, "cooperatives", body)
    changed = await client.patch(
        f"{API}/cooperatives/{coop['id']}", json={"members": 7}, headers={"If-Match": '"1"'}
    )
    assert changed.status_code == 200
    gone = await client.delete(f"{API}/cooperatives/{coop['id']}", headers={"If-Match": '"2"'})
    assert gone.status_code == 204

    events = (await trail(client, resource="cooperatives", record_id=coop["id"]))["items"]
    assert [e["action"] for e in events] == ["delete", "update", "create"]  # newest first
    for event in events:
        assert event["actor_kind"] == "api_key"
        assert event["actor_name"] == "test suite"
        assert event["client_addr"] == "127.0.0.1"
        assert event["resource"] == "cooperatives" and event["record_id"] == coop["id"]
        assert datetime.fromisoformat(event["at"])
    deleted, updated, created = (e["changes"] for e in events)
    assert updated == {"members": [5, 7]}
    assert created["name"] == [None, "HTX Mây tre đan"] and created["members"] == [None, 5]
    assert created["district_id"] == [None, at.district_id]
    assert deleted["members"] == [7, None] and deleted["name"] == ["HTX Mây tre đan", None]


async def test_events_name_the_signed_in_account(client: httpx.AsyncClient, db: AsyncSession) -> None:
    who = await service.create_account(
        db, "lan.nguyen", "Nguyễn Thị Lan", Role.editor, "correct horse battery"
    )
    token, _ = await service.issue_token(db, who, timedelta(hours=1))
    await db.commit()
    async with httpx.AsyncClient(
        transport=client._transport,
        base_url="http://testserver",
        headers={"Authorization": f"Bearer {token}", "X-Request-ID": "req-42"},
    ) as http:
        # An editor's write (administrative units need an administrator).
        made = await create(
            http,
            "programmes",
            {
                "name": "Đào tạo nghề",
                "kind": "industrial_extension",
                "activity": "vocational_training",
                "year": 2015,
            },
        )
    event = (await trail(client, record_id=made["id"], resource="programmes"))["items"][0]
    assert (event["actor_kind"], event["actor_id"], event["actor_name"]) == ("account", who.id, "lan.nguyen")
    assert event["request_id"] == "req-42"


async def test_embedded_list_changes_are_recorded_old_and_new(client: httpx.AsyncClient) -> None:
    made = await programme(client, funding=[{"source": "central", "amount_vnd": 100_000_000}])
    response = await client.patch(
        f"{API}/programmes/{made['id']}",
        json={"funding": [{"source": "provincial", "amount_vnd": 250_000_000}]},
        headers={"If-Match": '"1"'},
    )
    assert response.status_code == 200, response.text
    event = (await trail(client, resource="programmes", action="update"))["items"][0]
    assert event["changes"] == {
        "funding": [
            [{"source": "central", "amount_vnd": 100_000_000}],
            [{"source": "provincial", "amount_vnd": 250_000_000}],
        ]
    }


async def test_refused_and_rolled_back_requests_leave_no_event(
    client: httpx.AsyncClient, strict: httpx.AsyncClient, anonymous: httpx.AsyncClient, db: AsyncSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    at = await places(client)
    events = await count(db, "audit_event")
    assert events == 3  # province, district, village
    before = await snapshot(db)
    village = f"{API}/villages/{at.village_id}"
    refused = [
        await anonymous.post(f"{API}/villages", json={"name": "X", "district_id": at.district_id}),
        await strict.patch(village, json={"households_total": 5}),  # 428
        await strict.patch(village, json={"households_total": 5}, headers={"If-Match": '"7"'}),  # 412
        await strict.delete(f"{API}/admin-units/{at.district['id']}", headers={"If-Match": '"1"'}),  # 409
        await strict.post(f"{API}/villages", json={"name": "X", "district_id": 999999, "craft_group": "x"}),
    ]
    assert [r.status_code for r in refused] == [401, 428, 412, 409, 422]
    assert await snapshot(db) == before

    # A failure after the change and its event were written: both are rolled back together.
    async def broken(*args: Any) -> Any:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(crud_router, "_written", broken)
    failed = await strict.patch(village, json={"households_total": 5}, headers={"If-Match": '"1"'})
    assert_problem(failed, 500)
    assert await snapshot(db) == before
    assert await count(db, "audit_event") == 3


async def test_audit_rows_equal_committed_writes(client: httpx.AsyncClient, db: AsyncSession) -> None:
    at = await places(client)  # 3 creates
    unit = f"{API}/admin-units/{at.province['id']}"
    statuses = [
        (await client.patch(unit, json={"name": "Tỉnh Nam Định"})).status_code,  # update
        (await client.patch(unit, json={"name": "Tỉnh Nam Định"})).status_code,  # no change: no event
        (await client.patch(unit, json={"name": "Nam Hà"}, headers={"If-Match": '"1"'})).status_code,  # 412
        (await client.post(f"{API}/villages", json={"name": ""})).status_code,  # 422
        (await client.delete(f"{API}/villages/{at.village_id}")).status_code,  # delete
    ]
    assert statuses == [200, 200, 412, 422, 204]
    page = await trail(client)
    mine = [e for e in page["items"] if e["actor_name"] == "test suite"]
    assert [e["action"] for e in mine] == ["delete", "update", "create", "create", "create"]
    assert await count(db, "audit_event") == 5
    assert (await client.get(unit)).json()["version"] == 2


async def test_events_cannot_be_changed_or_deleted(client: httpx.AsyncClient, db: AsyncSession) -> None:
    await places(client)
    for statement in ("UPDATE audit_event SET actor_name = 'someone else'", "DELETE FROM audit_event"):
        with pytest.raises(DBAPIError, match="cannot be changed or deleted"):
            async with db.begin_nested():
                await db.execute(text(statement))
    assert await count(db, "audit_event") == 3
    names = (await db.execute(text("SELECT DISTINCT actor_name FROM audit_event"))).scalars().all()
    assert names == ["test suite"]
    # And there is no route to change them.
    for method in ("PATCH", "PUT", "DELETE", "POST"):
        response = await client.request(method, f"{API}/audit", json={})
        assert response.status_code == 405, (method, response.status_code)
    for method in ("PATCH", "PUT", "DELETE"):
        response = await client.request(method, f"{API}/audit/1", json={})
        assert response.status_code in (404, 405), (method, response.status_code)
