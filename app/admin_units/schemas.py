"""Administrative units: provinces, districts and communes, keyed by level, statistical code and
validity; and the successions between them."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app.core.i18n import tr
from app.kit.pagination import FilterParams
from app.kit.schemas import AdminUnitSummary, AnyOf, Body, RecordRead, partial_model
from app.kit.types import Day, Id, Int64, Name, QDay, QId, QText
from app.models import TYPES_BY_LEVEL, AdminLevel, AdminType, SuccessionKind

# A statistical code: 2 digits a province, 3 a district, 5 a commune, leading zeros kept (what
# resolve and every code filter read); which length a level has is checked with the level
# (app/kit/places.py, and CHECK ck_admin_unit_code_fits_level).
UnitCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^([0-9]{2}|[0-9]{3}|[0-9]{5})$")]


class AdminUnitCreate(Body):
    """An administrative unit as published by the General Statistics Office."""

    code: UnitCode = Field(
        description=(
            "Statistical code, leading zeros kept: 2 digits for a province (36 Nam Định), 3 for a "
            "district (362 Nam Trực), 5 for a commune (13777)."
        )
    )
    name: Name = Field(description="The name without its type: Trường Thi.")
    level: AdminLevel
    type: AdminType | None = Field(
        default=None, description="The kind of unit within its level (ward, township, urban district...)."
    )
    name_with_type: Name | None = Field(
        default=None, description="The name as written with its type: Phường Trường Thi."
    )
    former_names: Annotated[list[Name], Field(max_length=100)] = Field(
        default_factory=list, description="Names of units merged into this one earlier; search finds them."
    )
    parent_id: Id | None = Field(
        default=None,
        description=(
            "The unit one level up that this one belongs to: required for a district (its province) "
            "and a commune (its district, or for a commune of 2025 its province); none for a province."
        ),
    )
    valid_from: Day | None = Field(default=None, description="First day the unit existed (none: unknown).")
    valid_to: Day | None = Field(
        default=None, description="Last day the unit existed (e.g. 2025-06-30 for the old districts)."
    )

    @model_validator(mode="after")
    def _period(self) -> AdminUnitCreate:
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValueError(tr("valid_to must not be before valid_from"))
        if self.type is not None and self.type not in TYPES_BY_LEVEL[self.level]:
            raise ValueError(tr("the type does not exist at this level"))
        return self


AdminUnitUpdate = partial_model(AdminUnitCreate, "AdminUnitUpdate")


class AdminUnitRead(RecordRead):
    code: str
    name: str
    level: AdminLevel
    type: AdminType | None
    name_with_type: str | None
    former_names: list[str]
    parent_id: Int64 | None
    parent: AdminUnitSummary | None
    valid_from: date | None
    valid_to: date | None


class AdminUnitQuery(FilterParams):
    level: AnyOf[AdminLevel] | None = None
    type: AnyOf[AdminType] | None = None
    code: AnyOf[QText] | None = None
    parent_id: AnyOf[QId] | None = None
    on: QDay | None = Field(default=None, description="Only units valid on this day.")
    valid_on: QDay | None = Field(default=None, description="The same as `on` (kept for existing clients).")


class UnitBrief(BaseModel):
    """A unit named in a succession: enough to tell it from another of the same code."""

    model_config = ConfigDict(from_attributes=True)

    id: Int64
    level: AdminLevel
    code: str
    name: str
    type: AdminType | None
    name_with_type: str | None
    valid_from: date | None
    valid_to: date | None


class Succession(BaseModel):
    """One step of a unit's history: the other unit, from when, how, and the official note."""

    unit: UnitBrief
    effective_on: date = Field(description="First day of the new arrangement.")
    kind: SuccessionKind
    note: str | None = Field(
        description="The official wording of the change, as published; none when derived."
    )
