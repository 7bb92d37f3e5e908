"""Reading the audit trail: the whole trail for administrators, one record's history for staff,
and the security events (sign-ins, lockouts, changes to accounts and keys) for administrators."""

from datetime import datetime
from typing import Annotated, Any, TypeAlias

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, create_model
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from typing_extensions import TypeAliasType

from app.core.errors import NotFound
from app.core.i18n import tr
from app.core.openapi import header
from app.core.problems import error_responses
from app.kit.audit import AuditAction
from app.kit.deps import Admin, Editor, Session
from app.kit.pagination import MAX_LIMIT, MAX_OFFSET, link_header
from app.kit.registry import Registry
from app.kit.resource import Resource
from app.kit.schemas import AnyOf
from app.kit.types import Int32, Int64, QDateTime, QId, QText, WholeNumber
from app.models import (
    AuditActorKind,
    AuditEvent,
    SecurityAction,
    SecurityActorKind,
    SecurityEvent,
    SecurityTargetKind,
)

# A field's value as the audit trail keeps it: what the field holds in a create body (text,
# a number, a flag, null, a list of texts, an embedded list of lines), dates as text.
Scalar: TypeAlias = str | int | float | bool
FieldValue = TypeAliasType("FieldValue", Scalar | list[Scalar | dict[str, Scalar | None]] | None)
OldAndNew = Annotated[
    list[FieldValue],
    Field(min_length=2, max_length=2, description="[old, new]: old is null on create, new on delete."),
]


class AuditEventBase(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: Int64
    at: datetime
    actor_kind: AuditActorKind = Field(
        description=(
            "A staff account's token or an API key (a request), or the command line (a gazetteer "
            "load, `places match`, a migration's data step)."
        )
    )
    actor_id: Int64 = Field(description="The account's or the key's id; 0 for the command line.")
    actor_name: str = Field(
        description=(
            "The account's username or the key's name, when it acted; for the command line, the "
            "system user who ran it or the migration (e.g. `migration 0008`)."
        )
    )
    client_addr: str | None
    action: AuditAction
    resource: str
    record_id: Int64
    changes: dict[str, OldAndNew] = Field(description="The fields that changed, each as [old, new].")
    request_id: str | None = Field(description="The X-Request-ID of the request that made the change.")
    import_batch_id: Int64 | None = Field(
        default=None, description="The import that made the change (GET /api/v1/imports/{id}), if one did."
    )


class AuditPageBase(BaseModel):
    items: list[AuditEventBase]
    total: Int64
    limit: Int32
    offset: Int32


async def _page(
    session: AsyncSession,
    model: type[AuditEvent | SecurityEvent],
    where: list[ColumnElement[bool]],
    limit: int,
    offset: int,
) -> dict[str, Any]:
    """A page of events (audit events, or security events), newest first, for a page model to
    validate."""
    query: Select[Any] = select(model).where(*where).order_by(model.id.desc())
    events = (await session.scalars(query.limit(limit).offset(offset))).all()
    total = await session.scalar(select(func.count()).select_from(model).where(*where)) or 0
    return {"items": events, "total": total, "limit": limit, "offset": offset}


class AuditFilters(BaseModel):
    """The audit trail's filters; audit_router() narrows `resource` to the registered paths."""

    model_config = ConfigDict(extra="forbid")

    resource: list[str] | None = None
    record_id: QId | None = None
    actor: QText | None = Field(default=None, description="An account's username or a key's name.")
    action: AnyOf[AuditAction] | None = None
    import_batch_id: QId | None = Field(default=None, description="The changes one import made.")
    at_from: QDateTime | None = None
    at_to: QDateTime | None = None
    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT), WholeNumber] = 50
    offset: Annotated[int, Field(ge=0, le=MAX_OFFSET), WholeNumber] = 0


class SecurityEventRead(BaseModel):
    """One security event. Never a password, a token or a key."""

    model_config = ConfigDict(from_attributes=True)

    id: Int64
    at: datetime
    action: SecurityAction
    actor_kind: SecurityActorKind = Field(
        description=(
            "A staff account's token, an API key, the command line, nobody signed in, or the "
            "service itself (its webhook worker)."
        )
    )
    actor_id: Int64 | None = Field(description="The account's or the key's id; null otherwise.")
    actor_name: str | None = Field(
        description="The account's username, the key's name, or the system user at the command line."
    )
    target_kind: SecurityTargetKind | None
    target_id: Int64 | None = Field(
        description="The account's, key's or webhook's id; null for an unknown username."
    )
    target_name: str | None = Field(
        description="The account's username (as typed, at sign-in), the key's name or the webhook's URL."
    )
    client_addr: str | None
    request_id: str | None = Field(description="The X-Request-ID of the request.")
    details: dict[str, Scalar | list[Scalar] | None] = Field(
        description="What else is known: a failure's reason, a role as [old, new], the limits of a lockout."
    )


class SecurityEventPage(BaseModel):
    items: list[SecurityEventRead]
    total: Int64
    limit: Int32
    offset: Int32


class SecurityQuery(BaseModel):
    """The security events' filters."""

    model_config = ConfigDict(extra="forbid")

    action: AnyOf[SecurityAction] | None = None
    actor_kind: AnyOf[SecurityActorKind] | None = None
    actor: QText | None = Field(default=None, description="An account's username or a key's name that acted.")
    target: QText | None = Field(default=None, description="The username or key name acted upon.")
    client_addr: QText | None = None
    at_from: QDateTime | None = None
    at_to: QDateTime | None = None
    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT), WholeNumber] = 50
    offset: Annotated[int, Field(ge=0, le=MAX_OFFSET), WholeNumber] = 0


async def security_events(
    request: Request,
    response: Response,
    session: Session,
    _: Admin,
    query: Annotated[SecurityQuery, Query()],
) -> Any:
    where: list[ColumnElement[bool]] = []
    if query.action:
        where.append(SecurityEvent.action.in_(query.action))
    if query.actor_kind:
        where.append(SecurityEvent.actor_kind.in_(query.actor_kind))
    if query.actor is not None:
        where.append(SecurityEvent.actor_name == query.actor)
    if query.target is not None:
        where.append(SecurityEvent.target_name == query.target)
    if query.client_addr is not None:
        where.append(SecurityEvent.client_addr == query.client_addr)
    if query.at_from is not None:
        where.append(SecurityEvent.at >= query.at_from)
    if query.at_to is not None:
        where.append(SecurityEvent.at <= query.at_to)
    found = await _page(session, SecurityEvent, where, query.limit, query.offset)
    response.headers["Link"] = link_header(
        request, total=found["total"], limit=query.limit, offset=query.offset
    )
    return SecurityEventPage.model_validate(found, from_attributes=True)


def audit_router(registry: Registry) -> APIRouter:
    """The whole trail (administrators) and one record's history per resource (staff)."""
    router = APIRouter(prefix="/api/v1", tags=["audit trail"])
    paths: Any = registry.path_enum  # a class made at run time: a type only to pydantic
    AuditQuery = create_model(
        "AuditQuery",
        __base__=AuditFilters,
        resource=(AnyOf[paths] | None, None),
    )
    Event = create_model(
        "AuditEventRead", __base__=AuditEventBase, resource=(paths, Field(description="The resource's path."))
    )
    Page = create_model("AuditPage", __base__=AuditPageBase, items=(list[Event], ...))

    async def page(session: AsyncSession, where: list[ColumnElement[bool]], limit: int, offset: int) -> Any:
        return Page.model_validate(
            await _page(session, AuditEvent, where, limit, offset), from_attributes=True
        )

    @router.get(
        "/audit",
        operation_id="list_audit_events",
        summary="The audit trail, newest first (administrators)",
        response_model=Page,
        responses={
            200: {"description": "Successful Response", "headers": header("Link")},
            **error_responses(401, 403, 422),
        },
    )
    async def audit_trail(
        request: Request,
        response: Response,
        session: Session,
        _: Admin,
        query: Annotated[AuditQuery, Query()],
    ) -> Any:
        params: AuditFilters = query
        where: list[ColumnElement[bool]] = []
        if params.resource:
            where.append(AuditEvent.resource.in_(params.resource))
        if params.record_id is not None:
            where.append(AuditEvent.record_id == params.record_id)
        if params.actor is not None:
            where.append(AuditEvent.actor_name == params.actor)
        if params.action:
            where.append(AuditEvent.action.in_(params.action))
        if params.import_batch_id is not None:
            where.append(AuditEvent.import_batch_id == params.import_batch_id)
        if params.at_from is not None:
            where.append(AuditEvent.at >= params.at_from)
        if params.at_to is not None:
            where.append(AuditEvent.at <= params.at_to)
        found = await page(session, where, params.limit, params.offset)
        response.headers["Link"] = link_header(
            request, total=found.total, limit=found.limit, offset=found.offset
        )
        return found

    router.add_api_route(
        "/audit/security",
        security_events,
        methods=["GET"],
        operation_id="list_security_events",
        summary="Security events, newest first (administrators): sign-ins, lockouts, accounts and keys",
        response_model=SecurityEventPage,
        responses={
            200: {"description": "Successful Response", "headers": header("Link")},
            **error_responses(401, 403, 422),
        },
    )
    for res in registry:
        _history_route(router, res, page, Page)
    return router


def _history_route(router: APIRouter, res: Resource[Any], page: Any, Page: type[BaseModel]) -> None:
    resource = res.path

    @router.get(
        f"/{resource}/{{record_id}}/history",
        operation_id=f"history_{resource.replace('-', '_')}",
        summary=f"Every change of one of the {resource}, newest first (staff)",
        tags=[resource.replace("-", " ")],
        response_model=Page,
        responses=error_responses(401, 403, 404, 422),
    )
    async def history(
        session: Session,
        _: Editor,
        record_id: Annotated[QId, Path(description="The record's id.")],
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT), WholeNumber] = 50,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET), WholeNumber] = 0,
    ) -> Any:
        where = [AuditEvent.resource == resource, AuditEvent.record_id == record_id]
        found = await page(session, where, limit, offset)
        if found.total == 0 and await session.get(res.model, record_id) is None:
            # A deleted record keeps its history; one that never existed has none to show.
            raise NotFound(
                tr("{resource} {id} does not exist and has no history", resource=resource, id=record_id)
            )
        return found
