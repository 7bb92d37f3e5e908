"""Imports of a spreadsheet into one resource: the per-resource declaration and the checks of
the file, row by row, before anything is written (the writing is app.kit.import_writer).

A resource that can be imported declares an `ImportSpec` beside its Resource (app/villages/
importing.py): its natural key, the columns it reads beyond those the export writes, which
columns must be there, and a resolver turning references as people write them (statistical
codes, names) into ids. The rest is generic:

* the header: each column by its code (what the CSV export writes) or its Vietnamese or English
  label (`lang=vi|en` exports); unknown columns, and required columns that are absent, are one
  422 naming them;
* the cells: each field of the resource's create schema by its kind (app.spreadsheets.cells:
  Vietnamese numbers, dd/mm/yyyy dates, enumerations by code or label, NFC text, "; " lists);
  columns the export writes for people (ids, timestamps, versions, a summary's name) are read
  and left alone;
* the record: the create schema's own rules (ranges, the rules between fields), each error
  named by the row and the column of the field it is about;
* the key: two rows with one natural key are an error of the later row.

Every problem is collected (app.spreadsheets.cells.Problems: the first 1,000 and a count) and the
file is refused as a whole while there is one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any, cast

from pydantic import BaseModel, ValidationError
from sqlalchemy import text as sql_text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import AppError, FieldError, InvalidInput
from app.core.i18n import Text, tr, validation_message
from app.kit.export import columns_of
from app.kit.registry import RegistryError
from app.kit.resource import Resource
from app.models import AdminLevel
from app.spreadsheets import cells
from app.spreadsheets.cells import CellProblem, CellValue, Problems
from app.spreadsheets.columns import Column, kind_of
from app.spreadsheets.reading import Table

# The width of each level's statistical codes: a code typed into a number cell loses its leading
# zeros ("1396" for commune 01396) and is padded back.
CODE_WIDTHS: dict[str, int] = {
    AdminLevel.province.value: 2,
    AdminLevel.district.value: 3,
    AdminLevel.commune.value: 5,
}
# Columns of an export that an import reads and leaves alone: the record's own bookkeeping.
BOOKKEEPING = frozenset({"id", "created_at", "updated_at", "version"})


@dataclass
class ImportRow:
    """One data row: its number as the spreadsheet shows it, its cells by column code, the
    create fields it gives (parsed), and whether a problem was found in it."""

    number: int
    cells: dict[str, CellValue]
    values: dict[str, Any] = field(default_factory=dict)
    bad: bool = False


@dataclass
class Rows:
    """The rows of a file being checked, the headers as the file wrote them, and the problems."""

    rows: list[ImportRow]
    headers: dict[str, str]  # column code -> the header as written in the file
    problems: Problems
    as_of: date
    # The fields the file gives (a column, or a reference resolved from another column): those an
    # update writes; the others keep their values.
    given: set[str] = field(default_factory=set)

    def header(self, code: str) -> str:
        return self.headers.get(code, code)

    def has(self, code: str) -> bool:
        return code in self.headers

    def add(self, row: ImportRow, code: str, message: Text) -> None:
        """A problem of `row` in the column `code` (its value as written)."""
        row.bad = True
        self.problems.add(
            CellProblem(row.number, self.header(code), cells.shown(row.cells.get(code)), message)
        )

    def text(self, row: ImportRow, code: str) -> str | None:
        """A text cell of the row (a reference: a code, a name), or None with a problem noted."""
        parsed = cells.check(row.number, self.header(code), row.cells.get(code), cells.parse_text)
        if isinstance(parsed, CellProblem):
            row.bad = True
            self.problems.add(parsed)
            return None
        return parsed


Resolver = Callable[[AsyncSession, Rows], Awaitable[None]]


@dataclass(frozen=True)
class KeyPart:
    """One part of a natural key: its SQL over the table (alias t), its PostgreSQL type, and how
    it is taken from a row's validated values (None: the row has no key and is always new)."""

    sql: str
    pg_type: str
    value: Callable[[Mapping[str, Any]], Any]


@dataclass(frozen=True, eq=False)  # one declaration per resource: compared (and cached) by identity
class ImportSpec:
    """How a resource is imported (see the module's text)."""

    resource: Resource[Any]
    key: tuple[KeyPart, ...]
    key_columns: tuple[str, ...]  # the columns a duplicate key is reported in (the first)
    key_description: str  # for the documentation: "commune (or district) and name"
    # Alternatives of columns that must be present: one whole group of each tuple.
    required: tuple[tuple[tuple[str, ...], ...], ...]
    # Columns read beyond the export's own (aliases of reference codes).
    extra_columns: tuple[Column, ...] = ()
    resolve: Resolver | None = None
    # The column a database rule enforced by a trigger is reported in.
    rule_columns: Mapping[str, str] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return self.resource.path


def declaration_problems(spec: ImportSpec) -> list[str]:
    """What contradicts the resource in an import declaration: columns it names that no file of
    the resource can have, rules of tables it does not write."""
    known = set(known_headers(spec).values())
    named = {c for alternatives in spec.required for group in alternatives for c in group}
    named |= set(spec.key_columns) | set(spec.rule_columns.values())
    problems = [
        f"{spec.path}: the import names the column {c!r}, which it does not read"
        for c in sorted(named - known)
    ]
    table = spec.resource.table.name
    problems.extend(
        f"{spec.path}: rule {rule!r} is not one of table {table}'s"
        for rule in spec.rule_columns
        if not rule.startswith(f"ck_{table}_")
    )
    return problems


def importers(*specs: ImportSpec) -> dict[str, ImportSpec]:
    """The import declarations by resource path; refuses (at start-up) an inconsistent one."""
    problems = [p for spec in specs for p in declaration_problems(spec)]
    problems.extend(
        f"{path}: declared twice"
        for path in {s.path for s in specs}
        if sum(s.path == path for s in specs) > 1
    )
    if problems:
        raise RegistryError(
            "the import declarations are inconsistent:\n" + "\n".join(f"  - {p}" for p in problems)
        )
    return {spec.path: spec for spec in specs}


class ImportRejected(InvalidInput):
    """A file that cannot be imported: every problem found, with row, column, value, message."""

    slug = "import-rejected"

    def __init__(self, problems: Problems) -> None:
        super().__init__(
            tr(
                "the file was not imported: {count} problems (each with its row, column and value)",
                count=problems.count,
            ),
            extra={
                "errors": [p.as_dict() for p in problems.items],
                "error_count": problems.count,
                "errors_shown": len(problems.items),
            },
        )


class ColumnsRejected(InvalidInput):
    """Columns the resource does not have, or required columns that are absent."""

    slug = "import-columns"


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


@cache
def field_columns(spec: ImportSpec) -> dict[str, Column]:
    """The create schema's plain fields as columns, by kind (embedded lists are not imported here)."""
    res = spec.resource
    found: dict[str, Column] = {}
    for name, info in res.create.model_fields.items():
        if name in res.children:
            continue
        kind, enum = kind_of(info.annotation, name)
        found[name] = Column(name, kind, enum)
    return found


@cache
def known_headers(spec: ImportSpec) -> dict[str, str]:
    """Every header the import reads (folded) -> its column code: codes and both labels."""
    known: dict[str, str] = {}
    for column in (*columns_of(spec.resource), *spec.extra_columns):
        for name in (column.code, column.vi, column.en):
            if name:
                known.setdefault(_fold(name), column.code)
    return known


def map_header(spec: ImportSpec, header: Sequence[str]) -> dict[str, str]:
    """Column code -> the header as written; 422 naming unknown columns and absent required ones."""
    known = known_headers(spec)
    mapped: dict[str, str] = {}
    unknown: list[str] = []
    for name in header:
        code = known.get(_fold(name))
        if code is None or code in mapped:
            unknown.append(name)
        else:
            mapped[code] = name
    errors = [
        FieldError(field=name, message=tr("not a column of {resource}", resource=spec.path), location="body")
        for name in unknown
    ]
    for alternatives in spec.required:
        if not any(all(code in mapped for code in group) for group in alternatives):
            wanted = tr(" or ").join(" + ".join(group) for group in alternatives)
            errors.append(
                FieldError(field=wanted, message=tr("a required column is missing"), location="body")
            )
    if errors:
        raise ColumnsRejected(
            tr(
                "the file's columns do not fit {resource}: {columns}",
                resource=spec.path,
                columns=", ".join(e.field for e in errors),
            ),
            errors=errors,
        )
    return mapped


_PARSERS: dict[str, Callable[[CellValue], Any]] = {
    "money": cells.parse_money,
    "int": cells.parse_integer,
    "date": cells.parse_date,
    "bool": cells.parse_bool,
    "text": cells.parse_text,
}


def _parser(column: Column) -> Callable[[CellValue], Any]:
    if column.kind == "float":
        return _parse_float
    if column.kind == "enum":
        enum = column.enum
        assert enum is not None
        return lambda value: _value_of(cells.parse_enum(value, enum))
    if column.kind == "list":
        if column.code.endswith("_ids"):
            return lambda value: cells.parse_list(value, _whole)
        return cells.parse_list
    return _PARSERS.get(column.kind, cells.parse_text)


def _value_of(member: Any) -> Any:
    return None if member is None else member.value


def _whole(text: str) -> int | None:
    return cells.parse_integer(text, minimum=1)


_DECIMAL = re.compile(r"[+\-\u2212]?[0-9]+(?:[.,][0-9]+)?")


def _parse_float(value: CellValue) -> float | None:
    """A decimal number (coordinates): a number cell, or text with a point or a comma."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise cells.CellError(tr("must be a number"))
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = unicodedata.normalize("NFC", value).strip()
        if not text:
            return None
        if _DECIMAL.fullmatch(text):
            return float(text.replace(",", ".").replace("\u2212", "-"))
    raise cells.CellError(tr("must be a number"))


def read_rows(spec: ImportSpec, table: Table, as_of: date) -> Rows:
    """The file's rows, each field parsed from its cell; problems noted, not raised."""
    headers = map_header(spec, table.header)
    codes = [next(c for c, h in headers.items() if h == name) for name in table.header]
    fields = field_columns(spec)
    parsers = {code: _parser(fields[code]) for code in codes if code in fields}
    rows = Rows([], headers, Problems(), as_of, {code for code in codes if code in fields})
    for raw in table.rows:
        row = ImportRow(raw.number, dict(zip(codes, raw.values, strict=False)))
        for code, parse in parsers.items():
            parsed = cells.check(row.number, headers[code], row.cells.get(code), parse)
            if isinstance(parsed, CellProblem):
                row.bad = True
                rows.problems.add(parsed)
            else:
                row.values[code] = parsed
        rows.rows.append(row)
    return rows


def _field_of(error: Mapping[str, Any], names: Sequence[str]) -> str | None:
    """The field a validation error is about: its location, or the first field its message names."""
    loc = error.get("loc") or ()
    if loc and isinstance(loc[0], str):
        return loc[0]
    message = str(error.get("msg", ""))
    mentioned = [(message.find(n), n) for n in names if n in message]
    return min(mentioned)[1] if mentioned else None


def validate(spec: ImportSpec, rows: Rows) -> None:
    """Each row's values by the create schema (defaults filled in, the rules between fields
    checked); the validated values replace the parsed ones."""
    create: type[BaseModel] = spec.resource.create
    names = list(field_columns(spec))
    for row in rows.rows:
        if row.bad:
            continue
        given = {k: v for k, v in row.values.items() if v is not None or k not in _DEFAULTED[spec]}
        try:
            model = create.model_validate(given)
        except ValidationError as error:
            for item in error.errors():
                name = _field_of(item, names) or spec.key_columns[0]
                rows.add(row, name, cast(Text, validation_message(item)))
            continue
        dumped = model.model_dump(exclude=set(spec.resource.children))
        row.values = {k: _plain(v) for k, v in dumped.items()}


class _Defaulted(dict[ImportSpec, frozenset[str]]):
    """The create fields that have a default: an empty cell gives the default, not null."""

    def __missing__(self, spec: ImportSpec) -> frozenset[str]:
        names = frozenset(
            name for name, info in spec.resource.create.model_fields.items() if not info.is_required()
        )
        self[spec] = names
        return names


_DEFAULTED = _Defaulted()


def _plain(value: Any) -> Any:
    """A value as the database driver takes it: an enumeration as its code."""
    if isinstance(value, str):
        return str(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def key_of(spec: ImportSpec, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """The row's natural key, None when a part of it is empty (the row is always new)."""
    key = tuple(part.value(values) for part in spec.key)
    return None if any(v is None for v in key) else key


def check_duplicates(spec: ImportSpec, rows: Rows) -> None:
    """Two rows of the file with one natural key: the later one is an error naming the first."""
    seen: dict[tuple[Any, ...], int] = {}
    for row in rows.rows:
        if row.bad:
            continue
        key = key_of(spec, row.values)
        if key is None:
            continue
        first = seen.setdefault(key, row.number)
        if first != row.number:
            rows.add(
                row,
                spec.key_columns[0],
                tr(
                    "row {first} has the same {key}: one row per record",
                    first=first,
                    key=spec.key_description,
                ),
            )


def refuse_if(rows: Rows) -> None:
    if rows.problems:
        raise ImportRejected(rows.problems)


def refuse_problems(problems: Problems) -> AppError:
    return ImportRejected(problems)


# References: administrative units by statistical code ---------------------------------------------


def padded(code: str, level: str) -> str:
    """A statistical code with the leading zeros a number cell dropped."""
    width = CODE_WIDTHS[level]
    return code.zfill(width) if code.isdigit() and len(code) < width else code


@dataclass(frozen=True)
class UnitField:
    """A reference to an administrative unit: its id column, its level, and the columns that
    may give its statistical code instead."""

    field: str
    level: str
    codes: tuple[str, ...]


@dataclass(frozen=True)
class _Unit:
    id: int
    code: str
    valid_from: date | None
    valid_to: date | None

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or self.valid_to >= day
        )


async def resolve_units(  # noqa: PLR0912 - one branch per way a code resolves
    session: AsyncSession, rows: Rows, fields: Sequence[UnitField]
) -> None:
    """Each unit given by code gets its id: the unit of the level with that code (padded to the
    level's width); when the code named several units over time, the one valid on `as_of`. A
    row that gives both the id and the code must give the same unit's."""
    for unit_field in fields:
        given = [code for code in unit_field.codes if rows.has(code)]
        if not given:
            continue
        wanted: dict[int, tuple[str, str]] = {}
        for index, row in enumerate(rows.rows):
            for code_column in given:
                text = rows.text(row, code_column)
                if text is not None:
                    wanted[index] = (code_column, padded(text, unit_field.level))
                    break
        rows.given.add(unit_field.field)
        codes = sorted({code for _, code in wanted.values()})
        found = await session.execute(
            sql_text(
                "SELECT id, code, valid_from, valid_to FROM admin_unit "
                "WHERE level = :level AND code = ANY(:codes)"
            ),
            {"level": unit_field.level, "codes": codes},
        )
        by_code: dict[str, list[_Unit]] = {}
        by_id: dict[int, _Unit] = {}
        for unit_id, code, start, end in found:
            unit = _Unit(unit_id, code, start, end)
            by_code.setdefault(code, []).append(unit)
            by_id[unit_id] = unit
        for index, (column, code) in wanted.items():
            row = rows.rows[index]
            candidates = by_code.get(code, [])
            if len(candidates) > 1:
                candidates = [u for u in candidates if u.valid_on(rows.as_of)]
            given_id = row.values.get(unit_field.field)
            if given_id is not None:
                if given_id not in {u.id for u in by_code.get(code, [])}:
                    rows.add(
                        row,
                        column,
                        tr(
                            "is not the code of unit {id} ({field}): give one of them, or both of one unit",
                            id=given_id,
                            field=rows.header(unit_field.field),
                        ),
                    )
                continue
            if not by_code.get(code):
                rows.add(row, column, tr("no {level} has the code {code}", level=unit_field.level, code=code))
            elif len(candidates) != 1:
                rows.add(
                    row,
                    column,
                    tr(
                        "the code {code} named several units, none or more than one of them valid on "
                        "{day}: give the unit's id, or set as_of",
                        code=code,
                        day=rows.as_of,
                    ),
                )
            else:
                row.values[unit_field.field] = candidates[0].id


async def driver(session: AsyncSession) -> Any:
    """The asyncpg connection under the session's, for COPY and the set-based statements."""
    raw = await (await session.connection()).get_raw_connection()
    return raw.driver_connection


async def check_village_ids(conn: Any, rows: Rows) -> None:
    """The rows that give `village_id`: the village exists, and has the name the row gives it in
    `village_name` (as the export writes both)."""
    by_id = [r for r in rows.rows if r.values.get("village_id") is not None]
    if not by_id:
        return
    found = dict(
        await conn.fetch(
            "SELECT id, name FROM village WHERE id = ANY($1::bigint[])",
            sorted({r.values["village_id"] for r in by_id}),
        )
    )
    for row in by_id:
        village_id = row.values["village_id"]
        name = rows.text(row, "village_name") if rows.has("village_name") else None
        if village_id not in found:
            rows.add(
                row,
                "village_id",
                tr("{resource} {id} does not exist", resource=tr("village"), id=village_id),
            )
        elif name is not None and name != found[village_id]:
            rows.add(
                row,
                "village_name",
                tr(
                    "village {id} is {name}: the id and the name disagree",
                    id=village_id,
                    name=found[village_id],
                ),
            )
