"""POST /api/v1/imports: villages and village figures from CSV and XLSX, checked whole, all or nothing."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import API, count, district, province
from tests.imports.helpers import cells_of, csv_bytes, post_file, problems_of


async def _places(client: httpx.AsyncClient) -> tuple[int, int]:
    p = await province(client)
    d = await district(client, p["id"])
    return p["id"], d["id"]


async def test_villages_created_then_upserted(client: httpx.AsyncClient, db: AsyncSession) -> None:
    await _places(client)
    data = csv_bytes(
        "name,district_code,craft_group,status,recognised_on,households_total",
        "Vân Chàng,362,manufacturing,Làng nghề truyền thống,20/12/2006,1.150",
        "Vị Khê,362,Sản xuất hàng thủ công mỹ nghệ,,,",
    )
    response = await post_file(client, "villages", data)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["created"], body["updated"], body["unchanged"]) == (2, 0, 0)
    assert body["status"] == "completed" and body["resource"] == "villages"
    assert response.headers["location"].endswith(f"/api/v1/imports/{body['id']}")
    assert await count(db, "village") == 2
    again = await post_file(client, "villages", data, mode="upsert")
    assert again.status_code == 201, again.text
    assert (again.json()["created"], again.json()["updated"], again.json()["unchanged"]) == (0, 0, 2)
    changed = data.replace(b"1.150", b"1.200")
    third = await post_file(client, "villages", changed, mode="upsert")
    assert (third.json()["created"], third.json()["updated"], third.json()["unchanged"]) == (0, 1, 1)
    refused = await post_file(client, "villages", data)
    found = problems_of(refused)
    assert cells_of(found) == {(2, "name"), (3, "name")}
    batch = await client.get(f"{API}/imports/{body['id']}")
    assert batch.status_code == 200 and batch.json()["created"] == 2
