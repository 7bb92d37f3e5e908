"""The database stops, restarts, vanishes from the network, kills or freezes sessions, is slow.

Each test runs a real `python -m app serve` whose connections go through a `Proxy` to this
module's own embedded PostgreSQL, and states its pass criterion in its docstring. Timings use
the service's small limits (harness.LIMITS): 2 s statement timeout, 2 s connect timeout.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator

import asyncpg
import pytest

from tests.faults.harness import (
    APP_NAME,
    MARKS,
    UNITS,
    Client,
    Cluster,
    Ledger,
    Load,
    Outcome,
    RowLock,
    dedicated_cluster,
    describe_backends,
    eventually,
    faults,
    lock_waiters,
    ok_or_unavailable,
    recovery,
    running_service,
    service_backends,
    tally,
    unit_body,
    until,
)
from tests.faults.proxy import Proxy

pytestmark = MARKS

STATEMENT_TIMEOUT_S = 2.0
RECOVERY_S = 5.0
BLACKHOLE_BOUND_S = 15.0
CLEAN_WINDOW = 24  # requests started 5 s or more after a recovery, all of which must succeed


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with dedicated_cluster() as made:
        yield made


@pytest.fixture
def proxy(cluster: Cluster) -> Iterator[Proxy]:
    with Proxy(cluster.port) as made:
        yield made


def ok_or_503(outcome: Outcome) -> bool:
    """2xx, or a 503 problem+json with Retry-After (or a retry's 409/412 after such a 503)."""
    return outcome.ok or outcome.is_problem((503,)) or outcome.after_failure


async def read_probe(client: Client, item: int) -> list[Outcome]:
    return [
        await client.call("GET", f"{UNITS}?limit=5", time_limit=10),
        await client.call("GET", f"{UNITS}/{item}", time_limit=10),
        await client.call("GET", "/ready", time_limit=10),
    ]


async def fill_pool(client: Client, proxy: Proxy, item: int, size: int) -> None:
    """Open every connection of the service's pool: bursts of overlapping reads, slowed by the
    proxy so that they overlap, until the proxy carries `size` connections."""
    proxy.latency(0.1)
    try:
        for _ in range(10):
            await asyncio.gather(*(client.call("GET", f"{UNITS}/{item}") for _ in range(size)))
            if proxy.open_connections >= size:
                break
    finally:
        proxy.latency(0)
    assert proxy.open_connections == size, f"{proxy.open_connections} connections, not {size}"


def unavailable_since(client: Client, moment: float) -> int:
    return sum(o.status == 503 for o in client.since(moment))


async def ready_status(client: Client, status: int) -> bool | None:
    return True if (await client.call("GET", "/ready", time_limit=10)).status == status else None


async def test_database_down_then_back_under_load(cluster: Cluster, proxy: Proxy) -> None:
    """Pass: PostgreSQL stopped (pg_ctl stop -m fast) under 2 writers and 2 readers, then started
    again. Every answer, all along, is 2xx or a 503 problem+json with Retry-After (never a 500,
    never a transport error); /ready answers 503 while the database is down; every request started
    5 s or more after the database accepts connections again succeeds, the service never having
    been restarted; the database holds exactly the acknowledged writes (none lost, none twice)."""
    ledger = Ledger("dn-")
    async with running_service(cluster, proxy) as service, Client(service, timeout=15) as client:
        async with Load(client, ledger, writers=2, readers=2).running() as load:
            await load.wait_rounds(10)
            await asyncio.to_thread(cluster.stop_database)
            down = client.now()
            await eventually(
                lambda: ready_status(client, 503), 5, "/ready answering 503 while the database is down"
            )
            # The load meets the stopped database, repeatedly, before it comes back.
            await until(lambda: unavailable_since(client, down) >= 12, 10, "the load meeting the outage")
            await asyncio.to_thread(cluster.start_database)
            up = client.now()
            await eventually(lambda: ready_status(client, 200), RECOVERY_S, "/ready answering 200 again")
            # The load runs on into the window that must be clean, until it holds enough requests.
            await until(
                lambda: len(client.since(up + RECOVERY_S)) >= CLEAN_WINDOW, 60, "requests to judge by"
            )
        assert service.process.poll() is None, "the service exited"
    print(f"down {up - down:.1f} s; {tally(client.outcomes)}")
    problems = faults(client.outcomes, ok_or_503)
    assert not problems, problems + "\nthe service's log:\n" + service.trouble()
    late = client.since(up + RECOVERY_S)
    bad = faults(late, lambda o: o.ok)
    assert not bad, f"{RECOVERY_S:.0f} s after the database came back:\n{bad}"
    await ledger.verify(cluster)


async def test_database_restart_under_load(cluster: Cluster, proxy: Proxy) -> None:
    """Pass: PostgreSQL restarted (pg_ctl restart -m fast) under 2 writers and 2 readers. Every
    answer is 2xx or a 503 problem+json with Retry-After (never a 500, never a transport error);
    every request started 5 s or more after the restarted database accepts connections succeeds,
    without restarting the service; the database holds exactly the acknowledged writes."""
    ledger = Ledger("rs-")
    async with running_service(cluster, proxy) as service, Client(service, timeout=15) as client:
        async with Load(client, ledger, writers=2, readers=2).running() as load:
            await load.wait_rounds(10)
            restarting = client.now()
            await asyncio.to_thread(cluster.restart_database)
            up = client.now()
            # The load runs on into the window that must be clean, until it holds enough requests.
            await until(
                lambda: len(client.since(up + RECOVERY_S)) >= CLEAN_WINDOW, 60, "requests to judge by"
            )
        assert service.process.poll() is None, "the service exited"
    print(f"restart took {up - restarting:.1f} s; {tally(client.outcomes)}")
    problems = faults(client.outcomes, ok_or_503)
    assert not problems, problems + "\nthe service's log:\n" + service.trouble()
    late = client.since(up + RECOVERY_S)
    bad = faults(late, lambda o: o.ok)
    assert not bad, f"{RECOVERY_S:.0f} s after the restart:\n{bad}"
    await ledger.verify(cluster)


async def test_refused_connections_answer_503_then_recover(cluster: Cluster, proxy: Proxy) -> None:
    """Pass: with the database unreachable by refusal (the proxy resets every connection and then
    every new one at once), reads, an idempotent create and /ready each answer a 503 problem+json
    with Retry-After within 5 s; after healing, every request started 5 s or more later succeeds;
    the create, retried with its Idempotency-Key, is stored exactly once."""
    ledger = Ledger("rf-")
    async with running_service(cluster, proxy) as service, Client(service, timeout=15) as client:
        item = await ledger.create(client, "rf-item")
        await fill_pool(client, proxy, item, 4)
        proxy.refuse()
        proxy.reset()
        try:
            refused = [
                await client.call("GET", f"{UNITS}/{item}"),
                await client.call("GET", f"{UNITS}?limit=5"),
                await client.call(
                    "POST", UNITS, json=unit_body("rf-w"), headers={"Idempotency-Key": "k-rf-w"}
                ),
                await client.call("GET", "/ready"),
            ]
        finally:
            proxy.heal()
        healed = client.now()
        print("refused:\n" + "\n".join(map(str, refused)))
        problems = faults(refused, lambda o: o.is_problem((503,)) and o.elapsed <= 5)
        assert not problems, problems
        took = await recovery(client, lambda: read_probe(client, item), healed, within=RECOVERY_S)
        print(f"recovered {took:.1f} s after healing")
        await ledger.create(client, "rf-w")
    await ledger.verify(cluster)


async def test_blackhole_answers_in_bounded_time_then_recovers(cluster: Cluster, proxy: Proxy) -> None:
    """Pass: with the database unreachable without any RST (proxy black hole), a read, an idempotent
    create and /ready on the three pooled connections, which go silent, then a read, a create and
    a list, which need new connections that get no answer, each answer a 503 or 504 problem in
    under 15 s instead of hanging; after healing, every request started 5 s or more later
    succeeds; the creates, retried with their Idempotency-Keys, are each stored exactly once."""
    ledger = Ledger("bh-")
    async with (
        running_service(cluster, proxy, DB_POOL_SIZE="3") as service,
        Client(service, timeout=BLACKHOLE_BOUND_S + 3) as client,
    ):
        item = await ledger.create(client, "bh-item")
        await fill_pool(client, proxy, item, 3)
        proxy.blackhole()
        try:
            # One request per silent pooled connection, then requests that must connect anew.
            pooled = await asyncio.gather(
                client.call("GET", f"{UNITS}/{item}"),
                client.call("POST", UNITS, json=unit_body("bh-w1"), headers={"Idempotency-Key": "k-bh-w1"}),
                client.call("GET", "/ready"),
            )
            fresh = await asyncio.gather(
                client.call("GET", f"{UNITS}?limit=5"),
                client.call("POST", UNITS, json=unit_body("bh-w2"), headers={"Idempotency-Key": "k-bh-w2"}),
                client.call("GET", f"{UNITS}/{item}"),
            )
        finally:
            proxy.heal()
        healed = client.now()
        print("black hole:\n" + "\n".join(map(str, pooled + fresh)))
        slow = [o for o in pooled + fresh if o.elapsed >= BLACKHOLE_BOUND_S]
        assert not slow, "no answer in bounded time:\n" + "\n".join(map(str, slow))
        problems = faults(pooled + fresh, lambda o: o.is_problem())
        assert not problems, problems
        took = await recovery(client, lambda: read_probe(client, item), healed, within=RECOVERY_S)
        print(f"recovered {took:.1f} s after healing")
        await ledger.create(client, "bh-w1")
        await ledger.create(client, "bh-w2")
    await ledger.verify(cluster)


async def test_reset_fails_only_requests_in_flight(cluster: Cluster, proxy: Proxy) -> None:
    """Pass: every connection to the database is reset (RST) while two reads are in flight (0.3 s
    of latency) and the pool's other connections sit idle: the two reads answer 2xx or a 503/504
    problem (no 500, no transport error); every request after the reset (reads, creates, updates,
    /ready) succeeds, none meeting a dead pooled connection."""
    ledger = Ledger("rt-")
    async with running_service(cluster, proxy) as service, Client(service) as client:
        item = await ledger.create(client, "rt-item")
        await fill_pool(client, proxy, item, 4)
        proxy.latency(0.3)
        sent = proxy.chunks_from_clients
        reads = [
            asyncio.create_task(client.call("GET", f"{UNITS}/{item}")),
            asyncio.create_task(client.call("GET", f"{UNITS}?limit=5")),
        ]
        await until(lambda: proxy.chunks_from_clients >= sent + 2, 5, "the reads reaching the database")
        proxy.reset()
        proxy.heal()
        in_flight = await asyncio.gather(*reads)
        print("in flight at the reset:\n" + "\n".join(map(str, in_flight)))
        problems = faults(in_flight, ok_or_unavailable)
        assert not problems, problems
        after = client.now()
        version = 1
        for n in range(4):
            await read_probe(client, item)
            await ledger.create(client, f"rt-after{n}")
            version = await ledger.update(client, item, version, f"after reset {n}")
        seen = client.since(after)
        bad = faults(seen, lambda o: o.ok)
        assert not bad, f"after the reset: {tally(seen)}\n{bad}"
    await ledger.verify(cluster)


async def terminate_service_sessions(watch: asyncpg.Connection, cluster: Cluster) -> list[int]:
    """pg_terminate_backend of every session of the service; returns once they have ended."""
    pids: list[int] = [
        r["pid"]
        for r in await watch.fetch(
            "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = $1 AND datname = $2",
            APP_NAME,
            cluster.database,
        )
    ]

    async def gone() -> bool | None:
        left = [r["pid"] for r in await service_backends(watch, cluster) if r["pid"] in pids]
        return True if not left else None

    await eventually(gone, 5, "the terminated sessions to end")
    return pids


async def test_terminated_idle_sessions_go_unnoticed(cluster: Cluster, proxy: Proxy) -> None:
    """Pass: pg_terminate_backend of every session of the service while all are idle in its pool;
    every request after that (reads, creates, updates, /ready, sequential and concurrent) succeeds:
    not a single error."""
    ledger = Ledger("ti-")
    async with running_service(cluster, proxy) as service, Client(service) as client:
        item = await ledger.create(client, "ti-item")
        await fill_pool(client, proxy, item, 4)
        watch = await cluster.connect()
        try:

            async def all_idle() -> bool | None:
                rows = await service_backends(watch, cluster)
                return True if len(rows) == 4 and all(r["state"] == "idle" for r in rows) else None

            await eventually(all_idle, 5, "the service's sessions idle in its pool")
            pids = await terminate_service_sessions(watch, cluster)
        finally:
            await watch.close()
        after = client.now()
        version = 1
        for n in range(6):
            await read_probe(client, item)
            await ledger.create(client, f"ti-after{n}")
            version = await ledger.update(client, item, version, f"after {n}")
        await asyncio.gather(*(client.call("GET", f"{UNITS}/{item}") for _ in range(8)))
        seen = client.since(after)
        print(f"terminated {len(pids)} idle sessions; then {tally(seen)}")
        bad = faults(seen, lambda o: o.ok)
        assert not bad, f"after terminating {len(pids)} idle sessions:\n{bad}"
    await ledger.verify(cluster)


async def test_terminated_sessions_fail_only_requests_in_flight(cluster: Cluster, proxy: Proxy) -> None:
    """Pass: pg_terminate_backend of every session of the service while two PATCHes wait on row
    locks: only those two may fail, and only as 503/504 problems; every request after that
    succeeds; the database holds exactly the acknowledged writes."""
    ledger = Ledger("tf-")
    async with running_service(cluster, proxy) as service, Client(service) as client:
        rows = [await ledger.create(client, f"tf-row{n}") for n in range(2)]
        item = await ledger.create(client, "tf-item")
        await fill_pool(client, proxy, item, 4)
        watch = await cluster.connect()
        try:
            async with RowLock(cluster, rows) as lock:
                patches = [
                    asyncio.create_task(
                        client.call(
                            "PATCH", f"{UNITS}/{r}", json={"name": "terminated"}, headers={"If-Match": '"1"'}
                        )
                    )
                    for r in rows
                ]
                await lock_waiters(watch, cluster, 2)
                pids = await terminate_service_sessions(watch, cluster)
                await lock.release()
                in_flight = await asyncio.gather(*patches)
        finally:
            await watch.close()
        print(f"terminated {len(pids)} sessions; in flight:\n" + "\n".join(map(str, in_flight)))
        problems = faults(in_flight, ok_or_unavailable)
        assert not problems, problems
        for r, outcome in zip(rows, in_flight, strict=True):
            if outcome.ok:
                ledger.updated[r] = ["terminated"]
        after = client.now()
        for r, outcome in zip(rows, in_flight, strict=True):
            if not outcome.ok:
                await ledger.update(client, r, 1, "after terminate")
        for n in range(6):
            await read_probe(client, item)
            await ledger.create(client, f"tf-after{n}")
        seen = client.since(after)
        bad = faults(seen, lambda o: o.ok)
        assert not bad, f"after terminating the sessions: {tally(seen)}\n{bad}"
    await ledger.verify(cluster)


async def test_frozen_backend_times_out_then_service_keeps_answering(cluster: Cluster, proxy: Proxy) -> None:
    """Pass: a PATCH whose PostgreSQL backend is frozen with SIGSTOP (the service's session found
    'active' in pg_stat_activity, held there by the test's row lock, which is then released) answers
    a 503 or 504 problem within the statement timeout (2 s) + 5 s. After SIGCONT (always sent) that
    session is idle or gone within 5 s, the timed-out PATCH was not applied, and reads, creates and
    updates all succeed again."""
    ledger = Ledger("st-")
    async with running_service(cluster, proxy) as service, Client(service, timeout=15) as client:
        row = await ledger.create(client, "st-row")
        item = await ledger.create(client, "st-item")
        watch = await cluster.connect()
        try:
            async with RowLock(cluster, [row]) as lock:
                patch = asyncio.create_task(
                    client.call(
                        "PATCH", f"{UNITS}/{row}", json={"name": "frozen"}, headers={"If-Match": '"1"'}
                    )
                )
                [pid] = await lock_waiters(watch, cluster, 1)
                os.kill(pid, signal.SIGSTOP)
                try:
                    await lock.release()
                    frozen = await patch
                finally:
                    os.kill(pid, signal.SIGCONT)
            print(f"backend {pid} frozen: {frozen}")
            assert frozen.is_problem(), f"the frozen request: {frozen}"
            assert frozen.elapsed <= STATEMENT_TIMEOUT_S + 5, f"the frozen request: {frozen}"

            async def settled() -> bool | None:
                rows = [r for r in await service_backends(watch, cluster) if r["pid"] == pid]
                return True if not rows or rows[0]["state"] == "idle" else None

            try:
                await eventually(settled, 5, f"backend {pid} idle or gone after SIGCONT")
            except AssertionError as error:
                raise AssertionError(
                    f"{error}: {describe_backends(await service_backends(watch, cluster))}"
                ) from None
        finally:
            await watch.close()
        after = client.now()
        current = await client.call("GET", f"{UNITS}/{row}")
        assert current.ok and current.json()["version"] == 1, f"the timed-out PATCH was applied: {current}"
        version = await ledger.update(client, row, 1, "after freeze")
        for n in range(3):
            await read_probe(client, item)
            await ledger.create(client, f"st-after{n}")
            version = await ledger.update(client, row, version, f"after freeze {n}")
        seen = client.since(after)
        bad = faults(seen, lambda o: o.ok)
        assert not bad, f"after SIGCONT: {tally(seen)}\n{bad}"
    await ledger.verify(cluster)


async def test_statement_timeout_answers_problem_and_connections_stay_usable(
    cluster: Cluster, proxy: Proxy
) -> None:
    """Pass: a PATCH blocked by a row lock the test holds answers a 503/504 problem within the
    statement timeout (2 s) + 2 s; once the lock is released the following requests, on the same
    small pool (2 connections), all succeed, the PATCH retried included."""
    ledger = Ledger("to-")
    async with running_service(cluster, proxy, DB_POOL_SIZE="2") as service, Client(service) as client:
        row = await ledger.create(client, "to-row")
        item = await ledger.create(client, "to-item")
        async with RowLock(cluster, [row]):
            blocked = await client.call(
                "PATCH", f"{UNITS}/{row}", json={"name": "late"}, headers={"If-Match": '"1"'}
            )
        print(f"blocked: {blocked}")
        assert blocked.is_problem(), f"the blocked PATCH: {blocked}"
        assert blocked.elapsed <= STATEMENT_TIMEOUT_S + 2, f"the blocked PATCH: {blocked}"
        after = client.now()
        version = await ledger.update(client, row, 1, "in time")
        for n in range(4):
            await read_probe(client, item)
            await ledger.create(client, f"to-after{n}")
            version = await ledger.update(client, row, version, f"in time {n}")
        seen = client.since(after)
        bad = faults(seen, lambda o: o.ok)
        assert not bad, f"after the statement timeout: {tally(seen)}\n{bad}"
    await ledger.verify(cluster)


async def test_a_statistic_may_take_longer_than_a_single_record_query(cluster: Cluster, proxy: Proxy) -> None:
    """Pass: statistics run under their own, longer limits, the client's included. With the
    statement timeout at 2 s (the client waits 4 s) and the statistics' at 15 s, a programme
    statistic held 6 s by a lock on its table answers 200 once the lock goes (a single-record
    query held so gets a problem: test_statement_timeout_answers_problem_and_connections_stay_usable)."""
    async with (
        running_service(cluster, proxy, STATS_STATEMENT_TIMEOUT_MS="15000") as service,
        Client(service) as client,
    ):
        conn = await cluster.connect()
        try:
            locker = conn.transaction()
            await locker.start()
            await conn.execute("LOCK TABLE programme IN ACCESS EXCLUSIVE MODE")
            stats = asyncio.create_task(
                client.call(
                    "GET", "/api/v1/stats/programmes?group_by=kind", headers={"Cache-Control": "no-cache"}
                )
            )
            await asyncio.sleep(6)
            await locker.rollback()
            answer = await stats
        finally:
            await conn.close()
        print(f"statistic: {answer}")
        assert answer.status == 200, f"the statistic: {answer}"
        assert answer.elapsed >= 6
