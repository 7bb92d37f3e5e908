"""A national-scale dataset, generated deterministically and loaded with COPY.

Every row obeys the CHECK constraints of app/models/ (participating <= total households,
recognised villages have recognised_on, an activity of the programme's kind, VN for hosted and
attended fairs and another country for overseas ones, ...). Ids are given explicitly, so that
references can be drawn without reading anything back; the identity sequences are moved past
them afterwards. Generated columns (search_text, name_sort) and the bookkeeping columns
(created_at, updated_at, version) are left to PostgreSQL.

The administrative units are the national gazetteer (`places load`, as the service loads it):
villages and co-operatives are placed in its communes as they stood until 2025-06-30 (the district
and province those of the commune), so that statistics by the communes of 2025-07-01 follow the
real successions.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import random
import time
import unicodedata
from collections.abc import Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Any

import asyncpg

from app.admin_units.gazetteer import load_places
from app.models import (
    ACTIVITIES_BY_KIND,
    CooperativeSector,
    CooperativeStatus,
    CraftGroup,
    FairKind,
    FigureQualifier,
    FundingSource,
    LegalForm,
    ProgrammeKind,
    ProgrammeStatus,
    VillageStatus,
)

FIGURE_YEARS = tuple(range(2015, 2025))  # ten years of figures per village
PROGRAMME_YEARS = (2000, 2024)
FAIR_YEARS = (2005, 2024)


@dataclass(frozen=True)
class Sizes:
    """Row counts of the generated tables."""

    provinces: int = 63
    districts: int = 700
    villages: int = 100_000
    cooperatives: int = 20_000
    programmes: int = 200_000
    funding_lines: int = 400_000  # exactly two per programme on average (1 to 3 each)
    beneficiaries_per_programme: float = 1.0
    fairs: int = 20_000
    participants_per_fair: float = 5.0

    @classmethod
    def scaled(cls, scale: float) -> Sizes:
        """The default sizes times `scale` (admin units stay as they are)."""
        base = cls()
        programmes = max(10, round(base.programmes * scale) // 2 * 2)
        return cls(
            villages=max(100, round(base.villages * scale)),
            cooperatives=max(10, round(base.cooperatives * scale)),
            programmes=programmes,
            funding_lines=2 * programmes,
            fairs=max(10, round(base.fairs * scale)),
        )


# A commune of the gazetteer: (commune_id, district_id, province_id).
Commune = tuple[int, int, int]

# The communes as they stood until 2025-06-30 (valid through every figure year and founding day
# generated), with their district and province; in id order, so that every process draws alike.
COMMUNES = """
    SELECT c.id, d.id, d.parent_id
      FROM admin_unit c JOIN admin_unit d ON d.id = c.parent_id AND d.level = 'district'
     WHERE c.level = 'commune' AND c.valid_from IS NULL AND c.valid_to = DATE '2025-06-30'
     ORDER BY c.id
"""


async def communes_of(conn: asyncpg.Connection) -> list[Commune]:
    return [(r[0], r[1], r[2]) for r in await conn.fetch(COMMUNES)]


@dataclass
class Loaded:
    """What was loaded: rows per table, seconds per step, and facts the scenarios need."""

    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    busiest_district_id: int = 0
    busiest_district_villages: int = 0
    busiest_district_handicraft: int = 0


def _nfc(words: Sequence[str]) -> list[str]:
    return [unicodedata.normalize("NFC", w) for w in words]


SYLLABLES = _nfc(
    [
        "An",
        "Bình",
        "Bảo",
        "Cao",
        "Cát",
        "Chàng",
        "Châu",
        "Đa",
        "Đại",
        "Đình",
        "Đoài",
        "Đông",
        "Đồng",
        "Đức",
        "Giang",
        "Hà",
        "Hải",
        "Hạ",
        "Hòa",
        "Hồng",
        "Hưng",
        "Hương",
        "Khánh",
        "Kim",
        "La",
        "Lạc",
        "Lâm",
        "Liên",
        "Long",
        "Lộc",
        "Minh",
        "Mỹ",
        "Nam",
        "Nghĩa",
        "Ngọc",
        "Nhân",
        "Ninh",
        "Phong",
        "Phú",
        "Phúc",
        "Phượng",
        "Quang",
        "Quế",
        "Sơn",
        "Tân",
        "Tây",
        "Thạch",
        "Thái",
        "Thanh",
        "Thành",
        "Thịnh",
        "Thuận",
        "Thượng",
        "Tiên",
        "Trà",
        "Trung",
        "Trường",
        "Vân",
        "Văn",
        "Vinh",
        "Vĩnh",
        "Xuân",
        "Xuyên",
        "Yên",
        "Ý",
    ]
)
CRAFTS: dict[str, list[str]] = {
    CraftGroup.agro_processing: _nfc(
        ["bún", "bánh đa", "miến dong", "nấu rượu", "chè", "nước mắm", "đậu phụ", "bánh chưng"]
    ),
    CraftGroup.handicraft: _nfc(
        ["sơn mài", "chạm khắc gỗ", "khảm trai", "thêu ren", "gốm sứ", "đúc đồng", "dệt chiếu", "nón lá"]
    ),
    CraftGroup.material_processing: _nfc(["xay xát", "chế biến lâm sản", "vật liệu xây dựng", "vôi"]),
    CraftGroup.manufacturing: _nfc(["rèn", "cơ khí", "dệt may", "đồ gỗ", "mây tre đan", "thủy tinh"]),
    CraftGroup.ornamental: _nfc(["cây cảnh", "hoa", "cá cảnh", "sinh vật cảnh"]),
    CraftGroup.salt: _nfc(["muối"]),
    CraftGroup.rural_services: _nfc(["sửa chữa máy nông nghiệp", "vận tải", "xay xát thuê"]),
}
CRAFT_GROUP_WEIGHTS = {
    CraftGroup.agro_processing: 25,
    CraftGroup.handicraft: 30,
    CraftGroup.material_processing: 8,
    CraftGroup.manufacturing: 20,
    CraftGroup.ornamental: 10,
    CraftGroup.salt: 2,
    CraftGroup.rural_services: 5,
}
FOREIGN_COUNTRIES = ["CN", "JP", "KR", "TH", "US", "DE", "FR", "SG", "MY", "LA", "KH", "IN", "AU", "RU"]
CITIES = _nfc(["Hà Nội", "TP Hồ Chí Minh", "Đà Nẵng", "Hải Phòng", "Cần Thơ", "Nam Định", "Huế", "Vinh"])


def _name(rng: random.Random, words: int = 2) -> str:
    return " ".join(rng.choice(SYLLABLES) for _ in range(words))


def _day(rng: random.Random, first: date, last: date) -> date:
    return date.fromordinal(rng.randint(first.toordinal(), last.toordinal()))


def _weighted(rng: random.Random, weights: dict[Any, int]) -> Callable[[], Any]:
    keys = list(weights)
    cum: list[float] = []
    total = 0.0
    for k in keys:
        total += weights[k]
        cum.append(total)

    def pick() -> Any:
        x = rng.random() * total
        lo, hi = 0, len(cum) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if cum[mid] > x:
                hi = mid
            else:
                lo = mid + 1
        return keys[lo]

    return pick


class Generator:
    """Row generators per table; every table has its own Random so each is reproducible alone."""

    def __init__(self, sizes: Sizes, seed: int, communes: Sequence[Commune]) -> None:
        self.sizes = sizes
        self.seed = seed
        # The national gazetteer's communes as they stood until 2025-06-30, by district.
        by_district: dict[int, list[Commune]] = {}
        for commune in communes:
            by_district.setdefault(commune[1], []).append(commune)
        self.district_ids = sorted(by_district)
        # What several tables share is drawn up front, each from its own Random, so that the
        # tables can be generated (and loaded) in any order, or concurrently.
        rng = self.rng("province-names")  # the text of programme implementers and fair venues
        self.province_names = [_name(rng) for _ in range(sizes.provinces)]
        # Skewed district sizes (log-normal), as craft villages cluster in a few districts; a
        # village's commune is any of its district's.
        rng = self.rng("village-districts")
        weights = [rng.lognormvariate(0.0, 1.0) for _ in self.district_ids]
        districts = rng.choices(self.district_ids, weights=weights, k=sizes.villages)
        rng = self.rng("village-communes")
        self.village_commune = [rng.choice(by_district[d]) for d in districts]
        self.communes = list(communes)
        rng = self.rng("programme-kinds")
        self.programme_kind = [
            ProgrammeKind.industrial_extension if rng.random() < 0.7 else ProgrammeKind.trade_promotion
            for _ in range(sizes.programmes)
        ]
        self.promotion_programmes = [
            i + 1 for i, kind in enumerate(self.programme_kind) if kind == ProgrammeKind.trade_promotion
        ]

    def rng(self, name: str) -> random.Random:
        return random.Random(f"{self.seed}:{name}")  # noqa: S311 - reproducible data, not secrets

    # -- villages and their figures -------------------------------------------------------

    VILLAGE_COLUMNS = (
        "id", "name", "commune", "commune_id", "district_id", "province_id", "craft_group", "crafts",
        "status",
        "recognition_decision", "recognised_on", "revoked_on", "established_year",
        "households_total", "households_participating", "has_environment_plan",
        "on_polluted_list", "latitude", "longitude", "is_illustrative", "notes",
    )  # fmt: skip

    def villages(self) -> Iterator[tuple[Any, ...]]:
        rng = self.rng("village")
        pick_group = _weighted(rng, CRAFT_GROUP_WEIGHTS)
        pick_status = _weighted(
            rng,
            {
                VillageStatus.unrecognised: 40,
                VillageStatus.craft_village: 42,
                VillageStatus.traditional_craft_village: 18,
            },
        )
        for vid in range(1, self.sizes.villages + 1):
            group = str(pick_group())
            crafts = rng.sample(CRAFTS[group], k=min(len(CRAFTS[group]), rng.choice((1, 1, 1, 2, 3))))
            status = str(pick_status())
            recognised_on = revoked_on = decision = None
            if status != VillageStatus.unrecognised:
                recognised_on = _day(rng, date(2000, 1, 1), date(2024, 12, 31))
                decision = f"{rng.randint(1, 4000)}/QĐ-UBND"
                if rng.random() < 0.03:
                    revoked_on = _day(rng, recognised_on, date(2025, 6, 30))
            total = None if rng.random() < 0.05 else rng.randint(20, 3000)
            participating = None if total is None else rng.randint(total // 4, total)
            located = rng.random() < 0.9
            yield (
                vid,
                "Làng " + _name(rng),
                None if rng.random() < 0.05 else "Xã " + _name(rng),
                *self.village_commune[vid - 1],
                group,
                crafts,
                status,
                decision,
                recognised_on,
                revoked_on,
                None if rng.random() < 0.25 else rng.randint(1200, 2010),
                total,
                participating,
                rng.random() < 0.3,
                rng.random() < 0.04,
                round(rng.uniform(8.6, 23.3), 6) if located else None,
                round(rng.uniform(102.2, 109.4), 6) if located else None,
                True,  # invented records
                None if rng.random() < 0.9 else "Số liệu sinh tự động cho kiểm thử hiệu năng.",
            )

    FIGURE_COLUMNS = (
        "village_id", "year", "households", "workers", "production_value_vnd", "average_income_vnd",
        "qualifier",
    )  # fmt: skip

    def figures(self) -> Iterator[tuple[Any, ...]]:
        rng = self.rng("village_figure")
        qualifiers = [FigureQualifier.exact.value] * 16 + [
            *[FigureQualifier.approximate.value] * 3,
            FigureQualifier.at_least.value,
        ]
        for vid in range(1, self.sizes.villages + 1):
            households = rng.randint(20, 2500)
            for year in FIGURE_YEARS:
                households = max(0, households + rng.randint(-30, 40))
                workers = int(households * rng.uniform(1.2, 3.5))
                gaps = rng.random()
                yield (
                    vid,
                    year,
                    None if gaps < 0.03 else households,
                    None if gaps < 0.05 else workers,
                    None if gaps < 0.08 else workers * rng.randint(40, 400) * 1_000_000,
                    None if gaps < 0.10 else rng.randint(30, 180) * 1_000_000,
                    rng.choice(qualifiers),
                )

    # -- co-operatives --------------------------------------------------------------------

    COOPERATIVE_COLUMNS = (
        "id", "name", "registration_code", "legal_form", "sector", "commune_id", "district_id",
        "province_id", "village_id",
        "members", "charter_capital_vnd", "founded_on", "dissolved_on", "status",
    )  # fmt: skip

    def cooperatives(self) -> Iterator[tuple[Any, ...]]:
        rng = self.rng("cooperative")
        pick_form = _weighted(
            rng,
            {LegalForm.cooperative: 80, LegalForm.cooperative_union: 3, LegalForm.cooperative_group: 17},
        )
        pick_status = _weighted(
            rng,
            {CooperativeStatus.active: 80, CooperativeStatus.suspended: 8, CooperativeStatus.dissolved: 12},
        )
        sectors = [s.value for s in CooperativeSector]
        for cid in range(1, self.sizes.cooperatives + 1):
            founded = _day(rng, date(1997, 1, 1), date(2024, 12, 31))
            status = str(pick_status())
            dissolved = _day(rng, founded, date(2025, 6, 30)) if status == "dissolved" else None
            village = rng.randint(1, self.sizes.villages) if rng.random() < 0.4 else None
            commune = self.village_commune[village - 1] if village else rng.choice(self.communes)
            yield (
                cid,
                "HTX " + _name(rng, 3),
                f"{cid:010d}",
                str(pick_form()),
                rng.choice(sectors),
                *commune,
                village,
                None if rng.random() < 0.05 else rng.randint(7, 500),
                None if rng.random() < 0.1 else rng.randint(5, 10_000) * 10_000_000,
                founded,
                dissolved,
                status,
            )

    # -- programmes, funding lines, beneficiaries ---------------------------------------

    PROGRAMME_COLUMNS = ("id", "name", "kind", "activity", "year", "implementer", "description", "status")

    def programmes(self, part: int = 0, parts: int = 1) -> Iterator[tuple[Any, ...]]:
        """Every `parts`-th programme from `part`: loaded in parts, the generated columns of its
        long names are computed on both cores."""
        rng = self.rng(f"programme:{part}/{parts}")
        activities = {k: sorted(ACTIVITIES_BY_KIND[k]) for k in ProgrammeKind}
        statuses = [s.value for s in ProgrammeStatus]
        for pid in range(1 + part, self.sizes.programmes + 1, parts):
            kind = self.programme_kind[pid - 1]
            province = self.province_names[rng.randrange(len(self.province_names))]
            yield (
                pid,
                f"Đề án {pid}: hỗ trợ làng nghề {_name(rng)}",
                kind.value,
                rng.choice(activities[kind]),
                rng.randint(*PROGRAMME_YEARS),
                f"Trung tâm Khuyến công tỉnh {province}",
                None if rng.random() < 0.7 else "Đề án sinh tự động cho kiểm thử hiệu năng.",
                rng.choice(statuses),
            )

    FUNDING_COLUMNS = ("programme_id", "source", "amount_vnd")

    def funding(self) -> Iterator[tuple[Any, ...]]:
        """1 to 3 lines from distinct sources per programme; pairs of programmes add up to 4."""
        rng = self.rng("programme_funding")
        sources = [s.value for s in FundingSource]
        lines = 0
        target = self.sizes.funding_lines
        programmes = self.sizes.programmes
        for pid in range(1, programmes + 1, 2):
            first = rng.randint(1, 3)
            for this, count in ((pid, first), (pid + 1, 4 - first)):
                if this > programmes:
                    break
                for source in rng.sample(sources, count):
                    if lines < target:
                        lines += 1
                        yield (this, source, rng.randint(10, 2000) * 1_000_000)

    BENEFICIARY_COLUMNS = ("programme_id", "village_id", "cooperative_id")

    def beneficiaries(self) -> Iterator[tuple[Any, ...]]:
        rng = self.rng("programme_beneficiary")
        per = self.sizes.beneficiaries_per_programme
        for pid in range(1, self.sizes.programmes + 1):
            count = rng.randint(0, round(2 * per))
            villages = {rng.randint(1, self.sizes.villages) for _ in range(count)}
            cooperatives = {rng.randint(1, self.sizes.cooperatives) for _ in range(count // 4)}
            for vid in sorted(villages):
                yield (pid, vid, None)
            for cid in sorted(cooperatives):
                yield (pid, None, cid)

    # -- trade fairs and their participants --------------------------------------------

    FAIR_COLUMNS = (
        "id", "name", "kind", "organiser", "venue", "city", "province", "country", "start_on", "end_on",
        "standard_booths", "exhibitors", "visitors", "contracts_signed", "contract_value_vnd",
        "sales_vnd", "cost_vnd", "programme_id",
    )  # fmt: skip

    def fairs(self) -> Iterator[tuple[Any, ...]]:
        rng = self.rng("trade_fair")
        pick_kind = _weighted(
            rng,
            {
                FairKind.hosted: 20,
                FairKind.attended: 45,
                FairKind.overseas: 20,
                FairKind.trade_conference: 15,
            },
        )
        promotion = self.promotion_programmes or [None]
        for fid in range(1, self.sizes.fairs + 1):
            kind = str(pick_kind())
            if kind in (FairKind.hosted, FairKind.attended):
                country = "VN"
            elif kind == FairKind.overseas:
                country = rng.choice(FOREIGN_COUNTRIES)
            else:
                country = "VN" if rng.random() < 0.7 else rng.choice(FOREIGN_COUNTRIES)
            start = _day(rng, date(FAIR_YEARS[0], 1, 1), date(FAIR_YEARS[1], 12, 31))
            end = date.fromordinal(start.toordinal() + rng.randint(0, 6))
            booths = rng.randint(10, 600)
            domestic = country == "VN"
            yield (
                fid,
                f"Hội chợ {_name(rng)} {start.year}",
                kind,
                "Sở Công Thương " + rng.choice(self.province_names)
                if domestic
                else "Cục Xúc tiến thương mại",
                None if rng.random() < 0.3 else "Trung tâm Triển lãm " + _name(rng),
                rng.choice(CITIES) if domestic else None,
                rng.choice(self.province_names) if domestic else None,
                country,
                start,
                end,
                booths,
                booths + rng.randint(0, 200),
                rng.randint(500, 200_000),
                rng.randint(0, 150),
                rng.randint(0, 100_000) * 1_000_000,
                rng.randint(0, 50_000) * 1_000_000,
                rng.randint(50, 5_000) * 1_000_000,
                rng.choice(promotion) if rng.random() < 0.6 else None,
            )

    PARTICIPANT_COLUMNS = ("trade_fair_id", "village_id", "cooperative_id", "booths")

    def participants(self) -> Iterator[tuple[Any, ...]]:
        rng = self.rng("trade_fair_participant")
        per = self.sizes.participants_per_fair
        for fid in range(1, self.sizes.fairs + 1):
            count = rng.randint(0, round(2 * per))
            villages = {rng.randint(1, self.sizes.villages) for _ in range(count)}
            cooperatives = {rng.randint(1, self.sizes.cooperatives) for _ in range(count // 3)}
            for vid in sorted(villages):
                yield (fid, vid, None, rng.randint(1, 4))
            for cid in sorted(cooperatives):
                yield (fid, None, cid, rng.randint(1, 4))


# Tables in load order (references first), with the generator method and its columns.
TABLES: tuple[tuple[str, str, str], ...] = (
    ("village", "villages", "VILLAGE_COLUMNS"),
    ("village_figure", "figures", "FIGURE_COLUMNS"),
    ("cooperative", "cooperatives", "COOPERATIVE_COLUMNS"),
    ("programme", "programmes", "PROGRAMME_COLUMNS"),
    ("programme_funding", "funding", "FUNDING_COLUMNS"),
    ("programme_beneficiary", "beneficiaries", "BENEFICIARY_COLUMNS"),
    ("trade_fair", "fairs", "FAIR_COLUMNS"),
    ("trade_fair_participant", "participants", "PARTICIPANT_COLUMNS"),
)


# Secondary indexes (those that back no primary-key, unique or exclusion constraint) and
# foreign keys of the loaded tables: dropped for the COPY, then rebuilt from their own definitions.
_SECONDARY_INDEXES = """
    SELECT c.relname AS table, ic.relname AS name, pg_get_indexdef(i.indexrelid) AS definition
      FROM pg_index i
      JOIN pg_class c ON c.oid = i.indrelid
      JOIN pg_class ic ON ic.oid = i.indexrelid
     WHERE c.relnamespace = 'public'::regnamespace AND c.relname = ANY($1::text[])
       AND NOT EXISTS (SELECT 1 FROM pg_constraint k
                        WHERE k.conindid = i.indexrelid AND k.contype IN ('p', 'u', 'x'))
     ORDER BY c.relname, ic.relname
"""
_FOREIGN_KEYS = """
    SELECT c.relname AS table, k.conname AS name, pg_get_constraintdef(k.oid) AS definition
      FROM pg_constraint k
      JOIN pg_class c ON c.oid = k.conrelid
     WHERE k.contype = 'f' AND c.relnamespace = 'public'::regnamespace AND c.relname = ANY($1::text[])
     ORDER BY c.relname, k.conname
"""
_SCHEMA_SNAPSHOT = """
    SELECT 'index ' || ic.relname || ': ' || pg_get_indexdef(i.indexrelid) AS item
      FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
      JOIN pg_class c ON c.oid = i.indrelid
     WHERE c.relnamespace = 'public'::regnamespace
    UNION ALL
    SELECT 'constraint ' || conrelid::regclass::text || '.' || conname || ': '
           || pg_get_constraintdef(oid) || CASE WHEN convalidated THEN '' ELSE ' NOT VALID' END
      FROM pg_constraint WHERE connamespace = 'public'::regnamespace
     ORDER BY 1
"""


async def load(dsn: str, sizes: Sizes, seed: int, log: Callable[[str], None]) -> Loaded:  # noqa: PLR0915
    """COPY every table of a migrated, empty database, then VACUUM ANALYZE.

    Secondary indexes and foreign keys are dropped during the COPY and rebuilt afterwards from
    their catalogued definitions (one index build and one validating join each, instead of a
    million index insertions and trigger calls); the schema is then compared with the one
    Alembic built, and must be identical. Tables, indexes and VACUUMs go two at a time, one per
    core: computing the generated columns (vi_sort_key above all) is most of the COPY's cost.
    """
    loaded = Loaded()
    tables = [table for table, _method, _columns in TABLES]
    conns = [await asyncpg.connect(dsn) for _ in range(PARALLEL)]
    conn = conns[0]
    try:
        # The tables must be empty: refuse to add to a database that holds data.
        if await conn.fetchval("SELECT EXISTS (SELECT 1 FROM village)"):
            raise RuntimeError("the bench database already holds villages; give an empty database")
        for c in conns:
            await c.execute("SET maintenance_work_mem = '256MB'")
        started = time.perf_counter()
        report = await load_places(dsn)
        loaded.seconds["gazetteer (places load)"] = time.perf_counter() - started
        log(f"  gazetteer loaded in {loaded.seconds['gazetteer (places load)']:.1f} s: {report}")
        before = [r["item"] for r in await conn.fetch(_SCHEMA_SNAPSHOT)]
        # The rows are generated consistent (each record's district and province those of its
        # commune, figure years and founding days within its commune's period), so the triggers
        # that derive and check places are off for the COPY, which loads the tables in any order.
        for table in tables:
            await conn.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
        indexes = await conn.fetch(_SECONDARY_INDEXES, tables)
        foreign_keys = await conn.fetch(_FOREIGN_KEYS, tables)
        for fk in foreign_keys:
            await conn.execute(f'ALTER TABLE "{fk["table"]}" DROP CONSTRAINT "{fk["name"]}"')
        for index in indexes:
            await conn.execute(f'DROP INDEX "{index["name"]}"')

        started = time.perf_counter()
        # Two processes, each generating rows and feeding its own COPY: one Python process could
        # not keep two backends busy. Longest first: programme's long names make its generated
        # columns the slowest, so it goes in parts.
        jobs = sorted(
            ((t, p) for t, _m, _c in TABLES for p in range(PARTS.get(t, 1))),
            key=lambda job: -COPY_COST.get(job[0], 0) / PARTS.get(job[0], 1),
        )
        loop = asyncio.get_running_loop()
        with ProcessPoolExecutor(PARALLEL, mp_context=multiprocessing.get_context("spawn")) as pool:

            async def copy(table: str, part: int) -> None:
                count, seconds = await loop.run_in_executor(pool, copy_part, dsn, sizes, seed, table, part)
                loaded.rows[table] = loaded.rows.get(table, 0) + count
                parts = PARTS.get(table, 1)
                label = table if parts == 1 else f"{table} ({part + 1}/{parts})"
                log(f"  COPY {label:<30} {count:>9,} rows  {seconds:5.1f} s")

            await asyncio.gather(*(copy(table, part) for table, part in jobs))
        loaded.seconds["copy (all tables)"] = time.perf_counter() - started
        for table in tables:
            await conn.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER USER')

        async def run(c: asyncpg.Connection, sql: str) -> None:
            await c.execute(sql)

        started = time.perf_counter()
        big_first = sorted(indexes, key=lambda i: COPY_COST.get(i["table"], 0), reverse=True)
        await _two_by_two(conns, [partial(run, sql=i["definition"]) for i in big_first])
        loaded.seconds["create secondary indexes"] = time.perf_counter() - started
        log(f"  {len(indexes)} secondary indexes built in {loaded.seconds['create secondary indexes']:.1f} s")
        started = time.perf_counter()
        for fk in foreign_keys:
            await conn.execute(
                f'ALTER TABLE "{fk["table"]}" ADD CONSTRAINT "{fk["name"]}" {fk["definition"]}'
            )
        loaded.seconds["add foreign keys"] = time.perf_counter() - started
        log(f"  {len(foreign_keys)} foreign keys validated in {loaded.seconds['add foreign keys']:.1f} s")
        after = [r["item"] for r in await conn.fetch(_SCHEMA_SNAPSHOT)]
        if after != before:
            changed = sorted(set(before) ^ set(after))
            raise RuntimeError("the schema differs from Alembic's after the load: " + "; ".join(changed))

        for table in tables:
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
        # VACUUM as well as ANALYZE: the visibility map and hint bits are set now, not by the
        # first reads or by an autovacuum in the middle of a measurement.
        started = time.perf_counter()
        everything = [*sorted(tables, key=lambda t: COPY_COST.get(t, 0), reverse=True), *OTHER_TABLES]
        await _two_by_two(conns, [partial(run, sql=f"VACUUM (ANALYZE) {t}") for t in everything])
        await conn.execute("CHECKPOINT")
        loaded.seconds["vacuum analyze + checkpoint"] = time.perf_counter() - started
        log(f"  VACUUM (ANALYZE) and CHECKPOINT in {loaded.seconds['vacuum analyze + checkpoint']:.1f} s")
        busiest = await conn.fetchrow(
            """
            SELECT district_id, count(*) AS villages,
                   count(*) FILTER (WHERE craft_group = 'handicraft') AS handicraft
              FROM village GROUP BY district_id ORDER BY handicraft DESC, district_id LIMIT 1
            """
        )
        assert busiest is not None
        loaded.busiest_district_id = int(busiest["district_id"])
        loaded.busiest_district_villages = int(busiest["villages"])
        loaded.busiest_district_handicraft = int(busiest["handicraft"])
    finally:
        for c in conns:
            await c.close()
    return loaded


def copy_part(dsn: str, sizes: Sizes, seed: int, table: str, part: int) -> tuple[int, float]:
    """In a worker process: generate one table (or part of one) and COPY it; rows and seconds."""

    async def run() -> tuple[int, float]:
        started = time.perf_counter()
        conn = await asyncpg.connect(dsn)
        try:
            generator = Generator(sizes, seed, await communes_of(conn))
        finally:
            await conn.close()
        method, columns = next((m, c) for t, m, c in TABLES if t == table)
        parts = PARTS.get(table, 1)
        rows = getattr(generator, method)(part, parts) if parts > 1 else getattr(generator, method)()
        counted = _Counted(rows)
        conn = await asyncpg.connect(dsn)
        try:
            await conn.copy_records_to_table(
                table, records=counted, columns=list(getattr(Generator, columns))
            )
        finally:
            await conn.close()
        return counted.count, time.perf_counter() - started

    return asyncio.run(run())


PARALLEL = 2
PARTS = {"programme": 4}
# Relative cost of loading each table, to start the longest first.
COPY_COST = {
    "programme": 100,
    "village_figure": 60,
    "village": 50,
    "programme_funding": 20,
    "programme_beneficiary": 15,
    "trade_fair_participant": 10,
    "trade_fair": 8,
    "cooperative": 6,
}
OTHER_TABLES = ("data_version", "stats_cache", "alembic_version")


async def _two_by_two(
    conns: Sequence[asyncpg.Connection], jobs: Sequence[Callable[[asyncpg.Connection], Awaitable[None]]]
) -> None:
    """Run the jobs in order, one per connection at a time."""
    queue = list(jobs)

    async def lane(c: asyncpg.Connection) -> None:
        while queue:
            await queue.pop(0)(c)

    await asyncio.gather(*(lane(c) for c in conns))


class _Counted:
    """An iterator that counts what passes through it."""

    def __init__(self, rows: Iterator[tuple[Any, ...]]) -> None:
        self.rows = rows
        self.count = 0

    def __iter__(self) -> _Counted:
        return self

    def __next__(self) -> tuple[Any, ...]:
        row = next(self.rows)
        self.count += 1
        return row


def village_sample(sizes: Sizes, seed: int, count: int = 1000) -> list[int]:
    """Random village ids for the item scenario: a fixed list, so that it is not one row."""
    rng = random.Random(f"{seed}:item-ids")  # noqa: S311 - reproducible, not a secret
    return rng.sample(range(1, sizes.villages + 1), k=min(count, sizes.villages))
