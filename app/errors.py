"""Errors rendered as RFC 9457 application/problem+json, and the handlers that guarantee it.

No traceback, SQL or driver message ever reaches a client: database errors are classified by
SQLSTATE and constraint name, and anything unforeseen becomes a bare 500 problem (and is logged).
"""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import Any

import asyncpg
import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, Field
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from app.middleware import BodyTooLarge
from app.observability import DB_ERRORS

log = logging.getLogger("app.errors")
MAX_FIELD_ERRORS = 100  # listed in a 422; the rest are counted

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "urn:craftvillage:problem:"


class FieldError(BaseModel):
    field: str = Field(description="Dotted path of the offending field or parameter.")
    message: str
    location: str | None = Field(default=None, description="body, query, path or header.")


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(examples=[TYPE_BASE + "not-found"])
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = None


class AppError(Exception):
    """Base of the domain errors; each subclass is one kind of problem."""

    status: int = 400
    slug: str = "bad-request"

    def __init__(
        self,
        detail: str,
        *,
        errors: list[FieldError] | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.extra = extra or {}
        self.headers = headers or {}


class NotFound(AppError):
    status, slug = 404, "not-found"


class Conflict(AppError):
    status, slug = 409, "conflict"


class InvalidInput(AppError):
    status, slug = 422, "validation-failed"


class Unavailable(AppError):
    status, slug = 503, "service-unavailable"


class DatabaseUnavailable(Unavailable):
    """The database cannot be reached, or dropped the connection (a restart, a terminated
    session): nothing of the request was committed unless its answer says so."""

    slug = "database-unavailable"


class TimedOut(AppError):
    """A query ran past its statement timeout, or the database did not answer in time."""

    status, slug = 504, "timeout"


def problem(
    status: int,
    detail: str | None,
    *,
    instance: str | None,
    slug: str | None = None,
    errors: list[FieldError] | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """Render a problem+json response."""
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    body: dict[str, Any] = {
        "type": TYPE_BASE + slug if slug else "about:blank",
        "title": phrase,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    if errors is not None:
        body["errors"] = [e.model_dump(exclude_none=True) for e in errors]
    if extra:
        body.update(extra)
    return Response(orjson.dumps(body), status_code=status, media_type=PROBLEM_JSON, headers=headers)


# Messages for database rules whose name alone would not tell a person what went wrong.
CONSTRAINT_MESSAGES: dict[str, str] = {
    "ck_village_participating_le_total": "households_participating must not exceed households_total",
    "ck_village_coordinates_paired": "latitude and longitude must be given together",
    "ck_village_recognised_has_date": "a recognised village needs recognised_on",
    "ck_village_revoked_after_recognised": "revoked_on must not be before recognised_on",
    "ck_cooperative_dissolved_after_founded": "dissolved_on must not be before founded_on",
    "ck_trade_fair_country_matches_kind": "an overseas fair is abroad; hosted and attended fairs are in VN",
    "ck_trade_fair_end_after_start": "end_on must not be before start_on",
    "ck_programme_activity_matches_kind": "activity is not one of the activities of this kind",
    "ck_admin_unit_valid_period": "valid_to must not be before valid_from",
    "ck_admin_unit_not_own_parent": "an administrative unit cannot be its own parent",
    "uq_admin_unit_code_valid_from": "an administrative unit with this code and valid_from exists",
    "uq_village_figure_village_id_year": "this village already has figures for this year",
    "uq_cooperative_registration_code": "a co-operative with this registration_code exists",
    "uq_programme_beneficiary_programme_id_village_id": "a village is listed twice",
    "uq_programme_beneficiary_programme_id_cooperative_id": "a co-operative is listed twice",
    "uq_trade_fair_participant_trade_fair_id_village_id": "a village is listed twice",
    "uq_trade_fair_participant_trade_fair_id_cooperative_id": "a co-operative is listed twice",
}


def _driver_error(error: sa_exc.DBAPIError) -> tuple[str | None, str | None]:
    """SQLSTATE and constraint name of the driver error behind a SQLAlchemy error."""
    orig = error.orig
    cause = getattr(orig, "__cause__", None) or orig
    sqlstate = getattr(cause, "sqlstate", None) or getattr(orig, "pgcode", None)
    constraint = getattr(cause, "constraint_name", None)
    return sqlstate, constraint


def classify_db_error(error: sa_exc.DBAPIError) -> AppError:
    """Turn a database error into the problem a client should see, without driver text."""
    return classify_sqlstate(*_driver_error(error))


def classify_sqlstate(sqlstate: str | None, constraint: str | None) -> AppError:  # noqa: PLR0911
    """The problem for a SQLSTATE (and the constraint it names, if any)."""
    state = sqlstate or ""
    rule = CONSTRAINT_MESSAGES.get(constraint or "", f"the record breaks the rule {constraint}")
    if state == "23505":
        return Conflict(rule, extra={"constraint": constraint})
    # 23001 restrict_violation: how PostgreSQL 18 reports a delete refused by ON DELETE RESTRICT.
    if state in {"23503", "23001"}:
        return Conflict(
            "the record refers to, or is referred to by, another record: " + (constraint or ""),
            extra={"constraint": constraint},
        )
    if state.startswith("23"):
        return InvalidInput(rule, extra={"constraint": constraint})
    if state.startswith("22"):
        return InvalidInput("a value is out of range or malformed for the database")
    if state in {"57014"}:
        return TimedOut("the query took longer than the statement timeout", headers={"Retry-After": "1"})
    if state in {"40001", "40P01"}:
        return Conflict("the change collided with a concurrent change; retry it")
    return DatabaseUnavailable("the database is unavailable", headers={"Retry-After": "1"})


def install_error_handlers(app: FastAPI) -> None:  # noqa: PLR0915 - one handler per error kind
    """Render every error the app can raise as problem+json."""

    async def app_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, AppError)
        return problem(
            error.status,
            error.detail,
            instance=request.url.path,
            slug=error.slug,
            errors=error.errors,
            extra=error.extra,
            headers=error.headers,
        )

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        detail = error.detail if isinstance(error.detail, str) else None
        if error.status_code == 404 and detail == "Not Found":
            detail = f"no route matches {request.url.path}"
        headers = dict(error.headers or {})
        if error.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}"
            headers["Allow"] = ", ".join(allowed_methods(request))
        return problem(error.status_code, detail, instance=request.url.path, headers=headers)

    async def validation_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        errors: list[FieldError] = []
        malformed = False
        found = error.errors()
        for item in found[:MAX_FIELD_ERRORS]:  # a huge invalid body must not make a huge answer
            loc = [str(p) for p in item.get("loc", ())]
            if item.get("type") == "json_invalid":
                malformed = True
            location = loc[0] if loc else None
            field = ".".join(loc[1:]) if len(loc) > 1 else (loc[0] if loc else "")
            errors.append(FieldError(field=field, message=_message(item), location=location))
        if malformed:
            return problem(
                400,
                "the request body is not valid JSON",
                instance=request.url.path,
                slug="malformed-json",
            )
        more = f" and {len(found) - len(errors)} more errors" if len(found) > len(errors) else ""
        return problem(
            422,
            "the request has invalid fields: " + ", ".join(e.field or "body" for e in errors) + more,
            instance=request.url.path,
            slug="validation-failed",
            errors=errors,
        )

    async def db_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, sa_exc.DBAPIError)
        return await database_problem(request, classify_db_error(error), error.orig)

    async def driver_error(request: Request, error: Exception) -> Response:
        # Reads run on the raw asyncpg connection, so its errors arrive unwrapped.
        mapped: AppError
        if isinstance(error, asyncpg.PostgresError):
            mapped = classify_sqlstate(error.sqlstate, getattr(error, "constraint_name", None))
        elif isinstance(error, TimeoutError):  # asyncpg's command timeout: no answer at all
            mapped = TimedOut("the database did not answer in time", headers={"Retry-After": "1"})
        else:
            mapped = DatabaseUnavailable("the database is unavailable", headers={"Retry-After": "1"})
        return await database_problem(request, mapped, error)

    async def database_problem(request: Request, mapped: AppError, cause: object) -> Response:
        """A database failure's problem; the server-side ones counted and logged (with the
        driver's message, which never reaches the client)."""
        if mapped.status >= 500:
            DB_ERRORS.labels(mapped.slug).inc()
            log.warning("database error on %s %s: %r", request.method, request.url.path, cause)
        return await app_error(request, mapped)

    async def pool_timeout(request: Request, error: Exception) -> Response:
        DB_ERRORS.labels("pool-timeout").inc()
        return problem(
            503,
            "no database connection became free in time",
            instance=request.url.path,
            slug="pool-exhausted",
            headers={"Retry-After": "1"},
        )

    async def stale(request: Request, error: Exception) -> Response:
        # A backstop: writes lock the row first, so this means a change raced past the lock.
        return problem(
            409,
            "the record was changed or deleted by another request meanwhile; read it and retry",
            instance=request.url.path,
            slug="conflict",
        )

    async def too_large(request: Request, error: Exception) -> Response:
        return problem(413, "the request body is too large", instance=request.url.path, slug="too-large")

    async def unexpected(request: Request, error: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, "an unexpected error occurred", instance=request.url.path)

    app.add_exception_handler(AppError, app_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(sa_exc.DBAPIError, db_error)
    app.add_exception_handler(sa_exc.TimeoutError, pool_timeout)
    driver_exceptions = (
        asyncpg.PostgresError,
        asyncpg.InterfaceError,
        asyncpg.InternalClientError,  # e.g. a connection broken midway through a read
        ConnectionError,
        OSError,
    )
    for driver_exception in driver_exceptions:
        app.add_exception_handler(driver_exception, driver_error)
    app.add_exception_handler(StaleDataError, stale)
    app.add_exception_handler(BodyTooLarge, too_large)
    app.add_exception_handler(Exception, unexpected)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route accepts on this path (Starlette names only the first route's)."""
    # FastAPI keeps an included router as one lazy route; iter_route_contexts() sees through it.
    methods: set[str] = set()
    path = request.scope.get("path", "")
    for route in iter_route_contexts(request.app.routes):
        regex = getattr(route, "path_regex", None)
        if route.methods and regex is not None and regex.match(path):
            methods |= set(route.methods)
    if "GET" in methods:
        methods.add("HEAD")  # served by the HeadAsGet middleware
    return sorted(methods)


_ALTERNATIVES = re.compile(r"\(([^()]*)\)")


def _message(item: Any) -> str:
    if item.get("type") == "string_pattern_mismatch" and tuple(item.get("loc", ())) == ("query", "sort"):
        # The schema's pattern lists the sortable fields; say so in words, not as a regex.
        found = _ALTERNATIVES.search(str((item.get("ctx") or {}).get("pattern", "")))
        allowed = ", ".join(sorted(found.group(1).split("|"))) if found else ""
        return f"unknown sort field; sortable: {allowed}"
    msg = str(item.get("msg", "invalid value"))
    # Pydantic prefixes custom errors with "Value error, "; the field name already says where.
    return msg.removeprefix("Value error, ")


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problems an operation can answer with."""
    return {status: {"description": HTTPStatus(status).phrase} for status in statuses}
