"""The national gazetteer: every administrative unit before and after the 2025 reform, and who
succeeded whom (the files and their source: gazetteer/SOURCES.md).

Loading stages the files in temporary tables (COPY) and then writes with a few set-based
statements, in the caller's transaction:

- Units are matched by identity, (level, code, valid_from). A unit absent is added; a unit present
  whose name, type, former names, end or parent differ is brought up to date (its id stays, so
  every record that refers to it keeps doing so); the rest is kept as it is. Loading twice
  changes nothing, and a later official list loads the same way.
- Periods: the lists as of 2025-06-30 ("legacy") are valid until 2025-06-30, with an unknown start
  (NULL: open towards the past), except a unit whose code an earlier, hand-recorded change retired
  (Mỹ Lộc's former communes, 13708 Hưng Lộc among them, from 2024-09-01: until then the retired
  unit of that code holds it). The lists from 2025-07-01 are valid from that day, with no end.
- A hand-recorded change with no successor code ends its unit (the day before the change) and
  links it to nothing: which unit took it in is not recorded. A unit of the lists with its code
  still starts on the day of the change.
- A unit whose stored period the files end earlier (a database loaded before a change was
  recorded) keeps its id and identity (its start), so a record placed on it by an old date stays
  on the old period; the new period is a unit of its own, and the successions of the files that
  named the old one move to it.
- A parent is found by code among the units of the parent's level valid on the child's last day
  (its first when it has no end): legacy communes in legacy districts in legacy provinces, 2025
  communes directly in 2025 provinces.
- Successions: every row of the official conversion table, old commune (or, for six rows, the old
  district as a whole) → new commune from 2025-07-01, with the official note and a kind read from
  it; old province → each new province that received its communes (derived, no note): whole when
  all went to one, unchanged when that one also has no other predecessor; and the hand-recorded
  changes before 2025 that name a successor.

Writes bump the tables' data versions like any other. Each unit added or brought up to date gets
an audit event of the command line (a create or an update of `admin-units`), written by the same
statement (app.kit.audit.audited), so the changes feed and the webhooks see a load like any other
change. Successions are no records of the feed (a unit's read does not show them): they get none.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources
from typing import cast

import asyncpg
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from app.core.settings import async_url
from app.kit import versioning
from app.kit.audit import AuditAction, audited, command_line_name
from app.models import AdminLevel, AdminType, SuccessionKind

# Any fixed number: the key of the advisory lock that serialises concurrent loads.
LOCK_KEY = 2_025_070_100
LEGACY_UNTIL = date(2025, 6, 30)
REFORM_ON = date(2025, 7, 1)
FOLDER = "gazetteer"

UnitRow = tuple[
    str, str, str, str | None, str | None, list[str], str | None, str | None, date | None, date | None
]
SuccessionRow = tuple[str, str, date, str, str, date, date, str, str | None]

UNIT_COLUMNS = (
    "level",
    "code",
    "name",
    "type",
    "name_with_type",
    "former_names",
    "parent_level",
    "parent_code",
    "valid_from",
    "valid_to",
)
SUCCESSION_COLUMNS = (
    "old_level",
    "old_code",
    "old_on",
    "new_level",
    "new_code",
    "new_on",
    "effective_on",
    "kind",
    "note",
)


class GazetteerError(ValueError):
    """The files contradict themselves or the database: nothing was written."""


@dataclass(frozen=True)
class Report:
    units_added: int
    units_changed: int
    units_kept: int
    successions_added: int
    successions_changed: int
    successions_kept: int

    def __str__(self) -> str:
        return (
            f"places: {self.units_added} units added, {self.units_changed} changed, {self.units_kept} kept; "
            f"{self.successions_added} successions added, {self.successions_changed} changed, "
            f"{self.successions_kept} kept"
        )


def read(name: str) -> list[dict[str, str]]:
    """One of the gazetteer's CSV files, as rows of text."""
    data = resources.files("app.admin_units").joinpath(FOLDER, name).read_bytes().decode("utf-8")
    return list(csv.DictReader(io.StringIO(data, newline="")))


def _type(level: AdminLevel, given: str) -> str:
    # The lists call a township (thị trấn) "town" like a district-level town (thị xã).
    if level is AdminLevel.commune and given == "town":
        return AdminType.township.value
    return AdminType(given).value


def _names(cell: str) -> list[str]:
    return [name.strip() for name in cell.split(";") if name.strip()]


def kind_of(note: str) -> SuccessionKind:
    """The kind of a conversion row, read from its official note."""
    lowered = note.lower()
    if "một phần" in lowered or lowered.startswith("phần còn lại"):
        return SuccessionKind.part
    if lowered.startswith("giữ nguyên"):
        return SuccessionKind.unchanged
    if lowered.startswith("đổi"):
        return SuccessionKind.renamed
    return SuccessionKind.whole


def district_provinces() -> dict[str, str]:
    """The province of each legacy district. Two districts are listed twice, under two provinces
    (794 Tân An under 80 and 82, 900 Hà Tiên under 91 and 89), and one of each one's communes names
    the second province: a district is placed in the province most of its communes name."""
    named: dict[str, Counter[str]] = defaultdict(Counter)
    for row in read("communes-legacy.csv"):
        named[row["districtCode"]][row["provinceCode"]] += 1
    listed: dict[str, list[str]] = defaultdict(list)
    for row in read("districts-legacy.csv"):
        listed[row["code"]].append(row["provinceCode"])
    return {
        code: options[0] if len(options) == 1 else max(options, key=lambda p: named[code][p])
        for code, options in listed.items()
    }


def units() -> Iterator[UnitRow]:
    """Every unit of the files, as staged."""
    province, district, commune = AdminLevel.province, AdminLevel.district, AdminLevel.commune
    retired = read("changes-before-2025.csv")
    # A unit of the lists that has a retired unit's code starts on the day of the change: the
    # successor that kept the code, or a unit the row does not name (no successor recorded: 13900,
    # Xã Nghĩa Thịnh until 2024-08-31, Xã Đồng Thịnh in the list of 2025-06-30).
    starts = {(r["level"], r["code"]): date.fromisoformat(r["effectiveOn"]) for r in retired}
    # A unit that starts that day also goes by the names of the units it took in (13708 Hưng Lộc:
    # Mỹ Lộc, Mỹ Hưng), so that a search by an old name finds it; a unit that existed before keeps
    # its own (a unit is one row for its whole period, and Nam Định city was never called Mỹ Lộc).
    took_in: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r in retired:
        if (r["level"], r["successorCode"]) in starts:
            took_in[(r["level"], r["successorCode"])].append(r["name"])

    def legacy(level: AdminLevel, row: dict[str, str], parent: tuple[str, str] | None) -> UnitRow:
        own = _names(row.get("formerNamesText", ""))
        taken = took_in.get((level.value, row["code"]), [])
        former = list(dict.fromkeys([*own, *(n for n in taken if n != row["name"])]))
        start = starts.get((level.value, row["code"]))
        parent_level, parent_code = parent or (None, None)
        return (
            level.value,
            row["code"],
            row["name"],
            _type(level, row["type"]),
            row["nameWithType"],
            former,
            parent_level,
            parent_code,
            start,
            LEGACY_UNTIL,
        )

    for row in read("provinces-legacy.csv"):
        yield legacy(province, row, None)
    provinces = district_provinces()
    for row in {r["code"]: r for r in read("districts-legacy.csv")}.values():
        yield legacy(district, row, (province.value, provinces[row["code"]]))
    for row in read("communes-legacy.csv"):
        yield legacy(commune, row, (district.value, row["districtCode"]))
    for row in read("provinces-2025.csv"):
        yield (
            province.value,
            row["code"],
            row["name"],
            row["type"],
            row["nameWithType"],
            [],
            None,
            None,
            REFORM_ON,
            None,
        )
    for row in read("communes-2025.csv"):
        yield (
            commune.value,
            row["code"],
            row["name"],
            AdminType(row["type"]).value,
            row["nameWithType"],
            [],
            province.value,
            row["provinceCode"],
            REFORM_ON,
            None,
        )
    for row in retired:
        level = AdminLevel(row["level"])
        parent_level = province if level is district else district
        last_day = date.fromisoformat(row["effectiveOn"]) - timedelta(days=1)
        yield (
            level.value,
            row["code"],
            row["name"],
            AdminType(row["type"]).value,
            row["nameWithType"],
            [],
            parent_level.value,
            row["parentCode"],
            None,
            last_day,
        )


def successions() -> Iterator[SuccessionRow]:
    """Every succession of the files (and those derived from them), as staged."""
    before = LEGACY_UNTIL
    commune, district, province = (
        AdminLevel.commune.value,
        AdminLevel.district.value,
        AdminLevel.province.value,
    )
    received: dict[str, set[str]] = defaultdict(set)  # old province -> new provinces
    given: dict[str, set[str]] = defaultdict(set)  # new province -> old provinces
    # An old commune's province is its district's (see district_provinces), not the row's own.
    old_province = district_provinces()
    for row in read("conversion-2025.csv"):
        old = old_province[row["oldDistrictCode"]]
        received[old].add(row["newProvinceCode"])
        given[row["newProvinceCode"]].add(old)
        # Six rows convert a whole district that had no communes of its own in the lists.
        old_level, old_code = (
            (commune, row["oldWardCode"]) if row["oldWardCode"] else (district, row["oldDistrictCode"])
        )
        note = row["note"].strip()
        yield (
            old_level,
            old_code,
            before,
            commune,
            row["newWardCode"],
            REFORM_ON,
            REFORM_ON,
            kind_of(note).value,
            note,
        )
    for old, new_ones in sorted(received.items()):
        for new in sorted(new_ones):
            if len(new_ones) > 1:
                kind = SuccessionKind.part
            elif len(given[new]) == 1 and new == old:
                kind = SuccessionKind.unchanged
            else:
                kind = SuccessionKind.whole
            yield (province, old, before, province, new, REFORM_ON, REFORM_ON, kind.value, None)
    for row in read("changes-before-2025.csv"):
        if not row["successorCode"]:
            continue  # ended, the unit that took it in not recorded (SOURCES.md): no link
        on = date.fromisoformat(row["effectiveOn"])
        yield (
            row["level"],
            row["code"],
            on - timedelta(days=1),
            row["level"],
            row["successorCode"],
            on,
            on,
            SuccessionKind(row["kind"]).value,
            row["note"].strip() or None,  # none: no official sentence of its own (SOURCES.md)
        )


# The feed's name of the units, the fields of a unit as created (those of its create body, as a
# request's create event records them) and those a load brings up to date.
RESOURCE = "admin-units"
CREATED_FIELDS = (
    "code",
    "name",
    "level",
    "type",
    "name_with_type",
    "former_names",
    "parent_id",
    "valid_from",
    "valid_to",
)
UPDATED_FIELDS = ("name", "type", "name_with_type", "former_names", "valid_to", "parent_id")

# A unit of the stage matched with the stored unit of the same identity.
_SAME = "u.level = s.level AND u.code = s.code AND u.valid_from IS NOT DISTINCT FROM s.valid_from"


def _valid(alias: str, day: str) -> str:
    return (
        f"({alias}.valid_from IS NULL OR {alias}.valid_from <= {day}) "
        f"AND ({alias}.valid_to IS NULL OR {alias}.valid_to >= {day})"
    )


# The parent of a staged unit: the unit of the parent's level with the parent's code valid on
# the child's last day (its first when it has no end).
_PARENT = f"""
    LEFT JOIN admin_unit p ON p.level = s.parent_level AND p.code = s.parent_code
        AND {_valid("p", "coalesce(s.valid_to, s.valid_from, current_date)")}
"""


async def _stage(session: AsyncSession) -> asyncpg.Connection:
    """The transaction's asyncpg connection, with the files in two temporary tables."""
    raw = await (await session.connection()).get_raw_connection()
    conn = cast(asyncpg.Connection, raw.driver_connection)
    await conn.execute(
        """
        CREATE TEMPORARY TABLE stage_unit (
            level text, code text, name text, type text, name_with_type text, former_names text[],
            parent_level text, parent_code text, valid_from date, valid_to date
        ) ON COMMIT DROP;
        CREATE TEMPORARY TABLE stage_succession (
            old_level text, old_code text, old_on date, new_level text, new_code text, new_on date,
            effective_on date, kind text, note text
        ) ON COMMIT DROP;
        """
    )
    await conn.copy_records_to_table("stage_unit", records=list(units()), columns=UNIT_COLUMNS)
    await conn.copy_records_to_table(
        "stage_succession", records=list(successions()), columns=SUCCESSION_COLUMNS
    )
    await conn.execute("ANALYZE stage_unit; ANALYZE stage_succession")
    return conn


async def _check_stage(conn: asyncpg.Connection) -> None:
    repeated = await conn.fetch(
        "SELECT level, code, valid_from FROM stage_unit GROUP BY 1, 2, 3 HAVING count(*) > 1 LIMIT 5"
    )
    if repeated:
        raise GazetteerError(f"units repeated in the files: {[tuple(r) for r in repeated]}")


async def _write_units(conn: asyncpg.Connection, actor: str) -> tuple[int, int, int]:
    added = changed = 0
    # Level by level, so that a unit's parent is in before the unit; within a level, the units
    # already stored first (an earlier load, or records made by hand with the same identity): a
    # unit whose period the files now end earlier (13711 Mỹ Hà, until 2025-06-30 in a database
    # loaded before its 2024 change was recorded, until 2024-08-31 now) makes room for the unit
    # that takes over its code.
    for level in AdminLevel:
        update = f"""
            UPDATE admin_unit u
            SET name = t.name, type = t.type, name_with_type = t.name_with_type,
                former_names = t.former_names, valid_to = t.valid_to, parent_id = t.parent_id,
                version = u.version + 1, updated_at = now()
            FROM admin_unit old, (
                SELECT s.*, p.id AS parent_id FROM stage_unit s {_PARENT} WHERE s.level = $1
            ) t
            WHERE u.level = t.level AND u.code = t.code AND u.valid_from IS NOT DISTINCT FROM t.valid_from
              AND (u.name, u.type, u.name_with_type, u.former_names, u.valid_to, u.parent_id)
                  IS DISTINCT FROM (t.name, t.type, t.name_with_type, t.former_names, t.valid_to, t.parent_id)
              AND old.id = u.id
            RETURNING u.id, u.version, {", ".join(f"u.{f}, old.{f} AS old_{f}" for f in UPDATED_FIELDS)}
            """
        status = await conn.execute(
            audited(update, AuditAction.update, RESOURCE, UPDATED_FIELDS, "$2::text"), level.value, actor
        )
        changed += int(status.split()[-1])
        insert = f"""
            INSERT INTO admin_unit (level, code, name, type, name_with_type, former_names,
                                    parent_id, valid_from, valid_to)
            SELECT s.level, s.code, s.name, s.type, s.name_with_type, s.former_names, p.id,
                   s.valid_from, s.valid_to
            FROM stage_unit s {_PARENT}
            WHERE s.level = $1 AND NOT EXISTS (SELECT FROM admin_unit u WHERE {_SAME})
            -- Ids in a fixed order (earliest period first, then by code): the same on every new database.
            ORDER BY s.valid_from NULLS FIRST, s.code
            RETURNING id, version, {", ".join(CREATED_FIELDS)}
            """
        status = await conn.execute(
            audited(insert, AuditAction.create, RESOURCE, CREATED_FIELDS, "$2::text"), level.value, actor
        )
        added += int(status.split()[-1])
    total = await conn.fetchval("SELECT count(*) FROM stage_unit")
    # Every staged unit that names a parent must have found it.
    orphans = await conn.fetch(
        f"""
        SELECT s.level, s.code, s.parent_code FROM stage_unit s {_PARENT}
        WHERE s.parent_code IS NOT NULL AND p.id IS NULL LIMIT 5
        """
    )
    if orphans:
        raise GazetteerError(f"units whose parent is not in the gazetteer: {[tuple(r) for r in orphans]}")
    return added, changed, total - added - changed


async def _write_successions(conn: asyncpg.Connection) -> tuple[int, int, int]:
    unresolved = await conn.fetch(
        f"""
        SELECT s.old_level, s.old_code, s.new_code FROM stage_succession s
        WHERE NOT EXISTS (SELECT FROM admin_unit o WHERE o.level = s.old_level AND o.code = s.old_code
                          AND {_valid("o", "s.old_on")})
           OR NOT EXISTS (SELECT FROM admin_unit n WHERE n.level = s.new_level AND n.code = s.new_code
                          AND {_valid("n", "s.new_on")})
        LIMIT 5
        """
    )
    if unresolved:
        raise GazetteerError(
            f"successions naming units not in the gazetteer: {[tuple(r) for r in unresolved]}"
        )
    # Each staged link with the ids of the units it names.
    await conn.execute(
        f"""
        CREATE TEMPORARY TABLE stage_link ON COMMIT DROP AS
        SELECT o.id AS predecessor_id, n.id AS successor_id, s.effective_on, s.kind, s.note,
               s.old_level, s.old_code, s.new_level, s.new_code
        FROM stage_succession s
        JOIN admin_unit o ON o.level = s.old_level AND o.code = s.old_code AND {_valid("o", "s.old_on")}
        JOIN admin_unit n ON n.level = s.new_level AND n.code = s.new_code AND {_valid("n", "s.new_on")};
        CREATE INDEX ON stage_link (predecessor_id, successor_id, effective_on);
        ANALYZE stage_link;
        """
    )
    # A link stored by an earlier load between other periods of the same codes (13711 Mỹ Hà →
    # 13693 Lộc Hòa on 2025-07-01: from 13711's only period then, from its second now) is moved to
    # the units it names now, keeping its id; a second such copy, or one whose right twin is
    # already stored, goes. A link the files still name is never touched.
    stale = """
        SELECT a.id, r.predecessor_id, r.successor_id,
               row_number() OVER (PARTITION BY r.predecessor_id, r.successor_id, r.effective_on
                                  ORDER BY a.id) AS nth,
               EXISTS (SELECT FROM admin_unit_succession b WHERE b.predecessor_id = r.predecessor_id
                       AND b.successor_id = r.successor_id AND b.effective_on = r.effective_on) AS twin
        FROM stage_link r
        JOIN admin_unit o ON o.level = r.old_level AND o.code = r.old_code
        JOIN admin_unit_succession a ON a.predecessor_id = o.id AND a.effective_on = r.effective_on
        JOIN admin_unit n ON n.id = a.successor_id AND n.level = r.new_level AND n.code = r.new_code
        WHERE (a.predecessor_id, a.successor_id) <> (r.predecessor_id, r.successor_id)
          AND NOT EXISTS (SELECT FROM stage_link k WHERE k.predecessor_id = a.predecessor_id
                          AND k.successor_id = a.successor_id AND k.effective_on = a.effective_on)
    """
    gone = await conn.execute(
        f"DELETE FROM admin_unit_succession a USING ({stale}) x WHERE a.id = x.id AND (x.twin OR x.nth > 1)"
    )
    moved = await conn.execute(
        f"""
        UPDATE admin_unit_succession a SET predecessor_id = x.predecessor_id, successor_id = x.successor_id
        FROM ({stale}) x WHERE a.id = x.id
        """
    )
    relinked, dropped = int(moved.split()[-1]), int(gone.split()[-1])
    status = await conn.execute(
        """
        INSERT INTO admin_unit_succession (predecessor_id, successor_id, effective_on, kind, note)
        SELECT predecessor_id, successor_id, effective_on, kind, note FROM stage_link
        ON CONFLICT (predecessor_id, successor_id, effective_on) DO NOTHING
        """
    )
    added = int(status.split()[-1])
    status = await conn.execute(
        """
        UPDATE admin_unit_succession a SET kind = r.kind, note = r.note
        FROM stage_link r
        WHERE a.predecessor_id = r.predecessor_id AND a.successor_id = r.successor_id
          AND a.effective_on = r.effective_on AND (a.kind, a.note) IS DISTINCT FROM (r.kind, r.note)
        """
    )
    changed = int(status.split()[-1]) + relinked
    total = await conn.fetchval("SELECT count(*) FROM stage_succession")
    # A copy dropped is a change too, though no staged link is counted for it.
    return added, changed + dropped, total - added - changed


async def load_gazetteer(session: AsyncSession, actor: str | None = None) -> Report:
    """Add or bring up to date every unit and succession of the files, in the session's
    transaction; the audit events of the units name `actor` (by default the system user)."""
    await session.execute(select(func.pg_advisory_xact_lock(LOCK_KEY)))
    conn = await _stage(session)
    await _check_stage(conn)
    units_added, units_changed, units_kept = await _write_units(conn, actor or command_line_name())
    successions_added, successions_changed, successions_kept = await _write_successions(conn)
    written = []
    if units_added or units_changed:
        written.append("admin_unit")
    if successions_added or successions_changed:
        written.append("admin_unit_succession")
    if written:
        await session.execute(versioning.bump(written))
    await session.execute(text("DROP TABLE stage_unit, stage_succession, stage_link"))
    return Report(
        units_added, units_changed, units_kept, successions_added, successions_changed, successions_kept
    )


async def load_places(url: str) -> Report:
    """`python -m app places load`: the gazetteer in one transaction of its own."""
    engine = create_async_engine(async_url(url), poolclass=NullPool)
    try:
        async with AsyncSession(engine, autoflush=False) as session, session.begin():
            return await load_gazetteer(session)
    finally:
        await engine.dispose()
