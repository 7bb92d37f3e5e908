"""The database rules of trade fairs (app/models/trade_fair.py):
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

TABLES = ("trade_fair", "trade_fair_participant")

CASES: dict[str, Case] = {
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
    "fair department province missing": Case(
        "fk_trade_fair_department_province_id_admin_unit",
        insert("trade_fair", department_province_id=NOWHERE),
        post("trade-fairs", department_province_id=int(NOWHERE)),
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

# Each RESTRICT foreign key of these tables: a record referred to only through it.
RESTRICT: dict[str, Restrict] = {
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
