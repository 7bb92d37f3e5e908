"""Enumerations of the domain, with their Vietnamese and English labels (see shared/domain.md)."""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple


class Label(NamedTuple):
    vi: str
    en: str


class LabelledEnum(StrEnum):
    """A string enumeration whose members carry a Vietnamese and an English label."""

    @classmethod
    def labels(cls) -> dict[str, Label]:
        return _LABELS[cls.__name__]

    @property
    def vi(self) -> str:
        return _LABELS[type(self).__name__][self.value].vi

    @property
    def en(self) -> str:
        return _LABELS[type(self).__name__][self.value].en


class AdminLevel(LabelledEnum):
    province = "province"
    district = "district"
    commune = "commune"


class CraftGroup(LabelledEnum):
    agro_processing = "agro_processing"
    handicraft = "handicraft"
    material_processing = "material_processing"
    manufacturing = "manufacturing"
    ornamental = "ornamental"
    salt = "salt"
    rural_services = "rural_services"


class VillageStatus(LabelledEnum):
    unrecognised = "unrecognised"
    craft_village = "craft_village"
    traditional_craft_village = "traditional_craft_village"


class FigureQualifier(LabelledEnum):
    exact = "exact"
    approximate = "approximate"
    at_least = "at_least"


class LegalForm(LabelledEnum):
    cooperative = "cooperative"
    cooperative_union = "cooperative_union"
    cooperative_group = "cooperative_group"


class CooperativeSector(LabelledEnum):
    textile_garment = "textile_garment"
    mechanical = "mechanical"
    wood_processing = "wood_processing"
    chemicals = "chemicals"
    clean_water = "clean_water"
    sedge = "sedge"
    agro_processing = "agro_processing"
    handicraft = "handicraft"
    other = "other"


class CooperativeStatus(LabelledEnum):
    active = "active"
    suspended = "suspended"
    dissolved = "dissolved"


class ProgrammeKind(LabelledEnum):
    industrial_extension = "industrial_extension"
    trade_promotion = "trade_promotion"


class ExtensionActivity(LabelledEnum):
    vocational_training = "vocational_training"
    management_and_startup = "management_and_startup"
    demonstration_model = "demonstration_model"
    new_products_and_branding = "new_products_and_branding"
    consulting = "consulting"
    information = "information"
    linkage_and_environment = "linkage_and_environment"
    international_cooperation = "international_cooperation"
    extension_capacity = "extension_capacity"
    digital_and_sustainable = "digital_and_sustainable"


class PromotionActivity(LabelledEnum):
    fair_participation = "fair_participation"
    fair_hosting = "fair_hosting"
    trade_conference = "trade_conference"
    market_information = "market_information"
    other = "other"


class ProgrammeActivity(LabelledEnum):
    """Every activity code of either kind; which codes a kind allows is ACTIVITIES_BY_KIND."""

    vocational_training = "vocational_training"
    management_and_startup = "management_and_startup"
    demonstration_model = "demonstration_model"
    new_products_and_branding = "new_products_and_branding"
    consulting = "consulting"
    information = "information"
    linkage_and_environment = "linkage_and_environment"
    international_cooperation = "international_cooperation"
    extension_capacity = "extension_capacity"
    digital_and_sustainable = "digital_and_sustainable"
    fair_participation = "fair_participation"
    fair_hosting = "fair_hosting"
    trade_conference = "trade_conference"
    market_information = "market_information"
    other = "other"


class ProgrammeStatus(LabelledEnum):
    planned = "planned"
    approved = "approved"
    in_progress = "in_progress"
    completed = "completed"
    cancelled = "cancelled"


class FundingSource(LabelledEnum):
    central = "central"
    provincial = "provincial"
    district = "district"
    commune = "commune"
    counterpart = "counterpart"
    other = "other"


class FairKind(LabelledEnum):
    hosted = "hosted"
    attended = "attended"
    overseas = "overseas"
    trade_conference = "trade_conference"


class Role(LabelledEnum):
    editor = "editor"
    admin = "admin"


ACTIVITIES_BY_KIND: dict[ProgrammeKind, frozenset[str]] = {
    ProgrammeKind.industrial_extension: frozenset(a.value for a in ExtensionActivity),
    ProgrammeKind.trade_promotion: frozenset(a.value for a in PromotionActivity),
}

# "Support" is public money: the four budget levels. Counterpart funds are reported apart.
PUBLIC_FUNDING_SOURCES: frozenset[str] = frozenset(
    {FundingSource.central, FundingSource.provincial, FundingSource.district, FundingSource.commune}
)

_LABELS: dict[str, dict[str, Label]] = {
    "AdminLevel": {
        "province": Label("Tỉnh, thành phố trực thuộc trung ương", "Province"),
        "district": Label("Huyện, quận, thị xã, thành phố thuộc tỉnh", "District"),
        "commune": Label("Xã, phường, thị trấn", "Commune"),
    },
    "CraftGroup": {
        "agro_processing": Label(
            "Chế biến, bảo quản nông, lâm, thủy sản",
            "Processing and preserving farm, forest and aquatic products",
        ),
        "handicraft": Label("Sản xuất hàng thủ công mỹ nghệ", "Fine-art handicrafts"),
        "material_processing": Label(
            "Xử lý, chế biến nguyên vật liệu phục vụ sản xuất ngành nghề nông thôn",
            "Processing raw materials for rural industries",
        ),
        "manufacturing": Label(
            "Sản xuất đồ gỗ, mây tre đan, gốm sứ, thủy tinh, dệt may, sợi, thêu ren, đan lát, cơ khí nhỏ",
            "Wood, rattan-bamboo, ceramics, glass, textiles, embroidery, small mechanical goods",
        ),
        "ornamental": Label("Sản xuất, kinh doanh sinh vật cảnh", "Ornamental plants and animals"),
        "salt": Label("Sản xuất muối", "Salt production"),
        "rural_services": Label(
            "Các dịch vụ phục vụ sản xuất, đời sống dân cư nông thôn",
            "Services for rural production and life",
        ),
    },
    "VillageStatus": {
        "unrecognised": Label("Làng có nghề (chưa công nhận)", "Village with a craft, not recognised"),
        "craft_village": Label("Làng nghề", "Recognised craft village"),
        "traditional_craft_village": Label("Làng nghề truyền thống", "Recognised traditional craft village"),
    },
    "FigureQualifier": {
        "exact": Label("Chính xác", "Exact"),
        "approximate": Label("Khoảng", "Approximate"),
        "at_least": Label("Trên", "At least"),
    },
    "LegalForm": {
        "cooperative": Label("Hợp tác xã", "Co-operative"),
        "cooperative_union": Label("Liên hiệp hợp tác xã", "Co-operative union"),
        "cooperative_group": Label("Tổ hợp tác", "Co-operative group"),
    },
    "CooperativeSector": {
        "textile_garment": Label("Dệt may", "Textiles and garments"),
        "mechanical": Label("Cơ khí", "Mechanical engineering"),
        "wood_processing": Label("Chế biến gỗ", "Wood processing"),
        "chemicals": Label("Sản xuất hóa chất", "Chemicals"),
        "clean_water": Label("Nước sạch", "Clean water"),
        "sedge": Label("Cói", "Sedge"),
        "agro_processing": Label("Chế biến nông sản", "Farm-produce processing"),
        "handicraft": Label("Thủ công mỹ nghệ", "Handicrafts"),
        "other": Label("Khác", "Other"),
    },
    "CooperativeStatus": {
        "active": Label("Đang hoạt động", "Active"),
        "suspended": Label("Tạm ngừng hoạt động", "Suspended"),
        "dissolved": Label("Đã giải thể", "Dissolved"),
    },
    "ProgrammeKind": {
        "industrial_extension": Label("Khuyến công", "Industrial extension"),
        "trade_promotion": Label("Xúc tiến thương mại", "Trade promotion"),
    },
    "ExtensionActivity": {
        "vocational_training": Label("Đào tạo nghề, truyền nghề", "Vocational training"),
        "management_and_startup": Label(
            "Nâng cao năng lực quản lý, khởi sự doanh nghiệp",
            "Management capacity and business start-up",
        ),
        "demonstration_model": Label(
            "Xây dựng mô hình trình diễn kỹ thuật, chuyển giao công nghệ, ứng dụng máy móc",
            "Technical demonstration models, technology transfer, machinery",
        ),
        "new_products_and_branding": Label(
            "Phát triển sản phẩm mới, sản phẩm tiêu biểu, thương hiệu",
            "New and signature products, branding",
        ),
        "consulting": Label("Tư vấn", "Consulting"),
        "information": Label("Thông tin tuyên truyền", "Information and outreach"),
        "linkage_and_environment": Label(
            "Liên kết, cụm công nghiệp, xử lý môi trường",
            "Linkage, industrial clusters, environmental treatment",
        ),
        "international_cooperation": Label("Hợp tác quốc tế", "International co-operation"),
        "extension_capacity": Label("Nâng cao năng lực khuyến công", "Extension capacity building"),
        "digital_and_sustainable": Label(
            "Chuyển đổi số, sản xuất bền vững", "Digital transformation, sustainable production"
        ),
    },
    "PromotionActivity": {
        "fair_participation": Label(
            "Tham gia hội chợ, triển lãm ngoài tỉnh", "Taking businesses to fairs elsewhere"
        ),
        "fair_hosting": Label("Tổ chức hội chợ, triển lãm trong tỉnh", "Hosting a fair in the province"),
        "trade_conference": Label("Hội nghị kết nối giao thương", "Trade-linkage conference"),
        "market_information": Label("Thông tin thị trường", "Market information"),
        "other": Label("Khác", "Other"),
    },
    "ProgrammeStatus": {
        "planned": Label("Kế hoạch", "Planned"),
        "approved": Label("Đã phê duyệt", "Approved"),
        "in_progress": Label("Đang thực hiện", "In progress"),
        "completed": Label("Đã hoàn thành", "Completed"),
        "cancelled": Label("Đã hủy", "Cancelled"),
    },
    "FundingSource": {
        "central": Label("Ngân sách trung ương", "Central budget"),
        "provincial": Label("Ngân sách tỉnh", "Provincial budget"),
        "district": Label("Ngân sách huyện", "District budget"),
        "commune": Label("Ngân sách xã", "Commune budget"),
        "counterpart": Label("Vốn đối ứng", "Counterpart funds"),
        "other": Label("Nguồn khác", "Other sources"),
    },
    "Role": {
        "editor": Label("Biên tập viên", "Editor: creates, changes and deletes records"),
        "admin": Label("Quản trị viên", "Administrator: also manages accounts and keys"),
    },
    "FairKind": {
        "hosted": Label("Hội chợ do tỉnh tổ chức", "Hosted in the province"),
        "attended": Label("Hội chợ trong nước tham gia", "Attended elsewhere in Viet Nam"),
        "overseas": Label("Hội chợ nước ngoài", "Overseas"),
        "trade_conference": Label("Hội nghị xúc tiến, kết nối giao thương", "Trade conference"),
    },
}

_LABELS["ProgrammeActivity"] = {**_LABELS["ExtensionActivity"], **_LABELS["PromotionActivity"]}

# The enumerations published by GET /api/v1/meta/enums, under these names.
PUBLISHED: dict[str, type[LabelledEnum]] = {
    "admin_level": AdminLevel,
    "craft_group": CraftGroup,
    "village_status": VillageStatus,
    "figure_qualifier": FigureQualifier,
    "legal_form": LegalForm,
    "cooperative_sector": CooperativeSector,
    "cooperative_status": CooperativeStatus,
    "programme_kind": ProgrammeKind,
    "extension_activity": ExtensionActivity,
    "promotion_activity": PromotionActivity,
    "programme_status": ProgrammeStatus,
    "funding_source": FundingSource,
    "fair_kind": FairKind,
    "role": Role,
}


def codes(enum: type[LabelledEnum]) -> list[str]:
    """The codes of an enumeration, in declaration order."""
    return [m.value for m in enum]
