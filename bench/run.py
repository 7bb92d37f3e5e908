"""`make bench`: the service under HTTP load on a national-scale database, next to its floor.

1. A separate database: a throwaway embedded PostgreSQL in a temporary folder (fsync,
   synchronous_commit and full_page_writes off: nothing here needs durability), or a new
   database on BENCH_DATABASE_URL's server. Dropped at the end unless --keep.
2. The schema by Alembic (app.__main__.migrate), then the data by COPY (bench/dataset.py), then
   VACUUM (ANALYZE).
3. The SQL of each scenario recorded from the app itself (bench/capture.py), for the floor
   (bench/floor.py): the same statements behind a raw ASGI app on asyncpg + orjson.
4. For 1 and then 2 workers: `python -m app serve --no-migrate`, then the floor under uvicorn, each
   loaded by wrk over loopback (32 connections, 2 threads, a warm-up, then --duration seconds per
   scenario), their memory sampled every 0.2 s.
5. docs/benchmarks.md and bench-results/<time>/results.json.

Missing a target is reported (PASS/MISS), not an error: the exit status is 0 when the benchmark
ran. It is 1 when a response was not 2xx/3xx, a socket error occurred, or the floor's answer
differs from the service's (the comparison would be meaningless), and 2 when it could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WRK_SCRIPT = ROOT / "bench" / "wrk.lua"
DEFAULT_DOC = ROOT / "docs" / "benchmarks.md"
DEFAULT_RESULTS = ROOT / "bench-results"
MB = 1_000_000

# The targets (issue): reported against, never fatal.
LIST_ITEM_MIN_RATIO = 0.8  # service req/s >= 0.8 x the floor's
STATS_P50_MAX_RATIO = 1.2  # service p50 <= 1.2 x the floor's, same query
PLACES_P50_MAX_RATIO = 1.5  # stats by the communes of 2025-07-01 p50 <= 1.5 x by those recorded
CACHED_MIN_RATIO = 10.0  # unchanged data: >= 10 x the throughput of computing it
RSS_MAX_MB_PER_WORKER = 300


class SetupError(RuntimeError):
    """The benchmark cannot run here (no wrk, no database...)."""


class ProbeFailed(RuntimeError):
    """A server did not answer a scenario's request as expected before the load."""


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# -- scenarios ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    target: str  # path and query; for the item scenario, the path prefix
    headers: dict[str, str] = field(default_factory=dict)
    kind: str = "list"  # list | item | overview | grouped
    floor: bool = True  # the floor runs it (the cached scenarios compare with computing)
    expect: int = 200


BY_COMMUNE = "/api/v1/stats/villages?group_by=commune&year=2020"


def scenarios(district_id: int) -> list[Scenario]:
    no_cache = {"Cache-Control": "no-cache"}
    programmes = "/api/v1/stats/programmes?group_by=year,funding_source"
    return [
        Scenario(
            "list",
            "filtered, sorted village list",
            f"/api/v1/villages?district_id={district_id}&craft_group=handicraft"
            "&sort=-households_total&limit=50",
        ),
        Scenario("item", "one village by id (random ids)", "/api/v1/villages/", kind="item"),
        Scenario(
            "overview",
            "stats overview, computed (no-cache)",
            "/api/v1/stats/overview?year=2020",
            no_cache,
            kind="overview",
        ),
        Scenario(
            "programmes",
            "programme stats by year, funding source, computed (no-cache)",
            programmes,
            no_cache,
            kind="grouped",
        ),
        Scenario("cached", "same programme stats from cache (200)", programmes, kind="grouped", floor=False),
        # Places of a date (app/kit/timeline.py): the same statistic grouped by the communes as
        # recorded, and by those of 2025-07-01 (every village followed through the successions).
        Scenario(
            "by_commune",
            "village stats of 2020 by commune as recorded, computed (no-cache)",
            BY_COMMUNE,
            no_cache,
            kind="grouped",
            floor=False,
        ),
        Scenario(
            "by_commune_today",
            "same by the communes of 2025-07-01 (as_of), computed (no-cache)",
            BY_COMMUNE + "&as_of=2025-07-01",
            no_cache,
            kind="grouped",
            floor=False,
        ),
        Scenario(
            "not_modified",
            "same programme stats, If-None-Match (304)",
            programmes,
            kind="grouped",
            floor=False,
            expect=304,
        ),
    ]


# -- wrk ---------------------------------------------------------------------------------------


def ensure_wrk() -> str:
    """wrk's path; installs Debian's package when root with apt-get, otherwise explains."""
    found = shutil.which("wrk")
    if found:
        return found
    apt = shutil.which("apt-get")
    if os.geteuid() == 0 and apt:
        say("wrk is missing: apt-get install -y wrk")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run([apt, "update", "-qq"], check=False, env=env)
        subprocess.run([apt, "install", "-y", "-qq", "wrk"], check=False, env=env)
        found = shutil.which("wrk")
        if found:
            return found
    raise SetupError(
        "the HTTP load generator wrk is not installed. Install it (Debian/Ubuntu: "
        "`sudo apt-get install wrk`; macOS: `brew install wrk`) and run `make bench` again."
    )


def wrk_version(wrk: str) -> str:
    result = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False)
    first = (result.stdout or result.stderr).splitlines()
    # "wrk debian/4.1.0-3+b2 [epoll] Copyright (C) 2012 Will Glozer"
    return first[0].split(" Copyright")[0].removeprefix("wrk ").strip() if first else "unknown"


RESULT_LINE = re.compile(r"^BENCH_RESULT (\{.*\})\s*$", re.MULTILINE)


def run_wrk(
    wrk: str, base: str, scenario: Scenario, options: argparse.Namespace, *, duration: float, ids_file: Path
) -> dict[str, Any]:
    headers = dict(scenario.headers)
    env = {**os.environ, "BENCH_SEED": str(options.seed)}
    url = base + scenario.target
    if scenario.kind == "item":
        env |= {"BENCH_IDS_FILE": str(ids_file), "BENCH_PATH_PREFIX": scenario.target}
        url = base + scenario.target + ids_file.read_text().split()[0]
    command = [
        wrk,
        "-t", str(options.threads),
        "-c", str(options.connections),
        "-d", f"{duration:g}s",
        "--timeout", f"{options.timeout:g}s",
        "-s", str(WRK_SCRIPT),
    ]  # fmt: skip
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command.append(url)

    from bench.procs import prioritise_self

    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env=env,
        check=False,
        start_new_session=True,  # its own autogroup, whose priority it sets
        preexec_fn=(lambda: prioritise_self(options.nice)) if options.nice else None,
    )
    match = RESULT_LINE.search(result.stdout)
    if result.returncode != 0 or match is None:
        raise RuntimeError(f"wrk failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    parsed: dict[str, Any] = json.loads(match.group(1))
    parsed["statuses"] = {int(k): v for k, v in parsed["statuses"].items()}
    parsed["command"] = shlex.join(command)
    parsed["output"] = result.stdout
    return parsed


# -- HTTP probes -------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def get(url: str, headers: dict[str, str] | None = None, timeout: float = 120) -> Answer:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - loopback only
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return Answer(
                response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
            )
    except urllib.error.HTTPError as error:
        return Answer(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())


# -- the database ------------------------------------------------------------------------------


@dataclass
class Database:
    url: str  # postgresql+asyncpg://... for the app
    dsn: str  # postgresql://... for asyncpg
    kind: str  # "embedded" or "BENCH_DATABASE_URL"
    postgres_pid: int | None  # the postmaster, when we started it
    settings: dict[str, str] = field(default_factory=dict)


def plain(url: str) -> str:
    from sqlalchemy.engine import make_url

    from app.core.settings import async_url

    return make_url(async_url(url)).set(drivername="postgresql").render_as_string(hide_password=False)


def with_database(url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    from app.core.settings import async_url

    return make_url(async_url(url)).set(database=name).render_as_string(hide_password=False)


async def _admin(dsn: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextlib.contextmanager
def bench_database(options: argparse.Namespace) -> Iterator[Database]:
    """A new database for the benchmark on BENCH_DATABASE_URL's server, or on an embedded one."""
    name = f"cv_bench_{uuid.uuid4().hex[:8]}"
    given = os.environ.get("BENCH_DATABASE_URL")
    if given:
        server = plain(given)
        say(f"creating database {name} on BENCH_DATABASE_URL's server")
        asyncio.run(_admin(server, f'CREATE DATABASE "{name}"'))
        url = with_database(given, name)
        try:
            yield Database(url, plain(url), "BENCH_DATABASE_URL", None)
        finally:
            if options.keep:
                say(f"kept database {name}: {plain(url)}")
            else:
                asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                say(f"dropped database {name}")
        return

    from app.core.embedded import EmbeddedPostgres

    folder = (
        Path(options.data_dir) if options.data_dir else Path(tempfile.mkdtemp(prefix="craftvillage-bench-"))
    )
    # A throwaway server: fsync, synchronous_commit and full_page_writes off (app.core.embedded).
    embedded = EmbeddedPostgres(folder, database="postgres", throwaway=True)
    say(f"starting an embedded PostgreSQL in {folder} (durability off: fsync, synchronous_commit)")
    server = plain(embedded.start())
    try:
        asyncio.run(_admin(server, f'CREATE DATABASE "{name}"'))
        url = with_database(embedded.url, name)
        assert embedded.process is not None
        yield Database(url, plain(url), "embedded", embedded.process.pid)
    finally:
        if not options.keep:
            with contextlib.suppress(Exception):
                asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        embedded.stop()
        if options.keep:
            say(f"kept the embedded server's data in {folder} (database {name})")
        elif not options.data_dir:
            shutil.rmtree(folder, ignore_errors=True)


async def server_facts(dsn: str) -> dict[str, str]:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        facts = {"server_version": str(await conn.fetchval("SHOW server_version"))}
        for name in (
            "shared_buffers", "work_mem", "effective_cache_size", "max_parallel_workers_per_gather",
            "jit", "fsync", "synchronous_commit", "full_page_writes", "max_connections",
        ):  # fmt: skip
            facts[name] = str(await conn.fetchval(f"SHOW {name}"))
        facts["jit_available"] = str(await conn.fetchval("SELECT pg_jit_available()"))
        facts["database_size"] = str(
            await conn.fetchval("SELECT pg_size_pretty(pg_database_size(current_database()))")
        )
        return facts
    finally:
        await conn.close()


async def wait_idle(dsn: str, limit_s: float = 90, quiet_s: float = 1.0) -> float:
    """Cancel what requests abandoned by wrk at the end of a run still execute, until no other
    session of the bench database has been busy (running a statement or in a transaction) for
    `quiet_s`; the seconds it took. Requests still waiting for a pooled connection get one and
    are cancelled in turn. Their answers go to no one: only the next measurement matters."""
    import asyncpg

    started = time.monotonic()
    quiet_since: float | None = None
    conn = await asyncpg.connect(dsn)
    try:
        while time.monotonic() - started < limit_s:
            busy = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state <> 'idle' AND backend_type = 'client backend'"
            )
            now = time.monotonic()
            if busy:
                quiet_since = None
                await conn.execute(
                    "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND state = 'active' AND backend_type = 'client backend'"
                )
            elif quiet_since is None:
                quiet_since = now
            elif now - quiet_since >= quiet_s:
                break
            await asyncio.sleep(0.05)
    finally:
        await conn.close()
    return time.monotonic() - started


# -- the scenarios' SQL, from the app ----------------------------------------------------------


def capture_floor_config(  # noqa: PLR0912
    db: Database, all_scenarios: list[Scenario], item_ids: list[int], district_id: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Record what the app sends for each scenario; the floor's configuration and what was seen."""
    from bench.capture import encode_param, exchange

    item_a, item_b = item_ids[0], item_ids[1]
    requests: list[tuple[str, dict[str, str]]] = []
    for s in all_scenarios:
        if s.floor:
            if s.kind == "item":
                requests += [(s.target + str(item_a), {}), (s.target + str(item_b), {})]
            else:
                requests.append((s.target, s.headers))
    district_stats = f"/api/v1/stats/villages?district_id={district_id}&group_by=year"
    requests.append((district_stats, {"Cache-Control": "no-cache"}))
    seen = asyncio.run(exchange(db.url, requests))
    by_target = {(e.target): e for e in seen["exchanges"]}
    for e in seen["exchanges"]:
        if e.status != 200:
            raise RuntimeError(f"the app answered {e.status} to {e.target}: {e.body[:500]!r}")
        if not e.data_calls:
            raise RuntimeError(f"no data statement recorded for {e.target}: {[c.sql for c in e.calls]}")

    from app.models import CooperativeSector, CraftGroup, FairKind, ProgrammeKind

    session_settings = {k: v for k, v in seen["session_settings"].items() if k != "client_encoding"}
    limits = {e.target: e.statement_timeout_ms(seen["statement_timeout_ms"]) for e in seen["exchanges"]}
    config: dict[str, Any] = {
        "pool": {**seen["pool"], "server_settings": session_settings},
        "scenarios": [],
    }
    for s in all_scenarios:
        if not s.floor:
            continue
        if s.kind == "item":
            a, b = by_target[s.target + str(item_a)], by_target[s.target + str(item_b)]
            (call_a,), (call_b,) = a.data_calls, b.data_calls
            differing = [
                i for i, (x, y) in enumerate(zip(call_a.params, call_b.params, strict=True)) if x != y
            ]
            if call_a.sql != call_b.sql or differing != [call_a.params.index(item_a)]:
                raise RuntimeError("cannot tell which parameter of the item statement is the id")
            entry: dict[str, Any] = {
                "kind": "item",
                "prefix": s.target,
                "id_param": differing[0],
                "statements": [{"sql": call_a.sql, "params": [encode_param(p) for p in call_a.params]}],
            }
        else:
            e = by_target[s.target]
            entry = {
                "kind": s.kind,
                "target": s.target,
                "statements": [
                    {"sql": c.sql, "params": [encode_param(p) for p in c.params]} for c in e.data_calls
                ],
            }
            if s.kind == "list":
                query = dict(urllib.parse.parse_qsl(s.target.split("?", 1)[1]))
                entry |= {"limit": int(query.get("limit", 50)), "offset": int(query.get("offset", 0))}
            elif s.kind == "overview":
                body = e_json(e.body)
                entry |= {
                    "year": body["year"],
                    "codes": {
                        "craft_group": [c.value for c in CraftGroup],
                        "sector": [c.value for c in CooperativeSector],
                        "fair_kind": [c.value for c in FairKind],
                        "programme_kind": [c.value for c in ProgrammeKind],
                    },
                }
            elif s.kind == "grouped":
                entry |= grouped_shape(s.target)
        first = by_target[s.target + str(item_a)] if s.kind == "item" else by_target[s.target]
        entry["statement_timeout_ms"] = limits[first.target]
        entry["local_settings"] = first.local_settings()
        config["scenarios"].append(entry)
    asyncio.run(_row_shapes(db.dsn, config))
    captured = {
        "statements": {
            e.target: [
                {"sql": c.sql, "params": [repr(p) for p in c.params], "data": c.is_data} for c in e.calls
            ]
            for e in seen["exchanges"]
        },
        "district_stats": {
            "target": district_stats,
            "statements": [{"sql": c.sql, "params": c.params} for c in by_target[district_stats].data_calls],
        },
        "session_settings": session_settings,
        "pool": seen["pool"],
        "statement_timeout_ms": seen["statement_timeout_ms"],
        "uncontended_seconds": {e.target: round(e.seconds, 3) for e in seen["exchanges"]},
        "statement_timeouts_ms": {e.target: limits[e.target] for e in seen["exchanges"]},
    }
    for e in seen["exchanges"]:
        limit = limits[e.target]
        over = f" (longer than its statement timeout, {limit / 1000:g} s)" if e.seconds * 1000 > limit else ""
        say(f"  one request alone, in-process: {e.target}: {e.seconds:.3f} s{over}")
    return config, captured


def e_json(body: bytes) -> Any:
    return json.loads(body)


def grouped_shape(target: str) -> dict[str, Any]:
    """Dimensions (with labels) and measures of a grouped statistic, from app.stats.specs."""
    from app.stats.specs import ALL_STATS

    path, query = target.split("?", 1)
    stats = next(s for s in ALL_STATS if path.endswith("/" + s.path))
    dims = dict(urllib.parse.parse_qsl(query))["group_by"].split(",")
    dimensions = []
    for name in dims:
        dimension = stats.dimensions[name]
        entry: dict[str, Any] = {"name": name, "kind": dimension.kind}
        if dimension.kind == "enum" and dimension.enum is not None:
            entry["labels"] = {m.value: [m.vi, m.en] for m in dimension.enum}
        dimensions.append(entry)
    return {"dimensions": dimensions, "measures": list(stats.measures)}


async def _row_shapes(dsn: str, config: dict[str, Any]) -> None:
    """Whether the list and item statements return a record's JSON (a text column) or columns."""
    import asyncpg

    from bench.floor import decode_param

    conn = await asyncpg.connect(dsn, server_settings=config["pool"]["server_settings"])
    try:
        for entry in config["scenarios"]:
            if entry["kind"] not in ("list", "item"):
                continue
            statement = entry["statements"][0]
            row = await conn.fetchrow(statement["sql"], *[decode_param(p) for p in statement["params"]])
            if row is None:
                raise RuntimeError(f"the {entry['kind']} statement returned no row")
            first = row[0]
            entry["json_column"] = 0 if isinstance(first, str) and first.lstrip().startswith("{") else None
            if entry["kind"] == "list":
                keys = list(row.keys())
                entry["total_column"] = "total" if "total" in keys else keys[-1]
    finally:
        await conn.close()


# -- EXPLAIN -----------------------------------------------------------------------------------

PLAN_NODE = re.compile(
    r"(Index Only Scan|Index Scan|Bitmap Index Scan|Seq Scan)(?: Backward)?(?: using| on) (\S+)"
)


async def explain_all(dsn: str, config: dict[str, Any], captured: dict[str, Any]) -> list[dict[str, Any]]:
    import asyncpg

    from bench.floor import decode_param

    wanted: list[tuple[str, str, list[Any]]] = []
    for entry in config["scenarios"]:
        statement = entry["statements"][0]
        title = {
            "list": "the filtered village list (scenario 1)",
            "item": "one village by id (scenario 2)",
            "overview": "the overview (scenario 3)",
            "grouped": "the programme statistics, rows (scenario 4)",
        }[entry["kind"]]
        wanted.append((title, statement["sql"], [decode_param(p) for p in statement["params"]]))
    district = captured["district_stats"]
    # Its rows query (the one that groups; a lookup of the years covered comes first).
    rows_query = next(
        (s for s in district["statements"] if "GROUP BY" in s["sql"]), district["statements"][0]
    )
    wanted.insert(
        2,
        (
            f"village statistics of one district ({district['target']})",
            rows_query["sql"],
            list(rows_query["params"]),
        ),
    )
    plans = []
    conn = await asyncpg.connect(dsn, server_settings=config["pool"]["server_settings"])
    try:
        for title, sql, params in wanted:
            rows = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, *params)
            text = [r[0] for r in rows]
            scans = [f"{m.group(1)} {m.group(2)}" for line in text for m in PLAN_NODE.finditer(line)]
            plans.append({"title": title, "sql": sql, "plan": text, "scans": scans})
    finally:
        await conn.close()
    return plans


def abridge(plan: list[str], limit: int = 30) -> list[str]:
    """Plan nodes with their index conditions and the timings; buffers only on the top node."""
    keep = []
    for index, line in enumerate(plan):
        stripped = line.strip()
        if (
            index == 0
            or stripped.startswith("->")
            or stripped.startswith(("Index Cond", "Recheck Cond", "Filter:", "Hash Cond", "Join Filter"))
            or stripped.startswith(("Planning Time", "Execution Time", "JIT:"))
            or (index == 1 and stripped.startswith("Buffers"))
        ):
            keep.append(line if len(line) <= 160 else line[:157] + "...")
    if len(keep) > limit:
        keep = [*keep[: limit - 3], "   ...", *keep[-2:]]
    return keep


# -- servers -----------------------------------------------------------------------------------


class Server:
    """The service or the floor, as a process group we started and stop."""

    def __init__(
        self, name: str, command: list[str], env: dict[str, str], *, port: int, log_path: Path, ready: str
    ) -> None:
        self.name = name
        self.command = command
        self.env = env
        self.port = port
        self.log_path = log_path
        self.ready_path = ready
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, workers: int) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child keeps it
        try:
            self.process = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log.close()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start:\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                if get(self.base + self.ready_path, timeout=2).status == 200:
                    break
            time.sleep(0.2)
        else:
            raise RuntimeError(f"{self.name} was not ready within 90 s:\n{self.log_tail()}")
        # With several workers, wait until each has started (the supervisor plus N children).
        from bench.procs import tree

        while workers > 1 and time.monotonic() < deadline:
            started = self.log_path.read_text(errors="replace").count("Application startup complete")
            if started >= workers and len(tree(self.process.pid)) > workers:
                break
            time.sleep(0.2)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)

    def worker_pids(self) -> list[int]:
        from bench.procs import tree

        assert self.process is not None
        return tree(self.process.pid)

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def log_since(self, offset: int) -> str:
        with open(self.log_path, "rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def pinned_settings() -> dict[str, str]:
    """The service's pool and timeout settings at their defaults, as environment variables: a
    developer's .env cannot change the comparison (the environment wins over .env)."""
    from app.core.settings import Settings

    pinned = {}
    for name, info in Settings.model_fields.items():
        if name.startswith(("db_", "stats_")) or name.endswith("timeout_ms"):
            pinned[name.upper()] = str(info.default)
    return pinned


def service_server(db: Database, workers: int, port: int, options: argparse.Namespace, logs: Path) -> Server:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {
        "DATABASE_URL": db.url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WORKERS": str(workers),
        "LOG_LEVEL": options.log_level,
        **pinned_settings(),
    }
    command = [sys.executable, "-m", "app", "serve", "--no-migrate"]
    return Server(
        "service", command, env, port=port, log_path=logs / f"service-w{workers}.log", ready="/ready"
    )


def floor_server(
    db: Database, workers: int, port: int, options: argparse.Namespace, *, logs: Path, config: Path
) -> Server:
    env = {**os.environ, "FLOOR_CONFIG": str(config), "FLOOR_DATABASE_URL": db.dsn}
    command = [
        sys.executable, "-m", "uvicorn", "--factory", "bench.floor:create",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--log-level", options.log_level, "--no-proxy-headers",
    ]  # fmt: skip
    return Server("floor", command, env, port=port, log_path=logs / f"floor-w{workers}.log", ready="/health")


def failure_causes(app: str, log: str) -> dict[str, int]:
    """Failed requests in a stretch of a server's log, by cause. The service logs a warning for a
    statement timeout and answers 503 without a log line when no pooled connection frees in time;
    the floor lets asyncpg's exceptions reach uvicorn, which logs their tracebacks."""
    causes: dict[str, int] = {}
    if app == "service":
        answered_503 = len(re.findall(r'" 503 ', log))
        timeouts = log.count("statement timeout")
        causes = {
            "statement timeout": timeouts,
            "no pooled connection in time (503, unlogged)": answered_503 - timeouts,
        }
    else:
        causes = {
            "statement timeout": len(re.findall(r"^\S*QueryCanceledError", log, re.MULTILINE)),
            "no pooled connection in time": len(
                re.findall(r"^(asyncio\.exceptions\.)?TimeoutError", log, re.MULTILINE)
            ),
        }
    return {k: v for k, v in causes.items() if v > 0}


# -- one server under load ---------------------------------------------------------------------


@dataclass
class Measured:
    scenario: str
    app: str
    workers: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    requests: int
    statuses: dict[int, int]
    errors: dict[str, int]
    cpu_cores: dict[str, float | None]
    peak_rss_mb: float
    drain_s: float
    command: str
    # Why requests failed, from the server's log during the measurement and the drain after it.
    causes: dict[str, int] = field(default_factory=dict)

    @property
    def failed(self) -> int:
        """Responses outside 2xx/3xx, and socket errors."""
        bad = sum(n for status, n in self.statuses.items() if not 200 <= status < 400)
        # wrk's "status" error count is the responses >= 400 again; the rest are socket errors.
        return bad + sum(n for kind, n in self.errors.items() if kind != "status")

    @property
    def ok_rps(self) -> float:
        """Requests/s answered 2xx or 3xx."""
        return (
            self.rps * (self.requests - min(self.failed, self.requests)) / self.requests
            if self.requests
            else 0.0
        )


class Running:
    """A started server with its memory sampler, the answers it gave to the probes."""

    def __init__(self, server: Server, workers: int) -> None:
        from bench.procs import RssSampler

        say(f"{server.name}, {workers} worker(s): starting on port {server.port}")
        server.start(workers)
        assert server.process is not None
        self.server = server
        self.workers = workers
        self.sampler = RssSampler(server.process.pid).start()
        self.answers: dict[str, Answer] = {}
        self.pids: list[int] = []

    def probe(self, scenario: Scenario, first_id: str) -> Scenario:
        """One request before the load: the status must be the expected one. Returns the scenario
        as it is to be run (with the ETag of the cached answer for the 304 scenario)."""
        target = scenario.target + (first_id if scenario.kind == "item" else "")
        headers = dict(scenario.headers)
        if scenario.key == "not_modified":
            cached = self.answers.get("cached")
            etag = cached.headers.get("etag") if cached else None
            if not etag:
                raise ProbeFailed("no ETag: the cached statistics were not obtained")
            headers["If-None-Match"] = etag
            scenario = Scenario(**{**asdict(scenario), "headers": headers})
        started = time.monotonic()
        answer = get(self.server.base + target, headers)
        seconds = time.monotonic() - started
        if answer.status != scenario.expect:
            raise ProbeFailed(
                f"{self.server.name} answered {answer.status} to {target} (expected {scenario.expect}): "
                f"{answer.body[:300]!r} after {seconds:.1f} s"
            )
        self.answers[scenario.key] = answer
        if scenario.key == "cached" and answer.headers.get("x-stats-source") not in ("memory", "shared"):
            say(f"  note: the cached request was {answer.headers.get('x-stats-source')!r}, not from cache")
        return scenario

    def measure(
        self, scenario: Scenario, wrk: str, options: argparse.Namespace, db: Database, ids_file: Path
    ) -> Measured:
        from bench.procs import CpuMeter

        assert self.server.process is not None
        if options.nice:
            from bench.procs import prioritise, tree

            prioritise(
                tree(self.server.process.pid) + (tree(db.postgres_pid) if db.postgres_pid else []),
                options.nice,
            )
        self.sampler.phase = scenario.key
        if options.warmup > 0:
            run_wrk(wrk, self.server.base, scenario, options, duration=options.warmup, ids_file=ids_file)
        drain = asyncio.run(wait_idle(db.dsn))
        log_from = self.server.log_size()
        with CpuMeter(self.server.process.pid, db.postgres_pid) as meter:
            result = run_wrk(
                wrk, self.server.base, scenario, options, duration=options.duration, ids_file=ids_file
            )
        window_log = self.server.log_since(log_from)  # before the cancellations of the drain
        drain += asyncio.run(wait_idle(db.dsn))
        causes = failure_causes(self.server.name, window_log)
        self.sampler.phase = "idle"
        errors = {k: v for k, v in result["errors"].items() if v}
        row = Measured(
            scenario=scenario.key,
            app=self.server.name,
            workers=self.workers,
            rps=result["rps"],
            p50_ms=result["p50_us"] / 1000,
            p90_ms=result["p90_us"] / 1000,
            p99_ms=result["p99_us"] / 1000,
            requests=result["requests"],
            statuses=result["statuses"],
            errors=errors,
            cpu_cores=meter.split.cores(),
            peak_rss_mb=self.sampler.peak.by_phase.get(scenario.key, 0) / MB,
            drain_s=round(drain, 2),
            command=result["command"],
            causes=causes,
        )
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(row.statuses.items()))
        cores = row.cpu_cores
        say(
            f"  {self.server.name:<7} {scenario.key:<13} {row.rps:9.1f} req/s  p50 {row.p50_ms:8.2f} ms  "
            f"p99 {row.p99_ms:8.2f} ms  [{statuses}]  cpu: app {cores['server']}, pg {cores['postgres']}, "
            f"other {cores['other']}{'  ERRORS ' + str(errors) if errors else ''}"
        )
        return row

    def stop(self) -> dict[str, Any]:
        with contextlib.suppress(Exception):
            self.pids = self.server.worker_pids()
        peak = self.sampler.stop()
        self.server.stop()
        memory = {
            "peak_total_mb": peak.total / MB,
            "peak_per_worker_mb": peak.total / MB / self.workers,
            "processes": [
                {"pid": pid, "peak_mb": rss / MB, "command": peak.commands.get(pid, "?")}
                for pid, rss in sorted(peak.by_pid.items())
            ],
            "samples": peak.samples,
        }
        say(
            f"  {self.server.name}: peak RSS {memory['peak_total_mb']:.1f} MB in all, "
            f"{memory['peak_per_worker_mb']:.1f} MB per worker"
        )
        return memory


def measure_pair(
    db: Database,
    workers: int,
    *,
    plan: list[Scenario],
    wrk: str,
    options: argparse.Namespace,
    ids_file: Path,
    logs: Path,
    config_path: Path,
) -> tuple[list[Measured], dict[str, Any], list[dict[str, Any]], list[str]]:
    """The service and the floor, both running; each scenario measured on the one, then at once
    on the other, so that both see the same conditions on a machine that others share."""
    from app.core.embedded import free_port

    first_id = ids_file.read_text().split()[0]
    service = Running(service_server(db, workers, free_port(), options, logs), workers)
    floor: Running | None = None
    rows: list[Measured] = []
    memory: dict[str, Any] = {}
    skipped: list[str] = []
    try:
        floor = Running(
            floor_server(db, workers, free_port(), options, logs=logs, config=config_path), workers
        )
        for scenario in plan:
            try:
                run = service.probe(scenario, first_id)
                if scenario.floor:
                    floor.probe(scenario, first_id)
            except ProbeFailed as failure:
                say(f"  SKIPPED {scenario.key}: {failure}")
                skipped.append(f"{workers} worker(s), {scenario.key}: {failure}")
                continue
            rows.append(service.measure(run, wrk, options, db, ids_file))
            if scenario.floor:
                rows.append(floor.measure(run, wrk, options, db, ids_file))
    finally:
        memory["service"] = service.stop()
        if floor is not None:
            memory["floor"] = floor.stop()
    checks = compare_answers(service.answers, floor.answers) if floor is not None else []
    return rows, memory, checks, skipped


# -- verification ------------------------------------------------------------------------------


def compare_answers(service: dict[str, Answer], floor: dict[str, Answer]) -> list[dict[str, Any]]:
    """The floor must answer what the service answers, for one request of each scenario."""
    checks = []
    for key, floor_answer in floor.items():
        ours = service.get(key)
        if ours is None:
            continue
        same = ours.json() == floor_answer.json()
        checks.append(
            {
                "scenario": key,
                "same": same,
                "service_bytes": len(ours.body),
                "floor_bytes": len(floor_answer.body),
                "service_sample": ours.body[:200].decode(errors="replace"),
                "floor_sample": floor_answer.body[:200].decode(errors="replace"),
            }
        )
    return checks


# -- report ------------------------------------------------------------------------------------


def versions(wrk: str, facts: dict[str, str]) -> dict[str, str]:
    out = {"Python": platform.python_version(), "PostgreSQL": facts.get("server_version", "?")}
    for package in (
        "fastapi",
        "starlette",
        "pydantic",
        "SQLAlchemy",
        "asyncpg",
        "uvicorn",
        "uvloop",
        "httptools",
        "orjson",
    ):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = "not installed"
    out["wrk"] = wrk_version(wrk)
    return out


def machine() -> dict[str, Any]:
    meminfo = Path("/proc/meminfo").read_text()
    total_kb = int(re.search(r"MemTotal:\s+(\d+)", meminfo).group(1))  # type: ignore[union-attr]
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(total_kb / 1024 / 1024, 1),
        "cpu": cpu,
        "kernel": platform.release(),
        "load_average_at_start": os.getloadavg(),
    }


def the_command(argv: list[str]) -> str:
    if os.environ.get("MAKELEVEL"):
        args = os.environ.get("BENCH_ARGS", "").strip()
        return "make bench" + (f" BENCH_ARGS={shlex.quote(args)}" if args else "")
    return shlex.join(["python", "-m", "bench.run", *argv])


def evaluate(  # noqa: PLR0912, PLR0915
    rows: list[Measured], memory: dict[str, Any], workers: int, alone: dict[str, float], cores: int
) -> list[dict[str, Any]]:
    """PASS/MISS of each target for one worker count (n/a when it cannot be told)."""
    by = {(r.app, r.scenario): r for r in rows if r.workers == workers}
    out: list[dict[str, Any]] = []

    def add(target: str, value: float | None, limit: float, ok: bool | None, detail: str) -> None:
        verdict = "n/a" if ok is None else ("PASS" if ok else "MISS")
        out.append(
            {
                "workers": workers,
                "target": target,
                "value": value,
                "limit": limit,
                "verdict": verdict,
                "detail": detail,
            }
        )

    for key, label in (("list", "list req/s ≥ 0.8 × floor"), ("item", "item req/s ≥ 0.8 × floor")):
        s, f = by.get(("service", key)), by.get(("floor", key))
        if not (s and f and f.ok_rps):
            add(label, None, LIST_ITEM_MIN_RATIO, None, "not measured")
            continue
        ratio = s.ok_rps / f.ok_rps
        add(
            label,
            ratio,
            LIST_ITEM_MIN_RATIO,
            ratio >= LIST_ITEM_MIN_RATIO,
            f"{s.ok_rps:.0f} vs {f.ok_rps:.0f} req/s",
        )
    for key, label in (
        ("overview", "overview p50 ≤ 1.2 × floor"),
        ("programmes", "programme stats p50 ≤ 1.2 × floor"),
    ):
        s, f = by.get(("service", key)), by.get(("floor", key))
        if not (s and f):
            add(label, None, STATS_P50_MAX_RATIO, None, "not measured")
            continue
        s_bad = s.failed / s.requests if s.requests else 1.0
        f_bad = f.failed / f.requests if f.requests else 1.0
        errors = (
            f"; errors: service {s.failed:,} of {s.requests:,}, floor {f.failed:,} of {f.requests:,}"
            if s.failed or f.failed
            else ""
        )
        if s_bad < 0.5 and f_bad < 0.5:
            ratio = s.p50_ms / f.p50_ms
            add(label, ratio, STATS_P50_MAX_RATIO, ratio <= STATS_P50_MAX_RATIO,
                f"{s.p50_ms:,.1f} vs {f.p50_ms:,.1f} ms{errors}")  # fmt: skip
        elif f_bad < 0.5:  # the service fails where the floor does not
            add(label, None, STATS_P50_MAX_RATIO, False, "the service failed" + errors)
        else:
            add(label, None, STATS_P50_MAX_RATIO, None, "both fail under this load, no comparison" + errors)
    recorded, today = by.get(("service", "by_commune")), by.get(("service", "by_commune_today"))
    label = "stats by commune as of 2025-07-01 p50 ≤ 1.5 × as recorded"
    if recorded and today and recorded.p50_ms and not (recorded.failed or today.failed):
        ratio = today.p50_ms / recorded.p50_ms
        add(label, ratio, PLACES_P50_MAX_RATIO, ratio <= PLACES_P50_MAX_RATIO,
            f"{today.p50_ms:,.1f} vs {recorded.p50_ms:,.1f} ms")  # fmt: skip
    else:
        add(label, None, PLACES_P50_MAX_RATIO, None, "not measured (or failed)")
    computed = by.get(("service", "programmes"))
    programmes_alone = next((v for k, v in alone.items() if k.startswith("/api/v1/stats/programmes")), None)
    for key, label in (("cached", "cached 200 ≥ 10 × computing"), ("not_modified", "304 ≥ 10 × computing")):
        s = by.get(("service", key))
        if s is None:
            add(label, None, CACHED_MIN_RATIO, None, "not measured")
        elif computed is not None and computed.ok_rps:
            ratio = s.ok_rps / computed.ok_rps
            add(label, ratio, CACHED_MIN_RATIO, ratio >= CACHED_MIN_RATIO,
                f"{s.ok_rps:,.0f} vs {computed.ok_rps:,.2f} req/s")  # fmt: skip
        elif programmes_alone:
            # Computing never succeeded under load: compare with its best case, one computation
            # alone on every core at once.
            best = cores / programmes_alone
            ratio = s.ok_rps / best
            add(label, ratio, CACHED_MIN_RATIO, ratio >= CACHED_MIN_RATIO,
                f"{s.ok_rps:,.0f} req/s vs at best {best:.2f} req/s computing "
                f"({programmes_alone:.1f} s alone, "
                f"{cores} cores): computing failed under load")  # fmt: skip
        else:
            add(label, None, CACHED_MIN_RATIO, None, "computing not measured")
    service_memory = memory.get("service")
    if service_memory:
        per_worker = service_memory["peak_per_worker_mb"]
        add("service RSS ≤ 300 MB per worker", per_worker, RSS_MAX_MB_PER_WORKER,
            per_worker <= RSS_MAX_MB_PER_WORKER,
            f"peak {service_memory['peak_total_mb']:.0f} MB for {workers} worker(s)")  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> int:  # noqa: PLR0912, PLR0915 - the run, step by step
    argv = sys.argv[1:] if argv is None else argv
    options = parse_args(argv)
    started_at = datetime.now(UTC)
    stamp = started_at.strftime("%Y%m%dT%H%M%SZ")
    results_dir = Path(options.results) / stamp
    results_dir.mkdir(parents=True, exist_ok=True)
    logs = results_dir / "logs"
    logs.mkdir()
    try:
        wrk = ensure_wrk()
    except SetupError as error:
        say(str(error))
        return 2
    if options.connections < options.threads or options.duration < 1 or options.warmup < 0:
        say("--connections must be at least --threads, --duration at least 1, --warmup at least 0")
        return 2
    from bench import dataset
    from bench.capture import Call  # noqa: F401 - imported here so a broken app fails early

    sizes = dataset.Sizes.scaled(options.scale) if options.scale != 1 else dataset.Sizes()
    failures: list[str] = []
    rows: list[Measured] = []
    memory: dict[int, dict[str, Any]] = {}
    checks: list[dict[str, Any]] = []
    timings: dict[str, float] = {}
    t0 = time.monotonic()
    with bench_database(options) as db:
        from app.__main__ import migrate

        t = time.monotonic()
        migrate(db.url)
        timings["migrate"] = time.monotonic() - t
        say(f"schema migrated in {timings['migrate']:.1f} s; loading the data")
        t = time.monotonic()
        loaded = asyncio.run(dataset.load(db.dsn, sizes, options.seed, say))
        timings["load"] = time.monotonic() - t
        say(f"data loaded in {timings['load']:.1f} s")
        facts = asyncio.run(server_facts(db.dsn))
        item_ids = dataset.village_sample(sizes, options.seed)
        ids_file = results_dir / "item-ids.txt"
        ids_file.write_text("\n".join(map(str, item_ids)) + "\n")
        if options.nice and db.postgres_pid:
            from bench.procs import prioritise, tree

            prioritise(tree(db.postgres_pid), options.nice)  # the timings of one request alone, too
        plan = scenarios(loaded.busiest_district_id)
        if options.only:
            plan = [s for s in plan if s.key in options.only]
        os.environ.update(pinned_settings())  # the app built in-process for the recording, too
        t = time.monotonic()
        config, captured = capture_floor_config(db, plan, item_ids, loaded.busiest_district_id)
        config_path = results_dir / "floor-config.json"
        config_path.write_text(json.dumps(config, ensure_ascii=False, indent=1))
        plans = asyncio.run(explain_all(db.dsn, config, captured))
        timings["capture + explain"] = time.monotonic() - t
        for p in plans:
            say(f"EXPLAIN {p['title']}: {', '.join(p['scans'])}")

        for workers in options.workers:
            measured, memory[workers], compared, skipped = measure_pair(
                db,
                workers,
                plan=plan,
                wrk=wrk,
                options=options,
                ids_file=ids_file,
                logs=logs,
                config_path=config_path,
            )
            rows += measured
            failures += [f"skipped {s}" for s in skipped]
            for check in compared:
                checks.append({"workers": workers, **check})
                if not check["same"]:
                    failures.append(f"{workers} worker(s): the floor's {check['scenario']} answer differs")
        timings["total"] = time.monotonic() - t0

    for row in rows:
        bad = {s: n for s, n in row.statuses.items() if not 200 <= s < 400}
        if not row.requests:
            failures.append(
                f"{row.app} {row.scenario} ({row.workers} worker(s)): no response within the "
                f"{options.duration:g} s measurement"
            )
        sockets = {k: v for k, v in row.errors.items() if k != "status"}
        if bad or sockets:
            answered = ", ".join(f"{n:,} × {status}" for status, n in sorted(bad.items()))
            detail = "; ".join(
                part
                for part in (
                    f"{answered} of {row.requests:,} responses" if bad else "",
                    f"socket errors {sockets}" if sockets else "",
                    "causes in its log: " + ", ".join(f"{k} {v}" for k, v in row.causes.items())
                    if row.causes
                    else "",
                )
                if part
            )
            failures.append(
                f"{row.app} {row.scenario} ({row.workers} worker{'s' if row.workers > 1 else ''}): {detail}"
            )
        expected = 304 if row.scenario == "not_modified" else 200
        if set(row.statuses) - {expected}:
            say(f"note: {row.app} {row.scenario} answered {row.statuses}, expected only {expected}")
    alone = captured["uncontended_seconds"]
    cores = os.cpu_count() or 1
    verdicts = [v for w in options.workers for v in evaluate(rows, memory[w], w, alone, cores)]
    results = {
        "date": started_at.isoformat(timespec="seconds"),
        "command": the_command(argv),
        "options": vars(options),
        "machine": machine(),
        "versions": versions(wrk, facts),
        "database": {"kind": db.kind, **facts},
        "dataset": {
            "rows": loaded.rows,
            "seconds": {
                **{k: round(v, 1) for k, v in loaded.seconds.items()},
                **{k: round(v, 1) for k, v in timings.items()},
            },
            "busiest_district_id": loaded.busiest_district_id,
            "busiest_district_villages": loaded.busiest_district_villages,
            "busiest_district_handicraft": loaded.busiest_district_handicraft,
        },
        "scenarios": [asdict(s) for s in plan],
        "measurements": [{**asdict(r), "ok_rps": r.ok_rps, "failed": r.failed} for r in rows],
        "memory": {str(k): v for k, v in memory.items()},
        "verification": checks,
        "targets": verdicts,
        "explain": plans,
        "captured": captured,
        "failures": failures,
    }
    (results_dir / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str))
    say(f"raw results: {results_dir / 'results.json'}")
    if not options.no_doc:
        from bench.report import markdown

        doc = Path(options.doc)
        doc.parent.mkdir(parents=True, exist_ok=True)
        doc.write_text(
            markdown(
                results, results_dir.relative_to(ROOT) if results_dir.is_relative_to(ROOT) else results_dir
            )
        )
        say(f"report: {doc}")
    for v in verdicts:
        value = "—" if v["value"] is None else f"{v['value']:.2f}"
        say(f"{v['verdict']:<4} {v['workers']} worker(s): {v['target']}: {value} ({v['detail']})")
    if failures:
        for failure in failures:
            say(f"FAILED: {failure}")
        return 1
    return 0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--duration", type=int, default=10, help="whole seconds of load per scenario (default 10)"
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=3,
        help="whole seconds of warm-up load before each, 0 for none (default 3)",
    )
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument(
        "--timeout", type=float, default=30, help="wrk's per-request timeout, seconds (default 30)"
    )
    parser.add_argument(
        "--workers", type=lambda v: [int(x) for x in v.split(",")], default=[1, 2],
        help="worker counts, comma-separated (default 1,2)",
    )  # fmt: skip
    parser.add_argument(
        "--only", type=lambda v: v.split(","), default=None,
        help="run only these scenarios (comma-separated): list, item, overview, programmes, cached, "
        "not_modified, by_commune, by_commune_today",
    )  # fmt: skip
    parser.add_argument(
        "--scale", type=float, default=1.0, help="dataset size factor (default 1: national scale)"
    )
    parser.add_argument("--seed", type=int, default=20261127, help="random seed of the dataset")
    parser.add_argument(
        "--keep", action="store_true", help="keep the bench database (and embedded data folder)"
    )
    parser.add_argument("--data-dir", help="folder of the embedded server (default: a temporary folder)")
    parser.add_argument(
        "--nice", type=int, default=-10 if os.geteuid() == 0 else 0,
        help="scheduling priority of the servers, our PostgreSQL and wrk during the load (default -10 "
        "as root, to keep other work on a shared machine from skewing it; 0 leaves it alone)",
    )  # fmt: skip
    parser.add_argument(
        "--log-level", default="info", help="uvicorn log level of both servers (default info)"
    )
    parser.add_argument("--results", default=str(DEFAULT_RESULTS), help="folder of the raw results")
    parser.add_argument("--doc", default=str(DEFAULT_DOC), help="the Markdown report to write")
    parser.add_argument("--no-doc", action="store_true", help="write only the raw results")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
