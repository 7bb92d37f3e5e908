"""Engine and the per-request session: the only place that commits."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from app import versioning
from app.config import Settings, async_url

versioning.install()  # every write through a session bumps its tables' data versions


def make_engine(url: str, settings: Settings) -> AsyncEngine:
    """An asyncpg engine with bounded pool and server-side timeouts on every connection."""
    return create_async_engine(
        async_url(url),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_s,
        pool_pre_ping=False,
        connect_args={
            "server_settings": {
                "application_name": "craftvillage",
                "timezone": "UTC",  # timestamps in JSON rendered by PostgreSQL read +00:00
                "statement_timeout": str(settings.statement_timeout_ms),
                "idle_in_transaction_session_timeout": str(settings.idle_in_transaction_timeout_ms),
            }
        },
    )


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
