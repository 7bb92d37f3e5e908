"""The audit trail: one event per committed create, update or delete, written in its transaction."""

from __future__ import annotations

import getpass
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy.ext.asyncio import AsyncSession

from app.kit.principal import Principal
from app.models import COMMAND_LINE_ACTOR_ID, AuditActorKind, AuditEvent


class AuditAction(StrEnum):
    create = "create"
    update = "update"
    delete = "delete"


@dataclass(frozen=True)
class Actor:
    """Who makes a change, and from where."""

    principal: Principal
    client_addr: str | None = None
    request_id: str | None = None


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Changed fields as {field: [old, new]}; a create has old None, a delete new None."""
    changed: dict[str, list[Any]] = {}
    for name in before.keys() | after.keys():
        old, new = to_jsonable_python(before.get(name)), to_jsonable_python(after.get(name))
        if old != new:
            changed[name] = [old, new]
    return dict(sorted(changed.items()))


async def record_event(
    session: AsyncSession,
    actor: Actor,
    action: AuditAction,
    resource: str,
    record_id: int,
    changes: dict[str, Any],
    version: int,
) -> None:
    """Add the event to the session's transaction; `version` is the one the change left the
    record at (for a delete, the one deleted). The database adds the transaction's id."""
    session.add(
        AuditEvent(
            actor_kind=actor.principal.kind,
            actor_id=actor.principal.id,
            actor_name=actor.principal.name,
            client_addr=actor.client_addr,
            action=action,
            resource=resource,
            record_id=record_id,
            changes=changes,
            request_id=actor.request_id,
            version=version,
        )
    )
    await session.flush()


def command_line_name() -> str:
    """Who runs a command, as the audit trail names them: the system user (as security events
    name the command line), or "command line" when it cannot be told."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "command line"


def audited(write: str, action: AuditAction, resource: str, fields: Sequence[str], actor_name: str) -> str:
    """One statement that writes records and their audit events together: `write` (an INSERT or
    UPDATE of one table) runs as a data-modifying CTE, and each row it writes gets one event of
    the command line (actor `actor_name`, a bind parameter such as `:actor` or `$2`), in the same
    transaction, with its transaction id, like a request's. `write` must RETURN the record's `id`,
    its new `version`, each of `fields` as it now is and, for an update, as it was before, named
    `old_<field>` (an UPDATE ... FROM <table> AS old WHERE old.id = <table>.id reads the row as
    it was). The event's `changes` are the fields that differ, as [old, new], like a request's
    (app.kit.audit.diff); the changes feed renders the record as it stands when it is read.
    The statement's row count is the number of records written."""
    if action == AuditAction.delete:
        raise ValueError("audited() writes creates and updates")
    before = "to_jsonb(w.old_{f})" if action == AuditAction.update else "NULL::jsonb"
    pairs = ", ".join(f"('{f}', {before.format(f=f)}, to_jsonb(w.{f}))" for f in fields)
    return f"""
WITH w AS ({write})
INSERT INTO audit_event (actor_kind, actor_id, actor_name, action, resource, record_id, changes, version)
SELECT '{AuditActorKind.command_line.value}', {COMMAND_LINE_ACTOR_ID}, {actor_name}, '{action.value}',
       '{resource}', w.id,
       (SELECT coalesce(jsonb_object_agg(f.name, jsonb_build_array(f.old, f.new)), '{{}}'::jsonb)
        FROM (VALUES {pairs}) AS f(name, old, new) WHERE f.old IS DISTINCT FROM f.new),
       w.version
FROM w
"""
