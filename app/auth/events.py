"""Security events: written in the transaction of what they record, and logged.

Each event is one row of security_event (read by administrators at GET /api/v1/audit/security)
and one line of the `app.security` log. Neither ever holds a password, a token or a key.
"""

from __future__ import annotations

import getpass
import logging
from dataclasses import dataclass, replace
from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.kit.principal import Principal
from app.models import (
    ApiKey,
    SecurityAction,
    SecurityActorKind,
    SecurityEvent,
    SecurityTargetKind,
    StaffAccount,
)

log = logging.getLogger("app.security")


@dataclass(frozen=True)
class Who:
    """Who acts, and from where."""

    kind: SecurityActorKind
    id: int | None = None
    name: str | None = None
    client_addr: str | None = None
    request_id: str | None = None

    def as_principal(self, principal: Principal) -> Who:
        """The same request, now known to be `principal`'s."""
        return replace(self, kind=SecurityActorKind(principal.kind), id=principal.id, name=principal.name)

    def as_account(self, account: StaffAccount) -> Who:
        """The same request, now signed in as `account`."""
        return replace(self, kind=SecurityActorKind.account, id=account.id, name=account.username)


def command_line() -> Who:
    """The operator at the command line, named by the system user running it."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = None
    return Who(SecurityActorKind.command_line, name=user)


def from_request(request: Request, principal: Principal | None = None) -> Who:
    """The caller of a request: anonymous until a credential is checked."""
    who = Who(
        SecurityActorKind.anonymous,
        client_addr=request.client.host if request.client else None,
        request_id=getattr(request.state, "request_id", None),
    )
    return who.as_principal(principal) if principal is not None else who


async def record(
    session: AsyncSession,
    who: Who,
    action: SecurityAction,
    *,
    account: StaffAccount | None = None,
    key: ApiKey | None = None,
    webhook: tuple[int, str] | None = None,
    target_name: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Add one event to the session's transaction and log it. The target is an account, a key, a
    webhook subscription (its id and URL), or a username that opens no account."""
    target_kind, target_id = None, None
    if account is not None:
        target_kind, target_id, target_name = SecurityTargetKind.account, account.id, account.username
    elif key is not None:
        target_kind, target_id, target_name = SecurityTargetKind.api_key, key.id, key.name
    elif webhook is not None:
        target_kind, (target_id, target_name) = SecurityTargetKind.webhook, webhook
    elif target_name is not None:
        target_kind = SecurityTargetKind.account  # a username that opens no account
    session.add(
        SecurityEvent(
            action=action,
            actor_kind=who.kind,
            actor_id=who.id,
            actor_name=who.name,
            target_kind=target_kind,
            target_id=target_id,
            target_name=target_name,
            client_addr=who.client_addr,
            request_id=who.request_id,
            details=details or {},
        )
    )
    await session.flush()
    log.info(
        "security event: %s",
        action.value,
        extra={
            "action": action.value,
            "actor_kind": who.kind.value,
            "actor": who.name,
            "target": target_name,
            "client": who.client_addr,
            **({"details": details} if details else {}),
        },
    )
