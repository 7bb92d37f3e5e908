"""What the fault tests share: a dedicated PostgreSQL, the service as a real process, recording
clients, and the ledger of acknowledged writes that is compared with the database at the end.

Each test module gets its own throwaway embedded PostgreSQL (never the machine's server, never
TEST_DATABASE_URL's), because the tests stop, restart and signal it. Each test starts its own
`python -m app serve` whose DATABASE_URL points at a `Proxy` in front of that PostgreSQL, so that
a test can also break the network between the two.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from app.__main__ import migrate
from app.core.embedded import EmbeddedPostgres, free_port
from tests.conftest import create_database, plain_url
from tests.faults.proxy import Proxy

ROOT = Path(__file__).resolve().parents[2]
API = "/api/v1"
UNITS = f"{API}/admin-units"
APP_NAME = "craftvillage"  # the service's application_name in pg_stat_activity
JSON = dict[str, Any]
T = TypeVar("T")

# Both marks, and a skip for CI's second pass: these tests bring their own embedded PostgreSQL
# whatever TEST_DATABASE_URL says, so running them again when it is set would only cost time.
MARKS = [
    pytest.mark.slow,
    pytest.mark.faults,
    pytest.mark.skipif(
        bool(os.environ.get("TEST_DATABASE_URL")),
        reason="fault tests use a dedicated embedded PostgreSQL; already run in the pass without it",
    ),
    pytest.mark.skipif(sys.platform != "linux", reason="the embedded PostgreSQL and signals need Linux"),
]

# Small limits, so that every fault shows within seconds.
LIMITS = {
    "DB_POOL_SIZE": "4",
    "DB_MAX_OVERFLOW": "0",
    "DB_POOL_TIMEOUT_S": "2",
    "STATEMENT_TIMEOUT_MS": "2000",
    "DB_CONNECT_TIMEOUT_S": "2",
    "LOG_LEVEL": "info",
}


# -- the dedicated PostgreSQL ------------------------------------------------------------------


class Cluster:
    """A throwaway embedded PostgreSQL with one migrated database and an administrator's API key
    (the tests write administrative units, which only administrators may)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.server = EmbeddedPostgres(folder, database="postgres", throwaway=True)
        self.database = ""
        self.key = ""

    def start(self) -> None:
        server_url = self.server.start()
        url = create_database(server_url, "cv_faults")
        self.database = str(make_url(url).database)
        migrate(url)
        made = subprocess.run(
            [sys.executable, "-m", "app", "keys", "create", "--name", "faults", "--role", "admin"],
            cwd=ROOT,
            env=service_environment(url),
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        self.key = made.stdout.strip().splitlines()[-1]

    def close(self) -> None:
        self.server.stop()

    @property
    def port(self) -> int:
        assert self.server.port is not None
        return self.server.port

    def url(self, port: int | None = None) -> str:
        """The database's URL on PostgreSQL itself, or through a proxy listening on `port`;
        the server's own URL (password included) with the port and database changed."""
        url = make_url(self.server.url).set(drivername="postgresql", port=port or self.port)
        return url.set(database=self.database).render_as_string(hide_password=False)

    async def connect(self) -> asyncpg.Connection:
        """A direct connection to PostgreSQL (never through the proxy) for the test's own use."""
        return await asyncpg.connect(plain_url(self.url()), timeout=10)

    # PostgreSQL refuses to run as root, so when we are root these run as EmbeddedPostgres's
    # system user, exactly as it runs its own programs.

    def stop_database(self) -> None:
        """`pg_ctl stop -m fast`: sessions are ended, open transactions rolled back."""
        self.server._run(
            "pg_ctl", "stop", "-D", str(self.server.pgdata), "-m", "fast", "-w", "-t", "60", as_user=True
        )
        if self.server.process is not None:
            self.server.process.wait(30)  # our child: reap it

    def start_database(self) -> None:
        """Start the same postmaster again (same port and options) and wait until it accepts:
        our child with the parent-death signal, as at first, never a daemon (pg_ctl start)."""
        self.server.relaunch()

    def restart_database(self) -> None:
        """`pg_ctl restart -m fast`, in its two halves (see start_database)."""
        self.stop_database()
        self.start_database()

    def postgres_log_tail(self, lines: int = 20) -> str:
        return self.server._log_tail(lines)


@contextmanager
def dedicated_cluster() -> Iterator[Cluster]:
    folder = Path(tempfile.mkdtemp(prefix="craftvillage-faults-"))
    cluster = Cluster(folder)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.close()
        shutil.rmtree(folder, ignore_errors=True)


async def service_backends(conn: asyncpg.Connection, cluster: Cluster) -> list[asyncpg.Record]:
    """The service's sessions in pg_stat_activity: pid, state, wait_event_type, query."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT pid, state, wait_event_type, query FROM pg_stat_activity"
        " WHERE application_name = $1 AND datname = $2 ORDER BY pid",
        APP_NAME,
        cluster.database,
    )
    return rows


def describe_backends(rows: Iterable[asyncpg.Record]) -> str:
    return "; ".join(f"{r['pid']} {r['state']} {r['wait_event_type']} {r['query'][:60]!r}" for r in rows)


class RowLock:
    """A transaction of the test's own holding FOR UPDATE locks on admin_unit rows."""

    def __init__(self, cluster: Cluster, ids: Iterable[int]) -> None:
        self.cluster = cluster
        self.ids = list(ids)
        self._conn: asyncpg.Connection | None = None

    async def __aenter__(self) -> RowLock:
        self._conn = await self.cluster.connect()
        await self._conn.execute("BEGIN")
        await self._conn.execute("SELECT 1 FROM admin_unit WHERE id = ANY($1::bigint[]) FOR UPDATE", self.ids)
        return self

    async def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.execute("ROLLBACK")
            finally:
                await conn.close()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.release()


async def lock_waiters(
    conn: asyncpg.Connection, cluster: Cluster, count: int, within: float = 10
) -> list[int]:
    """Wait until `count` of the service's sessions are blocked on a lock; their pids."""

    async def blocked() -> list[int] | None:
        rows = await service_backends(conn, cluster)
        pids = [r["pid"] for r in rows if r["state"] == "active" and r["wait_event_type"] == "Lock"]
        return pids if len(pids) >= count else None

    return await eventually(blocked, within, f"{count} of the service's sessions waiting on a lock")


# -- the service -------------------------------------------------------------------------------


def service_environment(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"TEST_DATABASE_URL", "DATABASE_URL"}}
    env.update({"DATABASE_URL": database_url, **extra})
    return env


class Service:
    """`python -m app serve --no-migrate` on a free port; its output goes to a log file."""

    def __init__(self, cluster: Cluster, proxy: Proxy, limits: dict[str, str]) -> None:
        self.key = cluster.key
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = cluster.folder / f"service-{self.port}.log"
        env = service_environment(
            cluster.url(proxy.port),
            **{**LIMITS, **limits, "HOST": "127.0.0.1", "PORT": str(self.port)},
        )
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app", "serve", "--no-migrate"],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "the service exited at start:\n" + self.log_tail()
            try:
                if httpx.get(f"{self.base}/ready", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"the service was not ready within {timeout:.0f} s:\n" + self.log_tail())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def trouble(self, lines: int = 60) -> str:
        """The log lines of warnings and errors (JSON lines: level and traceback), for messages."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        found = [
            line
            for line in text.splitlines()
            if '"level": "error"' in line or '"level": "warning"' in line or "Traceback" in line
        ]
        return "\n".join(found[-lines:]) or "(no warnings or errors in the service's log)"

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


@asynccontextmanager
async def running_service(cluster: Cluster, proxy: Proxy, **limits: str) -> AsyncIterator[Service]:
    """The service, ready; stopped afterwards. On a failure its log's tail goes to stderr."""

    def start() -> Service:
        service = Service(cluster, proxy, limits)
        try:
            service.wait_ready()
        except BaseException:
            service.stop()
            raise
        return service

    service = await asyncio.to_thread(start)
    try:
        yield service
    except BaseException:
        print(
            f"--- service log ({service.log_path.name}), last lines:\n{service.log_tail(80)}", file=sys.stderr
        )
        print(f"--- postgres log, last lines:\n{cluster.postgres_log_tail()}", file=sys.stderr)
        raise
    finally:
        await asyncio.to_thread(service.stop)


# -- clients that record what they saw --------------------------------------------------------


@dataclass
class Outcome:
    """One request as the client saw it: an answer, or a transport error, and when."""

    method: str
    path: str
    started: float
    elapsed: float = 0.0
    status: int | None = None
    error: str | None = None
    content_type: str = ""
    retry_after: str | None = None
    body: bytes = b""
    # A 409 (same Idempotency-Key still running) or 412 (the lost answer's write was applied)
    # seen when retrying a write whose earlier attempt failed: part of the retry, not a fault.
    after_failure: bool = False

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def is_problem(self, statuses: Iterable[int] = (503, 504)) -> bool:
        """A problem+json answer with one of these statuses; a 503 must carry Retry-After."""
        if self.status not in set(statuses) or not self.content_type.startswith("application/problem+json"):
            return False
        try:
            body = json.loads(self.body)
        except ValueError:
            return False
        return (
            isinstance(body, dict)
            and body.get("status") == self.status
            and (self.status != 503 or bool(self.retry_after))
        )

    def json(self) -> JSON:
        body: JSON = json.loads(self.body)
        return body

    def __str__(self) -> str:
        answer = self.error or f"{self.status} {self.content_type} retry-after={self.retry_after}"
        text = self.body[:160].decode(errors="replace")
        return f"{self.method} {self.path} at +{self.started:.2f}s took {self.elapsed:.2f}s: {answer} {text}"


class Client:
    """An HTTP client of the service with the administrator's key; records every exchange."""

    def __init__(self, service: Service, *, timeout: float = 20.0, connections: int = 20) -> None:
        self.origin = time.monotonic()
        self.outcomes: list[Outcome] = []
        self.http = httpx.AsyncClient(
            base_url=service.base,
            headers={"X-API-Key": service.key},
            timeout=timeout,
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        )

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.http.aclose()

    def now(self) -> float:
        """Seconds since this client was made (the time base of its outcomes)."""
        return time.monotonic() - self.origin

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: JSON | None = None,
        headers: dict[str, str] | None = None,
        time_limit: float | None = None,
    ) -> Outcome:
        outcome = Outcome(method, path, self.now())
        extra: dict[str, Any] = {} if time_limit is None else {"timeout": time_limit}
        try:
            response = await self.http.request(method, path, json=json, headers=headers, **extra)
            outcome.status = response.status_code
            outcome.content_type = response.headers.get("content-type", "")
            outcome.retry_after = response.headers.get("retry-after")
            outcome.body = response.content
        except httpx.TransportError as error:
            outcome.error = f"{type(error).__name__}: {error}"
        outcome.elapsed = self.now() - outcome.started
        self.outcomes.append(outcome)
        return outcome

    def since(self, moment: float) -> list[Outcome]:
        return [o for o in self.outcomes if o.started >= moment]


def tally(outcomes: Iterable[Outcome]) -> str:
    """Counts of answers, e.g. "200: 41, 503: 7, ReadTimeout: 1"."""
    counts = Counter(o.error.split(":")[0] if o.error else str(o.status) for o in outcomes)
    return ", ".join(f"{k}: {n}" for k, n in sorted(counts.items()))


def faults(outcomes: Iterable[Outcome], allowed: Callable[[Outcome], bool], limit: int = 8) -> str:
    """'' when every outcome is allowed; otherwise the first offenders, one a line."""
    bad = [o for o in outcomes if not allowed(o)]
    return "" if not bad else f"{len(bad)} unexpected:\n" + "\n".join(str(o) for o in bad[:limit])


def ok_or_unavailable(outcome: Outcome) -> bool:
    """2xx, a 503/504 problem, or a retry's 409/412 after an earlier failure of that write."""
    return outcome.ok or outcome.is_problem() or outcome.after_failure


async def eventually(
    check: Callable[[], Awaitable[T | None]], within: float, what: str, interval: float = 0.1
) -> T:
    """Poll `check` until it returns something other than None; fail after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result is not None:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {within:.1f} s: {what}")
        await asyncio.sleep(interval)


async def until(condition: Callable[[], bool], within: float, what: str, interval: float = 0.02) -> None:
    """Poll a plain condition (the proxy's counters, the load's) until it holds."""

    async def check() -> bool | None:
        return True if condition() else None

    await eventually(check, within, what, interval)


async def pause_for(outcome: Outcome) -> None:
    """Honour Retry-After, capped at 0.25 s so that a test samples the service densely."""
    try:
        wait = float(outcome.retry_after or 0.1)
    except ValueError:
        wait = 0.1
    await asyncio.sleep(min(max(wait, 0.05), 0.25))


# -- writes and the ledger of acknowledged ones -----------------------------------------------


# A unit's code must fit its level (a province: two digits), so the writes' labels ("rf-w") are
# not codes: each label is a province coded 99 (no province has it) valid on a day of its own,
# which keeps the (level, code, period) identity unique and finds the label again.
FAULT_CODE = "99"
FIRST_DAY = date(1900, 1, 1)
_DAYS: dict[str, date] = {}


def label_day(label: str) -> date:
    """The day of a write's label: the same day every time the label is asked for."""
    return _DAYS.setdefault(label, FIRST_DAY + timedelta(days=len(_DAYS)))


def unit_body(code: str, name: str | None = None) -> JSON:
    day = label_day(code).isoformat()
    return {
        "code": FAULT_CODE,
        "name": name or f"Đơn vị {code}",
        "level": "province",
        "valid_from": day,
        "valid_to": day,
    }


@dataclass
class Ledger:
    """The writes clients saw acknowledged, compared at the end with what the database holds.

    Creates are POSTs with an Idempotency-Key, retried with the same key after a 503/504 until
    acknowledged (201). Updates are PATCHes with If-Match by the row's only writer, retried after
    a 503/504; a 412 on such a retry means the earlier attempt was applied and only its answer was
    lost, which a read confirms.
    """

    prefix: str
    created: dict[str, int] = field(default_factory=dict)  # code -> id
    updated: dict[int, list[str]] = field(default_factory=dict)  # id -> names acknowledged, in order

    async def create(self, client: Client, code: str, *, within: float = 40.0) -> int:
        assert code.startswith(self.prefix)
        deadline = time.monotonic() + within
        failed = False
        while True:
            outcome = await client.call(
                "POST", UNITS, json=unit_body(code), headers={"Idempotency-Key": f"k-{code}"}
            )
            if outcome.status == 201:
                record_id = int(outcome.json()["id"])
                assert self.created.setdefault(code, record_id) == record_id
                return record_id
            if (
                outcome.status == 409
                and failed
                and outcome.retry_after
                and b"Idempotency-Key" in outcome.body
            ):
                outcome.after_failure = True  # the failed attempt's transaction is still ending
            elif not (outcome.is_problem() or outcome.error):
                raise AssertionError(f"a create was refused: {outcome}")
            failed = True
            if time.monotonic() > deadline:
                raise AssertionError(f"a create was not acknowledged within {within:.0f} s; last: {outcome}")
            await pause_for(outcome)

    async def update(
        self, client: Client, record_id: int, version: int, name: str, *, within: float = 40.0
    ) -> int:
        """PATCH the name; the new version once acknowledged."""
        deadline = time.monotonic() + within
        failed = False
        path = f"{UNITS}/{record_id}"
        while True:
            outcome = await client.call(
                "PATCH", path, json={"name": name}, headers={"If-Match": f'"{version}"'}
            )
            if outcome.status == 200:
                self.updated.setdefault(record_id, []).append(name)
                return int(outcome.json()["version"])
            if outcome.status == 412 and failed:
                outcome.after_failure = True
                current = await client.call("GET", path)
                assert current.status == 200, f"reading back an ambiguous update: {current}"
                row = current.json()
                assert (row["name"], row["version"]) == (name, version + 1), (
                    f"412 on retrying an update that was not applied: {row}"
                )
                self.updated.setdefault(record_id, []).append(name)
                return version + 1
            if not (outcome.is_problem() or outcome.error):
                raise AssertionError(f"an update was refused: {outcome}")
            failed = True
            if time.monotonic() > deadline:
                raise AssertionError(f"an update was not acknowledged within {within:.0f} s; last: {outcome}")
            await pause_for(outcome)

    async def verify(self, cluster: Cluster) -> None:
        """The database holds exactly the acknowledged writes: none lost, none applied twice."""
        conn = await cluster.connect()
        try:
            labels = {day: label for label, day in _DAYS.items() if label.startswith(self.prefix)}
            found = await conn.fetch(
                "SELECT id, valid_from, name, version FROM admin_unit"
                " WHERE level = 'province' AND code = $1 AND valid_from = ANY($2::date[])",
                FAULT_CODE,
                list(labels),
            )
            rows = [{**dict(r), "code": labels[r["valid_from"]]} for r in found]
            events = await conn.fetch(
                "SELECT record_id, action, count(*) AS n FROM audit_event"
                " WHERE resource = 'admin-units' AND record_id = ANY($1::bigint[]) GROUP BY 1, 2",
                [r["id"] for r in rows],
            )
        finally:
            await conn.close()
        codes = Counter(r["code"] for r in rows)
        assert not [c for c, n in codes.items() if n > 1], (
            f"applied twice: {[c for c, n in codes.items() if n > 1]}"
        )
        assert set(codes) - set(self.created) == set(), (
            f"rows never acknowledged: {set(codes) - set(self.created)}"
        )
        assert set(self.created) - set(codes) == set(), (
            f"acknowledged, then lost: {set(self.created) - set(codes)}"
        )
        assert {r["code"]: r["id"] for r in rows} == self.created
        by_id = {r["id"]: r for r in rows}
        counted = {(e["record_id"], e["action"]): e["n"] for e in events}
        for record_id in by_id:
            assert counted.get((record_id, "create")) == 1, f"record {record_id}: create events {counted}"
        for record_id, names in self.updated.items():
            row = by_id[record_id]
            assert (row["version"], row["name"]) == (1 + len(names), names[-1]), (
                f"record {record_id}: {dict(row)} after {len(names)} acknowledged updates"
            )
            assert counted.get((record_id, "update"), 0) == len(names)


# -- load and recovery -------------------------------------------------------------------------


class Load:
    """Writers (idempotent creates, If-Match updates of a row of their own) and readers (a list,
    an item), each a loop with a short pause, until stopped; every exchange is recorded."""

    def __init__(
        self, client: Client, ledger: Ledger, *, writers: int, readers: int, think: float = 0.05
    ) -> None:
        self.client, self.ledger = client, ledger
        self.writers, self.readers, self.think = writers, readers, think
        self.stopping = asyncio.Event()
        self.rounds = 0

    async def _writer(self, n: int) -> None:
        own = await self.ledger.create(self.client, f"{self.ledger.prefix}w{n}")
        version, i = 1, 0
        while not self.stopping.is_set():
            i += 1
            await self.ledger.create(self.client, f"{self.ledger.prefix}w{n}-{i}")
            version = await self.ledger.update(self.client, own, version, f"w{n} v{i}")
            self.rounds += 1
            await asyncio.sleep(self.think)

    async def _reader(self, item: int) -> None:
        while not self.stopping.is_set():
            await self.client.call("GET", f"{UNITS}?limit=5")
            await self.client.call("GET", f"{UNITS}/{item}")
            self.rounds += 1
            await asyncio.sleep(self.think)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Load]:
        item = await self.ledger.create(self.client, f"{self.ledger.prefix}read")
        async with asyncio.TaskGroup() as group:
            for n in range(self.writers):
                group.create_task(self._writer(n))
            for _ in range(self.readers):
                group.create_task(self._reader(item))
            try:
                yield self
            finally:
                self.stopping.set()

    async def wait_rounds(self, count: int, within: float = 20) -> None:
        """Wait until the clients have completed `count` more rounds."""
        target = self.rounds + count
        await until(lambda: self.rounds >= target, within, f"{count} rounds of load", interval=0.05)


async def recovery(
    client: Client,
    probe: Callable[[], Awaitable[list[Outcome]]],
    since: float,
    *,
    within: float = 5.0,
    steady: int = 3,
) -> float:
    """Run `probe` rounds until `steady` rounds in a row fully succeed.

    Fails if any request started more than `within` seconds after `since` (the client's clock)
    does not succeed. Returns when, after `since`, the last failed request started (0 if none).
    """
    last_failure = 0.0
    in_a_row = 0
    while in_a_row < steady:
        round_ = await probe()
        failed = [o for o in round_ if not o.ok]
        late = [o for o in failed if o.started - since > within]
        assert not late, f"failing more than {within:.0f} s after the fault ended:\n" + "\n".join(
            map(str, late)
        )
        if failed:
            last_failure = max(o.started for o in failed) - since
            in_a_row = 0
            await asyncio.sleep(0.1)
        else:
            in_a_row += 1
    return max(last_failure, 0.0)
