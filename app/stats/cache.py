"""Answer statistics from cache while the data they depend on is unchanged.

A response's tag lists the data_version counters of the tables it depends on, read in the same
REPEATABLE READ snapshot as the aggregate, so tag and body always agree. The ETag is a hash of
the request and the tag: it changes when, and only when, one of those tables changes.

Bodies are kept in stats_cache (shared by every worker process) and, in front of it, in a small
per-process LRU. One round trip reads the tag and, only when this process lacks it, the body.
`If-None-Match` with the current ETag answers 304; `Cache-Control: no-cache` recomputes.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from sqlalchemy import Row, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from starlette.responses import Response

from app.core.db import longer_client_timeout
from app.core.errors import Unavailable
from app.core.i18n import tr
from app.core.settings import get_settings
from app.kit.etags import etag_matches

# Part of every ETag and cache key: bump it when the statistics' definitions, layout or the
# reading of their parameters change (v2: repeated group_by values are all honoured).
FORMAT = "stats-v2"
MEMORY_ENTRIES = 512
RENDERING = frozenset({"format", "lang"})

_LOOKUP = text(
    """
    WITH current AS (
        SELECT coalesce(string_agg(resource || ':' || version, ',' ORDER BY resource), '') AS tag
          FROM data_version
         WHERE resource = ANY(CAST(:depends_on AS text[]))
    )
    SELECT current.tag, cache.body
      FROM current
      LEFT JOIN stats_cache AS cache
        ON cache.key = :key AND cache.tag = current.tag AND current.tag IS DISTINCT FROM :known
    """
)
_STORE = text(
    """
    INSERT INTO stats_cache (key, tag, body) VALUES (:key, :tag, :body)
    ON CONFLICT (key) DO UPDATE SET tag = excluded.tag, body = excluded.body, computed_at = now()
    """
)


@dataclass(frozen=True)
class Entry:
    tag: str
    body: bytes


class Memory:
    """A small LRU of response bodies for this process."""

    def __init__(self, size: int = MEMORY_ENTRIES) -> None:
        self.size = size
        self.entries: OrderedDict[str, Entry] = OrderedDict()

    def get(self, key: str) -> Entry | None:
        entry = self.entries.get(key)
        if entry is not None:
            self.entries.move_to_end(key)
        return entry

    def put(self, key: str, entry: Entry) -> None:
        self.entries[key] = entry
        self.entries.move_to_end(key)
        while len(self.entries) > self.size:
            self.entries.popitem(last=False)


def request_key(request: Request) -> str:
    """The format, the path and the query parameters in a canonical order, encoded again so that
    a value holding '&' or '=' cannot pass for other parameters. Parameters are sorted by name
    only: the values of a repeated one keep their order, which matters for group_by
    (group_by=year&group_by=kind is not group_by=kind&group_by=year). The format keeps bodies
    stored under an earlier definition from being served."""
    # `format` and `lang` choose a rendering of the same body, not another body.
    pairs = sorted(
        (pair for pair in request.query_params.multi_items() if pair[0] not in RENDERING),
        key=lambda pair: pair[0],
    )
    return f"{FORMAT}|{request.url.path}?{urlencode(pairs)}"


def make_etag(key: str, tag: str) -> str:
    digest = hashlib.blake2b(f"{FORMAT}|{key}|{tag}".encode(), digest_size=16).hexdigest()
    return f'"{digest}"'


async def _one_snapshot(session: AsyncSession) -> None:
    """Run the request's transaction in REPEATABLE READ, so tag and body see the same data.

    A session joined to a transaction its caller already opened on the connection (the tests'
    rolled-back one) cannot change the isolation level; it reads in that transaction.
    """
    bind = session.bind
    if isinstance(bind, AsyncConnection) and bind.in_transaction():
        return
    await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


class Gate:
    """At most `slots` aggregates computed at once by this process. Each one scans whole tables;
    running more of them at once than there are cores only slows them all down, and they would
    hold every pooled connection that single-record requests need. A request waiting for a slot
    holds no connection; after `timeout` seconds it gets a 503."""

    def __init__(self, slots: int, timeout: float | None) -> None:
        self.slots = asyncio.Semaphore(slots)
        self.timeout = timeout

    def busy(self) -> bool:
        return self.slots.locked()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        try:
            await asyncio.wait_for(self.slots.acquire(), self.timeout)
        except TimeoutError:
            raise Unavailable(
                tr("too many statistics are being computed; retry shortly"), headers={"Retry-After": "5"}
            ) from None
        try:
            yield
        finally:
            self.slots.release()


async def _lookup(
    session: AsyncSession, depends_on: tuple[str, ...], key: str, known: Entry | None
) -> Row[Any]:
    await _one_snapshot(session)
    params = {"depends_on": list(depends_on), "key": key, "known": known.tag if known else None}
    return (await session.execute(_LOOKUP, params)).one()


async def cached_json(
    request: Request,
    session: AsyncSession,
    depends_on: tuple[str, ...],
    compute: Callable[[], Awaitable[bytes]],
) -> Response:
    """The statistics response for this request: 304, cached body, or computed and stored."""
    found = await cached(request, session, depends_on, compute)
    if isinstance(found, Response):
        return found
    return _answer(found)


@dataclass(frozen=True)
class Cached:
    """A statistic's JSON body, where it came from, its ETag and the data version it reflects."""

    key: str
    tag: str
    body: bytes
    source: str
    etag: str


async def cached(
    request: Request,
    session: AsyncSession,
    depends_on: tuple[str, ...],
    compute: Callable[[], Awaitable[bytes]],
    variant: str = "",
) -> Cached | Response:
    """The statistic's JSON body for this request (cached, or computed and stored), or a 304 when
    If-None-Match names the current ETag. `variant` names another rendering of the same body (a
    file format): it has an ETag of its own, and shares the stored body."""
    memory: Memory = request.app.state.stats_memory
    gate: Gate = request.app.state.stats_gate
    key = request_key(request)
    tagged = key + variant

    def found(tag: str, body: bytes, source: str) -> Cached:
        return Cached(key, tag, body, source, make_etag(tagged, tag))

    known = memory.get(key)
    row = await _lookup(session, depends_on, key, known)
    if etag_matches(request.headers.get("if-none-match"), make_etag(tagged, row.tag)):
        return Response(
            status_code=304, headers={"ETag": make_etag(tagged, row.tag), "Cache-Control": "no-cache"}
        )
    refresh = "no-cache" in request.headers.get("cache-control", "").lower()
    if not refresh and known is not None and known.tag == row.tag:
        return found(row.tag, known.body, "memory")
    if not refresh and row.body is not None:
        memory.put(key, Entry(row.tag, bytes(row.body)))
        return found(row.tag, bytes(row.body), "shared")
    if gate.busy():
        # Give the connection back while waiting; then look again in a new snapshot (the data
        # may have changed, or another request may have stored this very answer meanwhile).
        await session.rollback()
    async with gate.slot():
        if not session.in_transaction():
            row = await _lookup(session, depends_on, key, None)
            if not refresh and row.body is not None:
                memory.put(key, Entry(row.tag, bytes(row.body)))
                return found(row.tag, bytes(row.body), "shared")
        settings = get_settings()
        # Aggregates scan whole tables: a longer limit than single-record queries (the server's
        # and the client's), and memory enough to hash and sort without spilling to disk.
        limit_ms = int(settings.stats_statement_timeout_ms)
        await session.execute(text(f"SET LOCAL statement_timeout = {limit_ms}"))
        await session.execute(text(f"SET LOCAL work_mem = '{int(settings.stats_work_mem_mb)}MB'"))
        async with longer_client_timeout(session, limit_ms):
            body = await compute()
    try:
        async with session.begin_nested():
            await session.execute(_STORE, {"key": key, "tag": row.tag, "body": body})
    except sa_exc.DBAPIError:
        pass  # another worker stored it first (a serialization conflict): the body stands
    memory.put(key, Entry(row.tag, body))
    return found(row.tag, body, "computed")


def _answer(found: Cached) -> Response:
    headers = {
        "ETag": found.etag,
        "Cache-Control": "no-cache",
        "X-Stats-Source": found.source,
        "Vary": "Accept",
    }
    return Response(found.body, media_type="application/json", headers=headers)
