"""Rural-industry co-operatives (hợp tác xã) under Law 17/2023/QH15."""

from __future__ import annotations

from datetime import date

from pydantic import Field, model_validator

from app.core.i18n import tr
from app.kit.pagination import FilterParams
from app.kit.schemas import (
    COMMUNE_ID,
    DISTRICT_ID,
    OTHER_COMMUNE_IDS,
    PROVINCE_ID,
    AdminUnitSummary,
    AnyOf,
    Body,
    NamedSummary,
    OtherCommunes,
    RecordRead,
    partial_model,
)
from app.kit.types import (
    AS_OF,
    IN_COMMUNE,
    IN_DISTRICT,
    IN_PROVINCE,
    Code,
    Count,
    Day,
    Id,
    Int32,
    Int64,
    Money,
    Name,
    QCommuneCode,
    QCount,
    QDay,
    QDistrictCode,
    QId,
    QProvinceCode,
    QText,
    QVnd,
    Vnd,
)
from app.models import CooperativeSector, CooperativeStatus, LegalForm


class CooperativeCreate(Body):
    """A co-operative, co-operative union or co-operative group."""

    name: Name = Field(examples=["HTX Dệt may Hải Hậu"])
    registration_code: Code | None = Field(
        default=None, description="Registration code (mã số HTX); unique, never reused."
    )
    legal_form: LegalForm = LegalForm.cooperative
    sector: CooperativeSector
    commune_id: Id | None = Field(default=None, description=COMMUNE_ID)
    district_id: Id | None = Field(default=None, description=DISTRICT_ID)
    province_id: Id | None = Field(default=None, description=PROVINCE_ID)
    other_commune_ids: OtherCommunes = Field(default_factory=list, description=OTHER_COMMUNE_IDS)
    village_id: Id | None = Field(default=None, description="The craft village it works in, if any.")
    members: Count | None = None
    charter_capital_vnd: Vnd | None = Field(default=None, description="Charter capital, whole đồng.")
    founded_on: Day | None = None
    dissolved_on: Day | None = None
    status: CooperativeStatus = CooperativeStatus.active

    @model_validator(mode="after")
    def _rules(self) -> CooperativeCreate:
        if self.founded_on and self.dissolved_on and self.dissolved_on < self.founded_on:
            raise ValueError(tr("dissolved_on must not be before founded_on"))
        return self


CooperativeUpdate = partial_model(CooperativeCreate, "CooperativeUpdate")


class CooperativeRead(RecordRead):
    name: str
    registration_code: str | None
    legal_form: LegalForm
    sector: CooperativeSector
    commune_id: Int64 | None
    commune_unit: AdminUnitSummary | None = Field(description="The commune of commune_id.")
    district_id: Int64 | None
    district: AdminUnitSummary | None
    province_id: Int64
    province: AdminUnitSummary
    other_commune_ids: list[Int64]
    village_id: Int64 | None
    village: NamedSummary | None
    members: Int32 | None
    charter_capital_vnd: Money | None
    founded_on: date | None
    dissolved_on: date | None
    status: CooperativeStatus


class CooperativeQuery(FilterParams):
    sector: AnyOf[CooperativeSector] | None = None
    legal_form: AnyOf[LegalForm] | None = None
    status: AnyOf[CooperativeStatus] | None = None
    district_id: AnyOf[QId] | None = None
    village_id: AnyOf[QId] | None = None
    registration_code: AnyOf[QText] | None = None
    founded_on_from: QDay | None = None
    founded_on_to: QDay | None = None
    members_min: QCount | None = None
    members_max: QCount | None = None
    charter_capital_vnd_min: QVnd | None = None
    charter_capital_vnd_max: QVnd | None = None
    province: AnyOf[QProvinceCode] | None = Field(default=None, description=IN_PROVINCE)
    district: AnyOf[QDistrictCode] | None = Field(default=None, description=IN_DISTRICT)
    commune: AnyOf[QCommuneCode] | None = Field(default=None, description=IN_COMMUNE)
    as_of: QDay | None = Field(default=None, description=AS_OF)
