"""Trade fairs: dates, country by kind, booths and money, participants written whole."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import (
    API,
    JSON,
    assert_invalid,
    cooperative,
    count,
    fair,
    fair_body,
    ids,
    places,
    programme,
    snapshot,
)

FAIRS = f"{API}/trade-fairs"
BIGINT_MAX = 9_223_372_036_854_775_807


async def test_create_with_participants_and_the_largest_money(client: httpx.AsyncClient) -> None:
    at = await places(client)
    htx = await cooperative(client, at.district_id)
    prog = await programme(client, kind="trade_promotion", activity="fair_hosting")
    participants = [
        {"village_id": at.village_id, "cooperative_id": None, "booths": 4},
        {"village_id": None, "cooperative_id": htx["id"], "booths": 1},
    ]
    response = await client.post(
        FAIRS,
        json=fair_body(
            organiser="Sở Công Thương Nam Định",
            venue="Quảng trường 3/2",
            city="Nam Định",
            province="Nam Định",
            standard_booths=320,
            exhibitors=210,
            visitors=50_000,
            contracts_signed=12,
            contract_value_vnd=BIGINT_MAX,
            sales_vnd=821_500_000,
            cost_vnd=0,
            programme_id=prog["id"],
            participants=participants,
        ),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["contract_value_vnd"] == BIGINT_MAX
    assert re.search(r'"contract_value_vnd"\s*:\s*9223372036854775807\b', response.text)
    assert body["participants"] == participants
    assert body["programme"] == {"id": prog["id"], "name": prog["name"]}
    assert (body["country"], body["standard_booths"], body["cost_vnd"]) == ("VN", 320, 0)
    reread = await client.get(f"{FAIRS}/{body['id']}")
    assert re.search(r'"contract_value_vnd"\s*:\s*9223372036854775807\b', reread.text)
    assert reread.json() == body


async def test_a_booth_count_defaults_to_one(client: httpx.AsyncClient) -> None:
    at = await places(client)
    body = await fair(client, participants=[{"village_id": at.village_id}])
    assert body["participants"] == [{"village_id": at.village_id, "cooperative_id": None, "booths": 1}]


@pytest.mark.parametrize(
    ("kind", "country", "accepted"),
    [
        ("hosted", "VN", True),
        ("attended", "VN", True),
        ("overseas", "CN", True),
        ("trade_conference", "VN", True),
        ("trade_conference", "CN", True),
        ("hosted", "CN", False),
        ("attended", "LA", False),
        ("overseas", "VN", False),
    ],
)
async def test_country_must_match_the_kind(
    client: httpx.AsyncClient, db: AsyncSession, kind: str, country: str, accepted: bool
) -> None:
    before = await snapshot(db)
    response = await client.post(FAIRS, json=fair_body(kind=kind, country=country))
    if accepted:
        assert response.status_code == 201, response.text
        assert (response.json()["kind"], response.json()["country"]) == (kind, country)
    else:
        problem = assert_invalid(response)
        assert "VN" in problem["errors"][0]["message"]
        assert await snapshot(db) == before


async def test_an_overseas_fair_needs_its_country(client: httpx.AsyncClient) -> None:
    # The default country is VN, so an overseas fair without one is refused.
    assert_invalid(await client.post(FAIRS, json=fair_body(kind="overseas")))


INVALID: list[tuple[JSON, str]] = [
    ({"name": ""}, "name"),
    ({"kind": "expo"}, "kind"),
    ({"country": "vn"}, "country"),
    ({"country": "VNM"}, "country"),
    ({"country": None}, "country"),
    ({"start_on": "2015-10-32"}, "start_on"),
    ({"start_on": "1899-12-31"}, "start_on"),
    ({"end_on": "2101-01-01"}, "end_on"),
    ({"start_on": 20151001}, "start_on"),
    ({"standard_booths": -1}, "standard_booths"),
    ({"standard_booths": 2**31}, "standard_booths"),
    ({"standard_booths": 320.0}, "standard_booths"),
    ({"exhibitors": "210"}, "exhibitors"),
    ({"visitors": True}, "visitors"),
    ({"contracts_signed": -1}, "contracts_signed"),
    ({"contract_value_vnd": BIGINT_MAX + 1}, "contract_value_vnd"),
    ({"contract_value_vnd": 10**30}, "contract_value_vnd"),
    ({"sales_vnd": 1.5}, "sales_vnd"),
    ({"sales_vnd": "100"}, "sales_vnd"),
    ({"cost_vnd": True}, "cost_vnd"),
    ({"cost_vnd": -1}, "cost_vnd"),
    ({"programme_id": 0}, "programme_id"),
    ({"organiser": "x" * 301}, "organiser"),
    ({"participants": [{}]}, "participants"),
    ({"participants": [{"village_id": 1, "cooperative_id": 1}]}, "participants"),
    ({"participants": [{"village_id": 1, "booths": -1}]}, "participants"),
    ({"participants": [{"village_id": 1, "booths": 1.5}]}, "participants"),
    ({"participants": [{"village_id": 1, "stand": "A1"}]}, "participants"),
]


async def test_invalid_field_is_422(
    client: httpx.AsyncClient, db: AsyncSession, subtests: pytest.Subtests
) -> None:
    show = await fair(client)
    for change, field in INVALID:
        with subtests.test(field=field, change=str(change)[:80]):
            before = await snapshot(db)
            assert_invalid(await client.post(FAIRS, json=fair_body(**change)), field)
            assert_invalid(await client.patch(f"{FAIRS}/{show['id']}", json=change), field)
            assert await snapshot(db) == before


async def test_end_before_start_is_422(client: httpx.AsyncClient, db: AsyncSession) -> None:
    before = await snapshot(db)
    problem = assert_invalid(
        await client.post(FAIRS, json=fair_body(start_on="2015-10-05", end_on="2015-10-04"))
    )
    assert "end_on must not be before start_on" in problem["errors"][0]["message"]
    assert await snapshot(db) == before
    one_day = await fair(client, start_on="2015-10-05", end_on="2015-10-05")
    assert one_day["start_on"] == one_day["end_on"] == "2015-10-05"


@pytest.mark.parametrize(
    "change",
    [
        {"end_on": "2015-09-30"},
        {"start_on": "2015-10-06"},
        {"kind": "overseas"},
        {"country": "TH"},
        {"participants": [{"cooperative_id": 4321}]},
    ],
)
async def test_patch_leaving_the_fair_invalid_changes_nothing(
    client: httpx.AsyncClient, db: AsyncSession, change: JSON
) -> None:
    show = await fair(client)
    before = await snapshot(db)
    assert_invalid(await client.patch(f"{FAIRS}/{show['id']}", json=change))
    assert await snapshot(db) == before
    assert (await client.get(f"{FAIRS}/{show['id']}")).json() == show


async def test_participant_listed_twice_or_missing_is_422(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    at = await places(client)
    before = await snapshot(db)
    twice = [{"village_id": at.village_id, "booths": 1}, {"village_id": at.village_id, "booths": 2}]
    problem = assert_invalid(await client.post(FAIRS, json=fair_body(participants=twice)))
    assert "twice" in problem["errors"][0]["message"]
    missing = [{"village_id": at.village_id}, {"cooperative_id": 4321}]
    assert_invalid(
        await client.post(FAIRS, json=fair_body(participants=missing)), "participants.1.cooperative_id"
    )
    assert_invalid(await client.post(FAIRS, json=fair_body(programme_id=4321)), "programme_id")
    assert await snapshot(db) == before


async def test_patch_replaces_participants_and_bumps_the_version(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    at = await places(client)
    htx = await cooperative(client, at.district_id)
    show = await fair(client, participants=[{"village_id": at.village_id, "booths": 3}])
    new = [
        {"village_id": at.village_id, "cooperative_id": None, "booths": 5},
        {"village_id": None, "cooperative_id": htx["id"], "booths": 2},
    ]
    response = await client.patch(f"{FAIRS}/{show['id']}", json={"participants": new})
    assert response.status_code == 200, response.text
    assert response.json()["participants"] == new
    assert response.json()["version"] == 2
    assert await count(db, "trade_fair_participant") == 2
    cleared = await client.patch(f"{FAIRS}/{show['id']}", json={"participants": []})
    assert (cleared.json()["participants"], cleared.json()["version"]) == ([], 3)
    assert await count(db, "trade_fair_participant") == 0


async def test_delete_takes_the_participants_with_it(client: httpx.AsyncClient, db: AsyncSession) -> None:
    at = await places(client)
    show = await fair(client, participants=[{"village_id": at.village_id}])
    assert (await client.delete(f"{FAIRS}/{show['id']}")).status_code == 204
    assert await count(db, "trade_fair_participant") == 0
    assert await count(db, "village") == 1


@pytest.fixture
async def fairs(client: httpx.AsyncClient) -> dict[str, int]:
    prog = await programme(client, kind="trade_promotion", activity="fair_participation")
    a = await fair(
        client,
        name="Hội chợ Công Thương Nam Định",
        city="Nam Định",
        province="Nam Định",
        start_on="2015-10-01",
        end_on="2015-10-05",
        standard_booths=320,
        exhibitors=210,
        visitors=50_000,
        contract_value_vnd=12_000_000_000,
        sales_vnd=5_000_000_000,
    )
    b = await fair(
        client,
        name="Hội chợ hàng thủ công Hà Nội",
        kind="attended",
        organiser="Vietrade",
        city="Hà Nội",
        province="Hà Nội",
        start_on="2015-12-30",
        end_on="2016-01-03",
        standard_booths=8,
        exhibitors=400,
        programme_id=prog["id"],
        sales_vnd=300_000_000,
    )
    c = await fair(
        client,
        name="Hội nghị kết nối giao thương",
        kind="trade_conference",
        venue="Khách sạn Lào Cai",
        city="Lào Cai",
        province="Lào Cai",
        start_on="2016-03-10",
        end_on="2016-03-10",
        visitors=150,
        programme_id=prog["id"],
    )
    d = await fair(
        client,
        name="Canton Fair",
        kind="overseas",
        country="CN",
        city="Quảng Châu",
        start_on="2014-04-15",
        end_on="2014-05-05",
        standard_booths=2,
        contract_value_vnd=0,
    )
    return {"A": a["id"], "B": b["id"], "C": c["id"], "D": d["id"], "programme": prog["id"]}


FILTERS = [
    ("kind=hosted", "A"),
    ("kind=attended,overseas", "BD"),
    ("kind=trade_conference&kind=hosted", "AC"),
    ("country=CN", "D"),
    ("country=VN", "ABC"),
    ("province=Hà Nội", "B"),
    ("province=Nam Định,Lào Cai", "AC"),
    ("province=Ha\u0300 Nô\u0323i", "B"),
    ("programme_id={programme}", "BC"),
    ("year=2015", "AB"),
    ("year=2014,2016", "CD"),
    ("year_from=2015", "ABC"),
    ("year_to=2015", "ABD"),
    ("year_from=2016&year_to=2016", "C"),
    ("start_on_from=2015-12-30", "BC"),
    ("start_on_to=2015-12-30", "ABD"),
    ("start_on_from=2015-10-02&start_on_to=2016-03-09", "B"),
    ("standard_booths_min=8", "AB"),
    ("standard_booths_max=8", "BD"),
    ("exhibitors_min=211", "B"),
    ("exhibitors_max=210", "A"),
    ("visitors_min=150", "AC"),
    ("visitors_max=149", ""),
    ("contract_value_vnd_min=1", "A"),
    ("contract_value_vnd_max=0", "D"),
    ("sales_vnd_min=300000000", "AB"),
    ("sales_vnd_max=300000000", "B"),
    ("q=vietrade", "B"),
    ("q=khach san", "C"),
    ("q=quang chau", "D"),
    ("q=nam dinh", "A"),
]


async def test_filters(client: httpx.AsyncClient, fairs: dict[str, int], subtests: pytest.Subtests) -> None:
    for query, expected in FILTERS:
        with subtests.test(query=query):
            response = await client.get(f"{FAIRS}?{query.format(**fairs)}&sort=id")
            assert response.status_code == 200, response.text
            page = response.json()
            assert ids(page) == [fairs[k] for k in expected]
            assert page["total"] == len(expected)


async def test_sort_by_start_and_money(client: httpx.AsyncClient, fairs: dict[str, int]) -> None:
    page = (await client.get(f"{FAIRS}?sort=start_on")).json()
    assert ids(page) == [fairs[k] for k in "DABC"]
    page = (await client.get(f"{FAIRS}?sort=-contract_value_vnd,-start_on")).json()
    assert ids(page) == [fairs[k] for k in "ADCB"]
    page = (await client.get(f"{FAIRS}?sort=kind,-end_on")).json()
    assert ids(page) == [fairs[k] for k in "BADC"]


@pytest.mark.parametrize(
    "query",
    [
        "kind=expo",
        "country=vn",
        "country=VNM",
        "programme_id=0",
        "year=1899",
        "year_from=2101",
        "start_on_from=2015-02-29",
        "standard_booths_min=-1",
        "exhibitors_max=2147483648",
        "visitors_min=1.5",
        "contract_value_vnd_min=9223372036854775808",
        "sales_vnd_max=-1",
        "province=" + "x" * 301,
    ],
)
async def test_invalid_filter_is_422(client: httpx.AsyncClient, query: str) -> None:
    assert_invalid(await client.get(f"{FAIRS}?{query}"), query.split("=", maxsplit=1)[0], location="query")
