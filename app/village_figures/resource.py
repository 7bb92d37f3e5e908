"""How the generic service lists, sorts and loads village figures (joined to their village)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import contains_eager

from app.core.i18n import tr
from app.kit.places import check_village_figure
from app.kit.resource import Resource, Summary
from app.kit.timeline import Places
from app.models import FigureQualifier, Village, VillageFigure
from app.village_figures.schemas import (
    VillageFigureCreate,
    VillageFigureQuery,
    VillageFigureRead,
    VillageFigureUpdate,
)


def _join_village(stmt: Select[Any]) -> Select[Any]:
    return stmt.join(Village, VillageFigure.village_id == Village.id)


VILLAGE_FIGURES: Resource[VillageFigure] = Resource(
    path="village-figures",
    singular=tr("village figure"),
    plural="village figures",
    model=VillageFigure,
    create=VillageFigureCreate,
    update=VillageFigureUpdate,
    read=VillageFigureRead,
    query=VillageFigureQuery,
    enums={"figure_qualifier": FigureQualifier},
    columns={
        "village_id": VillageFigure.village_id,
        "district_id": Village.district_id,
        "craft_group": Village.craft_group,
        "qualifier": VillageFigure.qualifier,
        "year": VillageFigure.year,
        "households": VillageFigure.households,
        "workers": VillageFigure.workers,
        "production_value_vnd": VillageFigure.production_value_vnd,
        "average_income_vnd": VillageFigure.average_income_vnd,
    },
    sortable={
        "id": VillageFigure.id,
        "year": VillageFigure.year,
        "village_id": VillageFigure.village_id,
        "village": Village.name_sort,
        "households": VillageFigure.households,
        "workers": VillageFigure.workers,
        "production_value_vnd": VillageFigure.production_value_vnd,
        "average_income_vnd": VillageFigure.average_income_vnd,
        "created_at": VillageFigure.created_at,
        "updated_at": VillageFigure.updated_at,
    },
    search=Village.search_text,
    load=(contains_eager(VillageFigure.village),),
    summaries={"village": Summary(Village, VillageFigure.village_id)},
    joins=_join_village,
    check=check_village_figure,
    # The village's places (joined), as recorded those of the figure's year.
    places=Places(
        Village.id,
        Village.province_id,
        Village.district_id,
        Village.commune_id,
        Village.other_commune_ids,
        year=VillageFigure.year,
    ),
)
