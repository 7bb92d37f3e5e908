"""The generic record service: list, get, create, update, delete for any Resource.

Services build statements and flush; they never commit (the session dependency does).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import ARRAY, ColumnElement, Select, Table, any_, bindparam, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.base import ExecutableOption
from sqlalchemy.sql.elements import BindParameter, SQLColumnExpression

from app.audit import Actor, diff, record_event
from app.errors import AppError, Conflict, FieldError, InvalidInput, NotFound
from app.models import Base, Record
from app.pagination import FilterParams, ListParams
from app.text import like_escape, search_terms

M = TypeVar("M", bound=Record)

RANGE_SUFFIXES: dict[str, Callable[[Any, Any], ColumnElement[bool]]] = {
    "_min": lambda c, v: c >= v,
    "_from": lambda c, v: c >= v,
    "_max": lambda c, v: c <= v,
    "_to": lambda c, v: c <= v,
}
# Parameters that are not filters: paging, ordering, search, and the statistics' own.
NOT_FILTERS = frozenset(ListParams.model_fields) | {"group_by"}


@dataclass(frozen=True)
class Child:
    """An embedded list written whole with its parent (programme funding, fair participants)."""

    model: type[Base]
    parent_key: str


@dataclass(frozen=True)
class Summary:
    """A small embedded summary of a referenced record (e.g. a village's district)."""

    model: type[Base]
    key: Any  # the referring column, e.g. Village.district_id
    fields: tuple[str, ...] = ("id", "name")


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one object per resource
class Resource(Generic[M]):
    """Everything the generic service and router need to know about one kind of record."""

    path: str
    singular: str
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

    def base_select(self) -> Select[Any]:
        stmt: Select[Any] = select(self.model).options(*self.load)
        return self.joins(stmt) if self.joins else stmt


def filter_values(
    res: Resource[Any], params: FilterParams, *, skip: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """The filters a query uses, as bound-parameter values keyed by parameter name.

    Search terms become q_0, q_1, ... (LIKE patterns). Only names and counts shape the SQL, so
    the statement for a given set of filters is compiled once and reused with other values.
    """
    values: dict[str, Any] = {}
    for name, value in params.model_dump(exclude_none=True).items():
        if name in NOT_FILTERS or name in skip:
            continue
        column = res.columns.get(name)
        is_array = column is not None and isinstance(getattr(column, "type", None), ARRAY)
        values[name] = _db_value([value] if is_array and not isinstance(value, list) else value)
    if params.q and res.search is not None:
        for index, term in enumerate(search_terms(params.q)):
            values[f"q_{index}"] = "%" + like_escape(term) + "%"
    return values


def _db_value(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [_db_value(v) for v in value]
    return value


def filter_conditions(res: Resource[Any], names: Iterable[str]) -> list[ColumnElement[bool]]:
    """WHERE clauses for these filters, each reading its value from the bound parameter of its name:
    equality or ANY for lists, range suffixes (_min, _max, _from, _to), array containment, search."""
    conditions: list[ColumnElement[bool]] = []
    for name in names:
        param: BindParameter[Any] = bindparam(name)
        if name.startswith("q_") and res.search is not None:
            conditions.append(res.search.like(func.lower(func.f_unaccent(param))))
        elif name in res.custom:
            conditions.append(res.custom[name](param))
        elif name in res.columns:
            column = res.columns[name]
            if isinstance(getattr(column, "type", None), ARRAY):
                conditions.append(column.contains(param))
            elif _is_list_filter(res, name):
                conditions.append(column == any_(param))
            else:
                conditions.append(column == param)
        else:
            for suffix, compare in RANGE_SUFFIXES.items():
                if name.endswith(suffix) and name[: -len(suffix)] in res.columns:
                    conditions.append(compare(res.columns[name[: -len(suffix)]], param))
                    break
            else:  # pragma: no cover - a schema/resource mismatch, caught by the test suite
                raise RuntimeError(f"filter {name} of {res.path} maps to no column")
    return conditions


def _is_list_filter(res: Resource[Any], name: str) -> bool:
    annotation = res.query.model_fields[name].annotation
    return "list" in str(annotation)


def order_by(res: Resource[Any], params: ListParams) -> list[Any]:
    """ORDER BY from the sort parameter (whitelisted), then id so that pages are stable."""
    clauses: list[Any] = []
    if params.sort:
        for raw in params.sort.split(","):
            key = raw.strip()
            descending = key.startswith("-")
            key = key.lstrip("-+")
            if key not in res.sortable:
                allowed = ", ".join(sorted(res.sortable))
                raise InvalidInput(
                    f"cannot sort by '{key}'; sortable fields: {allowed}",
                    errors=[FieldError(field="sort", message=f"allowed: {allowed}", location="query")],
                )
            column = res.sortable[key]
            clauses.append(column.desc().nulls_last() if descending else column.asc().nulls_last())
    elif params.q and params.q.split() and res.search is not None:
        # Best matches first: the whole query's similarity to the record's search text.
        clauses.append(func.similarity(res.search, func.lower(func.f_unaccent(bindparam("q")))).desc())
    clauses.append(res.model.id.desc() if params.sort and params.sort.strip() == "-id" else res.model.id)
    return clauses


async def get_record(
    session: AsyncSession, res: Resource[M], record_id: int, *, for_update: bool = False
) -> M:
    """The record with this id, its summaries and embedded lists loaded; 404 when absent.

    for_update locks the row until the transaction ends, so concurrent changes of one record
    queue up instead of failing, and a record deleted meanwhile is reported as not found.
    """
    stmt = res.base_select().where(res.model.id == record_id).execution_options(populate_existing=True)
    if for_update:
        stmt = stmt.with_for_update(of=res.model)
    record: M | None = (await session.execute(stmt)).scalars().first()
    if record is None:
        raise NotFound(f"{res.singular} {record_id} does not exist")
    return record


async def create_record(session: AsyncSession, res: Resource[M], data: BaseModel, actor: Actor) -> M:
    """Insert a record (and its embedded lists) after checking what it refers to exists."""
    values = data.model_dump()
    await _check_references(session, res, values)
    record = res.model()
    _assign(res, record, values)
    session.add(record)
    await session.flush()
    await record_event(session, actor, "create", res.path, record.id, diff({}, values))
    return record


class PreconditionFailed(AppError):
    status, slug = 412, "precondition-failed"


class PreconditionRequired(AppError):
    status, slug = 428, "precondition-required"


def check_version(res: Resource[Any], record: Record, expected: int | None, *, body: bool = True) -> None:
    """428 when the client did not say which version it changes; 412, naming the current
    version, when its copy is not the latest."""
    if expected is None:
        alternative = " or `version` in the body" if body else ""
        raise PreconditionRequired(
            f"say which version of {res.singular} {record.id} you are changing: send If-Match with "
            f'its ETag (now "{record.version}"){alternative}',
            errors=[FieldError(field="If-Match", message="required" + alternative, location="header")],
            extra={"current_version": record.version},
        )
    if expected != record.version:
        raise PreconditionFailed(
            f"{res.singular} {record.id} is at version {record.version}, not {expected}: "
            "someone changed it meanwhile; read it again and reapply your change",
            extra={"current_version": record.version},
            headers={"ETag": f'"{record.version}"'},
        )


async def update_record(
    session: AsyncSession,
    res: Resource[M],
    record_id: int,
    changes: BaseModel,
    actor: Actor,
    expected_version: int | None,
) -> M:
    """Apply a partial change to the version the client saw; the merged record must satisfy
    every rule a new one would."""
    record = await get_record(session, res, record_id, for_update=True)
    check_version(res, record, expected_version)
    patch = changes.model_dump(exclude_unset=True, exclude={"version"})
    before = current_values(res, record)
    merged = {**before, **patch}
    try:
        validated = res.create.model_validate(merged).model_dump()
    except ValidationError as error:
        raise InvalidInput(
            "the change would leave the record invalid",
            errors=[
                FieldError(
                    field=".".join(str(p) for p in e["loc"]) or "body",
                    message=e["msg"].removeprefix("Value error, "),
                    location="body",
                )
                for e in error.errors()
            ],
        ) from None
    patch = {k: validated[k] for k in patch}
    # An embedded list sent back unchanged is not a change: replacing it would bump the version
    # with nothing to record.
    patch = {k: v for k, v in patch.items() if not (k in res.children and _same_lines(before[k], v))}
    await _check_references(session, res, patch)
    for name in patch.keys() & res.children.keys():
        # Delete the old lines first so that a line kept in the new list cannot collide with itself.
        getattr(record, name).clear()
        await session.flush()
    _assign(res, record, patch)
    if patch.keys() & res.children.keys():
        record.updated_at = func.now()  # an UPDATE bumps the version
    await session.flush()
    changed = diff({k: before[k] for k in patch}, patch)
    if changed:  # a change that changes nothing is no write: no event, no new version
        await record_event(session, actor, "update", res.path, record.id, changed)
    return record


async def delete_record(
    session: AsyncSession, res: Resource[M], record_id: int, actor: Actor, expected_version: int | None
) -> None:
    """Delete the version the client saw, or refuse with 409 naming what still refers to it."""
    record = await get_record(session, res, record_id, for_update=True)
    check_version(res, record, expected_version, body=False)
    refs = await referrers(session, _table(res.model), record_id)
    if refs:
        listed = "; ".join(
            f"{r['count']} {r['resource']} ({r['field']}, ids {', '.join(map(str, r['ids']))})" for r in refs
        )
        raise Conflict(
            f"{res.singular} {record_id} is still referred to by {listed}",
            extra={"referenced_by": refs},
        )
    before = current_values(res, record)
    await session.delete(record)
    await session.flush()
    await record_event(session, actor, "delete", res.path, record_id, diff(before, {}))


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def current_values(res: Resource[Any], record: Record) -> dict[str, Any]:
    """The record as a create body, embedded lists included, for merging a partial change."""
    values: dict[str, Any] = {}
    for name in res.create.model_fields:
        if name in res.children:
            child_fields = _child_fields(res, name)
            values[name] = [{f: getattr(line, f) for f in child_fields} for line in getattr(record, name)]
        else:
            values[name] = getattr(record, name)
    return values


def _same_lines(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> bool:
    return diff({"lines": before}, {"lines": after}) == {}


def _child_fields(res: Resource[Any], name: str) -> list[str]:
    annotation = res.create.model_fields[name].annotation
    item_model = getattr(annotation, "__args__", (None,))[0]
    assert item_model is not None and issubclass(item_model, BaseModel)
    return list(item_model.model_fields)


def _assign(res: Resource[Any], record: Record, values: Mapping[str, Any]) -> None:
    for name, value in values.items():
        if name in res.children:
            child = res.children[name]
            setattr(record, name, [child.model(**line) for line in value])
        else:
            setattr(record, name, value)


async def _check_references(session: AsyncSession, res: Resource[Any], values: Mapping[str, Any]) -> None:
    """422 naming every *_id in the body (embedded lines included) that points at nothing."""
    wanted: dict[Table, set[int]] = {}
    where: dict[tuple[Table, int], list[str]] = {}

    def collect(table: Table, row: Mapping[str, Any], prefix: str, skip: str | None) -> None:
        for fk in table.foreign_keys:
            column = fk.parent.name
            value = row.get(column)
            if column == skip or value is None:
                continue
            target = fk.column.table
            assert isinstance(target, Table)
            wanted.setdefault(target, set()).add(value)
            where.setdefault((target, value), []).append(prefix + column)

    collect(_table(res.model), values, "", None)
    for name, child in res.children.items():
        for index, line in enumerate(values.get(name) or []):
            collect(_table(child.model), line, f"{name}.{index}.", child.parent_key)
    errors: list[FieldError] = []
    for table, ids in wanted.items():
        found = set((await session.execute(select(table.c.id).where(table.c.id.in_(ids)))).scalars())
        for missing in sorted(ids - found):
            for path in where[(table, missing)]:
                label = TABLE_LABELS.get(table.name, table.name.replace("_", " "))
                errors.append(
                    FieldError(field=path, message=f"{label} {missing} does not exist", location="body")
                )
    if errors:
        raise InvalidInput(
            "the record refers to records that do not exist: " + ", ".join(e.field for e in errors),
            errors=errors,
        )


TABLE_LABELS = {"admin_unit": "administrative unit", "cooperative": "co-operative"}

# Where a referring table is an embedded list, name its parent resource and the parent's id.
REFERRER_NAMES: dict[str, tuple[str, str]] = {
    "admin_unit": ("admin-units", "id"),
    "village": ("villages", "id"),
    "village_figure": ("village-figures", "id"),
    "cooperative": ("cooperatives", "id"),
    "programme": ("programmes", "id"),
    "programme_beneficiary": ("programmes", "programme_id"),
    "trade_fair": ("trade-fairs", "id"),
    "trade_fair_participant": ("trade-fairs", "trade_fair_id"),
}


async def referrers(session: AsyncSession, table: Table, record_id: int) -> list[dict[str, Any]]:
    """Records that still refer to this one through a foreign key that does not cascade."""
    queries = []
    for other in Base.metadata.sorted_tables:
        for fk in other.foreign_keys:
            if fk.column.table is not table or (fk.ondelete or "").upper() == "CASCADE":
                continue
            resource, id_column = REFERRER_NAMES[other.name]
            owner = other.c[id_column]
            queries.append(
                select(
                    literal(resource).label("resource"),
                    literal(fk.parent.name).label("field"),
                    func.count(func.distinct(owner)).label("count"),
                    func.array_agg(func.distinct(owner)).label("ids"),
                ).where(fk.parent == record_id)
            )
    if not queries:
        return []
    rows = (await session.execute(union_all(*queries))).mappings().all()
    return [
        {"resource": r["resource"], "field": r["field"], "count": r["count"], "ids": sorted(r["ids"])[:20]}
        for r in rows
        if r["count"]
    ]
