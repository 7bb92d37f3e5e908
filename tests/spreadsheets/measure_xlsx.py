"""Measure the XLSX readers on a generated workbook: time and peak memory, each in its own process.

    .venv/bin/python -m tests.spreadsheets.measure_xlsx [ROWS]

Writes a workbook of ROWS (default 100,000) village-figure-like rows and 12 columns (text with
Vietnamese, integers, money, dates, an enumeration code) with openpyxl's write-only mode, then reads
every cell of it with python-calamine and with openpyxl read-only, each in a fresh interpreter so
that the peak resident memory (ru_maxrss) is that reader's alone, and with app.spreadsheets.reading
(what the importer uses: the safety checks plus the chosen library). Not a test: pytest does not
collect it (no test_ prefix).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_READERS = {
    "baseline": "import python_calamine, openpyxl\n",
    "calamine": (
        "from python_calamine import CalamineWorkbook\n"
        "with open(PATH, 'rb') as f:\n"
        "    wb = CalamineWorkbook.from_filelike(f)\n"
        "    for row in wb.get_sheet_by_index(0).iter_rows():\n"
        "        n += 1\n"
    ),
    "openpyxl": (
        "import openpyxl\n"
        "wb = openpyxl.load_workbook(PATH, read_only=True, data_only=True)\n"
        "for row in wb.worksheets[0].iter_rows(values_only=True):\n"
        "    n += 1\n"
        "wb.close()\n"
    ),
    "app.spreadsheets.reading": (
        "from app.spreadsheets.reading import Limits, read_table\n"
        "with open(PATH, 'rb') as f:\n"
        "    table = read_table(f, filename='m.xlsx', limits=Limits(max_rows=10**7))\n"
        "    for row in table.rows:\n"
        "        n += 1\n"
    ),
}

_HARNESS = """
import resource, sys, time, json
PATH = sys.argv[1]
n = 0
start = time.perf_counter()
{body}
elapsed = time.perf_counter() - start
print(json.dumps({{"rows": n, "seconds": elapsed,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def write_workbook(path: Path, rows: int) -> None:
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("villages")
    ws.append(
        ["id", "name", "commune_code", "craft_group", "year", "households_total",
         "households_participating", "workers", "revenue_vnd", "recognised_on", "note", "qualifier"]
    )  # fmt: skip
    start = dt.date(2000, 1, 1)
    for i in range(rows):
        ws.append(
            [i + 1, f"Làng nghề gốm sứ Bát Tràng {i}", f"{10000 + i % 9000:05d}", "handicraft",
             2000 + i % 26, 100 + i % 900, 50 + i % 50, 1000 + i, 4_100_000_000 + i * 1000,
             start + dt.timedelta(days=i % 9000), "Sản xuất hàng thủ công mỹ nghệ, đồ gỗ", "exact"]
        )  # fmt: skip
    wb.save(path)


def measure(path: Path, reader: str) -> dict[str, float]:
    script = _HARNESS.format(body=_READERS[reader])
    out = subprocess.run(
        [sys.executable, "-c", script, str(path)], check=True, capture_output=True, text=True
    ).stdout
    result: dict[str, float] = json.loads(out)
    return result


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "measure.xlsx"
        started = time.perf_counter()
        write_workbook(path, rows)
        size = path.stat().st_size / 2**20
        print(f"wrote {rows:,} rows, {size:.1f} MiB in {time.perf_counter() - started:.1f} s")
        for reader in _READERS:
            best: dict[str, float] | None = None
            for _ in range(3):
                result = measure(path, reader)
                if best is None or result["seconds"] < best["seconds"]:
                    best = result
            assert best is not None
            print(
                f"{reader:26} rows {int(best['rows']):>7,}  {best['seconds']:6.2f} s  "
                f"peak RSS {best['peak_mib']:6.1f} MiB"
            )


if __name__ == "__main__":
    main()
