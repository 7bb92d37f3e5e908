"""Writing a checked import: classify each row against the database, then write set-based.

One transaction, all or nothing (the request's). Imports of one resource take turns (a
transaction-level advisory lock), so that two imports of overlapping rows cannot both find a key
absent and both create it; the tables' unique constraints are the backstop against other writers.

1. Classify: the records with the rows' natural keys are read and locked (FOR UPDATE) in one
   statement; a row whose key exists is an error in mode `create`, and in mode `upsert` an update
   when a field the file gives differs, else unchanged (nothing written: no version, no event).
2. Write, inside a savepoint: the batch row; the new rows COPYed into a temporary table and
   inserted by one INSERT … SELECT whose RETURNING feeds the audit events in the same statement;
   the changed rows likewise by one UPDATE … FROM, the event's changes being the fields that
   differ, [old, new]; the tables' data versions bumped (app.kit.versioning.bump).
3. The database's own rules (CHECK constraints, the place triggers, unique keys) are checked by
   those statements. When one refuses, the savepoint is rolled back and the rows are written again
   in halves, each in its own savepoint, down to the single rows that fail (bisection: a few
   statements per failing row, not one per row), so that every row the database refuses is
   reported with its row number, the column of the rule and the rule's message. Then the whole
   import is refused (422) and nothing stays.
4. A dry run does all of this and rolls the savepoint back: the counts, and nothing written.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import longer_client_timeout
from app.core.errors import classify_sqlstate
from app.core.i18n import Text, tr
from app.kit import versioning
from app.kit.audit import Actor, AuditAction, command_line_name
from app.kit.importing import (
    ImportRejected,
    ImportRow,
    ImportSpec,
    Rows,
    check_duplicates,
    driver,
    key_of,
    read_rows,
    refuse_if,
    validate,
)
from app.models import COMMAND_LINE_ACTOR_ID, AuditActorKind
from app.spreadsheets.cells import CellProblem, Problems, shown
from app.spreadsheets.reading import Table

Mode = Literal["create", "upsert"]
# SQLSTATEs a row can be blamed for: integrity rules (23…) and bad values (22…).
_ROW_STATES = ("22", "23")


@dataclass(frozen=True)
class Counts:
    created: int
    updated: int
    unchanged: int


@dataclass(frozen=True)
class Batch:
    """What an import did, as its batch row holds it."""

    id: int | None
    at: datetime | None
    counts: Counts


@dataclass(frozen=True)
class Who:
    """Who imports, as the batch and the audit events name them: a request's caller, or the
    command line (actor id 0, the system user's name)."""

    kind: str
    id: int
    name: str
    client_addr: str | None = None
    request_id: str | None = None

    @classmethod
    def of(cls, actor: Actor) -> Who:
        principal = actor.principal
        return cls(principal.kind, principal.id, principal.name, actor.client_addr, actor.request_id)

    @classmethod
    def command_line(cls) -> Who:
        return cls(AuditActorKind.command_line.value, COMMAND_LINE_ACTOR_ID, command_line_name())


@dataclass(frozen=True)
class FileFacts:
    name: str | None
    size: int
    sha256: str


def file_facts(name: str | None, data: bytes) -> FileFacts:
    return FileFacts(name, len(data), hashlib.sha256(data).hexdigest())


@dataclass
class _Op:
    row: ImportRow
    target: int | None  # the record updated; None: a new record


def _columns(spec: ImportSpec) -> list[str]:
    """The table's columns an import writes: the create schema's plain fields."""
    res = spec.resource
    return [name for name in res.create.model_fields if name not in res.children]


def _pg_type(spec: ImportSpec, column: str) -> str:
    return str(spec.resource.table.c[column].type.compile(dialect=postgresql.dialect()))  # type: ignore[no-untyped-call]


async def classify(
    session: AsyncSession, spec: ImportSpec, rows: Rows, mode: Mode
) -> tuple[list[_Op], list[_Op], int]:
    """New rows, changed rows (with their record) and the number unchanged; in mode create an
    existing key is a problem of its row."""
    conn = await driver(session)
    table = spec.resource.table.name
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"import:{table}")
    keyed = [(row, key_of(spec, row.values)) for row in rows.rows]
    keys = sorted({k for _, k in keyed if k is not None}, key=repr)
    existing: dict[tuple[Any, ...], list[Mapping[str, Any]]] = {}
    if keys:
        columns = _columns(spec)
        parts = ", ".join(f"${i + 1}::{p.pg_type}[]" for i, p in enumerate(spec.key))
        names = ", ".join(f"k{i}" for i in range(len(spec.key)))
        match = " AND ".join(f"{p.sql} = k.k{i}" for i, p in enumerate(spec.key))
        key_sql = ", ".join(f"{p.sql} AS key{i}" for i, p in enumerate(spec.key))
        statement = (
            f"SELECT t.id, {key_sql}, {', '.join('t.' + c for c in columns)} FROM {table} t "
            f"JOIN unnest({parts}) AS k({names}) ON {match} ORDER BY t.id FOR UPDATE OF t"
        )
        args = [[k[i] for k in keys] for i in range(len(spec.key))]
        for record in await conn.fetch(statement, *args):
            found_key = tuple(record[f"key{i}"] for i in range(len(spec.key)))
            existing.setdefault(found_key, []).append(record)
    new: list[_Op] = []
    changed: list[_Op] = []
    unchanged = 0
    for row, key in keyed:
        found = existing.get(key, []) if key is not None else []
        if not found:
            new.append(_Op(row, None))
            continue
        if len(found) > 1:
            ids = ", ".join(str(r["id"]) for r in found)
            rows.add(row, spec.key_columns[0], tr("matches several records (ids {ids}): give one", ids=ids))
            continue
        record = found[0]
        if mode == "create":
            rows.add(
                row,
                spec.key_columns[0],
                tr(
                    "{resource} {id} has this {key} already (mode=upsert updates it)",
                    resource=spec.resource.singular,
                    id=record["id"],
                    key=spec.key_description,
                ),
            )
            continue
        if any(_differs(record[c], row.values.get(c)) for c in _columns(spec) if c in rows.given):
            changed.append(_Op(row, record["id"]))
        else:
            unchanged += 1
    return new, changed, unchanged


def _differs(old: Any, new: Any) -> bool:
    if isinstance(old, list) or isinstance(new, list):
        return list(old or []) != list(new or [])
    return bool(old != new)


async def write(
    session: AsyncSession,
    spec: ImportSpec,
    rows: Rows,
    new: Sequence[_Op],
    changed: Sequence[_Op],
    unchanged: int,
    *,
    mode: Mode,
    dry_run: bool,
    actor: Who,
    facts: FileFacts,
    messages: Mapping[str, str],
) -> Batch:
    """Write the rows (see the module's text); 422 with every row the database refuses."""
    conn = await driver(session)
    counts = Counts(len(new), len(changed), unchanged)
    await conn.execute("SAVEPOINT import_write")
    try:
        # A dry run keeps no batch (and takes no id from its sequence): its events name none.
        batch_id, at = (None, None) if dry_run else await _batch(conn, spec, rows, mode, counts, actor, facts)
        await _write_ops(conn, spec, rows, [*new, *changed], actor, batch_id)
    except Exception as error:
        state, _ = _state(error)
        await conn.execute("ROLLBACK TO SAVEPOINT import_write")
        if state is None or not state.startswith(_ROW_STATES):
            raise
        problems = Problems()
        await _diagnose(conn, spec, rows, [*new, *changed], actor, problems, messages)
        if not problems:  # the rows pass one by one: report the statement's own error
            raise
        raise ImportRejected(problems) from None
    if dry_run:
        await conn.execute("ROLLBACK TO SAVEPOINT import_write")
        return Batch(None, None, counts)
    await conn.execute("RELEASE SAVEPOINT import_write")
    if new or changed:
        await session.execute(versioning.bump([spec.resource.table.name]))
    return Batch(batch_id, at, counts)


async def _batch(
    conn: Any, spec: ImportSpec, rows: Rows, mode: Mode, counts: Counts, actor: Who, facts: FileFacts
) -> tuple[int, datetime]:
    """The batch row of an import, written first: its events name it."""
    batch_id, at = await conn.fetchrow(
        """
        INSERT INTO import_batch (resource, mode, status, file_name, file_size, file_sha256, rows,
                                  created, updated, unchanged, actor_kind, actor_id, actor_name,
                                  request_id)
        VALUES ($1, $2, 'completed', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
        RETURNING id, at
        """,
        spec.path,
        mode,
        facts.name,
        facts.size,
        facts.sha256,
        len(rows.rows),
        counts.created,
        counts.updated,
        counts.unchanged,
        actor.kind,
        actor.id,
        actor.name,
        actor.request_id,
    )
    return batch_id, at


def _state(error: BaseException) -> tuple[str | None, str | None]:
    return getattr(error, "sqlstate", None), getattr(error, "constraint_name", None)


async def _write_ops(
    conn: Any, spec: ImportSpec, rows: Rows, ops: Sequence[_Op], actor: Who, batch_id: int | None
) -> None:
    """The INSERT of the new rows and the UPDATE of the changed ones, each with its audit events."""
    table = spec.resource.table.name
    columns = _columns(spec)
    temp = f"import_{table}"
    defs = ", ".join(f"{c} {_pg_type(spec, c)}" for c in columns)
    await conn.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {temp} (row_no integer, target_id bigint, {defs}) ON COMMIT DROP"
    )
    await conn.execute(f"TRUNCATE {temp}")
    records = [(op.row.number, op.target, *(op.row.values.get(c) for c in columns)) for op in ops]
    await conn.copy_records_to_table(temp, records=records, columns=["row_no", "target_id", *columns])
    actor_args = (
        actor.kind,
        actor.id,
        actor.name,
        actor.client_addr,
        actor.request_id,
        batch_id,
    )
    if any(op.target is None for op in ops):
        cols = ", ".join(columns)
        insert = (
            f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {temp} WHERE target_id IS NULL "
            f"ORDER BY row_no RETURNING id, version, {cols}"
        )
        await conn.execute(_audited(insert, AuditAction.create, spec.path, columns), *actor_args)
    updated = [op for op in ops if op.target is not None]
    if updated:
        # A key column is equal by definition of the match: not set, so that the triggers of an
        # UPDATE OF it (a figure's village and year) do not fire for nothing.
        keys = {p.sql.removeprefix("t.") for p in spec.key if p.sql.removeprefix("t.").isidentifier()}
        given = [c for c in columns if c in rows.given and c not in keys]
        sets = ", ".join(f"{c} = r.{c}" for c in given)
        returning = ", ".join(f"t.{c}, was.{c} AS old_{c}" for c in given)
        update = (
            f"UPDATE {table} t SET {sets}, version = t.version + 1, updated_at = now() "
            f"FROM {temp} r, {table} was WHERE r.target_id IS NOT NULL AND t.id = r.target_id "
            f"AND was.id = t.id RETURNING t.id, t.version, {returning}"
        )
        await conn.execute(_audited(update, AuditAction.update, spec.path, given), *actor_args)


def _audited(write: str, action: AuditAction, resource: str, fields: Sequence[str]) -> str:
    """`write` as a data-modifying CTE, each record it writes getting its audit event in the same
    statement: the caller ($1-$5), the batch ($6), the fields that differ as [old, new]."""
    before = "to_jsonb(w.old_{f})" if action == AuditAction.update else "NULL::jsonb"
    pairs = ", ".join(f"('{f}', {before.format(f=f)}, to_jsonb(w.{f}))" for f in fields)
    return f"""
WITH w AS ({write})
INSERT INTO audit_event (actor_kind, actor_id, actor_name, client_addr, request_id, action, resource,
                         record_id, changes, version, import_batch_id)
SELECT $1, $2, $3, $4, $5, '{action.value}', '{resource}', w.id,
       (SELECT coalesce(jsonb_object_agg(f.name, jsonb_build_array(f.old, f.new)), '{{}}'::jsonb)
        FROM (VALUES {pairs}) AS f(name, old, new) WHERE f.old IS DISTINCT FROM f.new),
       w.version, $6::bigint
FROM w
"""


async def _diagnose(
    conn: Any,
    spec: ImportSpec,
    rows: Rows,
    ops: Sequence[_Op],
    actor: Who,
    problems: Problems,
    messages: Mapping[str, str],
) -> None:
    """The rows the database refuses, found by writing halves in savepoints (see the module)."""
    if not ops or problems.count >= problems.most:
        return
    await conn.execute("SAVEPOINT import_probe")
    try:
        await _write_ops(conn, spec, rows, ops, actor, None)
    except Exception as error:
        await conn.execute("ROLLBACK TO SAVEPOINT import_probe")
        state, constraint = _state(error)
        if state is None or not state.startswith(_ROW_STATES):
            raise
        if len(ops) == 1:
            problems.add(_problem(spec, rows, ops[0].row, state, constraint, messages))
            return
        middle = len(ops) // 2
        await _diagnose(conn, spec, rows, ops[:middle], actor, problems, messages)
        await _diagnose(conn, spec, rows, ops[middle:], actor, problems, messages)
        return
    # These rows pass: keep them while the others are tried (a later row may collide with one).
    await conn.execute("RELEASE SAVEPOINT import_probe")


def _problem(
    spec: ImportSpec,
    rows: Rows,
    row: ImportRow,
    state: str,
    constraint: str | None,
    messages: Mapping[str, str],
) -> CellProblem:
    column = _column_of(spec, constraint) or spec.key_columns[0]
    detail = classify_sqlstate(state, constraint, messages).detail
    message = detail if isinstance(detail, Text) else tr("the database refuses the row")
    return CellProblem(row.number, rows.header(column), shown(row.cells.get(column)), message)


def _column_of(spec: ImportSpec, constraint: str | None) -> str | None:
    """The column a broken rule is about: a trigger rule's declared column, a unique key's or a
    foreign key's first column, or the first written column a CHECK names."""
    if constraint is None:
        return None
    if constraint in spec.rule_columns:
        return spec.rule_columns[constraint]
    table = spec.resource.table
    columns = _columns(spec)
    for item in table.constraints:
        if item.name != constraint:
            continue
        if isinstance(item, UniqueConstraint):
            return spec.key_columns[0]
        if isinstance(item, CheckConstraint):
            sql = str(item.sqltext)
            named = [(sql.find(c), c) for c in columns if c in sql]
            return min(named)[1] if named else None
    for fk in table.foreign_keys:
        if fk.constraint is not None and fk.constraint.name == constraint:
            return fk.parent.name
    return None


async def run_import(
    session: AsyncSession,
    spec: ImportSpec,
    table: Table,
    *,
    mode: Mode,
    dry_run: bool,
    as_of: date,
    actor: Who,
    facts: FileFacts,
    messages: Mapping[str, str],
    statement_timeout_ms: int,
) -> Batch:
    """Check the whole file, then write it, all or nothing (422 with every problem found). The
    client waits for each statement as long as the import's statement limit allows."""
    async with longer_client_timeout(session, statement_timeout_ms):
        # Reading and checking the cells is CPU work without the database: a worker thread does it,
        # so that the event loop keeps serving other requests meanwhile.
        rows = await asyncio.to_thread(read_rows, spec, table, as_of)
        conn = await driver(session)
        await conn.execute(f"SET LOCAL statement_timeout = {int(statement_timeout_ms)}")
        if spec.resolve is not None:
            await spec.resolve(session, rows)
        await asyncio.to_thread(validate, spec, rows)
        check_duplicates(spec, rows)
        refuse_if(rows)
        new, changed, unchanged = await classify(session, spec, rows, mode)
        refuse_if(rows)
        return await write(
            session,
            spec,
            rows,
            new,
            changed,
            unchanged,
            mode=mode,
            dry_run=dry_run,
            actor=actor,
            facts=facts,
            messages=messages,
        )
