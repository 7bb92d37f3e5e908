"""Page[T], the list query parameters every collection shares, and RFC 8288 Link headers.

Links never name the host the request's Host header claims (anyone can send any Host): they are
absolute under PUBLIC_URL when it is configured, otherwise relative references (RFC 3986 §4.2).
"""

from __future__ import annotations

from typing import Annotated, Generic, Literal, TypeVar
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import URL
from starlette.requests import Request

from app.kit.schemas import AnyOf
from app.kit.types import Int32, Int64, QDateTime, SearchQuery, WholeNumber
from app.spreadsheets.formats import FORMAT_HELP, LANG_HELP, Format

T = TypeVar("T")

MAX_LIMIT = 500
MAX_OFFSET = 1_000_000_000
CURSOR_MAX_CHARS = 2000


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: Int64 = Field(description="Number of records matching the filters, all pages together.")
    limit: Int32
    offset: Int32
    next: str | None = Field(
        description=(
            'Cursor of the next page, to send as `after` (the Link header\'s rel="next" carries '
            "it); null on the last page."
        )
    )


class FilterParams(BaseModel):
    """Filters of a collection, shared by its list and its statistics; unknown parameters are refused."""

    model_config = ConfigDict(extra="forbid")

    q: Annotated[
        SearchQuery | None,
        Field(
            description=(
                "Search text. Tone marks and case are ignored and đ matches d, so 'van chang' "
                "finds 'Vân Chàng'. Every word must occur."
            ),
        ),
    ] = None


class ListParams(FilterParams):
    """Paging and ordering, besides the filters."""

    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT, description="Page size (1 to 500)."), WholeNumber] = 50
    offset: Annotated[int, Field(ge=0, le=MAX_OFFSET, description="Records to skip."), WholeNumber] = 0
    after: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=CURSOR_MAX_CHARS,
            pattern=r"^[A-Za-z0-9_-]+$",
            description=(
                "Continue after the last record of a page: the `next` cursor of that page (or its "
                'Link rel="next"), with the same sort. Unlike offset, a deep page costs what the '
                "first does, and records inserted meanwhile shift nothing. Not with offset."
            ),
            # The cursor after the record of id 1 in the default order (no sort, no q).
            examples=["eyJzIjoiIiwiayI6WzFdfQ"],
        ),
    ] = None
    created_since: Annotated[
        QDateTime | None,
        Field(
            description=(
                "Records created at or after this moment (ISO 8601, e.g. 2026-01-31T08:00:00+07:00; "
                "without an offset, UTC). created_at is when the creating transaction began."
            ),
        ),
    ] = None
    updated_since: Annotated[
        QDateTime | None,
        Field(
            description=(
                "Records changed (or created) at or after this moment. updated_at is when the "
                "changing transaction began, so a change that committed later than it began can "
                "fall before a moment you already polled: to keep a copy, follow /api/v1/changes."
            ),
        ),
    ] = None
    # Each resource narrows these to its fields (app.kit.router).
    fields: Annotated[
        AnyOf[str] | None,
        Field(description="Only these fields of each record (repeated or comma-separated)."),
    ] = None
    sort: Annotated[
        AnyOf[str] | None,
        Field(description="Sort keys: a field, or '-' and a field for descending order."),
    ] = None
    # Each resource narrows this to the formats it is offered in (app.kit.router).
    format: Annotated[Format | None, Field(description=FORMAT_HELP)] = None
    lang: Annotated[Literal["vi", "en"] | None, Field(description=LANG_HELP)] = None


def public_link(request: Request, path: str, query: str = "") -> str:
    """`path` (as the app sees it, root path included) and `query` as a link for clients: under
    PUBLIC_URL (app.state.public_url) when set, else a path-absolute reference."""
    base: str | None = getattr(request.app.state, "public_url", None)
    if base:
        root = request.scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]  # PUBLIC_URL names the service's root, prefix and all
    path = quote(path, safe="/:@!$&'()*+,;=-._~%")  # nothing that could end the <...> of a Link
    # Never `//host/...`, which a client would read as another host.
    path = (base or "") + "/" + path.lstrip("/")
    return f"{path}?{query}" if query else path


def link_header(
    request: Request,
    *,
    total: int,
    limit: int,
    offset: int,
    keyset: bool = False,
    next_after: str | None = None,
) -> str:
    """first/prev/next/last links for a page, keeping every other query parameter. With `keyset`
    (a list that takes `after`), next continues from `next_after`, the page's cursor, and a page
    reached by cursor has no prev or last (a position has no page number)."""
    links: list[str] = []
    # Only the path and query of the request are used, never its Host.
    here = URL(path="/", query=request.scope.get("query_string", b"").decode("latin-1"))

    def add(rel: str, **params: int | str) -> None:
        query = (
            here.remove_query_params(["offset", "after"]).include_query_params(limit=limit, **params).query
        )
        links.append(f'<{public_link(request, request.scope["path"], query)}>; rel="{rel}"')

    add("first", offset=0)
    by_cursor = keyset and "after" in request.query_params
    if offset > 0 and not by_cursor:
        add("prev", offset=max(offset - limit, 0))
    if keyset and next_after is not None:
        add("next", after=next_after)
    elif not keyset and offset + limit < total:
        add("next", offset=offset + limit)
    if not by_cursor:
        last = ((total - 1) // limit) * limit if total > 0 else 0
        add("last", offset=last)
    return ", ".join(links)
