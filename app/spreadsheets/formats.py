"""Which format an answer is sent in: the `format` parameter, else the Accept header (RFC 9110
§12.5.1, quality values and wildcards), JSON by default; and the file name a download gets."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from enum import StrEnum

from app.core.errors import NotAcceptable
from app.core.i18n import tr


class Format(StrEnum):
    json = "json"
    csv = "csv"
    xlsx = "xlsx"
    geojson = "geojson"


MEDIA_TYPES: dict[Format, str] = {
    Format.json: "application/json",
    Format.csv: "text/csv",
    Format.xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    Format.geojson: "application/geo+json",
}
EXTENSIONS: dict[Format, str] = {
    Format.json: "json",
    Format.csv: "csv",
    Format.xlsx: "xlsx",
    Format.geojson: "geojson",
}
FILES = (Format.csv, Format.xlsx)  # what every list and statistic offers besides JSON
# The department's clock (Vietnam keeps UTC+7 all year): the date in a file's name.
LOCAL = timezone(timedelta(hours=7))


def _ranges(accept: str) -> list[tuple[str, str, float]]:
    """The media ranges of an Accept header with their quality; malformed entries are skipped."""
    ranges = []
    for item in accept.split(","):
        media, *params = (part.strip() for part in item.split(";"))
        if "/" not in media:
            continue
        main, _, sub = media.lower().partition("/")
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
                quality = quality if 0.0 <= quality <= 1.0 else 0.0
        ranges.append((main, sub, quality))
    return ranges


def _quality(media_type: str, ranges: list[tuple[str, str, float]]) -> float:
    """The quality the client gives a media type: that of the most specific range matching it."""
    main, _, sub = media_type.partition("/")
    best: tuple[int, float] | None = None
    for r_main, r_sub, quality in ranges:
        if (r_main, r_sub) == (main, sub):
            specificity = 2
        elif r_main == main and r_sub == "*":
            specificity = 1
        elif (r_main, r_sub) == ("*", "*"):
            specificity = 0
        else:
            continue
        if best is None or specificity > best[0]:
            best = (specificity, quality)
    return best[1] if best else 0.0


def negotiate(accept: str | None, asked: Format | None, offered: Sequence[Format]) -> Format:
    """The format to answer in: `asked` (the format parameter) when given, else the offered one the
    Accept header rates highest (the first offered, JSON, on a tie or without the header); an
    Accept header none of them satisfies is a 406 listing what is offered."""
    if asked is not None:
        return asked
    if accept is None or not accept.strip():
        return offered[0]
    ranges = _ranges(accept)
    if not ranges:
        return offered[0]
    rated = [(_quality(MEDIA_TYPES[f], ranges), -i, f) for i, f in enumerate(offered)]
    quality, _, chosen = max(rated)
    if quality <= 0:
        available = [MEDIA_TYPES[f] for f in offered]
        raise NotAcceptable(
            tr(
                "none of the media types in Accept can be sent; available: {available} (or the "
                "format parameter: {formats})",
                available=", ".join(available),
                formats=", ".join(f.value for f in offered),
            ),
            extra={"available": available},
        )
    return chosen


def today() -> date:
    return datetime.now(UTC).astimezone(LOCAL).date()


def content_disposition(stem: str, fmt: Format) -> str:
    """`attachment; filename="villages-2026-12-03.csv"` (the stem is a path: ASCII, no quotes)."""
    return f'attachment; filename="{stem}-{today().isoformat()}.{EXTENSIONS[fmt]}"'


# RFC 7946 as the OpenAPI document shows it: a FeatureCollection of Points, longitude first.
GEOJSON_SCHEMA: dict[str, object] = {
    "type": "object",
    "required": ["type", "features", "excluded_without_coordinates"],
    "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "features": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["type", "id", "geometry", "properties"],
                "properties": {
                    "type": {"type": "string", "enum": ["Feature"]},
                    "id": {"type": "integer", "format": "int64"},
                    "geometry": {
                        "type": "object",
                        "required": ["type", "coordinates"],
                        "properties": {
                            "type": {"type": "string", "enum": ["Point"]},
                            "coordinates": {
                                "type": "array",
                                "items": {"type": "number"},
                                "minItems": 2,
                                "maxItems": 2,
                                "description": "[longitude, latitude] (WGS 84).",
                            },
                        },
                    },
                    "properties": {"type": "object", "description": "The record as the list gives it."},
                },
            },
        },
        "excluded_without_coordinates": {
            "type": "integer",
            "format": "int64",
            "minimum": 0,
            "description": "Records the query selects that have no coordinates, left out of `features`.",
        },
    },
}


def openapi_content(offered: Sequence[Format]) -> dict[str, object]:
    """The `content` of a 200 answer besides JSON: the file formats offered."""
    content: dict[str, object] = {}
    for fmt in offered:
        if fmt == Format.csv:
            content[MEDIA_TYPES[fmt]] = {
                "schema": {"type": "string"},
                "example": "\ufeffid,name\r\n1,Vân Chàng\r\n",
            }
        elif fmt == Format.xlsx:
            content[MEDIA_TYPES[fmt]] = {"schema": {"type": "string", "format": "binary"}}
        elif fmt == Format.geojson:
            content[MEDIA_TYPES[fmt]] = {"schema": GEOJSON_SCHEMA}
    return content


FORMAT_HELP = (
    "Answer as a file instead of JSON (the same as sending its media type in Accept): every record "
    "the filters select, in the list's order, without paging (`limit` and `offset` apply only when "
    'given), with a Content-Disposition file name. Formats and columns: README, "Spreadsheets and '
    'maps".'
)
LANG_HELP = (
    "Files only: headers and enumeration cells as labels for people, in Vietnamese (vi) or English "
    "(en). Without it, field codes and enumeration codes, which an import reads back."
)
