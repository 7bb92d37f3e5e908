"""docs/benchmarks.md from the raw results of bench/run.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

TITLES = {
    "list": "1. filtered, sorted village list",
    "item": "2. one village by id (1,000 random ids)",
    "overview": "3. stats overview, computed (no-cache)",
    "programmes": "4. programme stats by year × funding source, computed (no-cache)",
    "cached": "5. the same programme stats from cache (200)",
    "not_modified": "6. the same programme stats, If-None-Match (304)",
    "by_commune": "7. village stats of 2020 by commune as recorded, computed (no-cache)",
    "by_commune_today": "8. the same by the communes of 2025-07-01 (as_of), computed (no-cache)",
}


def _n(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def _rate(m: dict[str, Any]) -> str:
    """Requests/s answered 2xx/3xx, and a warning when some were not."""
    if m["failed"]:
        errors = "error" if m["failed"] == 1 else "errors"
        return f"{m['ok_rps']:,.1f} (**{m['failed']:,} {errors}** of {m['requests']:,})"
    if not m["requests"]:
        return "0 (**no response**)"
    return _n(m["ok_rps"])


def _ms(value: float) -> str:
    return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"


def markdown(results: dict[str, Any], results_dir: Path) -> str:  # noqa: PLR0912, PLR0915 - one page
    out: list[str] = []
    w = out.append
    opts = results["options"]
    dataset = results["dataset"]
    rows = dataset["rows"]
    seconds = dataset["seconds"]
    machine = results["machine"]
    versions = results["versions"]
    db = results["database"]

    w("# Benchmarks")
    w("")
    w(
        "The service under HTTP load on a national-scale database, next to **the floor**: the same SQL "
        "(recorded from the service for each request) behind a minimal raw ASGI app on asyncpg + orjson, "
        "with no framework, under the same uvicorn and the same number of workers. Produced by "
        "`bench/run.py`; this file is written by it."
    )
    w("")
    w(f"* **Command:** `{results['command']}`")
    w(f"* **Date:** {results['date']}")
    w(
        f"* **Machine:** {machine['nproc']} cores ({machine['cpu']}), {machine['memory_gib']} GiB, "
        f"Linux {machine['kernel']}; server, PostgreSQL and wrk share it "
        f"(load average at start {', '.join(f'{x:.2f}' for x in machine['load_average_at_start'])})."
    )
    w(
        f"* **Load:** wrk, {opts['connections']} connections, {opts['threads']} threads, over loopback; "
        f"{opts['warmup']:g} s warm-up, then {opts['duration']:g} s measured per scenario; "
        f"per-request timeout {opts['timeout']:g} s. uvicorn log level `{opts['log_level']}` for both."
    )
    w(f"* **Raw results:** `{results_dir}/results.json` (git-ignored).")
    w("")
    if results["failures"]:
        w(
            "**This run FAILED**: some responses were not 2xx/3xx (causes from the servers' logs; "
            "see *One request alone* below for what one request costs against the statement timeout):"
        )
        w("")
        for failure in results["failures"]:
            w(f"* {failure}")
        w("")

    w("## Results")
    w("")
    measurements = results["measurements"]
    for workers in opts["workers"]:
        by = {(m["app"], m["scenario"]): m for m in measurements if m["workers"] == workers}
        w(f"### {workers} worker{'s' if workers > 1 else ''}")
        w("")
        w(
            "| scenario | service req/s | p50 ms | p99 ms | floor req/s | p50 ms | p99 ms "
            "| service/floor req/s | p50 service/floor |"
        )
        w("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for key, title in TITLES.items():
            s = by.get(("service", key))
            if s is None:
                continue
            f = by.get(("floor", key))
            note = ""
            if f is None and key in ("cached", "not_modified"):
                f = by.get(("floor", "programmes"))
                note = "†"
            if f is None:
                w(f"| {title} | {_rate(s)} | {_ms(s['p50_ms'])} | {_ms(s['p99_ms'])} | — | — | — | — | — |")
                continue
            rps_ratio = f"{s['ok_rps'] / f['ok_rps']:.2f}" if f["ok_rps"] else "—"
            p50_ratio = f"{s['p50_ms'] / f['p50_ms']:.2f}" if f["p50_ms"] and s["requests"] else "—"
            w(
                f"| {title} | {_rate(s)} | {_ms(s['p50_ms'])} | {_ms(s['p99_ms'])} "
                f"| {_rate(f)}{note} | {_ms(f['p50_ms'])}{note} | {_ms(f['p99_ms'])}{note} "
                f"| {rps_ratio} | {p50_ratio} |"
            )
        w("")
        recorded, today = by.get(("service", "by_commune")), by.get(("service", "by_commune_today"))
        if recorded and today and recorded["p50_ms"]:
            w(
                "**Places of a date (service):** grouping by the communes of 2025-07-01 (every village "
                "followed through the successions, app/kit/timeline.py) takes "
                f"{today['p50_ms'] / recorded['p50_ms']:.2f}× the p50 of grouping by the communes as "
                f"recorded ({_ms(today['p50_ms'])} vs {_ms(recorded['p50_ms'])} ms; target ≤ 1.5×)."
            )
            w("")
        computed = by.get(("service", "programmes"))
        cached, not_modified = by.get(("service", "cached")), by.get(("service", "not_modified"))
        if cached and not_modified:
            line = (
                "† the floor has no cache: its equivalent of an unchanged statistic is computing it "
                "(scenario 4)."
            )
            if computed and computed["ok_rps"]:
                base = computed["ok_rps"]
                line += (
                    f" **Cached ÷ computed (service):** 200 from cache {cached['ok_rps'] / base:,.0f}×, "
                    f"304 {not_modified['ok_rps'] / base:,.0f}× the throughput of computing "
                    f"({_n(cached['ok_rps'], 0)} and {_n(not_modified['ok_rps'], 0)} vs {_n(base, 2)} "
                    "successful req/s)."
                )
            else:
                line += (
                    " Computing it did not succeed under this load (see the statuses below), so the ratio is "
                    "taken against its best case in the targets."
                )
            w(line)
            w("")
        memory = results["memory"][str(workers)]
        for app in ("service", "floor"):
            m = memory.get(app)
            if m:
                w(
                    f"* **Peak RSS, {app}:** {m['peak_total_mb']:.0f} MB in all, "
                    f"{m['peak_per_worker_mb']:.0f} MB per worker ({_processes(m['processes'])})."
                )
        w("")
        w(
            "CPU during each measurement, in cores (of "
            f"{machine['nproc']}): the server's processes, PostgreSQL's, wrk's, this script's, and "
            "everything else on the machine (other processes, the kernel: noise):"
        )
        w("")
        w("(Sampled every 0.2 s per process: approximate.)")
        w("")
        w(
            "| scenario | app | server | PostgreSQL | wrk | bench script | other "
            "| statuses (causes of failures) |"
        )
        w("|---|---|---:|---:|---:|---:|---:|---|")
        for m in measurements:
            if m["workers"] != workers:
                continue
            cores = m["cpu_cores"]
            statuses = ", ".join(
                f"{k}: {v:,}" for k, v in sorted(m["statuses"].items(), key=lambda i: int(i[0]))
            )
            sockets = {k: v for k, v in m["errors"].items() if k != "status"}
            errors = f"; socket errors {sockets}" if sockets else ""
            if m.get("causes"):
                errors += " (" + ", ".join(f"{k}: {v:,}" for k, v in m["causes"].items()) + ")"
            w(
                f"| {m['scenario']} | {m['app']} | {_n(cores['server'], 2)} | {_n(cores['postgres'], 2)} "
                f"| {_n(cores['wrk'], 2)} | {_n(cores.get('bench'), 2)} | {_n(cores['other'], 2)} "
                f"| {statuses}{errors} |"
            )
        w("")

    w("## One request alone")
    w("")
    timeout = results["captured"]["statement_timeout_ms"]
    limits = results["captured"].get("statement_timeouts_ms", {})
    pool = results["captured"]["pool"]
    w(
        "Each scenario's request once, with nothing else from us running, through the app in-process "
        "(the recording step below), next to the statement timeout its queries run under (the "
        f"connection's {timeout / 1000:g} s unless the request sets its own). Under load a request "
        f"also waits for one of the {pool['size']} pooled connections of its worker, "
        f"{pool['timeout_s']:g} s at most, before it gets a 503."
    )
    w("")
    w("| request | seconds | statement timeout, s |")
    w("|---|---:|---:|")
    for target, took in results["captured"]["uncontended_seconds"].items():
        limit = limits.get(target, timeout)
        flag = " **(over its statement timeout)**" if took * 1000 > limit else ""
        w(f"| `{target}` | {took:.3f}{flag} | {limit / 1000:g} |")
    w("")

    w("## Targets")
    w("")
    w("| workers | target | measured | limit | verdict | detail |")
    w("|---:|---|---:|---:|---|---|")
    for t in results["targets"]:
        w(
            f"| {t['workers']} | {t['target']} | {_n(t['value'], 2)} | {t['limit']:g} | **{t['verdict']}** "
            f"| {t['detail']} |"
        )
    w("")
    w(
        "Missing a target is information, not a failure of the run: `make bench` exits 0 when it ran, "
        "1 when a response was not 2xx/3xx (or a socket error occurred, or the floor's answer differed "
        "from the service's), 2 when it could not run."
    )
    w("")

    w("## The floor answers what the service answers")
    w("")
    w(
        "Before the load, one request of each scenario to both servers; the JSON bodies are compared "
        "after parsing."
    )
    w("")
    w("| workers | scenario | same JSON | service bytes | floor bytes |")
    w("|---:|---|---|---:|---:|")
    for c in results["verification"]:
        w(
            f"| {c['workers']} | {c['scenario']} | {'yes' if c['same'] else '**NO**'} "
            f"| {c['service_bytes']:,} | {c['floor_bytes']:,} |"
        )
    w("")
    w(
        "What the floor runs per request is the service's own SQL, recorded at the asyncpg driver while "
        "the app (built in-process on the bench database) answered the same request; statements that "
        "are the service's own bookkeeping are left out: transaction control, and for statistics the "
        "data-version lookup and the cache upsert. Per request the service sent:"
    )
    w("")
    for target, statements in results["captured"]["statements"].items():
        data = sum(1 for s in statements if s["data"])
        other = [s["sql"].strip().split("\n")[0][:60] for s in statements if not s["data"]]
        extra = f"; besides: {'; '.join(f'`{o}`' for o in other)}" if other else ""
        w(f"* `{target}`: {len(statements)} statement(s), {data} run by the floor{extra}")
    w("")

    w("## Index use")
    w("")
    w(
        "`EXPLAIN (ANALYZE, BUFFERS)` of the statements above on the bench database (abridged: plan "
        "nodes, their conditions, timings)."
    )
    w("")
    from bench.run import abridge

    sizes = dataset["rows"]
    for p in results["explain"]:
        w(f"**{p['title']}** — scans: {', '.join(p['scans']) or 'none'}")
        w("")
        full = sorted(
            {
                scan.split()[-1]
                for scan in p["scans"]
                if scan.startswith(("Seq Scan", "Parallel Seq Scan"))
                and sizes.get(scan.split()[-1], 0) >= 100_000
            }
        )
        if full:
            listed = ", ".join(f"`{t}` ({sizes[t]:,} rows)" for t in full)
            w(f"Reads the whole of {listed}.")
            w("")
        w("```text")
        out.extend(abridge(p["plan"]))
        w("```")
        w("")

    w("## Dataset")
    w("")
    w(
        "Generated deterministically (`random.Random` seeded with "
        f"{opts['seed']}, scale {opts['scale']:g}) within every CHECK constraint of `app/models/`, "
        "loaded with COPY (asyncpg `copy_records_to_table`) into a database migrated by Alembic. "
        "Secondary indexes and foreign keys are dropped during the COPY and rebuilt from their own "
        "definitions afterwards (the schema is checked identical to Alembic's), then `VACUUM (ANALYZE)` "
        "and a checkpoint. Generated columns (`search_text`, `name_sort`) are computed by PostgreSQL."
    )
    w("")
    w("| table | rows |")
    w("|---|---:|")
    for table, count in rows.items():
        w(f"| {table} | {count:,} |")
    w("")
    w(
        f"The list scenario's district (id {dataset['busiest_district_id']}) has "
        f"{dataset['busiest_district_villages']:,} villages, {dataset['busiest_district_handicraft']:,} of "
        "them handicraft (district sizes are log-normal, as craft villages cluster)."
    )
    w("")
    build = ", ".join(
        f"{k} {v:g} s" for k, v in seconds.items() if not k.startswith("copy ") or k == "copy (all tables)"
    )
    w(f"Build times: {build}.")
    w("")
    w(
        "Database: "
        + (
            "a throwaway embedded PostgreSQL in a temporary folder"
            if db["kind"] == "embedded"
            else "a new database on BENCH_DATABASE_URL's server"
        )
        + f" ({db['database_size']} after the load); fsync `{db['fsync']}`, synchronous_commit "
        f"`{db['synchronous_commit']}`, full_page_writes `{db['full_page_writes']}` (durability off is "
        f"irrelevant to these reads), shared_buffers `{db['shared_buffers']}`, work_mem `{db['work_mem']}`, "
        f"max_parallel_workers_per_gather `{db['max_parallel_workers_per_gather']}`, jit `{db['jit']}` "
        f"({'available' if db.get('jit_available') == 'True' else 'not available in this build'})."
    )
    w("")

    w("## Method")
    w("")
    w(
        "* The service runs as users run it: `python -m app serve --no-migrate` with `DATABASE_URL` "
        "pointing at the bench database and `WORKERS` 1, then 2 (uvicorn), its pool and timeouts at "
        "their defaults (pinned, so that a `.env` cannot change them). The floor (`bench/floor.py`) runs "
        "under `uvicorn --factory bench.floor:create` with the same worker count, an asyncpg pool of the "
        "same size and the same session settings (statement timeout, time zone...)."
    )
    w(
        "* Both servers run at the same time; each scenario is measured on the service and at once on "
        "the floor (only the one under load is busy), so that both see the same conditions."
    )
    w(
        "* Each scenario: a warm-up; the statements that requests abandoned by wrk still run are "
        "cancelled until the database has been idle for a second; the measured run; the same "
        "clean-up. `bench/wrk.lua` counts the statuses and prints requests/s, p50, p90 and p99 in "
        "one machine-readable line. Any status outside 2xx/3xx fails the run."
    )
    w(
        "* Scenario 2 picks, per request, one of 1,000 fixed random village ids. Scenarios 3 and 4 send "
        "`Cache-Control: no-cache`, so the service computes the aggregate (and stores it) each time; 5 "
        "asks again without it (answered from the cache); 6 sends the ETag of 5 in If-None-Match."
    )
    w(
        "* Memory: VmRSS of the server's process and all its descendants (uvicorn's supervisor and "
        "workers), summed, sampled every 0.2 s while the server ran; per worker is that peak divided by "
        "the number of workers."
    )
    nice = opts.get("nice", 0)
    priority = (
        f" To keep that work from skewing the comparison, the servers, our PostgreSQL and wrk ran at "
        f"nice {nice}, their sessions' autogroups too (CPU is shared between sessions first)."
        if nice
        else ""
    )
    w(
        "* The machine may be shared (other developers' tests run on it): the `other` column above "
        f"shows how much CPU went elsewhere during each measurement.{priority}"
    )
    w("")

    w("## Versions")
    w("")
    w(", ".join(f"{k} {v}" for k, v in versions.items()) + ".")
    w("")
    return "\n".join(out)


def _processes(processes: list[dict[str, Any]]) -> str:
    parts = []
    for p in processes:
        command = p["command"]
        if "resource_tracker" in command:
            role = "resource tracker"
        elif "spawn_main" in command:
            role = "worker"
        else:
            role = "main process"
        parts.append(f"{role} {p['peak_mb']:.0f}")
    return ", ".join(parts) + " MB" if parts else "no sample"
