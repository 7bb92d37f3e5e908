"""A village's place in the gazetteer and its writes checked against time: the district and the
province derived from the commune, units of the wrong level or parents that disagree refused
with a 422 naming the field, a figure for a year none of the village's communes existed refused
unless other_commune_ids says where it was then; the database refuses the same through SQL.

Runs on a copy of the national gazetteer (conftest `gazetteer_url`). The units: Xã Thành Lợi
(13777, Vụ Bản 359, until 2025-06-30), Phường Trường Thi (13777 again, Ninh Bình 37, from
2025-07-01), Xã Nam Giang (13966, Nam Trực 362).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import plain_url
from tests.factories import API, JSON, assert_problem
from tests.stats.helpers import app_client

VILLAGES = f"{API}/villages"


@pytest.fixture(scope="module")
async def api(gazetteer_copy: str) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(gazetteer_copy) as (_, client):
        yield client


async def unit(api: httpx.AsyncClient, code: str, on: str, level: str = "commune") -> JSON:
    response = await api.get(f"{API}/admin-units/resolve", params={"code": code, "on": on, "level": level})
    assert response.status_code == 200, response.text
    found: JSON = response.json()
    return found


async def post(api: httpx.AsyncClient, path: str, body: JSON) -> httpx.Response:
    return await api.post(f"{API}/{path}", json=body)


def village(name: str, **place: Any) -> JSON:
    return {"name": name, "craft_group": "manufacturing", **place}


def summary(u: JSON) -> JSON:
    return {"id": u["id"], "code": u["code"], "name": u["name"]}


def fields(problem: JSON) -> dict[str, str]:
    return {e["field"]: e["message"] for e in problem.get("errors", [])}


async def test_district_and_province_follow_from_a_2015_commune(api: httpx.AsyncClient) -> None:
    commune = await unit(api, "13966", "2015-06-01")
    district = await unit(api, "362", "2015-06-01", "district")
    province = await unit(api, "36", "2015-06-01", "province")
    response = await post(
        api, "villages", village("Làng rèn thử", commune="Nam Giang", commune_id=commune["id"])
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["commune_id"], body["district_id"], body["province_id"]) == (
        commune["id"],
        district["id"],
        province["id"],
    )
    assert body["commune_unit"] == summary(commune)
    assert body["district"] == summary(district)
    assert body["province"] == summary(province)
    assert body["other_commune_ids"] == []
    assert (await api.get(f"{VILLAGES}/{body['id']}")).json() == body


async def test_a_2025_commune_has_no_district(api: httpx.AsyncClient) -> None:
    ward = await unit(api, "13777", "2025-07-01")
    province = await unit(api, "37", "2025-07-01", "province")
    body = (await post(api, "villages", village("Làng mới thử", commune_id=ward["id"]))).json()
    assert (body["district_id"], body["district"], body["province"]) == (None, None, summary(province))


async def test_a_district_alone_or_a_province_alone(api: httpx.AsyncClient) -> None:
    district = await unit(api, "362", "2015-06-01", "district")
    province = await unit(api, "36", "2015-06-01", "province")
    body = (await post(api, "villages", village("Làng huyện thử", district_id=district["id"]))).json()
    assert (body["commune_id"], body["province_id"]) == (None, province["id"])
    body = (await post(api, "villages", village("Làng tỉnh thử", province_id=province["id"]))).json()
    assert (body["commune_id"], body["district_id"], body["province_id"]) == (None, None, province["id"])
    problem = assert_problem(await post(api, "villages", village("Làng không nơi")), 422)
    assert "commune_id" in fields(problem)


async def test_units_of_the_wrong_level_or_parents_that_disagree(api: httpx.AsyncClient) -> None:
    commune = await unit(api, "13966", "2015-06-01")
    district = await unit(api, "362", "2015-06-01", "district")
    other = await unit(api, "359", "2015-06-01", "district")
    cases = [
        ({"commune_id": district["id"]}, "commune_id", "must be a commune"),
        ({"district_id": commune["id"]}, "district_id", "must be a district"),
        ({"province_id": district["id"]}, "province_id", "must be a province"),
        ({"commune_id": commune["id"], "district_id": other["id"]}, "district_id", "is not the district of"),
        (
            {"commune_id": commune["id"], "other_commune_ids": [district["id"]]},
            "other_commune_ids.0",
            "commune",
        ),
        (
            {"commune_id": commune["id"], "other_commune_ids": [8999999]},
            "other_commune_ids.0",
            "does not exist",
        ),
        ({"commune_id": commune["id"], "other_commune_ids": [commune["id"]]}, "other_commune_ids.0", "twice"),
    ]
    for place, field, words in cases:
        problem = assert_problem(await post(api, "villages", village("Làng sai", **place)), 422)
        assert words in fields(problem).get(field, ""), (place, problem)


async def test_communes_valid_on_the_same_day_are_refused(api: httpx.AsyncClient) -> None:
    nam_giang = await unit(api, "13966", "2015-06-01")
    thanh_loi = await unit(api, "13777", "2015-06-01")
    problem = assert_problem(
        await post(
            api,
            "villages",
            village("Làng hai xã", commune_id=nam_giang["id"], other_commune_ids=[thanh_loi["id"]]),
        ),
        422,
    )
    assert "one commune at a time" in fields(problem)["other_commune_ids.0"]


async def test_a_figure_of_a_year_before_the_commune_existed(api: httpx.AsyncClient) -> None:
    ward = await unit(api, "13777", "2025-07-01")
    before = await unit(api, "13777", "2015-06-01")
    made = (await post(api, "villages", village("Làng Trường Thi thử", commune_id=ward["id"]))).json()
    problem = assert_problem(
        await post(api, "village-figures", {"village_id": made["id"], "year": 2015}), 422
    )
    message = fields(problem)["year"]
    assert "Trường Thi (13777) exists from 2025-07-01" in message and "2015" in message
    assert "other_commune_ids" in message
    # Where it was in 2015 recorded, the figure goes in.
    changed = await api.patch(
        f"{VILLAGES}/{made['id']}", json={"other_commune_ids": [before["id"]], "version": 1}
    )
    assert changed.status_code == 200, changed.text
    assert (await post(api, "village-figures", {"village_id": made["id"], "year": 2015})).status_code == 201
    # ... and cannot be taken away while the figure is there.
    problem = assert_problem(
        await api.patch(f"{VILLAGES}/{made['id']}", json={"other_commune_ids": [], "version": 2}), 422
    )
    assert "the village has figures for 2015" in fields(problem)["commune_id"]


async def test_moving_a_village_to_another_commune_derives_its_district_again(api: httpx.AsyncClient) -> None:
    nam_giang = await unit(api, "13966", "2015-06-01")
    thanh_loi = await unit(api, "13777", "2015-06-01")
    vu_ban = await unit(api, "359", "2015-06-01", "district")
    made = (await post(api, "villages", village("Làng chuyển xã", commune_id=nam_giang["id"]))).json()
    moved = await api.patch(f"{VILLAGES}/{made['id']}", json={"commune_id": thanh_loi["id"], "version": 1})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["district_id"], moved.json()["commune_id"]) == (vu_ban["id"], thanh_loi["id"])
    # The audit trail records the derived district with the commune.
    latest = (await api.get(f"{VILLAGES}/{made['id']}/history")).json()["items"][0]
    assert latest["changes"]["commune_id"] == [nam_giang["id"], thanh_loi["id"]]
    assert latest["changes"]["district_id"][1] == vu_ban["id"]


async def test_a_cooperative_founded_before_its_commune_existed(api: httpx.AsyncClient) -> None:
    ward = await unit(api, "13777", "2025-07-01")
    before = await unit(api, "13777", "2015-06-01")
    body = {
        "name": "HTX thử Trường Thi",
        "sector": "mechanical",
        "commune_id": ward["id"],
        "founded_on": "2010-05-01",
    }
    problem = assert_problem(await post(api, "cooperatives", body), 422)
    assert "founded on 2010-05-01" in fields(problem)["commune_id"]
    made = await post(api, "cooperatives", {**body, "other_commune_ids": [before["id"]]})
    assert made.status_code == 201, made.text
    assert made.json()["district_id"] is None


async def test_programmes_and_fairs_name_the_province_of_their_department(api: httpx.AsyncClient) -> None:
    province = await unit(api, "36", "2015-06-01", "province")
    district = await unit(api, "362", "2015-06-01", "district")
    programme = {"name": "Đề án thử", "kind": "industrial_extension", "activity": "consulting", "year": 2015}
    made = await post(api, "programmes", {**programme, "department_province_id": province["id"]})
    assert made.status_code == 201, made.text
    assert made.json()["department_province"] == summary(province)
    problem = assert_problem(
        await post(api, "programmes", {**programme, "department_province_id": district["id"]}), 422
    )
    assert "must be a province" in fields(problem)["department_province_id"]
    fair = {"name": "Hội chợ thử", "kind": "hosted", "start_on": "2015-10-01", "end_on": "2015-10-05"}
    problem = assert_problem(
        await post(api, "trade-fairs", {**fair, "department_province_id": district["id"]}), 422
    )
    assert "must be a province" in fields(problem)["department_province_id"]


async def _refused(url: str, *statements: str) -> asyncpg.PostgresError:
    conn = await asyncpg.connect(plain_url(url))
    try:
        async with conn.transaction():
            with pytest.raises(asyncpg.PostgresError) as caught:
                for statement in statements:
                    await conn.execute(statement)
        return caught.value
    finally:
        await conn.close()


UNIT = "(SELECT id FROM admin_unit WHERE level = '{level}' AND code = '{code}' AND {on})"
IN_2015 = (
    "(valid_to IS NULL OR valid_to >= '2015-06-01') AND (valid_from IS NULL OR valid_from <= '2015-06-01')"
)
IN_2025 = "valid_from = '2025-07-01'"


async def test_the_database_refuses_the_same(gazetteer_copy: str) -> None:
    district = UNIT.format(level="district", code="362", on=IN_2015)
    commune = UNIT.format(level="commune", code="13966", on=IN_2015)
    ward = UNIT.format(level="commune", code="13777", on=IN_2025)
    village = "INSERT INTO village (name, craft_group, {}) VALUES ('x', 'salt', {})"
    cooperative = "INSERT INTO cooperative (name, sector, {}) VALUES ('x', 'sedge', {})"
    cases = {
        village.format("commune_id", district): "ck_village_commune_level",
        village.format("district_id", commune): "ck_village_district_level",
        "INSERT INTO village (name, craft_group) VALUES ('x', 'salt')": "ck_village_placed",
        village.format("commune_id, district_id", f"{ward}, {district}"): "ck_village_parents_agree",
        cooperative.format(
            "commune_id, other_commune_ids", f"{commune}, ARRAY[{commune}]"
        ): "ck_cooperative_other_communes_valid",
        cooperative.format(
            "commune_id, founded_on", f"{ward}, '2010-01-01'"
        ): "ck_cooperative_founding_placed",
        village.format("district_id, other_commune_ids", f"{district}, ARRAY[{commune}]"): (
            "ck_village_others_need_commune"
        ),
        "INSERT INTO programme (name, kind, activity, year, department_province_id)"
        f" VALUES ('x', 'industrial_extension', 'consulting', 2015, {district})": (
            "ck_programme_department_province_level"
        ),
    }
    for statement, constraint in cases.items():
        error = await _refused(gazetteer_copy, statement)
        assert (error.sqlstate, error.constraint_name) == ("23514", constraint), statement
    figure = await _refused(
        gazetteer_copy,
        f"INSERT INTO village (id, name, craft_group, commune_id) VALUES (8888, 'x', 'salt', {ward})",
        "INSERT INTO village_figure (village_id, year) VALUES (8888, 2015)",
    )
    assert (figure.sqlstate, figure.constraint_name) == ("23514", "ck_village_figure_year_placed")
    moved = await _refused(
        gazetteer_copy,
        f"INSERT INTO village (id, name, craft_group, commune_id) VALUES (8889, 'x', 'salt', {commune})",
        "INSERT INTO village_figure (village_id, year) VALUES (8889, 2015)",
        f"UPDATE village SET commune_id = {ward} WHERE id = 8889",
    )
    assert (moved.sqlstate, moved.constraint_name) == ("23514", "ck_village_figures_placed")


async def test_a_unit_held_in_other_commune_ids_cannot_be_deleted(
    api: httpx.AsyncClient, gazetteer_copy: str
) -> None:
    conn = await asyncpg.connect(plain_url(gazetteer_copy))
    try:
        held = await conn.fetchval(
            "INSERT INTO admin_unit (code, name, level, parent_id, valid_from) VALUES"
            f" ('99998', 'Xã sau thử', 'commune', {UNIT.format(level='district', code='362', on=IN_2015)},"
            " '2030-01-01') RETURNING id"
        )
    finally:
        await conn.close()
    commune = await unit(api, "13966", "2015-06-01")
    made = await post(
        api, "villages", village("Làng xã sau", commune_id=commune["id"], other_commune_ids=[held])
    )
    assert made.status_code == 201, made.text
    current = (await api.get(f"{API}/admin-units/{held}")).headers["ETag"]
    problem = assert_problem(
        await api.delete(f"{API}/admin-units/{held}", headers={"If-Match": current}), 409
    )
    assert "fk_village_other_commune_ids_admin_unit" in problem["detail"]


async def test_other_communes_need_the_commune_as_recorded(api: httpx.AsyncClient) -> None:
    """The district and province come from commune_id: other communes alone could place a record
    in one province as recorded and in another on their dates."""
    nam_giang = await unit(api, "13966", "2015-06-01")
    problem = assert_problem(
        await api.post(
            VILLAGES, json=village("Làng lệch", province_id=1, other_commune_ids=[nam_giang["id"]])
        ),
        422,
    )
    assert "commune_id" in fields(problem)["other_commune_ids"]


async def test_a_figure_and_a_concurrent_move_cannot_both_win(gazetteer_copy: str) -> None:
    """The figure's check locks the village: a change of its places that is still running makes the
    figure wait, and then see the change (no 2015 figure for a village placed only in 2025)."""
    ward = UNIT.format(level="commune", code="13777", on=IN_2025)
    commune = UNIT.format(level="commune", code="13966", on=IN_2015)
    mover = await asyncpg.connect(plain_url(gazetteer_copy))
    writer = await asyncpg.connect(plain_url(gazetteer_copy))
    try:
        village_id = await mover.fetchval(
            "INSERT INTO village (name, craft_group, commune_id, other_commune_ids)"
            f" VALUES ('Làng chuyển', 'salt', {ward}, ARRAY[{commune}]) RETURNING id"
        )
        move = mover.transaction()
        await move.start()
        await mover.execute("UPDATE village SET other_commune_ids = '{}' WHERE id = $1", village_id)

        async def add_figure() -> None:
            async with writer.transaction():
                await writer.execute(
                    "INSERT INTO village_figure (village_id, year) VALUES ($1, 2015)", village_id
                )

        adding = asyncio.create_task(add_figure())
        await asyncio.sleep(0.5)
        assert not adding.done(), "the figure did not wait for the change of places"
        await move.commit()
        with pytest.raises(asyncpg.CheckViolationError) as caught:
            await adding
        assert caught.value.constraint_name == "ck_village_figure_year_placed"
        assert (
            await mover.fetchval("SELECT count(*) FROM village_figure WHERE village_id = $1", village_id) == 0
        )
    finally:
        await mover.close()
        await writer.close()


async def test_a_unit_records_are_placed_in_keeps_its_level_parent_and_period(api: httpx.AsyncClient) -> None:
    """Over the API an administrator may rename a unit, but not move it or change its period while
    records are placed in it (their district, province and years rest on them); and a unit's
    parent is always one level up."""
    nam_giang = await unit(api, "13966", "2015-06-01")
    other = await unit(api, "13777", "2015-06-01")
    made = await post(api, "villages", village("Làng giữ chỗ", commune_id=nam_giang["id"]))
    assert made.status_code == 201, made.text

    async def patch(target: JSON, body: JSON) -> httpx.Response:
        version = (await api.get(f"{API}/admin-units/{target['id']}")).json()["version"]
        return await api.patch(f"{API}/admin-units/{target['id']}", json={**body, "version": version})

    for body in ({"parent_id": other["parent_id"]}, {"valid_from": "2024-01-01"}, {"valid_to": "2014-12-31"}):
        problem = assert_problem(await patch(nam_giang, body), 409)
        assert "places load" in problem["detail"], body
    assert (await patch(nam_giang, {"parent_id": nam_giang["parent_id"]})).status_code == 200  # unchanged
    assert (await patch(nam_giang, {"name_with_type": "Thị trấn Nam Giang"})).status_code == 200
    # A commune's parent is a district (or, from 2025, a province), never another commune.
    problem = assert_problem(await patch(other, {"parent_id": nam_giang["id"]}), 422)
    assert "parent_id" in fields(problem)
    after = await api.get(f"{VILLAGES}/{made.json()['id']}")
    assert after.json()["district_id"] == nam_giang["parent_id"]
