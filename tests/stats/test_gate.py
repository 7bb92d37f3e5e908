"""The statistics gate (app/stats/cache.py): a computation waits for a slot, then gives up with a
503; answers from the cache never wait for it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from app.stats.cache import Gate, Memory
from tests.factories import API, assert_problem

STATS_URL = f"{API}/stats/programmes?group_by=kind"


@pytest.fixture
def narrow_gate(app: FastAPI) -> Iterator[Gate]:
    """One aggregate at a time, waiting at most 0.3 s."""
    saved = app.state.stats_gate
    app.state.stats_gate = gate = Gate(1, 0.3)
    app.state.stats_memory = Memory()
    try:
        yield gate
    finally:
        app.state.stats_gate = saved


async def test_a_computation_waits_for_a_slot_then_gives_up_with_503(
    client: httpx.AsyncClient, narrow_gate: Gate
) -> None:
    async with narrow_gate.slot():  # another request is computing
        started = time.monotonic()
        response = await client.get(STATS_URL, headers={"Cache-Control": "no-cache"})
        waited = time.monotonic() - started
    assert_problem(response, 503)
    assert response.headers["retry-after"] == "5"
    assert 0.25 <= waited < 5
    after = await client.get(STATS_URL, headers={"Cache-Control": "no-cache"})
    assert after.status_code == 200 and after.headers["x-stats-source"] == "computed"


async def test_a_waiting_request_is_served_when_the_slot_frees(
    client: httpx.AsyncClient, narrow_gate: Gate
) -> None:
    narrow_gate.timeout = 10

    async def release_soon() -> None:
        await asyncio.sleep(0.2)
        narrow_gate.slots.release()

    await narrow_gate.slots.acquire()
    releasing = asyncio.create_task(release_soon())
    response = await client.get(STATS_URL, headers={"Cache-Control": "no-cache"})
    await releasing
    assert response.status_code == 200 and response.headers["x-stats-source"] == "computed"
    assert not narrow_gate.busy()


async def test_answers_from_cache_do_not_wait_for_the_gate(
    client: httpx.AsyncClient, narrow_gate: Gate
) -> None:
    first = await client.get(STATS_URL)
    assert first.headers["x-stats-source"] == "computed"
    async with narrow_gate.slot():  # every slot taken
        cached = await client.get(STATS_URL)
        not_modified = await client.get(STATS_URL, headers={"If-None-Match": first.headers["etag"]})
    assert cached.status_code == 200 and cached.headers["x-stats-source"] == "memory"
    assert cached.content == first.content
    assert not_modified.status_code == 304
