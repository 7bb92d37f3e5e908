"""Filters: query parameters turned into WHERE clauses for a Resource (ordering: app.kit.keyset).

Filter values travel as bound parameters named after the query parameter, so the SQL of a list
depends only on which filters are present, not on their values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import Enum
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Float,
    and_,
    any_,
    bindparam,
    case,
    cast,
    func,
    literal,
    or_,
    type_coerce,
)
from sqlalchemy.sql.elements import BindParameter, Grouping

from app.core.text import like_escape, search_terms
from app.kit.pagination import FilterParams, ListParams
from app.kit.resource import Resource
from app.kit.timeline import in_places

RANGE_SUFFIXES: dict[str, Callable[[Any, Any], ColumnElement[bool]]] = {
    "_min": lambda c, v: c >= v,
    "_from": lambda c, v: c >= v,
    "_max": lambda c, v: c <= v,
    "_to": lambda c, v: c <= v,
}
# Filters every list has, on the columns every record has: the parameter and its column.
SINCE = {"created_since": "created_at", "updated_since": "updated_at"}
# Parameters that are not filters: paging, ordering, search, and the statistics' own.
NOT_FILTERS = (frozenset(ListParams.model_fields) - SINCE.keys()) | {"group_by"}
# The geography filters of a resource with `places` (Resource.geography: unit codes of a level
# under a parameter's name), and the day whose units they name (without it, the units as
# recorded). `as_of` alone filters nothing; the statistics also group by the units of that day.
AS_OF = "as_of"


def filter_values(
    res: Resource[Any], params: FilterParams, *, skip: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """The filters a query uses, as bound-parameter values keyed by parameter name.

    Search terms become q_0, q_1, ... (LIKE patterns). Only names and counts shape the SQL, so
    the statement for a given set of filters is compiled once and reused with other values.
    """
    values: dict[str, Any] = {}
    for name, value in params.model_dump(exclude_none=True).items():
        if name in NOT_FILTERS or name in skip:
            continue
        column = res.columns.get(name)
        is_array = column is not None and isinstance(getattr(column, "type", None), ARRAY)
        values[name] = _db_value([value] if is_array and not isinstance(value, list) else value)
    if params.q and res.search is not None:
        for index, term in enumerate(search_terms(params.q)):
            values[f"q_{index}"] = "%" + like_escape(term) + "%"
    return values


def _db_value(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [_db_value(v) for v in value]
    return value


def filter_conditions(
    res: Resource[Any], names: Iterable[str], *, year: Any = None
) -> list[ColumnElement[bool]]:
    """WHERE clauses for these filters, each reading its value from the bound parameter of its name:
    equality or ANY for lists, range suffixes (_min, _max, _from, _to), array containment, search.
    The geography filters as recorded place a record with a history in its own units of `year`
    when given (app/kit/timeline.py)."""
    conditions, names = _place_conditions(res, list(names), year)
    for name in names:
        param: BindParameter[Any] = bindparam(name)
        if name.startswith("q_") and res.search is not None:
            conditions.append(res.search.like(func.lower(func.f_unaccent(param))))
        elif name in SINCE:
            conditions.append(res.table.c[SINCE[name]] >= param)
        elif name in res.custom:
            conditions.append(res.custom[name](param))
        elif name in res.columns:
            column = res.columns[name]
            if isinstance(getattr(column, "type", None), ARRAY):
                conditions.append(column.contains(param))
            elif _is_list_filter(res, name):
                conditions.append(column == any_(param))
            else:
                conditions.append(column == param)
        else:
            for suffix, compare in RANGE_SUFFIXES.items():
                if name.endswith(suffix) and name[: -len(suffix)] in res.columns:
                    conditions.append(compare(res.columns[name[: -len(suffix)]], param))
                    break
            else:  # pragma: no cover - refused when the registry is built (unmapped_filters)
                raise RuntimeError(f"filter {name} of {res.path} maps to no column")
    return conditions


def _place_conditions(
    res: Resource[Any], names: list[str], year: Any
) -> tuple[list[ColumnElement[bool]], list[str]]:
    """The geography filters' condition (all levels given in one, so that the records are placed
    once per statement), and the other filters' names. A filter names the units of its level
    (Resource.geography), its value bound under the filter's own name."""
    if res.places is None:
        return [], names
    geography = res.geography
    codes: dict[str, BindParameter[Any]] = {
        geography[name]: bindparam(name) for name in names if name in geography
    }
    conditions = [in_places(res.places, codes, as_of=AS_OF in names, year=year)] if codes else []
    return conditions, [name for name in names if name not in geography and name != AS_OF]


def unmapped_filters(res: Resource[Any]) -> list[str]:
    """Query parameters of the resource that no column, range suffix or custom condition serves
    (checked when the registry is built, so that a mismatch stops start-up, not a request)."""
    unmapped = []
    for name in res.query.model_fields:
        if name in NOT_FILTERS or name in SINCE or name in res.custom or name in res.columns:
            continue
        if res.places is not None and (name == AS_OF or name in res.geography):
            continue
        if any(name.endswith(s) and name[: -len(s)] in res.columns for s in RANGE_SUFFIXES):
            continue
        unmapped.append(name)
    return unmapped


def _is_list_filter(res: Resource[Any], name: str) -> bool:
    annotation = res.query.model_fields[name].annotation
    return "list" in str(annotation)


def in_bbox(longitude: Any, latitude: Any) -> Callable[[Any], ColumnElement[bool]]:
    """The `bbox` filter of a resource with coordinates: its four numbers arrive as one array
    parameter. The point is tested with <@ against one box, or two when the box crosses the
    antimeridian (min_lon > max_lon), so that the GiST index on point(longitude, latitude) serves
    it (migration 0011); the statement's shape does not depend on the values."""

    def condition(value: Any) -> ColumnElement[bool]:
        # Parenthesised, so that PostgreSQL can index the cast array: (CAST($1 AS FLOAT[]))[1].
        box = type_coerce(Grouping(cast(value, ARRAY(Float))), ARRAY(Float))
        west, south, east, north = box[1], box[2], box[3], box[4]
        point = func.point(longitude, latitude)
        inside = point.op("<@", is_comparison=True)
        east_edge = case((west <= east, east), else_=literal(180.0))
        first = inside(func.box(func.point(west, south), func.point(east_edge, north)))
        wrapped = inside(func.box(func.point(literal(-180.0), south), func.point(east, north)))
        return or_(first, and_(west > east, wrapped))

    return condition
