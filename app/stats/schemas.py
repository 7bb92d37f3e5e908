"""Response shapes of the statistics, for the OpenAPI document.

The endpoints send the bytes the queries produce (`app/stats/router.py`); these models describe
those bytes exactly, so that generated clients are typed precisely: every object is closed
(`additionalProperties: false`), every enumeration map lists each code as a required property,
and a grouped row holds its measures and only the dimensions it is grouped by.
tests/stats/test_contract.py validates real answers against them.

Money sums carry no `format`: a sum of BIGINT amounts can exceed 64 bits (the router then encodes
it exactly with the standard library). Counts are sums of INTEGER columns or row counts, which
PostgreSQL computes as BIGINT: `format: int64`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, get_args

from pydantic import BaseModel, ConfigDict, Field, create_model, with_config
from typing_extensions import TypedDict

from app.core.labels import LabelledEnum
from app.kit.schemas import label_model
from app.models import (
    CooperativeSector,
    CooperativeStatus,
    CraftGroup,
    FairKind,
    FundingSource,
    LegalForm,
    ProgrammeActivity,
    ProgrammeKind,
    VillageStatus,
)
from app.stats.queries import MAX_DIMENSIONS

MONEY = (
    "Whole đồng (VND has no minor unit), a sum: it can exceed 64 bits, and JavaScript's JSON.parse "
    "reads it exactly only up to 2^53 - 1 (9,007,199,254,740,991)."
)
CLOSED = ConfigDict(extra="forbid")

Count = Annotated[int, Field(ge=0, json_schema_extra={"format": "int64"})]
Money = Annotated[int, Field(ge=0)]


def count(description: str) -> Any:
    return Field(description=description)


def money(description: str) -> Any:
    return Field(description=f"{description} {MONEY}")


# -- the overview ----------------------------------------------------------------------------


def counts_by_code(enum: type[LabelledEnum], name: str, what: str) -> type[BaseModel]:
    """An object with one required count per code of the enumeration (its English label as the
    description), closed: a misspelt code is an error in a generated client, not a missing key."""
    fields: dict[str, Any] = {member.value: (Count, Field(description=member.en)) for member in enum}
    return create_model(
        name,
        __config__=CLOSED,
        __doc__=f"{what} by {enum.__name__} code: every code, zeros included.",
        **fields,
    )


if TYPE_CHECKING:  # built from the enumerations below; to the type checker, a model
    CraftGroupCounts = BaseModel
    CooperativeSectorCounts = BaseModel
    FairKindCounts = BaseModel
else:
    CraftGroupCounts = counts_by_code(CraftGroup, "CraftGroupCounts", "Villages")
    CooperativeSectorCounts = counts_by_code(CooperativeSector, "CooperativeSectorCounts", "Co-operatives")
    FairKindCounts = counts_by_code(FairKind, "FairKindCounts", "Fairs")


class VillageOverview(BaseModel):
    model_config = CLOSED

    total: Annotated[Count, count("Villages existing in the year.")]
    recognised: Annotated[Count, count("Of those, villages recognised as of 31 December.")]
    by_craft_group: CraftGroupCounts = Field(description="Every craft group code, zeros included.")
    workers: Annotated[Count, count("Workers of the village figures of the year.")]
    production_value_vnd: Annotated[Money, money("Production value of the village figures of the year.")]


class CooperativeOverview(BaseModel):
    model_config = CLOSED

    total: Annotated[Count, count("Co-operatives existing in the year.")]
    by_sector: CooperativeSectorCounts = Field(description="Every sector code, zeros included.")


class ExtensionOverview(BaseModel):
    model_config = CLOSED

    programmes: Annotated[Count, count("Industrial-extension programmes of the year.")]
    support_vnd: Annotated[Money, money("Public funding (central, provincial, district, commune).")]
    counterpart_vnd: Annotated[Money, money("Counterpart funding.")]


class PromotionOverview(BaseModel):
    model_config = CLOSED

    programmes: Annotated[Count, count("Trade-promotion programmes of the year.")]
    support_vnd: Annotated[Money, money("Public funding (central, provincial, district, commune).")]
    fairs: FairKindCounts = Field(description="Fairs starting in the year, by kind; every kind listed.")
    hosted_booths: Annotated[Count, count("Standard booths of the hosted fairs starting in the year.")]


class Overview(BaseModel):
    model_config = CLOSED

    year: int = Field(description="The reporting year asked for.")
    villages: VillageOverview
    cooperatives: CooperativeOverview
    industrial_extension: ExtensionOverview
    trade_promotion: PromotionOverview


# -- what a grouped row shows for a dimension ------------------------------------------------


if TYPE_CHECKING:  # built by label_model(); to the type checker, models
    CraftGroupLabel = BaseModel
    VillageStatusLabel = BaseModel
    CooperativeSectorLabel = BaseModel
    LegalFormLabel = BaseModel
    CooperativeStatusLabel = BaseModel
    ProgrammeKindLabel = BaseModel
    ProgrammeActivityLabel = BaseModel
    FairKindLabel = BaseModel
    FundingSourceLabel = BaseModel
else:
    CraftGroupLabel = label_model(CraftGroup)
    VillageStatusLabel = label_model(VillageStatus)
    CooperativeSectorLabel = label_model(CooperativeSector)
    LegalFormLabel = label_model(LegalForm)
    CooperativeStatusLabel = label_model(CooperativeStatus)
    ProgrammeKindLabel = label_model(ProgrammeKind)
    ProgrammeActivityLabel = label_model(ProgrammeActivity)
    FairKindLabel = label_model(FairKind)
    FundingSourceLabel = label_model(FundingSource)


class District(BaseModel):
    """A district: its id, code and name."""

    model_config = CLOSED

    id: int = Field(ge=1, json_schema_extra={"format": "int64"})
    code: str
    name: str


class Province(District):
    """A province: its id, code and name."""


class Commune(District):
    """A commune (ward, township, special zone): its id, code and name."""


# The unit dimensions: as recorded, or with as_of the units of that day; null is "unassigned".
UNASSIGNED = (
    "As recorded, or with as_of the unit valid that day; null groups the records without one "
    "(unassigned: the unit cannot be told on that day, e.g. a commune merged in part into several "
    "with no other_commune_ids saying which{extra}). Totals count them too."
)
IN_PROVINCE = "The province. " + UNASSIGNED.format(extra="")
IN_DISTRICT = "The district. " + UNASSIGNED.format(
    extra="; none after 2025-06-30, when districts were abolished, and for a record placed in a 2025 commune"
)
IN_COMMUNE = "The commune. " + UNASSIGNED.format(extra="; or a record placed only in a district or province")


def _dimension(description: str) -> Any:
    return Field(description=f"{description} Present only when grouped by it.")


# -- villages --------------------------------------------------------------------------------


class VillageDimension(StrEnum):
    """A dimension of the village statistics."""

    craft_group = "craft_group"
    status = "status"
    province = "province"
    district = "district"
    commune = "commune"
    year = "year"


@with_config(CLOSED)
class VillageStatsTotals(TypedDict):
    """The village measures (in `totals`, over everything the filters select)."""

    villages: Annotated[Count, count("Villages existing in a year covered (each once per row).")]
    recognised: Annotated[Count, count("Of those, villages recognised as of 31 December of a year covered.")]
    households: Annotated[Count, count("Households of the village figures of the years covered.")]
    workers: Annotated[Count, count("Workers of the village figures of the years covered.")]
    production_value_vnd: Annotated[
        Money, money("Production value of the village figures of the years covered.")
    ]


@with_config(CLOSED)
class VillageStatsRow(VillageStatsTotals, total=False):
    """One group of villages: its dimensions (those of group_by) and its measures."""

    craft_group: Annotated[CraftGroupLabel, _dimension("The craft group.")]
    status: Annotated[VillageStatusLabel, _dimension("The status.")]
    province: Annotated[Province | None, _dimension(IN_PROVINCE)]
    district: Annotated[District | None, _dimension(IN_DISTRICT)]
    commune: Annotated[Commune | None, _dimension(IN_COMMUNE)]
    year: Annotated[int, _dimension("The year of the figures.")]


# -- co-operatives ---------------------------------------------------------------------------


class CooperativeDimension(StrEnum):
    """A dimension of the co-operative statistics."""

    sector = "sector"
    legal_form = "legal_form"
    status = "status"
    province = "province"
    district = "district"
    commune = "commune"
    founded_year = "founded_year"


@with_config(CLOSED)
class CooperativeStatsTotals(TypedDict):
    """The co-operative measures (in `totals`, over everything the filters select)."""

    cooperatives: Annotated[Count, count("Co-operatives.")]
    members: Annotated[Count, count("Members (a co-operative without the figure adds none).")]
    charter_capital_vnd: Annotated[Money, money("Charter capital.")]


@with_config(CLOSED)
class CooperativeStatsRow(CooperativeStatsTotals, total=False):
    """One group of co-operatives: its dimensions (those of group_by) and its measures."""

    sector: Annotated[CooperativeSectorLabel, _dimension("The sector.")]
    legal_form: Annotated[LegalFormLabel, _dimension("The legal form.")]
    status: Annotated[CooperativeStatusLabel, _dimension("The status.")]
    province: Annotated[Province | None, _dimension(IN_PROVINCE)]
    district: Annotated[District | None, _dimension(IN_DISTRICT)]
    commune: Annotated[Commune | None, _dimension(IN_COMMUNE)]
    founded_year: Annotated[
        int | None, _dimension("The year of founded_on; null for co-operatives without one.")
    ]


# -- programmes ------------------------------------------------------------------------------


class ProgrammeDimension(StrEnum):
    """A dimension of the programme statistics."""

    year = "year"
    kind = "kind"
    activity = "activity"
    funding_source = "funding_source"
    province = "province"


@with_config(CLOSED)
class ProgrammeStatsTotals(TypedDict):
    """The programme measures (in `totals`, over everything the filters select)."""

    programmes: Annotated[
        Count, count("Programmes; grouped by funding_source, once under each source a programme has.")
    ]
    support_vnd: Annotated[Money, money("Public funding (central, provincial, district, commune).")]
    counterpart_vnd: Annotated[Money, money("Counterpart funding.")]
    beneficiaries: Annotated[Count, count("Programme-beneficiary pairs.")]


@with_config(CLOSED)
class ProgrammeStatsRow(ProgrammeStatsTotals, total=False):
    """One group of programmes: its dimensions (those of group_by) and its measures."""

    year: Annotated[int, _dimension("The programme's year.")]
    kind: Annotated[ProgrammeKindLabel, _dimension("The kind.")]
    activity: Annotated[ProgrammeActivityLabel, _dimension("The activity.")]
    funding_source: Annotated[
        FundingSourceLabel | None,
        _dimension("The source of the funding lines; null for the programmes without any."),
    ]
    province: Annotated[
        Province | None,
        _dimension(
            "The province whose Department of Industry and Trade recorded the programme "
            "(department_province_id): as recorded, or with as_of the province of that day; null "
            "for programmes without one (unassigned)."
        ),
    ]


# -- trade fairs -----------------------------------------------------------------------------


class TradeFairDimension(StrEnum):
    """A dimension of the trade-fair statistics."""

    year = "year"
    kind = "kind"
    province = "province"
    country = "country"
    department_province = "department_province"


@with_config(CLOSED)
class TradeFairStatsTotals(TypedDict):
    """The trade-fair measures (in `totals`, over everything the filters select)."""

    fairs: Annotated[Count, count("Fairs.")]
    standard_booths: Annotated[Count, count("Standard booths.")]
    exhibitors: Annotated[Count, count("Exhibitors.")]
    visitors: Annotated[Count, count("Visitors.")]
    contract_value_vnd: Annotated[Money, money("Value of the contracts signed.")]
    sales_vnd: Annotated[Money, money("Sales.")]


@with_config(CLOSED)
class TradeFairStatsRow(TradeFairStatsTotals, total=False):
    """One group of trade fairs: its dimensions (those of group_by) and its measures."""

    year: Annotated[int, _dimension("The year of start_on.")]
    kind: Annotated[FairKindLabel, _dimension("The kind.")]
    province: Annotated[
        str | None,
        _dimension(
            "The venue's province as written (text); null for fairs without one. Not a unit: for "
            "the province whose department recorded the fair, group by department_province."
        ),
    ]
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$"), _dimension("The country (ISO 3166-1 alpha-2).")]
    department_province: Annotated[
        Province | None,
        _dimension(
            "The province whose Department of Industry and Trade recorded the fair "
            "(department_province_id): as recorded, or with as_of the province of that day; null "
            "for fairs without one, or whose province cannot be followed to one of that day "
            "(unassigned)."
        ),
    ]


# -- the grouped answers ---------------------------------------------------------------------

GROUP_BY = "The dimensions asked for, in the order given: the rows are sorted by them."
ROWS = "One row per group, sorted by the dimensions."
TOTALS = "The measures over everything the filters select."


class VillageStats(BaseModel):
    """Villages grouped by 1 to 3 dimensions."""

    model_config = CLOSED

    group_by: list[VillageDimension] = Field(min_length=1, max_length=MAX_DIMENSIONS, description=GROUP_BY)
    rows: list[VillageStatsRow] = Field(description=ROWS)
    totals: VillageStatsTotals = Field(description=TOTALS)


class CooperativeStats(BaseModel):
    """Co-operatives grouped by 1 to 3 dimensions."""

    model_config = CLOSED

    group_by: list[CooperativeDimension] = Field(
        min_length=1, max_length=MAX_DIMENSIONS, description=GROUP_BY
    )
    rows: list[CooperativeStatsRow] = Field(description=ROWS)
    totals: CooperativeStatsTotals = Field(description=TOTALS)


class ProgrammeStats(BaseModel):
    """Programmes grouped by 1 to 3 dimensions."""

    model_config = CLOSED

    group_by: list[ProgrammeDimension] = Field(min_length=1, max_length=MAX_DIMENSIONS, description=GROUP_BY)
    rows: list[ProgrammeStatsRow] = Field(description=ROWS)
    totals: ProgrammeStatsTotals = Field(description=TOTALS)


class TradeFairStats(BaseModel):
    """Trade fairs grouped by 1 to 3 dimensions."""

    model_config = CLOSED

    group_by: list[TradeFairDimension] = Field(min_length=1, max_length=MAX_DIMENSIONS, description=GROUP_BY)
    rows: list[TradeFairStatsRow] = Field(description=ROWS)
    totals: TradeFairStatsTotals = Field(description=TOTALS)


def parts(response: type[BaseModel]) -> tuple[type[StrEnum], Any, Any]:
    """A grouped answer's dimension enumeration, row type and totals type."""
    fields = response.model_fields
    (dimension,) = get_args(fields["group_by"].annotation)
    (row,) = get_args(fields["rows"].annotation)
    return dimension, row, fields["totals"].annotation
