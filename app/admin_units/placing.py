"""Placing recorded villages and co-operatives in the gazetteer's communes, and the report of
those left unplaced: `python -m app places match` and `python -m app places unplaced`.

Migration 0008 placed the records it found (its own frozen copy of this SQL). A fresh database
gets its gazetteer after the migrations, and a later gazetteer can give a record's district the
communes it lacked (Mỹ Lộc's, split off Nam Định city before 2024-09-01), so the matching can be
run again at any time: it only sets the commune of a record that has none, and brings the derived
district and province of the placed ones up to date with their commune's parents. Running it
twice changes nothing.

- A village's commune is the one commune of its district whose name or name with type is the
  village's commune text, ignoring case and tone marks, valid in every year the village has
  figures for. No match, or several, leaves the village as it is.
- A co-operative takes the commune of its village when that village is in the same district and
  the commune existed on the co-operative's founded_on.

Each record it changes gets a new version (its ETag changes) and an audit event of the command
line, written by the same statement (app.kit.audit.audited), so the changes feed and the webhooks
see the change like any other; the tables' data versions are bumped like any write's.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from app.core.settings import async_url
from app.kit import versioning
from app.kit.audit import AuditAction, audited, command_line_name

# Serialises two runs (either could find a record unplaced): any fixed number.
LOCK_KEY = 2_025_070_108


# Names compared ignoring case and marks (f_unaccent drops the vowels' marks too, so Trực Hùng and
# Trực Hưng compare equal), and as written, which settles such a tie.
def _name(column: str) -> str:
    return f"lower(f_unaccent(btrim({column})))"


def _exact(column: str) -> str:
    return f"lower(normalize(btrim({column}), NFC))"


def _valid(unit: str, first: str, last: str) -> str:
    """The unit exists on some day of [first, last] (an unknown start or end is open)."""
    return (
        f"(({unit}.valid_from IS NULL OR {unit}.valid_from <= {last})"
        f" AND ({unit}.valid_to IS NULL OR {unit}.valid_to >= {first}))"
    )


# What a placing changes: the commune, and the district and province derived from it (the trigger
# place_record()). Each UPDATE returns them as they were (old_*) and are, for the audit events.
PLACE_FIELDS = ("commune_id", "district_id", "province_id")


def _returning(alias: str) -> str:
    olds = ", ".join(f"old.{f} AS old_{f}" for f in PLACE_FIELDS)
    news = ", ".join(f"{alias}.{f}" for f in PLACE_FIELDS)
    return f"RETURNING {alias}.id, {alias}.version, {news}, {olds}"


MATCH_VILLAGES = f"""
UPDATE village v SET commune_id = m.commune_id, version = v.version + 1, updated_at = now()
FROM village old, (
    SELECT w.id,
           CASE WHEN count(*) FILTER (WHERE c.exact) = 1 THEN min(c.id) FILTER (WHERE c.exact)
                WHEN count(*) FILTER (WHERE c.exact) = 0 AND count(*) = 1 THEN min(c.id) END AS commune_id
    FROM village w
    JOIN LATERAL (
        SELECT c.id, c.valid_from, c.valid_to,
               {_exact("w.commune")} IN ({_exact("c.name")}, {_exact("c.name_with_type")}) AS exact
        FROM admin_unit c
        WHERE c.parent_id = w.district_id AND c.level = 'commune'
          AND {_name("w.commune")} IN ({_name("c.name")}, {_name("c.name_with_type")})
    ) c ON true
    WHERE w.commune_id IS NULL AND w.district_id IS NOT NULL
      AND NOT EXISTS (
          SELECT FROM village_figure f
          WHERE f.village_id = w.id
            AND NOT {_valid("c", "make_date(f.year, 1, 1)", "make_date(f.year, 12, 31)")})
    GROUP BY w.id
) m
WHERE v.id = m.id AND m.commune_id IS NOT NULL AND old.id = v.id
{_returning("v")}
"""

MATCH_COOPERATIVES = f"""
UPDATE cooperative o SET commune_id = v.commune_id, version = o.version + 1, updated_at = now()
FROM cooperative old, village v, admin_unit c
WHERE o.commune_id IS NULL AND v.id = o.village_id AND v.district_id = o.district_id
  AND c.id = v.commune_id
  AND (o.founded_on IS NULL OR {_valid("c", "o.founded_on", "o.founded_on")})
  AND old.id = o.id
{_returning("o")}
"""


def _rederive(table: str) -> str:
    """Placed records whose district or province is no longer their commune's parents (the
    gazetteer changed): written again, so that the trigger place_record() derives them afresh."""
    return f"""
UPDATE {table} r SET commune_id = r.commune_id, version = r.version + 1, updated_at = now()
FROM {table} old, admin_unit c JOIN admin_unit p ON p.id = c.parent_id
WHERE c.id = r.commune_id
  AND (CASE WHEN p.level = 'district' THEN (p.id, p.parent_id) ELSE (NULL::bigint, p.id) END)
      IS DISTINCT FROM (r.district_id, r.province_id)
  AND old.id = r.id
{_returning("r")}
"""


UNPLACED = """
SELECT 'village' AS "table", v.id, v.name, v.commune, d.code AS district
FROM village v LEFT JOIN admin_unit d ON d.id = v.district_id
WHERE v.commune_id IS NULL
UNION ALL
SELECT 'cooperative', o.id, o.name, NULL, d.code
FROM cooperative o LEFT JOIN admin_unit d ON d.id = o.district_id
WHERE o.commune_id IS NULL
ORDER BY 1 DESC, 2
"""


@dataclass(frozen=True)
class Unplaced:
    """A record without a commune: it stays in its district (or province)."""

    table: str
    id: int
    name: str
    commune: str | None  # as reported (villages only)
    district: str | None  # the district's code

    def __str__(self) -> str:
        return (
            f"not placed: {self.table} {self.id} {self.name!r}, commune {self.commune!r}, "
            f"district {self.district}"
        )


@dataclass(frozen=True)
class Matched:
    villages: int
    cooperatives: int
    rederived: int
    unplaced: list[Unplaced]

    def __str__(self) -> str:
        return (
            f"places: {self.villages} villages and {self.cooperatives} co-operatives placed in their "
            f"communes, {self.rederived} brought up to date with their commune's parents; "
            f"{len(self.unplaced)} records without a commune"
        )


async def unplaced(session: AsyncSession) -> list[Unplaced]:
    rows = await session.execute(text(UNPLACED))
    return [Unplaced(*row) for row in rows.all()]


# The feed's name of each table's records.
RESOURCES = {"village": "villages", "cooperative": "cooperatives"}


async def _write(session: AsyncSession, table: str, statement: str, actor: str) -> int:
    """Run an UPDATE of `table` with an audit event per record it changes, in one statement;
    the number of records it changed."""
    sql = audited(statement, AuditAction.update, RESOURCES[table], PLACE_FIELDS, "CAST(:actor AS text)")
    result = await session.execute(text(sql), {"actor": actor})
    return int(result.rowcount)  # type: ignore[attr-defined]


async def match(session: AsyncSession, actor: str | None = None) -> Matched:
    """Place what can be placed, in the session's transaction; the audit events name `actor`
    (by default the system user running the command)."""
    who = actor or command_line_name()
    await session.execute(select(func.pg_advisory_xact_lock(LOCK_KEY)))
    rederived = {table: await _write(session, table, _rederive(table), who) for table in RESOURCES}
    villages = await _write(session, "village", MATCH_VILLAGES, who)
    cooperatives = await _write(session, "cooperative", MATCH_COOPERATIVES, who)
    written = [
        table
        for table, placed in (("village", villages), ("cooperative", cooperatives))
        if placed or rederived[table]
    ]
    if written:
        await session.execute(versioning.bump(written))
    return Matched(villages, cooperatives, sum(rederived.values()), await unplaced(session))


async def run(url: str, action: str, *, as_json: bool = False) -> str:
    """`python -m app places match|unplaced`: the report, one line per record left unplaced
    (or a JSON document with --json)."""
    engine = create_async_engine(async_url(url), poolclass=NullPool)
    try:
        async with AsyncSession(engine, autoflush=False) as session, session.begin():
            if action == "match":
                result = await match(session)
                left, summary = result.unplaced, str(result)
            else:
                left = await unplaced(session)
                summary = f"places: {len(left)} records without a commune"
    finally:
        await engine.dispose()
    if as_json:
        document: dict[str, object] = {"unplaced": [asdict(u) for u in left]}
        if action == "match":
            document |= {
                "placed": {"villages": result.villages, "cooperatives": result.cooperatives},
                "rederived": result.rederived,
            }
        return json.dumps(document, ensure_ascii=False, indent=2)
    return "\n".join([summary, *map(str, left)])
