"""Small tables written whole (a statistic's rows and its totals): CSV text or an XLSX file, with
the same cell rules as the streamed exports (app.spreadsheets.columns)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from app.spreadsheets import csvline
from app.spreadsheets.columns import BOOL_LABELS, Column, Lang, enum_label, guard
from app.spreadsheets.xlsx import XlsxFile


def csv_cell(value: Any, column: Column, lang: Lang | None) -> str:
    """One cell's text, as the export's SQL writes it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        yes, no = BOOL_LABELS[lang] if lang else ("true", "false")
        return yes if value else no
    if column.kind == "enum":
        return enum_label(column.enum, str(value), lang)
    if isinstance(value, int | float):
        return str(value)
    return guard(str(value))


def table_csv(
    columns: Sequence[Column], rows: Sequence[Sequence[Any]], totals: Sequence[Any] | None, lang: Lang | None
) -> bytes:
    """The whole table as CSV (BOM, header, rows, then the totals row)."""
    lines = [[csv_cell(v, c, lang) for v, c in zip(row, columns, strict=True)] for row in rows]
    if totals is not None:
        # The totals row's first cell is its label, not a value of that column.
        lines.append(
            [str(totals[0]), *(csv_cell(v, c, lang) for v, c in zip(totals[1:], columns[1:], strict=True))]
        )
    return (csvline.header(columns, lang) + csvline.rows(lines)).encode()


def table_xlsx(
    columns: Sequence[Column],
    rows: Sequence[Sequence[Any]],
    totals: Sequence[Any] | None,
    lang: Lang | None,
    about: Any,
    created: datetime | None,
) -> bytes:
    """The whole table as an XLSX file (its totals row bold); `about(rows, big_numbers)` gives
    the lines of the about sheet."""
    with tempfile.TemporaryDirectory(prefix="stats-") as folder:
        path = os.path.join(folder, "table.xlsx")
        book = XlsxFile(path, columns, lang, created)
        book.write_rows([_typed(row, columns) for row in rows])
        if totals is not None:
            book.write_rows([[totals[0], *_typed(totals[1:], columns[1:])]], bold=True)
        book.close(about(len(rows), book.texts_for_big_numbers))
        with open(path, "rb") as handle:
            return handle.read()


def _typed(row: Sequence[Any], columns: Sequence[Column]) -> list[Any]:
    return [
        None if v is None else (str(v) if c.kind in ("text", "enum") else v)
        for v, c in zip(row, columns, strict=True)
    ]
