"""Craft villages: recognition, households, coordinates, crafts, and who refers to them."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import (
    API,
    JSON,
    assert_invalid,
    assert_problem,
    cooperative,
    create,
    district,
    fair,
    figure,
    ids,
    places,
    programme,
    province,
    snapshot,
    village,
    village_body,
)

VILLAGES = f"{API}/villages"

VAN_CHANG = {
    "name": "Va\u0302n Cha\u0300ng",  # decomposed (NFD), as some keyboards send it
    "commune": "Nam Giang",
    "craft_group": "manufacturing",
    "crafts": ["re\u0300n", "cơ khí nhỏ"],
    "status": "traditional_craft_village",
    "recognition_decision": "2412/QĐ-UBND",
    "recognised_on": "2006-05-10",
    "established_year": 1600,
    "households_total": 900,
    "households_participating": 600,
    "has_environment_plan": True,
    "on_polluted_list": True,
    "latitude": 20.336912345678,
    "longitude": 106.21,
    "notes": "Rèn, cơ khí",
}


async def test_create_stores_every_field_in_nfc(client: httpx.AsyncClient) -> None:
    at = await places(client)
    response = await client.post(VILLAGES, json={**VAN_CHANG, "district_id": at.district_id})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["name"] == "Vân Chàng"
    assert body["name"] == "V\u00e2n Ch\u00e0ng"
    assert body["crafts"] == ["rèn", "cơ khí nhỏ"]
    assert body["district"] == {"id": at.district_id, "code": "362", "name": "Nam Trực"}
    assert body["latitude"] == 20.336912345678
    assert body["longitude"] == 106.21
    for field in (
        "commune",
        "craft_group",
        "status",
        "recognition_decision",
        "recognised_on",
        "established_year",
        "households_total",
        "households_participating",
        "has_environment_plan",
        "on_polluted_list",
        "notes",
    ):
        assert body[field] == VAN_CHANG[field], field
    assert body["revoked_on"] is None
    assert body["is_illustrative"] is False
    assert (await client.get(f"{VILLAGES}/{body['id']}")).json() == body


async def test_defaults(client: httpx.AsyncClient) -> None:
    at = await places(client)
    body = await village(client, at.district_id, name="  Thạch Cầu  ")
    assert body["name"] == "Thạch Cầu"
    assert body["status"] == "unrecognised"
    assert body["crafts"] == []
    assert body["has_environment_plan"] is False
    assert body["on_polluted_list"] is False
    assert body["is_illustrative"] is False
    for field in ("commune", "recognised_on", "households_total", "latitude", "longitude", "notes"):
        assert body[field] is None, field


async def test_latitude_may_be_a_json_integer(client: httpx.AsyncClient) -> None:
    at = await places(client)
    body = await village(client, at.district_id, latitude=20, longitude=106)
    assert (body["latitude"], body["longitude"]) == (20, 106)


INVALID: list[tuple[JSON, str]] = [
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "x" * 301}, "name"),
    ({"name": 5}, "name"),
    ({"commune": "x" * 301}, "commune"),
    ({"craft_group": "pottery"}, "craft_group"),
    ({"crafts": "rèn"}, "crafts"),
    ({"crafts": ["x" * 301]}, "crafts"),
    ({"crafts": ["x"] * 51}, "crafts"),
    ({"crafts": [None]}, "crafts"),
    ({"status": "famous"}, "status"),
    ({"established_year": 999}, "established_year"),
    ({"established_year": 2101}, "established_year"),
    ({"established_year": 1500.0}, "established_year"),
    ({"established_year": "1500"}, "established_year"),
    ({"households_total": -1}, "households_total"),
    ({"households_total": 2**31}, "households_total"),
    ({"households_total": True}, "households_total"),
    ({"households_participating": -1}, "households_participating"),
    ({"latitude": 90.0001, "longitude": 106}, "latitude"),
    ({"latitude": -91, "longitude": 106}, "latitude"),
    ({"latitude": "20.4", "longitude": 106}, "latitude"),
    ({"latitude": 20, "longitude": 180.5}, "longitude"),
    ({"latitude": 20, "longitude": -181}, "longitude"),
    ({"has_environment_plan": "true"}, "has_environment_plan"),
    ({"on_polluted_list": 1}, "on_polluted_list"),
    ({"is_illustrative": None}, "is_illustrative"),
    ({"district_id": 0}, "district_id"),
    ({"district_id": "1"}, "district_id"),
    ({"recognised_on": "2025-02-30"}, "recognised_on"),
    ({"revoked_on": "2100-13-01"}, "revoked_on"),
    ({"notes": "x" * 20_001}, "notes"),
]


async def test_invalid_field_is_422(
    client: httpx.AsyncClient, db: AsyncSession, subtests: pytest.Subtests
) -> None:
    at = await places(client)
    for change, field in INVALID:
        with subtests.test(field=field, change=str(change)[:80]):
            before = await snapshot(db)
            body = {**village_body(at.district_id), **change}
            assert_invalid(await client.post(VILLAGES, json=body), field)
            assert_invalid(await client.patch(f"{VILLAGES}/{at.village_id}", json=change), field)
            assert await snapshot(db) == before


RULES = [
    ({"households_total": 10, "households_participating": 11}, "households_participating must not exceed"),
    ({"latitude": 20.3}, "latitude and longitude must be given together"),
    ({"longitude": 106.2}, "latitude and longitude must be given together"),
    ({"status": "craft_village"}, "needs recognised_on"),
    ({"status": "traditional_craft_village"}, "needs recognised_on"),
    ({"recognised_on": "2010-01-02", "revoked_on": "2010-01-01"}, "revoked_on must not be before"),
]


@pytest.mark.parametrize(("change", "message"), RULES)
async def test_rules_across_fields_on_create(
    client: httpx.AsyncClient, db: AsyncSession, change: JSON, message: str
) -> None:
    at = await places(client)
    before = await snapshot(db)
    problem = assert_invalid(await client.post(VILLAGES, json={**village_body(at.district_id), **change}))
    assert message in problem["errors"][0]["message"]
    assert await snapshot(db) == before


async def test_rules_allow_the_boundary(client: httpx.AsyncClient) -> None:
    at = await places(client)
    body = await village(
        client,
        at.district_id,
        households_total=10,
        households_participating=10,
        status="craft_village",
        recognised_on="2010-01-01",
        revoked_on="2010-01-01",
    )
    assert body["households_participating"] == body["households_total"] == 10


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"households_participating": 101}, "households_participating must not exceed"),
        ({"households_total": 49}, "households_participating must not exceed"),
        ({"latitude": None}, "latitude and longitude must be given together"),
        ({"recognised_on": None}, "needs recognised_on"),
        ({"revoked_on": "2009-12-31"}, "revoked_on must not be before"),
        ({"recognised_on": "2011-01-01", "revoked_on": "2010-12-31"}, "revoked_on must not be before"),
    ],
)
async def test_patch_leaving_the_village_invalid_changes_nothing(
    client: httpx.AsyncClient, db: AsyncSession, change: JSON, message: str
) -> None:
    at = await places(client)
    recognised = await village(
        client,
        at.district_id,
        households_total=100,
        households_participating=50,
        latitude=20.3,
        longitude=106.2,
        status="craft_village",
        recognised_on="2010-01-01",
    )
    before = await snapshot(db)
    problem = assert_invalid(await client.patch(f"{VILLAGES}/{recognised['id']}", json=change))
    assert message in " ".join(e["message"] for e in problem["errors"])
    assert await snapshot(db) == before
    assert (await client.get(f"{VILLAGES}/{recognised['id']}")).json() == recognised


async def test_patch_within_the_rules(client: httpx.AsyncClient) -> None:
    at = await places(client)
    v = await village(client, at.district_id, households_total=100, households_participating=50)
    changed = await client.patch(
        f"{VILLAGES}/{v['id']}",
        json={
            "households_total": 50,
            "status": "craft_village",
            "recognised_on": "2012-03-04",
            "crafts": ["đúc đồng"],
            "commune": None,
        },
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["households_total"], body["households_participating"]) == (50, 50)
    assert body["crafts"] == ["đúc đồng"]
    assert body["status"] == "craft_village"
    assert body["version"] == 2


async def test_district_that_does_not_exist_is_422(client: httpx.AsyncClient, db: AsyncSession) -> None:
    at = await places(client)
    before = await snapshot(db)
    problem = assert_invalid(await client.post(VILLAGES, json=village_body(4242)), "district_id")
    assert "4242" in problem["errors"][0]["message"]
    assert_invalid(
        await client.patch(f"{VILLAGES}/{at.village_id}", json={"district_id": 4242}), "district_id"
    )
    assert await snapshot(db) == before


async def test_delete_refused_while_referred_to(client: httpx.AsyncClient, db: AsyncSession) -> None:
    at = await places(client)
    v = at.village_id
    fig = await figure(client, v)
    htx = await cooperative(client, at.district_id, village_id=v)
    prog = await programme(client, beneficiaries=[{"village_id": v}])
    show = await fair(client, participants=[{"village_id": v, "booths": 2}])
    before = await snapshot(db)

    problem = assert_problem(await client.delete(f"{VILLAGES}/{v}"), 409)
    assert sorted(problem["referenced_by"], key=lambda r: r["resource"]) == [
        {"resource": "cooperatives", "field": "village_id", "count": 1, "ids": [htx["id"]]},
        {"resource": "programmes", "field": "village_id", "count": 1, "ids": [prog["id"]]},
        {"resource": "trade-fairs", "field": "village_id", "count": 1, "ids": [show["id"]]},
        {"resource": "village-figures", "field": "village_id", "count": 1, "ids": [fig["id"]]},
    ]
    assert await snapshot(db) == before

    # Once nothing refers to it, it goes.
    for path, record in (
        ("village-figures", fig),
        ("cooperatives", htx),
        ("programmes", prog),
        ("trade-fairs", show),
    ):
        assert (await client.delete(f"{API}/{path}/{record['id']}")).status_code == 204
    assert (await client.delete(f"{VILLAGES}/{v}")).status_code == 204


async def test_referrers_list_at_most_twenty_ids_but_count_all(client: httpx.AsyncClient) -> None:
    at = await places(client)
    figure_ids = [(await figure(client, at.village_id, year=1990 + n))["id"] for n in range(21)]
    problem = assert_problem(await client.delete(f"{VILLAGES}/{at.village_id}"), 409)
    assert problem["referenced_by"] == [
        {"resource": "village-figures", "field": "village_id", "count": 21, "ids": sorted(figure_ids)[:20]}
    ]


@pytest.fixture
async def four(client: httpx.AsyncClient) -> dict[str, int]:
    """Four villages in two districts, with what each filter needs; name -> id."""
    nam_dinh = await province(client)
    nam_truc = await district(client, nam_dinh["id"])
    y_yen = await district(client, nam_dinh["id"], code="360", name="Ý Yên")
    a = await create(client, "villages", {**VAN_CHANG, "district_id": nam_truc["id"]})
    b = await village(
        client,
        y_yen["id"],
        name="La Xuyên",
        craft_group="handicraft",
        crafts=["chạm khắc gỗ"],
        status="craft_village",
        recognised_on="2010-01-15",
        established_year=1700,
        households_total=1200,
        households_participating=800,
        has_environment_plan=True,
    )
    c = await village(
        client,
        nam_truc["id"],
        name="Vị Khê",
        craft_group="ornamental",
        crafts=["sinh vật cảnh"],
        established_year=1300,
        households_total=400,
        households_participating=100,
    )
    d = await village(
        client, y_yen["id"], name="Làng minh hoạ", craft_group="agro_processing", is_illustrative=True
    )
    return {
        "A": a["id"],
        "B": b["id"],
        "C": c["id"],
        "D": d["id"],
        "nam_truc": nam_truc["id"],
        "y_yen": y_yen["id"],
    }


FILTERS = [
    ("craft_group=manufacturing", "A"),
    ("craft_group=handicraft,ornamental", "BC"),
    ("craft_group=handicraft&craft_group=agro_processing", "BD"),
    ("status=craft_village&status=traditional_craft_village", "AB"),
    ("status=unrecognised", "CD"),
    ("district_id={nam_truc}", "AC"),
    ("district_id={nam_truc},{y_yen}", "ABCD"),
    ("district_id={nam_truc}&status=unrecognised", "C"),
    ("craft=rèn", "A"),
    ("craft=re\u0300n", "A"),
    ("craft=cơ khí nhỏ", "A"),
    ("craft=gỗ", ""),
    ("craft=rèn&craft_group=handicraft", ""),
    ("is_illustrative=true", "D"),
    ("is_illustrative=false", "ABC"),
    ("has_environment_plan=true", "AB"),
    ("on_polluted_list=true", "A"),
    ("on_polluted_list=false", "BCD"),
    ("established_year_from=1600", "AB"),
    ("established_year_to=1600", "AC"),
    ("established_year_from=1601&established_year_to=1700", "B"),
    ("households_total_min=900", "AB"),
    ("households_total_max=900", "AC"),
    ("households_total_max=399", ""),
    ("households_total_min=400&households_total_max=400", "C"),
    ("recognised_on_from=2006-05-10", "AB"),
    ("recognised_on_to=2006-05-10", "A"),
    ("recognised_on_from=2006-05-11", "B"),
]


async def test_filters(client: httpx.AsyncClient, four: dict[str, int], subtests: pytest.Subtests) -> None:
    for query, expected in FILTERS:
        with subtests.test(query=query):
            response = await client.get(f"{VILLAGES}?{query.format(**four)}&sort=id")
            assert response.status_code == 200, response.text
            page = response.json()
            assert ids(page) == [four[k] for k in expected]
            assert page["total"] == len(expected)


@pytest.mark.parametrize(
    "query",
    [
        "craft_group=pottery",
        "craft_group=manufacturing,pottery",
        "status=famous",
        "district_id=0",
        "district_id=1,x",
        "established_year_from=999",
        "established_year_to=2101",
        "households_total_min=-1",
        "households_total_max=2147483648",
        "recognised_on_from=2025-13-01",
        "recognised_on_to=yesterday",
        "is_illustrative=maybe",
        "craft=" + "x" * 201,
    ],
)
async def test_invalid_filter_is_422(client: httpx.AsyncClient, query: str) -> None:
    assert_invalid(await client.get(f"{VILLAGES}?{query}"), query.split("=", maxsplit=1)[0], location="query")
