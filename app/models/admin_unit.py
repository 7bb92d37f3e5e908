"""Administrative units: provinces, districts and communes, each valid for a period."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.labels import LabelledEnum
from app.models.base import Record, not_blank, one_of, rule, search_column, sort_column, unique


class AdminLevel(LabelledEnum):
    province = "province", "Tỉnh, thành phố trực thuộc trung ương", "Province"
    district = "district", "Huyện, quận, thị xã, thành phố thuộc tỉnh", "District"
    commune = "commune", "Xã, phường, thị trấn", "Commune"


class AdminUnit(Record):
    __tablename__ = "admin_unit"

    code: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    level: Mapped[str] = mapped_column(Text)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("admin_unit.id", ondelete="RESTRICT"), index=True
    )
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    search_text: Mapped[str] = search_column("name || ' ' || code")
    name_sort: Mapped[str] = sort_column("name")

    parent: Mapped[AdminUnit | None] = relationship(remote_side="AdminUnit.id", lazy="raise")

    __table_args__ = (
        one_of("level", AdminLevel),
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
        unique(
            "code",
            "valid_from",
            postgresql_nulls_not_distinct=True,
            message="an administrative unit with this code and valid_from exists",
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
