"""Field types shared by the request and response schemas.

Bodies are validated strictly: an integer field takes a JSON integer (not "12", not 12.0), money
is a whole number of đồng that fits BIGINT, counts fit INTEGER, and text is NFC without NUL.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AfterValidator, Field, Strict, StringConstraints

from app.models import BIGINT_MAX, ESTABLISHED_YEAR_MIN, INT_MAX, YEAR_MAX, YEAR_MIN
from app.text import nfc

Text = Annotated[str, AfterValidator(nfc)]
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300), AfterValidator(nfc)
]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300), AfterValidator(nfc)]
LongText = Annotated[str, StringConstraints(max_length=20_000), AfterValidator(nfc)]
Code = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32), AfterValidator(nfc)
]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]

Count = Annotated[int, Strict(), Field(ge=0, le=INT_MAX)]
Vnd = Annotated[int, Strict(), Field(ge=0, le=BIGINT_MAX, description="Whole đồng (VND has no minor unit).")]
Year = Annotated[int, Strict(), Field(ge=YEAR_MIN, le=YEAR_MAX)]
EstablishedYear = Annotated[int, Strict(), Field(ge=ESTABLISHED_YEAR_MIN, le=YEAR_MAX)]
Id = Annotated[int, Strict(), Field(ge=1, le=BIGINT_MAX)]
Flag = Annotated[bool, Strict()]
Latitude = Annotated[float, Strict(), Field(ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Strict(), Field(ge=-180, le=180, allow_inf_nan=False)]
Day = Annotated[date, Field(ge=date(YEAR_MIN, 1, 1), le=date(YEAR_MAX, 12, 31))]

# Query-string variants: the value arrives as text, so no Strict(), but the same bounds.
QId = Annotated[int, Field(ge=1, le=BIGINT_MAX)]
QCount = Annotated[int, Field(ge=0, le=INT_MAX)]
QVnd = Annotated[int, Field(ge=0, le=BIGINT_MAX)]
QYear = Annotated[int, Field(ge=ESTABLISHED_YEAR_MIN, le=YEAR_MAX)]
QDay = Annotated[date, Field(ge=date(1, 1, 1))]
SearchQuery = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), AfterValidator(nfc)
]
