"""How village figures are imported from a spreadsheet (POST /api/v1/imports?resource=village-figures).

Natural key: the village and the year. The village by `village_id` (with `village_name`, as the
export writes them, the name must be that village's), or by `village_name` with `commune_code`
(a commune valid in the figures' year that is the village's commune_id or one of its
other_commune_ids) or `district_code` (a district valid that year). Upsert updates the figures of
the same village and year; the columns absent from the file keep their values.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.i18n import tr
from app.kit.import_places import COMMUNE_CODE
from app.kit.importing import ImportRow, ImportSpec, KeyPart, Rows, check_village_ids, driver, padded
from app.models import AdminLevel
from app.spreadsheets.columns import Column
from app.village_figures.resource import VILLAGE_FIGURES

DISTRICT_CODE = Column("district_code", "text", vi="Huyện (mã)", en="District (code)")

# The villages of each distinct (level, code, name), with the period of the unit that places them:
# the year is matched in Python, so 100 years of one village cost one key, not 100.
_BY_PLACE = """
SELECT k.i, v.id, u.valid_from, u.valid_to
FROM unnest($1::int[], $2::text[], $3::text[], $4::text[]) AS k(i, level, code, name)
JOIN admin_unit u ON u.level = k.level AND u.code = k.code
JOIN village v ON v.name = k.name
     AND (v.commune_id = u.id OR u.id = ANY (v.other_commune_ids) OR v.district_id = u.id)
"""


async def _resolve(session: AsyncSession, rows: Rows) -> None:
    conn = await driver(session)
    rows.given.add("village_id")
    await check_village_ids(conn, rows)
    await _by_place(conn, rows)


async def _by_place(conn: Any, rows: Rows) -> None:
    """Villages given by name and the code of their commune or district in the figures' year."""
    wanted: list[tuple[int, str, str, int, str]] = []
    for index, row in enumerate(rows.rows):
        if row.bad or row.values.get("village_id") is not None:
            continue
        year, name = row.values.get("year"), rows.text(row, "village_name")
        place = _place(rows, row)
        if place is None or name is None or not isinstance(year, int):
            if not row.bad:
                rows.add(
                    row,
                    "village_name",
                    tr("give village_id, or village_name with commune_code or district_code"),
                )
            continue
        wanted.append((index, place[0], place[1], year, name))
    if not wanted:
        return
    keys = sorted({(level, code, name) for _, level, code, _, name in wanted})
    numbered = {key: n for n, key in enumerate(keys)}
    found = await conn.fetch(_BY_PLACE, list(range(len(keys))), *map(list, zip(*keys, strict=True)))
    candidates: dict[int, list[tuple[int, date | None, date | None]]] = {}
    for n, village_id, start, end in found:
        candidates.setdefault(n, []).append((village_id, start, end))
    for index, level, code, year, name in wanted:
        row = rows.rows[index]
        first, last = date(year, 1, 1), date(year, 12, 31)
        ids = sorted(
            {
                village_id
                for village_id, start, end in candidates.get(numbered[(level, code, name)], [])
                if (start is None or start <= last) and (end is None or end >= first)
            }
        )
        if len(ids) == 1:
            row.values["village_id"] = ids[0]
        elif not ids:
            rows.add(
                row,
                "village_name",
                tr("no village {name} in the unit {code} in {year}", name=name, code=code, year=year),
            )
        else:
            rows.add(
                row,
                "village_name",
                tr(
                    "several villages {name} in the unit {code} (ids {ids}): give village_id",
                    name=name,
                    code=code,
                    ids=", ".join(map(str, ids)),
                ),
            )


def _place(rows: Rows, row: ImportRow) -> tuple[str, str] | None:
    for column, level in (
        ("commune_code", AdminLevel.commune.value),
        ("commune_unit_code", AdminLevel.commune.value),
        ("district_code", AdminLevel.district.value),
    ):
        if rows.has(column):
            code = rows.text(row, column)
            if code is not None:
                return level, padded(code, level)
    return None


VILLAGE_FIGURES_IMPORT = ImportSpec(
    resource=VILLAGE_FIGURES,
    key=(
        KeyPart("t.village_id", "bigint", lambda v: v.get("village_id")),
        KeyPart("t.year", "integer", lambda v: v.get("year")),
    ),
    key_columns=("year",),
    key_description=tr("village and year"),
    required=(
        (
            ("village_id",),
            ("village_name", "commune_code"),
            ("village_name", "commune_unit_code"),
            ("village_name", "district_code"),
        ),
        (("year",),),
    ),
    extra_columns=(
        COMMUNE_CODE,
        Column("commune_unit_code", "text", vi="Xã (mã)", en="Commune (code)"),
        DISTRICT_CODE,
    ),
    resolve=_resolve,
    rule_columns={"ck_village_figure_year_placed": "year"},
)
