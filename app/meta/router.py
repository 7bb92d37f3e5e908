"""Enumerations for clients, and the liveness and readiness probes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field, create_model
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.responses import Response

from app.core.i18n import tr
from app.core.observability import POOL_IN_USE, metrics_body
from app.core.problems import error_responses, language_of, problem
from app.kit.registry import Registry
from app.kit.schemas import label_model
from app.meta.access import MetricsAccess

router = APIRouter()


class Health(BaseModel):
    status: Annotated[str, Field(examples=["ok"])]


class Ready(BaseModel):
    status: str
    database: str
    migration: str | None
    expected_migration: str | None


def enum_table(registry: Registry) -> dict[str, list[dict[str, str]]]:
    return {
        name: [{"code": m.value, "vi": m.vi, "en": m.en} for m in enum]
        for name, enum in registry.enums.items()
    }


def enums_router(registry: Registry) -> APIRouter:
    """GET /api/v1/meta/enums, its answer typed enumeration by enumeration: each a list of
    {code, vi, en} whose code is one of that enumeration's codes."""
    fields: dict[str, Any] = {}
    for name, enum in registry.enums.items():
        fields[name] = (
            list[label_model(enum)],  # type: ignore[misc]
            Field(description=f"The codes of {name.replace('_', ' ')}."),
        )
    Enumerations = create_model("Enumerations", __config__=ConfigDict(extra="forbid"), **fields)
    body = Enumerations.model_validate(enum_table(registry)).model_dump_json().encode()
    enums_router = APIRouter()

    @enums_router.get(
        "/api/v1/meta/enums",
        tags=["meta"],
        operation_id="list_enums",
        summary="Every enumeration with its codes and Vietnamese and English labels",
        response_model=Enumerations,
    )
    async def enums() -> Response:
        return Response(body, media_type="application/json")

    return enums_router


@router.get(
    "/metrics",
    tags=["meta"],
    operation_id="metrics",
    summary="Prometheus metrics: requests by route and status, latency, pool use, database errors",
    description=(
        "Only from the networks in METRICS_ALLOWED_NETWORKS (loopback by default), or with "
        "`Authorization: Bearer <METRICS_TOKEN>` when that token is configured."
    ),
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}, **error_responses(401, 403)},
)
async def metrics(request: Request) -> Response:
    access: MetricsAccess = request.app.state.metrics_access
    access.check(request.client.host if request.client else None, request.headers.get("authorization"))
    engine = getattr(request.app.state, "engine", None)
    if engine is not None:
        POOL_IN_USE.set(engine.pool.checkedout())
    body, content_type = metrics_body()
    return Response(body, media_type=content_type)


@router.get("/health", tags=["meta"], operation_id="health", summary="The process answers")
async def health() -> Health:
    return Health(status="ok")


@router.get(
    "/ready",
    tags=["meta"],
    operation_id="ready",
    summary="The database answers and its schema is at the latest migration",
    response_model=Ready,
    responses={503: {"description": "Not ready (a problem, with the fields of Ready as extensions)"}},
)
async def ready(request: Request) -> Response:
    engine: AsyncEngine = request.app.state.engine
    expected: str | None = request.app.state.migration_head
    current: str | None = None
    database = "ok"
    try:
        async with engine.connect() as conn:
            current = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    except Exception:
        database = "unreachable or not migrated"
    is_ready = database == "ok" and current == expected
    body = Ready(
        status="ready" if is_ready else "not ready",
        database=database,
        migration=current,
        expected_migration=expected,
    )
    if is_ready:
        return JSONResponse(body.model_dump())
    # Not ready is an error like any other: a problem, with the details as extension members.
    return problem(
        503,
        tr("not ready: the database is unreachable or not migrated")
        if database != "ok"
        else tr("not ready: migrations pending"),
        instance=request.url.path,
        language=language_of(request),
        slug="service-unavailable",
        extra=body.model_dump(exclude={"status"}),  # `status` is the problem's own member
        headers={"Retry-After": "1"},
    )


__all__ = ["error_responses", "router"]
