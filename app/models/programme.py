"""Industrial-extension (khuyến công) and trade-promotion programmes, their funding lines and
beneficiaries."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.labels import LabelledEnum
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
    year_range,
)


class ProgrammeKind(LabelledEnum):
    industrial_extension = "industrial_extension", "Khuyến công", "Industrial extension"
    trade_promotion = "trade_promotion", "Xúc tiến thương mại", "Trade promotion"


class ExtensionActivity(LabelledEnum):
    vocational_training = "vocational_training", "Đào tạo nghề, truyền nghề", "Vocational training"
    management_and_startup = (
        "management_and_startup",
        "Nâng cao năng lực quản lý, khởi sự doanh nghiệp",
        "Management capacity and business start-up",
    )
    demonstration_model = (
        "demonstration_model",
        "Xây dựng mô hình trình diễn kỹ thuật, chuyển giao công nghệ, ứng dụng máy móc",
        "Technical demonstration models, technology transfer, machinery",
    )
    new_products_and_branding = (
        "new_products_and_branding",
        "Phát triển sản phẩm mới, sản phẩm tiêu biểu, thương hiệu",
        "New and signature products, branding",
    )
    consulting = "consulting", "Tư vấn", "Consulting"
    information = "information", "Thông tin tuyên truyền", "Information and outreach"
    linkage_and_environment = (
        "linkage_and_environment",
        "Liên kết, cụm công nghiệp, xử lý môi trường",
        "Linkage, industrial clusters, environmental treatment",
    )
    international_cooperation = "international_cooperation", "Hợp tác quốc tế", "International co-operation"
    extension_capacity = "extension_capacity", "Nâng cao năng lực khuyến công", "Extension capacity building"
    digital_and_sustainable = (
        "digital_and_sustainable",
        "Chuyển đổi số, sản xuất bền vững",
        "Digital transformation, sustainable production",
    )


class PromotionActivity(LabelledEnum):
    fair_participation = (
        "fair_participation",
        "Tham gia hội chợ, triển lãm ngoài tỉnh",
        "Taking businesses to fairs elsewhere",
    )
    fair_hosting = "fair_hosting", "Tổ chức hội chợ, triển lãm trong tỉnh", "Hosting a fair in the province"
    trade_conference = "trade_conference", "Hội nghị kết nối giao thương", "Trade-linkage conference"
    market_information = "market_information", "Thông tin thị trường", "Market information"
    other = "other", "Khác", "Other"


class ProgrammeActivity(LabelledEnum):
    """Every activity code of either kind; which codes a kind allows is ACTIVITIES_BY_KIND."""

    vocational_training = ExtensionActivity.vocational_training.spec
    management_and_startup = ExtensionActivity.management_and_startup.spec
    demonstration_model = ExtensionActivity.demonstration_model.spec
    new_products_and_branding = ExtensionActivity.new_products_and_branding.spec
    consulting = ExtensionActivity.consulting.spec
    information = ExtensionActivity.information.spec
    linkage_and_environment = ExtensionActivity.linkage_and_environment.spec
    international_cooperation = ExtensionActivity.international_cooperation.spec
    extension_capacity = ExtensionActivity.extension_capacity.spec
    digital_and_sustainable = ExtensionActivity.digital_and_sustainable.spec
    fair_participation = PromotionActivity.fair_participation.spec
    fair_hosting = PromotionActivity.fair_hosting.spec
    trade_conference = PromotionActivity.trade_conference.spec
    market_information = PromotionActivity.market_information.spec
    other = PromotionActivity.other.spec


class ProgrammeStatus(LabelledEnum):
    planned = "planned", "Kế hoạch", "Planned"
    approved = "approved", "Đã phê duyệt", "Approved"
    in_progress = "in_progress", "Đang thực hiện", "In progress"
    completed = "completed", "Đã hoàn thành", "Completed"
    cancelled = "cancelled", "Đã hủy", "Cancelled"


class FundingSource(LabelledEnum):
    central = "central", "Ngân sách trung ương", "Central budget"
    provincial = "provincial", "Ngân sách tỉnh", "Provincial budget"
    district = "district", "Ngân sách huyện", "District budget"
    commune = "commune", "Ngân sách xã", "Commune budget"
    counterpart = "counterpart", "Vốn đối ứng", "Counterpart funds"
    other = "other", "Nguồn khác", "Other sources"


ACTIVITIES_BY_KIND: dict[ProgrammeKind, frozenset[str]] = {
    ProgrammeKind.industrial_extension: frozenset(a.value for a in ExtensionActivity),
    ProgrammeKind.trade_promotion: frozenset(a.value for a in PromotionActivity),
}

# "Support" is public money: the four budget levels. Counterpart funds are reported apart.
PUBLIC_FUNDING_SOURCES: frozenset[str] = frozenset(
    {FundingSource.central, FundingSource.provincial, FundingSource.district, FundingSource.commune}
)


def _activity_matches_kind() -> CheckConstraint:
    clauses = []
    for kind in ProgrammeKind:
        values = ", ".join(f"'{a}'" for a in sorted(ACTIVITIES_BY_KIND[kind]))
        clauses.append(f"(kind = '{kind.value}' AND activity IN ({values}))")
    return rule(
        " OR ".join(clauses), "activity_matches_kind", "activity is not one of the activities of this kind"
    )


class Programme(Record):
    __tablename__ = "programme"

    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    activity: Mapped[str] = mapped_column(Text)
    year: Mapped[int] = mapped_column(Integer)
    implementer: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, server_default=text("'planned'"))
    # The province whose Department of Industry and Trade recorded it (ran the programme); a unit of level
    # province (trigger department_province_level, migration 0008) that exists in some part of the
    # year (constraint trigger ck_programme_department_province_in_year, migration 0012).
    department_province_id: Mapped[int | None] = mapped_column(
        ForeignKey("admin_unit.id", ondelete="RESTRICT")
    )
    search_text: Mapped[str] = search_column("name || ' ' || coalesce(implementer, '')")
    name_sort: Mapped[str] = sort_column("name")

    funding: Mapped[list[ProgrammeFunding]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="ProgrammeFunding.id"
    )
    beneficiaries: Mapped[list[ProgrammeBeneficiary]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="ProgrammeBeneficiary.id"
    )

    __table_args__ = (
        one_of("kind", ProgrammeKind),
        one_of("status", ProgrammeStatus),
        _activity_matches_kind(),
        not_blank("name"),
        year_range("year"),
        Index("ix_programme_year", "year"),
        Index("ix_programme_kind", "kind"),
        Index("ix_programme_activity", "activity"),
        Index("ix_programme_status", "status"),
        Index("ix_programme_name_sort", "name_sort"),
        Index("ix_programme_department_province_id", "department_province_id"),
        Index(
            "ix_programme_search_text",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
        trigger_rules(
            "programme",
            department_province_level=(
                "department_province_id must be an administrative unit of level province"
            ),
            department_province_in_year=(
                "department_province_id must be a province that exists in some part of the programme's year"
            ),
        ),
    )


class ProgrammeFunding(Record):
    __tablename__ = "programme_funding"

    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(Text)
    amount_vnd: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        one_of("source", FundingSource),
        *not_negative("amount_vnd"),
        Index("ix_programme_funding_programme_id", "programme_id"),
        Index("ix_programme_funding_source", "source"),
    )


class ProgrammeBeneficiary(Record):
    __tablename__ = "programme_beneficiary"

    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id", ondelete="CASCADE"))
    village_id: Mapped[int | None] = mapped_column(ForeignKey("village.id", ondelete="RESTRICT"))
    cooperative_id: Mapped[int | None] = mapped_column(ForeignKey("cooperative.id", ondelete="RESTRICT"))

    __table_args__ = (
        CheckConstraint("num_nonnulls(village_id, cooperative_id) = 1", name="one_beneficiary"),
        unique("programme_id", "village_id", message="a village is listed twice"),
        unique("programme_id", "cooperative_id", message="a co-operative is listed twice"),
        Index("ix_programme_beneficiary_village_id", "village_id"),
        Index("ix_programme_beneficiary_cooperative_id", "cooperative_id"),
    )
