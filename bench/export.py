"""File exports at national scale: a CSV export of every village (100,000 at scale 1) against the
floor, `COPY (the same query) TO STDOUT (FORMAT csv)` streamed by a minimal app
(bench/export_floor.py); the service's peak RSS growth while it exports; XLSX against CSV.

The bench dataset (bench/dataset.py) is loaded into a new database; the service (`python -m app
serve`, one worker) and the floor (uvicorn, one worker) run as processes of their own, and each
export is downloaded whole by a streaming client, the two alternating round after round. The
floor's query selects the same columns of the same rows, joins, order and all, as the export's
(app.kit.export, its typed statement); COPY writes their text itself. Written to docs/exports.md.

    python -m bench.export [--scale 1] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DOC = ROOT / "docs" / "exports.md"
THROUGHPUT_TARGET = 0.5  # the export's rows per second, at least this share of the floor's
RSS_TARGET_MB = 50
XLSX_TARGET = 3.0  # an XLSX export takes at most this many CSV exports' time


def say(message: str) -> None:
    print(f"[export] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    from app.core.embedded import free_port as port

    return port()


def wait_for(url: str, process: subprocess.Popen[bytes], timeout: float = 90) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the process exited ({process.returncode})")
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer in {timeout} s")


def download(url: str) -> tuple[float, int]:
    """Seconds to receive the whole body, and its size, reading it as it streams."""
    import httpx

    started = time.perf_counter()
    size = 0
    with httpx.stream("GET", url, timeout=600) as answer:
        assert answer.status_code == 200, answer.read()[:500]
        for chunk in answer.iter_raw():
            size += len(chunk)
    return time.perf_counter() - started, size


def floor_sql() -> str:
    """The export's own typed statement for the villages, unfiltered (its offset inlined)."""
    from app.kit.export import export_plan
    from app.villages.resource import VILLAGES

    plan = export_plan(VILLAGES, (), (), False, None, None, "typed", None, False).plan
    assert plan.names == ("offset",), plan.names
    return re.sub(r"\$1(::INTEGER)?\b", "0", plan.sql)


def measure(url: str, dsn: str, rounds: int) -> dict[str, Any]:
    from bench.procs import RssSampler, rss_bytes

    service_port, floor_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "TEST_DATABASE_URL"}}
    service = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--no-migrate"],
        cwd=ROOT,
        env=env
        | {
            "DATABASE_URL": url,
            "HOST": "127.0.0.1",
            "PORT": str(service_port),
            "WORKERS": "1",
            "ACCESS_LOG": "false",
            "LOG_LEVEL": "warning",
        },
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    floor = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "bench.export_floor:create",
            "--port",
            str(floor_port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env | {"EXPORT_FLOOR_DSN": dsn, "EXPORT_FLOOR_SQL": floor_sql()},
        stdin=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{service_port}"
        wait_for(f"{base}/ready", service)
        wait_for(f"http://127.0.0.1:{floor_port}/ready", floor)
        csv_url, xlsx_url = f"{base}/api/v1/villages?format=csv", f"{base}/api/v1/villages?format=xlsx"
        floor_url = f"http://127.0.0.1:{floor_port}/export"
        download(f"{base}/api/v1/villages?format=csv&limit=10")  # warm-up: plans compiled, modules loaded
        download(f"{base}/api/v1/villages?format=xlsx&limit=10")
        baseline = rss_bytes(service.pid)
        sampler = RssSampler(service.pid, interval=0.02).start()
        seconds: dict[str, list[float]] = {"csv": [], "floor": [], "xlsx": []}
        sizes: dict[str, int] = {}
        for round_ in range(rounds):
            for name, target in (("csv", csv_url), ("floor", floor_url), ("xlsx", xlsx_url)):
                took, size = download(target)
                seconds[name].append(took)
                sizes[name] = size
                say(f"round {round_ + 1}: {name} {took:.2f} s, {size / 1e6:.1f} MB")
        peak = sampler.stop()
    finally:
        for process in (service, floor):
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    medians = {name: statistics.median(values) for name, values in seconds.items()}
    return {
        "median_s": medians,
        "sizes": sizes,
        "throughput_ratio": medians["floor"] / medians["csv"],
        "xlsx_ratio": medians["xlsx"] / medians["csv"],
        "rss_growth_mb": (peak.total - baseline) / 2**20,
        "baseline_mb": baseline / 2**20,
    }


def markdown(result: dict[str, Any], command: str) -> str:
    m, sizes = result["median_s"], result["sizes"]

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "MISS"

    return "\n".join(
        [
            "# File exports: CSV against COPY, memory, XLSX",
            "",
            f"Measured {result['date']} with `{command}` on {result['villages']:,} villages (the bench "
            f"dataset), {result['rounds']} rounds, each export downloaded whole by a streaming client; "
            "the service (one worker) and the floor run as processes of their own.",
            "",
            "| export | median, s | MB | villages per second |",
            "|---|---:|---:|---:|",
            f"| floor: `COPY (same query) TO STDOUT (FORMAT csv)`, minimal app | {m['floor']:.2f} | {sizes['floor'] / 1e6:.1f} | {result['villages'] / m['floor']:,.0f} |",  # noqa: E501
            f"| service: `GET /api/v1/villages?format=csv` | {m['csv']:.2f} | {sizes['csv'] / 1e6:.1f} | {result['villages'] / m['csv']:,.0f} |",  # noqa: E501
            f"| service: `GET /api/v1/villages?format=xlsx` | {m['xlsx']:.2f} | {sizes['xlsx'] / 1e6:.1f} | {result['villages'] / m['xlsx']:,.0f} |",  # noqa: E501
            "",
            f"* CSV throughput: {result['throughput_ratio']:.2f} × the floor's (target ≥ {THROUGHPUT_TARGET}): "  # noqa: E501
            f"**{verdict(result['throughput_ratio'] >= THROUGHPUT_TARGET)}**.",
            f"* The service's peak RSS grew by {result['rss_growth_mb']:.1f} MB over its {result['baseline_mb']:.0f} MB "  # noqa: E501
            f"while exporting (target ≤ {RSS_TARGET_MB} MB): **{verdict(result['rss_growth_mb'] <= RSS_TARGET_MB)}**.",  # noqa: E501
            f"* XLSX took {result['xlsx_ratio']:.1f} × the CSV time (target ≤ {XLSX_TARGET:g}): "
            f"**{verdict(result['xlsx_ratio'] <= XLSX_TARGET)}**.",
            "",
            "The CSV lines are written by PostgreSQL (app/spreadsheets/csvline.py) and read from a "
            "server-side cursor 2,000 at a time; the service only joins and sends them. The XLSX "
            "file is written cell by cell by XlsxWriter in constant-memory mode (chosen over "
            "openpyxl's write-only mode by bench/xlsx_writers.py), a Python call per cell: that, not "
            "the database, is its cost.",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m bench.export", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="dataset scale (1 = national)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument("--doc", default=str(DEFAULT_DOC))
    parser.add_argument("--data-dir", default=None)
    options = parser.parse_args(argv)
    options.keep = False
    from app.__main__ import migrate
    from bench import dataset
    from bench.run import bench_database

    sizes = dataset.Sizes.scaled(options.scale) if options.scale != 1 else dataset.Sizes()
    with bench_database(options) as db:
        migrate(db.url)
        asyncio.run(dataset.load(db.dsn, sizes, options.seed, say))
        say("measuring")
        result = measure(db.url, db.dsn, options.rounds)
    result |= {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "rounds": options.rounds,
        "villages": sizes.villages,
    }
    command = ("python -m bench.export " + " ".join(argv)).strip()
    Path(options.doc).write_text(markdown(result, command))
    say(
        f"CSV {result['throughput_ratio']:.2f} × the floor, RSS +{result['rss_growth_mb']:.1f} MB, XLSX {result['xlsx_ratio']:.1f} × CSV; written to {options.doc}"  # noqa: E501
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
