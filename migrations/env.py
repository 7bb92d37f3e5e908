"""Alembic environment: runs migrations over asyncpg against DATABASE_URL."""

from __future__ import annotations

import asyncio
import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.settings import async_url
from app.models import Base

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata

# Several replicas may start at once, each migrating first: a session-level advisory lock on this
# key makes them take turns. The first applies the migrations; the others find the schema at head
# and do nothing. Any fixed 64-bit number works, as long as nothing else uses it ("cvmigrat").
MIGRATION_LOCK_KEY = 0x6376_6D69_6772_6174


def database_url() -> str:
    url = config.attributes.get("database_url") or os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("DATABASE_URL is not set (or run `python -m app migrate`, which starts one)")
    return async_url(url)


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    # Objects PostgreSQL extensions create are not ours to manage.
    return not (type_ == "table" and reflected and compare_to is None and name not in target_metadata.tables)


def do_run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        compare_type=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    engine = create_async_engine(database_url(), poolclass=pool.NullPool)
    async with engine.connect() as connection:
        # Waits for as long as another migration holds the lock. Session-level, so it outlives
        # the commit that leaves Alembic a connection outside any transaction, as it expects.
        await connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        await connection.commit()
        await connection.run_sync(do_run_migrations)
        # On an error we never get here: closing the connection (NullPool) releases the lock.
        await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
        await connection.commit()
    await engine.dispose()


def run_migrations_offline() -> None:
    context.configure(
        url=database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_async_migrations())
