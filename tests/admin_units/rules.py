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

TABLES = ("admin_unit", "admin_unit_succession")

# A succession is written by the gazetteer's loader, not through the API: its cases are SQL only.
NO_API = Api("GET", "admin-units", None, 0)
UNIT = (
    "INSERT INTO admin_unit (id, code, name, level, parent_id)"
    " VALUES ({id}, '{code}', 'Xã {code}', 'commune', 9002)"
)
LINK = (
    "INSERT INTO admin_unit_succession (predecessor_id, successor_id, effective_on, kind)"
    " VALUES ({0}, {1}, '2025-07-01', 'whole')"
)

CASES: dict[str, Case] = {
    "admin_unit code blank": Case(
        "ck_admin_unit_code_not_blank",
        insert("admin_unit", code="'  '"),
        post("admin-units", code="  "),
        # code_fits_level also refuses a blank code, and is checked first (by name).
        setup=("ALTER TABLE admin_unit DROP CONSTRAINT ck_admin_unit_code_fits_level",),
    ),
    "admin_unit code of another level": Case(
        "ck_admin_unit_code_fits_level", insert("admin_unit", code="'7'"), post("admin-units", code="7")
    ),
    "admin_unit code not digits": Case(
        "ck_admin_unit_code_fits_level",
        insert("admin_unit", code="'ABCDE'"),
        post("admin-units", code="ABCDE"),
    ),
    "admin_unit commune without parent": Case(
        "ck_admin_unit_parent_given",
        insert("admin_unit", parent_id="NULL"),
        post("admin-units", parent_id=None),
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
    "admin_unit type of another level": Case(
        "ck_admin_unit_type_fits_level",
        insert("admin_unit", type="'urban_district'"),
        post("admin-units", type="urban_district"),
    ),
    "admin_unit former name null": Case(
        "ck_admin_unit_former_names_not_null",
        insert("admin_unit", former_names="ARRAY[NULL]::text[]"),
        post("admin-units", former_names=[None]),
    ),
    "admin_unit_succession kind": Case(
        "ck_admin_unit_succession_kind_valid", insert("admin_unit_succession", kind="'split'"), NO_API
    ),
    "admin_unit_succession own successor": Case(
        "ck_admin_unit_succession_not_own_successor",
        insert("admin_unit_succession", successor_id="9002"),
        NO_API,
    ),
    "admin_unit_succession blank note": Case(
        "ck_admin_unit_succession_note_not_blank", insert("admin_unit_succession", note="' '"), NO_API
    ),
    "admin_unit_succession twice": Case(
        "uq_admin_unit_succession_link",
        insert("admin_unit_succession"),
        NO_API,
        setup=(insert("admin_unit_succession"),),
    ),
    "admin_unit_succession predecessor missing": Case(
        "fk_admin_unit_succession_predecessor_id_admin_unit",
        insert("admin_unit_succession", predecessor_id=NOWHERE),
        NO_API,
    ),
    "admin_unit_succession successor missing": Case(
        "fk_admin_unit_succession_successor_id_admin_unit",
        insert("admin_unit_succession", successor_id=NOWHERE),
        NO_API,
    ),
    "admin_unit level, code and start twice (both without start)": Case(
        "uq_admin_unit_level_code_valid_from",
        insert("admin_unit", code="'362'", level="'district'", parent_id="9001"),
        post("admin-units", 409, code="362", level="district", parent_id=9001),
    ),
}

# Each RESTRICT foreign key of these tables: a record referred to only through it.
RESTRICT: dict[str, Restrict] = {
    # A district of its own with one commune (BASE's units are also its records' places).
    "fk_admin_unit_parent_id_admin_unit": Restrict(
        (
            "INSERT INTO admin_unit (id, code, name, level, parent_id)"
            " VALUES (9004, '997', 'Huyện 997', 'district', 9001)",
            "INSERT INTO admin_unit (id, code, name, level, parent_id)"
            " VALUES (9003, '99998', 'Xã 99998', 'commune', 9004)",
        ),
        "DELETE FROM admin_unit WHERE id = 9004",
        "admin-units/9004",
        {"resource": "admin-units", "field": "parent_id", "count": 1, "ids": [9003]},
    ),
    # A succession names the unit at its other end.
    "fk_admin_unit_succession_predecessor_id_admin_unit": Restrict(
        (UNIT.format(id=9003, code="99998"), LINK.format(9003, 9001)),
        "DELETE FROM admin_unit WHERE id = 9003",
        "admin-units/9003",
        {"resource": "admin-units", "field": "predecessor_id", "count": 1, "ids": [9001]},
    ),
    "fk_admin_unit_succession_successor_id_admin_unit": Restrict(
        (UNIT.format(id=9004, code="99997"), LINK.format(9002, 9004)),
        "DELETE FROM admin_unit WHERE id = 9004",
        "admin-units/9004",
        {"resource": "admin-units", "field": "successor_id", "count": 1, "ids": [9002]},
    ),
}
