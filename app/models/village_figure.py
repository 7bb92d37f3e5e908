"""A village's figures for one year: households, workers, production value, income."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.labels import LabelledEnum
from app.models.base import Record, not_negative, one_of, trigger_rules, unique, year_range
from app.models.village import Village


class FigureQualifier(LabelledEnum):
    exact = "exact", "Chính xác", "Exact"
    approximate = "approximate", "Khoảng", "Approximate"
    at_least = "at_least", "Trên", "At least"


class VillageFigure(Record):
    __tablename__ = "village_figure"

    village_id: Mapped[int] = mapped_column(ForeignKey("village.id", ondelete="RESTRICT"))
    year: Mapped[int] = mapped_column(Integer)
    households: Mapped[int | None] = mapped_column(Integer)
    workers: Mapped[int | None] = mapped_column(Integer)
    production_value_vnd: Mapped[int | None] = mapped_column(BigInteger)
    average_income_vnd: Mapped[int | None] = mapped_column(BigInteger)
    qualifier: Mapped[str] = mapped_column(Text, server_default=text("'exact'"))

    village: Mapped[Village] = relationship(lazy="raise")

    __table_args__ = (
        unique("village_id", "year", message="this village already has figures for this year"),
        year_range("year"),
        one_of("qualifier", FigureQualifier),
        *not_negative("households", "workers", "production_value_vnd", "average_income_vnd"),
        Index("ix_village_figure_year", "year"),
        Index("ix_village_figure_workers", "workers"),
        Index("ix_village_figure_production_value_vnd", "production_value_vnd"),
        trigger_rules(
            "village_figure",
            year_placed="the village has no commune (commune_id or other_commune_ids) valid in this year",
        ),
    )
