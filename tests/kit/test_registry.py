"""The registry: the central tables derived from the resource declarations, and the start-up check
that refuses an inconsistent set of declarations with a message instead of a 500 later."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.kit.registry import Owner, Registry, RegistryError
from app.kit.resource import Child
from app.models import ProgrammeFunding, Role
from app.programmes.resource import PROGRAMMES
from app.registry import REGISTRY
from app.trade_fairs.resource import TRADE_FAIRS
from app.villages.resource import VILLAGES
from app.villages.schemas import VillageQuery

# What app/crud.py, app/models.py and app/errors.py used to keep by hand before the registry.
OWNERS = {
    "admin_unit": ("admin-units", "id"),
    # A link table: a row met through one end names the unit at the other.
    "admin_unit_succession": ("admin-units", "predecessor_id"),
    "village": ("villages", "id"),
    "village_figure": ("village-figures", "id"),
    "cooperative": ("cooperatives", "id"),
    "programme": ("programmes", "id"),
    "programme_funding": ("programmes", "programme_id"),
    "programme_beneficiary": ("programmes", "programme_id"),
    "trade_fair": ("trade-fairs", "id"),
    "trade_fair_participant": ("trade-fairs", "trade_fair_id"),
}
TRACKED = set(OWNERS)
RULES_WITH_MESSAGES = {
    "ck_village_participating_le_total",
    "ck_village_coordinates_paired",
    "ck_village_recognised_has_date",
    "ck_village_revoked_after_recognised",
    "ck_cooperative_dissolved_after_founded",
    "ck_trade_fair_country_matches_kind",
    "ck_trade_fair_end_after_start",
    "ck_programme_activity_matches_kind",
    "ck_admin_unit_valid_period",
    "ck_admin_unit_not_own_parent",
    "ck_admin_unit_type_fits_level",
    "ck_admin_unit_code_fits_level",
    "ck_admin_unit_parent_given",
    "ck_admin_unit_former_names_not_null",
    "uq_admin_unit_level_code_valid_from",
    "ex_admin_unit_period_overlap",
    "ck_admin_unit_succession_not_own_successor",
    "ck_admin_unit_succession_note_not_blank",
    "uq_admin_unit_succession_link",
    "uq_village_figure_village_id_year",
    "uq_cooperative_registration_code",
    "uq_programme_beneficiary_programme_id_village_id",
    "uq_programme_beneficiary_programme_id_cooperative_id",
    "uq_trade_fair_participant_trade_fair_id_village_id",
    "uq_trade_fair_participant_trade_fair_id_cooperative_id",
}
# Rules a trigger enforces (migration 0008), raised under these names.
PLACE_RULES = {
    f"ck_{table}_{rule}"
    for table in ("village", "cooperative")
    for rule in (
        "commune_level",
        "district_level",
        "province_level",
        "placed",
        "parents_agree",
        "other_communes_valid",
        "others_need_commune",
        "communes_apart",
    )
}
TRIGGER_RULES = PLACE_RULES | {
    "ck_village_figures_placed",
    "ck_village_figure_year_placed",
    "ck_cooperative_founding_placed",
    "ck_programme_department_province_level",
    "ck_trade_fair_department_province_level",
    "ck_programme_department_province_in_year",
    "ck_trade_fair_department_province_on_dates",
}


def test_derived_tables() -> None:
    assert {table: (o.resource, o.id_column) for table, o in REGISTRY.owners.items()} == OWNERS
    assert set(REGISTRY.tracked_tables) == TRACKED
    assert REGISTRY.constraint_messages.keys() == RULES_WITH_MESSAGES | TRIGGER_RULES
    assert REGISTRY.labels["admin_unit"] == "administrative unit"
    assert REGISTRY.labels["cooperative"] == "co-operative"
    assert list(REGISTRY.enums)[-1] == "role"


async def test_every_rule_with_a_message_exists_in_the_database(db: AsyncSession) -> None:
    names = set((await db.execute(text("SELECT conname FROM pg_constraint"))).scalars())
    assert names >= RULES_WITH_MESSAGES
    # A trigger's rule: a constraint trigger of that name, or a trigger function that raises it
    # (the rules of place_record() are named ck_<its table>_<rule>).
    sources = " ".join((await db.execute(text("SELECT prosrc FROM pg_proc"))).scalars())
    for rule in TRIGGER_RULES - names:
        table = next(
            t
            for t in ("village_figure", "village", "cooperative", "programme", "trade_fair")
            if rule.startswith(f"ck_{t}_")
        )
        assert f"{rule.removeprefix(f'ck_{table}_')}'" in sources, rule


def _registry(*resources: object) -> Registry:
    return Registry(resources, extra_enums={"role": Role})  # type: ignore[arg-type]


def test_a_referring_table_without_a_resource_is_refused() -> None:
    # Without trade fairs, a DELETE of a programme a fair refers to could not name the referrer
    # (it used to be a KeyError, a 500): refused before the app starts.
    resources = [r for r in REGISTRY if r is not TRADE_FAIRS]
    with pytest.raises(RegistryError) as refused:
        _registry(*resources)
    message = str(refused.value)
    assert "table trade_fair refers to programme (programme_id)" in message
    assert "table trade_fair_participant refers to village (village_id)" in message


def test_a_filter_that_maps_to_no_column_is_refused() -> None:
    class Query(VillageQuery):
        colour: str | None = None

    broken = dataclasses.replace(VILLAGES, query=Query)
    with pytest.raises(
        RegistryError, match=r"resource 'villages': query parameter 'colour' of Query maps to no column"
    ):
        _registry(*[broken if r is VILLAGES else r for r in REGISTRY])


def test_a_path_registered_twice_is_refused() -> None:
    with pytest.raises(RegistryError, match="resource 'villages' is registered twice"):
        _registry(*REGISTRY, VILLAGES)


def test_an_embedded_list_that_would_outlive_its_parent_is_refused() -> None:
    # Funding lines belong to programmes; declared again under trade fairs, their key does not
    # refer to the new parent, and the table would have two owners.
    broken = dataclasses.replace(
        TRADE_FAIRS, children={**TRADE_FAIRS.children, "funding": Child(ProgrammeFunding, "trade_fair_id")}
    )
    with pytest.raises(RegistryError) as refused:
        _registry(*[broken if r is TRADE_FAIRS else r for r in REGISTRY])
    message = str(refused.value)
    assert (
        "embedded list 'funding' needs a foreign key programme_funding.trade_fair_id to trade_fair.id"
        in message
    )
    assert "table programme_funding already belongs to 'programmes'" in message


def test_owner_of_an_embedded_list_is_its_parent() -> None:
    assert REGISTRY.owners["programme_funding"] == Owner("programmes", "programme_id")
    assert PROGRAMMES.tables()[1:] == [c.model.__table__ for c in PROGRAMMES.children.values()]


def test_an_enumeration_published_twice_is_refused() -> None:
    with pytest.raises(RegistryError, match="enumeration 'craft_group' is published by a resource and again"):
        Registry(REGISTRY.resources, extra_enums={"role": Role, "craft_group": Role})
