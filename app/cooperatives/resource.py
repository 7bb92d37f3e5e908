"""How the generic service lists, sorts and loads co-operatives."""

from __future__ import annotations

from sqlalchemy.orm import joinedload

from app.cooperatives.schemas import (
    CooperativeCreate,
    CooperativeQuery,
    CooperativeRead,
    CooperativeUpdate,
)
from app.core.i18n import tr
from app.kit.places import check_cooperative
from app.kit.resource import Resource, Summary
from app.kit.timeline import Places
from app.models import AdminUnit, Cooperative, CooperativeSector, CooperativeStatus, LegalForm, Village

COOPERATIVES: Resource[Cooperative] = Resource(
    path="cooperatives",
    singular=tr("co-operative"),
    plural="co-operatives",
    model=Cooperative,
    create=CooperativeCreate,
    update=CooperativeUpdate,
    read=CooperativeRead,
    query=CooperativeQuery,
    enums={
        "legal_form": LegalForm,
        "cooperative_sector": CooperativeSector,
        "cooperative_status": CooperativeStatus,
    },
    columns={
        "sector": Cooperative.sector,
        "legal_form": Cooperative.legal_form,
        "status": Cooperative.status,
        "district_id": Cooperative.district_id,
        "village_id": Cooperative.village_id,
        "registration_code": Cooperative.registration_code,
        "founded_on": Cooperative.founded_on,
        "members": Cooperative.members,
        "charter_capital_vnd": Cooperative.charter_capital_vnd,
    },
    sortable={
        "id": Cooperative.id,
        "name": Cooperative.name_sort,
        "registration_code": Cooperative.registration_code,
        "sector": Cooperative.sector,
        "legal_form": Cooperative.legal_form,
        "status": Cooperative.status,
        "commune_id": Cooperative.commune_id,
        "district_id": Cooperative.district_id,
        "province_id": Cooperative.province_id,
        "members": Cooperative.members,
        "charter_capital_vnd": Cooperative.charter_capital_vnd,
        "founded_on": Cooperative.founded_on,
        "dissolved_on": Cooperative.dissolved_on,
        "created_at": Cooperative.created_at,
        "updated_at": Cooperative.updated_at,
    },
    search=Cooperative.search_text,
    load=(joinedload(Cooperative.district), joinedload(Cooperative.village)),
    summaries={
        "commune_unit": Summary(AdminUnit, Cooperative.commune_id, ("id", "code", "name")),
        "district": Summary(AdminUnit, Cooperative.district_id, ("id", "code", "name")),
        "province": Summary(AdminUnit, Cooperative.province_id, ("id", "code", "name")),
        "village": Summary(Village, Cooperative.village_id),
    },
    check=check_cooperative,
    places=Places(
        Cooperative.id,
        Cooperative.province_id,
        Cooperative.district_id,
        Cooperative.commune_id,
        Cooperative.other_commune_ids,
    ),
)
