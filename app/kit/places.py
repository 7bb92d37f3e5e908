"""Records placed in the gazetteer, checked against time: the write checks (Resource.check) of
villages, their figures, co-operatives, of the records that name a department's province
(programmes: valid in some part of their year; fairs: on some day of the fair), and of the units
themselves.

A placed record (village, co-operative) names its commune as recorded (`commune_id`, a unit of
level commune valid when its figures were taken), or only its district or its province; the units
above are derived from the most specific one given, through the parents (the trigger
place_record() of migration 0008 derives them too: these checks answer first, with a 422 naming
the field). `other_commune_ids` holds its communes at other dates, no two of them (nor one and
commune_id) valid on the same day. Every year a village has figures for needs one of its units
valid in that year (its communes when it has any, else its district, else its province), and a
co-operative one valid on founded_on; constraint triggers of migration 0008 are the backstop.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import any_, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict, FieldError, InvalidInput
from app.core.i18n import Text, tr
from app.models import (
    CODE_DIGITS,
    AdminLevel,
    AdminUnit,
    Cooperative,
    Programme,
    TradeFair,
    Village,
    VillageFigure,
)

PLACE_FIELDS = ("commune_id", "district_id", "province_id", "other_commune_ids")


@dataclass(frozen=True)
class Unit:
    id: int
    code: str
    name: str
    level: str
    parent_id: int | None
    valid_from: date | None
    valid_to: date | None

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def valid_during(self, first: date, last: date) -> bool:
        return (self.valid_from is None or self.valid_from <= last) and (
            self.valid_to is None or self.valid_to >= first
        )

    def overlaps(self, other: Unit) -> bool:
        return self.valid_during(other.valid_from or date.min, other.valid_to or date.max)

    def validity(self) -> Text:
        if self.valid_from and self.valid_to:
            return tr(
                "{unit} exists from {start} to {end}",
                unit=str(self),
                start=self.valid_from,
                end=self.valid_to,
            )
        if self.valid_from:
            return tr("{unit} exists from {start}", unit=str(self), start=self.valid_from)
        return tr("{unit} exists until {end}", unit=str(self), end=self.valid_to)


@dataclass(frozen=True)
class Place:
    """Where a record is, as it would be written: the values derived, and the units whose
    validity decides which dates it can have figures for."""

    derived: dict[str, int | None]
    units: tuple[Unit, ...]
    field: str  # the field that names those units

    def covers(self, first: date, last: date) -> bool:
        return any(u.valid_during(first, last) for u in self.units)

    def validity(self) -> Text:
        return joined(u.validity() for u in self.units)


def joined(texts: Iterable[Text]) -> Text:
    """Sentences joined by "; ", each still sayable in Vietnamese."""
    result: Text | None = None
    for text in texts:
        result = text if result is None else tr("{first}; {second}", first=result, second=text)
    assert result is not None
    return result


async def _units(session: AsyncSession, ids: Iterable[int | None]) -> dict[int, Unit]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await session.execute(
        select(
            AdminUnit.id,
            AdminUnit.code,
            AdminUnit.name,
            AdminUnit.level,
            AdminUnit.parent_id,
            AdminUnit.valid_from,
            AdminUnit.valid_to,
        ).where(AdminUnit.id.in_(wanted))
    )
    return {row.id: Unit(*row) for row in rows}


def _level_error(field: str, unit: Unit, level: str) -> FieldError | None:
    if unit.level == level:
        return None
    if level == AdminLevel.commune:
        message = tr("must be a commune: {unit} is not", unit=str(unit))
    elif level == AdminLevel.district:
        message = tr("must be a district: {unit} is not", unit=str(unit))
    else:
        message = tr("must be a province: {unit} is not", unit=str(unit))
    return FieldError(field=field, message=message, location="body")


def refuse(errors: Sequence[FieldError]) -> None:
    if errors:
        raise InvalidInput(
            tr(
                "the record's place is not valid: {fields}",
                fields=", ".join(dict.fromkeys(e.field for e in errors)),
            ),
            errors=list(errors),
        )


def _levels(units: Mapping[int, Unit], values: Mapping[str, Any], others: Sequence[int]) -> list[FieldError]:
    """Each unit given is of its field's level; each of other_commune_ids exists."""
    errors: list[FieldError] = []
    for field, level in (
        ("commune_id", AdminLevel.commune),
        ("district_id", AdminLevel.district),
        ("province_id", AdminLevel.province),
    ):
        unit_id = values.get(field)
        if unit_id is not None and unit_id in units:
            errors.extend(e for e in [_level_error(field, units[unit_id], level)] if e)
    for index, unit_id in enumerate(others):
        field = f"other_commune_ids.{index}"
        if unit_id not in units:
            message = tr("{resource} {id} does not exist", resource=tr("administrative unit"), id=unit_id)
            errors.append(FieldError(field=field, message=message, location="body"))
        else:
            errors.extend(e for e in [_level_error(field, units[unit_id], AdminLevel.commune)] if e)
    return errors


async def _derived(
    session: AsyncSession, units: Mapping[int, Unit], values: Mapping[str, Any], given: frozenset[str]
) -> tuple[dict[str, int | None], list[FieldError]]:
    """district_id and province_id derived upward from the most specific unit given (as the
    trigger derives them), and an error for each given one that disagrees."""
    commune_id, district_id = values.get("commune_id"), values.get("district_id")
    derived: dict[str, int | None] = {}
    below: Unit | None = None
    if commune_id is not None:
        below = units[commune_id]
        parent = (await _units(session, [below.parent_id])).get(below.parent_id or 0)
        if parent is not None and parent.level == AdminLevel.district:
            derived = {"district_id": parent.id, "province_id": parent.parent_id}
        elif parent is not None and parent.level == AdminLevel.province:
            derived = {"district_id": None, "province_id": parent.id}
    if not derived and district_id is not None:
        below = units[district_id]
        derived = {"province_id": below.parent_id}
    derived = {k: v for k, v in derived.items() if not (k == "province_id" and v is None)}
    errors: list[FieldError] = []
    for field, value in derived.items():
        sent = values.get(field)
        if field in given and sent is not None and sent != value:
            message = (
                tr("is not the district of {unit}: leave it out to have it derived", unit=str(below))
                if field == "district_id"
                else tr("is not the province of {unit}: leave it out to have it derived", unit=str(below))
            )
            errors.append(FieldError(field=field, message=message, location="body"))
    if "province_id" not in derived and values.get("province_id") is None:
        message = tr("give commune_id, district_id or province_id")
        errors.append(FieldError(field="commune_id", message=message, location="body"))
    return derived, errors


def _apart(communes: Sequence[Unit], others: Sequence[int]) -> list[FieldError]:
    """No commune listed twice, no two valid on the same day."""
    errors: list[FieldError] = []
    first_other = len(communes) - len(others)
    for index, unit in enumerate(communes[first_other:]):
        before = communes[: first_other + index]
        earlier = [c for c in before if c.overlaps(unit)]
        if any(c.id == unit.id for c in before):
            message = tr("lists {unit} twice (or as commune_id too)", unit=str(unit))
            errors.append(FieldError(field=f"other_commune_ids.{index}", message=message, location="body"))
        elif earlier:
            message = tr(
                "{first} and {second} are valid on the same days: a record is in one commune at a time",
                first=str(earlier[0]),
                second=str(unit),
            )
            errors.append(FieldError(field=f"other_commune_ids.{index}", message=message, location="body"))
    return errors


async def place_of(session: AsyncSession, values: Mapping[str, Any], given: frozenset[str]) -> Place:
    """The place a write leaves a record in (422 for units of the wrong level, parents that
    disagree with the unit below, communes of other_commune_ids that are absent, repeated or
    valid at the same time as another): a field counts as given when the client sent a value."""
    commune_id, district_id, province_id = (
        values.get(f) for f in ("commune_id", "district_id", "province_id")
    )
    others: list[int] = list(values.get("other_commune_ids") or [])
    if others and commune_id is None:  # the district and province come from commune_id
        message = tr(
            "other_commune_ids needs commune_id: the commune as recorded, from which the district and "
            "province are derived"
        )
        refuse([FieldError(field="other_commune_ids", message=message, location="body")])
    units = await _units(session, [commune_id, district_id, province_id, *others])
    refuse(_levels(units, values, others))
    derived, errors = await _derived(session, units, values, given)
    refuse(errors)
    communes = [units[i] for i in ([commune_id] if commune_id is not None else []) + others]
    refuse(_apart(communes, others))
    if communes:
        field, kept = ("commune_id" if commune_id is not None else "other_commune_ids"), tuple(communes)
    elif district_id is not None:
        field, kept = "district_id", (units[district_id],)
    else:
        province = province_id if province_id is not None else derived.get("province_id")
        field, kept = "province_id", tuple((await _units(session, [province])).values())
    return Place(derived, kept, field)


def _year(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


async def check_village(
    session: AsyncSession, values: Mapping[str, Any], given: frozenset[str], record_id: int | None
) -> Mapping[str, Any]:
    """A village's place, and every year it has figures for within the validity of its units."""
    place = await place_of(session, values, given)
    if record_id is not None:
        years = (
            await session.execute(
                select(VillageFigure.year)
                .where(VillageFigure.village_id == record_id)
                .order_by(VillageFigure.year)
            )
        ).scalars()
        uncovered = [y for y in years if not place.covers(*_year(y))]
        if uncovered:
            refuse(
                [
                    FieldError(
                        field=place.field,
                        message=tr(
                            "{validity}; the village has figures for {years}: add where it was then to "
                            "other_commune_ids",
                            validity=place.validity(),
                            years=", ".join(map(str, uncovered)),
                        ),
                        location="body",
                    )
                ]
            )
    return place.derived


async def check_cooperative(
    session: AsyncSession, values: Mapping[str, Any], given: frozenset[str], record_id: int | None
) -> Mapping[str, Any]:
    """A co-operative's place, and its founding day within the validity of one of its units."""
    place = await place_of(session, values, given)
    founded: date | None = values.get("founded_on")
    if founded is not None and not place.covers(founded, founded):
        field = place.field if given & set(PLACE_FIELDS) or "founded_on" not in given else "founded_on"
        refuse(
            [
                FieldError(
                    field=field,
                    message=tr(
                        "{validity}; the co-operative was founded on {day}: add where it was then to "
                        "other_commune_ids",
                        validity=place.validity(),
                        day=founded,
                    ),
                    location="body",
                )
            ]
        )
    return place.derived


async def check_village_figure(
    session: AsyncSession, values: Mapping[str, Any], given: frozenset[str], record_id: int | None
) -> Mapping[str, Any]:
    """A figure's year within the validity of one of its village's units."""
    if record_id is not None and not given & {"village_id", "year"}:
        return {}
    village = (
        await session.execute(
            select(
                Village.name,
                Village.commune_id,
                Village.district_id,
                Village.province_id,
                Village.other_commune_ids,
            ).where(Village.id == values["village_id"])
        )
    ).one()
    place = await place_of(session, dict(village._mapping), frozenset())
    year: int = values["year"]
    if not place.covers(*_year(year)):
        refuse(
            [
                FieldError(
                    field="year",
                    message=tr(
                        "{validity}; none of the units of village {village} exists in {year}: add where it "
                        "was then to its other_commune_ids first",
                        validity=place.validity(),
                        village=village.name,
                        year=year,
                    ),
                    location="body",
                )
            ]
        )
    return {}


DEPARTMENT = "department_province_id"


async def _department(
    session: AsyncSession, values: Mapping[str, Any], first: date, last: date
) -> Unit | None:
    """The record's department province (a province: 422 otherwise) when it exists in no day of
    first..last, else None."""
    unit_id = values.get(DEPARTMENT)
    unit = (await _units(session, [unit_id])).get(unit_id) if unit_id is not None else None
    if unit is None:
        return None  # none, or one the foreign key refuses
    refuse([e for e in [_level_error(DEPARTMENT, unit, AdminLevel.province)] if e])
    return None if unit.valid_during(first, last) else unit


def _dated_field(given: frozenset[str], dates: Sequence[str]) -> str:
    """The field a refusal names: the department province when the client gave it (or gave none
    of the dates), else the first date it changed."""
    if DEPARTMENT in given or not given & set(dates):
        return DEPARTMENT
    return next(d for d in dates if d in given)


async def check_programme(
    session: AsyncSession, values: Mapping[str, Any], given: frozenset[str], record_id: int | None
) -> Mapping[str, Any]:
    """A programme's department province is a province that exists in some part of its year (the
    department of Nam Định ran none in 2027; that of the new Ninh Bình, from 2025-07-01, none in
    2015). Trigger ck_programme_department_province_in_year of migration 0012 is the backstop."""
    year: int = values["year"]
    unit = await _department(session, values, *_year(year))
    if unit is not None:
        refuse(
            [
                FieldError(
                    field=_dated_field(given, ("year",)),
                    message=tr(
                        "{validity}; the programme is of {year}: give the province whose department ran "
                        "it then",
                        validity=unit.validity(),
                        year=year,
                    ),
                    location="body",
                )
            ]
        )
    return {}


async def check_trade_fair(
    session: AsyncSession, values: Mapping[str, Any], given: frozenset[str], record_id: int | None
) -> Mapping[str, Any]:
    """A fair's department province is a province that exists on some day of the fair
    (start_on..end_on). Trigger ck_trade_fair_department_province_on_dates of migration 0012 is
    the backstop."""
    start: date = values["start_on"]
    end: date = values["end_on"]
    unit = await _department(session, values, start, max(start, end))
    if unit is not None:
        refuse(
            [
                FieldError(
                    field=_dated_field(given, ("start_on", "end_on")),
                    message=tr(
                        "{validity}; the fair is held from {start} to {end}: give the province whose "
                        "department recorded it then",
                        validity=unit.validity(),
                        start=start,
                        end=end,
                    ),
                    location="body",
                )
            ]
        )
    return {}


# The level of a unit's parent: a commune's is its district (before 2025) or its province (the
# communes of 2025, when districts were gone); a district's its province; a province has none.
PARENT_LEVELS: dict[str, tuple[str, ...]] = {
    AdminLevel.commune.value: (AdminLevel.district.value, AdminLevel.province.value),
    AdminLevel.district.value: (AdminLevel.province.value,),
    AdminLevel.province.value: (),
}
# What places a record in time and space: a change to one of these would leave the records placed
# in the unit with a district, province or period that are no longer theirs.
UNIT_SHAPE = ("level", "parent_id", "valid_from", "valid_to")


def _unit_shape(level: str, code: Any, parent_id: int | None) -> None:
    """A unit's code has its level's digits (2, 3 or 5: what resolve and the code filters read)
    and a district or a commune has a parent (422 naming code, parent_id); CHECK constraints
    ck_admin_unit_code_fits_level and ck_admin_unit_parent_given of migration 0012 are the
    backstop."""
    errors: list[FieldError] = []
    digits = next((n for unit_level, n in CODE_DIGITS.items() if unit_level.value == level), None)
    if digits is not None and isinstance(code, str) and not re.fullmatch(f"[0-9]{{{digits}}}", code):
        message = tr(
            "the code of a {level} has {digits} digits, leading zeros kept (e.g. {example}): {code} has not",
            level=level,
            digits=digits,
            example=CODE_EXAMPLES[digits],
            code=repr(code),
        )
        errors.append(FieldError(field="code", message=message, location="body"))
    if level in PARENT_NEEDED and parent_id is None:
        message = tr("a {level} needs parent_id: the unit one level up that it belongs to", level=level)
        errors.append(FieldError(field="parent_id", message=message, location="body"))
    if errors:
        raise InvalidInput(
            tr(
                "the administrative unit is not valid: {fields}",
                fields=", ".join(e.field for e in errors),
            ),
            errors=errors,
        )


CODE_EXAMPLES = {2: "36", 3: "358", 5: "13777"}
PARENT_NEEDED = (AdminLevel.district.value, AdminLevel.commune.value)


async def check_admin_unit(
    session: AsyncSession, values: Mapping[str, Any], given: frozenset[str], record_id: int | None
) -> Mapping[str, Any]:
    """A unit's code fits its level and a district or commune has a parent (_unit_shape); its
    parent is one level up (422 naming parent_id); and the level, parent and period of
    a unit that records are placed in do not change over the API (409): the records' derived
    district and province, and the years their figures are checked against, rest on them."""
    level = str(getattr(values.get("level"), "value", values.get("level")))
    parent_id = values.get("parent_id")
    _unit_shape(level, values.get("code"), parent_id)
    if parent_id is not None and parent_id == record_id:
        return {}  # its own parent: the database's rule refuses it, with its own message (422)
    if parent_id is not None and given & {"parent_id", "level"}:
        parent = (await _units(session, [parent_id])).get(parent_id)
        allowed = PARENT_LEVELS.get(level, ())
        if parent is not None and parent.level not in allowed:
            message = tr(
                "the parent of a {level} must be of level {allowed}, not {found}",
                level=level,
                allowed=" or ".join(allowed) or "none",
                found=parent.level,
            )
            raise InvalidInput(
                message, errors=[FieldError(field="parent_id", message=message, location="body")]
            )
    if record_id is None or not given & set(UNIT_SHAPE):
        return {}
    current = (
        await session.execute(
            select(AdminUnit.level, AdminUnit.parent_id, AdminUnit.valid_from, AdminUnit.valid_to).where(
                AdminUnit.id == record_id
            )
        )
    ).one()
    changed = [
        f
        for f in UNIT_SHAPE
        if f in given and getattr(values.get(f), "value", values.get(f)) != getattr(current, f)
    ]
    if changed and (placed := await _placed_in(session, record_id)):
        raise Conflict(
            tr(
                "{records} records are placed in this unit, so its {fields} cannot change here: "
                "correct the official list and load it (python -m app places load, then places match)",
                records=placed,
                fields=", ".join(changed),
            )
        )
    return {}


async def _placed_in(session: AsyncSession, unit_id: int) -> int:
    """How many villages and co-operatives name the unit as a place (recorded or at another date),
    and programmes and fairs as their department's province (checked against its period too)."""
    total = 0
    for department in (Programme, TradeFair):
        total += (
            await session.execute(
                select(func.count())
                .select_from(department)
                .where(department.department_province_id == unit_id)
            )
        ).scalar_one()
    for model in (Village, Cooperative):
        total += (
            await session.execute(
                select(func.count())
                .select_from(model)
                .where(
                    or_(
                        model.commune_id == unit_id,
                        model.district_id == unit_id,
                        model.province_id == unit_id,
                        literal(unit_id) == any_(model.other_commune_ids),
                    )
                )
            )
        ).scalar_one()
    return total
