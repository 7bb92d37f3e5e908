"""How the generic service lists, sorts and loads trade fairs and their participants."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ARRAY, ColumnElement, Integer, and_, any_, cast, extract, func, select
from sqlalchemy.orm import joinedload, selectinload

from app.core.i18n import tr
from app.kit.places import check_trade_fair
from app.kit.resource import Child, Resource, Summary
from app.kit.timeline import Places
from app.models import AdminUnit, FairKind, Programme, TradeFair, TradeFairParticipant
from app.trade_fairs.schemas import TradeFairCreate, TradeFairQuery, TradeFairRead, TradeFairUpdate


# Years of start_on. Bounds are written as dates so that the index on start_on serves them.
def _in_years(years: Any) -> ColumnElement[bool]:
    # The outer bounds come from one-row subqueries that PostgreSQL runs first, so the index on
    # start_on can serve them; the year test then keeps only the years asked for.
    listed = func.unnest(cast(years, ARRAY(Integer))).table_valued("year").render_derived(name="listed")
    first = select(func.min(listed.c.year)).scalar_subquery()
    last = select(func.max(listed.c.year)).scalar_subquery()
    return and_(
        TradeFair.start_on >= func.make_date(first, 1, 1),
        TradeFair.start_on <= func.make_date(last, 12, 31),
        cast(extract("year", TradeFair.start_on), Integer) == any_(years),
    )


def _from_year(year: Any) -> ColumnElement[bool]:
    return TradeFair.start_on >= func.make_date(year, 1, 1)


def _to_year(year: Any) -> ColumnElement[bool]:
    return TradeFair.start_on <= func.make_date(year, 12, 31)


TRADE_FAIRS: Resource[TradeFair] = Resource(
    path="trade-fairs",
    singular=tr("trade fair"),
    plural="trade fairs",
    model=TradeFair,
    create=TradeFairCreate,
    update=TradeFairUpdate,
    read=TradeFairRead,
    query=TradeFairQuery,
    enums={"fair_kind": FairKind},
    columns={
        "kind": TradeFair.kind,
        "country": TradeFair.country,
        "province": TradeFair.province,
        "programme_id": TradeFair.programme_id,
        "start_on": TradeFair.start_on,
        "standard_booths": TradeFair.standard_booths,
        "exhibitors": TradeFair.exhibitors,
        "visitors": TradeFair.visitors,
        "contract_value_vnd": TradeFair.contract_value_vnd,
        "sales_vnd": TradeFair.sales_vnd,
    },
    sortable={
        "id": TradeFair.id,
        "name": TradeFair.name_sort,
        "kind": TradeFair.kind,
        "country": TradeFair.country,
        "province": TradeFair.province,
        "start_on": TradeFair.start_on,
        "end_on": TradeFair.end_on,
        "standard_booths": TradeFair.standard_booths,
        "exhibitors": TradeFair.exhibitors,
        "visitors": TradeFair.visitors,
        "contract_value_vnd": TradeFair.contract_value_vnd,
        "sales_vnd": TradeFair.sales_vnd,
        "created_at": TradeFair.created_at,
        "updated_at": TradeFair.updated_at,
    },
    search=TradeFair.search_text,
    load=(joinedload(TradeFair.programme), selectinload(TradeFair.participants)),
    summaries={
        "programme": Summary(Programme, TradeFair.programme_id),
        "department_province": Summary(AdminUnit, TradeFair.department_province_id, ("id", "code", "name")),
    },
    check=check_trade_fair,
    children={"participants": Child(TradeFairParticipant, "trade_fair_id")},
    custom={"year": _in_years, "year_from": _from_year, "year_to": _to_year},
    # Placed by the province whose department recorded the fair; `province` is the venue's text,
    # so the department's province is filtered as `department_province`.
    places=Places(TradeFair.id, TradeFair.department_province_id),
    place_params={"department_province": "province"},
)
