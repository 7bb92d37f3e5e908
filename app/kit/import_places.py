"""The import declarations' shared parts for placed records: the place columns and their rules."""

from __future__ import annotations

from app.kit.importing import UnitField
from app.models import AdminLevel
from app.spreadsheets.columns import Column

# A unit by id (the export's columns) or by statistical code (the export's <x>_code columns, or
# commune_code as people name it).
PLACE_UNITS = (
    UnitField("commune_id", AdminLevel.commune.value, ("commune_unit_code", "commune_code")),
    UnitField("district_id", AdminLevel.district.value, ("district_code",)),
    UnitField("province_id", AdminLevel.province.value, ("province_code",)),
)
PLACE_REQUIRED = (
    ("commune_id",),
    ("commune_unit_code",),
    ("commune_code",),
    ("district_id",),
    ("district_code",),
    ("province_id",),
    ("province_code",),
)
COMMUNE_CODE = Column("commune_code", "text", vi="Mã xã", en="Commune code")


def place_rule_columns(table: str) -> dict[str, str]:
    """The column each place rule of the table's trigger (migration 0008) is reported in."""
    return {
        f"ck_{table}_commune_level": "commune_id",
        f"ck_{table}_district_level": "district_id",
        f"ck_{table}_province_level": "province_id",
        f"ck_{table}_placed": "commune_id",
        f"ck_{table}_parents_agree": "district_id",
        f"ck_{table}_other_communes_valid": "other_commune_ids",
        f"ck_{table}_others_need_commune": "other_commune_ids",
        f"ck_{table}_communes_apart": "other_commune_ids",
    }
