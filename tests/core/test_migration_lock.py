"""Migrations take turns: replicas that start together each run `migrate`, and only one applies them.

Each migration runs in its own process, as a replica would (Alembic's `context` is global to a
process, so threads would not be a fair test).
"""

from __future__ import annotations

import ast
import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from app.main import migration_head
from tests.conftest import create_database, drop_database, plain_url

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow

# Alembic reports each revision it applies on this logger, at INFO.
MIGRATE = """
import logging, sys
logging.basicConfig(level=logging.INFO, format="%(name)s %(message)s", stream=sys.stdout)
from app.__main__ import migrate
migrate(sys.argv[1])
"""


def lock_key() -> int:
    """The key migrations/env.py locks, read from the file (importing it would run it)."""
    tree = ast.parse((ROOT / "migrations" / "env.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "MIGRATION_LOCK_KEY" for target in node.targets
        ):
            value = ast.literal_eval(node.value)
            assert isinstance(value, int)
            return value
    raise AssertionError("migrations/env.py defines no MIGRATION_LOCK_KEY")


def revision_count() -> int:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return len(list(ScriptDirectory.from_config(config).walk_revisions()))


def start_migration(url: str) -> subprocess.Popen[str]:
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    return subprocess.Popen(
        [sys.executable, "-c", MIGRATE, url],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


async def versions(url: str) -> list[str]:
    conn = await asyncpg.connect(plain_url(url))
    try:
        if await conn.fetchval("SELECT to_regclass('alembic_version')") is None:
            return []
        return [row[0] for row in await conn.fetch("SELECT version_num FROM alembic_version")]
    finally:
        await conn.close()


@pytest.fixture
def fresh_database(server_url: str) -> Iterator[str]:
    url = create_database(server_url, "cv_lock")
    try:
        yield url
    finally:
        drop_database(server_url, url)


def test_concurrent_migrations_apply_each_revision_once(fresh_database: str) -> None:
    runs = [start_migration(fresh_database) for _ in range(4)]
    outputs = []
    for run in runs:
        out, _ = run.communicate(timeout=180)
        outputs.append(out)
        assert run.returncode == 0, out
    applied = sum(out.count("Running upgrade") for out in outputs)
    assert applied == revision_count(), "\n".join(outputs)
    assert asyncio.run(versions(fresh_database)) == [migration_head()]


async def advisory_waiters(conn: asyncpg.Connection) -> int:
    count = await conn.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock' AND wait_event = 'advisory'"
    )
    assert isinstance(count, int)
    return count


def test_migration_waits_for_the_lock(fresh_database: str) -> None:
    async def scenario() -> None:
        holder = await asyncpg.connect(plain_url(fresh_database))
        run = start_migration(fresh_database)
        try:
            await holder.execute("SELECT pg_advisory_lock($1)", lock_key())
            deadline = time.monotonic() + 60
            while await advisory_waiters(holder) == 0:
                assert run.poll() is None, "migrate ran without waiting for the lock:\n" + str(
                    run.communicate()[0]
                )
                assert time.monotonic() < deadline, "migrate never waited for the lock"
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.5)  # still waiting, and nothing applied meanwhile
            assert run.poll() is None
            assert await versions(fresh_database) == []
            await holder.execute("SELECT pg_advisory_unlock($1)", lock_key())
            out, _ = await asyncio.to_thread(run.communicate, timeout=180)
            assert run.returncode == 0, out
            assert await versions(fresh_database) == [migration_head()]
        finally:
            if run.poll() is None:
                run.kill()
                run.wait()
            await holder.close()

    asyncio.run(scenario())
