"""How villages are imported from a spreadsheet (POST /api/v1/imports?resource=villages).

Natural key: the village's place and name. The place is its commune when it has one, else its
district, else its province (a unit by id, or by statistical code among the units valid on
`as_of` when the code named several); the name as written, NFC. Upsert updates a village with the
same key; the columns absent from the file keep their values.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.i18n import tr
from app.kit.import_places import COMMUNE_CODE, PLACE_REQUIRED, PLACE_UNITS, place_rule_columns
from app.kit.importing import ImportSpec, KeyPart, Rows, resolve_units
from app.villages.resource import VILLAGES


async def _resolve(session: AsyncSession, rows: Rows) -> None:
    await resolve_units(session, rows, PLACE_UNITS)


VILLAGES_IMPORT = ImportSpec(
    resource=VILLAGES,
    key=(
        KeyPart(
            "coalesce(t.commune_id, t.district_id, t.province_id)",
            "bigint",
            lambda v: v.get("commune_id") or v.get("district_id") or v.get("province_id"),
        ),
        KeyPart("t.name", "text", lambda v: v.get("name")),
    ),
    key_columns=("name",),
    key_description=tr("commune (or district, or province) and name"),
    required=((("name",),), (("craft_group",),), PLACE_REQUIRED),
    extra_columns=(COMMUNE_CODE,),
    resolve=_resolve,
    rule_columns={**place_rule_columns("village"), "ck_village_figures_placed": "commune_id"},
)
