"""One router per Resource: list, create, read, partial update, delete.

Annotations here are evaluated at import (no `from __future__ import annotations`) because FastAPI
reads the concrete schema classes of each resource from the endpoint signatures.
"""

import hashlib
import json
from enum import StrEnum
from functools import cache
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, create_model
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFound
from app.core.i18n import tr
from app.core.openapi import conditional_get, header
from app.core.problems import error_responses
from app.kit import export, idempotency, reads, service, versioning
from app.kit.audit import Actor
from app.kit.deps import (
    IF_MATCH_REQUIRED,
    ExportConnection,
    IdempotencyKey,
    IfMatch,
    ReadConnection,
    RecordId,
    Session,
    if_match_header,
    require,
)
from app.kit.etags import etag, etag_matches, expected_version
from app.kit.pagination import ListParams, Page, link_header, public_link
from app.kit.principal import Principal
from app.kit.registry import Registry
from app.kit.resource import Resource
from app.kit.schemas import AnyOf
from app.spreadsheets.formats import FILES, FORMAT_HELP, MEDIA_TYPES, Format, negotiate, openapi_content

JSON = "application/json"
# Item reads answer with an ETag and 304 for a current copy (documented once, used by each resource).
CONDITIONAL = conditional_get()
# Part of every list's ETag: bump it when the rendering of list pages changes.
LIST_FORMAT = "list-v1"


async def _list_etag(conn: reads.Connection, res: Resource[Any], query: ListParams) -> str:
    """A weak ETag for a list page: the data versions of the tables it reads, and the query."""
    tag = await versioning.data_tag(conn, reads.tables_read(res, query))
    canonical = json.dumps(query.model_dump(mode="json", exclude_none=True), sort_keys=True)
    return versioning.weak_etag(LIST_FORMAT, res.path, canonical, tag)


FIELDS_HELP = (
    "Only these fields of each record, repeated or comma-separated (e.g. `fields=id,name`); the "
    "others are neither read nor sent. Without it, every field."
)


@cache
def field_names(res: Resource[Any]) -> type[StrEnum]:
    """The fields of the resource's Read schema, as an enumeration (in the document too)."""
    stem = res.read.__name__.removesuffix("Read")
    return StrEnum(stem + "FieldName", [(name, name) for name in res.read.model_fields])  # type: ignore[return-value]


@cache
def partial_read(res: Resource[Any]) -> type[BaseModel]:
    """What a record is with `fields`: its Read schema's properties, none of them required."""
    read = res.read
    fields: dict[str, Any] = {
        name: (
            info.annotation,
            Field(
                default=None, description=info.description, json_schema_extra=_absent(info.json_schema_extra)
            ),
        )
        for name, info in read.model_fields.items()
    }
    stem = read.__name__.removesuffix("Read")
    doc = f"{stem} with only the fields asked for (`fields`)."
    return create_model(stem + "Fields", __doc__=doc, **fields)


def fields_tag(fields: tuple[str, ...]) -> str:
    """A short name of a set of fields for an ETag (no comma, which If-None-Match lists split on)."""
    return hashlib.sha256(",".join(fields).encode()).hexdigest()[:12]


def _absent(extra: Any) -> Any:
    """The field's own schema extras, and no default: a field not asked for is absent, not null."""

    def apply(schema: dict[str, Any]) -> None:
        if callable(extra):
            extra(schema)
        elif extra:
            schema.update(extra)
        schema.pop("default", None)

    return apply


def _fields_param(res: Resource[Any]) -> Any:
    """`fields`: an optional list of the resource's field names, as a create_model field."""
    names: Any = field_names(res)  # a class made at run time: a type only to pydantic
    return (AnyOf[names] | None, Field(default=None, description=FIELDS_HELP))


def _item_query(res: Resource[Any]) -> type[BaseModel]:
    """The item read's query parameters: `fields`."""
    return create_model(
        res.read.__name__.removesuffix("Read") + "ItemQuery",
        __config__=ConfigDict(extra="forbid"),
        fields=_fields_param(res),
    )


def formats_of(res: Resource[Any]) -> tuple[Format, ...]:
    """What a list of the resource is offered in: JSON first (the default), the files, GeoJSON
    for a resource with coordinates."""
    return (Format.json, *FILES, *((Format.geojson,) if res.geometry is not None else ()))


def _with_sort_keys(res: Resource[Any]) -> type[ListParams]:
    """The resource's query model, its `sort` an enumeration (in the schema too) of the sortable
    fields, each ascending or, with a leading '-', descending, and `fields` one of its fields."""
    fields = sorted(res.sortable)
    keys = StrEnum(  # type: ignore[misc]
        res.read.__name__.removesuffix("Read") + "SortKey",
        [(f"{field}", field) for field in fields]
        + [(f"{field}_descending", "-" + field) for field in fields],
    )
    # The formats the list is offered in, as an enumeration (a class made at run time).
    formats: Any = StrEnum(  # type: ignore[misc]
        res.read.__name__.removesuffix("Read") + "ListFormat", [(f.value, f.value) for f in formats_of(res)]
    )
    model = create_model(
        res.query.__name__.removesuffix("Query") + "ListQuery",
        __base__=(res.query, ListParams),
        sort=(
            AnyOf[keys] | None,
            Field(
                default=None,
                description=(
                    "Sort keys, first first: a field, or '-' and a field for descending order; "
                    "repeated or comma-separated. Sortable: " + ", ".join(fields) + "."
                ),
                examples=[["-" + fields[0]]],
            ),
        ),
        fields=_fields_param(res),
        format=(formats | None, Field(default=None, description=FORMAT_HELP)),
    )
    return cast(type[ListParams], model)


def _links(name: str) -> dict[str, Any]:
    """OpenAPI links from a created record to the operations on it (used by stateful testing)."""
    record_id = {"record_id": "$response.body#/id"}
    return {
        kind: {"operationId": f"{kind.lower()}_{name}", "parameters": record_id}
        for kind in ("Get", "Update", "Delete")
    }


async def _written(session: AsyncSession, res: Resource[Any], record_id: int) -> tuple[bytes, dict[str, str]]:
    """The record as it now stands in this transaction, rendered like every read, and its ETag."""
    await session.flush()
    raw = await (await session.connection()).get_raw_connection()
    found = await reads.item_body(raw.driver_connection, res, record_id)  # type: ignore[arg-type]
    assert found is not None
    body, version = found
    return body, {"ETag": etag(version)}


def actor_of(request: Request, principal: Principal) -> Actor:
    return Actor(
        principal, request.client.host if request.client else None, getattr(request.state, "request_id", None)
    )


def crud_router(registry: Registry, res: Resource[Any]) -> APIRouter:
    """The five endpoints of a resource, with their documented problem responses."""
    router = APIRouter(prefix="/" + res.path, tags=[res.plural])
    name = res.path.replace("-", "_")
    Read, Create, Update = res.read, res.create, res.update
    QueryModel = _with_sort_keys(res)
    offered = formats_of(res)
    files = ", ".join(MEDIA_TYPES[f] for f in offered[1:])
    Partial, ItemQuery = partial_read(res), _item_query(res)
    Writer = Annotated[Principal, Depends(require(res.write_role))]
    if res.routes is not None:
        res.routes(router, res)

    @router.get(
        "",
        response_model=Page[Read] | Page[Partial],  # type: ignore[valid-type]
        operation_id=f"list_{name}",
        summary=f"List {res.plural}",
        description=(
            f"Filter, sort and page through {res.plural}. Multi-valued filters take repeated or "
            "comma-separated values. Page with `offset`, or follow `next` (also the Link header's "
            'rel="next"), whose `after` cursor makes a deep page cost what the first does. The '
            "Link header carries first/prev/next/last pages (prev and last by offset only). The weak "
            "ETag changes when the data of the tables the page reads changes, or the query does: "
            "send it back in If-None-Match to be told 304 while the page is unchanged. As a file ("
            + files
            + ", by Accept or `format`): every record selected, streamed, with a strong ETag; an "
            "Accept none of the formats satisfies is a 406."
        ),
        openapi_extra=CONDITIONAL["openapi_extra"],
        responses={
            200: {
                "description": (
                    "The page, or as a file the whole list (with Content-Disposition: attachment; "
                    'filename="<path>-<date>.<extension>").'
                ),
                "headers": header("Link", "ETag", "Vary"),
                "content": openapi_content(offered),
            },
            304: CONDITIONAL["responses"][304],
            **error_responses(400, 406, 422, 503),
        },
    )
    async def list_records(
        request: Request,
        conn: ReadConnection,
        opener: ExportConnection,
        params: Annotated[QueryModel, Query()],  # type: ignore[valid-type]
    ) -> Response:
        query: ListParams = params
        asked = Format(query.format) if query.format is not None else None
        fmt = negotiate(request.headers.get("accept"), asked, offered)
        if fmt != Format.json:
            return await export.export_response(request, await opener.open(), res, query, fmt)
        # The tag is read before the page: the page is then at least as new as the tag says,
        # so a 304 can never stand for data older than the client's copy.
        tag = await _list_etag(conn, res, query)
        if etag_matches(request.headers.get("if-none-match"), tag.removeprefix("W/")):
            return Response(status_code=304, headers={"ETag": tag, "Vary": "Accept"})
        page = await reads.page_body(conn, res, query)
        link = link_header(
            request,
            total=page.total,
            limit=query.limit,
            offset=query.offset,
            keyset=True,
            next_after=page.next,
        )
        return Response(page.body, media_type=JSON, headers={"Link": link, "ETag": tag, "Vary": "Accept"})

    @router.post(
        "",
        status_code=201,
        response_model=Read,
        operation_id=f"create_{name}",
        summary=f"Create a {res.singular}",
        responses={
            201: {
                "description": (
                    "Created; Location names the new record. A repeat with the same Idempotency-Key "
                    "answers the first request's 201 again, with Idempotent-Replayed: true."
                ),
                "links": _links(name),
                "headers": header("Location", "ETag", "Idempotent-Replayed"),
            },
            **error_responses(400, 401, 403, 409, 422, 503),
        },
    )
    async def create_record(
        request: Request,
        session: Session,
        principal: Writer,
        body: Create,  # type: ignore[valid-type]
        idempotency_key: IdempotencyKey = None,
    ) -> Response:
        async def run() -> idempotency.Answer:
            record = await service.create_record(session, registry, res, body, actor_of(request, principal))
            path = request.scope.get("root_path", "") + request.app.url_path_for(
                f"get_{name}", record_id=record.id
            )
            location = public_link(request, path)
            content, headers = await _written(session, res, record.id)
            return idempotency.Answer(201, content, {"Location": location, **headers})

        if idempotency_key is None:
            answer = await run()
            return Response(answer.body, status_code=201, media_type=JSON, headers=answer.headers)
        canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True)  # type: ignore[attr-defined]
        fingerprint = idempotency.request_fingerprint("POST", request.url.path, canonical)
        return await idempotency.once(session, principal.credential, idempotency_key, fingerprint, run)

    @router.get(
        "/{record_id}",
        response_model=Read | Partial,
        operation_id=f"get_{name}",
        name=f"get_{name}",
        summary=f"Read a {res.singular}",
        openapi_extra=CONDITIONAL["openapi_extra"],
        responses={**CONDITIONAL["responses"], **error_responses(404, 422, 503)},
    )
    async def get_record(
        request: Request,
        conn: ReadConnection,
        record_id: RecordId,
        params: Annotated[ItemQuery, Query()],  # type: ignore[valid-type]
    ) -> Response:
        fields = reads.fields_of(params)
        found = await reads.item_body(conn, res, record_id, fields)
        if found is None:
            raise NotFound(tr("{resource} {id} does not exist", resource=res.singular, id=record_id))
        body, version = found
        # The version is the whole record's tag (and If-Match's); a part of it is another
        # representation, so its tag names the fields too.
        tag = etag(version) if fields is None else f'"{version}.{fields_tag(fields)}"'
        if etag_matches(request.headers.get("if-none-match"), tag):
            return Response(status_code=304, headers={"ETag": tag})
        return Response(body, media_type=JSON, headers={"ETag": tag})

    @router.patch(
        "/{record_id}",
        response_model=Read,
        operation_id=f"update_{name}",
        summary=f"Change some fields of a {res.singular}",
        description=(
            "Only the fields sent change; an embedded list sent is replaced whole. Say which version "
            "you change with If-Match (its ETag) or `version` in the body: without either 428, with "
            "an old one 412 (the problem carries `current_version`)."
        ),
        responses={
            200: {"description": "Successful Response", "headers": header("ETag")},
            **error_responses(400, 401, 403, 404, 409, 412, 422, 428, 503),
        },
    )
    async def update_record(
        request: Request,
        session: Session,
        principal: Writer,
        record_id: RecordId,
        body: Update,  # type: ignore[valid-type]
        if_match: IfMatch = None,
    ) -> Response:
        version = expected_version(if_match, getattr(body, "version", None))
        actor = actor_of(request, principal)
        record = await service.update_record(session, registry, res, record_id, body, actor, version)
        content, headers = await _written(session, res, record.id)
        return Response(content, media_type=JSON, headers=headers)

    @router.delete(
        "/{record_id}",
        status_code=204,
        operation_id=f"delete_{name}",
        summary=f"Delete a {res.singular}",
        description=(
            "Refused with 409, naming them (`referenced_by`), while other records still refer to it. "
            "If-Match is required: without it 428, with an old ETag 412."
        ),
        openapi_extra={"parameters": [IF_MATCH_REQUIRED]},
        responses=error_responses(401, 403, 404, 409, 412, 422, 428, 503),
    )
    async def delete_record(
        request: Request, session: Session, principal: Writer, record_id: RecordId
    ) -> Response:
        # Read here rather than declared, so that a missing If-Match is 428 (a precondition
        # the client must add), not 422; the document declares it required.
        version = expected_version(if_match_header(request), None)
        await service.delete_record(session, registry, res, record_id, actor_of(request, principal), version)
        return Response(status_code=204)

    return router
