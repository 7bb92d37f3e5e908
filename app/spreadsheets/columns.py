"""The columns of a file export and how each kind of value is written in a cell.

How a record becomes one row of a CSV file or a worksheet (documented in the README, "Spreadsheets
and maps"; an importer reads the same columns back):

* A plain field is one column named by its field code (`households_total`); the header can carry
  labels for people instead (`lang=vi|en`), but the codes are what an importer reads.
* A summary of a referenced record (`district: {id, code, name}`) becomes one column per field of
  the summary but the id, which the record's own `<x>_id` column carries: `district_code`,
  `district_name`; `programme_name`.
* A list of values (`crafts`, `other_commune_ids`) is one cell, its items joined with "; ".
* Programme funding is pivoted: one column per funding source, `funding_<source>_vnd`, the sum of
  the programme's lines from that source (empty when it has none).
* Any other embedded list (programme beneficiaries, fair participants) is one cell, its lines
  joined with "; " in the order of their ids, each line its non-empty fields as `name=value`
  joined with ", ": `village_id=12, booths=3; cooperative_id=5, booths=1`.
* Empty is nothing at all (no "null"). Booleans are `true`/`false` (with labels: có/không,
  yes/no); enumerations their code, or with `lang` their label; dates `YYYY-MM-DD`; moments ISO
  8601 with their offset (UTC); money whole đồng, no separators.
* A text cell that would begin with `=`, `+`, `-`, `@`, a tab or a carriage return is written
  with a leading apostrophe (`'=1+1`), so that no spreadsheet program takes it for a formula
  (OWASP "CSV injection"); an importer drops an apostrophe followed by one of those characters.
  Numbers are never touched, and text that begins with a letter (all Vietnamese text) neither.
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, Union, get_args, get_origin

from app.core.labels import LabelledEnum

Kind = Literal["text", "int", "money", "float", "date", "datetime", "bool", "enum", "list"]
Lang = Literal["vi", "en"]
LIST_SEPARATOR = "; "
LINE_FIELD_SEPARATOR = ", "
# A text cell starting with one of these is escaped by a leading apostrophe (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOOL_LABELS: dict[Lang, tuple[str, str]] = {"vi": ("có", "không"), "en": ("yes", "no")}
# Excel keeps 15 significant digits: integers beyond 2^53 lose their last digits as numbers.
EXACT_NUMBER_MAX = 2**53


@dataclass(frozen=True)
class Column:
    """One column of an export: its code (the header an importer reads), the kind of its values,
    the enumeration of an enum column, and its header for people."""

    code: str
    kind: Kind
    enum: type[LabelledEnum] | None = None
    vi: str = ""
    en: str = ""

    def header(self, lang: Lang | None) -> str:
        if lang is None:
            return self.code
        return (self.vi if lang == "vi" else self.en) or self.code


def kind_of(annotation: Any, name: str) -> tuple[Kind, type[LabelledEnum] | None]:  # noqa: PLR0911 - one answer per kind
    """The kind of a schema field's values (Optional unwrapped); money is an integer field whose
    name ends in _vnd."""
    if get_origin(annotation) in (Union, types.UnionType):
        options = [a for a in get_args(annotation) if a is not type(None)]
        annotation = options[0] if len(options) == 1 else annotation
    if get_origin(annotation) is list:
        return "list", None
    if get_origin(annotation) is not None and hasattr(annotation, "__origin__"):
        annotation = annotation.__origin__  # Annotated[int, ...]
    if isinstance(annotation, type):
        if issubclass(annotation, LabelledEnum):
            return "enum", annotation
        if issubclass(annotation, bool):
            return "bool", None
        if issubclass(annotation, int):
            return ("money" if name.endswith("_vnd") else "int"), None
        if issubclass(annotation, float):
            return "float", None
        if issubclass(annotation, datetime):
            return "datetime", None
        if issubclass(annotation, date):
            return "date", None
    return "text", None


def guard(text: str) -> str:
    """A text cell no spreadsheet program reads as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def enum_label(enum: type[LabelledEnum] | None, code: str, lang: Lang | None) -> str:
    """An enumeration cell: the code, or its label in `lang` (a code it does not know, as is)."""
    if lang is None or enum is None:
        return code
    try:
        member = enum(code)
    except ValueError:
        return code
    return member.vi if lang == "vi" else member.en
