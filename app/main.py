"""create_app(): the FastAPI application with its routers, error handlers and database."""

from __future__ import annotations

import inspect
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.script import ScriptDirectory
from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from app.audit.router import audit_router
from app.auth.passwords import Turns
from app.auth.router import router as auth_router
from app.changes.router import changes_router
from app.core.bodies import BodyRoute
from app.core.db import make_engine, make_sessionmaker
from app.core.handlers import install_error_handlers
from app.core.middleware import Edge
from app.core.observability import POOL_SIZE, process_exited
from app.core.openapi import finish
from app.core.problems import Problem
from app.core.settings import Settings, get_settings
from app.docs_ui.router import docs_router
from app.imports.router import imports_router
from app.kit import versioning
from app.kit.registry import Registry
from app.kit.router import crud_router
from app.meta.access import MetricsAccess
from app.meta.router import enums_router
from app.meta.router import router as meta_router
from app.registry import IMPORTS, REGISTRY
from app.stats.cache import Gate, Memory
from app.stats.router import router as stats_router
from app.webhooks.router import webhooks_router
from app.webhooks.targets import system_resolver
from app.webhooks.worker import Worker

ROOT = Path(__file__).resolve().parent.parent

DESCRIPTION = """
Records of a provincial Department of Industry and Trade (Sở Công Thương): craft villages
(làng nghề), rural-industry co-operatives (hợp tác xã), industrial-extension (khuyến công) and
trade-promotion programmes, and trade fairs.

* Money is whole đồng (VND has no minor unit), always a JSON integer: `format: int64` on a
  record, a plain integer on a statistic's sum (which may exceed 64 bits). JavaScript's
  `JSON.parse` reads integers exactly only up to 2^53 - 1 (9,007,199,254,740,991 đồng, about
  nine million billion, far beyond the amounts recorded here). To read larger values exactly,
  parse the body with a reviver that sees the source text (`JSON.parse(text, (k, v, ctx) =>
  ...)`, Node 22+ and current browsers) or a library such as lossless-json. The service never
  sends numbers as strings: one type per field keeps every generated client simple.
* Dates are `YYYY-MM-DD` from 1900-01-01 to 2100-12-31 (years 1000 onwards for the year a
  village's craft began).
* Reads are public, except the changes feed (`/api/v1/changes`), which takes a credential of
  any role, and webhook subscriptions (`/api/v1/webhooks`), for administrators. A write takes
  one credential: `Authorization: Bearer <token>` (staff) or `X-API-Key: <key>` (machines),
  never both.
* Text is stored in Unicode NFC; search ignores tone marks and case, and `đ` matches `d`.
* Every error is `application/problem+json` (RFC 9457); with `Accept-Language: vi` its title,
  detail and field messages are in Vietnamese (English is the default).
"""


def migration_head() -> str | None:
    """The newest Alembic revision shipped with this code."""
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return ScriptDirectory.from_config(config).get_current_head()


# Bytes a multipart form adds around an imported file (boundaries, part headers).
IMPORT_FORM_SLACK = 64 * 1024


def create_app(settings: Settings | None = None, registry: Registry = REGISTRY) -> FastAPI:
    """The application for these settings, serving the resources of `registry`."""
    settings = settings or get_settings()
    versioning.install(registry.tracked_tables)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.database_url is None:
            raise RuntimeError("DATABASE_URL is not set; start the service with `python -m app serve`")
        engine = make_engine(settings.database_url, settings)
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        app.state.migration_head = migration_head()
        POOL_SIZE.set(settings.db_pool_size + settings.db_max_overflow)
        worker = Worker(engine, registry, settings) if settings.webhook_worker else None
        if worker is not None:
            worker.start()
        app.state.webhook_worker = worker
        try:
            yield
        finally:
            if worker is not None:
                await worker.stop()
            await engine.dispose()
            process_exited(os.getpid())

    app = FastAPI(
        title="Craft-village data service",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        # Ours instead (app.docs_ui): served with no CDN, under a Content-Security-Policy.
        docs_url=None,
        redoc_url=None,
        # Starlette's trailing-slash redirect names the Host header's host: a 404 problem instead.
        redirect_slashes=False,
    )
    app.state.registry = registry
    app.state.public_url = settings.public_url  # links name it, never the request's Host
    app.state.changes_retention_days = settings.changes_retention_days
    app.state.metrics_access = MetricsAccess.from_settings(settings)
    app.state.webhook_networks = list(settings.webhook_allowed_networks)
    app.state.webhook_resolver = system_resolver  # tests put their own
    app.state.stats_memory = Memory()
    app.state.stats_gate = Gate(
        settings.stats_concurrency, settings.stats_statement_timeout_ms / 1000 or None
    )
    # Requests that check or set a password wait their turn here, holding no connection.
    app.state.password_turns = Turns(2 * settings.password_hash_concurrency, settings.password_wait_s)
    install_error_handlers(app, registry.constraint_messages)
    if settings.cors_origins:
        wildcard = "*" in settings.cors_origins
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=not wildcard,  # never `*` together with credentials
            allow_methods=["GET", "HEAD", "POST", "PATCH", "DELETE"],
            allow_headers=[
                "Authorization",
                "X-API-Key",
                "Content-Type",
                "If-Match",
                "If-None-Match",
                "Idempotency-Key",
                "X-Request-ID",
            ],
            expose_headers=["ETag", "Location", "Link", "Retry-After", "X-Stats-Source", "X-Request-ID"],
        )
    # Outermost: every answer (CORS refusals and 413s included) gets its request id and headers.
    # An import's upload may be larger: its file's own limit, and room for the multipart form around it.
    larger = {"/api/v1/imports": settings.import_max_bytes + IMPORT_FORM_SLACK}
    app.add_middleware(Edge, limit=settings.max_body_bytes, access_log=settings.access_log, larger=larger)
    _mount(app, enums_router(registry))
    _mount(app, meta_router)
    for resource in registry:
        _mount(app, crud_router(registry, resource), prefix="/api/v1")
    _mount(app, stats_router)
    _mount(app, auth_router)
    _mount(app, audit_router(registry))
    _mount(app, changes_router(registry))
    _mount(app, webhooks_router(registry))
    _mount(app, imports_router(registry, IMPORTS, settings), prefix="/api/v1")
    _mount(app, docs_router(app.title, app.openapi_url or "/openapi.json"))
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _mount(app: FastAPI, router: APIRouter, prefix: str = "") -> None:
    """Add the router's routes to the application's own route list, under `prefix`.

    FastAPI's include_router keeps each included router as a nested, lazily resolved group,
    matched level by level on every request: with a route list this size that is about a quarter
    of the Python calls of a single-record read. Here each route is added again to the app, as
    include_router used to do: same endpoint, same settings (router-level tags are already in
    each route), the app as the provider of dependency overrides, and BodyRoute as the class, so
    that every request body is checked the same way (app.core.bodies).
    """
    settings = [
        name
        for name in inspect.signature(app.router.add_api_route).parameters
        if name not in {"path", "endpoint"}
    ]
    for route in router.routes:
        if not isinstance(route, APIRoute):  # pragma: no cover - every route here is an APIRoute
            raise TypeError(f"cannot mount {route!r}")
        copied = {name: getattr(route, name) for name in settings if hasattr(route, name)}
        app.router.add_api_route(
            prefix + route.path, route.endpoint, route_class_override=BodyRoute, **copied
        )


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document: FastAPI's, completed by app.core.openapi.finish()."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    for defs_name, defs in components["Problem"].pop("$defs", {}).items():
        components[defs_name] = defs
    app.openapi_schema = finish(schema, servers=[{"url": "/", "description": "This service"}])
    return app.openapi_schema
