"""The four grouped statistics: their dimensions, measures, published answer and the tables they
depend on."""

from __future__ import annotations

from app.cooperatives.resource import COOPERATIVES
from app.models import (
    AdminLevel,
    Cooperative,
    CooperativeSector,
    CooperativeStatus,
    CraftGroup,
    FairKind,
    FundingSource,
    LegalForm,
    Programme,
    ProgrammeActivity,
    ProgrammeKind,
    TradeFair,
    Village,
    VillageStatus,
)
from app.programmes.resource import PROGRAMMES
from app.stats.queries import (
    Dimension,
    Stats,
    cooperative_query,
    enum_dim,
    fair_query,
    programme_query,
    programme_totals,
    unit_dim,
    village_query,
    village_year_range,
    year_of,
)
from app.stats.schemas import CooperativeStats, ProgrammeStats, TradeFairStats, VillageStats, parts
from app.trade_fairs.resource import TRADE_FAIRS
from app.villages.resource import VILLAGES

VILLAGE_STATS = Stats(
    path="villages",
    resource=VILLAGES,
    dimensions={
        "craft_group": enum_dim(Village.craft_group, CraftGroup),
        "status": enum_dim(Village.status, VillageStatus),
        "province": unit_dim(AdminLevel.province),
        "district": unit_dim(AdminLevel.district),
        "commune": unit_dim(AdminLevel.commune),
        "year": Dimension("number"),  # the year of the figures; bound by the query
    },
    measures=("villages", "recognised", "households", "workers", "production_value_vnd"),
    depends_on=("admin_unit", "admin_unit_succession", "village", "village_figure"),
    build=village_query,
    response=VillageStats,
    resolve=village_year_range,
    extra_params=frozenset({"year", "year_from", "year_to"}),
)

COOPERATIVE_STATS = Stats(
    path="cooperatives",
    resource=COOPERATIVES,
    dimensions={
        "sector": enum_dim(Cooperative.sector, CooperativeSector),
        "legal_form": enum_dim(Cooperative.legal_form, LegalForm),
        "status": enum_dim(Cooperative.status, CooperativeStatus),
        "province": unit_dim(AdminLevel.province),
        "district": unit_dim(AdminLevel.district),
        "commune": unit_dim(AdminLevel.commune),
        "founded_year": Dimension("number", year_of(Cooperative.founded_on)),
    },
    measures=("cooperatives", "members", "charter_capital_vnd"),
    depends_on=("admin_unit", "admin_unit_succession", "cooperative"),
    build=cooperative_query,
    response=CooperativeStats,
)

PROGRAMME_STATS = Stats(
    path="programmes",
    resource=PROGRAMMES,
    dimensions={
        "year": Dimension("number", Programme.year),
        "kind": enum_dim(Programme.kind, ProgrammeKind),
        "activity": enum_dim(Programme.activity, ProgrammeActivity),
        "funding_source": enum_dim(None, FundingSource),  # bound to the funding lines by the query
        "province": unit_dim(AdminLevel.province),  # the department's (department_province_id)
    },
    measures=("programmes", "support_vnd", "counterpart_vnd", "beneficiaries"),
    depends_on=(
        "admin_unit",
        "admin_unit_succession",
        "programme",
        "programme_funding",
        "programme_beneficiary",
    ),
    build=programme_query,
    response=ProgrammeStats,
    build_totals=programme_totals,
)

FAIR_STATS = Stats(
    path="trade-fairs",
    resource=TRADE_FAIRS,
    dimensions={
        "year": Dimension("number", year_of(TradeFair.start_on)),
        "kind": enum_dim(TradeFair.kind, FairKind),
        "province": Dimension("text", TradeFair.province),  # the venue's, as written
        "country": Dimension("text", TradeFair.country),
        "department_province": unit_dim(AdminLevel.province),  # department_province_id
    },
    measures=("fairs", "standard_booths", "exhibitors", "visitors", "contract_value_vnd", "sales_vnd"),
    depends_on=("admin_unit", "admin_unit_succession", "trade_fair"),
    build=fair_query,
    response=TradeFairStats,
)

ALL_STATS = (VILLAGE_STATS, COOPERATIVE_STATS, PROGRAMME_STATS, FAIR_STATS)


def shape_problems(stats: Stats) -> list[str]:
    """How the published answer disagrees with the statistic: its dimension enumeration must list
    the dimensions in order, its totals require exactly the measures, and its rows require the
    measures and allow exactly the dimensions."""
    dimension, row, totals = parts(stats.response)
    dims, measures = list(stats.dimensions), set(stats.measures)
    name = stats.response.__name__
    problems = []
    if [member.value for member in dimension] != dims:
        problems.append(f"{dimension.__name__} lists {[m.value for m in dimension]}, not {dims}")
    if set(totals.__required_keys__) != measures or totals.__optional_keys__:
        problems.append(
            f"{name} totals have {sorted(totals.__annotations__)}, not the measures {sorted(measures)}"
        )
    if set(row.__required_keys__) != measures or set(row.__optional_keys__) != set(dims):
        problems.append(
            f"{name} rows require {sorted(row.__required_keys__)} and allow {sorted(row.__optional_keys__)}, "
            f"not the measures {sorted(measures)} and the dimensions {sorted(dims)}"
        )
    return problems


if _problems := [problem for stats in ALL_STATS for problem in shape_problems(stats)]:
    raise TypeError("statistics and their published answers disagree: " + "; ".join(_problems))
