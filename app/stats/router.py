"""GET /api/v1/stats/...: the aggregates integrators pull, computed in SQL and served from cache.

Annotations are evaluated at import (no `from __future__ import annotations`): FastAPI reads
each statistic's query model from the endpoint signature.
"""

import json
from enum import StrEnum
from typing import Annotated, Any, Literal, cast

import orjson
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, PlainValidator, create_model, model_validator
from starlette.responses import Response

from app.core.errors import FieldError, InvalidInput
from app.core.i18n import tr
from app.core.openapi import conditional_get
from app.core.problems import error_responses
from app.kit.deps import Session
from app.kit.pagination import FilterParams
from app.kit.schemas import AnyOf
from app.kit.types import AS_OF, PLACES_OF, QDay, QProvinceCode, QReportYear
from app.spreadsheets.formats import FILES, FORMAT_HELP, LANG_HELP, Format, negotiate, openapi_content
from app.stats.cache import cached, cached_json
from app.stats.files import file_response
from app.stats.queries import (
    MAX_DIMENSIONS,
    OVERVIEW_DEPENDS_ON,
    OVERVIEW_PLACES_DEPEND_ON,
    Stats,
    grouped,
    overview_body,
    overview_params,
    overview_query,
    stats_values,
    year_span,
)
from app.stats.schemas import Overview, parts
from app.stats.specs import ALL_STATS

router = APIRouter(prefix="/api/v1/stats", tags=["statistics"])
YearParam = QReportYear
OFFERED = (Format.json, *FILES)


class StatsFormat(StrEnum):
    """The formats a statistic is offered in."""

    json = "json"
    csv = "csv"
    xlsx = "xlsx"


FILE_HELP = (
    "A statistic as a file: its rows, then its totals; the same as sending the media type in "
    "Accept. " + FORMAT_HELP.split(":", 1)[0] + "."
)
RENDERING: dict[str, Any] = {
    "format": (StatsFormat | None, Field(default=None, description=FILE_HELP)),
    "lang": (Literal["vi", "en"] | None, Field(default=None, description=LANG_HELP)),
}


class OverviewQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    year: YearParam = Field(description="The reporting year.")
    province: AnyOf[QProvinceCode] | None = Field(
        default=None,
        description=(
            "Only these provinces (codes, e.g. 36): villages, their figures and co-operatives by "
            "their place, programmes and fairs by the province of the department that recorded them. "
            + PLACES_OF
        ),
    )
    as_of: QDay | None = Field(default=None, description=AS_OF)
    format: StatsFormat | None = Field(default=None, description=FILE_HELP)
    lang: Literal["vi", "en"] | None = Field(default=None, description=LANG_HELP)


# Documented as it is served: an ETag on every answer, If-None-Match taken, 304 for a current copy.
CONDITIONAL = conditional_get()
RESPONSES = {
    **CONDITIONAL["responses"],
    200: {**CONDITIONAL["responses"][200], "content": openapi_content(OFFERED)},
    **error_responses(406, 422, 503),
}


def chosen_format(request: Request, params: Any) -> Format:
    """The format asked for: `format`, else Accept (406 when nothing offered satisfies it)."""
    asked = Format(params.format) if params.format is not None else None
    return negotiate(request.headers.get("accept"), asked, OFFERED)


CACHING = (
    " Responses carry a strong ETag that changes exactly when the data they depend on change; "
    "send it back in If-None-Match for a 304. `Cache-Control: no-cache` forces recomputation."
)


@router.get(
    "/overview",
    operation_id="stats_overview",
    summary="Headline figures of a year",
    description=(
        "Villages: `total` counts villages whose established_year is empty or not after the year; "
        "`recognised` those with a status other than unrecognised, recognised_on on or before "
        "31 December and not revoked by then; `workers` and `production_value_vnd` sum the "
        "village figures of the year. Co-operatives: founded on or before 31 December (or no "
        "date) and not dissolved before 1 January. Programmes: those of the year by kind; "
        "`support_vnd` is public funding (central, provincial, district, commune), "
        "`counterpart_vnd` counterpart funding. Fairs: by the year of start_on; "
        "`hosted_booths` sums the standard booths of hosted fairs. Every code of each `by_*` "
        "map and of `fairs` is listed, zeros included. All amounts are whole đồng." + CACHING
    ),
    response_model=Overview,
    openapi_extra=CONDITIONAL["openapi_extra"],
    responses=RESPONSES,
)
async def overview(
    request: Request,
    session: Session,
    params: Annotated[OverviewQuery, Query()],
) -> Response:
    year = params.year

    async def compute() -> bytes:
        query = overview_query(
            params.province is not None, params.province is not None and params.as_of is not None
        )
        values = overview_params(year, province=params.province, as_of=params.as_of)
        rows = (await session.execute(query, values)).all()
        return json_body(overview_body(year, rows))

    depends_on = OVERVIEW_DEPENDS_ON + (OVERVIEW_PLACES_DEPEND_ON if params.province is not None else ())
    fmt = chosen_format(request, params)
    if fmt == Format.json:
        return await cached_json(request, session, depends_on, compute)
    found = await cached(request, session, depends_on, compute, variant=f"|{fmt}|{params.lang}")
    if isinstance(found, Response):
        return found
    return await file_response(request, session, found, fmt, params.lang, None, depends_on)


def json_body(body: dict[str, Any]) -> bytes:
    """The body as JSON. orjson refuses integers beyond 64 bits, which sums of money can reach
    (ten lines of 9 * 10^18 đồng): those bodies take the standard library's exact encoder."""
    try:
        return orjson.dumps(body)
    except orjson.JSONEncodeError:
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


MAX_GROUP_BY_CHARS = 200  # all values together; longer is no list of dimension names


def _dimension_list(value: Any) -> list[str] | None:
    """group_by as given: repeated (`group_by=a&group_by=b`), comma-separated (`group_by=a,b`) or
    both, like every multi-valued parameter. None when absent; parse_group_by judges the rest."""
    if value is None:
        return None
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(item, str) for item in items):
        raise ValueError(tr("must be dimension names"))
    if sum(len(item) for item in items) > MAX_GROUP_BY_CHARS:
        raise ValueError(tr("at most {most} characters", most=MAX_GROUP_BY_CHARS))
    return [part.strip() for item in items for part in item.split(",")]


class GroupByRequired(BaseModel):
    """A missing group_by reaches parse_group_by (which names the allowed dimensions) instead of
    pydantic's bare "field required"; the field itself stays required, and so does the document."""

    @model_validator(mode="before")
    @classmethod
    def absent_group_by(cls, data: Any) -> Any:
        if isinstance(data, dict) and "group_by" not in data:
            return {**data, "group_by": None}
        return data


def _group_by_field(stats: Stats) -> tuple[Any, Any]:
    """group_by, documented as what every client sends: an array of the statistic's dimension
    enumeration (repeated parameters, OpenAPI's default form style), 1 to 3 items, required."""
    dimension, _, _ = parts(stats.response)
    documented = Annotated[
        list[dimension],  # type: ignore[valid-type]
        Field(min_length=1, max_length=MAX_DIMENSIONS, json_schema_extra={"uniqueItems": True}),
    ]
    annotation = Annotated[list[str], PlainValidator(_dimension_list, json_schema_input_type=documented)]
    description = (
        f"1 to {MAX_DIMENSIONS} distinct dimensions of: {', '.join(stats.dimensions)}; the rows are "
        "sorted by them in this order. Repeat the parameter (group_by=a&group_by=b) or separate "
        "with commas (group_by=a,b)."
    )
    return annotation, Field(description=description)


def _query_model(stats: Stats) -> type[FilterParams]:
    """The list endpoint's filters plus group_by (and, for villages, the years covered)."""
    extra: dict[str, Any] = {"group_by": _group_by_field(stats), **RENDERING}
    if {"year", "year_from", "year_to"} <= stats.extra_params:  # the villages' figure years
        extra |= {
            "year": (AnyOf[YearParam] | None, Field(default=None, description="Only these years.")),
            "year_from": (YearParam | None, Field(default=None, description="First year covered.")),
            "year_to": (YearParam | None, Field(default=None, description="Last year covered.")),
        }
    name = stats.resource.query.__name__.removesuffix("Query") + "StatsQuery"
    model = create_model(name, __base__=(stats.resource.query, GroupByRequired), **extra)
    return cast(type[FilterParams], model)


def parse_group_by(stats: Stats, dims: list[str] | None) -> list[str]:
    """1 to 3 known, distinct dimensions, or a 422 listing the allowed ones."""
    allowed = list(stats.dimensions)
    problem = None
    if dims is None:
        problem = tr("group_by is required")
    elif not 1 <= len(dims) <= MAX_DIMENSIONS:
        problem = tr("give 1 to {most} dimensions", most=MAX_DIMENSIONS)
    elif unknown := [d for d in dims if d not in stats.dimensions]:
        problem = tr("unknown dimension {names}", names=", ".join(repr(d) for d in unknown))
    elif len(set(dims)) != len(dims):
        problem = tr("a dimension is repeated")
    if problem:
        message = tr("{problem}; allowed: {allowed}", problem=problem, allowed=", ".join(allowed))
        raise InvalidInput(
            tr("group_by: {message}", message=message),
            errors=[FieldError(field="group_by", message=message, location="query")],
            extra={"allowed": allowed},
        )
    assert dims is not None
    return dims


def format_row(stats: Stats, dims: list[str], row: Any) -> dict[str, Any]:
    """A result row with enumerations labelled and districts named; measures as integers."""
    out: dict[str, Any] = {}
    for name in dims:
        dimension = stats.dimensions[name]
        if dimension.kind == "unit":
            unit = {k: row[f"{name}__{k}"] for k in ("id", "code", "name")}
            out[name] = None if unit["id"] is None else unit
        elif dimension.kind == "enum":
            code = row[name]
            label = dimension.enum(code) if code is not None and dimension.enum else None
            out[name] = {"code": code, "vi": label.vi, "en": label.en} if label else None
        elif dimension.kind == "number":
            out[name] = None if row[name] is None else int(row[name])
        else:
            out[name] = row[name]
    for measure in stats.measures:
        out[measure] = int(row[measure])
    return out


def _add_endpoint(stats: Stats) -> None:
    QueryModel = _query_model(stats)
    name = stats.path.replace("-", "_")

    @router.get(
        "/" + stats.path,
        operation_id=f"stats_{name}",
        summary=f"{stats.resource.plural.capitalize()} grouped by 1 to {MAX_DIMENSIONS} dimensions",
        description=(
            f"Dimensions: {', '.join(stats.dimensions)}. Measures: {', '.join(stats.measures)}. "
            f"Takes the filters of GET /api/v1/{stats.path}. With `year` a dimension and both "
            "year_from and year_to given, every year of the range appears, zeros included. "
            "`totals` covers every record the filters select." + CACHING
        ),
        response_model=stats.response,
        openapi_extra=CONDITIONAL["openapi_extra"],
        responses=RESPONSES,
    )
    async def grouped_stats(
        request: Request,
        session: Session,
        params: Annotated[QueryModel, Query()],  # type: ignore[valid-type]
    ) -> Response:
        dims = parse_group_by(stats, cast(Any, params).group_by)

        async def compute() -> bytes:
            span = year_span(stats, params, dims)  # zeros filled in only for a range the client gave
            query = await stats.resolve(session, params) if stats.resolve else params
            rows_query = grouped(stats, stats.build(stats, query, dims), dims, span)
            values = stats_values(stats, query)
            rows = (await session.execute(rows_query, values)).mappings().all()
            totals = (await session.execute(stats.totals_query(query), values)).mappings().one()
            body = {
                "group_by": dims,
                "rows": [format_row(stats, dims, row) for row in rows],
                "totals": {m: int(totals[m]) for m in stats.measures},
            }
            return json_body(body)

        fmt = chosen_format(request, params)
        if fmt == Format.json:
            return await cached_json(request, session, stats.depends_on, compute)
        lang = cast(Any, params).lang
        found = await cached(request, session, stats.depends_on, compute, variant=f"|{fmt}|{lang}")
        if isinstance(found, Response):
            return found
        return await file_response(request, session, found, fmt, lang, stats, stats.depends_on)


for _stats in ALL_STATS:
    _add_endpoint(_stats)
