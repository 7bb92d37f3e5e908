"""Programmes: activity of the right kind, funding lines and beneficiaries written whole."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import (
    API,
    JSON,
    assert_invalid,
    assert_problem,
    cooperative,
    count,
    fair,
    ids,
    places,
    programme,
    programme_body,
    snapshot,
    village,
)

PROGRAMMES = f"{API}/programmes"


async def test_create_with_funding_and_beneficiaries(client: httpx.AsyncClient) -> None:
    at = await places(client)
    htx = await cooperative(client, at.district_id)
    funding = [
        {"source": "central", "amount_vnd": 4_100_000_000_000},
        {"source": "provincial", "amount_vnd": 240_000_000},
        {"source": "counterpart", "amount_vnd": 0},
    ]
    beneficiaries = [{"village_id": at.village_id}, {"cooperative_id": htx["id"]}]
    response = await client.post(
        PROGRAMMES,
        json=programme_body(
            implementer="Trung tâm Khuyến công Nam Định",
            description="Đào tạo nghề rèn cho 30 lao động",
            status="approved",
            funding=funding,
            beneficiaries=beneficiaries,
        ),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["funding"] == funding
    assert re.search(r'"amount_vnd"\s*:\s*4100000000000\b', response.text)
    assert body["beneficiaries"] == [
        {"village_id": at.village_id, "cooperative_id": None},
        {"village_id": None, "cooperative_id": htx["id"]},
    ]
    assert (body["status"], body["version"]) == ("approved", 1)
    assert (await client.get(f"{PROGRAMMES}/{body['id']}")).json() == body


@pytest.mark.parametrize(
    ("kind", "activity"),
    [
        ("industrial_extension", "fair_participation"),
        ("industrial_extension", "market_information"),
        ("industrial_extension", "other"),
        ("trade_promotion", "vocational_training"),
        ("trade_promotion", "digital_and_sustainable"),
    ],
)
async def test_activity_of_the_other_kind_is_422(
    client: httpx.AsyncClient, db: AsyncSession, kind: str, activity: str
) -> None:
    before = await snapshot(db)
    problem = assert_invalid(await client.post(PROGRAMMES, json=programme_body(kind=kind, activity=activity)))
    assert f"activity {activity} is not one of {kind}" in problem["errors"][0]["message"]
    assert await snapshot(db) == before


@pytest.mark.parametrize(
    ("kind", "activity"),
    [
        ("industrial_extension", "digital_and_sustainable"),
        ("industrial_extension", "linkage_and_environment"),
        ("trade_promotion", "fair_hosting"),
        ("trade_promotion", "other"),
    ],
)
async def test_activity_of_its_kind_is_accepted(client: httpx.AsyncClient, kind: str, activity: str) -> None:
    body = await programme(client, kind=kind, activity=activity)
    assert (body["kind"], body["activity"]) == (kind, activity)


@pytest.mark.parametrize(
    "change",
    [
        {"kind": "trade_promotion"},
        {"activity": "fair_hosting"},
        {"kind": "trade_promotion", "activity": "consulting"},
    ],
)
async def test_patch_to_an_activity_of_the_other_kind_changes_nothing(
    client: httpx.AsyncClient, db: AsyncSession, change: JSON
) -> None:
    prog = await programme(client)
    before = await snapshot(db)
    assert_invalid(await client.patch(f"{PROGRAMMES}/{prog['id']}", json=change))
    assert await snapshot(db) == before
    assert (await client.get(f"{PROGRAMMES}/{prog['id']}")).json() == prog
    both = await client.patch(
        f"{PROGRAMMES}/{prog['id']}", json={"kind": "trade_promotion", "activity": "fair_hosting"}
    )
    assert both.status_code == 200
    assert both.json()["version"] == 2


INVALID: list[tuple[JSON, str]] = [
    ({"name": ""}, "name"),
    ({"kind": "extension"}, "kind"),
    ({"activity": "training"}, "activity"),
    ({"year": 1899}, "year"),
    ({"year": 2101}, "year"),
    ({"year": 2015.0}, "year"),
    ({"status": "done"}, "status"),
    ({"implementer": "x" * 301}, "implementer"),
    ({"description": "x" * 20_001}, "description"),
    ({"funding": [{"source": "lottery", "amount_vnd": 1}]}, "funding"),
    ({"funding": [{"source": "central", "amount_vnd": -1}]}, "funding"),
    ({"funding": [{"source": "central", "amount_vnd": 1.5}]}, "funding"),
    ({"funding": [{"source": "central", "amount_vnd": 4.34e9}]}, "funding"),
    ({"funding": [{"source": "central", "amount_vnd": "100"}]}, "funding"),
    ({"funding": [{"source": "central", "amount_vnd": True}]}, "funding"),
    ({"funding": [{"source": "central", "amount_vnd": 2**63}]}, "funding"),
    ({"funding": [{"source": "central", "amount_vnd": 10**30}]}, "funding"),
    ({"funding": [{"source": "central"}]}, "funding"),
    ({"funding": [{"source": "central", "amount_vnd": 1, "note": "x"}]}, "funding"),
    ({"funding": [{"source": "central", "amount_vnd": 1}] * 101}, "funding"),
    ({"funding": {"source": "central", "amount_vnd": 1}}, "funding"),
    ({"beneficiaries": [{}]}, "beneficiaries"),
    ({"beneficiaries": [{"village_id": 1, "cooperative_id": 1}]}, "beneficiaries"),
    ({"beneficiaries": [{"village_id": 0}]}, "beneficiaries"),
]


async def test_invalid_field_is_422(
    client: httpx.AsyncClient, db: AsyncSession, subtests: pytest.Subtests
) -> None:
    prog = await programme(client)
    for change, field in INVALID:
        with subtests.test(field=field, change=str(change)[:80]):
            before = await snapshot(db)
            assert_invalid(await client.post(PROGRAMMES, json=programme_body(**change)), field)
            assert_invalid(await client.patch(f"{PROGRAMMES}/{prog['id']}", json=change), field)
            assert await snapshot(db) == before


async def test_a_beneficiary_listed_twice_is_422(client: httpx.AsyncClient, db: AsyncSession) -> None:
    at = await places(client)
    htx = await cooperative(client, at.district_id)
    before = await snapshot(db)
    for twice in ([{"village_id": at.village_id}] * 2, [{"cooperative_id": htx["id"]}] * 2):
        problem = assert_invalid(await client.post(PROGRAMMES, json=programme_body(beneficiaries=twice)))
        assert "twice" in problem["errors"][0]["message"]
    assert await snapshot(db) == before


async def test_beneficiary_that_does_not_exist_is_422(client: httpx.AsyncClient, db: AsyncSession) -> None:
    at = await places(client)
    prog = await programme(client)
    before = await snapshot(db)
    body = programme_body(beneficiaries=[{"village_id": at.village_id}, {"cooperative_id": 5150}])
    problem = assert_invalid(await client.post(PROGRAMMES, json=body), "beneficiaries.1.cooperative_id")
    assert "5150" in problem["errors"][0]["message"]
    patch = {"beneficiaries": [{"village_id": 5151}]}
    assert_invalid(await client.patch(f"{PROGRAMMES}/{prog['id']}", json=patch), "beneficiaries.0.village_id")
    assert await snapshot(db) == before


async def test_patch_replaces_the_funding_whole_and_bumps_the_version(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    at = await places(client)
    prog = await programme(
        client,
        funding=[{"source": "central", "amount_vnd": 1_000}, {"source": "provincial", "amount_vnd": 2_000}],
        beneficiaries=[{"village_id": at.village_id}],
    )
    new_funding = [{"source": "district", "amount_vnd": 4_340_000_000}]
    response = await client.patch(f"{PROGRAMMES}/{prog['id']}", json={"funding": new_funding})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["funding"] == new_funding
    assert body["beneficiaries"] == prog["beneficiaries"]
    assert body["version"] == 2
    assert await count(db, "programme_funding") == 1
    assert (await client.get(f"{PROGRAMMES}/{prog['id']}")).json() == body


async def test_patch_of_beneficiaries_keeps_a_line_that_stays(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    at = await places(client)
    other = await village(client, at.district_id)
    prog = await programme(client, beneficiaries=[{"village_id": at.village_id}])
    kept_and_new = [{"village_id": at.village_id}, {"village_id": other["id"]}]
    response = await client.patch(f"{PROGRAMMES}/{prog['id']}", json={"beneficiaries": kept_and_new})
    assert response.status_code == 200, response.text
    assert [b["village_id"] for b in response.json()["beneficiaries"]] == [at.village_id, other["id"]]
    assert response.json()["version"] == 2
    emptied = await client.patch(f"{PROGRAMMES}/{prog['id']}", json={"beneficiaries": []})
    assert emptied.json()["beneficiaries"] == []
    assert emptied.json()["version"] == 3
    assert await count(db, "programme_beneficiary") == 0


async def test_patch_of_fields_and_a_list_together_bumps_the_version_once(client: httpx.AsyncClient) -> None:
    prog = await programme(client)
    response = await client.patch(
        f"{PROGRAMMES}/{prog['id']}",
        json={"status": "in_progress", "funding": [{"source": "commune", "amount_vnd": 5}]},
    )
    assert response.json()["version"] == 2


async def test_refused_funding_patch_keeps_the_old_lines(client: httpx.AsyncClient, db: AsyncSession) -> None:
    prog = await programme(client, funding=[{"source": "central", "amount_vnd": 821_500_000}])
    before = await snapshot(db)
    patch = {"funding": [{"source": "central", "amount_vnd": 1}], "beneficiaries": [{"village_id": 999}]}
    assert_invalid(await client.patch(f"{PROGRAMMES}/{prog['id']}", json=patch))
    assert await snapshot(db) == before
    reread = (await client.get(f"{PROGRAMMES}/{prog['id']}")).json()
    assert reread["funding"] == [{"source": "central", "amount_vnd": 821_500_000}]
    assert reread["version"] == 1


async def test_delete_takes_the_lines_with_it(client: httpx.AsyncClient, db: AsyncSession) -> None:
    at = await places(client)
    prog = await programme(
        client,
        funding=[{"source": "central", "amount_vnd": 1}],
        beneficiaries=[{"village_id": at.village_id}],
    )
    assert (await client.delete(f"{PROGRAMMES}/{prog['id']}")).status_code == 204
    assert await count(db, "programme_funding") == 0
    assert await count(db, "programme_beneficiary") == 0
    assert await count(db, "village") == 1


async def test_delete_refused_while_a_fair_refers_to_it(client: httpx.AsyncClient, db: AsyncSession) -> None:
    prog = await programme(client, kind="trade_promotion", activity="fair_hosting")
    show = await fair(client, programme_id=prog["id"])
    before = await snapshot(db)
    problem = assert_problem(await client.delete(f"{PROGRAMMES}/{prog['id']}"), 409)
    assert problem["referenced_by"] == [
        {"resource": "trade-fairs", "field": "programme_id", "count": 1, "ids": [show["id"]]}
    ]
    assert await snapshot(db) == before


@pytest.fixture
async def progs(client: httpx.AsyncClient) -> dict[str, int]:
    at = await places(client)
    htx = await cooperative(client, at.district_id)
    a = await programme(
        client,
        name="Đào tạo nghề rèn",
        implementer="Trung tâm Khuyến công",
        year=2015,
        status="completed",
        funding=[{"source": "central", "amount_vnd": 300_000_000}],
        beneficiaries=[{"village_id": at.village_id}],
    )
    b = await programme(
        client,
        name="Mô hình trình diễn máy cắt",
        activity="demonstration_model",
        year=2016,
        funding=[
            {"source": "provincial", "amount_vnd": 200_000_000},
            {"source": "counterpart", "amount_vnd": 1},
        ],
        beneficiaries=[{"cooperative_id": htx["id"]}],
    )
    c = await programme(
        client,
        name="Hội chợ Công Thương 2015",
        kind="trade_promotion",
        activity="fair_hosting",
        year=2015,
        status="completed",
        beneficiaries=[{"village_id": at.village_id}, {"cooperative_id": htx["id"]}],
    )
    d = await programme(
        client,
        name="Kết nối giao thương Lào Cai",
        kind="trade_promotion",
        activity="trade_conference",
        year=2014,
    )
    return {
        "A": a["id"],
        "B": b["id"],
        "C": c["id"],
        "D": d["id"],
        "village": at.village_id,
        "coop": htx["id"],
    }


FILTERS = [
    ("kind=industrial_extension", "AB"),
    ("kind=trade_promotion", "CD"),
    ("activity=vocational_training,trade_conference", "AD"),
    ("activity=fair_hosting&activity=demonstration_model", "BC"),
    ("status=completed", "AC"),
    ("status=planned", "BD"),
    ("status=cancelled", ""),
    ("year=2015", "AC"),
    ("year=2014,2016", "BD"),
    ("year_from=2015", "ABC"),
    ("year_to=2015", "ACD"),
    ("year_from=2016&year_to=2016", "B"),
    ("funding_source=central", "A"),
    ("funding_source=counterpart", "B"),
    ("funding_source=central,provincial", "AB"),
    ("funding_source=district", ""),
    ("village_id={village}", "AC"),
    ("cooperative_id={coop}", "BC"),
    ("village_id={village}&cooperative_id={coop}", "C"),
    ("village_id=987654", ""),
    ("q=khuyen cong", "A"),
    ("q=hoi cho", "C"),
    ("q=lao cai", "D"),
    ("kind=trade_promotion&year=2015", "C"),
]


async def test_filters(client: httpx.AsyncClient, progs: dict[str, int], subtests: pytest.Subtests) -> None:
    for query, expected in FILTERS:
        with subtests.test(query=query):
            response = await client.get(f"{PROGRAMMES}?{query.format(**progs)}&sort=id")
            assert response.status_code == 200, response.text
            page = response.json()
            assert ids(page) == [progs[k] for k in expected]
            assert page["total"] == len(expected)


@pytest.mark.parametrize(
    "query",
    [
        "kind=extension",
        "activity=training",
        "status=done",
        "year=1899",
        "year=2015,x",
        "year_from=2101",
        "year_to=abc",
        "funding_source=lottery",
        "village_id=0",
        "cooperative_id=-5",
    ],
)
async def test_invalid_filter_is_422(client: httpx.AsyncClient, query: str) -> None:
    assert_invalid(
        await client.get(f"{PROGRAMMES}?{query}"), query.split("=", maxsplit=1)[0], location="query"
    )
