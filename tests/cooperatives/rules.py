"""The database rules of co-operatives (app/models/cooperative.py):
one case per CHECK, UNIQUE and FOREIGN KEY, refused by the database and through the API;
tests/models/test_constraints.py runs them."""

from __future__ import annotations

from tests.models.constraints import (
    NOWHERE,
    Case,
    Restrict,
    insert,
    post,
    row,
)

TABLES = ("cooperative",)

CASES: dict[str, Case] = {
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
    "cooperative commune missing": Case(
        "fk_cooperative_commune_id_admin_unit",
        insert("cooperative", commune_id=NOWHERE),
        post("cooperatives", commune_id=int(NOWHERE)),
    ),
    "cooperative province missing": Case(
        "fk_cooperative_province_id_admin_unit",
        insert("cooperative", district_id="NULL", province_id=NOWHERE),
        post("cooperatives", district_id=None, province_id=int(NOWHERE)),
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
}

# Each RESTRICT foreign key of these tables: a record referred to only through it.
RESTRICT: dict[str, Restrict] = {
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
}
