"""Engine and the per-request session: the only place that commits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from fastapi import Request
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from app.core.settings import Settings, async_url

CLIENT_MARGIN_S = 2.0


def client_timeout_s(statement_timeout_ms: int) -> float | None:
    """How long the client waits for the server's answer to a statement: a little past the
    statement timeout, so it fires only when the server cannot answer at all (a stopped
    backend, a network that drops everything), never before the server's own limit."""
    return statement_timeout_ms / 1000 + CLIENT_MARGIN_S if statement_timeout_ms else None


@asynccontextmanager
async def longer_client_timeout(session: AsyncSession, statement_timeout_ms: int) -> AsyncIterator[None]:
    """Within the block, wait for this session's statements as long as `statement_timeout_ms`
    allows (the statistics' longer limit) rather than the connection's default.

    asyncpg reads the limit from the connection's configuration at each call; it has no public
    setter, so the block swaps the configuration and puts the old one back.
    """
    raw: Any = (await (await session.connection()).get_raw_connection()).driver_connection
    saved = raw._config
    raw._config = saved._replace(command_timeout=client_timeout_s(statement_timeout_ms))
    try:
        yield
    finally:
        raw._config = saved


def make_engine(url: str, settings: Settings) -> AsyncEngine:
    """An asyncpg engine with a bounded pool, server-side timeouts on every connection, a limit
    on opening one, and a client-side backstop for a server that does not answer at all."""
    engine = create_async_engine(
        async_url(url),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_s,
        pool_pre_ping=False,  # a round trip per request; the checkout check below costs none
        connect_args={
            "timeout": settings.db_connect_timeout_s,
            "command_timeout": client_timeout_s(settings.statement_timeout_ms),
            "server_settings": {
                "application_name": "craftvillage",
                "timezone": "UTC",  # timestamps in JSON rendered by PostgreSQL read +00:00
                "statement_timeout": str(settings.statement_timeout_ms),
                "idle_in_transaction_session_timeout": str(settings.idle_in_transaction_timeout_ms),
            },
        },
    )
    event.listen(engine.sync_engine, "checkout", _refuse_closed)
    event.listen(engine.sync_engine, "handle_error", _unusable_after)
    return engine


def _unusable_after(context: Any) -> None:
    """Errors after which a connection cannot be trusted although asyncpg has not (yet) seen it
    closed: an operation left midway (the link broke during it, or the client stopped waiting).
    Marked as disconnects, they make the pool discard the connection instead of reusing it."""
    error = context.original_exception  # the driver's, or SQLAlchemy's adaptation of it
    for candidate in (error, getattr(error, "__cause__", None)):
        if isinstance(candidate, asyncpg.InternalClientError | TimeoutError):
            context.is_disconnect = True


def _refuse_closed(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """A pooled connection the server closed while it sat idle (a restart, pg_terminate_backend)
    is noticed by asyncpg's protocol as soon as the socket closes: the pool then replaces it
    instead of handing it to a request that would fail on it."""
    if dbapi_connection.driver_connection.is_closed():
        raise sa_exc.DisconnectionError("the server closed this pooled connection")


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: commit when the handler returns, roll back when it raises."""
    maker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with maker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
