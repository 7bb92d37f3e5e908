"""How the generic service lists, sorts and loads programmes and their embedded lines."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, any_, exists
from sqlalchemy.orm import selectinload

from app.core.i18n import tr
from app.kit.places import check_programme
from app.kit.resource import Child, Resource, Summary
from app.kit.timeline import Places
from app.models import (
    AdminUnit,
    ExtensionActivity,
    FundingSource,
    Programme,
    ProgrammeBeneficiary,
    ProgrammeFunding,
    ProgrammeKind,
    ProgrammeStatus,
    PromotionActivity,
)
from app.programmes.schemas import ProgrammeCreate, ProgrammeQuery, ProgrammeRead, ProgrammeUpdate


def _funded_by(sources: Any) -> ColumnElement[bool]:
    return exists().where(
        ProgrammeFunding.programme_id == Programme.id, ProgrammeFunding.source == any_(sources)
    )


def _benefiting(column: Any) -> Any:
    def condition(ids: Any) -> ColumnElement[bool]:
        return exists().where(ProgrammeBeneficiary.programme_id == Programme.id, column == any_(ids))

    return condition


PROGRAMMES: Resource[Programme] = Resource(
    path="programmes",
    singular=tr("programme"),
    plural="programmes",
    model=Programme,
    create=ProgrammeCreate,
    update=ProgrammeUpdate,
    read=ProgrammeRead,
    query=ProgrammeQuery,
    enums={
        "programme_kind": ProgrammeKind,
        "extension_activity": ExtensionActivity,
        "promotion_activity": PromotionActivity,
        "programme_status": ProgrammeStatus,
        "funding_source": FundingSource,
    },
    columns={
        "kind": Programme.kind,
        "activity": Programme.activity,
        "status": Programme.status,
        "year": Programme.year,
    },
    sortable={
        "id": Programme.id,
        "name": Programme.name_sort,
        "kind": Programme.kind,
        "activity": Programme.activity,
        "status": Programme.status,
        "year": Programme.year,
        "created_at": Programme.created_at,
        "updated_at": Programme.updated_at,
    },
    search=Programme.search_text,
    load=(selectinload(Programme.funding), selectinload(Programme.beneficiaries)),
    children={
        "funding": Child(ProgrammeFunding, "programme_id", pivot=("source", "amount_vnd")),
        "beneficiaries": Child(ProgrammeBeneficiary, "programme_id"),
    },
    custom={
        "funding_source": _funded_by,
        "village_id": _benefiting(ProgrammeBeneficiary.village_id),
        "cooperative_id": _benefiting(ProgrammeBeneficiary.cooperative_id),
    },
    summaries={
        "department_province": Summary(AdminUnit, Programme.department_province_id, ("id", "code", "name"))
    },
    check=check_programme,
    places=Places(Programme.id, Programme.department_province_id),
)
