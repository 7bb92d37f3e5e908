"""Administrative units: provinces, districts and communes, keyed by level, statistical code and
validity; and the successions between them."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.core.i18n import tr
from app.kit.pagination import FilterParams
from app.kit.schemas import AdminUnitSummary, AnyOf, Body, RecordRead, partial_model
from app.kit.types import Code, Day, Id, Int64, Name, QDay, QId, QText
from app.models import TYPES_BY_LEVEL, AdminLevel, AdminType, SuccessionKind


class AdminUnitCreate(Body):
    """An administrative unit as published by the General Statistics Office."""

    code: Code = Field(description="Statistical code, e.g. 36 for Nam Định, 362 for Nam Trực.")
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
    parent_id: Id | None = Field(default=None, description="The unit this one belongs to.")
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
