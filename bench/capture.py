"""The SQL the service sends for a request, recorded at the driver.

The application is built in this process (app.main.create_app) on the bench database and sent
each scenario's request through httpx's ASGI transport. Every statement that reaches asyncpg,
whether through SQLAlchemy (prepared statements) or the raw connection, is recorded with its
parameters. The floor then runs the data statements among them; the rest (transaction control,
the statistics' cache and data-version bookkeeping) is the service's own work around them.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from functools import wraps
from typing import Any

CAPTURE_TIMEOUT_MS = 600_000

# Statements that are not the request's data: transaction control, session set-up, and the
# statistics cache's machinery (data_version tags, stats_cache bodies).
BOOKKEEPING = re.compile(
    r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|SET|SHOW|START TRANSACTION)\b"
    r"|\bdata_version\b|\bstats_cache\b|pg_catalog\.version\(\)",
    re.IGNORECASE,
)


SET_TIMEOUT = re.compile(
    r"^\s*SET\s+(?:LOCAL\s+)?statement_timeout\s*(?:=|TO)\s*'?(\d+)'?\s*$", re.IGNORECASE
)


@dataclass(frozen=True)
class Call:
    method: str
    sql: str
    params: tuple[Any, ...]

    @property
    def is_data(self) -> bool:
        return not BOOKKEEPING.search(self.sql)


SET_LOCAL = re.compile(r"^\s*SET\s+LOCAL\s+(\w+)\s*(?:=|TO)\s*'?([^']*?)'?\s*$", re.IGNORECASE)


@dataclass
class Exchange:
    """One request through the in-process app: what it answered and what it sent to PostgreSQL."""

    target: str
    headers: dict[str, str]
    status: int
    body: bytes
    response_headers: dict[str, str]
    calls: list[Call] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def data_calls(self) -> list[Call]:
        return [c for c in self.calls if c.is_data]

    def local_settings(self) -> dict[str, str]:
        """Settings the request set for its transaction (`SET LOCAL name = value`), apart from
        the statement timeout (see statement_timeout_ms)."""
        found = (SET_LOCAL.search(call.sql) for call in self.calls)
        return {
            m.group(1).lower(): m.group(2) for m in found if m and m.group(1).lower() != "statement_timeout"
        }

    def statement_timeout_ms(self, session_default: int) -> int:
        """The limit the request's data statements ran under: the connection's, unless the
        request set its own (`SET LOCAL statement_timeout = N`, as the statistics do)."""
        limit = session_default
        for call in self.calls:
            found = SET_TIMEOUT.search(call.sql)
            if found:
                limit = int(found.group(1))
        return limit


@contextmanager
def recording() -> Iterator[list[Call]]:
    """Record every statement asyncpg runs while the block lasts."""
    import asyncpg.connection
    import asyncpg.prepared_stmt

    calls: list[Call] = []
    patched: list[tuple[type, str, Any]] = []

    def wrap(cls: type, name: str, from_statement: bool) -> None:
        original = getattr(cls, name)

        @wraps(original)
        async def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            if from_statement:
                calls.append(Call(name, self.get_query(), tuple(args)))
            elif args:
                calls.append(Call(name, args[0], tuple(args[1:])))
            return await original(self, *args, **kwargs)

        patched.append((cls, name, original))
        setattr(cls, name, wrapper)

    for name in ("fetch", "fetchrow", "fetchval", "execute", "executemany"):
        wrap(asyncpg.connection.Connection, name, from_statement=False)
    for name in ("fetch", "fetchrow", "fetchval", "executemany"):
        wrap(asyncpg.prepared_stmt.PreparedStatement, name, from_statement=True)
    try:
        yield calls
    finally:
        for cls, name, original in reversed(patched):
            setattr(cls, name, original)


async def exchange(url: str, requests: list[tuple[str, dict[str, str]]]) -> dict[str, Any]:
    """Send each (target, headers) to the app built on `url`; the exchanges, and the session
    settings and pool size of the app's own connections (for the floor to copy)."""
    import httpx

    from app.core.settings import Settings, get_settings
    from app.main import create_app

    # The service's settings, but for a statement timeout long enough to compute anything: what
    # is recorded is the SQL and one reference answer; the timings under load come later.
    service = Settings(database_url=url)
    settings = Settings(database_url=url, statement_timeout_ms=CAPTURE_TIMEOUT_MS)
    get_settings.cache_clear()
    app = create_app(settings)
    exchanges: list[Exchange] = []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            await client.get("/ready")  # the pool's first connection and the dialect's set-up
            with recording() as calls:
                for target, headers in requests:
                    calls.clear()
                    started = time.perf_counter()
                    response = await client.get(target, headers=headers)
                    seconds = time.perf_counter() - started
                    exchanges.append(
                        Exchange(
                            target=target,
                            headers=headers,
                            status=response.status_code,
                            body=response.content,
                            response_headers=dict(response.headers),
                            calls=list(calls),
                            seconds=seconds,
                        )
                    )
        session_settings: dict[str, str] = {}
        engine = getattr(app.state, "engine", None)
        if engine is not None:
            async with engine.connect() as conn:
                raw = await conn.get_raw_connection()
                rows = await raw.driver_connection.fetch(
                    "SELECT name, setting FROM pg_settings WHERE source = 'client' ORDER BY name"
                )
                session_settings = {r["name"]: r["setting"] for r in rows}
        session_settings["statement_timeout"] = str(service.statement_timeout_ms)
    return {
        "exchanges": exchanges,
        "session_settings": session_settings,
        "pool": {
            "size": service.db_pool_size + service.db_max_overflow,
            "timeout_s": service.db_pool_timeout_s,
            "stats_concurrency": service.stats_concurrency,
        },
        "statement_timeout_ms": service.statement_timeout_ms,
    }


def encode_param(value: Any) -> Any:
    """A parameter as JSON for the floor: dates tagged, enumerations as their values."""
    if isinstance(value, datetime):
        raise TypeError("timestamps are not expected among the scenario parameters")
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [encode_param(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"cannot pass a {type(value).__name__} parameter to the floor")
