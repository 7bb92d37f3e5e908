"""File exports of a list: every record the filters select, as CSV, XLSX or (for a resource with
coordinates) GeoJSON, in the list's order, streamed.

A list's filters, sort, search, `fields`, `after`, `offset` and (only when given) `limit` apply;
there is no page size. The rows come from a server-side cursor, a chunk at a time, inside one
REPEATABLE READ, read-only transaction whose data versions make the strong ETag: the body is
never held whole (an XLSX file is built on disk, in constant memory, then sent). CSV lines are
written by PostgreSQL itself (app.spreadsheets.csvline); the columns are described in
app.spreadsheets.columns.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import tempfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, Literal

from fastapi import Request
from pydantic import BaseModel
from sqlalchemy import (
    FromClause,
    Select,
    String,
    bindparam,
    case,
    func,
    literal_column,
    null,
    select,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import aggregate_order_by
from starlette.responses import Response, StreamingResponse

from app.core.errors import FieldError, InvalidInput
from app.core.i18n import tr
from app.kit import keyset, reads, versioning
from app.kit.etags import etag_matches
from app.kit.filters import filter_conditions, filter_values
from app.kit.pagination import ListParams, public_link
from app.kit.resource import Resource, table_of
from app.spreadsheets import csvline
from app.spreadsheets.columns import Column, Lang, kind_of
from app.spreadsheets.formats import MEDIA_TYPES, Format, content_disposition
from app.spreadsheets.headers import about_name, about_note, label, part_label, pivot_label
from app.spreadsheets.xlsx import XlsxFile

# Part of every export's ETag: bump it when the layout of the files changes.
EXPORT_FORMAT = "export-v1"
CHUNK_ROWS = 2000
FILE_CHUNK_BYTES = 256 * 1024
Mode = Literal["csv", "typed", "geojson"]
CSV_MEDIA_TYPE = "text/csv; charset=utf-8; header=present"


@dataclass(frozen=True)
class Spec:
    """One column of an export and the SQL expression of its value."""

    column: Column
    expression: Any


def _line_model(read: type[BaseModel], name: str) -> type[BaseModel]:
    annotation = read.model_fields[name].annotation
    item = getattr(annotation, "__args__", (None,))[0]
    assert isinstance(item, type) and issubclass(item, BaseModel), f"{read.__name__}.{name}"
    return item


@cache
def export_specs(res: Resource[Any], fields: reads.Fields = None) -> tuple[tuple[Spec, ...], FromClause]:
    """The columns of `res` in a file (those of `fields` only) and the FROM clause they need."""
    table = res.table
    source: FromClause = table
    specs: list[Spec] = []
    for name, info in res.read.model_fields.items():
        if fields is not None and name not in fields:
            continue
        if name in res.summaries:
            summary = res.summaries[name]
            target = table_of(summary.model).alias(f"export_{name}")
            source = source.outerjoin(target, target.c.id == summary.key)
            for part in summary.fields:
                if part != "id":  # the record's own <x>_id column holds it
                    vi, en = part_label(name, part)
                    specs.append(Spec(Column(f"{name}_{part}", "text", vi=vi, en=en), target.c[part]))
        elif name in res.children:
            specs.extend(_child_specs(res, name))
        else:
            kind, enum = kind_of(info.annotation, name)
            vi, en = label(name)
            specs.append(Spec(Column(name, kind, enum, vi, en), table.c[name]))
    return tuple(specs), source


def _child_specs(res: Resource[Any], name: str) -> list[Spec]:
    child = res.children[name]
    lines = table_of(child.model)
    parent = lines.c[child.parent_key] == res.table.c.id
    model = _line_model(res.read, name)
    if child.pivot is not None:
        key, value = child.pivot
        _, enum = kind_of(model.model_fields[key].annotation, key)
        assert enum is not None, f"{res.path}.{name}: the pivot key must be an enumeration"
        suffix = value.rsplit("_", 1)[-1]
        specs = []
        for member in enum:
            total = select(func.sum(lines.c[value])).where(parent, lines.c[key] == member.value)
            vi, en = pivot_label(name, member)
            column = Column(f"{name}_{member.value}_{suffix}", "money", vi=vi, en=en)
            specs.append(Spec(column, total.scalar_subquery()))
        return specs
    parts = [
        literal_column(f"'{field}='", String) + lines.c[field].cast(String)
        for field in model.model_fields
        if field != "id"
    ]
    joined = func.string_agg(
        func.concat_ws(", ", *parts), aggregate_order_by(literal_column("'; '"), lines.c.id)
    )
    vi, en = label(name)
    return [Spec(Column(name, "text", vi=vi, en=en), select(joined).where(parent).scalar_subquery())]


def columns_of(res: Resource[Any], fields: reads.Fields = None) -> tuple[Column, ...]:
    return tuple(spec.column for spec in export_specs(res, fields)[0])


@dataclass(frozen=True)
class ExportPlan:
    plan: reads.Plan
    columns: tuple[Column, ...]


@cache
def export_plan(
    res: Resource[Any],
    names: tuple[str, ...],
    sort: tuple[str, ...],
    search: bool,
    fields: reads.Fields,
    lang: Lang | None,
    mode: Mode,
    nulls: tuple[bool, ...] | None,
    limited: bool,
) -> ExportPlan:
    """The compiled statement of an export of this shape (values are bound parameters)."""
    specs, source = export_specs(res, fields)
    keys = keyset.sort_keys(res, list(sort) or None, "q" if search else None)
    if mode == "csv":
        columns: list[Any] = [csvline.line([csvline.field(s.expression, s.column, lang) for s in specs])]
    elif mode == "typed":
        columns = [s.expression.label(f"c{i}") for i, s in enumerate(specs)]
    else:
        assert res.geometry is not None
        item, source = reads.record_json(res, fields)
        longitude, latitude = res.geometry
        feature = func.json_build_object(
            literal_column("'type'"),
            literal_column("'Feature'"),
            literal_column("'id'"),
            res.table.c.id,
            literal_column("'geometry'"),
            func.json_build_object(
                literal_column("'type'"),
                literal_column("'Point'"),
                literal_column("'coordinates'"),
                func.json_build_array(longitude, latitude),
            ),
            literal_column("'properties'"),
            item,
        )
        columns = [
            case(
                (longitude.is_(None) | latitude.is_(None), null()), else_=feature.cast(postgresql.TEXT)
            ).label("feature")
        ]
    statement: Select[Any] = select(*columns).select_from(source)
    if res.joins is not None:
        statement = res.joins(statement)
    statement = statement.where(*filter_conditions(res, names))
    if nulls is not None:
        statement = statement.where(keyset.after(keys, nulls))
    statement = statement.order_by(*keyset.order_by(keys))
    if limited:
        statement = statement.limit(bindparam("limit"))
    statement = statement.offset(bindparam("offset"))
    return ExportPlan(reads.compile_plan(statement), tuple(s.column for s in specs))


def _plan_and_args(res: Resource[Any], params: ListParams, mode: Mode) -> tuple[ExportPlan, list[Any]]:
    values = filter_values(res, params)
    names = tuple(values)
    values |= {"limit": params.limit, "offset": params.offset, "q": params.q}
    sort = tuple(str(s) for s in params.sort or ())
    search = bool(params.q and params.q.split())
    fields = reads.fields_of(params)
    lang: Lang | None = getattr(params, "lang", None)
    limited = "limit" in params.model_fields_set
    nulls = None
    if params.after is not None:
        if params.offset:
            both = tr("give after or offset, not both")
            raise InvalidInput(both, errors=[FieldError(field="after", message=both, location="query")])
        keys = keyset.sort_keys(res, list(sort) or None, params.q)
        position = keyset.decode(params.after, keys, keyset.signature(list(sort) or None, params.q))
        nulls = tuple(v is None for v in position)
        values |= {f"after_{i}": v for i, v in enumerate(position)}
    plan = export_plan(res, names, sort, search, fields, lang, mode, nulls, limited)
    return plan, plan.plan.args(values)


_CHANGED_SQL = "SELECT max(changed_at) FROM data_version WHERE resource = ANY($1::text[])"


def strong_etag(*parts: str) -> str:
    """A strong entity tag: the same parts, the same bytes."""
    digest = hashlib.blake2b("|".join(parts).encode(), digest_size=16).hexdigest()
    return f'"{digest}"'


async def export_response(
    request: Request, conn: reads.Connection, res: Resource[Any], params: ListParams, fmt: Format
) -> Response:
    """The whole list as a file in `fmt`, or 304 while the client's copy (If-None-Match) is current."""
    mode: Mode = "csv" if fmt == Format.csv else "geojson" if fmt == Format.geojson else "typed"
    export, args = _plan_and_args(res, params, mode)
    tables = export.plan.tables
    tag = await versioning.data_tag(conn, tables)
    canonical = json.dumps(
        params.model_dump(mode="json", exclude_none=True, exclude={"format"}), sort_keys=True
    )
    etag = strong_etag(EXPORT_FORMAT, res.path, canonical, fmt.value, tag)
    headers = {"ETag": etag, "Cache-Control": "no-cache", "Vary": "Accept"}
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    headers["Content-Disposition"] = content_disposition(res.path, fmt)
    changed: datetime | None = await conn.fetchval(_CHANGED_SQL, list(tables))
    # Opened before answering: a statement the database refuses is still a problem answer.
    cursor = await conn.cursor(export.plan.sql, *args)  # type: ignore[attr-defined]
    if fmt == Format.csv:
        body = _csv_body(cursor, export.columns, params.lang)
        return StreamingResponse(body, media_type=CSV_MEDIA_TYPE, headers=headers)
    if fmt == Format.geojson:
        return StreamingResponse(_geojson_body(cursor), media_type=MEDIA_TYPES[fmt], headers=headers)
    query = request.url.query
    about = About(
        source=public_link(request, request.scope.get("root_path", "") + request.url.path, query),
        query=query,
        changed_at=changed,
        tag=tag,
        lang=params.lang,
    )
    body = _xlsx_body(cursor, export.columns, about)
    return StreamingResponse(body, media_type=MEDIA_TYPES[fmt], headers=headers)


async def _chunks(cursor: Any) -> AsyncIterator[list[Any]]:
    """The rows of the export, CHUNK_ROWS at a time, from a server-side cursor."""
    while True:
        rows: list[Any] = await cursor.fetch(CHUNK_ROWS)
        if not rows:
            return
        yield rows


async def _csv_body(cursor: Any, columns: Sequence[Column], lang: Lang | None) -> AsyncIterator[bytes]:
    yield csvline.header(columns, lang).encode()
    async for rows in _chunks(cursor):
        yield "".join([row[0] for row in rows]).encode()


async def _geojson_body(cursor: Any) -> AsyncIterator[bytes]:
    yield b'{"type":"FeatureCollection","features":['
    left_out = 0
    first = True
    async for rows in _chunks(cursor):
        features = [row[0] for row in rows if row[0] is not None]
        left_out += len(rows) - len(features)
        if features:
            yield (("" if first else ",") + ",".join(features)).encode()
            first = False
    yield f'],"excluded_without_coordinates":{left_out}}}'.encode()


@dataclass(frozen=True)
class About:
    """What the about sheet of an XLSX file says."""

    source: str
    query: str
    changed_at: datetime | None
    tag: str
    lang: Lang | None


def about_rows(about: About, rows: int, big_numbers: int) -> list[tuple[str, str]]:
    lang = about.lang
    changed = about.changed_at.astimezone(UTC).isoformat() if about.changed_at else ""
    lines = [
        (about_name("source", lang), about.source),
        (about_name("query", lang), about.query),
        (about_name("data_as_of", lang), changed),
        (about_name("data_version", lang), about.tag),
        (about_name("rows", lang), str(rows)),
        (about_name("times", lang), about_note("times", lang)),
    ]
    if big_numbers:
        lines.append((about_name("big_numbers", lang), about_note("big_numbers", lang, count=big_numbers)))
    return lines


async def _xlsx_body(cursor: Any, columns: Sequence[Column], about: About) -> AsyncIterator[bytes]:
    with tempfile.TemporaryDirectory(prefix="export-") as folder:
        path = os.path.join(folder, "export.xlsx")
        book = await asyncio.to_thread(XlsxFile, path, columns, about.lang, about.changed_at)
        async for rows in _chunks(cursor):
            # The workbook is written by a worker thread: the event loop serves other requests.
            await asyncio.to_thread(book.write_rows, rows)
        await asyncio.to_thread(book.close, about_rows(about, book.row, book.texts_for_big_numbers))
        async for chunk in file_chunks(path):
            yield chunk


async def file_chunks(path: str) -> AsyncIterator[bytes]:
    """A file's bytes, a chunk at a time (read by a worker thread)."""
    with open(path, "rb") as handle:  # noqa: ASYNC230 - read in a thread below
        while chunk := await asyncio.to_thread(handle.read, FILE_CHUNK_BYTES):
            yield chunk
