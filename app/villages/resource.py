"""How the generic service lists, sorts and loads villages."""

from __future__ import annotations

from sqlalchemy.orm import joinedload

from app.core.i18n import tr
from app.kit.filters import in_bbox
from app.kit.places import check_village
from app.kit.resource import Resource, Summary
from app.kit.timeline import Places
from app.models import AdminUnit, CraftGroup, Village, VillageStatus
from app.villages.schemas import VillageCreate, VillageQuery, VillageRead, VillageUpdate

VILLAGES: Resource[Village] = Resource(
    path="villages",
    singular=tr("village"),
    plural="villages",
    model=Village,
    create=VillageCreate,
    update=VillageUpdate,
    read=VillageRead,
    query=VillageQuery,
    enums={"craft_group": CraftGroup, "village_status": VillageStatus},
    columns={
        "craft_group": Village.craft_group,
        "status": Village.status,
        "district_id": Village.district_id,
        "craft": Village.crafts,
        "is_illustrative": Village.is_illustrative,
        "has_environment_plan": Village.has_environment_plan,
        "on_polluted_list": Village.on_polluted_list,
        "established_year": Village.established_year,
        "households_total": Village.households_total,
        "recognised_on": Village.recognised_on,
    },
    sortable={
        "id": Village.id,
        "name": Village.name_sort,
        "craft_group": Village.craft_group,
        "status": Village.status,
        "commune_id": Village.commune_id,
        "district_id": Village.district_id,
        "province_id": Village.province_id,
        "established_year": Village.established_year,
        "households_total": Village.households_total,
        "households_participating": Village.households_participating,
        "recognised_on": Village.recognised_on,
        "created_at": Village.created_at,
        "updated_at": Village.updated_at,
    },
    search=Village.search_text,
    load=(joinedload(Village.district),),
    summaries={
        "commune_unit": Summary(AdminUnit, Village.commune_id, ("id", "code", "name")),
        "district": Summary(AdminUnit, Village.district_id, ("id", "code", "name")),
        "province": Summary(AdminUnit, Village.province_id, ("id", "code", "name")),
    },
    custom={"bbox": in_bbox(Village.longitude, Village.latitude)},
    geometry=(Village.longitude, Village.latitude),
    check=check_village,
    places=Places(
        Village.id, Village.province_id, Village.district_id, Village.commune_id, Village.other_commune_ids
    ),
)
