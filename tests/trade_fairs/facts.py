"""What the generic tests must know of trade fairs (tests/factories.ResourceFacts)."""

from __future__ import annotations

from tests.factories import JSON, Places, ResourceFacts, fair_body


def valid_body(at: Places, n: int) -> JSON:
    return fair_body(f"Hội chợ thử {n}")


FACTS = ResourceFacts(
    path="trade-fairs",
    admins_only=False,
    valid_body=valid_body,
    change=("standard_booths", 320),
    other_value=330,
    second_change={"visitors": 10_000},
    total_after_create=1,
    required={"name", "kind", "start_on", "end_on"},
    not_null=["name", "kind", "start_on", "end_on", "country", "participants"],
    only_made="kind=hosted",
    sortable="""contract_value_vnd country created_at end_on exhibitors id kind name province
        sales_vnd standard_booths start_on updated_at visitors""",
    text_field="venue",
    integer_field="visitors",
    money_field="sales_vnd",
)
