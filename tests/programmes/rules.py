"""The database rules of programmes (app/models/programme.py):
one case per CHECK, UNIQUE and FOREIGN KEY, refused by the database and through the API;
tests/models/test_constraints.py runs them."""

from __future__ import annotations

from tests.models.constraints import (
    NOWHERE,
    Api,
    Case,
    Restrict,
    insert,
    lines,
    post,
    row,
)

TABLES = ("programme", "programme_funding", "programme_beneficiary")

CASES: dict[str, Case] = {
    # programme
    "programme department province missing": Case(
        "fk_programme_department_province_id_admin_unit",
        insert("programme", department_province_id=NOWHERE),
        post("programmes", department_province_id=int(NOWHERE)),
    ),
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
}

# Each RESTRICT foreign key of these tables: a record referred to only through it.
RESTRICT: dict[str, Restrict] = {
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
}
