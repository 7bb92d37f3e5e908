"""GET /api/v1/changes and /api/v1/changes/head: the changes feed, for any signed-in client.

Annotations are evaluated at import (no `from __future__ import annotations`): FastAPI reads the
query model, built from the registry, from the endpoint signature.
"""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Union

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, create_model
from sqlalchemy.ext.asyncio import AsyncSession

from app.changes import feed
from app.core.errors import FieldError, InvalidInput
from app.core.i18n import tr
from app.core.problems import error_responses
from app.kit.audit import AuditAction
from app.kit.deps import Anyone, Session
from app.kit.reads import Connection, fields_of
from app.kit.registry import Registry
from app.kit.router import partial_read
from app.kit.schemas import AnyOf
from app.kit.types import Int32, Int64, WholeNumber

JSON = "application/json"
CURSOR = Field(
    description="An opaque cursor: the `next` of an earlier answer, passed back unchanged.",
    examples=["YzEuNzQ5LjAuMTc2NDg2MDQwMA"],
)


class ChangeBase(BaseModel):
    id: Int64 = Field(description="The record's id.")
    action: AuditAction
    version: Int32 | None = Field(
        description=(
            "The version the change left the record at (for a delete, the version deleted); null "
            "for changes recorded before the feed existed."
        )
    )
    at: datetime = Field(description="When the writing transaction began.")
    request_id: str | None = Field(description="The X-Request-ID of the request that made the change.")


class ChangesHead(BaseModel):
    next: str = Field(
        description=(
            "A cursor at the present: every change that had committed when it was issued is "
            "behind it. Take it before reading the lists, then follow the feed from it."
        )
    )


class FeedQuery(BaseModel):
    """The feed's parameters; changes_router() narrows `resource` to the registered paths."""

    model_config = ConfigDict(extra="forbid")

    after: Annotated[str | None, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_-]+$"), CURSOR] = (
        None
    )
    resource: list[str] | None = None
    limit: Annotated[
        int,
        Field(ge=1, le=feed.MAX_LIMIT, description=f"Changes per page (1 to {feed.MAX_LIMIT})."),
        WholeNumber,
    ] = feed.DEFAULT_LIMIT


async def _connection(session: AsyncSession) -> Connection:
    raw = await (await session.connection()).get_raw_connection()
    conn: Connection = raw.driver_connection  # type: ignore[assignment]
    return conn


def changes_router(registry: Registry) -> APIRouter:
    """The feed over the resources of `registry`."""
    router = APIRouter(prefix="/api/v1/changes", tags=["changes feed"])
    paths: Any = registry.path_enum  # a class made at run time: a type only to pydantic
    names = sorted({name for res in registry for name in res.read.model_fields})
    field_enum: Any = StrEnum("ChangeFieldName", [(name, name) for name in names])  # type: ignore[misc]
    Query_ = create_model(
        "ChangesQuery",
        __base__=FeedQuery,
        resource=(
            AnyOf[paths] | None,
            Field(default=None, description="Only changes of these resources (repeated or comma-separated)."),
        ),
        fields=(
            AnyOf[field_enum] | None,
            Field(
                default=None,
                description=(
                    "Only these fields of each record (repeated or comma-separated), each a field of "
                    "at least one resource asked for; a record has those of its own resource."
                ),
            ),
        ),
    )
    # One of the resources' Read schemas (the one `resource` names), or, with `fields`, a part of
    # one; or null.
    records: Any = Union[tuple(m for res in registry for m in (res.read, partial_read(res)))]  # noqa: UP007
    Change = create_model(
        "Change",
        __base__=ChangeBase,
        resource=(paths, Field(description="The resource's path.")),
        record=(
            records | None,
            Field(
                description=(
                    "The record as it stands when the page is read, exactly as "
                    "GET /api/v1/{resource}/{id} renders it (the Read schema of `resource`); null "
                    "when it no longer exists (deleted by this change or a later one)."
                )
            ),
        ),
    )
    Page = create_model(
        "ChangesPage",
        items=(
            list[Change],
            Field(description="The changes after `after`, by writing transaction, then as written."),
        ),
        next=(
            str,
            Field(
                description=(
                    "The cursor of the next page; with an empty `items` you are up to date, and this "
                    "is where to poll from."
                )
            ),
        ),
    )

    @router.get(
        "",
        operation_id="list_changes",
        summary="Every create, update and delete, in an order a mirror can follow (signed-in clients)",
        description=(
            "Follow `next` from page to page: no committed change is missed or served twice, however "
            "transactions overlap. Without `after` the feed starts at the oldest change within the "
            "retention (CHANGES_RETENTION_DAYS); a cursor issued longer ago than that is answered 410: "
            "resynchronise. See the README, *Keeping a copy in sync*."
        ),
        response_model=Page,
        responses=error_responses(401, 410, 422, 503),
    )
    async def list_changes(
        request: Request, session: Session, _: Anyone, query: Annotated[Query_, Query()]
    ) -> Response:
        params: FeedQuery = query
        cursor = feed.decode(params.after) if params.after is not None else None
        wanted = [str(p) for p in params.resource] if params.resource else feed.all_paths(registry)
        fields = fields_of(params)
        if fields is not None:
            has = {name for res in registry if res.path in wanted for name in res.read.model_fields}
            if unknown := [f for f in fields if f not in has]:
                message = tr(
                    "no resource asked for has the field(s) {names}",
                    names=", ".join(repr(f) for f in unknown),
                )
                raise InvalidInput(
                    message, errors=[FieldError(field="fields", message=message, location="query")]
                )
        page = await feed.read_page(
            await _connection(session),
            registry,
            cursor,
            wanted,
            params.limit,
            request.app.state.changes_retention_days,
            fields,
        )
        return Response(page.body(), media_type=JSON)

    @router.get(
        "/head",
        operation_id="changes_head",
        summary="A cursor at the present: take it, read the lists, then follow the feed (signed-in clients)",
        response_model=ChangesHead,
        responses=error_responses(401, 503),
    )
    async def changes_head(session: Session, _: Anyone) -> Any:
        cursor = await feed.head(await _connection(session))
        return ChangesHead(next=cursor.encode())

    return router
