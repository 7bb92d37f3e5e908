"""Administrative units: provinces, districts and communes, keyed by statistical code and validity."""

from __future__ import annotations

from datetime import date

from pydantic import Field, model_validator

from app.core.i18n import tr
from app.kit.pagination import FilterParams
from app.kit.schemas import AdminUnitSummary, AnyOf, Body, RecordRead, partial_model
from app.kit.types import Code, Day, Id, Int64, Name, QDay, QId, QText
from app.models import AdminLevel


class AdminUnitCreate(Body):
    """An administrative unit as published by the General Statistics Office."""

    code: Code = Field(description="Statistical code, e.g. 36 for Nam Định, 362 for Nam Trực.")
    name: Name
    level: AdminLevel
    parent_id: Id | None = Field(default=None, description="The unit this one belongs to.")
    valid_from: Day | None = Field(default=None, description="First day the unit existed.")
    valid_to: Day | None = Field(
        default=None, description="Last day the unit existed (e.g. 2025-06-30 for the old districts)."
    )

    @model_validator(mode="after")
    def _period(self) -> AdminUnitCreate:
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValueError(tr("valid_to must not be before valid_from"))
        return self


AdminUnitUpdate = partial_model(AdminUnitCreate, "AdminUnitUpdate")


class AdminUnitRead(RecordRead):
    code: str
    name: str
    level: AdminLevel
    parent_id: Int64 | None
    parent: AdminUnitSummary | None
    valid_from: date | None
    valid_to: date | None


class AdminUnitQuery(FilterParams):
    level: AnyOf[AdminLevel] | None = None
    code: AnyOf[QText] | None = None
    parent_id: AnyOf[QId] | None = None
    valid_on: QDay | None = Field(default=None, description="Only units that existed on this day.")
