"""The audit trail: one event per committed create, update or delete, written in its transaction."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy.ext.asyncio import AsyncSession

from app.kit.principal import Principal
from app.models import AuditEvent


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
