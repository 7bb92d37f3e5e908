"""How the generic service lists, sorts and loads administrative units."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_
from sqlalchemy.orm import joinedload

from app.admin_units.schemas import AdminUnitCreate, AdminUnitQuery, AdminUnitRead, AdminUnitUpdate
from app.core.i18n import tr
from app.kit.resource import Resource, Summary
from app.models import AdminLevel, AdminUnit


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
    enums={"admin_level": AdminLevel},
    columns={"level": AdminUnit.level, "code": AdminUnit.code, "parent_id": AdminUnit.parent_id},
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
    custom={"valid_on": _valid_on},
)
