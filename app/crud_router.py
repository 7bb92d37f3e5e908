"""One router per Resource: list, create, read, partial update, delete.

Annotations here are evaluated at import (no `from __future__ import annotations`) because FastAPI
reads the concrete schema classes of each resource from the endpoint signatures.
"""

from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import Field, create_model
from sqlalchemy.ext.asyncio import AsyncSession

from app import crud, reads
from app.auth.principal import Editor
from app.crud import Resource
from app.db import get_session
from app.errors import NotFound, error_responses
from app.models import BIGINT_MAX
from app.pagination import ListParams, Page, link_header

Session = Annotated[AsyncSession, Depends(get_session, scope="function")]
ReadConnection = Annotated[reads.Connection, Depends(reads.read_connection, scope="function")]
JSON = "application/json"
RecordId = Annotated[int, Path(ge=1, le=BIGINT_MAX, description="The record's id.")]


def _with_sort_pattern(res: Resource[Any]) -> type[ListParams]:
    """The resource's query model, its `sort` restricted (in the schema too) to sortable fields."""
    keys = "|".join(sorted(res.sortable, key=lambda k: (-len(k), k)))
    field = f"-?({keys})"
    model = create_model(
        res.query.__name__.removesuffix("Query") + "ListQuery",
        __base__=(res.query, ListParams),
        sort=(
            str | None,
            Field(
                default=None,
                max_length=500,
                pattern=f"^{field}(,{field})*$",
                description=(
                    "Comma-separated fields, each optionally preceded by '-' for descending order. "
                    "Sortable: " + ", ".join(sorted(res.sortable)) + "."
                ),
                examples=["-" + next(iter(res.sortable))],
            ),
        ),
    )
    return cast(type[ListParams], model)


def _links(name: str) -> dict[str, Any]:
    """OpenAPI links from a created record to the operations on it (used by stateful testing)."""
    record_id = {"record_id": "$response.body#/id"}
    return {
        kind: {"operationId": f"{kind.lower()}_{name}", "parameters": record_id}
        for kind in ("Get", "Update", "Delete")
    }


async def _written(session: AsyncSession, res: Resource[Any], record_id: int) -> bytes:
    """The record as it now stands in this transaction, rendered like every read."""
    await session.flush()
    raw = await (await session.connection()).get_raw_connection()
    body = await reads.item_body(raw.driver_connection, res, record_id)  # type: ignore[arg-type]
    assert body is not None
    return body


def crud_router(res: Resource[Any]) -> APIRouter:
    """The five endpoints of a resource, with their documented problem responses."""
    router = APIRouter(prefix="/" + res.path, tags=[res.plural])
    name = res.path.replace("-", "_")
    Read, Create, Update = res.read, res.create, res.update
    QueryModel = _with_sort_pattern(res)

    @router.get(
        "",
        response_model=Page[Read],  # type: ignore[valid-type]
        operation_id=f"list_{name}",
        summary=f"List {res.plural}",
        description=(
            f"Filter, sort and page through {res.plural}. Multi-valued filters take repeated or "
            "comma-separated values. The Link header carries first/prev/next/last pages."
        ),
        responses=error_responses(400, 422, 503),
    )
    async def list_records(
        request: Request,
        conn: ReadConnection,
        params: Annotated[QueryModel, Query()],  # type: ignore[valid-type]
    ) -> Response:
        query: ListParams = params
        body, total = await reads.page_body(conn, res, query)
        link = link_header(request.url, total=total, limit=query.limit, offset=query.offset)
        return Response(body, media_type=JSON, headers={"Link": link})

    @router.post(
        "",
        status_code=201,
        response_model=Read,
        operation_id=f"create_{name}",
        summary=f"Create a {res.singular}",
        responses={
            201: {"description": "Created; Location names the new record.", "links": _links(name)},
            **error_responses(400, 401, 403, 409, 422, 503),
        },
    )
    async def create_record(
        request: Request,
        session: Session,
        principal: Editor,
        body: Create,  # type: ignore[valid-type]
    ) -> Response:
        record = await crud.create_record(session, res, body)
        location = str(request.url_for(f"get_{name}", record_id=record.id).path)
        content = await _written(session, res, record.id)
        return Response(content, status_code=201, media_type=JSON, headers={"Location": location})

    @router.get(
        "/{record_id}",
        response_model=Read,
        operation_id=f"get_{name}",
        name=f"get_{name}",
        summary=f"Read a {res.singular}",
        responses=error_responses(404, 422, 503),
    )
    async def get_record(conn: ReadConnection, record_id: RecordId) -> Response:
        body = await reads.item_body(conn, res, record_id)
        if body is None:
            raise NotFound(f"{res.singular} {record_id} does not exist")
        return Response(body, media_type=JSON)

    @router.patch(
        "/{record_id}",
        response_model=Read,
        operation_id=f"update_{name}",
        summary=f"Change some fields of a {res.singular}",
        description="Only the fields sent change; an embedded list sent is replaced whole.",
        responses=error_responses(400, 401, 403, 404, 409, 422, 503),
    )
    async def update_record(
        session: Session,
        principal: Editor,
        record_id: RecordId,
        body: Update,  # type: ignore[valid-type]
    ) -> Response:
        record = await crud.update_record(session, res, record_id, body)
        return Response(await _written(session, res, record.id), media_type=JSON)

    @router.delete(
        "/{record_id}",
        status_code=204,
        operation_id=f"delete_{name}",
        summary=f"Delete a {res.singular}",
        description="Refused with 409, naming them, while other records still refer to it.",
        responses=error_responses(401, 403, 404, 409, 422, 503),
    )
    async def delete_record(session: Session, principal: Editor, record_id: RecordId) -> Response:
        await crud.delete_record(session, res, record_id)
        return Response(status_code=204)

    return router
