"""How the generic service lists, sorts and loads administrative units."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_
from sqlalchemy.orm import joinedload

from app.admin_units.router import admin_unit_routes
from app.admin_units.schemas import AdminUnitCreate, AdminUnitQuery, AdminUnitRead, AdminUnitUpdate
from app.core.i18n import tr
from app.kit.places import check_admin_unit
from app.kit.resource import Link, Resource, Summary
from app.models import AdminLevel, AdminType, AdminUnit, AdminUnitSuccession, Role, SuccessionKind


def _valid_on(day: Any) -> ColumnElement[bool]:
    return and_(
        or_(AdminUnit.valid_from.is_(None), AdminUnit.valid_from <= day),
        or_(AdminUnit.valid_to.is_(None), AdminUnit.valid_to >= day),
    )


ADMIN_UNITS: Resource[AdminUnit] = Resource(
    path="admin-units",
    singular=tr("administrative unit"),
    plural="administrative units",
    model=AdminUnit,
    create=AdminUnitCreate,
    update=AdminUnitUpdate,
    read=AdminUnitRead,
    query=AdminUnitQuery,
    enums={"admin_level": AdminLevel, "admin_type": AdminType, "succession_kind": SuccessionKind},
    links={"successions": Link(AdminUnitSuccession, ("predecessor_id", "successor_id"))},
    # The gazetteer is the official lists: only an administrator corrects it by hand.
    write_role=Role.admin,
    columns={
        "level": AdminUnit.level,
        "type": AdminUnit.type,
        "code": AdminUnit.code,
        "parent_id": AdminUnit.parent_id,
    },
    sortable={
        "id": AdminUnit.id,
        # Statistical codes are digits of varying length: "36" comes before "356".
        "code": func.lpad(AdminUnit.code, 16, "0"),
        "name": AdminUnit.name_sort,
        "level": AdminUnit.level,
        "valid_from": AdminUnit.valid_from,
        "valid_to": AdminUnit.valid_to,
        "created_at": AdminUnit.created_at,
        "updated_at": AdminUnit.updated_at,
    },
    search=AdminUnit.search_text,
    load=(joinedload(AdminUnit.parent),),
    summaries={"parent": Summary(AdminUnit, AdminUnit.parent_id, ("id", "code", "name"))},
    custom={"on": _valid_on, "valid_on": _valid_on},
    routes=admin_unit_routes,
    check=check_admin_unit,
)
