"""Places on a date: which administrative unit of a given day a unit, or a record's place, became
(or had been), following the successions of the gazetteer. Set-based SQL, nothing per row in Python.

A unit's *image* on a day `as_of`:

- the unit itself when it is valid that day (an unknown start or end is open);
- after it ended: the image of its successor, when the links that start after its end and by
  `as_of` name exactly ONE unit of its own level (merged whole, renamed, unchanged; a commune merged
  in part into several communes has none);
- before it began: the image of its predecessor, when the links that made it name exactly one unit
  of its level (a renamed ward goes back to the commune it was; a commune formed by a merger has none);
- otherwise none (NULL): ambiguous or unknown. Links across levels (an old district merged as a
  whole into a 2025 commune) are not followed: the image stays on its level.

A record's place on a day (`placement`): a unit among its commune_id and other_commune_ids that is
valid that day wins (the record's own history says where it was, even in a commune split in part),
else the image of the own commune nearest in time to the day that has one (a village recorded in
a 2025 ward formed by a merger, with its 2015 commune in other_commune_ids, is on 2024-10-01 in
what its 2015 commune became on 2024-09-01), else the image of commune_id; its district and
province are that commune's parents (a 2025 commune has no district). When no commune can be
had, the recorded district and province are resolved each on its own level (province 36 Nam Định
became 37 Ninh Bình whole). NULL is the "unassigned" group.

A record's place *as recorded* (no `as_of`): its own units, never an image. A record without a
history (other_commune_ids empty, nearly all) is in its recorded commune, district and province.
A record with a history was in different units at different dates, so:

- in a year (`recorded_in_year`: a village's figures, the overview of a year), it is in its own
  commune of that year: among commune_id and other_commune_ids, the one whose period overlaps the
  year, the one valid at the year's end first (2025: the new commune); none: commune_id. A village
  moved to its 2025 ward with its 2015 commune in other_commune_ids counts its 2015 figures under
  the 2015 commune, district and province;
- with no year (a list of villages or co-operatives), it is in its recorded units (commune_id and
  what derives from it); `as_of` asks for another day, where its own commune of that day wins.

Everything reads `as_of` from the bound parameter of that name, so the SQL is compiled once.
The walk is one recursive CTE over the units not valid that day; `images` is rendered once per
statement however often it is used (SQLAlchemy renders a CTE object once).

This module sits in the kit (it needs only the two gazetteer tables) because the list filters
(app/kit/filters.py), which are below the resource packages, use it as the statistics do.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    FromClause,
    Select,
    and_,
    any_,
    bindparam,
    case,
    func,
    literal,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import aliased

from app.models import AdminLevel, AdminUnit, AdminUnitSuccession

MAX_STEPS = 8  # far beyond any chain of changes (the longest today is 2)
LEVELS = ("province", "district", "commune")


def as_of_param() -> Any:
    """The day, as the bound parameter every statement of this module reads."""
    return bindparam("as_of", type_=AdminUnit.valid_from.type)


def valid_on(unit: Any, day: Any) -> ColumnElement[bool]:
    """The unit (an admin_unit table or alias) is valid on the day; open ends reach as far as needed."""
    return and_(
        or_(unit.valid_from.is_(None), unit.valid_from <= day),
        or_(unit.valid_to.is_(None), unit.valid_to >= day),
    )


@cache
def images() -> CTE:
    """(unit_id, image_id): every unit that has an image on `as_of`, with it (the units valid that
    day map to themselves). A unit without an image has no row."""
    day = as_of_param()
    link = AdminUnitSuccession.__table__
    before, after = aliased(AdminUnit, name="tl_before"), aliased(AdminUnit, name="tl_after")
    # Links within a level, with both ends' periods: read once, used by both directions.
    links = (
        select(
            link.c.predecessor_id,
            link.c.successor_id,
            link.c.effective_on,
            (link.c.effective_on > before.valid_to).label("after_end"),
            (link.c.effective_on <= after.valid_from).label("at_start"),
        )
        .select_from(
            link.join(before, before.id == link.c.predecessor_id).join(after, after.id == link.c.successor_id)
        )
        .where(before.level == after.level)
        .cte("tl_links")
    )
    # A unit that ended: the unit(s) its links after the end lead to; unique or nothing.
    forward = (
        select(
            links.c.predecessor_id.label("unit_id"),
            func.min(links.c.successor_id).label("next_id"),
            func.max(links.c.effective_on).label("effective_on"),
        )
        .where(links.c.after_end)
        .group_by(links.c.predecessor_id)
        .having(func.count(links.c.successor_id.distinct()) == 1)
        .cte("tl_forward")
    )
    # A unit that began: the unit(s) the links that made it come from; unique or nothing.
    backward = (
        select(
            links.c.successor_id.label("unit_id"),
            func.min(links.c.predecessor_id).label("next_id"),
            func.min(links.c.effective_on).label("effective_on"),
        )
        .where(links.c.at_start)
        .group_by(links.c.successor_id)
        .having(func.count(links.c.predecessor_id.distinct()) == 1)
        .cte("tl_backward")
    )
    start = aliased(AdminUnit, name="tl_start")
    walk = (
        select(
            start.id.label("unit_id"),
            start.id.label("at_id"),
            literal(0).label("steps"),
        )
        .where(~valid_on(start, day))
        .cte("tl_walk", recursive=True)
    )
    here = aliased(AdminUnit, name="tl_here")
    step = func.coalesce(forward.c.next_id, backward.c.next_id)
    walk = walk.union_all(
        select(walk.c.unit_id, step, walk.c.steps + 1)
        .select_from(
            walk.join(here, here.id == walk.c.at_id)
            .outerjoin(
                forward,
                and_(forward.c.unit_id == here.id, here.valid_to < day, forward.c.effective_on <= day),
            )
            .outerjoin(
                backward,
                and_(backward.c.unit_id == here.id, here.valid_from > day, backward.c.effective_on > day),
            )
        )
        .where(walk.c.steps < MAX_STEPS, ~valid_on(here, day), step.is_not(None))
    )
    reached = aliased(AdminUnit, name="tl_reached")
    valid = aliased(AdminUnit, name="tl_valid")
    walked = (
        select(walk.c.unit_id, walk.c.at_id.label("image_id"))
        .select_from(walk.join(reached, reached.id == walk.c.at_id))
        .where(walk.c.steps > 0, valid_on(reached, day))
    )
    itself = select(valid.id.label("unit_id"), valid.id.label("image_id")).where(valid_on(valid, day))
    return union_all(itself, walked).cte("unit_image")


@dataclass(frozen=True)
class Places:
    """Where a resource's records are placed: the columns holding the record's id and its units as
    recorded. A programme has only a province (its department's); a village has all four."""

    id: Any
    province: Any
    district: Any = None
    commune: Any = None
    others: Any = None  # other_commune_ids: the record's communes at other dates
    year: Any = None  # the year a row is of (a village figure's), for "as recorded"

    def recorded(self, level: str) -> Any:
        return {"province": self.province, "district": self.district, "commune": self.commune}[level]


@cache
def _image(name: str) -> CTE:
    """`images()` under another name, one object per name (so that a statement renders it once)."""
    return images().alias(name)


@cache
def _unit(name: str) -> Any:
    return aliased(AdminUnit, name=name)


@cache
def _own_image(places: Places) -> Any:
    """(record_id, image_id) for the records with a history (other_commune_ids not empty): the
    image on `as_of` of one of their own communes (commune_id and other_commune_ids), the one
    nearest in time to the day first (a commune valid that day is itself at distance 0). A record
    whose own communes have no image that day has no row."""
    day = as_of_param()
    table = places.id.class_.__table__
    name = table.name
    own = (
        select(
            places.id.label("record_id"),
            func.unnest(func.array_prepend(places.commune, places.others)).label("unit_id"),
        )
        .where(func.cardinality(places.others) > 0)
        .subquery(f"own_{name}")
    )
    unit, image = _unit(f"own_unit_{name}"), _image(f"oi_{name}")
    distance = case(
        (valid_on(unit, day), 0),
        (unit.valid_to < day, day - unit.valid_to),
        else_=unit.valid_from - day,
    )
    return (
        select(own.c.record_id, image.c.image_id)
        .ext(distinct_on(own.c.record_id))
        .select_from(own.join(unit, unit.id == own.c.unit_id).join(image, image.c.unit_id == own.c.unit_id))
        .order_by(own.c.record_id, distance, own.c.unit_id)
        .subquery(f"own_image_{name}")
    )


def place_on(places: Places, levels: frozenset[str], source: FromClause) -> tuple[FromClause, dict[str, Any]]:
    """`source` (a FROM holding the places' table) outer-joined to what the record's units of the
    levels asked for on `as_of` need, and those units' ids as expressions (NULL: unassigned), by
    level (module docstring). Only the joins the levels need are made."""
    name = places.id.class_.__table__.name
    if places.commune is None:  # a province alone, resolved on its level
        province_image = _image(f"pi_{name}")
        source = source.outerjoin(province_image, province_image.c.unit_id == places.province)
        return source, {"province": province_image.c.image_id, "district": null(), "commune": null()}
    commune_image = _image(f"ci_{name}")
    source = source.outerjoin(commune_image, commune_image.c.unit_id == places.commune)
    chosen: Any = commune_image.c.image_id
    if places.others is not None:
        own = _own_image(places)
        source = source.outerjoin(own, own.c.record_id == places.id)
        chosen = func.coalesce(own.c.image_id, chosen)
    columns: dict[str, Any] = {"commune": chosen}
    if levels - {"commune"}:
        commune, parent = _unit(f"placed_commune_{name}"), _unit(f"placed_parent_{name}")
        source = source.outerjoin(commune, commune.id == chosen).outerjoin(
            parent, parent.id == commune.parent_id
        )
        if "district" in levels:
            district_image = _image(f"di_{name}")
            source = source.outerjoin(district_image, district_image.c.unit_id == places.district)
            columns["district"] = case(
                (commune.id.is_(None), district_image.c.image_id),
                (parent.level == AdminLevel.district.value, parent.id),
                else_=null(),
            )
        if "province" in levels:
            province_image = _image(f"pi_{name}")
            source = source.outerjoin(province_image, province_image.c.unit_id == places.province)
            columns["province"] = case(
                (commune.id.is_(None), province_image.c.image_id),
                (parent.level == AdminLevel.province.value, parent.id),
                else_=parent.parent_id,
            )
    return source, columns


@cache
def placement(places: Places, levels: frozenset[str] = frozenset(LEVELS)) -> CTE:
    """(record_id, <level>_id for each level asked for): each record's units valid on `as_of`
    (module docstring), NULL where it cannot be placed. One row per record."""
    table = places.id.class_.__table__
    source, columns = place_on(places, levels, table)
    chosen = [columns[level].label(f"{level}_id") for level in LEVELS if level in levels]
    return select(places.id.label("record_id"), *chosen).select_from(source).cte(f"placed_{table.name}")


def _overlaps_year(unit: Any, year: Any) -> ColumnElement[bool]:
    """The unit's period overlaps the calendar year `year` (an integer expression)."""
    return and_(
        or_(unit.valid_from.is_(None), unit.valid_from <= func.make_date(year, 12, 31)),
        or_(unit.valid_to.is_(None), unit.valid_to >= func.make_date(year, 1, 1)),
    )


def _has_history(places: Places) -> ColumnElement[bool]:
    return func.cardinality(places.others) > 0


def _parents(commune: Any, parent: Any) -> dict[str, Any]:
    """A commune's units by level (the commune and parent given as admin_unit aliases joined)."""
    return {
        "commune": commune.id,
        "district": case((parent.level == AdminLevel.district.value, parent.id), else_=null()),
        "province": case((parent.level == AdminLevel.province.value, parent.id), else_=parent.parent_id),
    }


def recorded_in_year(places: Places, year: Any) -> dict[str, Any]:
    """The record's own units in the year `year` (an integer expression), by level (module
    docstring). Only a record with a history pays for a lookup: PostgreSQL evaluates a CASE branch
    only when it is taken, so the national statistics read the recorded columns as before."""
    if places.others is None:
        return {level: places.recorded(level) for level in LEVELS}
    own, commune, parent = (aliased(AdminUnit, name=n) for n in ("own_unit", "own_commune", "own_parent"))
    pick = (
        select(own.id)
        .where(or_(own.id == places.commune, own.id == any_(places.others)), _overlaps_year(own, year))
        .order_by(own.valid_to.desc().nulls_first())
        .limit(1)
        .correlate_except(own)  # the record and the year are the enclosing statement's
        .scalar_subquery()
    )
    chosen = func.coalesce(pick, places.commune)
    units = _parents(commune, parent)
    return {
        level: case(
            (
                _has_history(places),
                select(units[level])
                .select_from(commune)
                .outerjoin(parent, parent.id == commune.parent_id)
                .where(commune.id == chosen)
                .correlate_except(commune, parent)
                .scalar_subquery(),
            ),
            else_=places.recorded(level),
        )
        for level in LEVELS
    }


def units_named(level: str, codes: Any, *, on: bool) -> Select[Any]:
    """The ids of the units of `level` with one of `codes` (a bound list): any period, or (`on`)
    valid on `as_of`."""
    query = select(AdminUnit.id).where(AdminUnit.level == level, AdminUnit.code == any_(codes))
    return query.where(valid_on(AdminUnit, as_of_param())) if on else query


def in_places(places: Places, codes: dict[str, Any], *, as_of: bool, year: Any = None) -> ColumnElement[bool]:
    """The record is in one of the units named by code at each level given (all levels must
    match): with `as_of` its units of that day; else as recorded (module docstring): its own units
    of the year `year` (default: the places' own year column) when there is one, else its recorded
    units."""
    year = places.year if year is None else year
    if not as_of:
        recorded = recorded_in_year(places, year) if year is not None else None
        recorded_condition = and_(
            true(),
            *[
                (recorded[level] if recorded else places.recorded(level)).in_(
                    units_named(level, value, on=False)
                )
                for level, value in codes.items()
            ],
        )
        return recorded_condition
    placed = placement(places, frozenset(codes))
    chosen = select(placed.c.record_id).where(
        *[placed.c[f"{level}_id"].in_(units_named(level, value, on=True)) for level, value in codes.items()]
    )
    condition: ColumnElement[bool] = places.id.in_(chosen)
    return condition
