"""Signing in against a real `python -m app serve`: password hashing does not stall the event loop,
a burst of sign-ins leaves the connection pool to other requests, and concurrent guesses get
exactly the allowed number of password checks.

The server believes X-Forwarded-For from 127.0.0.1 (FORWARDED_ALLOW_IPS=127.0.0.1 in its
environment; by default it believes no proxy), so each test plays clients at addresses of its own.
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
        with serving(
            {**env, "LOG_LEVEL": "warning", "FORWARDED_ALLOW_IPS": "127.0.0.1"}, "--no-migrate"
        ) as base:
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


async def test_a_burst_of_sign_ins_leaves_the_pool_to_reads(server: Server) -> None:
    """120 sign-ins at once (pool of 10, 5 s pool timeout): they wait for their turn to check a
    password holding no connection, so database reads are answered meanwhile, and the sign-ins
    get 401, 429 or a 503 with Retry-After, never pool exhaustion."""
    async with httpx.AsyncClient(
        base_url=server.base, timeout=60, limits=httpx.Limits(max_connections=200)
    ) as http:
        for _ in range(3):
            await http.get("/ready")
        burst_done = asyncio.Event()
        reads: list[tuple[str, int, float]] = []

        async def poll() -> None:
            paths = ("/api/v1/villages/1", "/ready")
            while not burst_done.is_set():
                path = paths[len(reads) % 2]
                started = time.perf_counter()
                answer = await http.get(path)
                reads.append((path, answer.status_code, time.perf_counter() - started))
                await asyncio.sleep(0.02)

        async def guess(n: int) -> httpx.Response:
            data = {"username": f"dot.kich.{n}", "password": "a wrong password!"}
            return await http.post(TOKEN, data=data, headers=from_address(f"10.5.{n // 200}.{n % 200 + 1}"))

        poller = asyncio.create_task(poll())
        await asyncio.sleep(0.1)
        answers = await asyncio.gather(*(guess(n) for n in range(120)))
        burst_done.set()
        await poller
    codes = [a.status_code for a in answers]
    assert set(codes) <= {401, 429, 503}, sorted(set(codes))
    for answer in answers:
        if answer.status_code == 503:
            assert answer.json()["type"].endswith(":service-unavailable"), answer.text
            assert "passwords" in answer.json()["detail"], answer.text
            assert int(answer.headers["retry-after"]) >= 1
    assert codes.count(401) >= 20, codes  # many were checked, in turn
    assert len(reads) >= 10
    failed = [(path, code) for path, code, _ in reads if code not in (200, 404)]
    assert not failed, failed
    latencies = sorted(seconds for _, _, seconds in reads)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    assert p99 < 1.0, f"read p99 {p99 * 1000:.0f} ms during the burst ({len(reads)} reads)"


async def test_without_trusted_proxies_x_forwarded_for_is_ignored(server: Server) -> None:
    """FORWARDED_ALLOW_IPS unset: a local user cannot choose its client address with the header
    (past the per-pair and per-address limits, or into the audit trail)."""
    env = app_env(without={"FORWARDED_ALLOW_IPS"}, DATABASE_URL=server.url, LOG_LEVEL="warning")
    with serving(env, "--no-migrate") as base:
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            codes = []
            for n in range(6):  # six "addresses": one pair, whose limit is five
                data = {"username": "forged.addr", "password": "a wrong password!"}
                codes.append(
                    (await http.post(TOKEN, data=data, headers=from_address(f"10.6.0.{n + 1}"))).status_code
                )
    assert codes == [401] * 5 + [429]
    addresses = await server.scalar(
        "SELECT string_agg(DISTINCT client_addr, ',') FROM security_event WHERE target_name = $1",
        "forged.addr",
    )
    assert addresses == "127.0.0.1"
