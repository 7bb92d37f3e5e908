"""Field selection: `fields=` on lists, items and the changes feed gives those fields and no
other, the SQL reads no more than it needs, and a field a record does not have is a 422."""

from __future__ import annotations

import httpx
import pytest

from app.kit import reads
from app.kit.router import fields_tag
from app.programmes.resource import PROGRAMMES
from app.registry import REGISTRY
from app.villages.resource import VILLAGES
from tests.factories import API, PATHS, assert_invalid, create, facts, places, valid_body

REGISTRY_BY_PATH = {res.path: res for res in REGISTRY}


@pytest.mark.parametrize("path", PATHS)
async def test_list_and_item_give_only_the_fields_asked_for(client: httpx.AsyncClient, path: str) -> None:
    at = await places(client)
    made = await create(client, path, valid_body(path, at, 1))
    only_made = facts(path).only_made
    names = list(REGISTRY_BY_PATH[path].read.model_fields)
    assert list(made) == names  # a whole record has every field of its schema, in its order
    for asked in (["id"], names[:1] + names[-1:], list(reversed(names[2:5])), names):
        listed = await client.get(f"{API}/{path}?{only_made}&fields={','.join(asked)}")
        assert listed.status_code == 200, listed.text
        (record,) = listed.json()["items"]
        # The fields asked for, in the Read schema's order, with the values a full read gives.
        assert list(record) == [n for n in names if n in asked]
        assert record == {n: made[n] for n in asked}
        item = await client.get(f"{API}/{path}/{made['id']}", params=[("fields", n) for n in asked])
        assert item.status_code == 200 and item.json() == record
        # A part of the record is another representation: its tag is not the whole record's.
        assert item.headers["etag"] == f'"{made["version"]}.{fields_tag(tuple(sorted(asked)))}"'
        whole = await client.get(
            f"{API}/{path}/{made['id']}", headers={"If-None-Match": item.headers["etag"]}
        )
        assert whole.status_code == 200 and whole.json() == made


@pytest.mark.parametrize("path", PATHS)
async def test_unknown_fields_are_422(client: httpx.AsyncClient, path: str) -> None:
    at = await places(client)
    made = await create(client, path, valid_body(path, at, 2))
    for bad in ("nope", "id,nope", "ID", "", "district.name"):
        assert_invalid(await client.get(f"{API}/{path}", params={"fields": bad}), "fields", location="query")
        assert_invalid(
            await client.get(f"{API}/{path}/{made['id']}", params={"fields": bad}), "fields", location="query"
        )
    # The item read takes no other parameter either.
    assert_invalid(
        await client.get(f"{API}/{path}/{made['id']}", params={"sort": "id"}), "sort", location="query"
    )


def test_the_sql_reads_only_what_is_asked_for() -> None:
    """A summary or an embedded list not asked for is neither joined nor selected."""
    villages, programmes = VILLAGES, PROGRAMMES
    assert "summary_district" in reads.item_plan(villages).sql
    narrow = reads.item_plan(villages, ("id", "name"))
    assert "summary_district" not in narrow.sql and "admin_unit" not in narrow.tables
    assert "households_total" not in narrow.sql
    assert "programme_funding" in reads.item_plan(programmes).tables
    assert "programme_funding" not in reads.item_plan(programmes, ("id", "name")).tables


async def test_list_etag_follows_the_tables_the_fields_read(client: httpx.AsyncClient) -> None:
    """A page of village names does not change when an administrative unit does."""
    at = await places(client)
    narrow = await client.get(f"{API}/villages", params={"fields": "id,name"})
    wide = await client.get(f"{API}/villages")
    await client.patch(
        f"{API}/admin-units/{at.district_id}", json={"name": "Đổi tên"}, headers={"If-Match": '"1"'}
    )
    assert (await client.get(f"{API}/villages", params={"fields": "id,name"})).headers[
        "etag"
    ] == narrow.headers["etag"]
    assert (await client.get(f"{API}/villages")).headers["etag"] != wide.headers["etag"]
