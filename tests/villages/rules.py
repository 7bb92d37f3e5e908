"""The database rules of craft villages (app/models/village.py):
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
    row,
)

TABLES = ("village",)

CASES: dict[str, Case] = {
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
        Api(
            "POST", "villages", None, 422
        ),  # the API side: tests/core/test_errors.py, test_latitude_must_be_finite
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
    "village commune missing": Case(
        "fk_village_commune_id_admin_unit",
        insert("village", commune_id=NOWHERE),
        post("villages", commune_id=int(NOWHERE)),
    ),
    "village province missing": Case(
        "fk_village_province_id_admin_unit",
        insert("village", district_id="NULL", province_id=NOWHERE),
        post("villages", district_id=None, province_id=int(NOWHERE)),
    ),
    "village district missing": Case(
        "fk_village_district_id_admin_unit",
        insert("village", district_id=NOWHERE),
        post("villages", district_id=int(NOWHERE)),
    ),
}

# Each RESTRICT foreign key of these tables: a record referred to only through it.
RESTRICT: dict[str, Restrict] = {
    "fk_village_district_id_admin_unit": Restrict(
        (
            row("admin_unit", id=9003, code="363", name="Trực Ninh", level="district", parent_id=9001),
            row("village", id=9102, name="Cổ Chất", district_id=9003, craft_group="manufacturing"),
        ),
        "DELETE FROM admin_unit WHERE id = 9003",
        "admin-units/9003",
        {"resource": "villages", "field": "district_id", "count": 1, "ids": [9102]},
    ),
}
