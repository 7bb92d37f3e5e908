"""What every list offers a client that keeps a copy: created_since and updated_since (indexed),
and a weak ETag by data version with 304 for an unchanged page."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.registry import REGISTRY
from tests.factories import API, PATHS, assert_invalid, district, ids, places, programme, village


async def _dated(db: AsyncSession, record_id: int, created: str, updated: str) -> None:
    # Within the test's transaction every write has the same now(): set the moments by hand.
    await db.execute(
        text("UPDATE village SET created_at = :c, updated_at = :u WHERE id = :id"),
        {"c": datetime.fromisoformat(created), "u": datetime.fromisoformat(updated), "id": record_id},
    )
    await db.commit()


async def test_created_since_and_updated_since(client: httpx.AsyncClient, db: AsyncSession) -> None:
    at = await places(client)
    old = await village(client, at.district_id, "Cũ")
    touched = await village(client, at.district_id, "Sửa")
    new = await village(client, at.district_id, "Mới")
    await _dated(db, at.village_id, "2019-01-01T00:00:00+00:00", "2019-01-01T00:00:00+00:00")
    await _dated(db, old["id"], "2020-01-01T00:00:00+00:00", "2020-01-01T00:00:00+00:00")
    await _dated(db, touched["id"], "2020-01-01T00:00:00+00:00", "2024-06-01T00:00:00+00:00")
    await _dated(db, new["id"], "2024-06-01T00:00:00+00:00", "2024-06-01T00:00:00+00:00")

    async def listed(**params: str) -> list[int]:
        answer = await client.get(f"{API}/villages", params={"sort": "id", **params})
        assert answer.status_code == 200, answer.text
        return ids(answer.json())

    assert await listed(created_since="2024-01-01T00:00:00Z") == [new["id"]]
    assert await listed(updated_since="2024-01-01") == [touched["id"], new["id"]]
    # At or after: the moment itself is included; an offset is honoured (07:00 in Hà Nội is
    # midnight UTC); without one, UTC.
    assert await listed(updated_since="2024-06-01T07:00:00+07:00") == [touched["id"], new["id"]]
    assert await listed(updated_since="2024-06-01T00:00:01") == []
    assert await listed(created_since="2020-01-01", updated_since="2024-01-01") == [touched["id"], new["id"]]
    assert await listed(created_since="2019-06-01", q="sua") == [touched["id"]]
    for bad in ("yesterday", "2024-13-01", "1717200000"):
        assert_invalid(
            await client.get(f"{API}/villages", params={"updated_since": bad}),
            "updated_since",
            location="query",
        )


@pytest.mark.parametrize("path", PATHS)
async def test_every_list_takes_both(client: httpx.AsyncClient, path: str) -> None:
    for name in ("created_since", "updated_since"):
        answer = await client.get(f"{API}/{path}", params={name: "2000-01-01T00:00:00Z"})
        assert answer.status_code == 200, answer.text
        assert (await client.get(f"{API}/{path}", params={name: "2999-01-01"})).json()["total"] == 0


async def test_both_are_indexed(db: AsyncSession) -> None:
    indexed = {
        (row.tablename, row.indexdef.rsplit("(", 1)[1].rstrip(")"))
        for row in await db.execute(
            text("SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = 'public'")
        )
    }
    for res in REGISTRY:
        for column in ("created_at", "updated_at"):
            assert (res.table.name, column) in indexed, (res.table.name, column)


async def test_a_list_answers_304_while_its_data_is_unchanged(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    at = await places(client)
    query = f"{API}/villages?district_id={at.district_id}&sort=name"
    first = await anonymous.get(query)
    tag = first.headers["etag"]
    assert tag.startswith('W/"') and first.status_code == 200
    again = await anonymous.get(query, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.headers["etag"] == tag and again.content == b""
    # Another query, or the same one spelled otherwise, is another page (or the same: same tag).
    assert (await anonymous.get(query + "&limit=10")).headers["etag"] != tag
    same = await anonymous.get(f"{API}/villages?sort=name&district_id={at.district_id}")
    assert same.headers["etag"] == tag
    # A write to a table the page reads changes it: the village itself...
    await client.patch(f"{API}/villages/{at.village_id}", json={"households_total": 10})
    changed = await anonymous.get(query, headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["etag"] != tag
    tag = changed.headers["etag"]
    # ...or the district its summary shows; a table it does not read changes nothing.
    await programme(client)
    assert (await anonymous.get(query, headers={"If-None-Match": tag})).status_code == 304
    await client.patch(f"{API}/admin-units/{at.district_id}", json={"name": "Nam Trực mới"})
    renamed = await anonymous.get(query, headers={"If-None-Match": tag})
    assert renamed.status_code == 200
    assert renamed.json()["items"][0]["district"]["name"] == "Nam Trực mới"
    # A weak tag sent back as it came, or among others, matches as well.
    assert (
        await anonymous.get(query, headers={"If-None-Match": f'"x", {renamed.headers["etag"]}'})
    ).status_code == 304


async def test_a_new_district_changes_the_district_list(client: httpx.AsyncClient) -> None:
    at = await places(client)
    query = f"{API}/admin-units?level=district"
    tag = (await client.get(query)).headers["etag"]
    await district(client, at.province["id"], code="363", name="Vụ Bản")
    assert (await client.get(query, headers={"If-None-Match": tag})).status_code == 200
