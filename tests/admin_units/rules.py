"""The database rules of administrative units (app/models/admin_unit.py):
one case per CHECK, UNIQUE and FOREIGN KEY, refused by the database and through the API;
tests/models/test_constraints.py runs them."""

from __future__ import annotations

from tests.models.constraints import (
    NOWHERE,
    Api,
    Case,
    Restrict,
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
