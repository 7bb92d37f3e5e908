"""XlsxWriter (constant_memory) against openpyxl (write-only) on rows shaped like the village
export: time and the process's peak RSS, each writer in a fresh process. The export uses the
faster of the two at flat memory (app/spreadsheets/xlsx.py); the figures are in docs/benchmarks.md.

    python -m bench.xlsx_writers [--rows 100000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path


def sample_rows(count: int) -> list[list[object]]:
    return [
        [
            i,
            f"Làng nghề số {i}",
            "Nam Giang",
            1000 + i,
            "36",
            "Nam Định",
            "handicraft",
            "rèn; cơ khí nhỏ",
            "craft_village",
            date(2015, 1, 1 + i % 28),
            1900 + i % 120,
            100 + i % 900,
            50 + i % 40,
            i % 2 == 0,
            i % 3 == 0,
            20.1 + i / 1e6,
            106.2 + i / 1e6,
            False,
            "ghi chú " * (i % 3),
        ]
        for i in range(count)
    ]


def write_xlsxwriter(path: str, rows: list[list[object]]) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(path, {"constant_memory": True})
    sheet = book.add_worksheet("data")
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, bool):
                sheet.write_boolean(r, c, value)
            elif isinstance(value, int | float):
                sheet.write_number(r, c, value)
            elif isinstance(value, date):
                sheet.write_datetime(r, c, value, day)
            else:
                sheet.write_string(r, c, str(value))
    book.close()


def write_openpyxl(path: str, rows: list[list[object]]) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet("data")
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
            cells.append(cell)
        sheet.append(cells)
    book.save(path)


def run_one(writer: str, count: int) -> dict[str, float]:
    rows = sample_rows(count)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "out.xlsx")
        started = time.perf_counter()
        (write_xlsxwriter if writer == "xlsxwriter" else write_openpyxl)(path, rows)
        seconds = time.perf_counter() - started
        size = Path(path).stat().st_size
    growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    return {"seconds": seconds, "rss_growth_mb": growth, "bytes": size}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--one", choices=["xlsxwriter", "openpyxl"])
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.rows)))
        return 0
    for writer in ("xlsxwriter", "openpyxl"):
        out = subprocess.run(
            [sys.executable, "-m", "bench.xlsx_writers", "--one", writer, "--rows", str(args.rows)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        figures = json.loads(out)
        print(
            f"{writer:10}  {args.rows} rows × 19 columns: {figures['seconds']:.2f} s, "
            f"peak RSS growth {figures['rss_growth_mb']:.1f} MB, {figures['bytes'] / 1e6:.1f} MB file"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
