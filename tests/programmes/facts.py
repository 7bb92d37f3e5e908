"""What the generic tests must know of programmes (tests/factories.ResourceFacts)."""

from __future__ import annotations

from typing import Any

from tests.factories import JSON, Places, ResourceFacts, programme_body


def valid_body(at: Places, n: int) -> JSON:
    return programme_body(f"Đề án thử {n}")


def funding_line(amount: Any) -> JSON:
    """The money of a programme is on its funding lines."""
    return {"funding": [{"source": "central", "amount_vnd": amount}]}


FACTS = ResourceFacts(
    path="programmes",
    admins_only=False,
    valid_body=valid_body,
    change=("status", "completed"),
    other_value="cancelled",
    second_change={"implementer": "Trung tâm Khuyến công"},
    total_after_create=1,
    required={"name", "kind", "activity", "year"},
    not_null=["name", "kind", "activity", "year", "status", "funding", "beneficiaries"],
    only_made="kind=industrial_extension",
    sortable="activity created_at id kind name status updated_at year",
    text_field="description",
    integer_field="year",
    money_field="funding",
    money_line=funding_line,
)
