"""What the generic tests must know of co-operatives (tests/factories.ResourceFacts)."""

from __future__ import annotations

from tests.factories import JSON, Places, ResourceFacts


def valid_body(at: Places, n: int) -> JSON:
    return {"name": f"HTX thử {n}", "sector": "sedge", "district_id": at.district_id}


FACTS = ResourceFacts(
    path="cooperatives",
    admins_only=False,
    valid_body=valid_body,
    change=("members", 7),
    other_value=8,
    second_change={"founded_on": "2010-01-01"},
    total_after_create=1,
    required={"name", "sector"},  # and a place: commune_id, district_id or province_id
    not_null=["name", "sector", "other_commune_ids", "legal_form", "status"],
    only_made="sector=sedge",
    sortable="""charter_capital_vnd commune_id created_at district_id dissolved_on founded_on id
        legal_form members name province_id registration_code sector status updated_at""",
    text_field="name",
    integer_field="members",
    money_field="charter_capital_vnd",
)
