"""Administrative units: provinces, districts and communes, each valid for a period, and who
succeeded whom when the map changed.

A unit is identified by its level, code and validity, never by its name: a code can name
different places at different dates (13777 is Xã Thành Lợi until 2025-06-30 and Phường Trường
Thi from 2025-07-01), and two periods of one (level, code) never overlap.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import ARRAY, BigInteger, Date, ForeignKey, Identity, Index, Text, text
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.i18n import Text as Message
from app.core.labels import LabelledEnum
from app.models.base import Base, Record, not_blank, one_of, rule, search_column, sort_column, unique


class AdminLevel(LabelledEnum):
    province = "province", "Tỉnh, thành phố trực thuộc trung ương", "Province"
    district = "district", "Huyện, quận, thị xã, thành phố thuộc tỉnh", "District"
    commune = "commune", "Xã, phường, thị trấn, đặc khu", "Commune"


class AdminType(LabelledEnum):
    """The kind of unit within its level, as the official lists name it."""

    province = "province", "Tỉnh", "Province"
    city = "city", "Thành phố", "City"
    district = "district", "Huyện", "Rural district"
    urban_district = "urban_district", "Quận", "Urban district"
    town = "town", "Thị xã", "District-level town"
    commune = "commune", "Xã", "Commune"
    ward = "ward", "Phường", "Ward"
    township = "township", "Thị trấn", "Township"
    special_zone = "special_zone", "Đặc khu", "Special zone"


# Which types each level admits (a city is a province-level or a district-level one).
TYPES_BY_LEVEL: dict[AdminLevel, tuple[AdminType, ...]] = {
    AdminLevel.province: (AdminType.province, AdminType.city),
    AdminLevel.district: (AdminType.district, AdminType.urban_district, AdminType.town, AdminType.city),
    AdminLevel.commune: (AdminType.commune, AdminType.ward, AdminType.township, AdminType.special_zone),
}


class SuccessionKind(LabelledEnum):
    whole = "whole", "Nhập toàn bộ", "Merged whole"
    part = "part", "Nhập một phần", "Merged in part"
    renamed = "renamed", "Đổi tên, đổi loại hình", "Renamed or retyped"
    unchanged = "unchanged", "Giữ nguyên", "Unchanged"


# A statistical code's length says its level (what resolve and every code filter read): 2 digits
# a province, 3 a district, 5 a commune.
CODE_DIGITS: dict[AdminLevel, int] = {AdminLevel.province: 2, AdminLevel.district: 3, AdminLevel.commune: 5}


def _code_fits_level() -> str:
    known = ", ".join(f"'{level.value}'" for level in AdminLevel)
    fits = " OR ".join(
        f"(level = '{level.value}' AND code ~ '^[0-9]{{{digits}}}$')" for level, digits in CODE_DIGITS.items()
    )
    return f"level NOT IN ({known}) OR {fits}"


def _type_fits_level() -> str:
    fits = " OR ".join(
        f"(level = '{level.value}' AND type IN ({', '.join(repr(t.value) for t in types)}))"
        for level, types in TYPES_BY_LEVEL.items()
    )
    return f"type IS NULL OR {fits}"


class AdminUnit(Record):
    __tablename__ = "admin_unit"

    code: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    level: Mapped[str] = mapped_column(Text)
    type: Mapped[str | None] = mapped_column(Text)
    name_with_type: Mapped[str | None] = mapped_column(Text)
    # Names of units merged into this one earlier, kept so that a search by an old name finds it.
    former_names: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("admin_unit.id", ondelete="RESTRICT"), index=True
    )
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    search_text: Mapped[str] = search_column(
        "name || ' ' || code || ' ' || coalesce(name_with_type, '') || ' ' || f_words(former_names)"
    )
    name_sort: Mapped[str] = sort_column("name")

    parent: Mapped[AdminUnit | None] = relationship(remote_side="AdminUnit.id", lazy="raise")

    __table_args__ = (
        one_of("level", AdminLevel),
        rule(_type_fits_level(), "type_fits_level", "the type does not exist at this level"),
        rule(
            _code_fits_level(),
            "code_fits_level",
            "the code of a province has 2 digits, of a district 3, of a commune 5",
        ),
        rule(
            "level NOT IN ('district', 'commune') OR parent_id IS NOT NULL",
            "parent_given",
            "a district or a commune needs parent_id",
        ),
        not_blank("code"),
        not_blank("name"),
        rule(
            "valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from",
            "valid_period",
            "valid_to must not be before valid_from",
        ),
        rule(
            "parent_id IS NULL OR parent_id <> id",
            "not_own_parent",
            "an administrative unit cannot be its own parent",
        ),
        rule(
            "array_position(former_names, NULL) IS NULL",
            "former_names_not_null",
            "a former name cannot be null",
        ),
        unique(
            "level",
            "code",
            "valid_from",
            postgresql_nulls_not_distinct=True,
            message="an administrative unit with this level, code and valid_from exists",
        ),
        # An unknown start or end is open: the period reaches as far back or forward as it can.
        ExcludeConstraint(
            (text("level"), "="),
            (text("code"), "="),
            (text("daterange(valid_from, valid_to, '[]')"), "&&"),
            name="ex_admin_unit_period_overlap",
            using="gist",
            info={
                "message": Message(
                    "another administrative unit of this level has this code for part of the period", {}
                )
            },
        ),
        Index("ix_admin_unit_level", "level"),
        Index("ix_admin_unit_name_sort", "name_sort"),
        Index(
            "ix_admin_unit_search_text",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )


class AdminUnitSuccession(Base):
    """One unit became (whole or part of) another from a date on: the official conversion, as given."""

    __tablename__ = "admin_unit_succession"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    predecessor_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id", ondelete="RESTRICT"))
    successor_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id", ondelete="RESTRICT"), index=True)
    effective_on: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(Text)
    # The official wording ("Nhập một phần diện tích, toàn bộ dân số"), or none for a derived link.
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        one_of("kind", SuccessionKind),
        rule(
            "predecessor_id <> successor_id",
            "not_own_successor",
            "an administrative unit cannot succeed itself",
        ),
        rule("note IS NULL OR btrim(note) <> ''", "note_not_blank", "a note cannot be blank"),
        unique(
            "predecessor_id",
            "successor_id",
            "effective_on",
            name="uq_admin_unit_succession_link",
            message="this succession is already recorded",
        ),
    )


# The rules of a record placed in the gazetteer (a village, a co-operative), enforced by the
# trigger place_record() of migration 0008, which derives district_id and province_id upward from
# the most specific unit given.
PLACE_RULES = {
    "commune_level": "commune_id must be an administrative unit of level commune",
    "district_level": "district_id must be an administrative unit of level district",
    "province_level": "province_id must be an administrative unit of level province",
    "placed": "a record needs commune_id, district_id or province_id",
    "parents_agree": (
        "district_id and province_id must be those of the unit below them; "
        "leave them out to have them derived"
    ),
    "other_communes_valid": "other_commune_ids must be distinct communes other than commune_id",
    "others_need_commune": (
        "other_commune_ids needs commune_id: the commune as recorded, from which the district and "
        "province are derived"
    ),
    "communes_apart": "the periods of commune_id and of each of other_commune_ids must not overlap",
}
