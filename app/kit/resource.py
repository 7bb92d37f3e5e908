"""Resource: the declaration of one kind of record, from which the kit builds its endpoints.

A resource says which table holds it, its request and response schemas, which query parameters
filter and sort by which columns, what it embeds and summarises. Everything the generic service,
router, read path and statistics need to know about it is here, nowhere else.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select, Table, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.base import ExecutableOption
from sqlalchemy.sql.elements import SQLColumnExpression

from app.core.labels import LabelledEnum
from app.kit.pagination import FilterParams
from app.kit.timeline import LEVELS, Places
from app.models import Base, Record, Role

if TYPE_CHECKING:
    from fastapi import APIRouter

M = TypeVar("M", bound=Record)


@dataclass(frozen=True)
class Child:
    """An embedded list written whole with its parent (programme funding, fair participants)."""

    model: type[Base]
    parent_key: str
    # In a file export, one column per code of `key` (an enumeration field of the lines) holding the
    # sum of their `value` (a money field): programme funding as funding_<source>_vnd.
    pivot: tuple[str, str] | None = None


@dataclass(frozen=True)
class Link:
    """A table pairing two records of the resource (a unit and its successor), written by a loader
    rather than by the endpoints; it belongs to the resource, and a refused DELETE names the record
    at the link's other end."""

    model: type[Base]
    ends: tuple[str, str]


@dataclass(frozen=True)
class Summary:
    """A small embedded summary of a referenced record (e.g. a village's district)."""

    model: type[Base]
    key: Any  # the referring column, e.g. Village.district_id
    fields: tuple[str, ...] = ("id", "name")


# What a write must meet beyond its body and the existence of what it refers to, judged against the
# database (a village's places against the years of its figures): called with the record as the
# write would leave it, the names of the fields the client gave and the record's id (None for a
# new one); raises InvalidInput naming the fields, or returns values to write besides those given
# (fields derived from them).
Check = Callable[[AsyncSession, Mapping[str, Any], frozenset[str], int | None], Awaitable[Mapping[str, Any]]]


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one object per resource
class Resource(Generic[M]):
    """Everything the generic service and router need to know about one kind of record."""

    path: str
    singular: str  # the word for one record, written tr("...") so that problems can say it in Vietnamese
    plural: str
    model: type[M]
    create: type[BaseModel]
    update: type[BaseModel]
    read: type[BaseModel]
    query: type[FilterParams]
    columns: Mapping[str, Any]
    sortable: Mapping[str, Any]
    search: SQLColumnExpression[str] | None = None
    load: Sequence[ExecutableOption] = ()
    joins: Callable[[Select[Any]], Select[Any]] | None = None
    children: Mapping[str, Child] = field(default_factory=dict)
    summaries: Mapping[str, Summary] = field(default_factory=dict)
    # Filters that are not a plain comparison with one column: name -> condition for a value.
    custom: Mapping[str, Callable[[Any], ColumnElement[bool]]] = field(default_factory=dict)
    links: Mapping[str, Link] = field(default_factory=dict)
    # Adds endpoints of its own to the resource's router (paths relative to the resource's), before
    # the five, so that a fixed path such as /resolve is not taken for a record id.
    routes: Callable[[APIRouter, Resource[Any]], None] | None = None
    # The least role that may create, change and delete (reading is public).
    write_role: Role = Role.editor
    # Enumerations of this resource published by GET /api/v1/meta/enums, under these names.
    enums: Mapping[str, type[LabelledEnum]] = field(default_factory=dict)
    # Checks of a write against the database, after the references (see Check).
    check: Check | None = None
    # Where its records are placed in the gazetteer: the geography filters and as_of
    # (app/kit/timeline.py), and the statistics' places.
    places: Places | None = None
    # Its (longitude, latitude) columns: the list is then also served as GeoJSON, and takes `bbox`.
    geometry: tuple[Any, Any] | None = None
    # The query parameters that name units of `places` by code, and the level each names. By
    # default each level the places record, under its own name (province, district, commune); a
    # resource whose `province` means something else (a fair's venue, free text) names its
    # department's province `department_province` instead: {"department_province": "province"}.
    place_params: Mapping[str, str] | None = None

    @property
    def geography(self) -> Mapping[str, str]:
        """The geography filters: query parameter -> the level of the units it names by code."""
        if self.places is None:
            return {}
        if self.place_params is not None:
            return self.place_params
        return {level: level for level in LEVELS if self.places.recorded(level) is not None}

    @property
    def table(self) -> Table:
        return table_of(self.model)

    def tables(self) -> list[Table]:
        """Its own table and those of its embedded lists: what a write to it can change."""
        return [
            self.table,
            *(table_of(child.model) for child in self.children.values()),
            *(table_of(link.model) for link in self.links.values()),
        ]

    def base_select(self) -> Select[Any]:
        stmt: Select[Any] = select(self.model).options(*self.load)
        return self.joins(stmt) if self.joins else stmt


def table_of(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table
