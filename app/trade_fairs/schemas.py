"""Trade fairs hosted in the province or attended elsewhere, with participants."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.core.i18n import tr
from app.kit.pagination import FilterParams
from app.kit.schemas import AdminUnitSummary, AnyOf, Body, NamedSummary, RecordRead, partial_model
from app.kit.types import (
    PLACES_OF,
    Count,
    Country,
    Day,
    Id,
    Int32,
    Int64,
    Money,
    Name,
    QCount,
    QDay,
    QId,
    QProvinceCode,
    QReportYear,
    QText,
    QVnd,
    ShortText,
    Vnd,
)
from app.models import FairKind


class Participant(Body):
    """A village or a co-operative at the fair (exactly one of the two ids), with its booths."""

    village_id: Id | None = None
    cooperative_id: Id | None = None
    booths: Count = Field(default=1, description="Standard booths (3 m × 3 m) it occupied.")

    @model_validator(mode="after")
    def _exactly_one(self) -> Participant:
        if (self.village_id is None) == (self.cooperative_id is None):
            raise ValueError(tr("give exactly one of village_id and cooperative_id"))
        return self


class TradeFairCreate(Body):
    """A fair or trade conference; participants are written whole."""

    name: Name
    kind: FairKind
    organiser: ShortText | None = None
    venue: ShortText | None = None
    city: ShortText | None = None
    province: ShortText | None = None
    country: Country = Field(default="VN", description="ISO 3166-1 alpha-2 code, upper case.")
    start_on: Day
    end_on: Day
    standard_booths: Count | None = Field(default=None, description="Standard booths of 3 m × 3 m.")
    exhibitors: Count | None = None
    visitors: Count | None = None
    contracts_signed: Count | None = None
    contract_value_vnd: Vnd | None = None
    sales_vnd: Vnd | None = None
    cost_vnd: Vnd | None = None
    programme_id: Id | None = Field(default=None, description="The programme that paid for it.")
    department_province_id: Id | None = Field(
        default=None,
        description=(
            "The province whose Department of Industry and Trade recorded the fair: it hosted the "
            "fair, or took businesses to it (an administrative unit of level province). The venue is "
            "city and province."
        ),
    )
    participants: list[Participant] = Field(default_factory=list, max_length=5000)

    @model_validator(mode="after")
    def _rules(self) -> TradeFairCreate:
        if self.end_on < self.start_on:
            raise ValueError(tr("end_on must not be before start_on"))
        if self.kind == FairKind.overseas and self.country == "VN":
            raise ValueError(tr("an overseas fair needs a country other than VN"))
        if self.kind in (FairKind.hosted, FairKind.attended) and self.country != "VN":
            raise ValueError(tr("a {kind} fair is held in Viet Nam (country VN)", kind=self.kind.value))
        seen: set[tuple[int | None, int | None]] = set()
        for p in self.participants:
            key = (p.village_id, p.cooperative_id)
            if key in seen:
                raise ValueError(tr("participants lists the same village or co-operative twice"))
            seen.add(key)
        return self


TradeFairUpdate = partial_model(TradeFairCreate, "TradeFairUpdate")


class ParticipantRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    village_id: Int64 | None
    cooperative_id: Int64 | None
    booths: Int32


class TradeFairRead(RecordRead):
    name: str
    kind: FairKind
    organiser: str | None
    venue: str | None
    city: str | None
    province: str | None
    country: str
    start_on: date
    end_on: date
    standard_booths: Int32 | None
    exhibitors: Int32 | None
    visitors: Int32 | None
    contracts_signed: Int32 | None
    contract_value_vnd: Money | None
    sales_vnd: Money | None
    cost_vnd: Money | None
    programme_id: Int64 | None
    programme: NamedSummary | None
    department_province_id: Int64 | None
    department_province: AdminUnitSummary | None
    participants: list[ParticipantRead]


Year = QReportYear


class TradeFairQuery(FilterParams):
    kind: AnyOf[FairKind] | None = None
    country: AnyOf[Annotated[str, Field(pattern=r"^[A-Z]{2}$")]] | None = None
    province: AnyOf[QText] | None = Field(
        default=None,
        description=(
            "The venue's province, as written (free text, matched exactly): where the fair was held. "
            "For the province whose department recorded the fair, use department_province."
        ),
    )
    department_province: AnyOf[QProvinceCode] | None = Field(
        default=None,
        description=(
            "Fairs recorded by the Department of Industry and Trade of these provinces "
            "(department_province_id), by code, e.g. 36. " + PLACES_OF + " Fairs without a "
            "department province are in none."
        ),
    )
    as_of: QDay | None = Field(
        default=None,
        description=(
            "The day whose provinces `department_province` names, and the statistics group "
            "department_province by: each fair's department province is followed through the "
            "successions to the province of that day (36 Nam Định became 37 Ninh Bình on "
            "2025-07-01). Without it, the provinces as recorded. The venue's `province` is text and "
            "does not change with it."
        ),
    )
    programme_id: AnyOf[QId] | None = None
    year: AnyOf[Year] | None = Field(default=None, description="Year of start_on.")
    year_from: Year | None = None
    year_to: Year | None = None
    start_on_from: QDay | None = None
    start_on_to: QDay | None = None
    standard_booths_min: QCount | None = None
    standard_booths_max: QCount | None = None
    exhibitors_min: QCount | None = None
    exhibitors_max: QCount | None = None
    visitors_min: QCount | None = None
    visitors_max: QCount | None = None
    contract_value_vnd_min: QVnd | None = None
    contract_value_vnd_max: QVnd | None = None
    sales_vnd_min: QVnd | None = None
    sales_vnd_max: QVnd | None = None
