"""Response shapes of the statistics, for the OpenAPI document."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class VillageOverview(BaseModel):
    total: int
    recognised: int
    by_craft_group: dict[str, int] = Field(description="Every craft group code, zeros included.")
    workers: int
    production_value_vnd: int


class CooperativeOverview(BaseModel):
    total: int
    by_sector: dict[str, int] = Field(description="Every sector code, zeros included.")


class ExtensionOverview(BaseModel):
    programmes: int
    support_vnd: int
    counterpart_vnd: int


class PromotionOverview(BaseModel):
    programmes: int
    support_vnd: int
    fairs: dict[str, int] = Field(description="Fairs starting in the year, by kind; every kind listed.")
    hosted_booths: int


class Overview(BaseModel):
    year: int
    villages: VillageOverview
    cooperatives: CooperativeOverview
    industrial_extension: ExtensionOverview
    trade_promotion: PromotionOverview


class GroupedStats(BaseModel):
    group_by: list[str]
    rows: list[dict[str, Any]] = Field(
        description=(
            "One row per group: each dimension's value (an enumeration as {code, vi, en}, a district "
            "as {id, code, name}, a year as an integer) and each measure as an integer."
        )
    )
    totals: dict[str, int] = Field(description="The measures over everything the filters select.")
