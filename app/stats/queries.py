"""The statistics' SQL. Every count and sum is computed by PostgreSQL; Python only labels rows.

Sums of BIGINT come back as NUMERIC (exact, never overflowing) and are turned into Python ints.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Date,
    FromClause,
    Integer,
    Numeric,
    Select,
    and_,
    bindparam,
    cast,
    column,
    distinct,
    extract,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    text,
    true,
    union_all,
    values,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import TextClause

from app.core.labels import LabelledEnum
from app.kit.filters import filter_conditions, filter_values
from app.kit.resource import Resource
from app.kit.timeline import Places, in_places, place_on, recorded_in_year
from app.models import (
    PUBLIC_FUNDING_SOURCES,
    AdminLevel,
    AdminUnit,
    Cooperative,
    CooperativeSector,
    CraftGroup,
    FairKind,
    FundingSource,
    Programme,
    ProgrammeBeneficiary,
    ProgrammeFunding,
    ProgrammeKind,
    TradeFair,
    Village,
    VillageFigure,
    VillageStatus,
)

PUBLIC = sorted(PUBLIC_FUNDING_SOURCES)
MAX_DIMENSIONS = 3

DimensionKind = Literal["enum", "unit", "number", "text"]


@dataclass(frozen=True)
class Dimension:
    """A group_by dimension: the SQL expression(s) it groups by and how a row shows it. A `unit`
    is an administrative unit of `level` (the record's, as recorded or as of a day: with_places)."""

    kind: DimensionKind
    expression: Any = None
    enum: type[LabelledEnum] | None = None
    level: str | None = None

    def labels(self, name: str) -> list[str]:
        if self.kind == "unit":
            return [f"{name}__id", f"{name}__code", f"{name}__name"]
        return [name]

    def columns(self, name: str) -> list[ColumnElement[Any]]:
        if self.kind == "unit":
            unit = unit_alias(name)
            return [
                unit.id.label(f"{name}__id"),
                unit.code.label(f"{name}__code"),
                unit.name.label(f"{name}__name"),
            ]
        return [self.expression.label(name)]


def unit_dim(level: AdminLevel) -> Dimension:
    return Dimension("unit", level=level.value)


@cache
def unit_alias(name: str) -> Any:
    """The admin_unit a unit dimension shows, one alias per dimension name."""
    return aliased(AdminUnit, name=f"dim_{name}")


def with_places(
    stats: Stats, params: Any, dims: Sequence[str], base: FromClause, year: Any = None
) -> FromClause:
    """`base` joined to the unit of each unit dimension: the record's units as recorded (those of
    the row's `year` when given), or with `as_of` its units of that day (app/kit/timeline.py). An
    outer join: a record without a unit (a 2025 commune has no district; one that cannot be placed
    on the day) is the null group."""
    units = [name for name in dims if stats.dimensions[name].kind == "unit"]
    places = stats.resource.places
    if not units or places is None:
        return base
    levels = {name: str(stats.dimensions[name].level) for name in units}
    if getattr(params, "as_of", None) is not None:
        base, placed = place_on(places, frozenset(levels.values()), base)
    else:
        recorded = recorded_in_year(places, year) if year is not None else None
        placed = {level: recorded[level] if recorded else places.recorded(level) for level in levels.values()}
    for name, level in levels.items():
        unit = unit_alias(name)
        base = base.outerjoin(unit, unit.id == placed[level])
    return base


def enum_dim(column: Any, enum: type[LabelledEnum]) -> Dimension:
    return Dimension("enum", column, enum)


def year_of(column: Any) -> ColumnElement[int]:
    return cast(extract("year", column), Integer)


def whole(expression: Any) -> ColumnElement[Any]:
    """A sum that is 0 rather than NULL over no rows, exact as NUMERIC."""
    return cast(func.coalesce(func.sum(expression), 0), Numeric)


@dataclass(frozen=True)
class Stats:
    """The statistics of one collection: its dimensions, and how its rows and totals are built."""

    path: str
    resource: Resource[Any]
    dimensions: Mapping[str, Dimension]
    measures: Sequence[str]
    depends_on: tuple[str, ...]
    build: Callable[[Stats, Any, Sequence[str]], Select[Any]]
    # The published answer (app/stats/schemas.py): its dimension enumeration, rows and totals.
    response: type[BaseModel]
    extra_params: frozenset[str] = field(default_factory=frozenset)
    # The `totals` query; by default the rows' query grouped by nothing.
    build_totals: Callable[[Stats, Any], Select[Any]] | None = None
    # Fills in what the queries need to know beforehand (the villages' open year range).
    resolve: Callable[[AsyncSession, Any], Awaitable[Any]] | None = None

    def totals_query(self, params: Any) -> Select[Any]:
        if self.build_totals is not None:
            return self.build_totals(self, params)
        return self.build(self, params, [])


def stats_values(stats: Stats, params: Any) -> dict[str, Any]:
    """Bound values of the list filters a statistic takes (its own parameters apart)."""
    return filter_values(stats.resource, params, skip=stats.extra_params)


# -- the four collections ------------------------------------------------------------------


async def village_year_range(session: AsyncSession, params: Any) -> Any:
    """The parameters with an open end of year_from..year_to closed at the first or last year
    that has figures (two index-only lookups), so that the years are a list of known length:
    the planner then estimates the villages × years join rightly and reads a district's figures
    by index instead of hashing the whole figures table."""
    if params.year or (params.year_from is not None and params.year_to is not None):
        return params
    first, last = (
        await session.execute(select(func.min(VillageFigure.year), func.max(VillageFigure.year)))
    ).one()
    low = params.year_from if params.year_from is not None else first
    high = params.year_to if params.year_to is not None else last
    if low is None or high is None:
        return params  # no figures at all
    return params.model_copy(update={"year_from": low, "year_to": high})


def village_years(params: Any) -> FromClause:
    """The years a village statistic covers: the `year` list, else year_from..year_to, where an
    open end is the first or last year that has figures."""
    if params.year:
        return values(column("year", Integer), name="years").data([(y,) for y in sorted(set(params.year))])
    if params.year_from is not None and params.year_to is not None:
        years = range(int(params.year_from), int(params.year_to) + 1)
        if years:
            return values(column("year", Integer), name="years").data([(y,) for y in years])
    low = params.year_from if params.year_from is not None else select(func.min(VillageFigure.year))
    high = params.year_to if params.year_to is not None else select(func.max(VillageFigure.year))
    low_expr = literal(low) if isinstance(low, int) else low.scalar_subquery()
    high_expr = literal(high) if isinstance(high, int) else high.scalar_subquery()
    return select(func.generate_series(low_expr, high_expr).label("year")).subquery("years")


def placing_year(params: Any, dims: Sequence[str], year: Any) -> Any:
    """The year whose units place a village with a history, as recorded (app/kit/timeline.py): each
    row's own year when the year is a dimension; otherwise the last year of the range, so that the
    village sits in one group with all its figures (its units of 2015 for the 2015 rows and of 2025
    for the 2025 ones would count it in two groups, and the groups' villages would add up to more
    than the totals)."""
    if "year" in dims:
        return year
    if params.year:
        return literal(max(params.year), Integer)
    if params.year_to is not None:
        return literal(int(params.year_to), Integer)
    return year  # no figures at all: the years are open, and nothing is counted twice


def village_query(stats: Stats, params: Any, dims: Sequence[str]) -> Select[Any]:
    """Villages × years: a village counts in a year it existed by (established_year empty or
    earlier); recognised as of 31 December; figures are those of the year."""
    years = village_years(params)
    year = years.c.year
    year_end = func.make_date(year, 12, 31)
    recognised = and_(
        Village.status != VillageStatus.unrecognised.value,
        Village.recognised_on <= year_end,
        or_(Village.revoked_on.is_(None), Village.revoked_on > year_end),
    )
    # With the year a dimension each village is counted once per row; otherwise it can occur
    # in several years, and counting distinct ids keeps it once.
    count: Any = func.count() if "year" in dims else func.count(distinct(Village.id))
    counted_recognised: Any = (
        func.count().filter(recognised)
        if "year" in dims
        else func.count(distinct(Village.id)).filter(recognised)
    )
    base: FromClause = Village.__table__.join(
        years, or_(Village.established_year.is_(None), Village.established_year <= year)
    ).outerjoin(
        VillageFigure.__table__, and_(VillageFigure.village_id == Village.id, VillageFigure.year == year)
    )
    placed_in = placing_year(params, dims, year)
    base = with_places(stats, params, dims, base, placed_in)
    measures = [
        cast(count, Numeric).label("villages"),
        cast(counted_recognised, Numeric).label("recognised"),
        whole(VillageFigure.households).label("households"),
        whole(VillageFigure.workers).label("workers"),
        whole(VillageFigure.production_value_vnd).label("production_value_vnd"),
    ]
    dimension_columns = [c for name in dims for c in _dimension(stats, name, {"year": year}).columns(name)]
    return (
        select(*dimension_columns, *measures)
        .select_from(base)
        .where(*filter_conditions(stats.resource, stats_values(stats, params), year=placed_in))
    )


def cooperative_query(stats: Stats, params: Any, dims: Sequence[str]) -> Select[Any]:
    base = with_places(stats, params, dims, Cooperative.__table__)
    dimension_columns = [c for name in dims for c in stats.dimensions[name].columns(name)]
    return (
        select(
            *dimension_columns,
            cast(func.count(), Numeric).label("cooperatives"),
            whole(Cooperative.members).label("members"),
            whole(Cooperative.charter_capital_vnd).label("charter_capital_vnd"),
        )
        .select_from(base)
        .where(*filter_conditions(stats.resource, stats_values(stats, params)))
    )


def fair_query(stats: Stats, params: Any, dims: Sequence[str]) -> Select[Any]:
    base = with_places(stats, params, dims, TradeFair.__table__)
    dimension_columns = [c for name in dims for c in stats.dimensions[name].columns(name)]
    return (
        select(
            *dimension_columns,
            cast(func.count(), Numeric).label("fairs"),
            whole(TradeFair.standard_booths).label("standard_booths"),
            whole(TradeFair.exhibitors).label("exhibitors"),
            whole(TradeFair.visitors).label("visitors"),
            whole(TradeFair.contract_value_vnd).label("contract_value_vnd"),
            whole(TradeFair.sales_vnd).label("sales_vnd"),
        )
        .select_from(base)
        .where(*filter_conditions(stats.resource, stats_values(stats, params)))
    )


def programme_query(stats: Stats, params: Any, dims: Sequence[str]) -> Select[Any]:
    """Programmes with their money and beneficiaries, each pre-aggregated per programme (or per
    programme and source when grouping by source) so that no join multiplies a sum."""
    beneficiaries = (
        select(ProgrammeBeneficiary.programme_id, func.count().label("n"))
        .group_by(ProgrammeBeneficiary.programme_id)
        .subquery("pb")
    )
    is_public = ProgrammeFunding.source.in_(PUBLIC)
    is_counterpart = ProgrammeFunding.source == FundingSource.counterpart.value
    if "funding_source" in dims:
        money = (
            select(
                ProgrammeFunding.programme_id,
                ProgrammeFunding.source,
                func.sum(ProgrammeFunding.amount_vnd).filter(is_public).label("support"),
                func.sum(ProgrammeFunding.amount_vnd).filter(is_counterpart).label("counterpart"),
            )
            .group_by(ProgrammeFunding.programme_id, ProgrammeFunding.source)
            .subquery("pf")
        )
        # Grouped by (programme, source), each programme occurs once per source it has: count(*)
        # counts programmes, with no DISTINCT (which sorts every joined row).
    else:
        money = (
            select(
                ProgrammeFunding.programme_id,
                func.sum(ProgrammeFunding.amount_vnd).filter(is_public).label("support"),
                func.sum(ProgrammeFunding.amount_vnd).filter(is_counterpart).label("counterpart"),
            )
            .group_by(ProgrammeFunding.programme_id)
            .subquery("pf")
        )
    count = func.count()
    base: FromClause = Programme.__table__.outerjoin(money, money.c.programme_id == Programme.id).outerjoin(
        beneficiaries, beneficiaries.c.programme_id == Programme.id
    )
    base = with_places(stats, params, dims, base)
    overrides = {"funding_source": money.c.source} if "funding_source" in dims else {}
    dimension_columns = [c for name in dims for c in _dimension(stats, name, overrides).columns(name)]
    return (
        select(
            *dimension_columns,
            cast(count, Numeric).label("programmes"),
            whole(money.c.support).label("support_vnd"),
            whole(money.c.counterpart).label("counterpart_vnd"),
            whole(beneficiaries.c.n).label("beneficiaries"),
        )
        .select_from(base)
        .where(*filter_conditions(stats.resource, stats_values(stats, params)))
    )


def programme_totals(stats: Stats, params: Any) -> Select[Any]:
    """The programmes' totals as three aggregates over the chosen programmes, each a single scan
    (a semi-join for money and beneficiaries), rather than the rows' per-programme joins."""
    where = filter_conditions(stats.resource, stats_values(stats, params))
    chosen = select(Programme.id).where(*where)
    programmes = select(func.count()).select_from(Programme).where(*where)
    amount = ProgrammeFunding.amount_vnd
    is_counterpart = ProgrammeFunding.source == FundingSource.counterpart.value
    money = select(
        cast(func.coalesce(func.sum(amount).filter(ProgrammeFunding.source.in_(PUBLIC)), 0), Numeric).label(
            "support"
        ),
        cast(func.coalesce(func.sum(amount).filter(is_counterpart), 0), Numeric).label("counterpart"),
    ).where(ProgrammeFunding.programme_id.in_(chosen))
    beneficiaries = (
        select(func.count())
        .select_from(ProgrammeBeneficiary)
        .where(ProgrammeBeneficiary.programme_id.in_(chosen))
    )
    money_row = money.subquery("money")
    return select(
        cast(programmes.scalar_subquery(), Numeric).label("programmes"),
        money_row.c.support.label("support_vnd"),
        money_row.c.counterpart.label("counterpart_vnd"),
        cast(beneficiaries.scalar_subquery(), Numeric).label("beneficiaries"),
    ).select_from(money_row)


def _dimension(stats: Stats, name: str, overrides: Mapping[str, Any]) -> Dimension:
    dimension = stats.dimensions[name]
    if name in overrides:
        return Dimension(dimension.kind, overrides[name], dimension.enum, dimension.level)
    return dimension


# -- grouping, gap filling, totals -----------------------------------------------------------


def dimension_labels(stats: Stats, dims: Sequence[str]) -> list[str]:
    return [label for name in dims for label in stats.dimensions[name].labels(name)]


def _ordered(labels: Sequence[str]) -> list[TextClause]:
    return [text(f'"{label}"') for label in labels]


def grouped(
    stats: Stats, query: Select[Any], dims: Sequence[str], years: tuple[int, int] | None
) -> Select[Any]:
    """GROUP BY the dimensions; with `years`, every year of the range appears (zeros included)
    for each combination of the other dimensions found."""
    labels = dimension_labels(stats, dims)
    aggregated = query.group_by(*[c for c in query.selected_columns if c.key in labels])
    if years is None:
        return aggregated.order_by(*_ordered(labels))
    agg = aggregated.subquery("agg")
    span = select(func.generate_series(years[0], years[1]).label("year")).subquery("span")
    others = [label for label in labels if label != "year"]
    measures = [str(c.key) for c in query.selected_columns if c.key not in labels]
    on: list[ColumnElement[bool]] = [agg.c.year == span.c.year]
    frame: FromClause = span
    picked: dict[str, Any] = {"year": span.c.year}
    if others:
        combos = select(*[agg.c[label] for label in others]).distinct().subquery("combos")
        frame = span.join(combos, true())
        on += [agg.c[label].is_not_distinct_from(combos.c[label]) for label in others]
        picked.update({label: combos.c[label] for label in others})
    columns = [picked[label] for label in labels] + [func.coalesce(agg.c[m], 0).label(m) for m in measures]
    return select(*columns).select_from(frame.outerjoin(agg, and_(*on))).order_by(*_ordered(labels))


def year_span(stats: Stats, params: Any, dims: Sequence[str]) -> tuple[int, int] | None:
    """The year range to fill, when the year is a dimension and the range is closed."""
    if "year" not in dims or "year_from" not in type(params).model_fields:
        return None
    if params.year_from is None or params.year_to is None or params.year_from > params.year_to:
        return None
    return int(params.year_from), int(params.year_to)


# -- the overview ----------------------------------------------------------------------------

# Where the overview's records are: villages (their figures through them) and co-operatives by their
# place, programmes and fairs by the province of the department that recorded them.
VILLAGE_PLACES = Places(
    Village.id, Village.province_id, Village.district_id, Village.commune_id, Village.other_commune_ids
)
COOPERATIVE_PLACES = Places(
    Cooperative.id,
    Cooperative.province_id,
    Cooperative.district_id,
    Cooperative.commune_id,
    Cooperative.other_commune_ids,
)
PROGRAMME_PLACES = Places(Programme.id, Programme.department_province_id)
FAIR_PLACES = Places(TradeFair.id, TradeFair.department_province_id)


@cache
def overview_query(province: bool, as_of: bool) -> CompoundSelect[Any]:
    """The overview's figures of the year `:year` (`:year_start`..`:year_end`) as rows (part, code,
    a, b), each part an aggregate; with `province`, only the records in the provinces of the bound
    list `:province`, as recorded (a village or co-operative with a history: its units of that
    year) or (`as_of`) on the day `:as_of`."""

    def placed(places: Places) -> list[ColumnElement[bool]]:
        if not province:
            return []
        return [in_places(places, {"province": bindparam("province")}, as_of=as_of, year=year)]

    year = bindparam("year", type_=Integer)
    start, end = bindparam("year_start", type_=Date), bindparam("year_end", type_=Date)
    public = ProgrammeFunding.source.in_(PUBLIC)
    counterpart = ProgrammeFunding.source == FundingSource.counterpart.value
    recognised = and_(
        Village.status != VillageStatus.unrecognised.value,
        Village.recognised_on <= end,
        or_(Village.revoked_on.is_(None), Village.revoked_on > end),
    )
    villages = (
        select(
            literal_column("'village'").label("part"),
            Village.craft_group.label("code"),
            cast(func.count(), Numeric).label("a"),
            cast(func.count().filter(recognised), Numeric).label("b"),
        )
        .where(
            or_(Village.established_year.is_(None), Village.established_year <= year), *placed(VILLAGE_PLACES)
        )
        .group_by(func.rollup(Village.craft_group))
    )
    in_villages = placed(VILLAGE_PLACES)
    figures = select(
        literal_column("'figure'"),
        null(),
        whole(VillageFigure.workers),
        whole(VillageFigure.production_value_vnd),
    ).where(
        VillageFigure.year == year,
        *([VillageFigure.village_id.in_(select(Village.id).where(*in_villages))] if in_villages else []),
    )
    cooperatives = (
        select(
            literal_column("'cooperative'"),
            Cooperative.sector,
            cast(func.count(), Numeric),
            cast(null(), Numeric),
        )
        .where(
            or_(Cooperative.founded_on.is_(None), Cooperative.founded_on <= end),
            or_(Cooperative.dissolved_on.is_(None), Cooperative.dissolved_on >= start),
            *placed(COOPERATIVE_PLACES),
        )
        .group_by(func.rollup(Cooperative.sector))
    )
    programmes = (
        select(
            literal_column("'programme'"), Programme.kind, cast(func.count(), Numeric), cast(null(), Numeric)
        )
        .where(Programme.year == year, *placed(PROGRAMME_PLACES))
        .group_by(Programme.kind)
    )
    funding = (
        select(
            literal_column("'funding'"),
            Programme.kind,
            cast(func.coalesce(func.sum(ProgrammeFunding.amount_vnd).filter(public), 0), Numeric),
            cast(func.coalesce(func.sum(ProgrammeFunding.amount_vnd).filter(counterpart), 0), Numeric),
        )
        .select_from(
            Programme.__table__.join(
                ProgrammeFunding.__table__, ProgrammeFunding.programme_id == Programme.id
            )
        )
        .where(Programme.year == year, *placed(PROGRAMME_PLACES))
        .group_by(Programme.kind)
    )
    fairs = (
        select(
            literal_column("'fair'"),
            TradeFair.kind,
            cast(func.count(), Numeric),
            whole(TradeFair.standard_booths),
        )
        .where(TradeFair.start_on.between(start, end), *placed(FAIR_PLACES))
        .group_by(TradeFair.kind)
    )
    return union_all(villages, figures, cooperatives, programmes, funding, fairs)


OVERVIEW_DEPENDS_ON = (
    "village",
    "village_figure",
    "cooperative",
    "programme",
    "programme_funding",
    "trade_fair",
)
# With `province`, which records count also depends on the units and their successions.
OVERVIEW_PLACES_DEPEND_ON = ("admin_unit", "admin_unit_succession")


def overview_params(year: int, **geography: Any) -> dict[str, Any]:
    """The overview query's values: the year's, and the geography given (province, as_of)."""
    given = {name: value for name, value in geography.items() if value is not None}
    return {"year": year, "year_start": date(year, 1, 1), "year_end": date(year, 12, 31), **given}


def overview_body(year: int, rows: Sequence[Any]) -> dict[str, Any]:
    """Place the overview query's rows in the published shape; every code listed, zeros included."""
    by_group = {g.value: 0 for g in CraftGroup}
    by_sector = {s.value: 0 for s in CooperativeSector}
    fairs = {k.value: 0 for k in FairKind}
    villages = {"total": 0, "recognised": 0, "workers": 0, "production_value_vnd": 0}
    cooperatives = 0
    programmes = {k.value: 0 for k in ProgrammeKind}
    support = {k.value: 0 for k in ProgrammeKind}
    counterpart = {k.value: 0 for k in ProgrammeKind}
    hosted_booths = 0
    for part, code, a, b in rows:
        if part == "village" and code is None:
            villages["total"], villages["recognised"] = int(a), int(b)
        elif part == "village":
            by_group[code] = int(a)
        elif part == "figure":
            villages["workers"], villages["production_value_vnd"] = int(a), int(b)
        elif part == "cooperative" and code is None:
            cooperatives = int(a)
        elif part == "cooperative":
            by_sector[code] = int(a)
        elif part == "programme":
            programmes[code] = int(a)
        elif part == "funding":
            support[code], counterpart[code] = int(a), int(b)
        elif part == "fair":
            fairs[code] = int(a)
            if code == FairKind.hosted.value:
                hosted_booths = int(b)
    extension, promotion = ProgrammeKind.industrial_extension.value, ProgrammeKind.trade_promotion.value
    return {
        "year": year,
        "villages": {
            "total": villages["total"],
            "recognised": villages["recognised"],
            "by_craft_group": by_group,
            "workers": villages["workers"],
            "production_value_vnd": villages["production_value_vnd"],
        },
        "cooperatives": {"total": cooperatives, "by_sector": by_sector},
        "industrial_extension": {
            "programmes": programmes[extension],
            "support_vnd": support[extension],
            "counterpart_vnd": counterpart[extension],
        },
        "trade_promotion": {
            "programmes": programmes[promotion],
            "support_vnd": support[promotion],
            "fairs": fairs,
            "hosted_booths": hosted_booths,
        },
    }
