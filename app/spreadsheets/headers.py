"""Column headers for people (`lang=vi|en`): the Vietnamese and English label of each field code.

Like the labels of the enumerations (app/core/labels.py), these are data, not messages. A column
made of a summary's field or of a funding source is labelled from its parts (`label()`); a test
checks that every column of every export has a label here.
"""

from __future__ import annotations

from app.core.labels import LabelledEnum
from app.spreadsheets.columns import Lang

LABELS: dict[str, tuple[str, str]] = {
    "id": ("Mã số", "ID"),
    "created_at": ("Thời điểm tạo (UTC)", "Created at (UTC)"),
    "updated_at": ("Thời điểm sửa (UTC)", "Updated at (UTC)"),
    "version": ("Phiên bản", "Version"),
    "name": ("Tên", "Name"),
    "code": ("Mã", "Code"),
    "level": ("Cấp", "Level"),
    "type": ("Loại đơn vị", "Unit type"),
    "name_with_type": ("Tên đầy đủ", "Full name"),
    "former_names": ("Tên cũ", "Former names"),
    "parent_id": ("Mã số đơn vị cấp trên", "Parent unit ID"),
    "parent": ("Đơn vị cấp trên", "Parent unit"),
    "valid_from": ("Hiệu lực từ", "Valid from"),
    "valid_to": ("Hiệu lực đến", "Valid to"),
    "commune": ("Xã", "Commune"),
    "commune_id": ("Mã số xã", "Commune ID"),
    "commune_unit": ("Xã", "Commune"),
    "district_id": ("Mã số huyện", "District ID"),
    "district": ("Huyện", "District"),
    "province_id": ("Mã số tỉnh", "Province ID"),
    "province": ("Tỉnh", "Province"),
    "other_commune_ids": ("Mã số các xã khác", "Other commune IDs"),
    "craft_group": ("Nhóm ngành nghề", "Craft group"),
    "crafts": ("Nghề", "Crafts"),
    "status": ("Tình trạng", "Status"),
    "recognition_decision": ("Quyết định công nhận", "Recognition decision"),
    "recognised_on": ("Ngày công nhận", "Recognised on"),
    "revoked_on": ("Ngày thu hồi", "Revoked on"),
    "established_year": ("Năm hình thành", "Year established"),
    "households_total": ("Tổng số hộ", "Households, total"),
    "households_participating": ("Số hộ làm nghề", "Households in the craft"),
    "has_environment_plan": ("Có phương án bảo vệ môi trường", "Has an environment plan"),
    "on_polluted_list": ("Trong danh sách ô nhiễm nghiêm trọng", "On the polluted list"),
    "latitude": ("Vĩ độ", "Latitude"),
    "longitude": ("Kinh độ", "Longitude"),
    "is_illustrative": ("Dữ liệu minh họa", "Illustrative"),
    "notes": ("Ghi chú", "Notes"),
    "village_id": ("Mã số làng", "Village ID"),
    "village": ("Làng", "Village"),
    "year": ("Năm", "Year"),
    "households": ("Số hộ", "Households"),
    "workers": ("Số lao động", "Workers"),
    "production_value_vnd": ("Giá trị sản xuất (đồng)", "Production value (VND)"),
    "average_income_vnd": ("Thu nhập bình quân (đồng)", "Average income (VND)"),
    "qualifier": ("Ghi chú số liệu", "Qualifier"),
    "registration_code": ("Mã số đăng ký", "Registration code"),
    "legal_form": ("Loại hình", "Legal form"),
    "sector": ("Lĩnh vực", "Sector"),
    "members": ("Số thành viên", "Members"),
    "charter_capital_vnd": ("Vốn điều lệ (đồng)", "Charter capital (VND)"),
    "founded_on": ("Ngày thành lập", "Founded on"),
    "dissolved_on": ("Ngày giải thể", "Dissolved on"),
    "kind": ("Loại", "Kind"),
    "activity": ("Hoạt động", "Activity"),
    "implementer": ("Đơn vị thực hiện", "Implementer"),
    "description": ("Mô tả", "Description"),
    "department_province_id": ("Mã số tỉnh của Sở", "Department's province ID"),
    "department_province": ("Tỉnh của Sở", "Department's province"),
    "funding": ("Kinh phí", "Funding"),
    "beneficiaries": ("Đối tượng thụ hưởng", "Beneficiaries"),
    "organiser": ("Đơn vị tổ chức", "Organiser"),
    "venue": ("Địa điểm", "Venue"),
    "city": ("Thành phố", "City"),
    "country": ("Quốc gia", "Country"),
    "start_on": ("Ngày bắt đầu", "Starts on"),
    "end_on": ("Ngày kết thúc", "Ends on"),
    "standard_booths": ("Số gian hàng tiêu chuẩn", "Standard booths"),
    "exhibitors": ("Số đơn vị tham gia", "Exhibitors"),
    "visitors": ("Số khách tham quan", "Visitors"),
    "contracts_signed": ("Số hợp đồng ký kết", "Contracts signed"),
    "contract_value_vnd": ("Giá trị hợp đồng (đồng)", "Contract value (VND)"),
    "sales_vnd": ("Doanh số bán hàng (đồng)", "Sales (VND)"),
    "cost_vnd": ("Chi phí (đồng)", "Cost (VND)"),
    "programme_id": ("Mã số chương trình", "Programme ID"),
    "programme": ("Chương trình", "Programme"),
    "participants": ("Đơn vị tham gia", "Participants"),
    # The statistics' dimensions and measures.
    "founded_year": ("Năm thành lập", "Year founded"),
    "funding_source": ("Nguồn kinh phí", "Funding source"),
    "villages": ("Số làng", "Villages"),
    "recognised": ("Số làng được công nhận", "Recognised"),
    "cooperatives": ("Số hợp tác xã", "Co-operatives"),
    "programmes": ("Số chương trình", "Programmes"),
    "support_vnd": ("Kinh phí hỗ trợ (đồng)", "Public support (VND)"),
    "counterpart_vnd": ("Kinh phí đối ứng (đồng)", "Counterpart funding (VND)"),
    "fairs": ("Số hội chợ", "Fairs"),
}
PARTS: dict[str, tuple[str, str]] = {"code": ("mã", "code"), "name": ("tên", "name")}
# The first cell of a statistic's totals row.
TOTAL: dict[Lang | None, str] = {None: "total", "vi": "Tổng cộng", "en": "Total"}


def label(code: str) -> tuple[str, str]:
    """(vi, en) of a field code; ("", "") when it has none."""
    return LABELS.get(code, ("", ""))


def part_label(owner: str, part: str) -> tuple[str, str]:
    """(vi, en) of a summary's field: `district_code` is "Huyện (mã)", "District (code)"."""
    vi, en = label(owner)
    part_vi, part_en = PARTS.get(part, (part, part))
    return (f"{vi} ({part_vi})", f"{en} ({part_en})") if vi else ("", "")


def pivot_label(owner: str, member: LabelledEnum) -> tuple[str, str]:
    """(vi, en) of a pivoted line: `funding_central_vnd` is "Kinh phí: Ngân sách trung ương (đồng)"."""
    vi, en = label(owner)
    return (f"{vi}: {member.vi} (đồng)", f"{en}: {member.en} (VND)") if vi else ("", "")


# The rows of an XLSX file's "about" sheet.
ABOUT: dict[str, tuple[str, str]] = {
    "source": ("Nguồn", "Source"),
    "query": ("Truy vấn", "Query"),
    "data_as_of": ("Dữ liệu tính đến (lần thay đổi cuối, UTC)", "Data as of (last change, UTC)"),
    "data_version": ("Phiên bản dữ liệu", "Data version"),
    "rows": ("Số dòng", "Rows"),
    "times": ("Thời gian", "Times"),
    "big_numbers": ("Số lớn ghi dạng chữ", "Large numbers written as text"),
}
ABOUT_NOTES: dict[str, tuple[str, str]] = {
    "times": (
        "Thời điểm (created_at, updated_at) theo giờ UTC.",
        "Moments (created_at, updated_at) are UTC.",
    ),
    "big_numbers": (
        "{count} ô chứa số nguyên lớn hơn 2^53 (9.007.199.254.740.992) được ghi dạng chữ để giữ chính xác: "
        "Excel chỉ giữ 15 chữ số.",
        "{count} cells hold whole numbers above 2^53 (9,007,199,254,740,992), written as text to stay "
        "exact: Excel keeps only 15 digits.",
    ),
}


def about_name(key: str, lang: Lang | None) -> str:
    vi, en = ABOUT[key]
    return vi if lang == "vi" else en


def about_note(key: str, lang: Lang | None, **values: object) -> str:
    vi, en = ABOUT_NOTES[key]
    return (vi if lang == "vi" else en).format(**values)
