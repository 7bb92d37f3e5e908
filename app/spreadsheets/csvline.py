"""CSV lines written by PostgreSQL: each row of an export comes back as one finished RFC 4180
line (fields quoted where needed, CRLF at the end), so that the service only joins and sends
them. The rules are those of app.spreadsheets.columns, in SQL.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, String, case, func, literal_column, type_coerce

from app.spreadsheets.columns import BOOL_LABELS, FORMULA_STARTS, LIST_SEPARATOR, Column, Lang

BOM = "\ufeff"
CRLF = "\r\n"
# A text starting like a formula (columns.FORMULA_STARTS), as a POSIX regular expression.
FORMULA_PATTERN = "^[" + "".join(FORMULA_STARTS).replace("-", "") + "-]"


def sql_text(value: str) -> ColumnElement[str]:
    """A constant of ours (a label) as an SQL literal."""
    return literal_column("'" + value.replace("'", "''") + "'", String)


def quoted(value: str) -> str:
    """One CSV field as RFC 4180 writes it (quoted when it holds a comma, a quote or a line break)."""
    if any(c in value for c in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _guarded_and_quoted(value: Any) -> ColumnElement[str]:
    text = type_coerce(value, String)
    guarded = case((text.regexp_match(FORMULA_PATTERN), literal_column("''''") + text), else_=text)
    return case(
        (text.is_(None), literal_column("''")),
        (
            text.regexp_match('[",\r\n]'),
            literal_column("'\"'", String)
            + func.replace(guarded, '"', '""', type_=String)
            + literal_column("'\"'"),
        ),
        else_=guarded,
    )


def field(expression: Any, column: Column, lang: Lang | None) -> ColumnElement[str]:  # noqa: PLR0911 - one answer per kind
    """The CSV field of one value: empty for null, else written as its kind says."""
    kind = column.kind
    if kind in ("int", "money", "float"):
        return func.coalesce(expression.cast(String), literal_column("''"))
    if kind == "date":
        return func.coalesce(func.to_char(expression, "YYYY-MM-DD"), literal_column("''"))
    if kind == "datetime":
        utc = func.timezone("UTC", expression)
        moment = func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS.US', type_=String) + literal_column("'+00:00'")
        return func.coalesce(moment, literal_column("''"))
    if kind == "bool":
        yes, no = BOOL_LABELS[lang] if lang else ("true", "false")
        return case(
            (expression.is_(True), sql_text(yes)), (expression.is_(False), sql_text(no)), else_=sql_text("")
        )
    if kind == "enum":
        if lang is None or column.enum is None:
            return func.coalesce(expression, literal_column("''"))
        labels = {m.value: quoted(m.vi if lang == "vi" else m.en) for m in column.enum}
        return func.coalesce(
            case(*[(expression == sql_text(code), sql_text(text)) for code, text in labels.items()]),
            expression,
            literal_column("''"),
        )
    if kind == "list":
        return _guarded_and_quoted(func.nullif(func.array_to_string(expression, LIST_SEPARATOR), ""))
    return _guarded_and_quoted(expression)


def line(fields: Sequence[ColumnElement[str]]) -> ColumnElement[str]:
    """A whole CSV line of these fields, CRLF included."""
    return func.concat_ws(",", *fields, type_=String) + literal_column("E'\\r\\n'")


def header(columns: Sequence[Column], lang: Lang | None) -> str:
    """The header line, with the byte order mark that makes Excel read UTF-8."""
    out = io.StringIO()
    csv.writer(out, lineterminator=CRLF).writerow([c.header(lang) for c in columns])
    return BOM + out.getvalue()


def rows(values: Sequence[Sequence[str]]) -> str:
    """Lines of ready-made cells (the statistics', few and written by Python)."""
    out = io.StringIO()
    csv.writer(out, lineterminator=CRLF).writerows(values)
    return out.getvalue()
