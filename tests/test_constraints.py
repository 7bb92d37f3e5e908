"""The database itself refuses what the API refuses: one raw-SQL test per CHECK, UNIQUE and FOREIGN KEY.

Each case inserts (or updates, or deletes) a row that breaks exactly one rule, through the test's
own session and without the API, and expects PostgreSQL to name that rule. The same mistake sent
through the API comes back as a 4xx problem, and leaves the database as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import classify_db_error
from tests.factories import API, JSON, assert_problem, count, snapshot

# The registry's tables (statistics and bookkeeping tables are not part of this contract).
TABLES = (
    "admin_unit",
    "village",
    "village_figure",
    "cooperative",
    "programme",
    "programme_funding",
    "programme_beneficiary",
    "trade_fair",
    "trade_fair_participant",
)


def row(table: str, **values: object) -> str:
    """INSERT of one row given as Python values (text quoted, None as NULL)."""

    def literal(value: object) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, str):
            return "'" + value.replace("'", "''") + "'"
        return str(value)

    return f"INSERT INTO {table} ({', '.join(values)}) VALUES ({', '.join(map(literal, values.values()))})"


# Rows every case starts from, with fixed ids far above what the identity columns hand out.
BASE = [
    row("admin_unit", id=9001, code="36", name="Nam Định", level="province"),
    row("admin_unit", id=9002, code="362", name="Nam Trực", level="district", parent_id=9001),
    row("village", id=9101, name="Vân Chàng", district_id=9002, craft_group="manufacturing"),
    "INSERT INTO cooperative (id, name, sector, district_id, registration_code)"
    " VALUES (9201, 'HTX Vân Chàng', 'mechanical', 9002, 'HTX-9201')",
    "INSERT INTO programme (id, name, kind, activity, year)"
    " VALUES (9301, 'Đào tạo nghề', 'industrial_extension', 'vocational_training', 2015)",
    "INSERT INTO programme (id, name, kind, activity, year)"
    " VALUES (9302, 'Hội chợ ngoài tỉnh', 'trade_promotion', 'fair_participation', 2016)",
    row("programme_funding", id=9311, programme_id=9301, source="central", amount_vnd=1000),
    row("programme_beneficiary", id=9321, programme_id=9301, village_id=9101),
    row("programme_beneficiary", id=9322, programme_id=9301, cooperative_id=9201),
    "INSERT INTO trade_fair (id, name, kind, start_on, end_on, programme_id)"
    " VALUES (9401, 'Hội chợ Nam Định', 'hosted', '2015-10-01', '2015-10-05', 9301)",
    "INSERT INTO trade_fair (id, name, kind, start_on, end_on)"
    " VALUES (9402, 'Hội chợ Hà Nội', 'attended', '2016-01-01', '2016-01-03')",
    row("trade_fair_participant", id=9411, trade_fair_id=9401, village_id=9101),
    row("trade_fair_participant", id=9412, trade_fair_id=9401, cooperative_id=9201),
    row("village_figure", id=9501, village_id=9101, year=2015),
]

# A row each table accepts on top of BASE; a case changes one or two of its columns.
VALID: dict[str, dict[str, str]] = {
    "admin_unit": {"code": "'999'", "name": "'Xã thử'", "level": "'commune'", "parent_id": "9002"},
    "village": {"name": "'Làng thử'", "district_id": "9002", "craft_group": "'salt'"},
    "village_figure": {"village_id": "9101", "year": "2016"},
    "cooperative": {"name": "'HTX thử'", "sector": "'sedge'", "district_id": "9002"},
    "programme": {
        "name": "'Đề án thử'",
        "kind": "'industrial_extension'",
        "activity": "'consulting'",
        "year": "2016",
    },
    "programme_funding": {"programme_id": "9301", "source": "'provincial'", "amount_vnd": "1"},
    "programme_beneficiary": {"programme_id": "9302", "village_id": "9101"},
    "trade_fair": {
        "name": "'Hội chợ thử'",
        "kind": "'attended'",
        "start_on": "'2016-01-01'",
        "end_on": "'2016-01-02'",
    },
    "trade_fair_participant": {"trade_fair_id": "9402", "village_id": "9101"},
}


def insert(table: str, **changes: str) -> str:
    """INSERT of VALID[table] with some columns replaced by these SQL literals."""
    row = {**VALID[table], **changes}
    return f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join(row.values())})"


# Bodies the API accepts, for the same tables, referring to BASE.
BODY: dict[str, JSON] = {
    "admin-units": {"code": "999", "name": "Xã thử", "level": "commune", "parent_id": 9002},
    "villages": {"name": "Làng thử", "district_id": 9002, "craft_group": "salt"},
    "village-figures": {"village_id": 9101, "year": 2016},
    "cooperatives": {"name": "HTX thử", "sector": "sedge", "district_id": 9002},
    "programmes": {
        "name": "Đề án thử",
        "kind": "industrial_extension",
        "activity": "consulting",
        "year": 2016,
    },
    "trade-fairs": {
        "name": "Hội chợ thử",
        "kind": "attended",
        "start_on": "2016-01-01",
        "end_on": "2016-01-02",
    },
}


@dataclass(frozen=True)
class Api:
    """The same mistake through the API, and the status it must get."""

    method: str
    path: str
    body: JSON | None
    status: int


def post(path: str, expect: int = 422, **changes: Any) -> Api:
    return Api("POST", path, {**BODY[path], **changes}, expect)


def lines(path: str, name: str, *items: JSON) -> Api:
    """A new programme or fair whose embedded list is these lines."""
    return Api("POST", path, {**BODY[path], name: list(items)}, 422)


@dataclass(frozen=True)
class Case:
    constraint: str
    sql: str
    api: Api
    setup: tuple[str, ...] = field(default=())


NOWHERE = "8999999"  # an id no table holds

CASES: dict[str, Case] = {
    # admin_unit
    "admin_unit code blank": Case(
        "ck_admin_unit_code_not_blank", insert("admin_unit", code="'  '"), post("admin-units", code="  ")
    ),
    "admin_unit level": Case(
        "ck_admin_unit_level_valid",
        insert("admin_unit", level="'region'"),
        post("admin-units", level="region"),
    ),
    "admin_unit name blank": Case(
        "ck_admin_unit_name_not_blank", insert("admin_unit", name="' '"), post("admin-units", name=" ")
    ),
    "admin_unit own parent": Case(
        "ck_admin_unit_not_own_parent",
        "UPDATE admin_unit SET parent_id = id WHERE id = 9002",
        Api("PATCH", "admin-units/9002", {"parent_id": 9002}, 422),
    ),
    "admin_unit period": Case(
        "ck_admin_unit_valid_period",
        insert("admin_unit", valid_from="'2025-07-01'", valid_to="'2025-06-30'"),
        post("admin-units", valid_from="2025-07-01", valid_to="2025-06-30"),
    ),
    "admin_unit parent missing": Case(
        "fk_admin_unit_parent_id_admin_unit",
        insert("admin_unit", parent_id=NOWHERE),
        post("admin-units", parent_id=int(NOWHERE)),
    ),
    "admin_unit code and start twice (both without start)": Case(
        "uq_admin_unit_code_valid_from",
        insert("admin_unit", code="'362'", level="'district'", parent_id="9001"),
        post("admin-units", 409, code="362", level="district", parent_id=9001),
    ),
    # village
    "village coordinates unpaired": Case(
        "ck_village_coordinates_paired", insert("village", latitude="20.3"), post("villages", latitude=20.3)
    ),
    "village craft group": Case(
        "ck_village_craft_group_valid",
        insert("village", craft_group="'pottery'"),
        post("villages", craft_group="pottery"),
    ),
    "village established year": Case(
        "ck_village_established_year_range",
        insert("village", established_year="999"),
        post("villages", established_year=999),
    ),
    "village participating negative": Case(
        "ck_village_households_participating_not_negative",
        insert("village", households_participating="-1"),
        post("villages", households_participating=-1),
    ),
    "village total negative": Case(
        "ck_village_households_total_not_negative",
        insert("village", households_total="-1"),
        post("villages", households_total=-1),
    ),
    "village latitude": Case(
        "ck_village_latitude_range",
        insert("village", latitude="90.5", longitude="106"),
        post("villages", latitude=90.5, longitude=106),
    ),
    "village latitude NaN": Case(
        "ck_village_latitude_range",
        insert("village", latitude="'NaN'", longitude="106"),
        Api("POST", "villages", None, 422),  # the API side: test_errors.test_latitude_must_be_finite
    ),
    "village longitude": Case(
        "ck_village_longitude_range",
        insert("village", latitude="20", longitude="-180.5"),
        post("villages", latitude=20, longitude=-180.5),
    ),
    "village name blank": Case(
        "ck_village_name_not_blank", insert("village", name="'   '"), post("villages", name="   ")
    ),
    "village participating over total": Case(
        "ck_village_participating_le_total",
        insert("village", households_total="10", households_participating="11"),
        post("villages", households_total=10, households_participating=11),
    ),
    "village recognised without date": Case(
        "ck_village_recognised_has_date",
        insert("village", status="'craft_village'"),
        post("villages", status="craft_village"),
    ),
    "village revoked before recognised": Case(
        "ck_village_revoked_after_recognised",
        insert("village", recognised_on="'2010-01-02'", revoked_on="'2010-01-01'"),
        post("villages", recognised_on="2010-01-02", revoked_on="2010-01-01"),
    ),
    "village status": Case(
        "ck_village_status_valid",
        insert("village", status="'famous'", recognised_on="'2010-01-01'"),
        post("villages", status="famous", recognised_on="2010-01-01"),
    ),
    "village district missing": Case(
        "fk_village_district_id_admin_unit",
        insert("village", district_id=NOWHERE),
        post("villages", district_id=int(NOWHERE)),
    ),
    # village_figure
    **{
        f"figure {column} negative": Case(
            f"ck_village_figure_{column}_not_negative",
            insert("village_figure", **{column: "-1"}),
            post("village-figures", **{column: -1}),
        )
        for column in ("average_income_vnd", "households", "production_value_vnd", "workers")
    },
    "figure qualifier": Case(
        "ck_village_figure_qualifier_valid",
        insert("village_figure", qualifier="'roughly'"),
        post("village-figures", qualifier="roughly"),
    ),
    "figure year": Case(
        "ck_village_figure_year_range",
        insert("village_figure", year="1899"),
        post("village-figures", year=1899),
    ),
    "figure village missing": Case(
        "fk_village_figure_village_id_village",
        insert("village_figure", village_id=NOWHERE),
        post("village-figures", village_id=int(NOWHERE)),
    ),
    "figure village and year twice": Case(
        "uq_village_figure_village_id_year",
        insert("village_figure", year="2015"),
        post("village-figures", 409, year=2015),
    ),
    # cooperative
    "cooperative capital negative": Case(
        "ck_cooperative_charter_capital_vnd_not_negative",
        insert("cooperative", charter_capital_vnd="-1"),
        post("cooperatives", charter_capital_vnd=-1),
    ),
    "cooperative dissolved before founded": Case(
        "ck_cooperative_dissolved_after_founded",
        insert("cooperative", founded_on="'2013-07-01'", dissolved_on="'2013-06-30'"),
        post("cooperatives", founded_on="2013-07-01", dissolved_on="2013-06-30"),
    ),
    "cooperative legal form": Case(
        "ck_cooperative_legal_form_valid",
        insert("cooperative", legal_form="'company'"),
        post("cooperatives", legal_form="company"),
    ),
    "cooperative members negative": Case(
        "ck_cooperative_members_not_negative",
        insert("cooperative", members="-1"),
        post("cooperatives", members=-1),
    ),
    "cooperative name blank": Case(
        "ck_cooperative_name_not_blank", insert("cooperative", name="''"), post("cooperatives", name="")
    ),
    "cooperative registration code blank": Case(
        "ck_cooperative_registration_code_not_blank",
        insert("cooperative", registration_code="'  '"),
        post("cooperatives", registration_code="  "),
    ),
    "cooperative sector": Case(
        "ck_cooperative_sector_valid",
        insert("cooperative", sector="'steel'"),
        post("cooperatives", sector="steel"),
    ),
    "cooperative status": Case(
        "ck_cooperative_status_valid",
        insert("cooperative", status="'closed'"),
        post("cooperatives", status="closed"),
    ),
    "cooperative district missing": Case(
        "fk_cooperative_district_id_admin_unit",
        insert("cooperative", district_id=NOWHERE),
        post("cooperatives", district_id=int(NOWHERE)),
    ),
    "cooperative village missing": Case(
        "fk_cooperative_village_id_village",
        insert("cooperative", village_id=NOWHERE),
        post("cooperatives", village_id=int(NOWHERE)),
    ),
    "cooperative registration code twice": Case(
        "uq_cooperative_registration_code",
        insert("cooperative", registration_code="'HTX-9201'"),
        post("cooperatives", 409, registration_code="HTX-9201"),
    ),
    # programme
    "programme activity of the other kind": Case(
        "ck_programme_activity_matches_kind",
        insert("programme", kind="'trade_promotion'", activity="'vocational_training'"),
        post("programmes", kind="trade_promotion", activity="vocational_training"),
    ),
    "programme kind": Case(
        "ck_programme_kind_valid",
        insert("programme", kind="'subsidy'"),
        post("programmes", kind="subsidy"),
        # activity_matches_kind also refuses an unknown kind, and is checked first (by name): set
        # it aside within this test's transaction so that kind_valid is seen to stand on its own.
        setup=("ALTER TABLE programme DROP CONSTRAINT ck_programme_activity_matches_kind",),
    ),
    "programme name blank": Case(
        "ck_programme_name_not_blank", insert("programme", name="' '"), post("programmes", name=" ")
    ),
    "programme status": Case(
        "ck_programme_status_valid", insert("programme", status="'done'"), post("programmes", status="done")
    ),
    "programme year": Case(
        "ck_programme_year_range", insert("programme", year="2101"), post("programmes", year=2101)
    ),
    # programme_funding
    "funding negative": Case(
        "ck_programme_funding_amount_vnd_not_negative",
        insert("programme_funding", amount_vnd="-1"),
        lines("programmes", "funding", {"source": "central", "amount_vnd": -1}),
    ),
    "funding source": Case(
        "ck_programme_funding_source_valid",
        insert("programme_funding", source="'lottery'"),
        lines("programmes", "funding", {"source": "lottery", "amount_vnd": 1}),
    ),
    "funding programme missing": Case(
        "fk_programme_funding_programme_id_programme",
        insert("programme_funding", programme_id=NOWHERE),
        Api("PATCH", f"programmes/{NOWHERE}", {"funding": [{"source": "central", "amount_vnd": 1}]}, 404),
    ),
    # programme_beneficiary
    "beneficiary neither": Case(
        "ck_programme_beneficiary_one_beneficiary",
        insert("programme_beneficiary", village_id="NULL"),
        lines("programmes", "beneficiaries", {}),
    ),
    "beneficiary both": Case(
        "ck_programme_beneficiary_one_beneficiary",
        insert("programme_beneficiary", cooperative_id="9201"),
        lines("programmes", "beneficiaries", {"village_id": 9101, "cooperative_id": 9201}),
    ),
    "beneficiary cooperative missing": Case(
        "fk_programme_beneficiary_cooperative_id_cooperative",
        insert("programme_beneficiary", village_id="NULL", cooperative_id=NOWHERE),
        lines("programmes", "beneficiaries", {"cooperative_id": int(NOWHERE)}),
    ),
    "beneficiary programme missing": Case(
        "fk_programme_beneficiary_programme_id_programme",
        insert("programme_beneficiary", programme_id=NOWHERE),
        Api("PATCH", f"programmes/{NOWHERE}", {"beneficiaries": [{"village_id": 9101}]}, 404),
    ),
    "beneficiary village missing": Case(
        "fk_programme_beneficiary_village_id_village",
        insert("programme_beneficiary", village_id=NOWHERE),
        lines("programmes", "beneficiaries", {"village_id": int(NOWHERE)}),
    ),
    "beneficiary cooperative twice": Case(
        "uq_programme_beneficiary_programme_id_cooperative_id",
        insert("programme_beneficiary", programme_id="9301", village_id="NULL", cooperative_id="9201"),
        lines("programmes", "beneficiaries", {"cooperative_id": 9201}, {"cooperative_id": 9201}),
    ),
    "beneficiary village twice": Case(
        "uq_programme_beneficiary_programme_id_village_id",
        insert("programme_beneficiary", programme_id="9301"),
        lines("programmes", "beneficiaries", {"village_id": 9101}, {"village_id": 9101}),
    ),
    # trade_fair
    **{
        f"fair {column} negative": Case(
            f"ck_trade_fair_{column}_not_negative",
            insert("trade_fair", **{column: "-1"}),
            post("trade-fairs", **{column: -1}),
        )
        for column in (
            "contract_value_vnd",
            "contracts_signed",
            "cost_vnd",
            "exhibitors",
            "sales_vnd",
            "standard_booths",
            "visitors",
        )
    },
    "fair country code": Case(
        "ck_trade_fair_country_iso_alpha2",
        insert("trade_fair", kind="'trade_conference'", country="'vn'"),
        post("trade-fairs", kind="trade_conference", country="vn"),
    ),
    "fair hosted abroad": Case(
        "ck_trade_fair_country_matches_kind",
        insert("trade_fair", kind="'hosted'", country="'JP'"),
        post("trade-fairs", kind="hosted", country="JP"),
    ),
    "fair overseas at home": Case(
        "ck_trade_fair_country_matches_kind",
        insert("trade_fair", kind="'overseas'"),
        post("trade-fairs", kind="overseas", country="VN"),
    ),
    "fair ends before it starts": Case(
        "ck_trade_fair_end_after_start",
        insert("trade_fair", start_on="'2016-01-02'", end_on="'2016-01-01'"),
        post("trade-fairs", start_on="2016-01-02", end_on="2016-01-01"),
    ),
    "fair kind": Case(
        "ck_trade_fair_kind_valid", insert("trade_fair", kind="'expo'"), post("trade-fairs", kind="expo")
    ),
    "fair name blank": Case(
        "ck_trade_fair_name_not_blank", insert("trade_fair", name="' '"), post("trade-fairs", name=" ")
    ),
    "fair start before 1900": Case(
        "ck_trade_fair_start_on_range",
        insert("trade_fair", start_on="'1899-12-31'", end_on="'1900-01-01'"),
        post("trade-fairs", start_on="1899-12-31", end_on="1900-01-01"),
    ),
    "fair programme missing": Case(
        "fk_trade_fair_programme_id_programme",
        insert("trade_fair", programme_id=NOWHERE),
        post("trade-fairs", programme_id=int(NOWHERE)),
    ),
    # trade_fair_participant
    "participant booths negative": Case(
        "ck_trade_fair_participant_booths_not_negative",
        insert("trade_fair_participant", booths="-1"),
        lines("trade-fairs", "participants", {"village_id": 9101, "booths": -1}),
    ),
    "participant neither": Case(
        "ck_trade_fair_participant_one_participant",
        insert("trade_fair_participant", village_id="NULL"),
        lines("trade-fairs", "participants", {"booths": 2}),
    ),
    "participant both": Case(
        "ck_trade_fair_participant_one_participant",
        insert("trade_fair_participant", cooperative_id="9201"),
        lines("trade-fairs", "participants", {"village_id": 9101, "cooperative_id": 9201}),
    ),
    "participant cooperative missing": Case(
        "fk_trade_fair_participant_cooperative_id_cooperative",
        insert("trade_fair_participant", village_id="NULL", cooperative_id=NOWHERE),
        lines("trade-fairs", "participants", {"cooperative_id": int(NOWHERE)}),
    ),
    "participant fair missing": Case(
        "fk_trade_fair_participant_trade_fair_id_trade_fair",
        insert("trade_fair_participant", trade_fair_id=NOWHERE),
        Api("PATCH", f"trade-fairs/{NOWHERE}", {"participants": [{"village_id": 9101}]}, 404),
    ),
    "participant village missing": Case(
        "fk_trade_fair_participant_village_id_village",
        insert("trade_fair_participant", village_id=NOWHERE),
        lines("trade-fairs", "participants", {"village_id": int(NOWHERE)}),
    ),
    "participant cooperative twice": Case(
        "uq_trade_fair_participant_trade_fair_id_cooperative_id",
        insert("trade_fair_participant", trade_fair_id="9401", village_id="NULL", cooperative_id="9201"),
        lines("trade-fairs", "participants", {"cooperative_id": 9201}, {"cooperative_id": 9201}),
    ),
    "participant village twice": Case(
        "uq_trade_fair_participant_trade_fair_id_village_id",
        insert("trade_fair_participant", trade_fair_id="9401"),
        lines("trade-fairs", "participants", {"village_id": 9101}, {"village_id": 9101}),
    ),
}

SQLSTATE = {"ck": "23514", "uq": "23505", "fk": "23503"}
# A broken rule is invalid input; a clash with another record is a conflict.
MAPPED = {"ck": 422, "uq": 409, "fk": 409}


@pytest.fixture
async def base(db: AsyncSession) -> AsyncSession:
    for statement in BASE:
        await db.execute(text(statement))
    # Commit (within the test's outer transaction), or the first refused request's rollback
    # would take these rows with it.
    await db.commit()
    return db


async def refusal(db: AsyncSession, statement: str) -> tuple[str, str, int]:
    """Run a statement that must fail: the SQLSTATE and the constraint PostgreSQL names, and the
    HTTP status the service's error mapping gives this very error."""
    with pytest.raises(IntegrityError) as caught:
        async with db.begin_nested():
            await db.execute(text(statement))
    driver = getattr(caught.value.orig, "__cause__", None) or caught.value.orig
    status = classify_db_error(caught.value).status
    return str(getattr(driver, "sqlstate", "")), str(getattr(driver, "constraint_name", "")), status


async def test_every_constraint_has_a_case(db: AsyncSession) -> None:
    rows = await db.execute(
        text(
            "SELECT conname FROM pg_constraint WHERE contype IN ('c', 'u', 'f')"
            " AND conrelid::regclass::text = ANY(:tables)"
        ),
        {"tables": list(TABLES)},
    )
    in_database = set(rows.scalars())
    tested = {case.constraint for case in CASES.values()} | set(RESTRICT)
    assert in_database == tested
    assert len(in_database) == 74


@pytest.mark.parametrize("table", TABLES)
async def test_the_valid_row_of_each_table_is_accepted(base: AsyncSession, table: str) -> None:
    """The control: without the one change a case makes, its row goes in."""
    before = await count(base, table)
    async with base.begin_nested():
        await base.execute(text(insert(table)))
    assert await count(base, table) == before + 1


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
async def test_database_and_api_refuse(client: httpx.AsyncClient, base: AsyncSession, case: Case) -> None:
    if case.api.body is not None:
        before = await snapshot(base)
        response = await client.request(case.api.method, f"{API}/{case.api.path}", json=case.api.body)
        assert_problem(response, case.api.status)
        assert await snapshot(base) == before
    for statement in case.setup:
        await base.execute(text(statement))
    sqlstate, constraint, status = await refusal(base, case.sql)
    assert constraint == case.constraint
    assert sqlstate == SQLSTATE[case.constraint[:2]]
    # Should a write ever reach the database with this mistake, the client still gets a 4xx.
    assert status == MAPPED[case.constraint[:2]]


# Each RESTRICT foreign key: a record referred to only through it, and what the API names.
@dataclass(frozen=True)
class Restrict:
    setup: tuple[str, ...]
    delete: str
    api_path: str
    referenced_by: JSON


RESTRICT: dict[str, Restrict] = {
    "fk_admin_unit_parent_id_admin_unit": Restrict(
        (),
        "DELETE FROM admin_unit WHERE id = 9001",
        "admin-units/9001",
        {"resource": "admin-units", "field": "parent_id", "count": 1, "ids": [9002]},
    ),
    "fk_village_district_id_admin_unit": Restrict(
        (
            row("admin_unit", id=9003, code="363", name="Trực Ninh", level="district", parent_id=9001),
            row("village", id=9102, name="Cổ Chất", district_id=9003, craft_group="manufacturing"),
        ),
        "DELETE FROM admin_unit WHERE id = 9003",
        "admin-units/9003",
        {"resource": "villages", "field": "district_id", "count": 1, "ids": [9102]},
    ),
    "fk_cooperative_district_id_admin_unit": Restrict(
        (
            row("admin_unit", id=9004, code="366", name="Hải Hậu", level="district", parent_id=9001),
            row("cooperative", id=9202, name="HTX Dệt may", sector="textile_garment", district_id=9004),
        ),
        "DELETE FROM admin_unit WHERE id = 9004",
        "admin-units/9004",
        {"resource": "cooperatives", "field": "district_id", "count": 1, "ids": [9202]},
    ),
    "fk_cooperative_village_id_village": Restrict(
        (
            row("village", id=9103, name="La Xuyên", district_id=9002, craft_group="handicraft"),
            row(
                "cooperative",
                id=9203,
                name="HTX gỗ",
                sector="wood_processing",
                district_id=9002,
                village_id=9103,
            ),
        ),
        "DELETE FROM village WHERE id = 9103",
        "villages/9103",
        {"resource": "cooperatives", "field": "village_id", "count": 1, "ids": [9203]},
    ),
    "fk_village_figure_village_id_village": Restrict(
        (
            row("village", id=9104, name="Vị Khê", district_id=9002, craft_group="ornamental"),
            row("village_figure", id=9502, village_id=9104, year=2015),
        ),
        "DELETE FROM village WHERE id = 9104",
        "villages/9104",
        {"resource": "village-figures", "field": "village_id", "count": 1, "ids": [9502]},
    ),
    "fk_programme_beneficiary_village_id_village": Restrict(
        (
            row("village", id=9105, name="Thạch Cầu", district_id=9002, craft_group="handicraft"),
            row("programme_beneficiary", id=9323, programme_id=9302, village_id=9105),
        ),
        "DELETE FROM village WHERE id = 9105",
        "villages/9105",
        {"resource": "programmes", "field": "village_id", "count": 1, "ids": [9302]},
    ),
    "fk_programme_beneficiary_cooperative_id_cooperative": Restrict(
        (
            row("cooperative", id=9204, name="HTX Cói", sector="sedge", district_id=9002),
            row("programme_beneficiary", id=9324, programme_id=9302, cooperative_id=9204),
        ),
        "DELETE FROM cooperative WHERE id = 9204",
        "cooperatives/9204",
        {"resource": "programmes", "field": "cooperative_id", "count": 1, "ids": [9302]},
    ),
    "fk_trade_fair_participant_village_id_village": Restrict(
        (
            row("village", id=9106, name="Kiên Lao", district_id=9002, craft_group="agro_processing"),
            row("trade_fair_participant", id=9413, trade_fair_id=9402, village_id=9106),
        ),
        "DELETE FROM village WHERE id = 9106",
        "villages/9106",
        {"resource": "trade-fairs", "field": "village_id", "count": 1, "ids": [9402]},
    ),
    "fk_trade_fair_participant_cooperative_id_cooperative": Restrict(
        (
            row("cooperative", id=9205, name="HTX Mây tre", sector="handicraft", district_id=9002),
            row("trade_fair_participant", id=9414, trade_fair_id=9402, cooperative_id=9205),
        ),
        "DELETE FROM cooperative WHERE id = 9205",
        "cooperatives/9205",
        {"resource": "trade-fairs", "field": "cooperative_id", "count": 1, "ids": [9402]},
    ),
    "fk_trade_fair_programme_id_programme": Restrict(
        (
            "INSERT INTO programme (id, name, kind, activity, year)"
            " VALUES (9303, 'Lào Cai', 'trade_promotion', 'trade_conference', 2015)",
            "INSERT INTO trade_fair (id, name, kind, start_on, end_on, programme_id)"
            " VALUES (9403, 'Kết nối giao thương', 'trade_conference', '2015-06-01', '2015-06-01', 9303)",
        ),
        "DELETE FROM programme WHERE id = 9303",
        "programmes/9303",
        {"resource": "trade-fairs", "field": "programme_id", "count": 1, "ids": [9403]},
    ),
}


@pytest.mark.parametrize("constraint", list(RESTRICT))
async def test_database_refuses_to_delete_what_is_referred_to(
    client: httpx.AsyncClient, base: AsyncSession, constraint: str
) -> None:
    case = RESTRICT[constraint]
    for statement in case.setup:
        await base.execute(text(statement))
    await base.commit()
    sqlstate, named, status = await refusal(base, case.delete)
    # PostgreSQL 18 reports ON DELETE RESTRICT as restrict_violation; before, as foreign_key_violation.
    version = int((await base.execute(text("SHOW server_version_num"))).scalar_one())
    assert (sqlstate, named) == ("23001" if version >= 180000 else "23503", constraint)
    # A delete that got past the service's own check (a referrer added concurrently) is a conflict.
    assert status == 409

    before = await snapshot(base)
    problem = assert_problem(await client.delete(f"{API}/{case.api_path}"), 409)
    assert problem["referenced_by"] == [case.referenced_by]
    assert await snapshot(base) == before


async def test_embedded_lines_go_with_their_parent(base: AsyncSession) -> None:
    """The three CASCADE keys: funding, beneficiaries and participants follow their parent."""
    await base.execute(
        text("INSERT INTO programme_funding (programme_id, source, amount_vnd) VALUES (9302, 'central', 5)")
    )
    await base.execute(
        text("INSERT INTO programme_beneficiary (programme_id, village_id) VALUES (9302, 9101)")
    )
    await base.execute(
        text("INSERT INTO trade_fair_participant (trade_fair_id, cooperative_id) VALUES (9402, 9201)")
    )
    assert (await count(base, "programme_funding"), await count(base, "programme_beneficiary")) == (2, 3)
    assert await count(base, "trade_fair_participant") == 3
    await base.execute(text("DELETE FROM programme WHERE id = 9302"))
    await base.execute(text("DELETE FROM trade_fair WHERE id = 9402"))
    assert (await count(base, "programme_funding"), await count(base, "programme_beneficiary")) == (1, 2)
    assert await count(base, "trade_fair_participant") == 2
