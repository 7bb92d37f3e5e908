"""Rural-industry co-operatives (hợp tác xã), unions and groups."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, Integer, Text, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.labels import LabelledEnum
from app.models.admin_unit import PLACE_RULES, AdminUnit
from app.models.base import (
    Record,
    not_blank,
    not_negative,
    one_of,
    rule,
    search_column,
    sort_column,
    trigger_rules,
    unique,
)
from app.models.village import Village


class LegalForm(LabelledEnum):
    cooperative = "cooperative", "Hợp tác xã", "Co-operative"
    cooperative_union = "cooperative_union", "Liên hiệp hợp tác xã", "Co-operative union"
    cooperative_group = "cooperative_group", "Tổ hợp tác", "Co-operative group"


class CooperativeSector(LabelledEnum):
    textile_garment = "textile_garment", "Dệt may", "Textiles and garments"
    mechanical = "mechanical", "Cơ khí", "Mechanical engineering"
    wood_processing = "wood_processing", "Chế biến gỗ", "Wood processing"
    chemicals = "chemicals", "Sản xuất hóa chất", "Chemicals"
    clean_water = "clean_water", "Nước sạch", "Clean water"
    sedge = "sedge", "Cói", "Sedge"
    agro_processing = "agro_processing", "Chế biến nông sản", "Farm-produce processing"
    handicraft = "handicraft", "Thủ công mỹ nghệ", "Handicrafts"
    other = "other", "Khác", "Other"


class CooperativeStatus(LabelledEnum):
    active = "active", "Đang hoạt động", "Active"
    suspended = "suspended", "Tạm ngừng hoạt động", "Suspended"
    dissolved = "dissolved", "Đã giải thể", "Dissolved"


class Cooperative(Record):
    __tablename__ = "cooperative"

    name: Mapped[str] = mapped_column(Text)
    registration_code: Mapped[str | None] = mapped_column(Text)
    legal_form: Mapped[str] = mapped_column(Text, server_default=text("'cooperative'"))
    sector: Mapped[str] = mapped_column(Text)
    # The commune as recorded (valid on founded_on), or only the district or the province; the
    # units above are derived by the trigger place_record() (migration 0008).
    commune_id: Mapped[int | None] = mapped_column(ForeignKey("admin_unit.id", ondelete="RESTRICT"))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("admin_unit.id", ondelete="RESTRICT"))
    province_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id", ondelete="RESTRICT"))
    other_commune_ids: Mapped[list[int]] = mapped_column(
        ARRAY(BigInteger), server_default=text("'{}'::bigint[]"), nullable=False
    )
    village_id: Mapped[int | None] = mapped_column(ForeignKey("village.id", ondelete="RESTRICT"))
    members: Mapped[int | None] = mapped_column(Integer)
    charter_capital_vnd: Mapped[int | None] = mapped_column(BigInteger)
    founded_on: Mapped[date | None] = mapped_column(Date)
    dissolved_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(Text, server_default=text("'active'"))
    search_text: Mapped[str] = search_column("name || ' ' || coalesce(registration_code, '')")
    name_sort: Mapped[str] = sort_column("name")

    district: Mapped[AdminUnit | None] = relationship(lazy="raise", foreign_keys=[district_id])
    province: Mapped[AdminUnit] = relationship(lazy="raise", foreign_keys=[province_id])
    commune_unit: Mapped[AdminUnit | None] = relationship(lazy="raise", foreign_keys=[commune_id])
    village: Mapped[Village | None] = relationship(lazy="raise")

    __table_args__ = (
        unique("registration_code", message="a co-operative with this registration_code exists"),
        one_of("legal_form", LegalForm),
        one_of("sector", CooperativeSector),
        one_of("status", CooperativeStatus),
        not_blank("name"),
        CheckConstraint("btrim(registration_code) <> ''", name="registration_code_not_blank"),
        *not_negative("members", "charter_capital_vnd"),
        rule(
            "dissolved_on >= founded_on",
            "dissolved_after_founded",
            "dissolved_on must not be before founded_on",
        ),
        Index("ix_cooperative_commune_id", "commune_id"),
        Index("ix_cooperative_district_id", "district_id"),
        Index("ix_cooperative_province_id", "province_id"),
        Index("ix_cooperative_other_commune_ids", "other_commune_ids", postgresql_using="gin"),
        Index("ix_cooperative_village_id", "village_id"),
        Index("ix_cooperative_sector", "sector"),
        Index("ix_cooperative_legal_form", "legal_form"),
        Index("ix_cooperative_status", "status"),
        Index("ix_cooperative_founded_on", "founded_on"),
        Index("ix_cooperative_members", "members"),
        Index("ix_cooperative_name_sort", "name_sort"),
        Index(
            "ix_cooperative_search_text",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
        trigger_rules(
            "cooperative",
            **PLACE_RULES,
            founding_placed="the co-operative needs one of its communes valid on founded_on",
        ),
    )
