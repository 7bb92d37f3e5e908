"""What the generic tests must know of administrative units (tests/factories.ResourceFacts)."""

from __future__ import annotations

from tests.factories import JSON, Places, ResourceFacts


def valid_body(at: Places, n: int) -> JSON:
    return {"code": f"9{n:04d}", "name": f"Xã thử {n}", "level": "commune", "parent_id": at.district_id}


FACTS = ResourceFacts(
    path="admin-units",
    admins_only=True,
    valid_body=valid_body,
    change=("name", "Xã Nam Giang"),
    other_value="Xã Nam Thanh",
    second_change={"code": "99999"},
    total_after_create=3,  # places() made a province and a district
    required={"code", "name", "level"},
    not_null=["code", "name", "level"],
    only_made="level=commune",
    sortable="code created_at id level name updated_at valid_from valid_to",
    text_field="name",
    integer_field="parent_id",
)
