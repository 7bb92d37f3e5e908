"""The database rules of village figures (app/models/village_figure.py):
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

TABLES = ("village_figure",)

CASES: dict[str, Case] = {
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
}

# Each RESTRICT foreign key of these tables: a record referred to only through it.
RESTRICT: dict[str, Restrict] = {
    "fk_village_figure_village_id_village": Restrict(
        (
            row("village", id=9104, name="Vị Khê", district_id=9002, craft_group="ornamental"),
            row("village_figure", id=9502, village_id=9104, year=2015),
        ),
        "DELETE FROM village WHERE id = 9104",
        "villages/9104",
        {"resource": "village-figures", "field": "village_id", "count": 1, "ids": [9502]},
    ),
}
