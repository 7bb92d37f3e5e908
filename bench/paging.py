"""Deep pages: `offset=90000` against the `after` cursor of the same position, at national scale.

The bench dataset (bench/dataset.py, 100,000 villages at scale 1) is loaded into a new database,
the app is built in this process and each request goes through httpx's ASGI transport, one at a
time, interleaved round after round so that the machine's drift touches all alike. Reported are
medians and their ratios to the first page, measured in the same run: a ratio, not an absolute
time, is what carries from one machine to another. Written to docs/paging.md.

    python -m bench.paging [--scale 1] [--rounds 15] [--depth 90000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DOC = ROOT / "docs" / "paging.md"
TARGET = 2.0  # a deep page by cursor costs at most this many first pages


def say(message: str) -> None:
    print(f"[paging] {message}", file=sys.stderr, flush=True)


async def measure(url: str, depth: int, rounds: int, limit: int) -> dict[str, Any]:
    import httpx

    from app.core.settings import Settings, get_settings
    from app.main import create_app

    get_settings.cache_clear()
    app = create_app(Settings(database_url=url))
    sort = "sort=name"  # a sort on a non-unique key: the cursor holds the name and the id
    base = f"/api/v1/villages?{sort}&limit={limit}"
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=120) as client:
            # The cursor at `depth`: the `next` of the page just before it.
            before = (await client.get(f"{base}&offset={depth - limit}")).json()
            cursor = before["next"]
            assert cursor is not None, "the dataset has fewer villages than the depth"
            targets = {
                "first page (offset=0)": f"{base}&offset=0",
                f"offset={depth}": f"{base}&offset={depth}",
                f"after=<cursor at {depth}>": f"{base}&after={cursor}",
            }
            answers = {name: (await client.get(t)).json() for name, t in targets.items()}  # warm-up
            by_offset, by_cursor = list(answers.values())[1:]
            if [i["id"] for i in by_offset["items"]] != [i["id"] for i in by_cursor["items"]]:
                raise RuntimeError("the cursor's page differs from the offset's page")
            seconds: dict[str, list[float]] = {name: [] for name in targets}
            for _ in range(rounds):
                for name, target in targets.items():
                    started = time.perf_counter()
                    response = await client.get(target)
                    seconds[name].append(time.perf_counter() - started)
                    assert response.status_code == 200, response.text
    medians = {name: statistics.median(values) for name, values in seconds.items()}
    first = medians["first page (offset=0)"]
    return {
        "targets": targets,
        "median_s": medians,
        "ratio_to_first": {name: m / first for name, m in medians.items()},
        "total": by_offset["total"],
    }


def markdown(result: dict[str, Any], command: str) -> str:
    lines = [
        "# Deep pages: offset against cursor",
        "",
        f"Measured {result['date']} with `{command}` on {result['villages']:,} villages (the bench "
        f"dataset), {result['rounds']} rounds, requests one at a time through the app in-process.",
        "",
        "| request | median, ms | × first page |",
        "|---|---:|---:|",
    ]
    for name, target in result["targets"].items():
        lines.append(
            f"| {name}: `{target if len(target) <= 80 else target[:79] + '…'}` "
            f"| {result['median_s'][name] * 1000:.1f} "
            f"| {result['ratio_to_first'][name]:.2f} |"
        )
    verdict = "PASS" if result["cursor_ratio"] <= TARGET else "MISS"
    lines += [
        "",
        f"Target: the cursor's deep page costs at most {TARGET:g} × the first page: "
        f"{result['cursor_ratio']:.2f} — **{verdict}**. The offset's deep page costs "
        f"{result['offset_ratio']:.1f} × the first page: PostgreSQL reads, sorts and skips every "
        "record before it (as ids and sort keys; only the page is rendered), while the cursor starts "
        "at its position in the index. Both offset pages also count every record for `total` in "
        "the same statement; a page after a cursor counts them in a second, index-only one.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m bench.paging", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="dataset scale (1 = national)")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--depth", type=int, default=90_000, help="the deep page's offset")
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument("--doc", default=str(DEFAULT_DOC))
    parser.add_argument("--data-dir", default=None)
    options = parser.parse_args(argv)
    options.keep = False
    from app.__main__ import migrate
    from bench import dataset
    from bench.run import bench_database

    sizes = dataset.Sizes.scaled(options.scale) if options.scale != 1 else dataset.Sizes()
    if sizes.villages < options.depth + options.limit:
        say(f"--depth {options.depth} needs more than the {sizes.villages:,} villages of this scale")
        return 2
    with bench_database(options) as db:
        migrate(db.url)
        asyncio.run(dataset.load(db.dsn, sizes, options.seed, say))
        say("measuring")
        result = asyncio.run(measure(db.url, options.depth, options.rounds, options.limit))
    names = list(result["targets"])
    result |= {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "rounds": options.rounds,
        "villages": result["total"],
        "offset_ratio": result["ratio_to_first"][names[1]],
        "cursor_ratio": result["ratio_to_first"][names[2]],
    }
    command = "python -m bench.paging " + " ".join(argv)
    Path(options.doc).write_text(markdown(result, command.strip()))
    for name in names:
        say(f"{name}: {result['median_s'][name] * 1000:.1f} ms, {result['ratio_to_first'][name]:.2f} × first")
    say(f"report: {options.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
