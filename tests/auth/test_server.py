"""Signing in against a real `python -m app serve`: password hashing does not stall the event loop,
and concurrent guesses get exactly the allowed number of password checks.

The server believes X-Forwarded-For from 127.0.0.1 (FORWARDED_ALLOW_IPS' default), so each test
plays clients at addresses of its own.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.auth.helpers import PASSWORD
from tests.servers import Server, app_env, app_ok, fresh_database, serving

TOKEN = "/api/v1/auth/token"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(server_url: str) -> Iterator[Server]:
    with fresh_database(server_url, "cv_signin") as url:
        env = app_env(DATABASE_URL=url)
        new_user = ("users", "create", "lan.nguyen", "--display-name", "Lan")
        app_ok(*new_user, env={**env, "CRAFTVILLAGE_PASSWORD": PASSWORD}, timeout=120)
        with serving({**env, "LOG_LEVEL": "warning"}, "--no-migrate") as base:
            yield Server(base, url)


def from_address(addr: str) -> dict[str, str]:
    return {"X-Forwarded-For": addr}


async def test_health_answers_quickly_during_a_burst_of_sign_ins(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.base, timeout=60) as http:
        for _ in range(5):  # warm up: connections, the first hash
            await http.get("/health")
        burst_done = asyncio.Event()
        latencies: list[float] = []

        async def poll() -> None:
            while not burst_done.is_set():
                started = time.perf_counter()
                answer = await http.get("/health")
                latencies.append(time.perf_counter() - started)
                assert answer.status_code == 200
                await asyncio.sleep(0.01)

        async def guess(n: int) -> int:
            data = {"username": f"khach.{n}", "password": "a wrong password!"}
            return (await http.post(TOKEN, data=data, headers=from_address("10.1.0.1"))).status_code

        poller = asyncio.create_task(poll())
        await asyncio.sleep(0.05)
        started = time.perf_counter()
        codes = await asyncio.gather(*(guess(n) for n in range(20)))
        burst = time.perf_counter() - started
        burst_done.set()
        await poller
    p99 = statistics.quantiles(latencies, n=100)[98]
    assert p99 < 0.05, f"/health p99 {p99 * 1000:.0f} ms during a {burst:.1f} s burst of sign-ins"
    # Twenty argon2id checks take a while; /health was asked throughout.
    assert len(latencies) >= 10, (burst, len(latencies))
    assert codes == [401] * 20


async def test_concurrent_guesses_get_exactly_five_password_checks(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.base, timeout=60) as http:

        async def guess() -> httpx.Response:
            data = {"username": "lan.nguyen", "password": "a wrong password!"}
            return await http.post(TOKEN, data=data, headers=from_address("10.2.0.1"))

        answers = await asyncio.gather(*(guess() for _ in range(20)))
        codes = sorted(a.status_code for a in answers)
        assert codes == [401] * 5 + [429] * 15
        assert all(int(a.headers["retry-after"]) >= 1 for a in answers if a.status_code == 429)
        failed = await server.scalar(
            "SELECT count(*) FROM security_event WHERE action = 'sign_in_failed' AND target_name = $1",
            "lan.nguyen",
        )
        assert failed == 5
        # The attacker is locked out; the owner, elsewhere, signs in.
        still = await http.post(TOKEN, data={"username": "lan.nguyen", "password": PASSWORD},
                                headers=from_address("10.2.0.1"))  # fmt: skip
        assert still.status_code == 429
        owner = await http.post(TOKEN, data={"username": "lan.nguyen", "password": PASSWORD},
                                headers=from_address("10.3.0.1"))  # fmt: skip
        assert owner.status_code == 200, owner.text
        addr = await server.scalar(
            "SELECT client_addr FROM security_event WHERE action = 'sign_in' AND target_name = $1",
            "lan.nguyen",
        )
        assert addr == "10.3.0.1"
