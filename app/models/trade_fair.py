"""Trade fairs the province hosts or takes businesses to, and their participants."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, Integer, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.labels import LabelledEnum
from app.models.base import (
    YEAR_MAX,
    YEAR_MIN,
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
from app.models.programme import Programme


class FairKind(LabelledEnum):
    hosted = "hosted", "Hội chợ do tỉnh tổ chức", "Hosted in the province"
    attended = "attended", "Hội chợ trong nước tham gia", "Attended elsewhere in Viet Nam"
    overseas = "overseas", "Hội chợ nước ngoài", "Overseas"
    trade_conference = "trade_conference", "Hội nghị xúc tiến, kết nối giao thương", "Trade conference"


class TradeFair(Record):
    __tablename__ = "trade_fair"

    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    organiser: Mapped[str | None] = mapped_column(Text)
    venue: Mapped[str | None] = mapped_column(Text)
    city: Mapped[str | None] = mapped_column(Text)
    province: Mapped[str | None] = mapped_column(Text)
    country: Mapped[str] = mapped_column(Text, server_default=text("'VN'"))
    start_on: Mapped[date] = mapped_column(Date)
    end_on: Mapped[date] = mapped_column(Date)
    standard_booths: Mapped[int | None] = mapped_column(Integer)
    exhibitors: Mapped[int | None] = mapped_column(Integer)
    visitors: Mapped[int | None] = mapped_column(Integer)
    contracts_signed: Mapped[int | None] = mapped_column(Integer)
    contract_value_vnd: Mapped[int | None] = mapped_column(BigInteger)
    sales_vnd: Mapped[int | None] = mapped_column(BigInteger)
    cost_vnd: Mapped[int | None] = mapped_column(BigInteger)
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programme.id", ondelete="RESTRICT"))
    # The province whose Department of Industry and Trade recorded it (hosted the fair, or took
    # businesses to it); a unit of level province (trigger department_province_level, migration 0008)
    # that exists on a day of the fair (ck_trade_fair_department_province_on_dates, migration 0012).
    department_province_id: Mapped[int | None] = mapped_column(
        ForeignKey("admin_unit.id", ondelete="RESTRICT")
    )
    search_text: Mapped[str] = search_column(
        "name || ' ' || coalesce(organiser, '') || ' ' || coalesce(venue, '') || ' '"
        " || coalesce(city, '') || ' ' || coalesce(province, '')"
    )
    name_sort: Mapped[str] = sort_column("name")

    programme: Mapped[Programme | None] = relationship(lazy="raise")
    participants: Mapped[list[TradeFairParticipant]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="TradeFairParticipant.id"
    )

    __table_args__ = (
        one_of("kind", FairKind),
        not_blank("name"),
        CheckConstraint("country ~ '^[A-Z]{2}$'", name="country_iso_alpha2"),
        rule("end_on >= start_on", "end_after_start", "end_on must not be before start_on"),
        rule(
            "(kind = 'overseas') = (country <> 'VN') OR kind = 'trade_conference'",
            "country_matches_kind",
            "an overseas fair is abroad; hosted and attended fairs are in VN",
        ),
        CheckConstraint(
            f"start_on BETWEEN DATE '{YEAR_MIN}-01-01' AND DATE '{YEAR_MAX}-12-31'",
            name="start_on_range",
        ),
        *not_negative(
            "standard_booths",
            "exhibitors",
            "visitors",
            "contracts_signed",
            "contract_value_vnd",
            "sales_vnd",
            "cost_vnd",
        ),
        Index("ix_trade_fair_kind", "kind"),
        Index("ix_trade_fair_start_on", "start_on"),
        Index("ix_trade_fair_country", "country"),
        Index("ix_trade_fair_province", "province"),
        Index("ix_trade_fair_programme_id", "programme_id"),
        Index("ix_trade_fair_name_sort", "name_sort"),
        Index("ix_trade_fair_department_province_id", "department_province_id"),
        Index(
            "ix_trade_fair_search_text",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
        trigger_rules(
            "trade_fair",
            department_province_level=(
                "department_province_id must be an administrative unit of level province"
            ),
            department_province_on_dates=(
                "department_province_id must be a province that exists on a day of the fair"
            ),
        ),
    )


class TradeFairParticipant(Record):
    __tablename__ = "trade_fair_participant"

    trade_fair_id: Mapped[int] = mapped_column(ForeignKey("trade_fair.id", ondelete="CASCADE"))
    village_id: Mapped[int | None] = mapped_column(ForeignKey("village.id", ondelete="RESTRICT"))
    cooperative_id: Mapped[int | None] = mapped_column(ForeignKey("cooperative.id", ondelete="RESTRICT"))
    booths: Mapped[int] = mapped_column(Integer, server_default=text("1"))

    __table_args__ = (
        CheckConstraint("num_nonnulls(village_id, cooperative_id) = 1", name="one_participant"),
        unique("trade_fair_id", "village_id", message="a village is listed twice"),
        unique("trade_fair_id", "cooperative_id", message="a co-operative is listed twice"),
        *not_negative("booths"),
        Index("ix_trade_fair_participant_village_id", "village_id"),
        Index("ix_trade_fair_participant_cooperative_id", "cooperative_id"),
    )
