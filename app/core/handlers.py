"""The exception handlers that render every error the app can raise as problem+json.

No traceback, SQL or driver message ever reaches a client; anything unforeseen becomes a bare
500 problem (and is logged).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import iter_route_contexts
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from app.core.errors import (
    AppError,
    BodyTooLarge,
    DatabaseUnavailable,
    FieldError,
    TimedOut,
    classify_db_error,
    classify_sqlstate,
)
from app.core.i18n import tr, validation_message
from app.core.observability import DB_ERRORS
from app.core.problems import language_of, problem

log = logging.getLogger("app.errors")
MAX_FIELD_ERRORS = 100  # listed in a 422; the rest are counted
LOCATIONS = frozenset({"body", "query", "path", "header"})


def install_error_handlers(  # noqa: PLR0915 - one handler per error kind
    app: FastAPI, constraint_messages: Mapping[str, str]
) -> None:
    """Render every error the app can raise as problem+json; a broken database rule is
    explained with its message from `constraint_messages`."""

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
            language=language_of(request),
        )

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        detail = error.detail if isinstance(error.detail, str) else None
        if error.status_code == 404 and detail == "Not Found":
            detail = tr("no route matches {path}", path=request.url.path)
        headers = dict(error.headers or {})
        if error.status_code == 405:
            detail = tr("{method} is not allowed on {path}", method=request.method, path=request.url.path)
            headers["Allow"] = ", ".join(allowed_methods(request))
        return problem(
            error.status_code,
            detail,
            instance=request.url.path,
            headers=headers,
            language=language_of(request),
        )

    async def validation_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        errors: list[FieldError] = []
        malformed = False
        found = error.errors()
        language = language_of(request)
        for item in found[:MAX_FIELD_ERRORS]:  # a huge invalid body must not make a huge answer
            loc = [str(p) for p in item.get("loc", ())]
            if item.get("type") == "json_invalid":
                malformed = True
            where = {"location": loc[0]} if loc and loc[0] in LOCATIONS else {}
            field = ".".join(loc[1:]) if len(loc) > 1 else (loc[0] if loc else "")
            errors.append(FieldError(field=field, message=_message(item), **where))
        if malformed:
            return problem(
                400,
                tr("the request body is not valid JSON"),
                instance=request.url.path,
                slug="malformed-json",
                language=language,
            )
        fields = ", ".join(e.field or "body" for e in errors)
        if len(found) > len(errors):
            detail = tr(
                "the request has invalid fields: {fields} and {more} more errors",
                fields=fields,
                more=len(found) - len(errors),
            )
        else:
            detail = tr("the request has invalid fields: {fields}", fields=fields)
        return problem(
            422, detail, instance=request.url.path, slug="validation-failed", errors=errors, language=language
        )

    async def db_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, sa_exc.DBAPIError)
        return await database_problem(request, classify_db_error(error, constraint_messages), error.orig)

    async def driver_error(request: Request, error: Exception) -> Response:
        # Reads run on the raw asyncpg connection, so its errors arrive unwrapped.
        mapped: AppError
        if isinstance(error, asyncpg.PostgresError):
            mapped = classify_sqlstate(
                error.sqlstate, getattr(error, "constraint_name", None), constraint_messages
            )
        elif isinstance(error, TimeoutError):  # asyncpg's command timeout: no answer at all
            mapped = TimedOut(tr("the database did not answer in time"), headers={"Retry-After": "1"})
        else:
            mapped = DatabaseUnavailable(tr("the database is unavailable"), headers={"Retry-After": "1"})
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
            tr("no database connection became free in time"),
            instance=request.url.path,
            slug="pool-exhausted",
            headers={"Retry-After": "1"},
            language=language_of(request),
        )

    async def stale(request: Request, error: Exception) -> Response:
        # A backstop: writes lock the row first, so this means a change raced past the lock.
        return problem(
            409,
            tr("the record was changed or deleted by another request meanwhile; read it and retry"),
            instance=request.url.path,
            slug="conflict",
            language=language_of(request),
        )

    async def too_large(request: Request, error: Exception) -> Response:
        return problem(
            413,
            tr("the request body is too large"),
            instance=request.url.path,
            slug="too-large",
            language=language_of(request),
        )

    async def unexpected(request: Request, error: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(
            500, tr("an unexpected error occurred"), instance=request.url.path, language=language_of(request)
        )

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
    path = request.scope.get("path", "")
    matching = [
        route
        for route in iter_route_contexts(request.app.routes)
        if route.methods and (regex := getattr(route, "path_regex", None)) is not None and regex.match(path)
    ]
    # Routes left out of the document (a guard answering 405 itself) do not count, unless they
    # are all there is (/docs); and a path written out (/admin-units/resolve) is that resource,
    # not an id of /{record_id}.
    documented = [route for route in matching if getattr(route, "include_in_schema", True)] or matching
    literal = [route for route in documented if "{" not in getattr(route, "path", "{")]
    methods: set[str] = set()
    for route in literal or documented:
        methods |= set(route.methods or ())
    if "GET" in methods:
        methods.add("HEAD")  # served by the HeadAsGet middleware
    return sorted(methods)


_ALTERNATIVES = re.compile(r"\(([^()]*)\)")


def _message(item: Any) -> str:
    """A field error's message: ours (a Text, said in the client's language when it is
    rendered) or Pydantic's (translated here by its error type)."""
    if item.get("type") == "string_pattern_mismatch" and tuple(item.get("loc", ())) == ("query", "sort"):
        # The schema's pattern lists the sortable fields; say so in words, not as a regex.
        found = _ALTERNATIVES.search(str((item.get("ctx") or {}).get("pattern", "")))
        allowed = ", ".join(sorted(found.group(1).split("|"))) if found else ""
        return tr("unknown sort field; sortable: {allowed}", allowed=allowed)
    return validation_message(item)
