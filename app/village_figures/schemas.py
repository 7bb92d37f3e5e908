"""Annual figures of one village: households, workers, production value, income."""

from __future__ import annotations

from pydantic import Field

from app.kit.pagination import FilterParams
from app.kit.schemas import AnyOf, Body, NamedSummary, RecordRead, partial_model
from app.kit.types import (
    AS_OF,
    IN_COMMUNE,
    IN_DISTRICT,
    IN_PROVINCE,
    Count,
    Id,
    Int32,
    Int64,
    Money,
    QCommuneCode,
    QCount,
    QDay,
    QDistrictCode,
    QId,
    QProvinceCode,
    QReportYear,
    QVnd,
    Vnd,
    Year,
)
from app.models import CraftGroup, FigureQualifier


class VillageFigureCreate(Body):
    """What one village reported for one year; one set of figures per village and year."""

    village_id: Id
    year: Year
    households: Count | None = None
    workers: Count | None = None
    production_value_vnd: Vnd | None = Field(default=None, description="Production value, whole đồng.")
    average_income_vnd: Vnd | None = Field(
        default=None, description="Average income per worker per year, whole đồng."
    )
    qualifier: FigureQualifier = Field(
        default=FigureQualifier.exact,
        description="How the source states the figures: exact, approximate ('about') or at least ('over').",
    )


VillageFigureUpdate = partial_model(VillageFigureCreate, "VillageFigureUpdate")


class VillageFigureRead(RecordRead):
    village_id: Int64
    village: NamedSummary
    year: Int32
    households: Int32 | None
    workers: Int32 | None
    production_value_vnd: Money | None
    average_income_vnd: Money | None
    qualifier: FigureQualifier


class VillageFigureQuery(FilterParams):
    village_id: AnyOf[QId] | None = None
    district_id: AnyOf[QId] | None = Field(default=None, description="The village's district.")
    craft_group: AnyOf[CraftGroup] | None = Field(default=None, description="The village's craft group.")
    qualifier: AnyOf[FigureQualifier] | None = None
    year: AnyOf[QReportYear] | None = None
    year_from: QReportYear | None = None
    year_to: QReportYear | None = None
    households_min: QCount | None = None
    households_max: QCount | None = None
    workers_min: QCount | None = None
    workers_max: QCount | None = None
    production_value_vnd_min: QVnd | None = None
    production_value_vnd_max: QVnd | None = None
    average_income_vnd_min: QVnd | None = None
    average_income_vnd_max: QVnd | None = None
    province: AnyOf[QProvinceCode] | None = Field(default=None, description="The village's. " + IN_PROVINCE)
    district: AnyOf[QDistrictCode] | None = Field(default=None, description="The village's. " + IN_DISTRICT)
    commune: AnyOf[QCommuneCode] | None = Field(default=None, description="The village's. " + IN_COMMUNE)
    as_of: QDay | None = Field(default=None, description=AS_OF)
