"""The read path: records rendered as JSON by PostgreSQL, over the raw asyncpg connection.

Reads are the hot path, so they skip the ORM. For each resource one SQL expression builds a
record's JSON (its columns, summaries of what it refers to, its embedded lists), exactly the
fields of its Read schema. A list's SQL depends only on which filters are present and on the
sort, so it is compiled once per such shape and then run with new values: no statement building
or compiling per request, and no Python work per row.
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

import asyncpg
from fastapi import Request
from pydantic import BaseModel
from sqlalchemy import (
    ColumnElement,
    FromClause,
    Select,
    Table,
    bindparam,
    case,
    func,
    literal_column,
    null,
    select,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import visitors

from app.core.errors import FieldError, InvalidInput
from app.core.i18n import tr
from app.kit import keyset
from app.kit.filters import filter_conditions, filter_values
from app.kit.pagination import ListParams
from app.kit.resource import Resource

DIALECT = postgresql.asyncpg.dialect()  # type: ignore[no-untyped-call]
PLAN_CACHE_SIZE = 2048


class Connection(Protocol):
    """The part of asyncpg.Connection the read path uses."""

    async def fetch(self, query: str, *args: Any) -> list[Any]: ...

    async def fetchval(self, query: str, *args: Any) -> Any: ...

    async def fetchrow(self, query: str, *args: Any) -> Any: ...


@dataclass(frozen=True)
class Plan:
    """A compiled statement: SQL with $n placeholders and the parameter name for each, and the
    tables it reads (whose data versions tag what it returns)."""

    sql: str
    names: tuple[str, ...]
    defaults: dict[str, Any]
    tables: tuple[str, ...] = ()

    def args(self, values: dict[str, Any]) -> list[Any]:
        return [values[n] if n in values else self.defaults[n] for n in self.names]


def compile_plan(statement: Select[Any]) -> Plan:
    compiled = statement.compile(dialect=DIALECT)
    defaults = {name: bind.effective_value for name, bind in compiled.binds.items()}
    # Every table the statement names, aliases, subqueries and joins included.
    tables = sorted({node.name for node in visitors.iterate(statement) if isinstance(node, Table)})
    return Plan(compiled.string, tuple(compiled.positiontup or ()), defaults, tuple(tables))


def _key(name: str) -> ColumnElement[Any]:
    return literal_column(f"'{name}'")


def _object(pairs: Sequence[tuple[str, Any]]) -> ColumnElement[Any]:
    return func.json_build_object(*[part for name, value in pairs for part in (_key(name), value)])


def _list_item_model(read: type[BaseModel], name: str) -> type[BaseModel]:
    annotation = read.model_fields[name].annotation
    item = getattr(annotation, "__args__", (None,))[0]
    assert isinstance(item, type) and issubclass(item, BaseModel), f"{read.__name__}.{name}"
    return item


Fields = tuple[str, ...] | None  # the fields of the Read schema a client asked for; None: all


@cache
def record_json(res: Resource[Any], fields: Fields = None) -> tuple[ColumnElement[Any], FromClause]:
    """The JSON of one record of `res` (as text) and the FROM clause it needs: every field of its
    Read schema, or only `fields` (then nothing else is joined or selected)."""
    table = res.model.__table__
    assert isinstance(table, Table)
    source: FromClause = table
    pairs: list[tuple[str, Any]] = []
    for name in res.read.model_fields:
        if fields is not None and name not in fields:
            continue
        if name in res.summaries:
            summary = res.summaries[name]
            target = summary.model.__table__.alias(f"summary_{name}")
            source = source.outerjoin(target, target.c.id == summary.key)
            shown = _object([(f, target.c[f]) for f in summary.fields])
            pairs.append((name, case((target.c.id.is_(None), null()), else_=shown)))
        elif name in res.children:
            child = res.children[name]
            lines = child.model.__table__
            assert isinstance(lines, Table)
            line_fields = list(_list_item_model(res.read, name).model_fields)
            line = _object([(f, lines.c[f]) for f in line_fields])
            aggregated = func.coalesce(
                func.json_agg(aggregate_order_by(line, lines.c.id)), text("'[]'::json")
            )
            pairs.append(
                (name, select(aggregated).where(lines.c[child.parent_key] == table.c.id).scalar_subquery())
            )
        else:
            pairs.append((name, table.c[name]))
    return _object(pairs), source


def _select(res: Resource[Any], *columns: Any, fields: Fields = None) -> Select[Any]:
    source = record_json(res, fields)[1]
    statement = select(*columns).select_from(source)
    return res.joins(statement) if res.joins else statement


def rendered(res: Resource[Any], record_id: ColumnElement[Any], fields: Fields = None) -> ColumnElement[Any]:
    """The JSON of the record of `res` whose id is `record_id` (a column of an enclosing query),
    exactly as its item read renders it (with these fields); null when there is no such record."""
    item, _ = record_json(res, fields)
    return _select(res, item, fields=fields).where(res.table.c.id == record_id).scalar_subquery()


@cache
def item_plan(res: Resource[Any], fields: Fields = None) -> Plan:
    item, _ = record_json(res, fields)
    table = res.table
    return compile_plan(
        _select(res, item.cast(postgresql.TEXT), table.c.version, fields=fields).where(
            table.c.id == bindparam("id")
        )
    )


@dataclass(frozen=True)
class ListPlans:
    """A list shape's compiled statements: the page (each row its JSON, the total when paging by
    offset, and the sort keys' values) and the count."""

    page: Plan
    count: Plan
    keys: tuple[keyset.Key, ...]
    signature: str


class Plans:
    """Compiled list statements by shape, least recently used dropped first."""

    def __init__(self, size: int = PLAN_CACHE_SIZE) -> None:
        self.size = size
        self.entries: OrderedDict[tuple[Any, ...], ListPlans] = OrderedDict()

    def get(
        self,
        res: Resource[Any],
        names: tuple[str, ...],
        params: ListParams,
        nulls: tuple[bool, ...] | None = None,
    ) -> ListPlans:
        """`nulls`: for a page after a cursor, which of its key values are null."""
        shape = (tuple(params.sort or ()), bool(params.q and params.q.split()), fields_of(params))
        key = (res.path, names, *shape, nulls)
        plans = self.entries.get(key)
        if plans is None:
            plans = self._build(res, names, params, nulls)
            self.entries[key] = plans
            if len(self.entries) > self.size:
                self.entries.popitem(last=False)
        else:
            self.entries.move_to_end(key)
        return plans

    @staticmethod
    def _build(
        res: Resource[Any], names: tuple[str, ...], params: ListParams, nulls: tuple[bool, ...] | None
    ) -> ListPlans:
        fields = fields_of(params)
        item, _ = record_json(res, fields)
        where = filter_conditions(res, names)
        keys = keyset.sort_keys(res, params.sort, params.q)
        key_columns = [k.expression.label(f"key_{i}") for i, k in enumerate(keys)]
        table = res.table
        if nulls is None:
            # By offset: the total rides along with the rows (one round trip). The records are
            # chosen, counted and skipped as ids and sort keys alone, and only the page's own
            # are rendered: a deep or unfiltered page neither renders nor sorts whole records.
            chosen = (
                _select(
                    res,
                    table.c.id.label("page_id"),
                    func.count().over().label("total"),
                    *key_columns,
                    fields=(),
                )
                .where(*where)
                .order_by(*keyset.order_by(keys))
                .limit(bindparam("limit"))
                .offset(bindparam("offset"))
                .subquery("page")
            )
            ordered = [keyset.Key(chosen.c[f"key_{i}"], k.descending, k.nullable) for i, k in enumerate(keys)]
            page = (
                select(
                    item.cast(postgresql.TEXT).label("item"),
                    chosen.c.total,
                    *[chosen.c[f"key_{i}"] for i in range(len(keys))],
                )
                .select_from(record_json(res, fields)[1].join(chosen, chosen.c.page_id == table.c.id))
                .order_by(*keyset.order_by(ordered))
            )
        else:
            # After a cursor: only the rows beyond it are read, so no total here (see page_body).
            page = _select(
                res,
                item.cast(postgresql.TEXT).label("item"),
                null().label("total"),
                *key_columns,
                fields=fields,
            )
            page = page.where(*where, keyset.after(keys, nulls)).order_by(*keyset.order_by(keys))
            page = page.limit(bindparam("limit"))
        count = _select(res, func.count(), fields=()).where(*where)
        signature = keyset.signature(params.sort, params.q)
        return ListPlans(compile_plan(page), compile_plan(count), tuple(keys), signature)


PLANS = Plans()


def fields_of(params: Any) -> Fields:
    """The fields a request asked for, sorted (one set, one plan; records list them in the Read
    schema's order)."""
    asked = getattr(params, "fields", None)
    if not asked:
        return None
    return tuple(sorted({str(f) for f in asked}))


async def item_body(
    conn: Connection, res: Resource[Any], record_id: int, fields: Fields = None
) -> tuple[bytes, int] | None:
    """The record's JSON (with these fields) and version, or None when there is no such record."""
    plan = item_plan(res, fields)
    row = await conn.fetchrow(plan.sql, *plan.args({"id": record_id}))
    return None if row is None else (row[0].encode(), row[1])


def tables_read(res: Resource[Any], params: ListParams) -> tuple[str, ...]:
    """The tables a list page with these parameters reads."""
    return PLANS.get(res, tuple(filter_values(res, params)), params).page.tables


@dataclass(frozen=True)
class ListPage:
    body: bytes
    total: int
    next: str | None  # the cursor after the page's last record, when more records follow


async def page_body(conn: Connection, res: Resource[Any], params: ListParams) -> ListPage:
    """One page as {"items", "total", "limit", "offset", "next"} JSON. By offset, one round trip
    unless the page is past the end (then a count); after a cursor, the page (one record more than
    asked, to know whether another follows) and the count."""
    values = filter_values(res, params)
    names = tuple(values)
    values |= {"limit": params.limit, "offset": params.offset, "q": params.q}
    if params.after is not None:
        if params.offset:
            both = tr("give after or offset, not both")
            raise InvalidInput(both, errors=[FieldError(field="after", message=both, location="query")])
        shape = PLANS.get(res, names, params)
        position = keyset.decode(params.after, shape.keys, shape.signature)
        plans = PLANS.get(res, names, params, tuple(v is None for v in position))
        values |= {f"after_{i}": v for i, v in enumerate(position)} | {"limit": params.limit + 1}
        rows = await conn.fetch(plans.page.sql, *plans.page.args(values))
        total = int(await conn.fetchval(plans.count.sql, *plans.count.args(values)))
        more = len(rows) > params.limit
        rows = rows[: params.limit]
    else:
        plans = PLANS.get(res, names, params)
        rows = await conn.fetch(plans.page.sql, *plans.page.args(values))
        if rows:
            total = int(rows[0][1])
        elif params.offset == 0:
            total = 0
        else:
            total = int(await conn.fetchval(plans.count.sql, *plans.count.args(values)))
        more = params.offset + len(rows) < total
    cursor = None
    if more and rows:
        last = rows[-1]
        cursor = keyset.encode(plans.signature, [last[2 + i] for i in range(len(plans.keys))])
    items = ",".join(row[0] for row in rows)
    tail = f'],"total":{total},"limit":{params.limit},"offset":{params.offset},"next":{json.dumps(cursor)}}}'
    return ListPage(('{"items":[' + items + tail).encode(), total, cursor)


async def read_connection(request: Request) -> AsyncIterator[Connection]:
    """A pooled connection for reads, as the raw asyncpg connection; no transaction is opened
    (each read is one statement, atomic on its own)."""
    engine: AsyncEngine = request.app.state.engine
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        try:
            yield raw.driver_connection  # type: ignore[misc]
        except BROKEN:
            # Used raw, the connection's failures bypass SQLAlchemy, which would otherwise have
            # discarded it: after a broken link or a read that did not finish, its state is
            # unknown, so it must not go back to the pool for the next request.
            await conn.invalidate()
            raise


class Opener:
    """A connection for a streamed answer (a file export), taken from the pool only when asked for
    and held until the answer has been sent: its reads run in one read-only REPEATABLE READ
    transaction, so that the data versions read first tag exactly the rows streamed after."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.held: Any = None  # the SQLAlchemy connection, once opened
        self.raw: Any = None

    async def open(self) -> Connection:
        if self.raw is None:
            self.held = await self.engine.connect()
            self.raw = (await self.held.get_raw_connection()).driver_connection
            await self.raw.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return self.raw  # type: ignore[no-any-return]

    async def close(self, broken: bool) -> None:
        if self.held is None:
            return
        try:
            if broken:
                await self.held.invalidate()
            elif self.raw.is_in_transaction():
                await self.raw.execute("ROLLBACK")
        finally:
            await self.held.close()


async def export_connection(request: Request) -> AsyncIterator[Opener]:
    """An Opener for the request, closed after its answer was sent (a request-scoped dependency)."""
    opener = Opener(request.app.state.engine)
    try:
        yield opener
    except BROKEN:
        await opener.close(broken=True)
        opener.held = None
        raise
    finally:
        await opener.close(broken=False)


# Failures after which a connection cannot be trusted: the link broke or was shut down (SQLSTATE
# classes 08 and 57P), the client gave up waiting, or a read was interrupted midway.
BROKEN = (
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.PostgresConnectionError,
    asyncpg.AdminShutdownError,
    asyncpg.CannotConnectNowError,
    asyncpg.CrashShutdownError,
    OSError,  # ConnectionError, and TimeoutError (asyncpg's command timeout)
    asyncio.CancelledError,
)
