"""The database rules of administrative units (app/models/admin_unit.py): each CHECK, UNIQUE and FOREIGN
KEY refuses in the database and through the API (tests/models/constraints.py has the method)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.models.constraints import (
    NOWHERE,
    Api,
    Case,
    Restrict,
    check_refused,
    check_restrict,
    check_valid_row,
    insert,
    post,
)

TABLES = ("admin_unit",)

CASES: dict[str, Case] = {
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
}

# Each RESTRICT foreign key of these tables: a record referred to only through it.
RESTRICT: dict[str, Restrict] = {
    "fk_admin_unit_parent_id_admin_unit": Restrict(
        (),
        "DELETE FROM admin_unit WHERE id = 9001",
        "admin-units/9001",
        {"resource": "admin-units", "field": "parent_id", "count": 1, "ids": [9002]},
    ),
}


@pytest.mark.parametrize("table", TABLES)
async def test_the_valid_row_of_each_table_is_accepted(base: AsyncSession, table: str) -> None:
    """The control: without the one change a case makes, its row goes in."""
    await check_valid_row(base, table)


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
async def test_database_and_api_refuse(client: httpx.AsyncClient, base: AsyncSession, case: Case) -> None:
    await check_refused(client, base, case)


@pytest.mark.parametrize("constraint", list(RESTRICT))
async def test_database_refuses_to_delete_what_is_referred_to(
    client: httpx.AsyncClient, base: AsyncSession, constraint: str
) -> None:
    await check_restrict(client, base, constraint, RESTRICT[constraint])
