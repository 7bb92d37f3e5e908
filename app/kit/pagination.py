"""Page[T], the list query parameters every collection shares, and RFC 8288 Link headers."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import URL

from app.kit.schemas import AnyOf
from app.kit.types import Int32, Int64, SearchQuery, WholeNumber

T = TypeVar("T")

MAX_LIMIT = 500
MAX_OFFSET = 1_000_000_000


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: Int64 = Field(description="Number of records matching the filters, all pages together.")
    limit: Int32
    offset: Int32


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
    # Each resource narrows this to its sortable fields (app.kit.router).
    sort: Annotated[
        AnyOf[str] | None,
        Field(description="Sort keys: a field, or '-' and a field for descending order."),
    ] = None


def link_header(url: URL, *, total: int, limit: int, offset: int) -> str:
    """first/prev/next/last links for a page, keeping every other query parameter."""
    links: list[str] = []

    def add(rel: str, new_offset: int) -> None:
        target = url.include_query_params(limit=limit, offset=new_offset)
        links.append(f'<{target}>; rel="{rel}"')

    add("first", 0)
    if offset > 0:
        add("prev", max(offset - limit, 0))
    if offset + limit < total:
        add("next", offset + limit)
    last = ((total - 1) // limit) * limit if total > 0 else 0
    add("last", last)
    return ", ".join(links)
