"""What the generic tests must know of a village's yearly figures (tests/factories.ResourceFacts)."""

from __future__ import annotations

import httpx

from tests.factories import JSON, Places, ResourceFacts, create, village


def valid_body(at: Places, n: int) -> JSON:
    return {"village_id": at.village_id, "year": 2000 + n}


async def searched(client: httpx.AsyncClient, at: Places) -> JSON:
    """Figures are searched by their village's name: figures of a village named Vân Chàng."""
    target = await village(client, at.district_id, name="Vân Chàng")
    return await create(client, "village-figures", {"village_id": target["id"], "year": 2015})


FACTS = ResourceFacts(
    path="village-figures",
    admins_only=False,
    valid_body=valid_body,
    change=("workers", 44_000),
    other_value=45_000,
    second_change={"households": 500},
    total_after_create=1,
    required={"village_id", "year"},
    not_null=["village_id", "year", "qualifier"],
    only_made="year_from=2000",
    sortable="""average_income_vnd created_at households id production_value_vnd updated_at
        village village_id workers year""",
    # Figures have no free text; their qualifier (an enumeration) stands in.
    text_field="qualifier",
    integer_field="workers",
    money_field="production_value_vnd",
    named=False,
    sort_key="year",
    searched=searched,
)
