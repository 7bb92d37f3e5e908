"""One cell of an imported spreadsheet, read as people in Viet Nam write it.

Each `parse_*` function takes a cell's value as app.spreadsheets.reading gives it (str from a CSV;
str, float, bool, date, datetime… from an XLSX; None when empty) and answers the value, None for
an empty cell, or raises `CellError`, whose message (a Text, sayable in Vietnamese) says what is
wrong with the value. `check(row, column, value, parser)` turns that into a `CellProblem` with the
row number, the column's header and the value as written, the four members of an item of the
import's 422 problem (`errors: [{"row", "column", "value", "message"}]`); `Problems` collects them,
keeping the first 1,000 and counting the rest.

Whole numbers and money (`parse_integer`, `parse_money`, in đồng, never negative)
    A number cell is taken when it is integral: Excel keeps every number as a binary double, so
    a cell above 2^53 (9,007,199,254,740,992) cannot be exact and is refused (such money is
    written as text, which the exporter does); 2.5 is refused, never rounded. Text is read by
    this exact rule, so that nothing is guessed:

    - an optional sign (+, -, or the minus sign U+2212) and, for money, an optional currency
      mark after the number: đ, ₫, đồng, VND or VNĐ, in any case;
    - then either digits alone ("4100000"), or groups: one to three digits followed by groups of
      **exactly three** digits, each preceded by the **same** separator, which is one of the
      full stop ("4.100.000": Vietnamese), the comma ("4,100,000": English) or a space (a normal
      one, a no-break space U+00A0, a narrow no-break space U+202F or a thin space U+2009, all
      counted as one kind: "1 250");
    - nothing else. A separator followed by other than three digits ("4,1", "4.10", "1.2345"),
      two kinds of separator ("1.250,00", "1,250.5") or a decimal part are refused as
      ambiguous: "4,1" is 4.1 to a Vietnamese reader and a typo to an English one, and money
      and counts have no fractions. "1.250" and "1,250" are both 1,250: with whole numbers
      only, a separator followed by exactly three digits can only group thousands.

Dates (`parse_date`)
    A date cell; a date-time cell at midnight (one with a time of day is refused); text
    dd/mm/yyyy or d/m/yyyy (also with - or . between, the same one twice), read day first as
    Vietnamese do (03/02/2015 is 3 February: there is no month-first reading); ISO yyyy-mm-dd;
    either may end in a midnight time (" 00:00:00"). Years have four digits. A day that does
    not exist (31/02/2015) is refused. A number (a cell not formatted as a date, or an Excel
    serial number written into a CSV, "42038") is refused, not converted.

Booleans (`parse_bool`)
    A TRUE/FALSE cell, the numbers 1 and 0, or, in any case and with or without accents:
    có, x, yes, y, true, đúng, 1 for true; không, no, n, false, sai, 0 for false. An empty cell is
    `blank` (None by default; a column of ticks, "x" or nothing, passes blank=False).

Enumerations (`parse_enum`, for the LabelledEnum classes of app.models)
    The member's code ("handicraft", also with spaces for underscores), its Vietnamese label or
    its English label, ignoring case, spaces around and between words, and the Unicode form
    (NFC or NFD). Without accents too ("Thu cong my nghe"), but only where that is safe: the
    enumeration's labels and codes are compared without accents once, and when two members
    then look the same, text naming either of them must carry its accents exactly (detected
    per enumeration, so one pair of look-alikes does not make the others strict).

Text (`parse_text`)
    NFC, line breaks as \\n, trimmed; NUL, lone surrogates and other control characters (except
    tab and line breaks) are refused. The exporter's guard against formula injection (OWASP CSV
    injection) is undone: it writes a text cell starting with = + - @ tab or CR after a single
    quote, so exactly one leading ' is removed from a cell whose next character is one of
    those, and from no other cell. (Text that itself began with ' and one of those, "'=x", thus
    loses its quote on a round trip, unless the exporter also guards text starting with ', in
    which case ' joins GUARDED here.) A number cell in a text column is its number as written
    ("12", not "12.0"; a leading zero typed into a number cell is lost by the spreadsheet).

Lists (`parse_list`)
    Items separated by ";" or line breaks ("a; b; c"), each trimmed and parsed by an item parser
    (text by default); empty items are dropped; an empty cell is an empty list.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any, TypeVar, overload

from app.core.i18n import Text, tr
from app.core.labels import LabelledEnum
from app.core.text import nfc

CellValue = str | int | float | bool | dt.date | dt.datetime | dt.time | dt.timedelta | None
T = TypeVar("T")
E = TypeVar("E", bound=LabelledEnum)

EXACT_FLOAT = 2**53  # every integer up to this is a double exactly
BIGINT = 2**63 - 1  # PostgreSQL's bigint
MAX_PROBLEMS = 1000


class CellError(ValueError):
    """What is wrong with one cell's value."""

    def __init__(self, message: Text) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class CellProblem:
    """One cell that cannot be imported, as the import's error report lists it."""

    row: int
    column: str
    value: str
    message: Text

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "value": self.value, "message": self.message}

    @property
    def sentence(self) -> Text:
        """The whole of it in one sentence, for a log or the command line."""
        return tr(
            "row {row}, column {column}, value {value}: {message}",
            row=self.row,
            column=self.column,
            value=repr(self.value),
            message=self.message,
        )


@dataclass
class Problems:
    """The problems of a file: the first `most` kept, all counted."""

    most: int = MAX_PROBLEMS
    items: list[CellProblem] = field(default_factory=list)
    count: int = 0

    def add(self, problem: CellProblem) -> None:
        self.count += 1
        if len(self.items) < self.most:
            self.items.append(problem)

    def __bool__(self) -> bool:
        return self.count > 0


def check(row: int, column: str, value: CellValue, parse: Callable[[CellValue], T]) -> T | CellProblem:
    """`parse(value)`, or the problem with it at (row, column)."""
    try:
        return parse(value)
    except CellError as error:
        return CellProblem(row, column, shown(value), error.message)


def shown(value: CellValue) -> str:
    """A cell's value as text for an error report: what the person typed, as near as can be."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    text = str(value)
    return text if len(text) <= 200 else text[:199] + "…"


# Numbers -----------------------------------------------------------------------------------------

_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " "})
_SIGN = re.compile(r"([+\-\u2212]?)\s*(.*)", re.DOTALL)
_CURRENCY = re.compile(r"\s*(?:đồng|đ|₫|vnđ|vnd)\.?$", re.IGNORECASE)
_PLAIN = re.compile(r"[0-9]+")
_GROUPED = re.compile(r"[0-9]{1,3}(?P<sep>[., ])[0-9]{3}(?:(?P=sep)[0-9]{3})*")
_NUMBERISH = re.compile(r"[0-9]+(?:[., ]+[0-9]+)+")


def parse_integer(
    value: CellValue, *, minimum: int | None = -BIGINT - 1, maximum: int | None = BIGINT, money: bool = False
) -> int | None:
    """A whole number by the rule of the module's text; `money` allows a currency mark."""
    number = _integer(value, money)
    if number is None:
        return None
    if minimum is not None and number < minimum:
        raise CellError(tr("must be at least {minimum}", minimum=minimum))
    if maximum is not None and number > maximum:
        raise CellError(tr("must be at most {maximum}", maximum=maximum))
    return number


def parse_money(value: CellValue, *, maximum: int | None = BIGINT) -> int | None:
    """An amount of whole đồng, not negative."""
    return parse_integer(value, minimum=0, maximum=maximum, money=True)


def _integer(value: CellValue, money: bool) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise CellError(tr("must be a whole number"))
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise CellError(tr("must be a whole number, without a fractional part"))
        if abs(value) > EXACT_FLOAT:
            raise CellError(
                tr(
                    "a number cell above {limit} cannot hold an exact whole number: "
                    "write the number as text, e.g. 4.100.000.000.000.000",
                    limit=EXACT_FLOAT,
                )
            )
        return int(value)
    if not isinstance(value, str):
        raise CellError(tr("must be a whole number"))
    return _integer_text(value, money)


def _integer_text(value: str, money: bool) -> int | None:
    text = unicodedata.normalize("NFC", value).translate(_SPACES).strip()
    if not text:
        return None
    if money:
        text = _CURRENCY.sub("", text)
    matched = _SIGN.fullmatch(text)
    assert matched is not None
    sign, body = matched.groups()
    if _PLAIN.fullmatch(body):
        digits = body
    elif _GROUPED.fullmatch(body):
        digits = re.sub(r"[., ]", "", body)
    elif _NUMBERISH.fullmatch(body):
        raise CellError(
            tr(
                "{value} is ambiguous: write a whole number with digits grouped by three, "
                "all with the same separator (4.100.000, 4,100,000 or 4 100 000), or no separator",
                value=value.strip(),
            )
        )
    else:
        raise CellError(tr("must be a whole number"))
    number = int(digits)
    return -number if sign in ("-", "\u2212") else number


# Dates -------------------------------------------------------------------------------------------

_MIDNIGHT = r"(?:[ T]00:00(?::00(?:\.0+)?)?)?"
_DAY_FIRST = re.compile(r"([0-9]{1,2})([/.\-])([0-9]{1,2})\2([0-9]+)" + _MIDNIGHT)
_ISO = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})" + _MIDNIGHT)


def parse_date(value: CellValue) -> dt.date | None:
    """A date by the rules of the module's text."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if value.time() != dt.time(0):
            raise CellError(tr("must be a date without a time of day"))
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return _date_text(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise CellError(_number_not_date())
    raise CellError(_not_a_date())


def _date_text(value: str) -> dt.date | None:
    text = unicodedata.normalize("NFC", value).strip()
    if not text:
        return None
    if matched := _ISO.fullmatch(text):
        year, month, day = (int(part) for part in matched.groups())
    elif matched := _DAY_FIRST.fullmatch(text):
        if len(matched.group(4)) != 4:
            raise CellError(tr("write the year with four digits, e.g. 03/02/2015"))
        day, month, year = int(matched.group(1)), int(matched.group(3)), int(matched.group(4))
    elif _PLAIN.fullmatch(text) or _NUMBERISH.fullmatch(text):
        raise CellError(_number_not_date())
    else:
        raise CellError(_not_a_date())
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise CellError(tr("{value} is not a day of the calendar", value=text)) from None


def _not_a_date() -> Text:
    return tr("must be a date: a date cell, dd/mm/yyyy or yyyy-mm-dd")


def _number_not_date() -> Text:
    return tr("a number, not a date: format the cell as a date, or write dd/mm/yyyy")


# Booleans ----------------------------------------------------------------------------------------

_TRUE = frozenset({"có", "co", "x", "yes", "y", "true", "đúng", "dung", "1"})
_FALSE = frozenset({"không", "khong", "no", "n", "false", "sai", "0"})


def parse_bool(value: CellValue, *, blank: bool | None = None) -> bool | None:
    """Yes or no by the words of the module's text; an empty cell is `blank`."""
    if value is None:
        return blank
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = _fold(value)
        if not word:
            return blank
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise CellError(tr("must be yes or no: có, x, yes, true or 1; không, no, false or 0"))


# Enumerations ------------------------------------------------------------------------------------


def _fold(text: str) -> str:
    """Case, spaces and Unicode form set aside."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def unaccented(text: str) -> str:
    """Text without its diacritics (tone marks, breve, circumflex, horn), đ as d."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


@dataclass(frozen=True)
class _Matcher:
    exact: dict[str, frozenset[LabelledEnum]]
    loose: dict[str, frozenset[LabelledEnum]]


@cache
def _matcher(enum: type[LabelledEnum]) -> _Matcher:
    exact: dict[str, set[LabelledEnum]] = {}
    loose: dict[str, set[LabelledEnum]] = {}
    for member in enum:
        for name in (member.value, member.value.replace("_", " "), member.vi, member.en):
            key = _fold(name)
            exact.setdefault(key, set()).add(member)
            loose.setdefault(unaccented(key), set()).add(member)
    return _Matcher({k: frozenset(v) for k, v in exact.items()}, {k: frozenset(v) for k, v in loose.items()})


def ambiguous_without_accents(enum: type[LabelledEnum]) -> dict[str, list[str]]:
    """The spellings without accents that fit more than one member (each member's codes): text
    of these must carry its accents exactly."""
    return {
        key: sorted(m.value for m in members)
        for key, members in _matcher(enum).loose.items()
        if len(members) > 1
    }


def parse_enum(value: CellValue, enum: type[E]) -> E | None:
    """A member of `enum` by its code or its Vietnamese or English label (see the module's text)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise _not_one_of(enum)
    key = _fold(value)
    if not key:
        return None
    matcher = _matcher(enum)
    found = matcher.exact.get(key) or matcher.loose.get(unaccented(key))
    if not found:
        raise _not_one_of(enum)
    if len(found) > 1:
        raise CellError(
            tr(
                "{value} could be any of {codes}: write the label with its accents exactly, or the code",
                value=value.strip(),
                codes=", ".join(sorted(m.value for m in found)),
            )
        )
    (member,) = found
    return enum(member.value)


def _not_one_of(enum: type[LabelledEnum]) -> CellError:
    return CellError(
        tr(
            "must be one of {codes}, or its Vietnamese or English label",
            codes=", ".join(m.value for m in enum),
        )
    )


# Text --------------------------------------------------------------------------------------------

GUARDED = ("=", "+", "-", "@", "\t", "\r")  # what the exporter puts a ' before


def parse_text(value: CellValue, *, max_length: int | None = None) -> str | None:
    """Text by the rules of the module's text; None when empty."""
    if value is None:
        return None
    if isinstance(value, str):
        return _text(value, max_length=max_length, guarded=True)
    return _as_text(value)


def _as_text(value: CellValue) -> str:
    """A cell of another type, as the spreadsheet shows it."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) <= EXACT_FLOAT:
        return str(int(value))
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)


def unguard(text: str) -> str:
    """The text the exporter guarded, as it was: one ' removed before = + - @ tab or CR."""
    if len(text) > 1 and text[0] == "'" and text[1] in GUARDED:
        return text[1:]
    return text


def _text(value: str, *, max_length: int | None, guarded: bool) -> str | None:
    if guarded:
        value = unguard(value)
    try:
        value = nfc(value)
    except ValueError as error:
        raise CellError(error.args[0]) from None
    value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    for char in value:
        if char not in "\n\t" and unicodedata.category(char) == "Cc":
            raise CellError(tr("must not contain the control character U+{code}", code=f"{ord(char):04X}"))
    if not value:
        return None
    if max_length is not None and len(value) > max_length:
        raise CellError(tr("at most {most} characters", most=max_length))
    return value


# Lists -------------------------------------------------------------------------------------------

_ITEMS = re.compile(r"[;\n]")


@overload
def parse_list(value: CellValue) -> list[str]: ...
@overload
def parse_list(value: CellValue, item: Callable[[str], T | None]) -> list[T]: ...
def parse_list(value: CellValue, item: Callable[[str], Any] | None = None) -> list[Any]:
    """The items of a list cell, each parsed by `item` (text by default); [] when empty."""
    if value is None:
        return []
    if not isinstance(value, str):
        value = parse_text(value) or ""
    parse: Callable[[str], Any] = item or (lambda part: _text(part, max_length=None, guarded=False))
    parts = [part.strip() for part in _ITEMS.split(unguard(value).replace("\r\n", "\n"))]
    found: list[Any] = []
    for number, part in enumerate((part for part in parts if part), start=1):
        try:
            parsed = parse(part)
        except CellError as error:
            raise CellError(tr("item {n}: {message}", n=number, message=error.message)) from None
        if parsed is not None:
            found.append(parsed)
    return found
