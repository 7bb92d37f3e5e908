"""The generic record service: get, create, update, delete for any Resource.

Services build statements and flush; they never commit (the session dependency does).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import Table, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import (
    Conflict,
    FieldError,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
)
from app.core.i18n import tr, validation_message
from app.kit.audit import Actor, AuditAction, diff, record_event
from app.kit.etags import Expected, Listed, Malformed, Star, etag
from app.kit.registry import Registry
from app.kit.resource import M, Resource, table_of
from app.models import Record


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
        raise NotFound(tr("{resource} {id} does not exist", resource=res.singular, id=record_id))
    return record


async def create_record(
    session: AsyncSession, registry: Registry, res: Resource[M], data: BaseModel, actor: Actor
) -> M:
    """Insert a record (and its embedded lists) after checking what it refers to exists."""
    values = data.model_dump()
    await _check_references(session, registry, res, values)
    if res.check is not None:
        values.update(await res.check(session, values, frozenset(data.model_fields_set), None))
    record = new_record(res, values)
    session.add(record)
    await session.flush()
    await record_event(
        session, actor, AuditAction.create, res.path, record.id, diff({}, values), record.version
    )
    return record


def check_version(res: Resource[Any], record: Record, expected: Expected, *, body: bool = True) -> None:
    """428 when the client did not say which version it changes, or said it in a form that is
    no ETag; 412 when its copy is not the latest. Each names the record's current ETag."""
    current = etag(record.version)
    if expected is None:
        if body:
            detail = tr(
                "say which version of {resource} {id} you are changing: send If-Match with its ETag "
                "(now {etag}) or `version` in the body",
                resource=res.singular,
                id=record.id,
                etag=current,
            )
            needed = tr("required, or `version` in the body")
        else:
            detail = tr(
                "say which version of {resource} {id} you are changing: send If-Match with its ETag "
                "(now {etag})",
                resource=res.singular,
                id=record.id,
                etag=current,
            )
            needed = tr("required")
        raise PreconditionRequired(
            detail,
            errors=[FieldError(field="If-Match", message=needed, location="header")],
            extra={"current_version": record.version},
        )
    if isinstance(expected, Listed) and record.version in expected.versions:
        return
    if isinstance(expected, Star | Malformed):
        if isinstance(expected, Star):
            detail = tr(
                "If-Match: * does not say which version of {resource} {id} you read; "
                "send its ETag (now {etag})",
                resource=res.singular,
                id=record.id,
                etag=current,
            )
        else:
            detail = tr(
                "If-Match must be an entity tag in quotes, like {etag}: the current ETag of {resource} {id}",
                etag=current,
                resource=res.singular,
                id=record.id,
            )
        raise PreconditionRequired(
            detail,
            errors=[
                FieldError(
                    field="If-Match",
                    message=tr("an entity tag in quotes, like {etag}", etag=current),
                    location="header",
                )
            ],
            extra={"current_version": record.version},
        )
    if isinstance(expected, Listed) or expected != record.version:
        raise PreconditionFailed(
            tr(
                "{resource} {id} is at version {version} (ETag {etag}), not {expected}: someone changed "
                "it meanwhile; read it again and reapply your change",
                resource=res.singular,
                id=record.id,
                version=record.version,
                etag=current,
                expected=expected.header if isinstance(expected, Listed) else expected,
            ),
            extra={"current_version": record.version},
            headers={"ETag": current},
        )


async def update_record(
    session: AsyncSession,
    registry: Registry,
    res: Resource[M],
    record_id: int,
    changes: BaseModel,
    actor: Actor,
    expected_version: Expected,
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
            tr("the change would leave the record invalid"),
            errors=[
                FieldError(
                    field=".".join(str(p) for p in e["loc"]) or "body",
                    message=validation_message(e),
                    location="body",
                )
                for e in error.errors()
            ],
        ) from None
    patch = {k: validated[k] for k in patch}
    # An embedded list sent back unchanged is not a change: replacing it would bump the version
    # with nothing to record.
    patch = {k: v for k, v in patch.items() if not (k in res.children and _same_lines(before[k], v))}
    await _check_references(session, registry, res, patch)
    if res.check is not None:
        patch.update(await res.check(session, {**before, **validated}, frozenset(patch), record.id))
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
        await record_event(session, actor, AuditAction.update, res.path, record.id, changed, record.version)
    return record


async def delete_record(
    session: AsyncSession,
    registry: Registry,
    res: Resource[M],
    record_id: int,
    actor: Actor,
    expected_version: Expected,
) -> None:
    """Delete the version the client saw, or refuse with 409 naming what still refers to it."""
    record = await get_record(session, res, record_id, for_update=True)
    check_version(res, record, expected_version, body=False)
    refs = await referrers(session, registry, res.table, record_id)
    if refs:
        listed = "; ".join(
            f"{r['count']} {r['resource']} ({r['field']}, ids {', '.join(map(str, r['ids']))})" for r in refs
        )
        raise Conflict(
            tr(
                "{resource} {id} is still referred to by {listed}",
                resource=res.singular,
                id=record_id,
                listed=listed,
            ),
            extra={"referenced_by": refs},
        )
    before = current_values(res, record)
    version = record.version
    await session.delete(record)
    await session.flush()
    await record_event(session, actor, AuditAction.delete, res.path, record_id, diff(before, {}), version)


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


def new_record(res: Resource[M], values: Mapping[str, Any]) -> M:
    """A record of the resource built from validated create values, embedded lines included."""
    record = res.model()
    _assign(res, record, values)
    return record


def _assign(res: Resource[Any], record: Record, values: Mapping[str, Any]) -> None:
    for name, value in values.items():
        if name in res.children:
            child = res.children[name]
            setattr(record, name, [child.model(**line) for line in value])
        else:
            setattr(record, name, value)


async def _check_references(
    session: AsyncSession, registry: Registry, res: Resource[Any], values: Mapping[str, Any]
) -> None:
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

    collect(res.table, values, "", None)
    for name, child in res.children.items():
        for index, line in enumerate(values.get(name) or []):
            collect(table_of(child.model), line, f"{name}.{index}.", child.parent_key)
    errors: list[FieldError] = []
    for table, ids in wanted.items():
        found = set((await session.execute(select(table.c.id).where(table.c.id.in_(ids)))).scalars())
        for missing in sorted(ids - found):
            for path in where[(table, missing)]:
                label = registry.labels.get(table.name, table.name.replace("_", " "))
                errors.append(
                    FieldError(
                        field=path,
                        message=tr("{resource} {id} does not exist", resource=label, id=missing),
                        location="body",
                    )
                )
    if errors:
        raise InvalidInput(
            tr(
                "the record refers to records that do not exist: {fields}",
                fields=", ".join(e.field for e in errors),
            ),
            errors=errors,
        )


async def referrers(
    session: AsyncSession, registry: Registry, table: Table, record_id: int
) -> list[dict[str, Any]]:
    """Records that still refer to this one through a foreign key that does not cascade."""
    queries = []
    for fk in registry.referring.get(table.name, ()):
        other = fk.parent.table
        owner_of = registry.owners[other.name]  # every such table has one: checked at start-up
        owner = other.c[owner_of.column_for(fk.parent.name)]
        queries.append(
            select(
                literal(owner_of.resource).label("resource"),
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
