"""`make soak`: the service under a steady mixed load for a long while; does anything drift?

1. A database as `make bench` makes it (bench/run.py's bench_database: a throwaway embedded
   PostgreSQL, or a new database on BENCH_DATABASE_URL's server), the schema by Alembic and the
   data by bench/dataset.py at a reduced scale (--scale, default 0.1).
2. `python -m app serve --no-migrate` (--workers, default 1) and an editor's API key made with
   `python -m app keys create`, as an integrator would.
3. locust, headless (bench/soak_locustfile.py): 80 % reads (one village by id, a filtered sorted
   page of villages), 15 % statistics (overview, programmes by year and funding source), 5 %
   writes (PATCH with If-Match after reading the ETag, retried on 412; POST with an
   Idempotency-Key, retried with the same key on 503), for --duration seconds at --rate
   requests/s (default: half the capacity the newest `make bench` measured for this mix, else 50).
4. Every --interval seconds (5): the server's RSS (all its processes) and its PostgreSQL
   connections (client backends in pg_stat_activity, application_name 'craftvillage') by state.
5. The verdicts: no 5xx and no unanswered request; RSS growth under 10 MB from the end of the
   warm-up to the end of the load; connections flat after the warm-up (max - min <= 2); the
   database holds exactly what was acknowledged (one co-operative per acknowledged
   Idempotency-Key, none for the others; each patched row's version grew by its acknowledged
   PATCHes). docs/reliability.md and bench-results/soak-<time>/results.json.

Exit status: 0 when every criterion passes, 1 when one fails, 2 when the soak could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.run import (
    DEFAULT_RESULTS,
    ROOT,
    Database,
    bench_database,
    machine,
    service_server,
)

DEFAULT_DOC = ROOT / "docs" / "reliability.md"
LOCUSTFILE = ROOT / "bench" / "soak_locustfile.py"
MB = 1_000_000

RSS_GROWTH_MAX_MB = 10.0
CONNECTION_SPREAD_MAX = 2
DEFAULT_RATE = 50.0
# The share of each bench scenario in this mix, to turn `make bench`'s per-scenario throughput
# into the capacity for the mix: reads as list and item, statistics as served from cache (most
# are), and a write (a read, then a PATCH or POST) as an item read.
MIX_BY_BENCH_SCENARIO = {"list": 0.40, "item": 0.45, "cached": 0.15}
PER_USER_RATE_MAX = 2.0  # tasks/s per locust user: a task may take up to 0.5 s and still hold it


def say(message: str) -> None:
    print(f"[soak {time.strftime('%H:%M:%S')}] {message}", flush=True)


# -- the target rate -----------------------------------------------------------------------------


def bench_capacity(results_root: Path, workers: int) -> dict[str, Any] | None:
    """Capacity of the service for this mix, from the newest `make bench` results: the harmonic
    mean of the scenarios' throughputs, weighted by their share of the mix."""
    found = sorted(
        (p for p in results_root.glob("*/results.json") if not p.parent.name.startswith("soak-")),
        key=lambda p: p.stat().st_mtime,
    )
    if not found:
        return None
    newest = found[-1]
    try:
        data = json.loads(newest.read_text())
        rows = [m for m in data["measurements"] if m.get("app") == "service"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    measured = sorted({int(m["workers"]) for m in rows})
    if not measured:
        return None
    chosen = max([w for w in measured if w <= workers] or [measured[0]])
    rps = {m["scenario"]: float(m.get("ok_rps") or m.get("rps") or 0) for m in rows if m["workers"] == chosen}
    if any(rps.get(s, 0) <= 0 for s in MIX_BY_BENCH_SCENARIO):
        return None
    capacity = 1 / sum(share / rps[s] for s, share in MIX_BY_BENCH_SCENARIO.items())
    return {
        "file": str(newest.relative_to(ROOT) if newest.is_relative_to(ROOT) else newest),
        "date": data.get("date"),
        "workers": chosen,
        "scale": (data.get("options") or {}).get("scale"),
        "rps": {s: round(rps[s], 1) for s in MIX_BY_BENCH_SCENARIO},
        "capacity": round(capacity, 1),
    }


# -- the data the users work on ------------------------------------------------------------------


async def pick_targets(dsn: str, seed: int) -> dict[str, Any]:
    """Known ids for the reads and the writes, and the versions of the rows that will be patched."""
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f"SELECT setseed({(seed % 1000) / 1000})")
        figures = [
            r["id"] for r in await conn.fetch("SELECT id FROM village_figure ORDER BY random() LIMIT 300")
        ]
        units = [
            r["id"]
            for r in await conn.fetch(
                "SELECT id FROM admin_unit WHERE level = 'district' ORDER BY random() LIMIT 60"
            )
        ]
        districts = [
            r["district_id"]
            for r in await conn.fetch(
                "SELECT district_id FROM village GROUP BY district_id "
                "ORDER BY count(*) DESC, district_id LIMIT 30"
            )
        ]
        years = await conn.fetchrow("SELECT min(year) AS first, max(year) AS last FROM village_figure")
        return {
            "figure_ids": figures,
            "admin_unit_ids": units,
            "district_ids": districts,
            "years": [int(years["first"]), int(years["last"])],
            "versions": await versions(conn, figures, units),
        }
    finally:
        await conn.close()


async def versions(conn: Any, figures: list[int], units: list[int]) -> dict[str, int]:
    out = {}
    for table, resource, ids in (
        ("village_figure", "village-figures", figures),
        ("admin_unit", "admin-units", units),
    ):
        for row in await conn.fetch(f"SELECT id, version FROM {table} WHERE id = ANY($1::bigint[])", ids):
            out[f"{resource}/{row['id']}"] = int(row["version"])
    return out


def editor_key(db: Database) -> str:
    """An editor's API key, made with the command line as an integrator's would be."""
    env = {**os.environ, "DATABASE_URL": db.url}
    result = subprocess.run(
        [sys.executable, "-m", "app", "keys", "create", "--name", "soak", "--role", "editor"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return result.stdout.strip().splitlines()[-1]


# -- sampling ------------------------------------------------------------------------------------


@dataclass
class Sample:
    t: float  # seconds since the load started (negative before it)
    rss_mb: float
    processes: int
    connections: int
    states: dict[str, int]
    backends: list[int]  # the PostgreSQL backend pids of the service's connections


class Sampler:
    """Every `interval` seconds: RSS of the server's process tree, its PostgreSQL connections."""

    def __init__(self, server_pid: int, dsn: str, interval: float) -> None:
        self.server_pid = server_pid
        self.dsn = dsn
        self.interval = interval
        self._taken: list[tuple[float, Sample]] = []
        self.load_started = time.monotonic()  # set again when the load starts
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._run()), name="soak-sampler", daemon=True
        )
        self.error: BaseException | None = None

    def start(self) -> Sampler:
        self._thread.start()
        return self

    def stop(self) -> list[Sample]:
        """The samples, their times counted from the start of the load."""
        self._stop.set()
        self._thread.join(30)
        for at, sample in self._taken:
            sample.t = round(at - self.load_started, 1)
        return [sample for _, sample in self._taken]

    async def _run(self) -> None:
        import asyncpg

        from bench.procs import rss_bytes, tree

        conn = None
        try:
            conn = await asyncpg.connect(self.dsn, server_settings={"application_name": "soak-sampler"})
            while True:
                now = time.monotonic()
                pids = tree(self.server_pid)
                rss = sum(rss_bytes(pid) for pid in pids)
                # Client backends only: the parallel workers of an aggregate carry their leader's
                # application_name too, for the few seconds they live.
                rows = await conn.fetch(
                    "SELECT pid, coalesce(state, 'unknown') AS state FROM pg_stat_activity "
                    "WHERE application_name = 'craftvillage' AND datname = current_database() "
                    "AND backend_type = 'client backend'"
                )
                states: dict[str, int] = {}
                for row in rows:
                    states[row["state"]] = states.get(row["state"], 0) + 1
                backends = sorted(int(r["pid"]) for r in rows)
                self._taken.append((now, Sample(0.0, rss / MB, len(pids), len(rows), states, backends)))
                if self._stop.is_set():
                    break
                await asyncio.get_running_loop().run_in_executor(None, self._stop.wait, self.interval)
        except Exception as error:  # reported, and the soak fails on too few samples
            self.error = error
        finally:
            if conn is not None:
                await conn.close()


# -- locust ---------------------------------------------------------------------------------------


def run_locust(
    base: str, config: dict[str, Any], key: str, users: int, duration: int, folder: Path
) -> dict[str, Any]:
    """locust, headless, for `duration` seconds; what its users saw and had acknowledged."""
    config_path = folder / "locust-config.json"
    config_path.write_text(json.dumps(config))
    command = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", base,
        "--users", str(users), "--spawn-rate", str(max(1, math.ceil(users / 5))),
        "--run-time", f"{duration}s", "--stop-timeout", "30", "--only-summary",
        "--loglevel", "WARNING", "--csv", str(folder / "locust"),
    ]  # fmt: skip
    with open(folder / "locust.log", "wb") as log:
        result = subprocess.run(
            command, cwd=ROOT, env={**os.environ, "SOAK_CONFIG": str(config_path), "SOAK_KEY": key},
            stdout=log, stderr=subprocess.STDOUT, timeout=duration + 300, check=False,
        )  # fmt: skip
    out = Path(config["out"])
    if not out.exists():
        raise RuntimeError(f"locust wrote no results (exit {result.returncode}); see {folder / 'locust.log'}")
    data: dict[str, Any] = json.loads(out.read_text())
    data["command"] = shlex.join(command)
    data["exit_code"] = result.returncode
    return data


def server_metrics_5xx(base: str) -> int | None:
    """5xx the service counted itself (its /metrics), when it serves them."""
    try:
        with urllib.request.urlopen(base + "/metrics", timeout=10) as response:  # noqa: S310 - loopback
            text = response.read().decode()
    except OSError:
        return None
    if "http_requests_total" not in text:
        return None
    pattern = r'^http_requests_total\{[^}]*status="5\d\d"[^}]*\} (\S+)$'
    return int(sum(float(m.group(1)) for m in re.finditer(pattern, text, re.MULTILINE)))


# -- checks ----------------------------------------------------------------------------------------


async def database_checks(dsn: str, load: dict[str, Any], before: dict[str, int]) -> dict[str, Any]:
    """What the database holds, against what was acknowledged."""
    import asyncpg

    acknowledged: dict[str, int] = load["acknowledged"]
    conn = await asyncpg.connect(dsn)
    try:
        created = {
            r["registration_code"]: int(r["id"])
            for r in await conn.fetch(
                "SELECT id, registration_code FROM cooperative WHERE registration_code LIKE 'SOAK-%'"
            )
        }
        stored_keys = await conn.fetchval(
            "SELECT count(*) FROM idempotency_record WHERE key = ANY($1::text[])", list(acknowledged)
        )
        figures = [int(k.split("/")[1]) for k in before if k.startswith("village-figures/")]
        units = [int(k.split("/")[1]) for k in before if k.startswith("admin-units/")]
        after = await versions(conn, figures, units)
    finally:
        await conn.close()
    expected_codes = {f"SOAK-{key[:24]}": record_id for key, record_id in acknowledged.items()}
    mismatched = {
        name: {"before": before[name], "after": after.get(name), "acknowledged": load["patched"].get(name, 0)}
        for name in before
        if after.get(name) != before[name] + load["patched"].get(name, 0)
    }
    return {
        "acknowledged_creates": len(acknowledged),
        "unacknowledged_creates": len(load["unacknowledged"]),
        "created_rows": len(created),
        "created_rows_match": created == expected_codes,
        "rows_without_acknowledgement": sorted(set(created) - set(expected_codes))[:20],
        "acknowledged_without_row": sorted(set(expected_codes) - set(created))[:20],
        "idempotency_records": int(stored_keys),
        "acknowledged_patches": sum(load["patched"].values()),
        "patched_rows": len(load["patched"]),
        "version_mismatches": mismatched,
    }


def summarise(samples: list[Sample], warmup: float) -> dict[str, Any]:
    """RSS and connections before, at the end of the warm-up and at the end of the load."""
    idle = [s for s in samples if s.t < 0]
    loaded = [s for s in samples if s.t >= 0]
    steady = [s for s in loaded if s.t >= warmup]
    if len(steady) < 2:
        return {"enough": False, "samples": len(samples)}

    def median_rss(chosen: list[Sample]) -> float:
        return statistics.median(s.rss_mb for s in chosen)

    start, end = median_rss(steady[:3]), median_rss(steady[-3:])
    slope = 0.0
    if len(steady) >= 3:
        ts, rs = [s.t for s in steady], [s.rss_mb for s in steady]
        slope = statistics.linear_regression(ts, rs).slope * 60  # MB per minute
    counts = [s.connections for s in steady]
    states: dict[str, list[int]] = {}
    for s in steady:
        for state in {k for x in steady for k in x.states}:
            states.setdefault(state, []).append(s.states.get(state, 0))
    # Connections opened after the warm-up: a steady pool opens none (it keeps its connections).
    known = {pid for s in samples if s.t < warmup for pid in s.backends}
    opened = {pid for s in steady for pid in s.backends} - known
    return {
        "enough": True,
        "samples": len(samples),
        "rss_idle_mb": round(median_rss(idle), 1) if idle else None,
        "rss_start_mb": round(start, 1),
        "rss_end_mb": round(end, 1),
        "rss_growth_mb": round(end - start, 1),
        "rss_peak_mb": round(max(s.rss_mb for s in loaded), 1),
        "rss_slope_mb_per_min": round(slope, 2),
        "connections_min": min(counts),
        "connections_max": max(counts),
        "connections_opened_after_warmup": len(opened),
        "connections_by_state": {k: {"min": min(v), "max": max(v)} for k, v in sorted(states.items())},
    }


def evaluate(load: dict[str, Any], memory: dict[str, Any], checks: dict[str, Any], metrics_5xx: int | None,
             workers: int, pool: int) -> list[dict[str, Any]]:  # fmt: skip
    """PASS/FAIL of each criterion."""
    out = []

    def add(criterion: str, ok: bool, value: str) -> None:
        out.append({"criterion": criterion, "verdict": "PASS" if ok else "FAIL", "value": value})

    five = sum(n for c in load["statuses"].values() for s, n in c.items() if s.startswith("5"))
    unanswered = sum(n for c in load["statuses"].values() for s, n in c.items() if not s[:1].isdigit())
    server = f"; the service's /metrics: {metrics_5xx}" if metrics_5xx is not None else ""
    add("no 5xx, every request answered", five == 0 and unanswered == 0 and not metrics_5xx,
        f"{five} × 5xx, {unanswered} unanswered of {load['total']['requests']:,}{server}")  # fmt: skip
    if memory.get("enough"):
        growth = memory["rss_growth_mb"]
        add(f"RSS growth < {RSS_GROWTH_MAX_MB:g} MB", growth < RSS_GROWTH_MAX_MB,
            f"{memory['rss_start_mb']} → {memory['rss_end_mb']} MB ({growth:+.1f} MB, "
            f"{memory['rss_slope_mb_per_min']:+.2f} MB/min)")  # fmt: skip
        spread = memory["connections_max"] - memory["connections_min"]
        limit = workers * pool
        add(f"connections flat (max − min ≤ {CONNECTION_SPREAD_MAX}, ≤ {limit})",
            spread <= CONNECTION_SPREAD_MAX and memory["connections_max"] <= limit,
            f"{memory['connections_min']}–{memory['connections_max']}; "
            f"{memory['connections_opened_after_warmup']} opened after the warm-up")  # fmt: skip
    else:
        add("enough samples after the warm-up", False, f"{memory.get('samples', 0)} samples")
    creates_ok = (
        checks["created_rows_match"]
        and checks["unacknowledged_creates"] == 0
        and checks["idempotency_records"] == checks["acknowledged_creates"]
    )
    add(
        "rows created = POSTs acknowledged (by Idempotency-Key)",
        creates_ok,
        f"{checks['created_rows']} rows, {checks['acknowledged_creates']} acknowledged, "
        f"{checks['unacknowledged_creates']} given up, {checks['idempotency_records']} keys stored",
    )
    add("version of patched rows = 1 + PATCHes acknowledged", not checks["version_mismatches"],
        f"{checks['patched_rows']} rows, {checks['acknowledged_patches']} PATCHes, "
        f"{len(checks['version_mismatches'])} mismatched")  # fmt: skip
    return out


# -- report ----------------------------------------------------------------------------------------


def package_versions(facts: dict[str, str]) -> dict[str, str]:
    out = {"Python": platform.python_version(), "PostgreSQL": facts.get("server_version", "?")}
    for package in ("fastapi", "uvicorn", "SQLAlchemy", "asyncpg", "locust"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = "not installed"
    return out


def the_command(argv: list[str]) -> str:
    if os.environ.get("MAKELEVEL"):
        args = os.environ.get("SOAK_ARGS", "").strip()
        return "make soak" + (f" SOAK_ARGS={shlex.quote(args)}" if args else "")
    return shlex.join(["python", "-m", "bench.soak", *argv])


KIND_ORDER = (
    "item",
    "list",
    "stats overview",
    "stats programmes",
    "write: read ETag",
    "write: PATCH village-figures",
    "write: PATCH admin-units",
    "write: POST cooperative",
)
SHOWN_TABLES = ("village", "village_figure", "cooperative", "programme")


def by_kind(names: Any) -> list[str]:
    return sorted(names, key=lambda n: (KIND_ORDER.index(n) if n in KIND_ORDER else 99, n))


def markdown(results: dict[str, Any], folder: str) -> str:
    r = results
    load, memory, checks = r["load"], r["memory"], r["database_checks"]
    lines = [
        "# Reliability: the soak test",
        "",
        "`make soak` puts the service under a steady mixed load for a long while and checks that",
        "nothing drifts: no 5xx, memory and database connections flat, and the database holding",
        "exactly the writes that were acknowledged. It is written by bench/soak.py; the raw figures",
        f"are in `{folder}/results.json`.",
        "",
        f"* **Command:** `{r['command']}`",
        f"* **Date:** {r['date']}",
        f"* **Verdict:** {'PASS' if r['passed'] else 'FAIL'}",
        f"* **Machine:** {r['machine']['nproc']} cores ({r['machine']['cpu']}), "
        f"{r['machine']['memory_gib']} GiB, Linux {r['machine']['kernel']}, load average at start "
        f"{', '.join(f'{x:.2f}' for x in r['machine']['load_average_at_start'])}",
        "* **Versions:** " + ", ".join(f"{k} {v}" for k, v in r["versions"].items()),
        f"* **Database:** {r['database']['kind']}, dataset scale {r['options']['scale']:g} "
        f"({', '.join(f'{k} {v:,}' for k, v in r['dataset']['rows'].items() if k in SHOWN_TABLES)} rows)",
        f"* **Service:** `python -m app serve --no-migrate`, {r['options']['workers']} worker(s), "
        "pool and timeouts at their defaults",
        f"* **Load:** locust {r['versions'].get('locust', '')}, {r['users']} users at "
        f"{r['rate']['target']:g} requests/s target ({r['rate']['source']}), "
        f"{r['options']['duration']} s; achieved {r['rate']['achieved']:.1f} requests/s; warm-up "
        f"{r['warmup']:g} s; samples every {r['options']['interval']:g} s",
        "",
        "## Verdicts",
        "",
        "| criterion | value | verdict |",
        "|---|---|---|",
        *[f"| {v['criterion']} | {v['value']} | **{v['verdict']}** |" for v in r["verdicts"]],
        "",
        "## Requests by kind",
        "",
        "| kind | requests | p50 ms | p99 ms | max ms | statuses |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name in by_kind(load["latency"]):
        lat = load["latency"][name]
        codes = ", ".join(f"{k}: {v:,}" for k, v in sorted(load["statuses"].get(name, {}).items()))
        lines.append(
            f"| {name} | {lat['requests']:,} | {lat['p50_ms']:,.0f} | {lat['p99_ms']:,.0f} | "
            f"{lat['max_ms']:,.0f} | {codes} |"
        )
    lines.append(f"| **all** | {load['total']['requests']:,} | | | | |")
    sources = load.get("stats_sources") or {}
    if sources:
        lines += [
            "",
            "Statistics by X-Stats-Source (computed, or from the shared or per-process cache): "
            + "; ".join(
                f"{name}: " + ", ".join(f"{k} {v:,}" for k, v in sorted(c.items()))
                for name, c in sorted(sources.items())
            )
            + ".",
        ]
    events = load.get("write_events") or {}
    lines += [
        "",
        "Writes: "
        + (", ".join(f"{k}: {v}" for k, v in sorted(events.items())) if events else "no retries were needed")
        + ".",
        "",
        "## Memory and connections",
        "",
    ]
    if memory.get("enough"):
        lines += [
            f"RSS of the service (all its processes): {memory['rss_idle_mb']} MB idle before the load, "
            f"{memory['rss_start_mb']} MB at the end of the warm-up, {memory['rss_end_mb']} MB at the end "
            f"({memory['rss_growth_mb']:+.1f} MB; trend {memory['rss_slope_mb_per_min']:+.2f} MB/min; "
            f"peak {memory['rss_peak_mb']} MB). PostgreSQL connections of the service after the warm-up: "
            f"{memory['connections_min']} to {memory['connections_max']}; by state: "
            + ", ".join(f"{k} {v['min']}–{v['max']}" for k, v in memory["connections_by_state"].items())
            + ".",
            "",
        ]
    lines += ["| t (s) | RSS MB | connections | states |", "|---:|---:|---:|---|"]
    samples = r["samples"]
    step = max(1, len(samples) // 25)
    shown = [s for i, s in enumerate(samples) if i % step == 0 or i == len(samples) - 1]
    for s in shown:
        states = ", ".join(f"{k} {v}" for k, v in sorted(s["states"].items()))
        lines.append(f"| {s['t']:.0f} | {s['rss_mb']:.1f} | {s['connections']} | {states} |")
    lines += [
        "",
        "(t < 0: before the load. Every sample is in the JSON.)",
        "",
        "## Writes against the database",
        "",
        f"* POSTs acknowledged: {checks['acknowledged_creates']:,} (given up: "
        f"{checks['unacknowledged_creates']}); co-operatives created by the soak: {checks['created_rows']:,} "
        f"(the same set: {'yes' if checks['created_rows_match'] else 'NO'}); Idempotency-Keys stored: "
        f"{checks['idempotency_records']:,}.",
        f"* PATCHes acknowledged: {checks['acknowledged_patches']:,} on {checks['patched_rows']} rows; rows "
        f"whose version is not 1 + their acknowledged PATCHes: {len(checks['version_mismatches'])}.",
        "",
        "## Method",
        "",
        "The mix, per locust task: 40 % one village by a random known id, 40 % a page of 50 villages of",
        "a district (one of the 30 largest), sorted one of four ways, with or without a craft group; 8 %",
        "the overview of a year, 7 % programme statistics by year and funding source (all, or one kind):",
        "few enough variants to be served mostly from cache, while writes keep invalidating it; 5 %",
        "writes with an editor's key: PATCH of a village figure or a district after reading its ETag",
        "(If-Match; 412: read again, reapply) and POST of a co-operative with an Idempotency-Key (503,",
        "409 or no answer: the same request again, same key). The target rate is half the capacity of",
        "the newest `make bench` for this mix (the harmonic mean of its list, item and cached-statistics",
        "throughputs, weighted 40/45/15), or `--rate`. RSS growth is measured from the median of the",
        "first three samples after the warm-up to the median of the last three.",
        "",
    ]
    return "\n".join(lines)


# -- main ------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:  # noqa: PLR0915 - the run, step by step
    argv = sys.argv[1:] if argv is None else argv
    options = parse_args(argv)
    started_at = datetime.now(UTC)
    folder = Path(options.results) / f"soak-{started_at.strftime('%Y%m%dT%H%M%SZ')}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "logs").mkdir()
    warmup = options.warmup if options.warmup is not None else min(60.0, options.duration / 5)

    capacity = bench_capacity(Path(options.bench_results), options.workers)
    if options.rate:
        rate, source = options.rate, "--rate"
    elif capacity:
        rate = round(capacity["capacity"] / 2, 1)
        source = f"half the capacity {capacity['capacity']:g} req/s of {capacity['file']}"
    else:
        rate, source = DEFAULT_RATE, f"no make bench results in {options.bench_results}: the default"
    users = options.users or max(4, min(500, math.ceil(rate / PER_USER_RATE_MAX)))
    say(f"target {rate:g} requests/s ({source}), {users} users, {options.duration} s")

    from app.core.settings import Settings
    from bench import dataset

    pool = Settings.model_fields["db_pool_size"].default + Settings.model_fields["db_max_overflow"].default
    sizes = dataset.Sizes.scaled(options.scale) if options.scale != 1 else dataset.Sizes()
    with bench_database(options) as db:
        from app.__main__ import migrate
        from bench.run import server_facts

        migrate(db.url)
        loaded = asyncio.run(dataset.load(db.dsn, sizes, options.seed, say))
        facts = asyncio.run(server_facts(db.dsn))
        targets = asyncio.run(pick_targets(db.dsn, options.seed))
        key = editor_key(db)
        from app.core.embedded import free_port

        server = service_server(db, options.workers, free_port(), options, folder / "logs")
        say(f"starting the service, {options.workers} worker(s), on port {server.port}")
        server.start(options.workers)
        assert server.process is not None
        sampler = Sampler(server.process.pid, db.dsn, options.interval).start()
        try:
            time.sleep(min(options.interval * 2, 10))  # idle samples, before the load
            config = {
                "rate_per_user": rate / users,
                "village_ids": dataset.village_sample(sizes, options.seed),
                "craft_groups": ["handicraft", "manufacturing", "agro_processing"],
                "out": str(folder / "locust-results.json"),
                **{k: v for k, v in targets.items() if k != "versions"},
            }
            sampler.load_started = time.monotonic()  # before locust starts its users
            say(f"locust: {users} users for {options.duration} s")
            load = run_locust(server.base, config, key, users, options.duration, folder)
            time.sleep(1)
            samples = sampler.stop()
            metrics_5xx = server_metrics_5xx(server.base)
        finally:
            sampler.stop()
            server.stop()
        if sampler.error:
            say(f"the sampler failed: {sampler.error!r}")
        checks = asyncio.run(database_checks(db.dsn, load, targets["versions"]))
        db_kind = db.kind

    # The load ends when locust's run time does; its last requests are counted up to then.
    span = (load["total"].get("last_request") or 0) - (load["total"].get("first_request") or 0)
    achieved = load["total"]["requests"] / span if span > 0 else 0.0
    memory = summarise(samples, warmup)
    verdicts = evaluate(load, memory, checks, metrics_5xx, options.workers, pool)
    passed = all(v["verdict"] == "PASS" for v in verdicts)
    results = {
        "date": started_at.isoformat(timespec="seconds"),
        "command": the_command(argv),
        "options": vars(options),
        "machine": machine(),
        "versions": package_versions(facts),
        "database": {"kind": db_kind, **facts},
        "dataset": {"rows": loaded.rows, "scale": options.scale},
        "rate": {"target": rate, "source": source, "achieved": round(achieved, 1), "bench": capacity},
        "users": users,
        "warmup": warmup,
        "load": load,
        "memory": memory,
        "samples": [asdict(s) for s in samples],
        "database_checks": checks,
        "server_metrics_5xx": metrics_5xx,
        "verdicts": verdicts,
        "passed": passed,
    }
    (folder / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str))
    say(f"raw results: {folder / 'results.json'}")
    if not options.no_doc:
        doc = Path(options.doc)
        doc.parent.mkdir(parents=True, exist_ok=True)
        shown = folder.relative_to(ROOT) if folder.is_relative_to(ROOT) else folder
        doc.write_text(markdown(results, str(shown)))
        say(f"report: {doc}")
    for name in by_kind(load["latency"]):
        lat = load["latency"][name]
        codes = dict(sorted(load["statuses"].get(name, {}).items()))
        timing = f"p50 {lat['p50_ms']:>7,.0f} ms  p99 {lat['p99_ms']:>7,.0f} ms"
        say(f"  {name:<30} {lat['requests']:>8,}  {timing}  {codes}")
    say(f"  {load['total']['requests']:,} requests, {achieved:.1f}/s (target {rate:g})")
    for v in verdicts:
        say(f"{v['verdict']}  {v['criterion']}: {v['value']}")
    return 0 if passed else 1


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=600, help="seconds of load (default 600)")
    parser.add_argument("--workers", type=int, default=1, help="service worker processes (default 1)")
    parser.add_argument(
        "--rate", type=float, default=None,
        help="requests/s to hold (default: half the capacity the newest make bench measured, else 50)",
    )  # fmt: skip
    parser.add_argument(
        "--users", type=int, default=None, help="locust users (default: rate / 2, at least 4)"
    )
    parser.add_argument("--scale", type=float, default=0.1, help="dataset size factor (default 0.1)")
    parser.add_argument("--seed", type=int, default=20261127, help="random seed of the dataset")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between samples (default 5)")
    parser.add_argument(
        "--warmup", type=float, default=None,
        help="seconds of load before the RSS and connection baselines (default: a fifth of the "
        "duration, at most 60)",
    )  # fmt: skip
    parser.add_argument(
        "--bench-results", default=str(DEFAULT_RESULTS), help="where make bench's results are"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database (and embedded data folder)")
    parser.add_argument("--data-dir", help="folder of the embedded server (default: a temporary folder)")
    parser.add_argument("--log-level", default="info", help="uvicorn log level of the service (default info)")
    parser.add_argument("--results", default=str(DEFAULT_RESULTS), help="folder of the raw results")
    parser.add_argument("--doc", default=str(DEFAULT_DOC), help="the Markdown report to write")
    parser.add_argument("--no-doc", action="store_true", help="write only the raw results")
    options = parser.parse_args(argv)
    if options.duration < 10 or options.workers < 1 or options.interval <= 0 or options.scale <= 0:
        parser.error("--duration must be at least 10, --workers at least 1, --interval and --scale above 0")
    return options


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RuntimeError, subprocess.CalledProcessError, OSError) as failure:
        with contextlib.suppress(Exception):
            say(f"could not run: {failure}")
        sys.exit(2)
