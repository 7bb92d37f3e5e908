"""Craft villages (làng nghề) under Decree 52/2018/NĐ-CP."""

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
    BBox,
    Body,
    OtherCommunes,
    RecordRead,
    partial_model,
)
from app.kit.types import (
    AS_OF,
    IN_COMMUNE,
    IN_DISTRICT,
    IN_PROVINCE,
    Count,
    Day,
    EstablishedYear,
    Flag,
    Id,
    Int32,
    Int64,
    Latitude,
    Longitude,
    LongText,
    Name,
    QCommuneCode,
    QCount,
    QDay,
    QDistrictCode,
    QId,
    QProvinceCode,
    QYear,
    SearchQuery,
    ShortText,
)
from app.models import CraftGroup, VillageStatus


class VillageCreate(Body):
    """A craft village, recognised or not."""

    name: Name = Field(examples=["Vân Chàng"])
    commune: ShortText | None = Field(
        default=None,
        description="The commune's name as reported (the source's spelling); the place itself is commune_id.",
        examples=["Nam Giang"],
    )
    commune_id: Id | None = Field(default=None, description=COMMUNE_ID)
    district_id: Id | None = Field(default=None, description=DISTRICT_ID)
    province_id: Id | None = Field(default=None, description=PROVINCE_ID)
    other_commune_ids: OtherCommunes = Field(default_factory=list, description=OTHER_COMMUNE_IDS)
    craft_group: CraftGroup
    crafts: list[ShortText] = Field(default_factory=list, max_length=50, examples=[["rèn", "cơ khí nhỏ"]])
    status: VillageStatus = VillageStatus.unrecognised
    recognition_decision: ShortText | None = Field(
        default=None, description="Number of the province's recognition decision."
    )
    recognised_on: Day | None = Field(
        default=None, description="Date of the recognition decision; required when recognised."
    )
    revoked_on: Day | None = Field(default=None, description="Date the recognition was revoked.")
    established_year: EstablishedYear | None = Field(
        default=None, description="Year the craft began here (1000 to 2100: villages can be old)."
    )
    households_total: Count | None = None
    households_participating: Count | None = Field(
        default=None, description="Households practising the craft; at most households_total."
    )
    has_environment_plan: Flag = False
    on_polluted_list: Flag = Field(
        default=False, description="On the state's list of seriously polluted craft villages."
    )
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    is_illustrative: Flag = Field(default=False, description="An invented sample record, not a real village.")
    notes: LongText | None = None

    @model_validator(mode="after")
    def _rules(self) -> VillageCreate:
        if (
            self.households_participating is not None
            and self.households_total is not None
            and self.households_participating > self.households_total
        ):
            raise ValueError(tr("households_participating must not exceed households_total"))
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError(tr("latitude and longitude must be given together"))
        if self.status != VillageStatus.unrecognised and self.recognised_on is None:
            raise ValueError(tr("a recognised village needs recognised_on"))
        if self.revoked_on and self.recognised_on and self.revoked_on < self.recognised_on:
            raise ValueError(tr("revoked_on must not be before recognised_on"))
        return self


VillageUpdate = partial_model(VillageCreate, "VillageUpdate")


class VillageRead(RecordRead):
    name: str
    commune: str | None
    commune_id: Int64 | None
    commune_unit: AdminUnitSummary | None = Field(description="The commune of commune_id.")
    district_id: Int64 | None
    district: AdminUnitSummary | None
    province_id: Int64
    province: AdminUnitSummary
    other_commune_ids: list[Int64]
    craft_group: CraftGroup
    crafts: list[str]
    status: VillageStatus
    recognition_decision: str | None
    recognised_on: date | None
    revoked_on: date | None
    established_year: Int32 | None
    households_total: Int32 | None
    households_participating: Int32 | None
    has_environment_plan: bool
    on_polluted_list: bool
    latitude: float | None
    longitude: float | None
    is_illustrative: bool
    notes: str | None


class VillageQuery(FilterParams):
    craft_group: AnyOf[CraftGroup] | None = None
    status: AnyOf[VillageStatus] | None = None
    district_id: AnyOf[QId] | None = None
    craft: SearchQuery | None = Field(default=None, description="Villages listing exactly this craft.")
    is_illustrative: bool | None = None
    has_environment_plan: bool | None = None
    on_polluted_list: bool | None = None
    established_year_from: QYear | None = None
    established_year_to: QYear | None = None
    households_total_min: QCount | None = None
    households_total_max: QCount | None = None
    recognised_on_from: QDay | None = None
    recognised_on_to: QDay | None = None
    province: AnyOf[QProvinceCode] | None = Field(default=None, description=IN_PROVINCE)
    district: AnyOf[QDistrictCode] | None = Field(default=None, description=IN_DISTRICT)
    commune: AnyOf[QCommuneCode] | None = Field(default=None, description=IN_COMMUNE)
    as_of: QDay | None = Field(default=None, description=AS_OF)
    bbox: BBox | None = None
