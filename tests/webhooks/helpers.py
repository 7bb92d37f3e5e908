"""Helpers of the webhook tests: committed writes with their audit events, as the service makes
them, and a clock the test moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from tests.conftest import plain_url

DISTRICT = 1
SETUP = f"""
INSERT INTO admin_unit (id, code, name, level, parent_id)
VALUES ({DISTRICT + 1}, '36', 'Nam Định', 'province', NULL),
       ({DISTRICT}, '362', 'Nam Trực', 'district', {DISTRICT + 1});
"""
EVENT = """
INSERT INTO audit_event (actor_kind, actor_id, actor_name, action, resource, record_id, changes, version)
VALUES ('api_key', 0, 'writer', $1, 'villages', $2, '{}', $3)
"""


async def setup(url: str) -> None:
    conn = await asyncpg.connect(plain_url(url))
    try:
        await conn.execute(SETUP)
    finally:
        await conn.close()


async def write(url: str, plan: list[tuple[str, int | None]], ids: list[int] | None = None) -> list[int]:
    """Committed changes of villages, each in its own transaction with its audit event: ("create",
    None) creates one, ("update", n) changes the n-th of `ids` (the villages created so far, to
    which those created here are added). Returns `ids`."""
    conn = await asyncpg.connect(plain_url(url))
    ids = [] if ids is None else ids
    try:
        for action, which in plan:
            async with conn.transaction():
                if action == "create":
                    row = await conn.fetchrow(
                        "INSERT INTO village (name, district_id, craft_group) "
                        "VALUES ($1, $2, 'handicraft') RETURNING id, version",
                        f"Làng {len(ids) + 1}",
                        DISTRICT,
                    )
                    ids.append(row["id"])
                else:
                    assert which is not None
                    row = await conn.fetchrow(
                        "UPDATE village SET version = version + 1, households_total = version * 10 "
                        "WHERE id = $1 RETURNING id, version",
                        ids[which],
                    )
                await conn.execute(EVENT, action, row["id"], row["version"])
    finally:
        await conn.close()
    return ids


async def value(url: str, sql: str, *args: Any) -> Any:
    conn = await asyncpg.connect(plain_url(url))
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()


class Clock:
    """Now, as the test says: starts at the real time, moves only when told."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
