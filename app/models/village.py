"""Craft villages (làng nghề) and villages with a craft."""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Double,
    ForeignKey,
    Index,
    Integer,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.labels import LabelledEnum
from app.models.admin_unit import PLACE_RULES, AdminUnit
from app.models.base import (
    ESTABLISHED_YEAR_MIN,
    Record,
    not_blank,
    not_negative,
    one_of,
    rule,
    search_column,
    sort_column,
    trigger_rules,
    year_range,
)


class CraftGroup(LabelledEnum):
    agro_processing = (
        "agro_processing",
        "Chế biến, bảo quản nông, lâm, thủy sản",
        "Processing and preserving farm, forest and aquatic products",
    )
    handicraft = "handicraft", "Sản xuất hàng thủ công mỹ nghệ", "Fine-art handicrafts"
    material_processing = (
        "material_processing",
        "Xử lý, chế biến nguyên vật liệu phục vụ sản xuất ngành nghề nông thôn",
        "Processing raw materials for rural industries",
    )
    manufacturing = (
        "manufacturing",
        "Sản xuất đồ gỗ, mây tre đan, gốm sứ, thủy tinh, dệt may, sợi, thêu ren, đan lát, cơ khí nhỏ",
        "Wood, rattan-bamboo, ceramics, glass, textiles, embroidery, small mechanical goods",
    )
    ornamental = "ornamental", "Sản xuất, kinh doanh sinh vật cảnh", "Ornamental plants and animals"
    salt = "salt", "Sản xuất muối", "Salt production"
    rural_services = (
        "rural_services",
        "Các dịch vụ phục vụ sản xuất, đời sống dân cư nông thôn",
        "Services for rural production and life",
    )


class VillageStatus(LabelledEnum):
    unrecognised = "unrecognised", "Làng có nghề (chưa công nhận)", "Village with a craft, not recognised"
    craft_village = "craft_village", "Làng nghề", "Recognised craft village"
    traditional_craft_village = (
        "traditional_craft_village",
        "Làng nghề truyền thống",
        "Recognised traditional craft village",
    )


class Village(Record):
    __tablename__ = "village"

    name: Mapped[str] = mapped_column(Text)
    # The commune's name as reported (the source's spelling); the place itself is commune_id.
    commune: Mapped[str | None] = mapped_column(Text)
    # The commune as recorded: a unit of level commune valid when the figures were taken. District
    # and province are derived from it by the trigger place_record() (migration 0008), or from the
    # district when there is no commune.
    commune_id: Mapped[int | None] = mapped_column(ForeignKey("admin_unit.id", ondelete="RESTRICT"))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("admin_unit.id", ondelete="RESTRICT"))
    province_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id", ondelete="RESTRICT"))
    # The village's communes at other dates (before a change; the part of a split commune it went
    # to); no two of these and commune_id valid on one day.
    other_commune_ids: Mapped[list[int]] = mapped_column(
        ARRAY(BigInteger), server_default=text("'{}'::bigint[]"), nullable=False
    )
    craft_group: Mapped[str] = mapped_column(Text)
    crafts: Mapped[list[str]] = mapped_column(
        ARRAY(Text), server_default=text("'{}'::text[]"), nullable=False
    )
    status: Mapped[str] = mapped_column(Text, server_default=text("'unrecognised'"))
    recognition_decision: Mapped[str | None] = mapped_column(Text)
    recognised_on: Mapped[date | None] = mapped_column(Date)
    revoked_on: Mapped[date | None] = mapped_column(Date)
    established_year: Mapped[int | None] = mapped_column(Integer)
    households_total: Mapped[int | None] = mapped_column(Integer)
    households_participating: Mapped[int | None] = mapped_column(Integer)
    has_environment_plan: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    on_polluted_list: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    latitude: Mapped[float | None] = mapped_column(Double)
    longitude: Mapped[float | None] = mapped_column(Double)
    is_illustrative: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    notes: Mapped[str | None] = mapped_column(Text)
    search_text: Mapped[str] = search_column("name || ' ' || coalesce(commune, '') || ' ' || f_words(crafts)")
    name_sort: Mapped[str] = sort_column("name")

    district: Mapped[AdminUnit | None] = relationship(lazy="raise", foreign_keys=[district_id])
    province: Mapped[AdminUnit] = relationship(lazy="raise", foreign_keys=[province_id])
    commune_unit: Mapped[AdminUnit | None] = relationship(lazy="raise", foreign_keys=[commune_id])

    __table_args__ = (
        one_of("craft_group", CraftGroup),
        one_of("status", VillageStatus),
        not_blank("name"),
        *not_negative("households_total", "households_participating"),
        rule(
            "households_participating <= households_total",
            "participating_le_total",
            "households_participating must not exceed households_total",
        ),
        year_range("established_year", ESTABLISHED_YEAR_MIN),
        CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude_range"),
        rule(
            "(latitude IS NULL) = (longitude IS NULL)",
            "coordinates_paired",
            "latitude and longitude must be given together",
        ),
        rule(
            "revoked_on >= recognised_on",
            "revoked_after_recognised",
            "revoked_on must not be before recognised_on",
        ),
        rule(
            "status = 'unrecognised' OR recognised_on IS NOT NULL",
            "recognised_has_date",
            "a recognised village needs recognised_on",
        ),
        Index("ix_village_commune_id", "commune_id"),
        Index("ix_village_district_id", "district_id"),
        Index("ix_village_province_id", "province_id"),
        Index("ix_village_other_commune_ids", "other_commune_ids", postgresql_using="gin"),
        Index("ix_village_craft_group", "craft_group"),
        Index("ix_village_status", "status"),
        Index("ix_village_established_year", "established_year"),
        Index("ix_village_recognised_on", "recognised_on"),
        Index("ix_village_households_total", "households_total"),
        Index("ix_village_name_sort", "name_sort"),
        # Map viewports (the bbox filter): point(longitude, latitude) <@ box.
        Index("ix_village_location", text("point(longitude, latitude)"), postgresql_using="gist"),
        Index("ix_village_crafts", "crafts", postgresql_using="gin"),
        Index(
            "ix_village_search_text",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
        trigger_rules(
            "village",
            **PLACE_RULES,
            figures_placed=(
                "every year the village has figures for needs one of its communes (commune_id or "
                "other_commune_ids) valid that year"
            ),
        ),
    )
