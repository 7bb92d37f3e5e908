"""The gazetteer's own reads: a code on a day, and a unit's predecessors and successors.

Annotations are evaluated at import (no `from __future__ import annotations`): FastAPI reads the
parameter types from the signatures.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from app.admin_units.schemas import AdminUnitRead, Succession
from app.core.errors import NotFound
from app.core.i18n import tr
from app.core.openapi import header
from app.core.problems import error_responses, language_of, problem
from app.kit import reads
from app.kit.deps import ReadConnection, RecordId
from app.kit.etags import etag
from app.kit.resource import Resource
from app.kit.types import QDay
from app.models import AdminLevel

JSON = "application/json"
# A statistical code's length says its level: 01 a province, 001 a district, 00004 a commune.
LEVEL_BY_LENGTH = {2: AdminLevel.province, 3: AdminLevel.district, 5: AdminLevel.commune}

_VALID_ON = "(valid_from IS NULL OR valid_from <= $3) AND (valid_to IS NULL OR valid_to >= $3)"
_RESOLVE = f"SELECT id FROM admin_unit WHERE level = $1 AND code = $2 AND {_VALID_ON}"

# The units at the other end of a unit's successions, as JSON, with whether the unit exists.
_LINKS = """
SELECT EXISTS (SELECT FROM admin_unit WHERE id = $1),
       coalesce(json_agg(json_build_object(
           'unit', json_build_object(
               'id', u.id, 'level', u.level, 'code', u.code, 'name', u.name, 'type', u.type,
               'name_with_type', u.name_with_type, 'valid_from', u.valid_from, 'valid_to', u.valid_to),
           'effective_on', s.effective_on, 'kind', s.kind, 'note', s.note)
           ORDER BY s.effective_on, u.level, lpad(u.code, 16, '0'), u.id), '[]')::text
FROM admin_unit_succession s JOIN admin_unit u ON u.id = s.{other}_id
WHERE s.{this}_id = $1
"""
PREDECESSORS = _LINKS.format(other="predecessor", this="successor")
SUCCESSORS = _LINKS.format(other="successor", this="predecessor")

Code = Annotated[
    str,
    Query(
        pattern=r"^([0-9]{2}|[0-9]{3}|[0-9]{5})$",
        description="Statistical code, leading zeros kept: 36, 358, 13777.",
        examples=["13777"],
    ),
]
On = Annotated[QDay, Query(description="The day: which unit had this code then.", examples=["2015-06-01"])]
Level = Annotated[
    AdminLevel | None,
    Query(
        description="The unit's level; by default the code's length says it (2, 3 or 5 digits).",
        examples=["commune"],
    ),
]


def admin_unit_routes(router: APIRouter, res: Resource[Any]) -> None:
    """GET /resolve, /{id}/predecessors and /{id}/successors of the administrative units."""

    @router.get(
        "/resolve",
        response_model=AdminUnitRead,
        operation_id="resolve_admin_unit",
        summary="The unit a code named on a day",
        description=(
            "Codes are reused: 13777 was Xã Thành Lợi until 2025-06-30 and is Phường Trường Thi "
            "from 2025-07-01. Answers the unit of that level and code valid on `on`; 404 when none was."
        ),
        responses={
            200: {"description": "Successful Response", "headers": header("ETag")},
            **error_responses(404, 422, 503),
        },
    )
    async def resolve(conn: ReadConnection, code: Code, on: On, level: Level = None) -> Response:
        chosen = level or LEVEL_BY_LENGTH[len(code)]  # the pattern allows these lengths only
        unit_id = await conn.fetchval(_RESOLVE, chosen.value, code, on)
        found = None if unit_id is None else await reads.item_body(conn, res, unit_id)
        if found is None:
            raise NotFound(
                tr("no {level} had the code {code} on {on}", level=chosen.value, code=code, on=on.isoformat())
            )
        body, version = found
        return Response(body, media_type=JSON, headers={"ETag": etag(version)})

    @router.api_route("/resolve", methods=["POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    async def resolve_is_read_only(request: Request) -> Response:
        # Without this, /{record_id}'s PATCH and DELETE would take "resolve" for an id (a 422).
        return problem(
            405,
            tr("{method} is not allowed on {path}", method=request.method, path=request.url.path),
            instance=request.url.path,
            headers={"Allow": "GET, HEAD"},
            language=language_of(request),
        )

    def links(sql: str, direction: str) -> Any:
        async def endpoint(conn: ReadConnection, record_id: RecordId) -> Response:
            exists, body = await conn.fetchrow(sql, record_id)
            if not exists:
                raise NotFound(tr("{resource} {id} does not exist", resource=res.singular, id=record_id))
            return Response(body.encode(), media_type=JSON)

        endpoint.__name__ = direction
        return endpoint

    for sql, direction, summary in (
        (PREDECESSORS, "predecessors", "The units this one succeeded, and when"),
        (SUCCESSORS, "successors", "The units that succeeded this one, and when"),
    ):
        router.add_api_route(
            f"/{{record_id}}/{direction}",
            links(sql, direction),
            methods=["GET"],
            response_model=list[Succession],
            operation_id=f"{direction}_of_admin_unit",
            summary=summary,
            description=(
                "Each step with the other unit, the first day of the new arrangement, its kind "
                "(whole, part, renamed, unchanged) and the official note as published."
            ),
            responses=error_responses(404, 422, 503),
        )
