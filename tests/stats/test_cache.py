"""Statistics caching: strong ETags that change when, and only when, the data they depend on
change; 304 on If-None-Match; bodies kept per process and shared by workers in stats_cache; and
the per-table data_version counters those ETags are made from.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.__main__ import migrate
from app.models import AdminUnit, Village
from app.stats.cache import Memory
from tests import factories as f
from tests.conftest import create_database, drop_database, plain_url
from tests.stats.helpers import JSON, STATS, app_client, statements

STRONG_ETAG = re.compile(r'^"[0-9a-f]{32}"$')
# One statistic of each collection, and the overview.
URLS = {
    "overview": f"{STATS}/overview?year=2015",
    "villages": f"{STATS}/villages?group_by=craft_group&year=2015",
    "cooperatives": f"{STATS}/cooperatives?group_by=sector",
    "programmes": f"{STATS}/programmes?group_by=kind",
    "trade-fairs": f"{STATS}/trade-fairs?group_by=kind",
}


pytestmark = pytest.mark.usefixtures("fresh_stats_memory")


async def fetch(client: httpx.AsyncClient, url: str, **headers: str) -> httpx.Response:
    response = await client.get(url, headers=headers)
    assert response.status_code in (200, 304), response.text
    return response


async def etags(client: httpx.AsyncClient) -> dict[str, tuple[str, str]]:
    """Each statistic's ETag and where its body came from."""
    found = {}
    for name, url in URLS.items():
        response = await fetch(client, url)
        found[name] = (response.headers["etag"], response.headers["x-stats-source"])
    return found


def aggregates(sent: list[tuple[str, object]]) -> list[str]:
    """Statements that read a collection (anything but the cache's own tables)."""
    tables = ("village", "cooperative", "programme", "trade_fair", "admin_unit")
    return [sql for sql, _ in sent if any(re.search(rf"\b{t}\b", sql) for t in tables)]


async def versions(db: AsyncSession) -> dict[str, int]:
    rows = await db.execute(text("SELECT resource, version FROM data_version"))
    return {resource: int(version) for resource, version in rows}


# -- ETags and sources ---------------------------------------------------------------------------


async def test_a_repeated_request_is_answered_from_memory(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await f.places(client)
    for url in URLS.values():
        with statements(engine) as first_sent:
            first = await fetch(client, url)
        assert first.status_code == 200
        assert STRONG_ETAG.match(first.headers["etag"]), first.headers  # quoted, not W/
        assert first.headers["x-stats-source"] == "computed"
        assert first.headers["cache-control"] == "no-cache"
        assert first.headers["content-type"] == "application/json"
        assert aggregates(first_sent), url

        with statements(engine) as second_sent:
            second = await fetch(client, url)
        assert second.headers["etag"] == first.headers["etag"]
        assert second.headers["x-stats-source"] == "memory"
        assert second.content == first.content
        assert aggregates(second_sent) == [], url  # the aggregate did not run again


async def test_a_body_computed_once_is_shared_through_the_database(
    client: httpx.AsyncClient, app: FastAPI, engine: AsyncEngine
) -> None:
    await f.places(client)
    first = await fetch(client, URLS["villages"])
    app.state.stats_memory = Memory()  # as if another process answered next
    with statements(engine) as sent:
        second = await fetch(client, URLS["villages"])
    assert second.headers["x-stats-source"] == "shared"
    assert second.headers["etag"] == first.headers["etag"]
    assert second.content == first.content
    assert aggregates(sent) == []
    third = await fetch(client, URLS["villages"])
    assert third.headers["x-stats-source"] == "memory"


async def test_no_cache_forces_recomputation(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    await f.places(client)
    first = await fetch(client, URLS["villages"])
    with statements(engine) as sent:
        again = await fetch(client, URLS["villages"], **{"Cache-Control": "no-cache"})
    assert again.status_code == 200
    assert again.headers["x-stats-source"] == "computed"
    assert aggregates(sent)
    assert again.headers["etag"] == first.headers["etag"]  # same data, same tag
    assert again.content == first.content


@pytest.mark.parametrize(
    "header",
    [
        "{etag}",
        "W/{etag}",  # weak comparison ignores W/
        '"0123", {etag}',
        '{etag}, W/"0123"',
        "*",
    ],
)
async def test_if_none_match_answers_304(client: httpx.AsyncClient, header: str) -> None:
    await f.places(client)
    for url in URLS.values():
        etag = (await fetch(client, url)).headers["etag"]
        response = await fetch(client, url, **{"If-None-Match": header.format(etag=etag)})
        assert response.status_code == 304, url
        assert response.content == b""
        assert response.headers["etag"] == etag


async def test_if_none_match_with_another_tag_answers_200(client: httpx.AsyncClient) -> None:
    at = await f.places(client)
    before = (await fetch(client, URLS["villages"])).headers["etag"]
    await f.village(client, at.district_id, "Làng thêm")
    response = await fetch(client, URLS["villages"], **{"If-None-Match": before})
    assert response.status_code == 200
    assert response.headers["etag"] != before


async def test_the_etag_belongs_to_the_query(client: httpx.AsyncClient) -> None:
    at = await f.places(client)
    url = f"{STATS}/villages?group_by=craft_group&year=2015&district_id={at.district_id}"
    reordered = f"{STATS}/villages?district_id={at.district_id}&year=2015&group_by=craft_group"
    base = await fetch(client, url)
    same = await fetch(client, reordered)
    assert same.headers["etag"] == base.headers["etag"]
    assert same.headers["x-stats-source"] == "memory"
    other = await fetch(
        client, f"{STATS}/villages?group_by=craft_group&year=2016&district_id={at.district_id}"
    )
    assert other.headers["etag"] != base.headers["etag"]
    regrouped = await fetch(
        client, f"{STATS}/villages?group_by=status&year=2015&district_id={at.district_id}"
    )
    assert regrouped.headers["etag"] != base.headers["etag"]


async def test_a_value_holding_an_ampersand_is_not_two_parameters(client: httpx.AsyncClient) -> None:
    await f.fair(client, "Hội chợ Nam Định", start_on="2015-10-01", end_on="2015-10-05")
    # Searching "nam" in 2015 finds the fair; searching the text "nam&year=2015" finds nothing.
    two = await client.get(f"{STATS}/trade-fairs", params={"group_by": "kind", "q": "nam", "year": "2015"})
    one = await client.get(f"{STATS}/trade-fairs", params={"group_by": "kind", "q": "nam&year=2015"})
    assert two.status_code == one.status_code == 200
    assert two.json()["totals"]["fairs"] == 1
    assert one.json()["totals"]["fairs"] == 0
    assert one.headers["etag"] != two.headers["etag"]
    assert one.headers["x-stats-source"] == "computed"


# -- what changes an ETag ------------------------------------------------------------------------


def changed(before: dict[str, tuple[str, str]], after: dict[str, tuple[str, str]]) -> set[str]:
    """The statistics whose ETag changed; the others must have been answered from memory."""
    different = {name for name in before if after[name][0] != before[name][0]}
    for name in before.keys() - different:
        assert after[name][1] == "memory", (name, after[name])
    return different


async def test_a_write_changes_the_etags_of_what_depends_on_it(client: httpx.AsyncClient) -> None:
    at = await f.places(client)
    start = await etags(client)

    await f.village(client, at.district_id, "Làng mới", established_year=2000)
    after_village = await etags(client)
    assert changed(start, after_village) == {"overview", "villages"}
    villages = (await client.get(URLS["villages"])).json()
    assert villages["totals"]["villages"] == 2  # Vị Khê and the new one

    await f.fair(client)
    after_fair = await etags(client)
    assert changed(after_village, after_fair) == {"overview", "trade-fairs"}

    await f.cooperative(client, at.district_id)
    after_cooperative = await etags(client)
    assert changed(after_fair, after_cooperative) == {"overview", "cooperatives"}

    await f.programme(client, beneficiaries=[{"village_id": at.village_id}])
    after_programme = await etags(client)
    assert changed(after_cooperative, after_programme) == {"overview", "programmes"}

    # Renaming a district changes what the grouped statistics show of it (programmes and fairs show
    # their department's province), not the overview (without `province`).
    renamed = await client.patch(f"/api/v1/admin-units/{at.district_id}", json={"name": "Huyện Nam Trực"})
    assert renamed.status_code == 200, renamed.text
    after_rename = await etags(client)
    assert changed(after_programme, after_rename) == {"villages", "cooperatives", "programmes", "trade-fairs"}

    # A figure of a village is a village statistic's data.
    await f.figure(client, at.village_id, 2015, workers=12)
    after_figure = await etags(client)
    assert changed(after_rename, after_figure) == {"overview", "villages"}


async def test_refused_and_empty_writes_change_nothing(client: httpx.AsyncClient, db: AsyncSession) -> None:
    at = await f.places(client)
    first = await f.cooperative(client, at.district_id, "HTX Một", registration_code="0600000001")
    second = await f.cooperative(client, at.district_id, "HTX Hai", registration_code="0600000002")
    start = await etags(client)
    counters = await versions(db)

    refusals = [
        # 422: invalid body, nothing reaches the database.
        await client.post("/api/v1/villages", json=f.village_body(at.district_id, craft_group="jewellery")),
        # 409 from the database: the UPDATE is attempted, fails, and is rolled back.
        await client.patch(f"/api/v1/cooperatives/{second['id']}", json={"registration_code": "0600000001"}),
        # 409: the district is still referred to.
        await client.delete(f"/api/v1/admin-units/{at.district_id}"),
        # 404
        await client.patch("/api/v1/villages/999999", json={"name": "Không có"}),
    ]
    assert [r.status_code for r in refusals] == [422, 409, 409, 404]
    # A change to the values the record already has.
    same = await client.patch(f"/api/v1/cooperatives/{first['id']}", json={"name": "HTX Một"})
    assert same.status_code == 200, same.text

    assert await versions(db) == counters
    after = await etags(client)
    assert changed(start, after) == set()


# -- data versions -------------------------------------------------------------------------------


def bumped(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {table: after[table] - before[table] for table in before if after[table] != before[table]}


async def test_each_committed_write_bumps_the_tables_it_wrote(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    at = await f.places(client)

    start = await versions(db)
    created = await f.programme(
        client,
        funding=[{"source": "central", "amount_vnd": 5}, {"source": "counterpart", "amount_vnd": 6}],
    )
    after_create = await versions(db)
    # One request: each written table once, however many rows; no beneficiary, no village.
    assert bumped(start, after_create) == {"programme": 1, "programme_funding": 1}

    url = f"/api/v1/programmes/{created['id']}"
    assert (await client.patch(url, json={"name": "Đề án đổi tên"})).status_code == 200
    after_rename = await versions(db)
    assert bumped(after_create, after_rename) == {"programme": 1}

    lines = {"beneficiaries": [{"village_id": at.village_id}]}
    assert (await client.patch(url, json=lines)).status_code == 200
    after_lines = await versions(db)
    assert bumped(after_rename, after_lines) == {"programme": 1, "programme_beneficiary": 1}

    assert (await client.delete(url)).status_code == 204
    after_delete = await versions(db)
    # The programme with its funding lines and beneficiaries.
    assert bumped(after_lines, after_delete) == {
        "programme": 1,
        "programme_funding": 1,
        "programme_beneficiary": 1,
    }


async def test_a_rolled_back_request_bumps_nothing(client: httpx.AsyncClient, db: AsyncSession) -> None:
    at = await f.places(client)
    await f.cooperative(client, at.district_id, "HTX Một", registration_code="0600000001")
    two = await f.cooperative(client, at.district_id, "HTX Hai", registration_code="0600000002")
    start = await versions(db)
    # The UPDATE of the co-operative is noted before it runs, then fails on the unique code.
    clash = await client.patch(f"/api/v1/cooperatives/{two['id']}", json={"registration_code": "0600000001"})
    assert clash.status_code == 409, clash.text
    assert await versions(db) == start
    # What the failed request noted is forgotten: the next write bumps only its own table.
    await f.village(client, at.district_id, "Làng sau")
    assert bumped(start, await versions(db)) == {"village": 1}


async def test_changes_left_unflushed_are_counted_at_commit(db: AsyncSession) -> None:
    start = await versions(db)
    province = AdminUnit(code="99", name="Tỉnh thử", level="province")
    db.add(province)
    await db.flush()
    unit = AdminUnit(code="999", name="Huyện thử", level="district", parent_id=province.id)
    db.add(unit)
    await db.flush()
    db.add(Village(name="Làng chưa flush", district_id=unit.id, province_id=province.id, craft_group="salt"))
    await db.commit()  # the commit flushes the village
    assert bumped(start, await versions(db)) == {"admin_unit": 1, "village": 1}


# -- several worker processes --------------------------------------------------------------------


@pytest.fixture(scope="module")
def committed_url(server_url: str) -> Iterator[str]:
    """A database of this module's own whose requests really commit (no rolled-back wrapper), so
    that two applications see each other's writes."""
    url = create_database(server_url, prefix="cv_stats_workers")
    try:
        migrate(url)
        yield url
    finally:
        drop_database(server_url, url)


async def committed_versions(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(plain_url(url))
    try:
        return {
            r["resource"]: int(r["version"])
            for r in await conn.fetch("SELECT resource, version FROM data_version")
        }
    finally:
        await conn.close()


async def test_workers_share_bodies_and_see_each_others_writes(committed_url: str) -> None:
    async with app_client(committed_url) as (_, one), app_client(committed_url) as (_, two):
        at = await f.places(one)
        await f.figure(one, at.village_id, 2015, workers=3)
        url = f"{STATS}/villages?group_by=district"

        computed = await fetch(one, url)
        assert computed.headers["x-stats-source"] == "computed"
        shared = await fetch(two, url)  # the second worker's first request
        assert shared.headers["x-stats-source"] == "shared"
        assert shared.headers["etag"] == computed.headers["etag"]
        assert shared.content == computed.content
        assert (await fetch(two, url)).headers["x-stats-source"] == "memory"

        overview = await fetch(one, URLS["overview"])
        assert (await fetch(two, URLS["overview"])).headers["x-stats-source"] == "shared"

        # A write through the second worker: the first worker's memory no longer answers.
        await f.village(two, at.district_id, "Làng thứ hai")
        fresh = await fetch(one, url)
        assert fresh.headers["x-stats-source"] == "computed"
        assert fresh.headers["etag"] != computed.headers["etag"]
        body: JSON = fresh.json()
        assert body["totals"]["villages"] == 2  # Vị Khê and the new one, in 2015
        again = await fetch(two, url)
        assert again.headers["x-stats-source"] == "shared"
        assert again.headers["etag"] == fresh.headers["etag"]
        not_modified = await fetch(two, url, **{"If-None-Match": fresh.headers["etag"]})
        assert not_modified.status_code == 304

        assert (await fetch(two, URLS["overview"])).headers["etag"] != overview.headers["etag"]
        unchanged = await fetch(two, URLS["trade-fairs"])
        assert (await fetch(one, URLS["trade-fairs"])).headers["etag"] == unchanged.headers["etag"]


async def test_a_refused_write_in_its_own_transaction_bumps_nothing(committed_url: str) -> None:
    async with app_client(committed_url) as (_, client):
        # Places of their own: the database is shared with the test above, and commits.
        province = await f.province(client, code="27", name="Bắc Ninh")
        district = await f.district(client, province["id"], code="256", name="Yên Phong")
        await f.cooperative(client, district["id"], "HTX A", registration_code="2700000101")
        other = await f.cooperative(client, district["id"], "HTX B", registration_code="2700000102")
        start = await committed_versions(committed_url)
        clash = await client.patch(
            f"/api/v1/cooperatives/{other['id']}",
            json={"registration_code": "2700000101", "version": other["version"]},
        )
        assert clash.status_code == 409, clash.text
        assert await committed_versions(committed_url) == start
        await f.fair(client, "Hội chợ sau")
        assert bumped(start, await committed_versions(committed_url)) == {"trade_fair": 1}
