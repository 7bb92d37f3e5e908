"""Real server processes on one database: two never deliver the same event at once, and one killed
(SIGKILL) mid-delivery loses nothing: its lease runs out and the next process delivers it."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from app.core.embedded import free_port
from tests.servers import app_env, app_ok, fresh_database, start_server, stop, wait_ready
from tests.webhooks.helpers import setup, write
from tests.webhooks.receiver import Answer, Received, Receiver, receiving
from tests.webhooks.test_delivery import check_order

pytestmark = pytest.mark.slow
HOOKS = "/api/v1/webhooks"


@pytest.fixture
def database(server_url: str) -> Iterator[str]:
    with fresh_database(server_url, "cv_hooks_proc") as url:
        yield url


def env_for(url: str) -> dict[str, str]:
    return app_env(
        DATABASE_URL=url,
        LOG_LEVEL="warning",
        ACCESS_LOG="false",
        WEBHOOK_ALLOWED_NETWORKS=json.dumps(["127.0.0.0/8"]),
        WEBHOOK_POLL_INTERVAL_S="0.05",
        WEBHOOK_TIMEOUT_S="1",
        WEBHOOK_RETRY_BASE_S="0.05",
        WEBHOOK_RETRY_MAX_INTERVAL_S="0.2",
    )


async def _start(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = start_server(env, port, "--no-migrate")
    await asyncio.to_thread(wait_ready, process, port)
    return process, f"http://127.0.0.1:{port}"


async def _subscribe(base: str, key: str, receiver: Receiver) -> None:
    async with httpx.AsyncClient(base_url=base, headers={"X-API-Key": key}) as http:
        made = await http.post(HOOKS, json={"url": receiver.url, "secret": "process-test-secret-0001"})
        assert made.status_code == 201, made.text


async def _until(condition: Callable[[], bool], within_s: float) -> None:
    deadline = time.monotonic() + within_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_two_processes_never_deliver_one_event_at_once(database: str) -> None:
    await setup(database)
    env = env_for(database)
    key = app_ok("keys", "create", "--name", "hooks", "--role", "admin", env=env).strip().splitlines()[-1]

    def script(n: int, r: Received) -> Answer:
        return Answer(500, delay=0.1) if n % 4 == 1 else Answer(200, delay=0.15)

    async with receiving(script) as receiver:
        first, base = await _start(env)
        second, _ = await _start(env)
        try:
            await _subscribe(base, key, receiver)
            plan: list[tuple[str, int | None]] = [("create", None)] * 6
            plan += [("update", n % 6) for n in range(18)]
            await write(database, plan)
            await _until(lambda: len({r.event_id for r in receiver.delivered()}) == 24, 90)
        finally:
            await asyncio.to_thread(stop, first)
            await asyncio.to_thread(stop, second)
    assert not receiver.overlaps
    assert all(r.verified("process-test-secret-0001") for r in receiver.requests)
    check_order(receiver.requests)


async def test_a_process_killed_mid_delivery_loses_nothing(database: str) -> None:
    await setup(database)
    env = env_for(database)
    key = app_ok("keys", "create", "--name", "hooks", "--role", "admin", env=env).strip().splitlines()[-1]
    hang = {"on": True}

    async with receiving(lambda n, r: Answer(hang=True) if hang["on"] else Answer(200)) as receiver:
        process, base = await _start(env)
        try:
            await _subscribe(base, key, receiver)
            await write(database, [("create", None), ("create", None), ("update", 0)])
            await _until(lambda: len(receiver.requests) >= 1, 30)  # a delivery is in flight
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
        hang["on"] = False
        receiver.hanging.set()  # the dead process's connection is gone
        process, _ = await _start(env)
        try:
            await _until(lambda: len({r.event_id for r in receiver.delivered()}) == 3, 60)
        finally:
            await asyncio.to_thread(stop, process)
    check_order(receiver.requests)
