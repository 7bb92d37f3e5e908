"""RFC 9457 problem details: the one shape of every error answer, and its OpenAPI entries."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

import orjson
from pydantic import BaseModel, Field
from starlette.requests import HTTPConnection
from starlette.responses import Response

from app.core.errors import FieldError, left_out_when_none
from app.core.i18n import DEFAULT, Language, negotiate, say, title

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "urn:craftvillage:problem:"
Int32 = Annotated[int, Field(json_schema_extra={"format": "int32"})]
Int64 = Annotated[int, Field(json_schema_extra={"format": "int64"})]


class Referrer(BaseModel):
    """Records of one resource that still refer to the record a DELETE was refused for."""

    resource: str = Field(description="The referring resource's path, e.g. villages.")
    field: str = Field(description="Its field that holds the reference.")
    count: Int64
    ids: list[Int64] = Field(description="The first 20 of their ids.")


class CellError(BaseModel):
    """A cell of an imported file that cannot be imported (POST /api/v1/imports)."""

    row: Int32 = Field(description="The row number as the spreadsheet shows it (the header is row 1).")
    column: str = Field(description="The column's header as the file writes it.")
    value: str = Field(description="The cell's value as written (empty for an empty cell).")
    message: str = Field(description="What is wrong with it.")


class Problem(BaseModel):
    """RFC 9457 problem details. The members after `errors` are extensions that some problems
    carry; a client must ignore members it does not know."""

    type: str = Field(
        examples=[TYPE_BASE + "not-found"],
        description="A URN naming the kind of problem (urn:craftvillage:problem:<slug>), or about:blank.",
    )
    title: str = Field(description="The HTTP status phrase.")
    status: Int32
    detail: str | None = Field(
        default=None,
        description="What went wrong, in a sentence for people.",
        json_schema_extra=left_out_when_none,
    )
    instance: str | None = Field(
        default=None, description="The request path.", json_schema_extra=left_out_when_none
    )
    errors: list[FieldError | CellError] | None = Field(
        default=None,
        description=(
            "One entry per offending field or parameter (422, and 428 for a missing If-Match); for "
            "an import refused (urn:craftvillage:problem:import-rejected), one per cell: row, column, "
            "value and message, at most 1,000."
        ),
        json_schema_extra=left_out_when_none,
    )
    error_count: Int32 | None = Field(
        default=None,
        description="An import refused: how many problems it has, errors listing the first 1,000.",
        json_schema_extra=left_out_when_none,
    )
    errors_shown: Int32 | None = Field(
        default=None,
        description="An import refused: how many of them errors lists.",
        json_schema_extra=left_out_when_none,
    )
    code: str | None = Field(
        default=None,
        description="A file refused as a whole (POST /api/v1/imports): what is wrong, for programs.",
        json_schema_extra=left_out_when_none,
    )
    row: Int32 | None = Field(
        default=None,
        description="A file refused as a whole: the row where reading stopped, when known.",
        json_schema_extra=left_out_when_none,
    )
    column: str | None = Field(
        default=None,
        description="A file refused as a whole: the column (a letter) where reading stopped, when known.",
        json_schema_extra=left_out_when_none,
    )
    current_version: Int32 | None = Field(
        default=None,
        description="412: the record's version now; read it again, then retry with its ETag.",
        json_schema_extra=left_out_when_none,
    )
    referenced_by: list[Referrer] | None = Field(
        default=None,
        description="409 on DELETE: what still refers to the record.",
        json_schema_extra=left_out_when_none,
    )
    allowed: list[str] | None = Field(
        default=None,
        description="422 for an unknown value: the values allowed.",
        json_schema_extra=left_out_when_none,
    )
    constraint: str | None = Field(
        default=None,
        description="409/422 from a database rule: the rule's name.",
        json_schema_extra=left_out_when_none,
    )
    accepted: list[str] | None = Field(
        default=None,
        description="415: the media types the operation takes for its request body.",
        json_schema_extra=left_out_when_none,
    )
    available: list[str] | None = Field(
        default=None,
        description="406: the media types the operation can answer with.",
        json_schema_extra=left_out_when_none,
    )


def language_of(request: HTTPConnection) -> Language:
    """The language the client asked for (Accept-Language), English by default."""
    return negotiate(request.headers.get("accept-language"))


def problem(
    status: int,
    detail: str | None,
    *,
    instance: str | None,
    slug: str | None = None,
    errors: list[FieldError] | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    language: Language = DEFAULT,
) -> Response:
    """Render a problem+json response, its title, detail and field messages in `language`
    (English unless the client asked otherwise with Accept-Language)."""
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    body: dict[str, Any] = {
        "type": TYPE_BASE + slug if slug else "about:blank",
        "title": title(status, phrase, language),
        "status": status,
    }
    if detail is not None:
        body["detail"] = say(detail, language)
    if instance is not None:
        body["instance"] = instance
    if errors is not None:
        body["errors"] = [
            e.model_dump(exclude_none=True) | {"message": say(e.message, language)} for e in errors
        ]
    if extra:
        body.update(_said(extra, language))
    response = Response(orjson.dumps(body), status_code=status, media_type=PROBLEM_JSON, headers=headers)
    response.headers["Content-Language"] = language
    response.headers.append("Vary", "Accept-Language")
    return response


def _said(value: Any, language: Language) -> Any:
    """Values of a problem's extra members in `language`: a Text (in lists and objects too)."""
    if isinstance(value, str):
        return say(value, language)
    if isinstance(value, dict):
        return {k: _said(v, language) for k, v in value.items()}
    if isinstance(value, list):
        return [_said(v, language) for v in value]
    return value


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problems an operation can answer with."""
    return {status: {"description": HTTPStatus(status).phrase} for status in statuses}
