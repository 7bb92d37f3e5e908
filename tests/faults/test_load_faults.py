"""Load meets limits: an exhausted pool, clients that hang up mid-request, SIGTERM mid-load.

Each test runs a real `python -m app serve` whose connections go through a `Proxy` to this
module's own embedded PostgreSQL, and states its pass criterion in its docstring.
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
import socket
import struct
import subprocess
from collections.abc import Iterator

import pytest

from tests.faults.harness import (
    MARKS,
    UNITS,
    Client,
    Cluster,
    Ledger,
    Outcome,
    RowLock,
    Service,
    dedicated_cluster,
    describe_backends,
    eventually,
    faults,
    lock_waiters,
    running_service,
    service_backends,
    tally,
    unit_body,
    until,
)
from tests.faults.proxy import Proxy

pytestmark = MARKS


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with dedicated_cluster() as made:
        yield made


@pytest.fixture
def proxy(cluster: Cluster) -> Iterator[Proxy]:
    with Proxy(cluster.port) as made:
        yield made


async def test_pool_exhaustion_answers_503_without_hanging(cluster: Cluster, proxy: Proxy) -> None:
    """Pass: DB_POOL_SIZE=2, DB_POOL_TIMEOUT_S=1; while two PATCHes hold both connections (blocked
    on row locks the test holds), each further request (reads, a create, /ready) answers a 503 or
    504 problem within 1 s + 2 s; pg_stat_activity, sampled every 50 ms from before the PATCHes
    until the end, never shows more than 2 sessions of the service; once the locks are released
    the two PATCHes and every following request succeed."""
    ledger = Ledger("px-")
    limits = {"DB_POOL_SIZE": "2", "DB_POOL_TIMEOUT_S": "1", "STATEMENT_TIMEOUT_MS": "15000"}
    async with running_service(cluster, proxy, **limits) as service, Client(service) as client:
        rows = [await ledger.create(client, f"px-row{n}") for n in range(2)]
        item = await ledger.create(client, "px-item")
        watch = await cluster.connect()
        sampler_conn = await cluster.connect()
        peaks: list[int] = []
        sampling = asyncio.Event()

        async def sample() -> None:
            while not sampling.is_set():
                peaks.append(len(await service_backends(sampler_conn, cluster)))
                await asyncio.sleep(0.05)

        sampler = asyncio.create_task(sample())
        try:
            async with RowLock(cluster, rows) as lock:
                patches = [
                    asyncio.create_task(
                        client.call(
                            "PATCH", f"{UNITS}/{r}", json={"name": "held"}, headers={"If-Match": '"1"'}
                        )
                    )
                    for r in rows
                ]
                await lock_waiters(watch, cluster, 2)
                further = await asyncio.gather(
                    client.call("GET", f"{UNITS}?limit=5"),
                    client.call("GET", f"{UNITS}/{item}"),
                    client.call("GET", f"{UNITS}/{item}"),
                    client.call(
                        "POST", UNITS, json=unit_body("px-new"), headers={"Idempotency-Key": "k-px-new"}
                    ),
                    client.call("GET", "/ready"),
                )
                await lock.release()
                held = await asyncio.gather(*patches)
            after = client.now()
            for n in range(3):
                await client.call("GET", f"{UNITS}?limit=5")
                await client.call("GET", f"{UNITS}/{item}")
                await ledger.create(client, f"px-after{n}")
            await ledger.create(client, "px-new")
        finally:
            sampling.set()
            await sampler
            await sampler_conn.close()
            await watch.close()
        print("while the pool was held:\n" + "\n".join(map(str, further)))
        print(f"sessions sampled {len(peaks)} times, at most {max(peaks)}")
        slow = [o for o in further if o.elapsed > 1 + 2]
        assert not slow, "not answered within the pool timeout + 2 s:\n" + "\n".join(map(str, slow))
        problems = faults(further, lambda o: o.is_problem())
        assert not problems, problems
        assert max(peaks) <= 2, f"more sessions than the pool allows: {max(peaks)}"
        assert all(o.status == 200 for o in held), "\n".join(map(str, held))
        for r in rows:
            ledger.updated[r] = ["held"]
        bad = faults(client.since(after), lambda o: o.ok)
        assert not bad, f"after the locks were released: {bad}"
    await ledger.verify(cluster)


def raw_request(service: Service, method: str, path: str, body: bytes = b"", headers: str = "") -> bytes:
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{service.port}\r\nX-API-Key: {service.key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n{headers}Connection: close\r\n\r\n"
    )
    return head.encode() + body


async def hang_up(service: Service, request: bytes, after: float, *, rst: bool) -> bool:
    """Send a whole request, then hang up `after` seconds later unless the answer came first
    (FIN, or RST when `rst`). True when the client hung up before the answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", service.port)
    try:
        writer.write(request)
        await writer.drain()
        try:
            await asyncio.wait_for(reader.read(), after)
        except TimeoutError:
            if rst:
                sock = writer.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()
            return True
        return False
    finally:
        writer.close()


async def test_aborted_clients_leave_no_session_behind(cluster: Cluster, proxy: Proxy) -> None:
    """Pass: 100 requests (lists, items, creates, updates), slowed by 0.3 s of proxy latency each
    way, abandoned by their clients mid-request (FIN or RST, 0.05-1.5 s after sending); then within
    10 s every session of the service is idle (none 'idle in transaction'), all 5 pooled
    connections can be checked out at once (5 PATCHes wait on a row lock together), and the
    service answers reads and writes."""
    limits = {"DB_POOL_SIZE": "5", "DB_POOL_TIMEOUT_S": "3", "IDLE_IN_TRANSACTION_TIMEOUT_MS": "60000"}
    ledger = Ledger("ab-")
    async with running_service(cluster, proxy, **limits) as service, Client(service) as client:
        item = await ledger.create(client, "ab-item")
        chance = random.Random(20261130)  # reproducible delays
        requests: list[tuple[bytes, float, bool]] = []
        for n in range(100):
            kind = n % 4
            if kind == 0:
                request = raw_request(service, "GET", f"{UNITS}?limit=20")
            elif kind == 1:
                request = raw_request(service, "GET", f"{UNITS}/{item}")
            elif kind == 2:
                body = json.dumps(unit_body(f"ab-new{n}")).encode()
                request = raw_request(service, "POST", UNITS, body, f"Idempotency-Key: k-ab-new{n}\r\n")
            else:
                body = json.dumps({"name": f"aborted {n}"}).encode()
                request = raw_request(service, "PATCH", f"{UNITS}/{item}", body, 'If-Match: "1"\r\n')
            requests.append((request, chance.uniform(0.05, 1.5), n % 2 == 0))
        proxy.latency(0.3)
        queue = list(requests)

        async def client_loop() -> int:
            hung_up = 0
            while queue:
                request, after, rst = queue.pop()
                hung_up += await hang_up(service, request, after, rst=rst)
            return hung_up

        hung_up = sum(await asyncio.gather(*(client_loop() for _ in range(10))))
        proxy.heal()
        print(f"{hung_up} of 100 requests abandoned mid-request")
        assert hung_up >= 50, "too few requests were abandoned mid-request to judge"
        watch = await cluster.connect()
        try:

            async def all_idle() -> bool | None:
                rows = await service_backends(watch, cluster)
                return True if all(r["state"] == "idle" for r in rows) else None

            try:
                await eventually(all_idle, 10, "every session of the service idle")
            except AssertionError as error:
                raise AssertionError(
                    f"{error}: {describe_backends(await service_backends(watch, cluster))}"
                ) from None
            etag = (await client.call("GET", f"{UNITS}/{item}")).json()["version"]
            async with RowLock(cluster, [item]) as lock:
                waiting = [
                    asyncio.create_task(
                        client.call(
                            "PATCH",
                            f"{UNITS}/{item}",
                            json={"name": "all"},
                            headers={"If-Match": f'"{etag}"'},
                        )
                    )
                    for _ in range(5)
                ]
                try:
                    await lock_waiters(watch, cluster, 5, within=5)
                finally:
                    await lock.release()
                    together = await asyncio.gather(*waiting)
        finally:
            await watch.close()
        assert sorted(o.status or 0 for o in together) == [200, 412, 412, 412, 412], "\n".join(
            map(str, together)
        )
        after = client.now()
        for n in range(3):
            await client.call("GET", f"{UNITS}?limit=5")
            await client.call("GET", "/ready")
            await ledger.create(client, f"ab-after{n}")
        bad = faults(client.since(after), lambda o: o.ok)
        assert not bad, f"after the abandoned requests: {bad}"


async def test_sigterm_lets_requests_in_flight_finish_then_exits_0(cluster: Cluster, proxy: Proxy) -> None:
    """Pass: with 0.6 s of proxy latency each way (each read takes about 1.2 s), 20 concurrent
    GETs are started and SIGTERM is sent as soon as all 20 have reached the database (well before
    any can finish): all 20 get complete 200 answers, and the process then exits with code 0
    within 20 s of the signal."""
    async with running_service(cluster, proxy, DB_POOL_SIZE="20", DB_POOL_TIMEOUT_S="10") as service:
        async with Client(service, timeout=30, connections=20) as client:
            item = (await client.call("POST", UNITS, json=unit_body("sg-item"))).json()["id"]
            path = f"{UNITS}/{item}"
            proxy.latency(0.05)  # overlapping warm-up: 20 pooled connections, the statement prepared
            for _ in range(10):
                await asyncio.gather(*(client.call("GET", path) for _ in range(20)))
                if proxy.open_connections >= 20:
                    break
            assert proxy.open_connections == 20, f"warm-up opened {proxy.open_connections} connections"
            proxy.latency(0.6)
            sent = proxy.chunks_from_clients
            started = client.now()
            gets = [asyncio.create_task(client.call("GET", path)) for _ in range(20)]
            await until(
                lambda: proxy.chunks_from_clients >= sent + 20, 10, "the 20 GETs reaching the database"
            )
            terminated = client.now()
            service.process.send_signal(signal.SIGTERM)
            answers: list[Outcome] = await asyncio.gather(*gets)
        # The latency was there to keep the requests in flight; the shutdown is judged without it.
        proxy.heal()
        try:
            code: int | None = await asyncio.to_thread(service.process.wait, 20)
        except subprocess.TimeoutExpired:
            code = None
        exited = client.now()
        slowest = max(o.elapsed for o in answers)
        print(
            f"SIGTERM {terminated - started:.2f} s after the GETs started; answers {tally(answers)},"
            f" slowest {slowest:.2f} s; exit code {code}, {exited - terminated:.1f} s after SIGTERM"
        )
        bad = faults(answers, lambda o: o.status == 200 and o.json().get("id") == item)
        assert not bad, bad
        assert code == 0, f"exit code {code} (None: still running 20 s after SIGTERM)"
