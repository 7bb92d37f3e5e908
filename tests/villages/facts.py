"""What the generic tests must know of craft villages (tests/factories.ResourceFacts)."""

from __future__ import annotations

from tests.factories import JSON, Places, ResourceFacts, village_body


def valid_body(at: Places, n: int) -> JSON:
    return village_body(at.district_id, f"Làng thử {n}")


FACTS = ResourceFacts(
    path="villages",
    admins_only=False,
    valid_body=valid_body,
    change=("households_total", 120),
    other_value=130,
    second_change={"commune": "Nam Giang"},
    total_after_create=2,  # places() made a village
    required={"name", "craft_group"},  # and a place: commune_id, district_id or province_id
    not_null=[
        "name",
        "other_commune_ids",
        "craft_group",
        "crafts",
        "status",
        "has_environment_plan",
        "on_polluted_list",
        "is_illustrative",
    ],
    only_made="craft_group=manufacturing",
    sortable="""commune_id craft_group created_at district_id established_year households_participating
        households_total id name province_id recognised_on status updated_at""",
    text_field="notes",
    integer_field="households_total",
)
