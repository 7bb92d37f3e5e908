"""The changes feed: every committed create, update and delete, in an order a consumer can follow.

The feed reads the audit trail. Each event carries the id of the transaction that wrote it
(`xact`, from pg_current_xact_id()), and the feed orders events by (xact, id). A page holds only
events of transactions numbered below the oldest transaction still running when the page is read
(pg_snapshot_xmin of the statement's snapshot, the *horizon*). Every transaction below the horizon
has ended, so its events are all visible to the page's snapshot, and no transaction that has not
yet ended can ever be numbered below it (ids are handed out in increasing order). Events held
back are therefore all after any position the feed has handed out: a cursor never passes a change
that commits later, however long its transaction ran, and a change is never served twice.

A position is (xact, id): the last event served, or (horizon, 0) when every event below the
horizon has been served. The cursor a client receives encodes the position and the moment it was
issued; a cursor issued longer ago than the retention is refused (410), because the feed promises
only that long. The trail itself is append-only and never pruned.

Each item carries the record as it stands when the page is read, rendered exactly as its item
read renders it (null once the record is gone): a consumer that applies items in order (upsert,
or delete on null) holds what the database held at that page's snapshot.
"""

from __future__ import annotations

import base64
import binascii
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Table,
    and_,
    any_,
    bindparam,
    case,
    func,
    literal_column,
    null,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, TEXT

from app.core.errors import FieldError, Gone, InvalidInput
from app.core.i18n import tr
from app.kit.reads import Connection, Plan, compile_plan, rendered
from app.kit.registry import Registry
from app.kit.resource import Resource
from app.models import AuditEvent

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
_PREFIX = "c1"
_BIGINT_MAX = 2**63 - 1
# A cursor issued later than this (the server's clock) was not issued by us.
_CLOCK_SKEW_S = 300
_EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, order=True)
class Position:
    """A place in the feed: after the event (xact, id); (horizon, 0) is "before the first event
    of transaction `horizon`", i.e. after everything that had ended."""

    xact: int
    id: int


@dataclass(frozen=True)
class Cursor:
    position: Position
    issued: int  # Unix seconds

    def encode(self) -> str:
        raw = f"{_PREFIX}.{self.position.xact}.{self.position.id}.{self.issued}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _malformed() -> InvalidInput:
    message = tr("a cursor from the `next` of an earlier answer of this feed")
    return InvalidInput(
        tr("`after` is not a cursor of this feed: pass the `next` of an earlier answer unchanged"),
        errors=[FieldError(field="after", message=message, location="query")],
    )


def decode(text: str) -> Cursor:
    """The cursor a client sent back; 422 when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _malformed() from None
    parts = raw.split(".")
    if len(parts) != 4 or parts[0] != _PREFIX or not all(p.isdigit() and len(p) < 19 for p in parts[1:]):
        raise _malformed()
    xact, event_id, issued = (int(p) for p in parts[1:])
    if issued > time.time() + _CLOCK_SKEW_S or xact > _BIGINT_MAX or event_id > _BIGINT_MAX:
        raise _malformed()
    return Cursor(Position(xact, event_id), issued)


def check_age(cursor: Cursor, retention_days: int) -> None:
    """410 for a cursor issued longer ago than the feed keeps its promise."""
    if cursor.issued < time.time() - retention_days * 86_400:
        raise Gone(
            tr(
                "this cursor was issued more than {days} days ago, longer than the changes feed is kept: "
                "resynchronise (read the lists again after taking a new cursor from "
                "GET /api/v1/changes/head) and follow the feed from that cursor",
                days=retention_days,
            )
        )


@cache
def page_plan(registry: Registry, fields: tuple[str, ...] | None = None) -> Plan:
    """One statement for every page: the horizon, the events after a position below it (of the
    resources asked for), and each event's record as it stands, in one snapshot. The horizon comes
    back even when no event does."""
    events: Table = AuditEvent.__table__  # type: ignore[assignment]
    horizon = select(
        literal_column("pg_snapshot_xmin(pg_current_snapshot())::text::bigint", BigInteger).label("xmin")
    ).cte("horizon")
    after_xact = bindparam("xact", type_=BigInteger)
    after_id = bindparam("id", type_=BigInteger)
    page = (
        select(
            events.c.id,
            events.c.xact,
            events.c.resource,
            events.c.record_id,
            events.c.action,
            events.c.version,
            events.c.at,
            events.c.request_id,
        )
        .where(
            events.c.xact < horizon.c.xmin,
            or_(events.c.xact > after_xact, and_(events.c.xact == after_xact, events.c.id > after_id)),
            events.c.resource == any_(bindparam("resources", type_=ARRAY(TEXT))),
            events.c.at >= bindparam("since"),
        )
        .order_by(events.c.xact, events.c.id)
        .limit(bindparam("limit"))
        .subquery("page")
    )
    record = case(
        *[
            (page.c.resource == res.path, rendered(res, page.c.record_id, own(res, fields)))
            for res in registry
        ],
        else_=null(),
    )
    item = func.json_build_object(
        literal_column("'resource'"),
        page.c.resource,
        literal_column("'id'"),
        page.c.record_id,
        literal_column("'action'"),
        page.c.action,
        literal_column("'version'"),
        page.c.version,
        literal_column("'at'"),
        page.c.at,
        literal_column("'request_id'"),
        page.c.request_id,
        literal_column("'record'"),
        record,
    )
    statement = (
        select(horizon.c.xmin, page.c.xact, page.c.id, item.cast(TEXT))
        .select_from(horizon.outerjoin(page, true()))
        .order_by(page.c.xact, page.c.id)
    )
    return compile_plan(statement)


@dataclass(frozen=True)
class Page:
    items: list[str]  # each item's JSON
    next: Cursor

    def body(self) -> bytes:
        return ('{"items":[' + ",".join(self.items) + '],"next":"' + self.next.encode() + '"}').encode()


async def read_page(
    conn: Connection,
    registry: Registry,
    cursor: Cursor | None,
    resources: list[str],
    limit: int,
    retention_days: int,
    fields: tuple[str, ...] | None = None,
) -> Page:
    """The events after `cursor` (from the start of the retention without one), at most `limit`."""
    if cursor is None:
        position, since = Position(0, 0), datetime.now(UTC) - timedelta(days=retention_days)
    else:
        check_age(cursor, retention_days)
        position, since = cursor.position, _EARLIEST
    plan = page_plan(registry, fields)
    values = {
        "xact": position.xact,
        "id": position.id,
        "resources": resources,
        "limit": limit,
        "since": since,
    }
    rows = await conn.fetch(plan.sql, *plan.args(values))
    horizon = int(rows[0][0])
    if position.xact > horizon:
        raise _malformed()  # no position past the horizon was ever handed out
    events = [row for row in rows if row[2] is not None]  # no event: the horizon's row alone
    items = [row[3] for row in events]
    issued = int(time.time())
    if len(items) == limit:
        last = events[-1]
        following = Position(int(last[1]), int(last[2]))
    else:
        # Everything below the horizon has been served: poll from there.
        following = max(position, Position(horizon, 0))
    return Page(items, Cursor(following, issued))


async def head(conn: Connection) -> Cursor:
    """A cursor at the horizon: what has ended is behind it, what is still running is ahead."""
    horizon = await conn.fetchval("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
    return Cursor(Position(int(horizon), 0), int(time.time()))


def own(res: Resource[Any], fields: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """Of the fields asked for, those `res` has (None: all of its fields)."""
    return None if fields is None else tuple(f for f in fields if f in res.read.model_fields)


def all_paths(registry: Registry) -> list[str]:
    return [res.path for res in registry]
