"""Administrative units: codes, levels, parents and validity periods."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import (
    API,
    assert_invalid,
    assert_problem,
    cooperative,
    create,
    district,
    ids,
    province,
    snapshot,
    village,
)

UNITS = f"{API}/admin-units"


async def test_create_and_read_a_district_with_its_parent(client: httpx.AsyncClient) -> None:
    nam_dinh = await province(client)
    response = await client.post(
        UNITS,
        json={
            "code": " 362 ",
            "name": "  Nam Trực ",
            "level": "district",
            "parent_id": nam_dinh["id"],
            "valid_to": "2025-06-30",
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["code"] == "362"
    assert body["name"] == "Nam Trực"
    assert body["level"] == "district"
    assert body["parent"] == {"id": nam_dinh["id"], "code": "36", "name": "Nam Định"}
    assert body["valid_from"] is None
    assert body["valid_to"] == "2025-06-30"
    assert (await client.get(f"{UNITS}/{body['id']}")).json() == body


async def test_a_code_may_be_reused_by_a_successor_from_another_day(client: httpx.AsyncClient) -> None:
    await province(client, code="37", name="Ninh Bình", valid_to="2025-06-30")
    successor = await province(client, code="37", name="Ninh Bình", valid_from="2025-07-01")
    assert successor["valid_from"] == "2025-07-01"


@pytest.mark.parametrize(
    ("valid_from", "valid_to"),
    [(None, None), ("2025-07-01", None), (None, "2025-06-30"), ("2025-07-01", "2030-01-01")],
)
async def test_duplicate_code_and_start_is_409(
    client: httpx.AsyncClient, db: AsyncSession, valid_from: str | None, valid_to: str | None
) -> None:
    await province(client, valid_from=valid_from, valid_to=valid_to)
    before = await snapshot(db)
    response = await client.post(
        UNITS, json={"code": "36", "name": "Tỉnh khác", "level": "province", "valid_from": valid_from}
    )
    problem = assert_problem(response, 409)
    assert problem["type"].endswith("conflict")
    assert "code" in problem["detail"] and "valid_from" in problem["detail"]
    assert await snapshot(db) == before


async def test_patch_onto_an_existing_code_is_409(client: httpx.AsyncClient, db: AsyncSession) -> None:
    nam_dinh = await province(client)
    nam_truc = await district(client, nam_dinh["id"])
    y_yen = await district(client, nam_dinh["id"], code="360", name="Ý Yên")
    before = await snapshot(db)
    assert_problem(await client.patch(f"{UNITS}/{y_yen['id']}", json={"code": nam_truc["code"]}), 409)
    assert await snapshot(db) == before
    assert (await client.get(f"{UNITS}/{y_yen['id']}")).json() == y_yen


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "", "name": "X", "level": "province"}, "code"),
        ({"code": "   ", "name": "X", "level": "province"}, "code"),
        ({"code": "1" * 33, "name": "X", "level": "province"}, "code"),
        ({"code": "36", "name": " ", "level": "province"}, "name"),
        ({"code": "36", "name": "X" * 301, "level": "province"}, "name"),
        ({"code": "36", "name": "X", "level": "region"}, "level"),
        ({"code": "36", "name": "X", "level": "Province"}, "level"),
        ({"code": 36, "name": "X", "level": "province"}, "code"),
        ({"code": "36", "name": "X", "level": "province", "parent_id": 0}, "parent_id"),
        ({"code": "36", "name": "X", "level": "province", "parent_id": "1"}, "parent_id"),
        ({"code": "36", "name": "X", "level": "province", "valid_from": "2025-13-01"}, "valid_from"),
        ({"code": "36", "name": "X", "level": "province", "valid_from": "01/07/2025"}, "valid_from"),
        ({"code": "36", "name": "X", "level": "province", "valid_to": "1899-12-31"}, "valid_to"),
    ],
)
async def test_invalid_fields_are_422(
    client: httpx.AsyncClient, db: AsyncSession, body: dict[str, object], field: str
) -> None:
    before = await snapshot(db)
    assert_invalid(await client.post(UNITS, json=body), field)
    assert await snapshot(db) == before


async def test_period_ending_before_it_starts_is_422(client: httpx.AsyncClient, db: AsyncSession) -> None:
    body = {"code": "36", "name": "Nam Định", "level": "province"}
    problem = assert_invalid(
        await client.post(UNITS, json={**body, "valid_from": "2025-07-01", "valid_to": "2025-06-30"})
    )
    assert "valid_to must not be before valid_from" in problem["errors"][0]["message"]
    unit = await province(client, valid_from="2020-01-01")
    before = await snapshot(db)
    assert_invalid(await client.patch(f"{UNITS}/{unit['id']}", json={"valid_to": "2019-12-31"}))
    assert await snapshot(db) == before
    assert (await client.get(f"{UNITS}/{unit['id']}")).json()["version"] == 1


async def test_parent_that_does_not_exist_is_422(client: httpx.AsyncClient, db: AsyncSession) -> None:
    before = await snapshot(db)
    problem = assert_invalid(
        await client.post(
            UNITS, json={"code": "362", "name": "Nam Trực", "level": "district", "parent_id": 4040}
        ),
        "parent_id",
    )
    assert problem["errors"][0]["message"] == "administrative unit 4040 does not exist"
    assert await snapshot(db) == before


@pytest.mark.parametrize(
    ("level", "code"),
    [
        ("commune", "ABC"),
        ("commune", "7"),
        ("commune", "362"),
        ("commune", "1377a"),
        ("district", "36"),
        ("district", "0362"),
        ("district", "13777"),
        ("province", "362"),
        ("province", "x0"),
    ],
)
async def test_a_code_has_the_digits_of_its_level(
    client: httpx.AsyncClient, db: AsyncSession, level: str, code: str
) -> None:
    """resolve and every code filter read 2, 3 or 5 digits: a unit coded otherwise could be placed
    in but never looked up by its code."""
    nam_dinh = await province(client)
    parent = None if level == "province" else nam_dinh["id"]
    before = await snapshot(db)
    body = {"code": code, "name": "Thử", "level": level, "parent_id": parent}
    problem = assert_invalid(await client.post(UNITS, json=body), "code")
    if len(code) in (2, 3, 5) and code.isdigit():  # a code of another level: checked with the level
        digits = {"province": 2, "district": 3, "commune": 5}[level]
        assert f"the code of a {level} has {digits} digits" in problem["errors"][0]["message"]
    assert await snapshot(db) == before


async def test_a_district_or_commune_needs_a_parent(client: httpx.AsyncClient, db: AsyncSession) -> None:
    nam_dinh = await province(client)
    nam_truc = await district(client, nam_dinh["id"])
    before = await snapshot(db)
    for body in (
        {"code": "362", "name": "Thử", "level": "district"},
        {"code": "13966", "name": "Thử", "level": "commune", "parent_id": None},
    ):
        problem = assert_invalid(await client.post(UNITS, json=body), "parent_id")
        assert "needs parent_id" in problem["errors"][0]["message"], problem
    # Both at once, each named; in Vietnamese too.
    both = assert_invalid(
        await client.post(
            UNITS, json={"code": "362", "name": "Thử", "level": "commune"}, headers={"Accept-Language": "vi"}
        ),
        "code",
        "parent_id",
    )
    assert "đơn vị hành chính không hợp lệ" in both["detail"], both
    assert await snapshot(db) == before
    # A change is checked as the unit would be left: the code of another level, the parent taken away.
    path = f"{UNITS}/{nam_truc['id']}"
    for change, field in (
        ({"code": "36"}, "code"),
        ({"parent_id": None}, "parent_id"),
        ({"level": "commune"}, "code"),
    ):
        current = (await client.get(path)).headers["ETag"]
        assert_invalid(await client.patch(path, json=change, headers={"If-Match": current}), field)
    assert await snapshot(db) == before


async def test_a_unit_cannot_be_its_own_parent(client: httpx.AsyncClient, db: AsyncSession) -> None:
    unit = await province(client)
    before = await snapshot(db)
    problem = assert_problem(await client.patch(f"{UNITS}/{unit['id']}", json={"parent_id": unit["id"]}), 422)
    assert "own parent" in problem["detail"]
    assert await snapshot(db) == before


async def test_delete_refused_while_referred_to(client: httpx.AsyncClient, db: AsyncSession) -> None:
    nam_dinh = await province(client)
    nam_truc = await district(client, nam_dinh["id"])
    my_loc = await district(client, nam_dinh["id"], code="358", name="Mỹ Lộc")
    van_chang = await village(client, nam_truc["id"])
    htx = await cooperative(client, nam_truc["id"])
    before = await snapshot(db)

    problem = assert_problem(await client.delete(f"{UNITS}/{nam_dinh['id']}"), 409)
    assert problem["type"].endswith("conflict")
    # The districts name it as their parent; the village and the co-operative as their province.
    assert sorted(problem["referenced_by"], key=lambda r: (r["resource"], r["field"])) == [
        {
            "resource": "admin-units",
            "field": "parent_id",
            "count": 2,
            "ids": sorted([nam_truc["id"], my_loc["id"]]),
        },
        {"resource": "cooperatives", "field": "province_id", "count": 1, "ids": [htx["id"]]},
        {"resource": "villages", "field": "province_id", "count": 1, "ids": [van_chang["id"]]},
    ]
    problem = assert_problem(await client.delete(f"{UNITS}/{nam_truc['id']}"), 409)
    assert sorted(problem["referenced_by"], key=lambda r: r["resource"]) == [
        {"resource": "cooperatives", "field": "district_id", "count": 1, "ids": [htx["id"]]},
        {"resource": "villages", "field": "district_id", "count": 1, "ids": [van_chang["id"]]},
    ]
    assert "villages" in problem["detail"] and "cooperatives" in problem["detail"]
    assert await snapshot(db) == before

    assert (await client.delete(f"{UNITS}/{my_loc['id']}")).status_code == 204
    assert_problem(await client.get(f"{UNITS}/{my_loc['id']}"), 404)


async def test_filters(client: httpx.AsyncClient) -> None:
    nam_dinh = await province(client, valid_to="2025-06-30")
    ninh_binh = await province(client, code="37", name="Ninh Bình")
    nam_truc = await district(client, nam_dinh["id"], valid_from="2000-01-01", valid_to="2025-06-30")
    y_yen = await district(client, nam_dinh["id"], code="360", name="Ý Yên", valid_to="2025-06-30")
    commune = await create(
        client,
        "admin-units",
        {"code": "14365", "name": "Nam Giang", "level": "commune", "parent_id": nam_truc["id"]},
    )

    async def found(query: str) -> list[int]:
        response = await client.get(f"{UNITS}?{query}&sort=id")
        assert response.status_code == 200, response.text
        return ids(response.json())

    assert await found("level=province") == [nam_dinh["id"], ninh_binh["id"]]
    assert await found("level=district&level=commune") == [nam_truc["id"], y_yen["id"], commune["id"]]
    assert await found("level=district,commune") == [nam_truc["id"], y_yen["id"], commune["id"]]
    assert await found("code=360") == [y_yen["id"]]
    assert await found("code=36,37") == [nam_dinh["id"], ninh_binh["id"]]
    assert await found(f"parent_id={nam_dinh['id']}") == [nam_truc["id"], y_yen["id"]]
    assert await found(f"parent_id={nam_truc['id']}&level=district") == []
    # valid_on: units with no bounds always exist; bounds are inclusive.
    assert await found("valid_on=2025-06-30") == [
        nam_dinh["id"],
        ninh_binh["id"],
        nam_truc["id"],
        y_yen["id"],
        commune["id"],
    ]
    assert await found("valid_on=2025-07-01") == [ninh_binh["id"], commune["id"]]
    assert await found("valid_on=1999-12-31") == [nam_dinh["id"], ninh_binh["id"], y_yen["id"], commune["id"]]
    assert await found("q=362") == [nam_truc["id"]]


@pytest.mark.parametrize(
    "query",
    [
        "level=region",
        "parent_id=0",
        "parent_id=abc",
        "parent_id=9223372036854775808",
        "valid_on=2025-02-30",
        "code=" + "9" * 301,
    ],
)
async def test_invalid_filters_are_422(client: httpx.AsyncClient, query: str) -> None:
    assert_invalid(await client.get(f"{UNITS}?{query}"), query.split("=", maxsplit=1)[0], location="query")
