"""Co-operatives: unique registration codes, legal forms, sectors, dates and money."""

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
    district,
    fair,
    ids,
    places,
    programme,
    province,
    snapshot,
    village,
)

COOPS = f"{API}/cooperatives"


async def test_create_and_read(client: httpx.AsyncClient) -> None:
    at = await places(client)
    response = await client.post(
        COOPS,
        json={
            "name": "HTX Dệt may Hải Hậu",
            "registration_code": " 0601234567 ",
            "legal_form": "cooperative_union",
            "sector": "textile_garment",
            "district_id": at.district_id,
            "village_id": at.village_id,
            "members": 7,
            "charter_capital_vnd": 9_223_372_036_854_775_807,
            "founded_on": "2013-07-01",
            "dissolved_on": "2024-12-31",
            "status": "dissolved",
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["registration_code"] == "0601234567"
    assert body["district"] == {"id": at.district_id, "code": "362", "name": "Nam Trực"}
    assert body["village"] == {"id": at.village_id, "name": "Vị Khê"}
    assert body["charter_capital_vnd"] == 9_223_372_036_854_775_807
    assert re.search(r'"charter_capital_vnd"\s*:\s*9223372036854775807\b', response.text)
    assert (body["legal_form"], body["sector"], body["status"]) == (
        "cooperative_union",
        "textile_garment",
        "dissolved",
    )
    assert (body["founded_on"], body["dissolved_on"]) == ("2013-07-01", "2024-12-31")
    assert (await client.get(f"{COOPS}/{body['id']}")).json() == body


async def test_defaults(client: httpx.AsyncClient) -> None:
    at = await places(client)
    body = await cooperative(client, at.district_id)
    assert (body["legal_form"], body["status"]) == ("cooperative", "active")
    assert body["registration_code"] is None
    assert body["village"] is None


async def test_duplicate_registration_code_is_409(client: httpx.AsyncClient, db: AsyncSession) -> None:
    at = await places(client)
    await cooperative(client, at.district_id, registration_code="0601234567")
    before = await snapshot(db)
    response = await client.post(
        COOPS,
        json={
            "name": "HTX khác",
            "sector": "sedge",
            "district_id": at.district_id,
            "registration_code": "0601234567",
        },
    )
    problem = assert_problem(response, 409)
    assert problem["type"].endswith("conflict")
    assert "registration_code" in problem["detail"]
    assert await snapshot(db) == before


async def test_patch_onto_a_taken_registration_code_is_409(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    at = await places(client)
    await cooperative(client, at.district_id, registration_code="A-1")
    other = await cooperative(client, at.district_id, name="HTX Cói Kim Sơn", registration_code="A-2")
    before = await snapshot(db)
    assert_problem(await client.patch(f"{COOPS}/{other['id']}", json={"registration_code": "A-1"}), 409)
    assert await snapshot(db) == before
    assert (await client.get(f"{COOPS}/{other['id']}")).json() == other


async def test_many_co_operatives_may_lack_a_registration_code(client: httpx.AsyncClient) -> None:
    at = await places(client)
    first = await cooperative(client, at.district_id)
    second = await cooperative(
        client, at.district_id, name="Tổ hợp tác mây tre", legal_form="cooperative_group"
    )
    assert first["registration_code"] is None and second["registration_code"] is None


INVALID: list[tuple[JSON, str]] = [
    ({"name": " "}, "name"),
    ({"registration_code": ""}, "registration_code"),
    ({"registration_code": "  "}, "registration_code"),
    ({"registration_code": "1" * 33}, "registration_code"),
    ({"legal_form": "company"}, "legal_form"),
    ({"sector": "steel"}, "sector"),
    ({"status": "closed"}, "status"),
    ({"members": -1}, "members"),
    ({"members": 2**31}, "members"),
    ({"members": "7"}, "members"),
    ({"charter_capital_vnd": -1}, "charter_capital_vnd"),
    ({"charter_capital_vnd": 2**63}, "charter_capital_vnd"),
    ({"charter_capital_vnd": 10**30}, "charter_capital_vnd"),
    ({"charter_capital_vnd": 1.5}, "charter_capital_vnd"),
    ({"charter_capital_vnd": 100.0}, "charter_capital_vnd"),
    ({"charter_capital_vnd": "100"}, "charter_capital_vnd"),
    ({"charter_capital_vnd": True}, "charter_capital_vnd"),
    ({"founded_on": "2013-7-1"}, "founded_on"),
    ({"founded_on": 1372636800}, "founded_on"),
    ({"dissolved_on": "2024-12-31T00:00:00"}, "dissolved_on"),
    ({"village_id": 0}, "village_id"),
]


async def test_invalid_field_is_422(
    client: httpx.AsyncClient, db: AsyncSession, subtests: pytest.Subtests
) -> None:
    at = await places(client)
    existing = await cooperative(client, at.district_id)
    for change, field in INVALID:
        with subtests.test(field=field, change=str(change)[:80]):
            before = await snapshot(db)
            body = {"name": "HTX mới", "sector": "sedge", "district_id": at.district_id, **change}
            assert_invalid(await client.post(COOPS, json=body), field)
            assert_invalid(await client.patch(f"{COOPS}/{existing['id']}", json=change), field)
            assert await snapshot(db) == before


async def test_dissolved_before_founded_is_422(client: httpx.AsyncClient, db: AsyncSession) -> None:
    at = await places(client)
    before = await snapshot(db)
    problem = assert_invalid(
        await client.post(
            COOPS,
            json={
                "name": "HTX",
                "sector": "sedge",
                "district_id": at.district_id,
                "founded_on": "2013-07-01",
                "dissolved_on": "2013-06-30",
            },
        )
    )
    assert "dissolved_on must not be before founded_on" in problem["errors"][0]["message"]
    existing = await cooperative(client, at.district_id, founded_on="2013-07-01")
    before = await snapshot(db)
    assert_invalid(await client.patch(f"{COOPS}/{existing['id']}", json={"dissolved_on": "2013-06-30"}))
    assert await snapshot(db) == before
    same_day = await client.patch(f"{COOPS}/{existing['id']}", json={"dissolved_on": "2013-07-01"})
    assert same_day.status_code == 200


@pytest.mark.parametrize("field", ["district_id", "village_id"])
async def test_reference_to_nothing_is_422(client: httpx.AsyncClient, db: AsyncSession, field: str) -> None:
    at = await places(client)
    existing = await cooperative(client, at.district_id)
    before = await snapshot(db)
    body = {"name": "HTX", "sector": "sedge", "district_id": at.district_id, field: 31337}
    problem = assert_invalid(await client.post(COOPS, json=body), field)
    assert "31337" in problem["detail"] or "31337" in problem["errors"][0]["message"]
    assert_invalid(await client.patch(f"{COOPS}/{existing['id']}", json={field: 31337}), field)
    assert await snapshot(db) == before


async def test_delete_refused_while_referred_to(client: httpx.AsyncClient, db: AsyncSession) -> None:
    at = await places(client)
    htx = await cooperative(client, at.district_id)
    prog = await programme(client, beneficiaries=[{"cooperative_id": htx["id"]}])
    show = await fair(client, participants=[{"cooperative_id": htx["id"]}])
    before = await snapshot(db)
    problem = assert_problem(await client.delete(f"{COOPS}/{htx['id']}"), 409)
    assert sorted(problem["referenced_by"], key=lambda r: r["resource"]) == [
        {"resource": "programmes", "field": "cooperative_id", "count": 1, "ids": [prog["id"]]},
        {"resource": "trade-fairs", "field": "cooperative_id", "count": 1, "ids": [show["id"]]},
    ]
    assert await snapshot(db) == before


@pytest.fixture
async def coops(client: httpx.AsyncClient) -> dict[str, int]:
    nam_dinh = await province(client)
    hai_hau = await district(client, nam_dinh["id"], code="366", name="Hải Hậu")
    nam_truc = await district(client, nam_dinh["id"])
    van_chang = await village(client, nam_truc["id"])
    a = await cooperative(
        client,
        hai_hau["id"],
        name="HTX Dệt may Hải Hậu",
        sector="textile_garment",
        registration_code="0601000001",
        members=30,
        charter_capital_vnd=2_000_000_000,
        founded_on="2010-03-01",
    )
    b = await cooperative(
        client,
        nam_truc["id"],
        name="HTX Cơ khí Vân Chàng",
        village_id=van_chang["id"],
        registration_code="0601000002",
        members=7,
        charter_capital_vnd=500_000_000,
        founded_on="2015-06-15",
    )
    c = await cooperative(
        client,
        hai_hau["id"],
        name="Liên hiệp HTX Cói",
        sector="sedge",
        legal_form="cooperative_union",
        status="suspended",
        members=3,
        founded_on="2020-01-01",
    )
    d = await cooperative(
        client,
        nam_truc["id"],
        name="Tổ hợp tác nước sạch",
        sector="clean_water",
        legal_form="cooperative_group",
    )
    return {
        "A": a["id"],
        "B": b["id"],
        "C": c["id"],
        "D": d["id"],
        "hai_hau": hai_hau["id"],
        "van_chang": van_chang["id"],
    }


FILTERS = [
    ("sector=textile_garment", "A"),
    ("sector=sedge,clean_water", "CD"),
    ("legal_form=cooperative", "AB"),
    ("legal_form=cooperative_union&legal_form=cooperative_group", "CD"),
    ("status=active", "ABD"),
    ("status=suspended", "C"),
    ("status=dissolved", ""),
    ("district_id={hai_hau}", "AC"),
    ("village_id={van_chang}", "B"),
    ("registration_code=0601000002", "B"),
    ("registration_code=0601000001,0601000002", "AB"),
    ("founded_on_from=2015-06-15", "BC"),
    ("founded_on_to=2015-06-15", "AB"),
    ("founded_on_from=2015-06-16&founded_on_to=2019-12-31", ""),
    ("members_min=7", "AB"),
    ("members_max=7", "BC"),
    ("members_min=8&members_max=30", "A"),
    ("charter_capital_vnd_min=500000001", "A"),
    ("charter_capital_vnd_max=500000000", "B"),
    ("q=0601000001", "A"),
    ("q=htx", "ABC"),
    ("q=co khi", "B"),
    ("sector=mechanical&district_id={hai_hau}", ""),
]


async def test_filters(client: httpx.AsyncClient, coops: dict[str, int], subtests: pytest.Subtests) -> None:
    for query, expected in FILTERS:
        with subtests.test(query=query):
            response = await client.get(f"{COOPS}?{query.format(**coops)}&sort=id")
            assert response.status_code == 200, response.text
            page = response.json()
            assert ids(page) == [coops[k] for k in expected]
            assert page["total"] == len(expected)


@pytest.mark.parametrize(
    "query",
    [
        "sector=steel",
        "legal_form=company",
        "status=closed",
        "district_id=0",
        "village_id=abc",
        "founded_on_from=2015-02-29",
        "members_min=-1",
        "members_max=2147483648",
        "charter_capital_vnd_min=9223372036854775808",
        "charter_capital_vnd_max=1e9",
    ],
)
async def test_invalid_filter_is_422(client: httpx.AsyncClient, query: str) -> None:
    assert_invalid(await client.get(f"{COOPS}?{query}"), query.split("=", maxsplit=1)[0], location="query")
