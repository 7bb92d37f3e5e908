"""The errors the service raises, each one kind of problem a client can get.

Nothing here knows about HTTP frameworks: app.core.handlers renders these as RFC 9457
application/problem+json. Database errors are classified by SQLSTATE and constraint name, never
by the driver's text, which must not reach a client.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, Field, SkipValidation
from sqlalchemy import exc as sa_exc

from app.core.i18n import tr


def left_out_when_none(schema: dict[str, Any]) -> None:
    """The JSON schema of a member that is left out of the answer when it has no value, never
    sent as null: optional, with neither null among its types nor a default."""
    schema.pop("default", None)
    options = schema.get("anyOf")
    if isinstance(options, list) and {"type": "null"} in options:
        kept = [option for option in options if option != {"type": "null"}]
        del schema["anyOf"]
        if len(kept) == 1:
            schema.update(kept[0])
        else:
            schema["anyOf"] = kept


class FieldError(BaseModel):
    field: str = Field(description="Dotted path of the offending field or parameter.")
    # Kept as given (a Text stays a Text, so that the problem can say it in the client's language).
    message: SkipValidation[str]
    location: Literal["body", "query", "path", "header"] | None = Field(
        default=None, description="Where the field was sent.", json_schema_extra=left_out_when_none
    )


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


class NotAcceptable(AppError):
    """No format the operation can answer in is one the Accept header takes."""

    status, slug = 406, "not-acceptable"


class Conflict(AppError):
    status, slug = 409, "conflict"


class Gone(AppError):
    """What the client asked for is no longer kept (a changes-feed cursor past its retention)."""

    status, slug = 410, "cursor-expired"


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


class PreconditionFailed(AppError):
    status, slug = 412, "precondition-failed"


class PreconditionRequired(AppError):
    status, slug = 428, "precondition-required"


class BodyTooLarge(Exception):
    """Raised while reading a request body past the limit (rendered as a 413 problem)."""


def _driver_error(error: sa_exc.DBAPIError) -> tuple[str | None, str | None]:
    """SQLSTATE and constraint name of the driver error behind a SQLAlchemy error."""
    orig = error.orig
    cause = getattr(orig, "__cause__", None) or orig
    sqlstate = getattr(cause, "sqlstate", None) or getattr(orig, "pgcode", None)
    constraint = getattr(cause, "constraint_name", None)
    return sqlstate, constraint


def classify_db_error(error: sa_exc.DBAPIError, messages: Mapping[str, str] | None = None) -> AppError:
    """Turn a database error into the problem a client should see, without driver text."""
    return classify_sqlstate(*_driver_error(error), messages)


def classify_sqlstate(  # noqa: PLR0911
    sqlstate: str | None, constraint: str | None, messages: Mapping[str, str] | None = None
) -> AppError:
    """The problem for a SQLSTATE (and the constraint it names, if any); `messages` says in
    words what each named rule requires (the tables declare them)."""
    state = sqlstate or ""
    rule = (messages or {}).get(constraint or "") or tr(
        "the record breaks the rule {constraint}", constraint=constraint
    )
    # 23P01 exclusion_violation: two periods of one identity overlap, a conflict like a duplicate.
    if state in {"23505", "23P01"}:
        return Conflict(rule, extra={"constraint": constraint})
    # 23001 restrict_violation: how PostgreSQL 18 reports a delete refused by ON DELETE RESTRICT.
    if state in {"23503", "23001"}:
        return Conflict(
            tr(
                "the record refers to, or is referred to by, another record: {constraint}",
                constraint=constraint or "",
            ),
            extra={"constraint": constraint},
        )
    if state.startswith("23"):
        return InvalidInput(rule, extra={"constraint": constraint})
    if state.startswith("22"):
        return InvalidInput(tr("a value is out of range or malformed for the database"))
    if state in {"57014"}:
        return TimedOut(tr("the query took longer than the statement timeout"), headers={"Retry-After": "1"})
    if state in {"40001", "40P01"}:
        return Conflict(tr("the change collided with a concurrent change; retry it"))
    return DatabaseUnavailable(tr("the database is unavailable"), headers={"Retry-After": "1"})
