"""Illustrative Nam Định sample data that reproduces the source report's 2015 figures exactly.

Source: the Nam Định Department of Industry and Trade's report on 2015 (17 May 2016). Six villages
are real (name, commune, district and craft as published, is_illustrative false); every other
village is invented and flagged is_illustrative. All yearly figures, recognition dates,
co-operatives, programmes and fair details are illustrative; only their 2015 totals and counts are
the report's: 98 villages (11 agro-processing, 51 manufacturing, 36 handicraft), 51 of them
recognised; 44,350 workers ("over 44,000") and 4,100,000,000,000 VND of production; 32 co-operatives
active (20 textile and garment, 4 mechanical, 8 others); 20 industrial-extension programmes with
4,340,000,000 VND of public money; 11 trade-promotion programmes costing 821,500,000 VND (8 fairs
attended, the province's own fair of 320 booths, a trade conference in Lào Cai, a conference on
free-trade agreements).

The places are the national gazetteer's (app/admin_units/gazetteer.py), loaded first in the same
transaction. Each record has a natural key. Loading inserts the records whose key is absent and
never updates a row, so loading twice changes nothing.

The data files
--------------
One file per resource, beside its declaration, named after its API path: app/villages,
app/village_figures, app/cooperatives, app/programmes, app/trade_fairs, each holding
sample.csv; loaded in that order, each after the records it refers to. UTF-8 without byte-order
mark, CSV as Python's csv module reads and writes it (RFC 4180 quoting; LF line ends, though CRLF
reads as well), a header row of column codes, then one record per row. CSV has no comments: the
format is described here.

Columns are the fields of the resource's create body (POST /api/v1/<path>) under their API names,
in the same order, with three changes:

- A reference ``<x>_id`` becomes a column ``<x>`` naming the record instead of giving its id: an
  administrative unit by its statistical code (``district`` 362), among the gazetteer's units
  valid on 2015-12-31 (the sample describes Nam Định as the 2015 report saw it: ten districts,
  Mỹ Lộc among them), a commune in ``commune_code`` (13966: a village's ``commune`` is the
  commune's name as reported), a province in ``department_province`` (36); a village by
  ``<district code>/<name>`` (362/Vân Chàng); a co-operative by
  its registration code (0600100000); a programme by ``<year>/<name>`` (2015/Tổ chức Hội chợ ...).
  Any other reference resolves among the records of the sample files only. A record whose 2015
  commune the gazetteer does not hold (Yên Xá, merged into another before 2024 on a day not
  recorded) or is not known (a co-operative with no village) has an empty ``commune_code``: it
  is placed in its district, and ``python -m app places unplaced`` lists it.
- Programme funding lines become one column per funding source, ``funding_central_vnd``,
  ``funding_provincial_vnd``, ``funding_district_vnd``, ``funding_commune_vnd``,
  ``funding_counterpart_vnd``, ``funding_other_vnd``: the amount of that source's line, an empty
  cell for no line. Lines are written in this order.
- Programme beneficiaries and trade-fair participants are one cell each, items separated by "; ",
  an item being ``village:<reference>`` or ``cooperative:<reference>``; a participant's item ends
  in ``*<booths>``: ``village:362/Vân Chàng*2; cooperative:0600100000*1``.

Values: enumerations by their codes (GET /api/v1/meta/enums); dates YYYY-MM-DD; money in whole
đồng, digits only; counts and years digits only; booleans ``true`` or ``false``; coordinates as
decimal degrees; a list of texts (a village's ``crafts``) joined with "; ", so no item may
contain "; ". An empty cell leaves the field out and the create body's default applies: null for
an optional field, an empty list for a list. Every row is then checked by the resource's create
schema, as a request body would be.

Natural keys (a row whose key is already in the database is skipped): villages (district, name);
village figures (village, year); co-operatives (registration_code); programmes (year, name); trade
fairs (name, start_on). Editing a row changes
no database that already holds its key: the loader adds, it never updates.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Column, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from app.admin_units.gazetteer import load_gazetteer
from app.core.settings import async_url
from app.kit import versioning
from app.kit.resource import Child, Resource, table_of
from app.kit.service import new_record
from app.models import AdminUnit, FundingSource, Village
from app.registry import REGISTRY

# Any fixed number: the key of the advisory lock that serialises concurrent loaders.
_LOCK_KEY = 3_620_150_517

LIST_SEPARATOR = "; "
REFERENCE_SEPARATOR = "/"
BOOTHS_SEPARATOR = "*"
# The one embedded list flattened into columns, one per funding source, instead of one cell.
FUNDING = "funding"
FUNDING_COLUMNS: Mapping[str, FundingSource] = {f"{FUNDING}_{s.value}_vnd": s for s in FundingSource}
# Reference columns named otherwise than <x> for <x>_id: a village's `commune` is the commune's
# name as reported, so its commune_id is given by code in `commune_code` (and so is a co-operative's).
REFERENCES: Mapping[str, str] = {"commune_code": "commune_id"}
_WHOLE = re.compile(r"-?[0-9]+")
_BOOLEAN = {"true": True, "false": False}

Row = dict[str, str]


class SampleError(ValueError):
    """A data file that cannot be loaded as it stands: the message names the file and the row."""


@dataclass(frozen=True)
class Sample:
    """One resource's data file and the columns that name its records."""

    path: str  # the resource's API path
    key: tuple[str, ...]  # natural key
    reference: tuple[str, ...] = ()  # how other files name a record, joined by "/"; default the key

    @property
    def resource(self) -> Resource[Any]:
        return REGISTRY.by_path[self.path]

    @property
    def file(self) -> Traversable:
        return resources.files("app").joinpath(self.path.replace("-", "_"), "sample.csv")

    def read(self) -> list[Row]:
        # Bytes, not text mode: line ends inside a quoted cell are the csv module's to read.
        reader = csv.DictReader(io.StringIO(self.file.read_bytes().decode("utf-8"), newline=""), strict=True)
        rows: list[Row] = []
        for row in reader:
            # DictReader files surplus cells under None and fills missing ones with None.
            if None in row or None in row.values():
                raise SampleError(f"{self.file} line {reader.line_num}: not as many cells as columns")
            rows.append(row)
        return rows

    def key_of(self, row: Row) -> tuple[str, ...]:
        return tuple(row[c] for c in self.key)

    def reference_of(self, row: Row) -> str:
        return REFERENCE_SEPARATOR.join(row[c] for c in self.reference or self.key)


# The day whose administrative units the sample files' codes name.
PLACES_ON = date(2015, 12, 31)

# In dependency order: a file refers only to the ones before it.
SAMPLES: tuple[Sample, ...] = (
    Sample("villages", key=("district", "name")),
    Sample("village-figures", key=("village", "year")),
    Sample("cooperatives", key=("registration_code",)),
    Sample("programmes", key=("year", "name")),
    Sample("trade-fairs", key=("name", "start_on")),
)


class _Unresolved(Exception):
    """A reference to a record that is not loaded yet, or not in the sample data at all."""


def _whole(text: str) -> int:
    # int() alone would take "1_000" and " 12"; money stays digits, and never goes through float.
    if not _WHOLE.fullmatch(text):
        raise SampleError(f"{text!r} is not a whole number")
    return int(text)


def _value(column: Column[Any], text: str) -> object:
    """A cell as the create schema takes it: numbers and flags typed, dates and codes as text."""
    kind = column.type.python_type
    if kind is bool:
        if text not in _BOOLEAN:
            raise SampleError(f"{column.name}: {text!r} is neither true nor false")
        return _BOOLEAN[text]
    if kind is int:
        return _whole(text)
    if kind is float:
        return float(text)
    if kind is list:
        return text.split(LIST_SEPARATOR)
    return text


def _target(column: Column[Any]) -> str:
    """The table a reference column points at."""
    (foreign_key,) = column.foreign_keys
    return foreign_key.column.table.name


class _Loader:
    """Inserts what is absent, file by file, remembering every record's id by its reference."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.added = 0
        self.present = 0
        self.ids: dict[str, dict[str, int]] = {}  # table -> reference -> id

    def resolve(self, table: str, reference: str) -> int:
        try:
            return self.ids[table][reference]
        except KeyError:
            raise _Unresolved(f"{table.replace('_', ' ')} {reference!r}") from None

    def line(self, child: Child, item: str) -> dict[str, object]:
        """One item of a list cell: village:362/Vân Chàng*2."""
        target, colon, reference = item.partition(":")
        column = table_of(child.model).c.get(f"{target}_id")
        if not colon or column is None:
            raise SampleError(f"{item!r} does not start with village: or cooperative:")
        line: dict[str, object] = {}
        if BOOTHS_SEPARATOR in reference:
            reference, _, booths = reference.rpartition(BOOTHS_SEPARATOR)
            line["booths"] = _whole(booths)
        line[column.name] = self.resolve(_target(column), reference)
        return line

    def body(self, res: Resource[Any], row: Row) -> dict[str, object]:
        """The row as a create body, references resolved to ids; empty cells left out."""
        body: dict[str, object] = {}
        funding: list[dict[str, object]] = []
        fields = res.create.model_fields
        for column, text in row.items():
            if column in FUNDING_COLUMNS and FUNDING in res.children:
                if text:
                    funding.append({"source": FUNDING_COLUMNS[column], "amount_vnd": _whole(text)})
            elif (reference := REFERENCES.get(column, f"{column}_id")) in fields and column not in fields:
                if text:
                    body[reference] = self.resolve(_target(res.table.c[reference]), text)
            elif column in res.children and column != FUNDING:
                if text:
                    body[column] = [self.line(res.children[column], i) for i in text.split(LIST_SEPARATOR)]
            elif column in fields and not column.endswith("_id") and column in res.table.c:
                if text:
                    body[column] = _value(res.table.c[column], text)
            else:
                raise SampleError(f"unknown column {column!r}")
        if funding:
            body[FUNDING] = funding
        return body

    async def load(self, sample: Sample) -> None:
        rows = sample.read()
        for what, name in ((sample.key_of, "natural keys"), (sample.reference_of, "references")):
            repeated = [k for k, n in Counter(map(what, rows)).items() if n > 1]
            if repeated:
                raise SampleError(f"{sample.file}: repeated {name}: {repeated}")
        references = self.ids.setdefault(sample.resource.table.name, {})
        pending = list(enumerate(rows, start=1))
        # Passes: a record whose parent is in the same file waits until its parent is in.
        while pending:
            ready: list[tuple[Row, dict[str, Any]]] = []
            waiting: list[tuple[int, Row]] = []
            unresolved = ""
            for number, row in pending:
                try:
                    body = self.body(sample.resource, row)
                    values = sample.resource.create.model_validate(body).model_dump()
                except _Unresolved as e:
                    waiting.append((number, row))
                    unresolved = unresolved or f"row {number} refers to {e}, not in the sample data"
                    continue
                except (SampleError, ValidationError) as e:
                    raise SampleError(f"{sample.file} row {number}: {e}") from e
                ready.append((row, values))
            if not ready:
                raise SampleError(f"{sample.file} {unresolved}")
            ids = await self.add_missing(sample, [values for _, values in ready])
            references.update((sample.reference_of(row), i) for (row, _), i in zip(ready, ids, strict=True))
            pending = waiting

    async def add_missing(self, sample: Sample, records: Sequence[dict[str, Any]]) -> list[int]:
        """Insert the records whose natural key is absent; return every record's id, in order."""
        res = sample.resource
        fields = res.create.model_fields
        key_fields = [f"{c}_id" if f"{c}_id" in fields else c for c in sample.key]
        wanted = {tuple(values[f] for f in key_fields): values for values in records}
        if len(wanted) != len(records):
            raise SampleError(f"{sample.file}: natural keys repeated once normalised")
        # Filter on the first key column only and compare whole keys here: a NULL in a key
        # (admin_unit.valid_from) never equals anything in SQL.
        columns = [res.table.c[f] for f in key_fields]
        rows = await self.session.execute(
            select(res.table.c.id, *columns).where(columns[0].in_({k[0] for k in wanted}))
        )
        ids: dict[tuple[object, ...], int] = {tuple(row[1:]): row[0] for row in rows}
        new = [(k, new_record(res, values)) for k, values in wanted.items() if k not in ids]
        self.session.add_all(record for _, record in new)
        # Children added by cascade (funding lines, participants) are new records too.
        self.added += len(self.session.new)
        self.present += len(wanted) - len(new)
        await self.session.flush()
        ids.update((k, record.id) for k, record in new)
        return [ids[k] for k in wanted]


async def _places(session: AsyncSession) -> dict[str, int]:
    """The id of each administrative unit valid on PLACES_ON, by its code."""
    valid = and_(
        or_(AdminUnit.valid_from.is_(None), AdminUnit.valid_from <= PLACES_ON),
        or_(AdminUnit.valid_to.is_(None), AdminUnit.valid_to >= PLACES_ON),
    )
    rows = await session.execute(select(AdminUnit.code, AdminUnit.id).where(valid))
    return {code: unit_id for code, unit_id in rows.all()}


async def load_sample_data(url: str, *, only_if_empty: bool) -> str:
    """Load the gazetteer, then the sample data, in one transaction, adding only what is absent;
    return a report of each, one line apiece."""
    # The load bumps the data versions like any other write.
    versioning.install(REGISTRY.tracked_tables)
    engine = create_async_engine(async_url(url), poolclass=NullPool)
    try:
        async with AsyncSession(engine, autoflush=False) as session, session.begin():
            # Two loaders at once (two `serve --seed-if-empty`) would both find a key absent.
            await session.execute(select(func.pg_advisory_xact_lock(_LOCK_KEY)))
            places = await load_gazetteer(session)
            if only_if_empty and await session.scalar(select(Village.id).limit(1)) is not None:
                return f"{places}\nsample data: not loaded, the database already holds villages"
            loader = _Loader(session)
            loader.ids[AdminUnit.__tablename__] = await _places(session)
            for sample in SAMPLES:
                await loader.load(sample)
        return f"{places}\nsample data: {loader.added} records added, {loader.present} already present"
    finally:
        await engine.dispose()
