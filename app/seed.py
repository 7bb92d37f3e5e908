"""Illustrative Nam Định sample data that reproduces the source report's 2015 figures exactly.

Source: shared/seed/000_213035af32d0092b.txt (17 May 2016). Six villages are real (name, commune,
district and craft from shared/domain.md, is_illustrative false); every other village is invented
and flagged is_illustrative. All yearly figures, recognition dates, co-operatives, programmes and
fair details are illustrative; only their 2015 totals and counts are the report's.

Each record has a natural key. Loading inserts the records whose key is absent and never updates
a row, so loading twice changes nothing.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple, TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.pool import NullPool

from app.core.settings import async_url
from app.kit import versioning
from app.models import (
    AdminLevel,
    AdminUnit,
    Cooperative,
    CooperativeSector,
    CooperativeStatus,
    CraftGroup,
    ExtensionActivity,
    FairKind,
    FigureQualifier,
    FundingSource,
    LegalForm,
    Programme,
    ProgrammeBeneficiary,
    ProgrammeFunding,
    ProgrammeKind,
    ProgrammeStatus,
    PromotionActivity,
    Record,
    TradeFair,
    TradeFairParticipant,
    Village,
    VillageFigure,
    VillageStatus,
)
from app.registry import REGISTRY

# The report's 2015 figures (shared/domain.md §1), reproduced exactly by the data below.
PRODUCTION_VALUE_2015_VND = 4_100_000_000_000
# "Over 44,000 workers": the illustrative villages employ exactly this many.
WORKERS_2015 = 44_350
FIGURE_YEARS = (2013, 2014, 2015, 2016, 2017)
BASE_YEAR = 2015

# Any fixed number: the key of the advisory lock that serialises concurrent loaders.
_LOCK_KEY = 3_620_150_517

_OLD_UNITS_END = date(2025, 6, 30)
_MERGED_FROM = date(2025, 7, 1)
_PROVINCE = "36"
_DEPARTMENT = "Sở Công Thương Nam Định"
_EXTENSION_CENTRE = "Trung tâm Khuyến công và Tư vấn phát triển công nghiệp Nam Định"

UnitKey = tuple[str, date | None]
VillageRef = tuple[str, str]  # village name, district code
ProgrammeRef = tuple[str, int]  # programme name, year
Key = tuple[object, ...]
Funding = tuple[tuple[FundingSource, int], ...]  # source, amount in VND

# --------------------------------------------------------------------------------------------------
# Places
# --------------------------------------------------------------------------------------------------


class District(NamedTuple):
    code: str
    name: str
    centre: tuple[int, int]  # latitude, longitude in millionths of a degree
    communes: tuple[str, ...]  # where illustrative villages are placed, one commune each


def _district(code: str, name: str, centre: tuple[int, int], communes: str) -> District:
    return District(code, name, centre, tuple(communes.split(", ")))


# The communes exclude those of the real villages, so no invented village stands in for a real one.
_DISTRICTS: tuple[District, ...] = (
    _district(
        "356",
        "Thành phố Nam Định",
        (20_433_000, 106_177_000),
        "Lộc Hòa, Lộc An, Lộc Vượng, Nam Phong, Nam Vân, Mỹ Xá",
    ),
    _district(
        "358",
        "Mỹ Lộc",
        (20_460_000, 106_125_000),
        "Mỹ Hà, Mỹ Tiến, Mỹ Thắng, Mỹ Hưng, Mỹ Phúc, Mỹ Trung, Mỹ Thuận, Mỹ Thành",
    ),
    _district(
        "359",
        "Vụ Bản",
        (20_380_000, 106_100_000),
        "Kim Thái, Liên Minh, Thành Lợi, Tân Khánh, Hiển Khánh, Trung Thành, Quang Trung, Đại An, "
        "Cộng Hòa, Minh Thuận",
    ),
    _district(
        "360",
        "Ý Yên",
        (20_315_000, 106_030_000),
        "Yên Lợi, Yên Phương, Yên Trung, Yên Thắng, Yên Khánh, Yên Phong, Yên Hồng, Yên Cường, "
        "Yên Chính, Yên Bình, Yên Dương, Yên Mỹ, Yên Nghĩa, Yên Quang, Yên Thọ, Yên Hưng, Yên Đồng, "
        "Yên Khang",
    ),
    _district(
        "361",
        "Nghĩa Hưng",
        (20_150_000, 106_170_000),
        "Nghĩa Đồng, Nghĩa Thịnh, Nghĩa Minh, Nghĩa Châu, Nghĩa Thái, Nghĩa Trung, Nghĩa Sơn, "
        "Nghĩa Lạc, Nghĩa Phong, Nghĩa Hồng",
    ),
    _district(
        "362",
        "Nam Trực",
        (20_335_000, 106_215_000),
        "Nam Thanh, Nam Hồng, Nam Dương, Nam Cường, Nam Hoa, Nam Lợi, Nam Thái, Nghĩa An, Hồng Quang, "
        "Nam Mỹ, Nam Toàn, Nam Hải, Nam Hùng, Bình Minh, Đồng Sơn, Tân Thịnh",
    ),
    _district(
        "363",
        "Trực Ninh",
        (20_250_000, 106_230_000),
        "Trực Cường, Trực Thái, Trực Đại, Trực Hùng, Trực Thuận, Trực Mỹ, Trực Nội, Trực Thanh, "
        "Trực Tuấn, Trực Hưng, Trực Khang",
    ),
    _district(
        "364",
        "Xuân Trường",
        (20_300_000, 106_340_000),
        "Xuân Hồng, Xuân Châu, Xuân Thành, Xuân Ninh, Xuân Bắc, Xuân Phú, Xuân Kiên, Xuân Phương, "
        "Xuân Vinh, Xuân Trung",
    ),
    _district(
        "365",
        "Giao Thủy",
        (20_250_000, 106_440_000),
        "Giao Yến, Giao Hà, Giao Nhân, Giao Long, Giao Châu, Giao Tân, Giao Thịnh, Hồng Thuận, "
        "Bình Hòa, Giao Lạc, Giao Xuân, Giao Hương",
    ),
    _district(
        "366",
        "Hải Hậu",
        (20_150_000, 106_280_000),
        "Hải Minh, Hải Anh, Hải Vân, Hải Nam, Hải Hưng, Hải Phương, Hải Bắc, Hải Đường, Hải Toàn, "
        "Hải Long, Hải Quang, Hải Châu",
    ),
)
_DISTRICT = {d.code: d for d in _DISTRICTS}


class UnitSpec(NamedTuple):
    code: str
    name: str
    level: AdminLevel
    parent: UnitKey | None
    valid_from: date | None
    valid_to: date | None

    @property
    def key(self) -> UnitKey:
        return (self.code, self.valid_from)


def _old(code: str) -> UnitKey:
    """The key of a pre-2025 unit: its start is not recorded."""
    return (code, None)


_UNITS: tuple[UnitSpec, ...] = (
    UnitSpec(_PROVINCE, "Nam Định", AdminLevel.province, None, None, _OLD_UNITS_END),
    *(
        UnitSpec(d.code, d.name, AdminLevel.district, _old(_PROVINCE), None, _OLD_UNITS_END)
        for d in _DISTRICTS
    ),
    # Hà Nam, Nam Định and Ninh Bình merged into Ninh Bình on 1 July 2025, with no district level.
    UnitSpec("37", "Ninh Bình", AdminLevel.province, None, _MERGED_FROM, None),
)

# --------------------------------------------------------------------------------------------------
# Villages
# --------------------------------------------------------------------------------------------------


class VillageSpec(NamedTuple):
    name: str
    commune: str
    district: str
    craft_group: CraftGroup
    crafts: tuple[str, ...]
    status: VillageStatus
    recognition_decision: str | None
    recognised_on: date | None
    revoked_on: date | None
    established_year: int | None
    households_total: int
    households_participating: int
    has_environment_plan: bool
    on_polluted_list: bool
    coordinates: tuple[float, float] | None
    is_illustrative: bool
    notes: str | None

    @property
    def ref(self) -> VillageRef:
        return (self.name, self.district)


_REAL_NOTE = "Làng nghề có thật; ngày công nhận, số hộ và số liệu hằng năm trong dữ liệu mẫu là minh họa."

_G = CraftGroup
# name, commune, district, group, crafts, recognised on (illustrative), households total, taking part
_REAL_VILLAGES: tuple[tuple[str, str, str, CraftGroup, tuple[str, ...], date, int, int], ...] = (
    ("Vân Chàng", "Nam Giang", "362", _G.manufacturing, ("rèn", "cơ khí"), date(2006, 12, 20), 1_150, 820),
    ("Tống Xá", "Yên Xá", "360", _G.manufacturing, ("đúc đồng",), date(2006, 12, 20), 980, 610),
    ("Thạch Cầu", "Nam Tiến", "362", _G.manufacturing, ("mây tre đan",), date(2008, 9, 5), 720, 430),
    ("La Xuyên", "Yên Ninh", "360", _G.handicraft, ("chạm khắc gỗ",), date(2006, 12, 20), 1_020, 700),
    ("Cát Đằng", "Yên Tiến", "360", _G.handicraft, ("sơn mài",), date(2007, 11, 12), 860, 520),
    ("Kiên Lao", "Xuân Tiến", "364", _G.agro_processing, ("nấu rượu",), date(2009, 7, 1), 640, 300),
)  # fmt: skip


class _CraftPlan(NamedTuple):
    """How many illustrative villages ply one trade, and in which districts."""

    group: CraftGroup
    word: str  # the trade as villagers say it; it names the invented village
    crafts: tuple[str, ...]
    number: int
    districts: tuple[str, ...]
    polluting: bool = False


# With the real villages: 11 agro-processing, 51 manufacturing, 36 handicraft villages (98).
_CRAFT_PLANS: tuple[_CraftPlan, ...] = (
    _CraftPlan(_G.agro_processing, "Bún", ("chế biến nông sản", "làm bún"), 3, ("359", "362", "366")),
    _CraftPlan(_G.agro_processing, "Bánh đa", ("chế biến nông sản", "làm bánh đa"), 2, ("358", "363")),
    _CraftPlan(_G.agro_processing, "Nước mắm", ("chế biến thủy sản", "làm nước mắm"), 2, ("365", "366")),
    _CraftPlan(_G.agro_processing, "Miến", ("chế biến nông sản", "làm miến"), 1, ("361",)),
    _CraftPlan(_G.agro_processing, "Rượu", ("nấu rượu",), 2, ("364", "360")),
    _CraftPlan(_G.manufacturing, "Dệt", ("dệt may",), 14, ("366", "365", "363", "364", "361")),
    _CraftPlan(_G.manufacturing, "May", ("dệt may", "may mặc"), 10, ("366", "363", "365", "359", "358")),
    _CraftPlan(_G.manufacturing, "Đan", ("mây tre đan",), 7, ("359", "361", "364", "362")),
    _CraftPlan(_G.manufacturing, "Mộc", ("mộc dân dụng",), 6, ("360", "362", "356")),
    _CraftPlan(_G.manufacturing, "Cơ khí", ("cơ khí",), 5, ("362", "360", "356"), polluting=True),
    _CraftPlan(_G.manufacturing, "Thêu", ("thêu ren",), 3, ("363", "366")),
    _CraftPlan(_G.manufacturing, "Cói", ("dệt chiếu cói",), 2, ("361", "365")),
    _CraftPlan(_G.manufacturing, "Tái chế", ("tái chế nhựa",), 1, ("362",), polluting=True),
    _CraftPlan(_G.handicraft, "Chạm", ("chạm khắc gỗ",), 10, ("360", "362", "359", "356")),
    _CraftPlan(_G.handicraft, "Sơn mài", ("sơn mài",), 6, ("360", "358", "359")),
    _CraftPlan(_G.handicraft, "Khảm", ("khảm trai",), 4, ("360", "362")),
    _CraftPlan(_G.handicraft, "Tượng", ("tạc tượng gỗ",), 4, ("360", "359")),
    _CraftPlan(_G.handicraft, "Đồ gỗ", ("đồ gỗ mỹ nghệ",), 6, ("360", "362", "363")),
    _CraftPlan(_G.handicraft, "Mây mỹ nghệ", ("mây tre mỹ nghệ",), 4, ("361", "364")),
)  # fmt: skip

# Recognised illustrative villages per group; with the six real ones (all recognised): 51.
_RECOGNISED_INVENTED = {
    CraftGroup.agro_processing: 5,
    CraftGroup.manufacturing: 24,
    CraftGroup.handicraft: 16,
}
_HAMLETS = ("Làng", "Xóm", "Thôn")
# The recognition a polluting village lost: it shows a revocation without counting as recognised.
_REVOKED = (date(2009, 6, 15), date(2014, 11, 20), "2150/QĐ-UBND")
_REVOKED_NOTE = "Bị thu hồi danh hiệu làng nghề năm 2014 do không đáp ứng điều kiện về môi trường."


def _spread(index: int, chosen: int, total: int) -> bool:
    """Whether item `index` of `total` is among `chosen` items spread evenly over them."""
    return (index + 1) * chosen // total > index * chosen // total


def _real_villages() -> list[VillageSpec]:
    return [
        VillageSpec(
            name=name,
            commune=commune,
            district=district,
            craft_group=group,
            crafts=crafts,
            status=VillageStatus.traditional_craft_village,
            recognition_decision=None,
            recognised_on=recognised_on,
            revoked_on=None,
            established_year=None,
            households_total=total,
            households_participating=participating,
            has_environment_plan=False,
            on_polluted_list=False,
            coordinates=None,
            is_illustrative=False,
            notes=_REAL_NOTE,
        )
        for name, commune, district, group, crafts, recognised_on, total, participating in _REAL_VILLAGES
    ]


def _illustrative_villages() -> list[VillageSpec]:
    """Invented villages, derived by arithmetic from their index so the data never changes."""
    group_size = Counter[CraftGroup]()
    for plan in _CRAFT_PLANS:
        group_size[plan.group] += plan.number
    group_seen = Counter[CraftGroup]()
    next_commune = Counter[str]()
    revoked_given = False
    villages: list[VillageSpec] = []
    for plan in _CRAFT_PLANS:
        for j in range(plan.number):
            k = len(villages)
            district = _DISTRICT[plan.districts[j % len(plan.districts)]]
            # Each village takes a commune of its own, so invented names never repeat in a district.
            commune = district.communes[next_commune[district.code] % len(district.communes)]
            next_commune[district.code] += 1
            index_in_group = group_seen[plan.group]
            group_seen[plan.group] += 1
            recognised = _spread(index_in_group, _RECOGNISED_INVENTED[plan.group], group_size[plan.group])
            revoked = plan.polluting and not recognised and not revoked_given
            revoked_given = revoked_given or revoked

            recognised_on: date | None = None
            revoked_on: date | None = None
            decision: str | None = None
            if recognised:
                recognised_on = date(2005 + k % 11, 1 + k * 5 % 12, 1 + k * 7 % 28)
                decision = f"{100 + k * 397 % 3_400}/QĐ-UBND"
            elif revoked:
                recognised_on, revoked_on, decision = _REVOKED
            established = None if k % 5 == 0 else 1870 + k * 37 % 140
            if established is not None and recognised_on is not None:
                # Recognition needs production stable for years before the dossier.
                established = min(established, recognised_on.year - 3)
            status = VillageStatus.unrecognised
            if recognised and recognised_on is not None:
                # A traditional craft has been plied locally for over 50 years.
                old = established is not None and established <= recognised_on.year - 50
                status = VillageStatus.traditional_craft_village if old else VillageStatus.craft_village

            total = 120 + k * 53 % 760
            lat, lon = district.centre
            coordinates = None
            if k % 3 != 2:
                coordinates = (
                    (lat + k * 7_919 % 40_001 - 20_000) / 1e6,
                    (lon + k * 6_007 % 40_001 - 20_000) / 1e6,
                )
            villages.append(
                VillageSpec(
                    name=f"{_HAMLETS[k % len(_HAMLETS)]} {plan.word} {commune}",
                    commune=commune,
                    district=district.code,
                    craft_group=plan.group,
                    crafts=plan.crafts,
                    status=status,
                    recognition_decision=decision,
                    recognised_on=recognised_on,
                    revoked_on=revoked_on,
                    established_year=established,
                    households_total=total,
                    households_participating=total * (30 + k * 17 % 61) // 100,
                    has_environment_plan=recognised and k % 3 != 0,
                    on_polluted_list=plan.polluting and not recognised,
                    coordinates=coordinates,
                    is_illustrative=True,
                    notes=_REVOKED_NOTE if revoked else None,
                )
            )
    return villages


# --------------------------------------------------------------------------------------------------
# Yearly figures
# --------------------------------------------------------------------------------------------------


class FigureSpec(NamedTuple):
    village: VillageRef
    year: int
    households: int
    workers: int
    production_value_vnd: int
    average_income_vnd: int


# Relative output per worker of each group: it shares the province's production value out.
_OUTPUT_WEIGHT = {CraftGroup.agro_processing: 75, CraftGroup.manufacturing: 100, CraftGroup.handicraft: 90}


def _shares(total: int, weights: Sequence[int]) -> list[int]:
    """`total` split in proportion to `weights` in whole units; the last takes the remainder."""
    whole = sum(weights)
    shares = [total * w // whole for w in weights[:-1]]
    return [*shares, total - sum(shares)]


def _grown(value: int, percent: int, years: int) -> int:
    """`value` after `years` of growth at `percent` a year (negative `years` go back), whole units."""
    for _ in range(abs(years)):
        value = value * (100 + percent) // 100 if years > 0 else value * 100 // (100 + percent)
    return value


def _figures(villages: Sequence[VillageSpec]) -> list[FigureSpec]:
    """Five years per village; 2015 sums to the report's totals exactly, other years grow 5-8%."""
    workers = _shares(WORKERS_2015, [v.households_participating for v in villages])
    values = _shares(
        PRODUCTION_VALUE_2015_VND,
        [w * _OUTPUT_WEIGHT[v.craft_group] for w, v in zip(workers, villages, strict=True)],
    )
    figures = []
    for i, (village, base_workers, base_value) in enumerate(zip(villages, workers, values, strict=True)):
        income = 30_000_000 + i * 2_345_000 % 28_000_000
        for year in FIGURE_YEARS:
            span = year - BASE_YEAR
            figures.append(
                FigureSpec(
                    village=village.ref,
                    year=year,
                    households=min(
                        village.households_total, _grown(village.households_participating, 1 + i % 2, span)
                    ),
                    workers=_grown(base_workers, 2 + i % 2, span),
                    production_value_vnd=_grown(base_value, 5 + i % 4, span),
                    average_income_vnd=_grown(income, 6, span) // 1_000 * 1_000,
                )
            )
    return figures


# --------------------------------------------------------------------------------------------------
# Co-operatives
# --------------------------------------------------------------------------------------------------


class CooperativeSpec(NamedTuple):
    name: str
    registration_code: str
    sector: CooperativeSector
    district: str
    village: VillageRef | None
    members: int
    charter_capital_vnd: int
    founded_on: date
    dissolved_on: date | None


class _CoopPlan(NamedTuple):
    sector: CooperativeSector
    prefix: str
    number: int
    crafts: tuple[str, ...] = ()  # based in villages plying one of these; none: a commune's co-operative
    district: str | None = None  # where a commune's co-operative is
    founded_on: date | None = None  # None: a date between 1997 and 2014
    dissolved_on: date | None = None


_S = CooperativeSector
# The first eight rows are the report's 32 co-operatives active in 2015: 20 + 4 + 8 others.
_COOP_PLANS: tuple[_CoopPlan, ...] = (
    _CoopPlan(_S.textile_garment, "HTX Dệt may", 20, ("dệt may", "thêu ren")),
    _CoopPlan(_S.mechanical, "HTX Cơ khí", 4, ("cơ khí",)),
    _CoopPlan(_S.wood_processing, "HTX Chế biến gỗ", 2, ("mộc dân dụng", "đồ gỗ mỹ nghệ")),
    _CoopPlan(_S.chemicals, "HTX Sản xuất hóa chất", 1, district="356"),
    # Dissolved in 2016, so still active in 2015.
    _CoopPlan(_S.chemicals, "HTX Sản xuất hóa chất", 1, district="360", dissolved_on=date(2016, 9, 30)),
    _CoopPlan(_S.clean_water, "HTX Dịch vụ nước sạch", 1, district="365"),
    _CoopPlan(_S.sedge, "HTX Cói", 2, ("dệt chiếu cói",)),
    _CoopPlan(_S.agro_processing, "HTX Chế biến nông sản", 1, ("chế biến nông sản",)),
    # Founded after 2015: the series over years is not flat, and the report's 32 are unaffected.
    _CoopPlan(_S.textile_garment, "HTX Dệt may", 1, ("dệt may",), founded_on=date(2017, 3, 15)),
    _CoopPlan(_S.handicraft, "HTX Sơn mài", 1, ("sơn mài",), founded_on=date(2018, 6, 20)),
)


def _cooperatives(villages: Sequence[VillageSpec]) -> list[CooperativeSpec]:
    """Co-operatives based in illustrative villages of their trade, one per village."""
    free = [v for v in villages if v.is_illustrative]
    specs: list[CooperativeSpec] = []
    for plan in _COOP_PLANS:
        for _ in range(plan.number):
            i = len(specs)
            village: VillageSpec | None = None
            if plan.crafts:
                village = next(v for v in free if set(v.crafts) & set(plan.crafts))
                free.remove(village)
                district, commune = village.district, village.commune
            else:
                assert plan.district is not None
                district, commune = plan.district, _DISTRICT[plan.district].communes[-1]
            specs.append(
                CooperativeSpec(
                    name=f"{plan.prefix} {commune}",
                    # Nam Định's tax and co-operative codes start with 06; ten digits.
                    registration_code=f"0600{100_000 + i * 7_919:06d}",
                    sector=plan.sector,
                    district=district,
                    village=village.ref if village else None,
                    members=7 + i * 13 % 55,
                    charter_capital_vnd=(300 + i * 271 % 2_700) * 1_000_000,
                    founded_on=plan.founded_on or date(1997 + i * 7 % 18, 1 + i * 5 % 12, 1 + i * 11 % 28),
                    dissolved_on=plan.dissolved_on,
                )
            )
    return specs


# --------------------------------------------------------------------------------------------------
# Programmes and fairs
# --------------------------------------------------------------------------------------------------


class ProgrammeSpec(NamedTuple):
    name: str
    kind: ProgrammeKind
    activity: str
    year: int
    implementer: str
    funding: Funding
    villages: tuple[VillageRef, ...]
    cooperatives: tuple[str, ...]  # registration codes

    @property
    def ref(self) -> ProgrammeRef:
        return (self.name, self.year)


class TradeFairSpec(NamedTuple):
    name: str
    kind: FairKind
    organiser: str | None
    venue: str | None
    city: str
    province: str | None
    country: str
    start_on: date
    end_on: date
    standard_booths: int | None
    exhibitors: int | None
    visitors: int | None
    cost_vnd: int
    programme: ProgrammeRef
    villages: tuple[tuple[VillageRef, int], ...]  # participant, booths
    cooperatives: tuple[tuple[str, int], ...]


_E = ExtensionActivity
_F = FundingSource
_CENTRAL = _F.central
_PROVINCIAL = _F.provincial
_DISTRICT_BUDGET = _F.district
_COMMUNE = _F.commune
_COUNTERPART = _F.counterpart

# year, activity, name, craft of the villages served, sector of the co-operative served, funding.
# The 20 rows of 2015 hold 4,340,000,000 VND of public money and no counterpart funds.
_EXTENSION: tuple[tuple[int, ExtensionActivity, str, str | None, CooperativeSector | None, Funding], ...] = (
    (2014, _E.demonstration_model, "Mô hình trình diễn máy se sợi tự động", "dệt may", _S.textile_garment,
     ((_CENTRAL, 250_000_000), (_PROVINCIAL, 80_000_000), (_COUNTERPART, 420_000_000))),
    (2014, _E.new_products_and_branding, "Hỗ trợ phát triển mẫu sản phẩm khảm trai mới", "khảm trai", None,
     ((_PROVINCIAL, 90_000_000), (_COUNTERPART, 35_000_000))),
    (2014, _E.vocational_training, "Đào tạo nghề thêu ren cho lao động nông thôn", "thêu ren", None,
     ((_PROVINCIAL, 150_000_000),)),
    (2015, _E.demonstration_model, "Mô hình trình diễn máy dệt kim điện tử", "dệt may", _S.textile_garment,
     ((_CENTRAL, 300_000_000), (_PROVINCIAL, 120_000_000))),
    (2015, _E.demonstration_model, "Mô hình trình diễn dây chuyền đột dập, gia công cơ khí chính xác",
     "cơ khí", _S.mechanical, ((_CENTRAL, 260_000_000), (_PROVINCIAL, 120_000_000))),
    (2015, _E.demonstration_model, "Mô hình trình diễn máy chế biến gỗ điều khiển số (CNC)",
     "chạm khắc gỗ", _S.wood_processing, ((_PROVINCIAL, 350_000_000),)),
    (2015, _E.demonstration_model, "Mô hình trình diễn máy may công nghiệp lập trình", "dệt may",
     _S.textile_garment, ((_PROVINCIAL, 310_000_000),)),
    (2015, _E.demonstration_model, "Mô hình trình diễn lò sấy nông sản tiết kiệm năng lượng",
     "chế biến nông sản", _S.agro_processing, ((_PROVINCIAL, 250_000_000), (_DISTRICT_BUDGET, 30_000_000))),
    (2015, _E.demonstration_model, "Mô hình trình diễn máy dệt chiếu cói", "dệt chiếu cói", _S.sedge,
     ((_PROVINCIAL, 230_000_000), (_COMMUNE, 30_000_000))),
    (2015, _E.new_products_and_branding, "Hỗ trợ phát triển mẫu sản phẩm sơn mài mới", "sơn mài", None,
     ((_PROVINCIAL, 180_000_000),)),
    (2015, _E.new_products_and_branding,
     "Hỗ trợ tham gia bình chọn sản phẩm công nghiệp nông thôn tiêu biểu năm 2015", "đồ gỗ mỹ nghệ",
     _S.textile_garment, ((_PROVINCIAL, 160_000_000),)),
    (2015, _E.new_products_and_branding, "Hỗ trợ xây dựng nhãn hiệu tập thể sản phẩm mây tre đan",
     "mây tre đan", None, ((_PROVINCIAL, 150_000_000),)),
    (2015, _E.new_products_and_branding, "Hỗ trợ thiết kế mẫu đồ gỗ mỹ nghệ", "đồ gỗ mỹ nghệ",
     _S.wood_processing, ((_PROVINCIAL, 140_000_000),)),
    (2015, _E.new_products_and_branding, "Hỗ trợ xây dựng thương hiệu sản phẩm chế biến nông sản",
     "chế biến nông sản", _S.agro_processing, ((_PROVINCIAL, 120_000_000),)),
    (2015, _E.new_products_and_branding, "Hỗ trợ phát triển sản phẩm thêu ren xuất khẩu", "thêu ren",
     _S.textile_garment, ((_PROVINCIAL, 110_000_000),)),
    (2015, _E.management_and_startup, "Đào tạo khởi sự doanh nghiệp cho cơ sở dệt may nông thôn", "dệt may",
     _S.textile_garment, ((_PROVINCIAL, 120_000_000), (_DISTRICT_BUDGET, 30_000_000))),
    (2015, _E.management_and_startup, "Đào tạo khởi sự doanh nghiệp cho cơ sở làng nghề gỗ mỹ nghệ",
     "chạm khắc gỗ", None, ((_PROVINCIAL, 130_000_000),)),
    (2015, _E.management_and_startup, "Nâng cao năng lực quản lý cho hợp tác xã dệt may", None,
     _S.textile_garment, ((_PROVINCIAL, 120_000_000),)),
    (2015, _E.management_and_startup, "Tập huấn quản trị sản xuất cho cơ sở làng nghề cơ khí", "cơ khí",
     _S.mechanical, ((_PROVINCIAL, 100_000_000),)),
    (2015, _E.vocational_training,
     "Đào tạo nghề may công nghiệp gắn với nhu cầu sử dụng lao động của doanh nghiệp", "dệt may",
     _S.textile_garment, ((_CENTRAL, 200_000_000), (_PROVINCIAL, 100_000_000))),
    (2015, _E.vocational_training, "Truyền nghề mây tre đan xuất khẩu cho lao động nông thôn", "mây tre đan",
     None, ((_PROVINCIAL, 260_000_000),)),
    (2015, _E.vocational_training, "Đào tạo nghề chạm khắc gỗ mỹ nghệ", "chạm khắc gỗ", _S.wood_processing,
     ((_PROVINCIAL, 230_000_000),)),
    (2015, _E.vocational_training, "Đào tạo nghề hàn, gia công cơ khí cho lao động nông thôn", "cơ khí",
     _S.mechanical, ((_PROVINCIAL, 170_000_000), (_DISTRICT_BUDGET, 20_000_000))),
    (2016, _E.linkage_and_environment, "Mô hình xử lý nước thải tập trung cho làng nghề cơ khí", "cơ khí",
     _S.mechanical, ((_CENTRAL, 400_000_000), (_PROVINCIAL, 150_000_000), (_COUNTERPART, 300_000_000))),
    (2016, _E.demonstration_model, "Hỗ trợ ứng dụng máy cắt vải tự động cho hợp tác xã dệt may", None,
     _S.textile_garment, ((_PROVINCIAL, 180_000_000), (_COUNTERPART, 240_000_000))),
    (2016, _E.new_products_and_branding,
     "Hỗ trợ tham gia bình chọn sản phẩm công nghiệp nông thôn tiêu biểu năm 2016", "sơn mài", None,
     ((_PROVINCIAL, 170_000_000),)),
    (2016, _E.vocational_training, "Đào tạo nghề may công nghiệp cho lao động nông thôn năm 2016", "dệt may",
     _S.textile_garment, ((_PROVINCIAL, 210_000_000), (_DISTRICT_BUDGET, 40_000_000))),
)  # fmt: skip


class _FairPlan(NamedTuple):
    """A fair and the trade-promotion programme that paid for it, from the provincial budget."""

    name: str
    kind: FairKind
    start_on: date
    end_on: date
    city: str
    province: str | None
    cost_vnd: int
    crafts: tuple[str, ...]  # one participating village of each
    sectors: tuple[CooperativeSector, ...]  # one participating co-operative of each
    booths: int  # each participant's
    organiser: str | None = None
    venue: str | None = None
    country: str = "VN"
    standard_booths: int | None = None
    exhibitors: int | None = None
    visitors: int | None = None


_HN = "Hà Nội"
_MINISTRY = "Bộ Công Thương"
_TEXTILE_AND_CRAFT = ("dệt may", "chạm khắc gỗ", "sơn mài")
_FOOD = ("chế biến nông sản", "chế biến thủy sản", "nấu rượu")
_K = FairKind
# 2015: 8 fairs elsewhere, the province's own fair (320 booths), the Lào Cai conference; with the
# conference on free-trade agreements below, 11 programmes costing 821,500,000 VND.
_FAIRS: tuple[_FairPlan, ...] = (
    _FairPlan("Hội chợ Công nghiệp - Thương mại Nam Định 2014", _K.hosted,
              date(2014, 10, 15), date(2014, 10, 21), "Nam Định", "Nam Định", 300_000_000,
              (*_TEXTILE_AND_CRAFT, *_FOOD), (_S.textile_garment,), 3,
              organiser=_DEPARTMENT, standard_booths=280),
    _FairPlan("Hội chợ Thương mại Quốc tế Việt Nam (Vietnam Expo) 2014", _K.attended,
              date(2014, 4, 9), date(2014, 4, 12), _HN, _HN, 60_000_000,
              ("dệt may",), (_S.textile_garment,), 2, organiser=_MINISTRY),
    _FairPlan("Hội chợ Thương mại Quốc tế Việt Nam (Vietnam Expo) 2015", _K.attended,
              date(2015, 4, 8), date(2015, 4, 11), _HN, _HN, 65_000_000,
              ("dệt may", "thêu ren"), (_S.textile_garment,), 2, organiser=_MINISTRY),
    _FairPlan("Hội chợ Làng nghề Việt Nam 2015", _K.attended,
              date(2015, 5, 20), date(2015, 5, 25), _HN, _HN, 58_000_000,
              ("chạm khắc gỗ", "sơn mài", "mây tre đan"), (), 1),
    _FairPlan("Hội chợ Quà tặng hàng thủ công mỹ nghệ Hà Nội 2015", _K.attended,
              date(2015, 10, 21), date(2015, 10, 25), _HN, _HN, 52_000_000,
              ("sơn mài", "khảm trai", "mây tre mỹ nghệ"), (), 1),
    _FairPlan("Hội chợ Hàng Việt Nam chất lượng cao 2015", _K.attended,
              date(2015, 11, 25), date(2015, 11, 30), _HN, _HN, 48_000_000,
              ("dệt may", "chế biến nông sản"), (_S.textile_garment,), 1),
    _FairPlan("Hội chợ Công Thương vùng Đồng bằng sông Hồng 2015", _K.attended,
              date(2015, 9, 9), date(2015, 9, 15), "Thái Bình", "Thái Bình", 45_000_000,
              _TEXTILE_AND_CRAFT, (_S.mechanical,), 1),
    _FairPlan("Hội chợ Thương mại Quốc tế Hải Phòng 2015", _K.attended,
              date(2015, 6, 12), date(2015, 6, 18), "Hải Phòng", "Hải Phòng", 42_000_000,
              ("dệt may", "cơ khí"), (_S.mechanical,), 1),
    _FairPlan("Hội chợ Xúc tiến thương mại khu vực Bắc Trung Bộ 2015", _K.attended,
              date(2015, 7, 24), date(2015, 7, 30), "Thanh Hóa", "Thanh Hóa", 38_000_000,
              ("chế biến thủy sản", "mây tre đan"), (_S.sedge,), 1),
    _FairPlan("Hội chợ Nông nghiệp Quốc tế Việt Nam (AgroViet) 2015", _K.attended,
              date(2015, 12, 2), date(2015, 12, 6), _HN, _HN, 35_000_000,
              _FOOD, (_S.agro_processing,), 1),
    _FairPlan("Hội chợ Công nghiệp - Thương mại Nam Định 2015", _K.hosted,
              date(2015, 10, 20), date(2015, 10, 26), "Nam Định", "Nam Định", 320_000_000,
              (*_TEXTILE_AND_CRAFT, "mây tre đan", "thêu ren", "đồ gỗ mỹ nghệ", "khảm trai", *_FOOD),
              (_S.textile_garment, _S.mechanical, _S.wood_processing, _S.sedge, _S.agro_processing), 4,
              organiser=_DEPARTMENT, standard_booths=320, exhibitors=230, visitors=52_000),
    _FairPlan("Hội nghị Xúc tiến liên kết tiêu thụ nông thủy sản và đồ gỗ mỹ nghệ", _K.trade_conference,
              date(2015, 8, 20), date(2015, 8, 21), "Lào Cai", "Lào Cai", 78_500_000,
              ("chế biến nông sản", "chế biến thủy sản", "đồ gỗ mỹ nghệ", "chạm khắc gỗ"),
              (_S.wood_processing,), 1, organiser=_DEPARTMENT),
    _FairPlan("Hội chợ Thương mại Quốc tế Việt Nam (Vietnam Expo) 2016", _K.attended,
              date(2016, 4, 20), date(2016, 4, 23), _HN, _HN, 70_000_000,
              ("dệt may",), (_S.textile_garment,), 2, organiser=_MINISTRY),
    _FairPlan("Hội chợ Trung Quốc - ASEAN (CAEXPO) 2016", _K.overseas,
              date(2016, 9, 11), date(2016, 9, 14), "Nam Ninh", None, 150_000_000,
              ("chạm khắc gỗ", "sơn mài"), (_S.textile_garment,), 1, country="CN"),
    _FairPlan("Hội chợ Công nghiệp - Thương mại Nam Định 2016", _K.hosted,
              date(2016, 10, 18), date(2016, 10, 24), "Nam Định", "Nam Định", 350_000_000,
              (*_TEXTILE_AND_CRAFT, *_FOOD), (_S.textile_garment, _S.mechanical), 3,
              organiser=_DEPARTMENT, standard_booths=350),
)  # fmt: skip

# Trade-promotion programmes without a fair: year, activity, name, cost.
_PROMOTION_WITHOUT_FAIR: tuple[tuple[int, PromotionActivity, str, int], ...] = (
    (2015, PromotionActivity.market_information,
     "Hội nghị phổ biến thông tin về các hiệp định thương mại tự do - cơ hội và thách thức", 40_000_000),
)  # fmt: skip

_FAIR_ACTIVITY = {
    FairKind.attended: PromotionActivity.fair_participation,
    FairKind.overseas: PromotionActivity.fair_participation,
    FairKind.hosted: PromotionActivity.fair_hosting,
    FairKind.trade_conference: PromotionActivity.trade_conference,
}

T = TypeVar("T")


def _rotate(items: Sequence[T], start: int, count: int) -> list[T]:
    """`count` items from `start` on, wrapping round; fewer if there are fewer."""
    return [items[(start + j) % len(items)] for j in range(min(count, len(items)))]


class _Picker:
    """Chooses illustrative villages and co-operatives by trade, turn and turn about."""

    def __init__(self, villages: Sequence[VillageSpec], cooperatives: Sequence[CooperativeSpec]) -> None:
        self._villages = [v for v in villages if v.is_illustrative]
        self._cooperatives = cooperatives

    def villages(self, crafts: Iterable[str], start: int, each: int) -> tuple[VillageRef, ...]:
        chosen = [
            v.ref
            for craft in crafts
            for v in _rotate([v for v in self._villages if craft in v.crafts], start, each)
        ]
        return tuple(dict.fromkeys(chosen))

    def cooperatives(self, sectors: Iterable[CooperativeSector], start: int) -> tuple[str, ...]:
        chosen = [
            c.registration_code
            for sector in sectors
            for c in _rotate([c for c in self._cooperatives if c.sector == sector], start, 1)
        ]
        return tuple(dict.fromkeys(chosen))


def _fair_programme_name(plan: _FairPlan) -> str:
    if plan.kind == FairKind.hosted:
        return f"Tổ chức {plan.name}"
    if plan.kind == FairKind.trade_conference:
        return f"Tổ chức cho doanh nghiệp trưng bày, giới thiệu sản phẩm tại {plan.name} tại TP. {plan.city}"
    return f"Tổ chức cho doanh nghiệp tham gia {plan.name}"


def _programmes_and_fairs(pick: _Picker) -> tuple[list[ProgrammeSpec], list[TradeFairSpec]]:
    programmes = [
        ProgrammeSpec(
            name=name,
            kind=ProgrammeKind.industrial_extension,
            activity=activity,
            year=year,
            implementer=_EXTENSION_CENTRE,
            funding=funding,
            villages=pick.villages([craft] if craft else [], 2 * i, 2),
            cooperatives=pick.cooperatives([sector] if sector else [], i),
        )
        for i, (year, activity, name, craft, sector, funding) in enumerate(_EXTENSION)
    ]
    programmes += [
        ProgrammeSpec(
            name, ProgrammeKind.trade_promotion, activity, year, _DEPARTMENT, ((_PROVINCIAL, cost),), (), ()
        )
        for year, activity, name, cost in _PROMOTION_WITHOUT_FAIR
    ]
    fairs = []
    for i, plan in enumerate(_FAIRS):
        programme = ProgrammeSpec(
            name=_fair_programme_name(plan),
            kind=ProgrammeKind.trade_promotion,
            activity=_FAIR_ACTIVITY[plan.kind],
            year=plan.start_on.year,
            implementer=_DEPARTMENT,
            funding=((_PROVINCIAL, plan.cost_vnd),),
            villages=(),
            cooperatives=(),
        )
        programmes.append(programme)
        fairs.append(
            TradeFairSpec(
                name=plan.name,
                kind=plan.kind,
                organiser=plan.organiser,
                venue=plan.venue,
                city=plan.city,
                province=plan.province,
                country=plan.country,
                start_on=plan.start_on,
                end_on=plan.end_on,
                standard_booths=plan.standard_booths,
                exhibitors=plan.exhibitors,
                visitors=plan.visitors,
                cost_vnd=plan.cost_vnd,
                programme=programme.ref,
                villages=tuple((v, plan.booths) for v in pick.villages(plan.crafts, i, 1)),
                cooperatives=tuple((c, plan.booths) for c in pick.cooperatives(plan.sectors, i)),
            )
        )
    return programmes, fairs


@dataclass(frozen=True)
class SampleData:
    units: tuple[UnitSpec, ...]
    villages: tuple[VillageSpec, ...]
    figures: tuple[FigureSpec, ...]
    cooperatives: tuple[CooperativeSpec, ...]
    programmes: tuple[ProgrammeSpec, ...]
    fairs: tuple[TradeFairSpec, ...]


@functools.cache
def sample_data() -> SampleData:
    """The whole data set, computed once; the same on every call and every machine."""
    villages = [*_real_villages(), *_illustrative_villages()]
    cooperatives = _cooperatives(villages)
    programmes, fairs = _programmes_and_fairs(_Picker(villages, cooperatives))
    return SampleData(
        units=_UNITS,
        villages=tuple(villages),
        figures=tuple(_figures(villages)),
        cooperatives=tuple(cooperatives),
        programmes=tuple(programmes),
        fairs=tuple(fairs),
    )


# --------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------

S = TypeVar("S")


@dataclass
class _Tally:
    added: int = 0
    present: int = 0


class _Loader:
    """Inserts what is absent, parents before children, remembering every record's id by its key."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.tally = _Tally()
        self.units: dict[Key, int] = {}
        self.villages: dict[Key, int] = {}
        self.cooperatives: dict[Key, int] = {}
        self.programmes: dict[Key, int] = {}

    async def add_missing(
        self,
        model: type[Record],
        key_columns: tuple[QueryableAttribute[object], ...],
        specs: Sequence[S],
        key: Callable[[S], Key],
        build: Callable[[S], Record],
    ) -> dict[Key, int]:
        """Insert the specs whose natural key is absent; return the id of every spec's record by key."""
        wanted = {key(s): s for s in specs}
        if len(wanted) != len(specs):
            raise ValueError(f"duplicate natural keys in the {model.__tablename__} sample data")
        # Filter on the first key column only and compare whole keys here: a NULL in a key
        # (admin_unit.valid_from) never equals anything in SQL.
        first = key_columns[0]
        rows = await self.session.execute(
            select(model.id, *key_columns).where(first.in_({k[0] for k in wanted}))
        )
        ids: dict[Key, int] = {tuple(row[1:]): row[0] for row in rows}
        new = [(k, build(s)) for k, s in wanted.items() if k not in ids]
        self.session.add_all(record for _, record in new)
        # Children added by cascade (funding lines, participants) are new records too.
        self.tally.added += len(self.session.new)
        self.tally.present += len(wanted) - len(new)
        await self.session.flush()
        ids.update((k, record.id) for k, record in new)
        return {k: ids[k] for k in wanted}

    def district_id(self, code: str) -> int:
        return self.units[_old(code)]

    def village_id(self, ref: VillageRef) -> int:
        name, district = ref
        return self.villages[(name, self.district_id(district))]

    def cooperative_id(self, code: str) -> int:
        return self.cooperatives[(code,)]

    async def load(self, data: SampleData) -> None:
        # Parents first: a district needs its province's id.
        for batch in ([u for u in data.units if u.parent is None], [u for u in data.units if u.parent]):
            self.units |= await self.add_missing(
                AdminUnit, (AdminUnit.code, AdminUnit.valid_from), batch, lambda u: u.key, self.admin_unit
            )
        self.villages = await self.add_missing(
            Village,
            (Village.name, Village.district_id),
            data.villages,
            lambda v: (v.name, self.district_id(v.district)),
            self.village,
        )
        await self.add_missing(
            VillageFigure,
            (VillageFigure.village_id, VillageFigure.year),
            data.figures,
            lambda f: (self.village_id(f.village), f.year),
            self.figure,
        )
        self.cooperatives = await self.add_missing(
            Cooperative,
            (Cooperative.registration_code,),
            data.cooperatives,
            lambda c: (c.registration_code,),
            self.cooperative,
        )
        self.programmes = await self.add_missing(
            Programme, (Programme.name, Programme.year), data.programmes, lambda p: p.ref, self.programme
        )
        await self.add_missing(
            TradeFair,
            (TradeFair.name, TradeFair.start_on),
            data.fairs,
            lambda f: (f.name, f.start_on),
            self.fair,
        )

    def admin_unit(self, spec: UnitSpec) -> AdminUnit:
        return AdminUnit(
            code=spec.code,
            name=spec.name,
            level=spec.level,
            parent_id=self.units[spec.parent] if spec.parent else None,
            valid_from=spec.valid_from,
            valid_to=spec.valid_to,
        )

    def village(self, spec: VillageSpec) -> Village:
        latitude, longitude = spec.coordinates or (None, None)
        return Village(
            name=spec.name,
            commune=spec.commune,
            district_id=self.district_id(spec.district),
            craft_group=spec.craft_group,
            crafts=list(spec.crafts),
            status=spec.status,
            recognition_decision=spec.recognition_decision,
            recognised_on=spec.recognised_on,
            revoked_on=spec.revoked_on,
            established_year=spec.established_year,
            households_total=spec.households_total,
            households_participating=spec.households_participating,
            has_environment_plan=spec.has_environment_plan,
            on_polluted_list=spec.on_polluted_list,
            latitude=latitude,
            longitude=longitude,
            is_illustrative=spec.is_illustrative,
            notes=spec.notes,
        )

    def figure(self, spec: FigureSpec) -> VillageFigure:
        return VillageFigure(
            village_id=self.village_id(spec.village),
            year=spec.year,
            households=spec.households,
            workers=spec.workers,
            production_value_vnd=spec.production_value_vnd,
            average_income_vnd=spec.average_income_vnd,
            qualifier=FigureQualifier.exact,
        )

    def cooperative(self, spec: CooperativeSpec) -> Cooperative:
        return Cooperative(
            name=spec.name,
            registration_code=spec.registration_code,
            legal_form=LegalForm.cooperative,
            sector=spec.sector,
            district_id=self.district_id(spec.district),
            village_id=self.village_id(spec.village) if spec.village else None,
            members=spec.members,
            charter_capital_vnd=spec.charter_capital_vnd,
            founded_on=spec.founded_on,
            dissolved_on=spec.dissolved_on,
            status=CooperativeStatus.dissolved if spec.dissolved_on else CooperativeStatus.active,
        )

    def programme(self, spec: ProgrammeSpec) -> Programme:
        # Funding lines and beneficiaries belong to their programme: added with it, never on their own.
        return Programme(
            name=spec.name,
            kind=spec.kind,
            activity=spec.activity,
            year=spec.year,
            implementer=spec.implementer,
            status=ProgrammeStatus.completed,
            funding=[ProgrammeFunding(source=source, amount_vnd=amount) for source, amount in spec.funding],
            beneficiaries=[
                *(ProgrammeBeneficiary(village_id=self.village_id(v)) for v in spec.villages),
                *(ProgrammeBeneficiary(cooperative_id=self.cooperative_id(c)) for c in spec.cooperatives),
            ],
        )

    def fair(self, spec: TradeFairSpec) -> TradeFair:
        return TradeFair(
            name=spec.name,
            kind=spec.kind,
            organiser=spec.organiser,
            venue=spec.venue,
            city=spec.city,
            province=spec.province,
            country=spec.country,
            start_on=spec.start_on,
            end_on=spec.end_on,
            standard_booths=spec.standard_booths,
            exhibitors=spec.exhibitors,
            visitors=spec.visitors,
            cost_vnd=spec.cost_vnd,
            programme_id=self.programmes[spec.programme],
            participants=[
                *(TradeFairParticipant(village_id=self.village_id(v), booths=n) for v, n in spec.villages),
                *(
                    TradeFairParticipant(cooperative_id=self.cooperative_id(c), booths=n)
                    for c, n in spec.cooperatives
                ),
            ],
        )


async def _holds_places_or_villages(session: AsyncSession) -> bool:
    for model in (AdminUnit, Village):
        if await session.scalar(select(model.id).limit(1)) is not None:
            return True
    return False


async def load_sample_data(url: str, *, only_if_empty: bool) -> str:
    """Load the sample data in one transaction, adding only what is absent; return a one-line report."""
    # The load bumps the data versions like any other write.
    versioning.install()
    versioning.track(REGISTRY.tracked_tables)
    engine = create_async_engine(async_url(url), poolclass=NullPool)
    try:
        async with AsyncSession(engine, autoflush=False) as session, session.begin():
            # Two loaders at once (two `serve --seed-if-empty`) would both find a key absent.
            await session.execute(select(func.pg_advisory_xact_lock(_LOCK_KEY)))
            if only_if_empty and await _holds_places_or_villages(session):
                return "sample data: not loaded, the database already holds admin units or villages"
            loader = _Loader(session)
            await loader.load(sample_data())
        tally = loader.tally
        return f"sample data: {tally.added} records added, {tally.present} already present"
    finally:
        await engine.dispose()
