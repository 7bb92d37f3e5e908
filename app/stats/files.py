"""A statistic as a file: its JSON body (the cached one, app/stats/cache.py) laid out as a table,
CSV or XLSX, with its totals as the last row. A unit dimension becomes `<dimension>_code` and
`<dimension>_name`, an enumeration its code (or with `lang` its label); the overview, which has
no rows, becomes one row per figure (`figure`, `value`: `villages.by_craft_group.salt`, 3)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from app.kit.pagination import public_link
from app.spreadsheets.columns import Column, Lang
from app.spreadsheets.formats import MEDIA_TYPES, Format, content_disposition
from app.spreadsheets.headers import TOTAL, about_name, about_note, label, part_label
from app.spreadsheets.tables import table_csv, table_xlsx
from app.stats.cache import Cached
from app.stats.queries import Stats

CSV_MEDIA_TYPE = "text/csv; charset=utf-8; header=present"
_CHANGED = text("SELECT max(changed_at) FROM data_version WHERE resource = ANY(CAST(:tables AS text[]))")


def _measure(name: str) -> Column:
    vi, en = label(name)
    return Column(name, "money" if name.endswith("_vnd") else "int", vi=vi, en=en)


def grouped_table(stats: Stats, body: dict[str, Any]) -> tuple[list[Column], list[list[Any]], list[Any]]:
    """Columns, rows and the totals row of a grouped statistic's answer."""
    dims: list[str] = body["group_by"]
    columns: list[Column] = []
    for name in dims:
        dimension = stats.dimensions[name]
        vi, en = label(name)
        if dimension.kind == "unit":
            for part in ("code", "name"):
                columns.append(Column(f"{name}_{part}", "text", None, *part_label(name, part)))
        elif dimension.kind == "enum":
            columns.append(Column(name, "enum", dimension.enum, vi, en))
        else:
            columns.append(Column(name, "int" if dimension.kind == "number" else "text", None, vi, en))
    columns.extend(_measure(m) for m in stats.measures)

    def cells(row: dict[str, Any]) -> list[Any]:
        out: list[Any] = []
        for name in dims:
            value = row.get(name)
            kind = stats.dimensions[name].kind
            if kind == "unit":
                out.extend([value["code"], value["name"]] if value else [None, None])
            elif kind == "enum":
                out.append(value["code"] if value else None)
            else:
                out.append(value)
        return out + [row[m] for m in stats.measures]

    rows = [cells(row) for row in body["rows"]]
    width = len(columns) - len(stats.measures)
    totals = [None] * width + [body["totals"][m] for m in stats.measures]
    return columns, rows, totals


def overview_table(body: dict[str, Any]) -> tuple[list[Column], list[list[Any]]]:
    """The overview's figures, one row each: its dotted path and its value."""
    rows: list[list[Any]] = []

    def walk(prefix: str, node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(f"{prefix}.{key}" if prefix else key, value)
        else:
            rows.append([prefix, node])

    walk("", body)
    figure = Column("figure", "text", vi="Chỉ tiêu", en="Figure")
    value = Column("value", "int", vi="Giá trị", en="Value")
    return [figure, value], rows


async def file_response(
    request: Request,
    session: AsyncSession,
    found: Cached,
    fmt: Format,
    lang: Lang | None,
    stats: Stats | None,
    depends_on: Sequence[str],
) -> Response:
    """The statistic as a CSV or XLSX file, with its ETag."""
    body = json.loads(found.body)  # the standard library: sums can exceed 64 bits
    totals: list[Any] | None = None
    if stats is not None:
        columns, rows, totals = grouped_table(stats, body)
        totals[0] = TOTAL[lang]
        name = f"stats-{stats.path}"
    else:
        columns, rows = overview_table(body)
        name = "stats-overview"
    headers = {
        "ETag": found.etag,
        "Cache-Control": "no-cache",
        "X-Stats-Source": found.source,
        "Vary": "Accept",
        "Content-Disposition": content_disposition(name, fmt),
    }
    if fmt == Format.csv:
        return Response(table_csv(columns, rows, totals, lang), media_type=CSV_MEDIA_TYPE, headers=headers)
    changed: datetime | None = (await session.execute(_CHANGED, {"tables": list(depends_on)})).scalar()
    query = request.url.query
    source = public_link(request, request.scope.get("root_path", "") + request.url.path, query)

    def about(count: int, big_numbers: int) -> list[tuple[str, str]]:
        lines = [
            (about_name("source", lang), source),
            (about_name("query", lang), query),
            (about_name("data_as_of", lang), changed.astimezone(UTC).isoformat() if changed else ""),
            (about_name("data_version", lang), found.tag),
            (about_name("rows", lang), str(count)),
        ]
        if big_numbers:
            lines.append(
                (about_name("big_numbers", lang), about_note("big_numbers", lang, count=big_numbers))
            )
        return lines

    content = await asyncio.to_thread(table_xlsx, columns, rows, totals, lang, about, changed)
    return Response(content, media_type=MEDIA_TYPES[fmt], headers=headers)
