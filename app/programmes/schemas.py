"""Industrial-extension (khuyến công) and trade-promotion programmes, with funding and beneficiaries."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.core.i18n import tr
from app.kit.pagination import FilterParams
from app.kit.schemas import AdminUnitSummary, AnyOf, Body, RecordRead, partial_model
from app.kit.types import (
    AS_OF_PROVINCE,
    PLACES_OF,
    Id,
    Int32,
    Int64,
    LongText,
    Money,
    Name,
    QDay,
    QId,
    QProvinceCode,
    QReportYear,
    ShortText,
    Vnd,
    Year,
)
from app.models import ACTIVITIES_BY_KIND, FundingSource, ProgrammeActivity, ProgrammeKind, ProgrammeStatus


class FundingLine(Body):
    """Money from one source. Public support is central + provincial + district + commune."""

    source: FundingSource
    amount_vnd: Vnd


class Beneficiary(Body):
    """A village or a co-operative the programme supports: exactly one of the two ids."""

    village_id: Id | None = None
    cooperative_id: Id | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Beneficiary:
        if (self.village_id is None) == (self.cooperative_id is None):
            raise ValueError(tr("give exactly one of village_id and cooperative_id"))
        return self


def _no_repeats(beneficiaries: list[Beneficiary], what: str) -> None:
    seen: set[tuple[int | None, int | None]] = set()
    for b in beneficiaries:
        key = (b.village_id, b.cooperative_id)
        if key in seen:
            raise ValueError(tr("{what} lists the same village or co-operative twice", what=what))
        seen.add(key)


class ProgrammeCreate(Body):
    """A programme (đề án) of one year: its funding lines and beneficiaries are written whole."""

    name: Name
    kind: ProgrammeKind
    activity: ProgrammeActivity = Field(
        description="An activity code of the programme's kind (see /api/v1/meta/enums)."
    )
    year: Year
    implementer: ShortText | None = None
    description: LongText | None = None
    status: ProgrammeStatus = ProgrammeStatus.planned
    department_province_id: Id | None = Field(
        default=None,
        description=(
            "The province whose Department of Industry and Trade ran the programme (an administrative "
            "unit of level province)."
        ),
    )
    funding: list[FundingLine] = Field(default_factory=list, max_length=100)
    beneficiaries: list[Beneficiary] = Field(default_factory=list, max_length=2000)

    @model_validator(mode="after")
    def _rules(self) -> ProgrammeCreate:
        if self.activity.value not in ACTIVITIES_BY_KIND[self.kind]:
            allowed = ", ".join(sorted(ACTIVITIES_BY_KIND[self.kind]))
            raise ValueError(
                tr(
                    "activity {activity} is not one of {kind}: {allowed}",
                    activity=self.activity.value,
                    kind=self.kind.value,
                    allowed=allowed,
                )
            )
        _no_repeats(self.beneficiaries, "beneficiaries")
        return self


ProgrammeUpdate = partial_model(ProgrammeCreate, "ProgrammeUpdate")


class FundingLineRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    source: FundingSource
    amount_vnd: Money


class BeneficiaryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    village_id: Int64 | None
    cooperative_id: Int64 | None


class ProgrammeRead(RecordRead):
    name: str
    kind: ProgrammeKind
    activity: ProgrammeActivity
    year: Int32
    implementer: str | None
    description: str | None
    status: ProgrammeStatus
    department_province_id: Int64 | None
    department_province: AdminUnitSummary | None
    funding: list[FundingLineRead]
    beneficiaries: list[BeneficiaryRead]


class ProgrammeQuery(FilterParams):
    kind: AnyOf[ProgrammeKind] | None = None
    activity: AnyOf[ProgrammeActivity] | None = None
    status: AnyOf[ProgrammeStatus] | None = None
    year: AnyOf[QReportYear] | None = None
    year_from: QReportYear | None = None
    year_to: QReportYear | None = None
    funding_source: AnyOf[FundingSource] | None = Field(
        default=None, description="Programmes with a funding line from one of these sources."
    )
    village_id: AnyOf[QId] | None = Field(
        default=None, description="Programmes benefiting one of these villages."
    )
    cooperative_id: AnyOf[QId] | None = Field(
        default=None, description="Programmes benefiting one of these co-operatives."
    )
    province: AnyOf[QProvinceCode] | None = Field(
        default=None,
        description=(
            "Programmes recorded by the Department of Industry and Trade of these provinces "
            "(department_province_id). " + PLACES_OF
        ),
    )
    as_of: QDay | None = Field(default=None, description=AS_OF_PROVINCE)

    @model_validator(mode="before")
    @classmethod
    def _no_district_nor_commune(cls, data: Any) -> Any:
        """A programme is recorded by a province's department: it has no district nor commune."""
        if isinstance(data, dict) and (given := [name for name in ("district", "commune") if name in data]):
            raise ValueError(
                tr(
                    "programmes are placed only by the province of the department that recorded them: "
                    "no {names} filter, use province",
                    names=" or ".join(given),
                )
            )
        return data
