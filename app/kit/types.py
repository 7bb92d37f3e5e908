"""Field types shared by the request and response schemas.

Bodies are validated strictly: an integer field takes a JSON integer (not "12", not 12.0), money
is a whole number of đồng that fits BIGINT, counts fit INTEGER, and text is NFC without NUL.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, Strict, StringConstraints

from app.core.i18n import tr
from app.core.text import nfc
from app.models import BIGINT_MAX, ESTABLISHED_YEAR_MIN, INT_MAX, YEAR_MAX, YEAR_MIN

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def iso_date(value: object) -> object:
    """Dates are ISO 8601 text (2015-12-31): no timestamps, no other formats."""
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise ValueError(tr("must be a date written YYYY-MM-DD"))
    if not isinstance(value, str | date):
        raise ValueError(tr("must be a date written YYYY-MM-DD"))
    return value


_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?)?")


def iso_datetime(value: object) -> object:
    """Moments are ISO 8601 text (2026-01-31T08:00:00+07:00, or a date): no timestamps."""
    if isinstance(value, str) and _ISO_DATETIME.fullmatch(value):
        return value
    raise ValueError(tr("must be a date or date-time written YYYY-MM-DDTHH:MM:SS±HH:MM"))


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

# Integer formats tell generators the width: int32 for counts, int64 for ids and money.
INT32 = {"format": "int32"}
INT64 = {"format": "int64"}
JS_LIMIT = "JavaScript's JSON.parse reads it exactly only up to 2^53 - 1 (9,007,199,254,740,991)."


def money_schema(schema: dict[str, Any]) -> None:
    """Whole đồng in BIGINT: int64, and the limit of JavaScript's numbers in the description."""
    schema["format"] = "int64"
    description = schema.get("description") or "Whole đồng (VND has no minor unit)."
    if JS_LIMIT not in description:
        schema["description"] = f"{description} {JS_LIMIT}"


# Response fields: the same formats, without the input rules.
Int32 = Annotated[int, Field(json_schema_extra=INT32)]
Int64 = Annotated[int, Field(json_schema_extra=INT64)]
Money = Annotated[int, Field(json_schema_extra=money_schema)]

Count = Annotated[int, Strict(), Field(ge=0, le=INT_MAX, json_schema_extra=INT32)]
Vnd = Annotated[int, Strict(), Field(ge=0, le=BIGINT_MAX, json_schema_extra=money_schema)]
Year = Annotated[int, Strict(), Field(ge=YEAR_MIN, le=YEAR_MAX, json_schema_extra=INT32)]
EstablishedYear = Annotated[
    int, Strict(), Field(ge=ESTABLISHED_YEAR_MIN, le=YEAR_MAX, json_schema_extra=INT32)
]
Id = Annotated[int, Strict(), Field(ge=1, le=BIGINT_MAX, json_schema_extra=INT64)]
Flag = Annotated[bool, Strict()]
Latitude = Annotated[float, Strict(), Field(ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Strict(), Field(ge=-180, le=180, allow_inf_nan=False)]


def within_years(value: date) -> date:
    if not YEAR_MIN <= value.year <= YEAR_MAX:
        raise ValueError(tr("must be a date from {low}-01-01 to {high}-12-31", low=YEAR_MIN, high=YEAR_MAX))
    return value


# JSON Schema has no bounds for dates (`minimum` is for numbers), so the years are a pattern.
DAY_PATTERN = r"^(19[0-9]{2}|20[0-9]{2}|2100)-[0-9]{2}-[0-9]{2}$"
assert (YEAR_MIN, YEAR_MAX) == (1900, 2100), "DAY_PATTERN spells out these years"
Day = Annotated[
    date,
    BeforeValidator(iso_date),
    AfterValidator(within_years),
    Field(json_schema_extra={"pattern": DAY_PATTERN}),
]

_WHOLE = re.compile(r"[+-]?\d+")


def whole_number(value: object) -> object:
    """Query and path numbers are written as whole numbers: "12", not "12.0" or "1e1"."""
    if isinstance(value, str) and not _WHOLE.fullmatch(value.strip()):
        raise ValueError(tr("must be a whole number"))
    return value


WholeNumber = BeforeValidator(whole_number)

# Query-string variants: the value arrives as text, so no Strict(), but the same bounds.
QId = Annotated[int, Field(ge=1, le=BIGINT_MAX, json_schema_extra=INT64), WholeNumber]
QCount = Annotated[int, Field(ge=0, le=INT_MAX, json_schema_extra=INT32), WholeNumber]
QVnd = Annotated[int, Field(ge=0, le=BIGINT_MAX, json_schema_extra=money_schema), WholeNumber]
QYear = Annotated[int, Field(ge=ESTABLISHED_YEAR_MIN, le=YEAR_MAX, json_schema_extra=INT32), WholeNumber]
QDay = Annotated[date, BeforeValidator(iso_date)]
# Blank search text means no search, rather than an error.
SearchQuery = Annotated[str, _text(200), AfterValidator(nfc)]
QText = Annotated[str, _text(300, strip=False), AfterValidator(nfc)]
QReportYear = Annotated[int, Field(ge=YEAR_MIN, le=YEAR_MAX, json_schema_extra=INT32), WholeNumber]

# The geography filters (app/kit/timeline.py): statistical codes of units, leading zeros kept, and
# the day whose units they name.
# Codes of the official lists, with leading zeros: Nam Định 36, Nam Trực 362, Nam Giang 13966.
QProvinceCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{2}$"), Field(examples=["36"])]
QDistrictCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{3}$"), Field(examples=["362"])]
QCommuneCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{5}$"), Field(examples=["13966"])]
PLACES_OF = (
    "Codes (repeat the parameter or separate with commas): the units as recorded, or, with as_of, "
    "the units valid that day."
)
IN_PROVINCE = f"In these provinces, e.g. 36 (Nam Định until 2025-06-30) or 37. {PLACES_OF}"
IN_DISTRICT = f"In these districts, e.g. 362. {PLACES_OF} Districts were abolished on 2025-07-01."
IN_COMMUNE = f"In these communes, e.g. 13777. {PLACES_OF}"
AS_OF = (
    "The day whose administrative units province, district and commune name, and the statistics "
    "group by: each record is placed in the units of that day by following the successions (a "
    "commune merged whole goes to the new one; one merged in part goes where the record's "
    "other_commune_ids say, else is unassigned). Without it, the units as recorded."
)
AS_OF_PROVINCE = (
    "The day whose provinces `province` names, and the statistics group by: each record's province "
    "is followed through the successions to the province of that day (36 Nam Định became 37 Ninh "
    "Bình on 2025-07-01). Without it, the provinces as recorded."
)
