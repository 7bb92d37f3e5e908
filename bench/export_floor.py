"""The floor of a file export: `COPY (the export's query) TO STDOUT (FORMAT csv)` streamed by a
minimal raw ASGI app (asyncpg, no framework, no checks), chunk by chunk as PostgreSQL sends them.

    EXPORT_FLOOR_DSN=postgresql://... EXPORT_FLOOR_SQL='SELECT ...' \\
        uvicorn --factory bench.export_floor:create
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import asyncpg

Message = MutableMapping[str, Any]
DONE = b""


def create() -> Callable[
    [Message, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]
]:
    dsn, sql = os.environ["EXPORT_FLOOR_DSN"], os.environ["EXPORT_FLOOR_SQL"]
    pool: list[asyncpg.Pool] = []

    async def app(
        scope: Message, receive: Callable[[], Awaitable[Message]], send: Callable[[Message], Awaitable[None]]
    ) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    pool.append(await asyncpg.create_pool(dsn, min_size=1, max_size=2))
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await pool[0].close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["path"] == "/ready":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=8)  # back-pressure: memory stays flat

        async def copy() -> None:
            try:
                async with pool[0].acquire() as conn:
                    await conn.copy_from_query(sql, output=queue.put, format="csv")
            finally:
                await queue.put(DONE)  # a failed COPY ends the answer too (then raises below)

        task = asyncio.create_task(copy())
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/csv")]}
        )
        while (chunk := await queue.get()) != DONE:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await task
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    return app
