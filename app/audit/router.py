"""Reading the audit trail: the whole trail for administrators, one record's history for staff."""

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, create_model
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFound
from app.core.problems import error_responses
from app.kit.deps import Admin, Editor, Session
from app.kit.pagination import MAX_LIMIT, MAX_OFFSET, link_header
from app.kit.registry import Registry
from app.kit.resource import Resource
from app.kit.schemas import AnyOf
from app.kit.types import QDateTime, QText, WholeNumber
from app.models import BIGINT_MAX, AuditEvent


class AuditEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor_kind: str = Field(description="account or api_key")
    actor_id: int
    actor_name: str
    client_addr: str | None
    action: str = Field(description="create, update or delete")
    resource: str
    record_id: int
    changes: dict[str, Any] = Field(description="Changed fields as {field: [old, new]}.")
    request_id: str | None


class AuditPage(BaseModel):
    items: list[AuditEventRead]
    total: int
    limit: int
    offset: int


async def _page(
    session: AsyncSession, where: list[ColumnElement[bool]], limit: int, offset: int
) -> AuditPage:
    query: Select[Any] = select(AuditEvent).where(*where).order_by(AuditEvent.id.desc())
    events = (await session.scalars(query.limit(limit).offset(offset))).all()
    total = await session.scalar(select(func.count()).select_from(AuditEvent).where(*where)) or 0
    return AuditPage(
        items=[AuditEventRead.model_validate(e) for e in events], total=total, limit=limit, offset=offset
    )


class AuditFilters(BaseModel):
    """The audit trail's filters; audit_router() narrows `resource` to the registered paths."""

    model_config = ConfigDict(extra="forbid")

    resource: list[str] | None = None
    record_id: Annotated[int, Field(ge=1, le=BIGINT_MAX), WholeNumber] | None = None
    actor: QText | None = Field(default=None, description="An account's username or a key's name.")
    action: AnyOf[Literal["create", "update", "delete"]] | None = None
    at_from: QDateTime | None = None
    at_to: QDateTime | None = None
    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT), WholeNumber] = 50
    offset: Annotated[int, Field(ge=0, le=MAX_OFFSET), WholeNumber] = 0


def audit_router(registry: Registry) -> APIRouter:
    """The whole trail (administrators) and one record's history per resource (staff)."""
    router = APIRouter(prefix="/api/v1", tags=["audit trail"])
    paths = tuple(res.path for res in registry)
    AuditQuery = create_model(
        "AuditQuery",
        __base__=AuditFilters,
        resource=(AnyOf[Literal[paths]] | None, None),  # type: ignore[valid-type,arg-type]
    )

    @router.get(
        "/audit",
        operation_id="list_audit_events",
        summary="The audit trail, newest first (administrators)",
        response_model=AuditPage,
        responses=error_responses(401, 403, 422),
    )
    async def audit_trail(
        request: Request,
        response: Response,
        session: Session,
        _: Admin,
        query: Annotated[AuditQuery, Query()],
    ) -> AuditPage:
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
        if params.at_from is not None:
            where.append(AuditEvent.at >= params.at_from)
        if params.at_to is not None:
            where.append(AuditEvent.at <= params.at_to)
        page = await _page(session, where, params.limit, params.offset)
        response.headers["Link"] = link_header(
            request.url, total=page.total, limit=page.limit, offset=page.offset
        )
        return page

    for res in registry:
        _history_route(router, res)
    return router


def _history_route(router: APIRouter, res: Resource[Any]) -> None:
    resource = res.path

    @router.get(
        f"/{resource}/{{record_id}}/history",
        operation_id=f"history_{resource.replace('-', '_')}",
        summary=f"Every change of one of the {resource}, newest first (staff)",
        tags=[resource.replace("-", " ")],
        response_model=AuditPage,
        responses=error_responses(401, 403, 404, 422),
    )
    async def history(
        session: Session,
        _: Editor,
        record_id: Annotated[int, Path(ge=1, le=BIGINT_MAX), WholeNumber],
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT), WholeNumber] = 50,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET), WholeNumber] = 0,
    ) -> AuditPage:
        where = [AuditEvent.resource == resource, AuditEvent.record_id == record_id]
        page = await _page(session, where, limit, offset)
        if page.total == 0 and await session.get(res.model, record_id) is None:
            # A deleted record keeps its history; one that never existed has none to show.
            raise NotFound(f"{resource} {record_id} does not exist and has no history")
        return page
