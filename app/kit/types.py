"""Field types shared by the request and response schemas.

Bodies are validated strictly: an integer field takes a JSON integer (not "12", not 12.0), money
is a whole number of đồng that fits BIGINT, counts fit INTEGER, and text is NFC without NUL.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, Strict, StringConstraints

from app.core.text import nfc
from app.models import BIGINT_MAX, ESTABLISHED_YEAR_MIN, INT_MAX, YEAR_MAX, YEAR_MIN

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def iso_date(value: object) -> object:
    """Dates are ISO 8601 text (2015-12-31): no timestamps, no other formats."""
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise ValueError("must be a date written YYYY-MM-DD")
    if not isinstance(value, str | date):
        raise ValueError("must be a date written YYYY-MM-DD")
    return value


_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?)?")


def iso_datetime(value: object) -> object:
    """Moments are ISO 8601 text (2026-01-31T08:00:00+07:00, or a date): no timestamps."""
    if isinstance(value, str) and _ISO_DATETIME.fullmatch(value):
        return value
    raise ValueError("must be a date or date-time written YYYY-MM-DDTHH:MM:SS±HH:MM")


QDateTime = Annotated[datetime, BeforeValidator(iso_datetime)]

# PostgreSQL text cannot hold NUL; saying so in the schema tells clients (and fuzzers) up front.
NO_NUL = r"^[^\x00]*$"


def _text(max_length: int, *, min_length: int = 0, strip: bool = True) -> StringConstraints:
    return StringConstraints(
        strip_whitespace=strip, min_length=min_length, max_length=max_length, pattern=NO_NUL
    )


Name = Annotated[str, _text(300, min_length=1), AfterValidator(nfc)]
ShortText = Annotated[str, _text(300), AfterValidator(nfc)]
LongText = Annotated[str, _text(20_000, strip=False), AfterValidator(nfc)]
Code = Annotated[str, _text(32, min_length=1), AfterValidator(nfc)]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]

Count = Annotated[int, Strict(), Field(ge=0, le=INT_MAX)]
Vnd = Annotated[int, Strict(), Field(ge=0, le=BIGINT_MAX, description="Whole đồng (VND has no minor unit).")]
Year = Annotated[int, Strict(), Field(ge=YEAR_MIN, le=YEAR_MAX)]
EstablishedYear = Annotated[int, Strict(), Field(ge=ESTABLISHED_YEAR_MIN, le=YEAR_MAX)]
Id = Annotated[int, Strict(), Field(ge=1, le=BIGINT_MAX)]
Flag = Annotated[bool, Strict()]
Latitude = Annotated[float, Strict(), Field(ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Strict(), Field(ge=-180, le=180, allow_inf_nan=False)]
Day = Annotated[date, BeforeValidator(iso_date), Field(ge=date(YEAR_MIN, 1, 1), le=date(YEAR_MAX, 12, 31))]

_WHOLE = re.compile(r"[+-]?\d+")


def whole_number(value: object) -> object:
    """Query and path numbers are written as whole numbers: "12", not "12.0" or "1e1"."""
    if isinstance(value, str) and not _WHOLE.fullmatch(value.strip()):
        raise ValueError("must be a whole number")
    return value


WholeNumber = BeforeValidator(whole_number)

# Query-string variants: the value arrives as text, so no Strict(), but the same bounds.
QId = Annotated[int, Field(ge=1, le=BIGINT_MAX), WholeNumber]
QCount = Annotated[int, Field(ge=0, le=INT_MAX), WholeNumber]
QVnd = Annotated[int, Field(ge=0, le=BIGINT_MAX), WholeNumber]
QYear = Annotated[int, Field(ge=ESTABLISHED_YEAR_MIN, le=YEAR_MAX), WholeNumber]
QDay = Annotated[date, BeforeValidator(iso_date)]
# Blank search text means no search, rather than an error.
SearchQuery = Annotated[str, _text(200), AfterValidator(nfc)]
QText = Annotated[str, _text(300, strip=False), AfterValidator(nfc)]
QReportYear = Annotated[int, Field(ge=YEAR_MIN, le=YEAR_MAX), WholeNumber]
