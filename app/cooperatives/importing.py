"""How co-operatives are imported from a spreadsheet (POST /api/v1/imports?resource=cooperatives).

Natural key: the registration code (a row without one is always a new co-operative). The place as
for villages (a unit by id or statistical code); the village by `village_id` (with
`village_name`, as the export writes them, the name must be that village's), or by
`village_name` alone: the village of that name in the co-operative's commune, else its district.
Upsert updates the co-operative with the same registration code; the columns absent from the file
keep their values.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.cooperatives.resource import COOPERATIVES
from app.core.i18n import tr
from app.kit.import_places import COMMUNE_CODE, PLACE_REQUIRED, PLACE_UNITS, place_rule_columns
from app.kit.importing import ImportSpec, KeyPart, Rows, check_village_ids, driver, resolve_units

_BY_NAME = """
SELECT k.i, array_agg(v.id ORDER BY v.id) AS ids
FROM unnest($1::int[], $2::text[], $3::bigint[], $4::bigint[]) AS k(i, name, commune_id, district_id)
JOIN village v ON v.name = k.name
     AND (v.commune_id = k.commune_id OR (k.commune_id IS NULL AND v.district_id = k.district_id))
GROUP BY k.i
"""


async def _resolve(session: AsyncSession, rows: Rows) -> None:
    await resolve_units(session, rows, PLACE_UNITS)
    if not rows.has("village_id") and not rows.has("village_name"):
        return
    rows.given.add("village_id")
    conn = await driver(session)
    await check_village_ids(conn, rows)
    wanted: list[tuple[int, str, int | None, int | None]] = []
    if rows.has("village_name"):
        for index, row in enumerate(rows.rows):
            name = rows.text(row, "village_name")
            if row.values.get("village_id") is None and name is not None and not row.bad:
                wanted.append((index, name, row.values.get("commune_id"), row.values.get("district_id")))
    if not wanted:
        return
    matches = dict(await conn.fetch(_BY_NAME, *map(list, zip(*wanted, strict=True))))
    for index, name, _, _ in wanted:
        row = rows.rows[index]
        villages = matches.get(index, [])
        if len(villages) == 1:
            row.values["village_id"] = villages[0]
        else:
            rows.add(
                row,
                "village_name",
                tr("no village {name} in its commune or district", name=name)
                if not villages
                else tr(
                    "several villages {name} in its commune or district (ids {ids}): give village_id",
                    name=name,
                    ids=", ".join(map(str, villages)),
                ),
            )


COOPERATIVES_IMPORT = ImportSpec(
    resource=COOPERATIVES,
    key=(KeyPart("t.registration_code", "text", lambda v: v.get("registration_code")),),
    key_columns=("registration_code",),
    key_description=tr("registration code"),
    required=((("name",),), (("sector",),), PLACE_REQUIRED),
    extra_columns=(COMMUNE_CODE,),
    resolve=_resolve,
    rule_columns={**place_rule_columns("cooperative"), "ck_cooperative_founding_placed": "founded_on"},
)
