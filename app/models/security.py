"""Security events: sign-ins, lockouts and changes to accounts, keys and webhooks, kept apart from the
record-change trail (audit_event) because their actors include the command line and anonymous
callers, and their targets need not exist (a sign-in for an unknown username)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Identity, Index, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class SecurityAction(StrEnum):
    """What happened."""

    sign_in = "sign_in"
    sign_in_failed = "sign_in_failed"
    sign_in_throttled = "sign_in_throttled"  # the first refusal of a throttle key in its window
    account_created = "account_created"
    role_changed = "role_changed"
    account_disabled = "account_disabled"
    account_enabled = "account_enabled"
    key_created = "key_created"
    key_revoked = "key_revoked"
    password_changed = "password_changed"  # noqa: S105 - an event name, not a password
    password_change_failed = "password_change_failed"  # noqa: S105
    password_reset = "password_reset"  # noqa: S105
    webhook_created = "webhook_created"
    webhook_changed = "webhook_changed"
    webhook_deleted = "webhook_deleted"
    webhook_disabled = "webhook_disabled"  # by the service, after a run of failed deliveries


class SecurityActorKind(StrEnum):
    """Who acted: a staff account's token, an API key, the command line, nobody signed in, or
    the service itself (its webhook worker)."""

    account = "account"
    api_key = "api_key"
    command_line = "command_line"
    anonymous = "anonymous"
    service = "service"


class SecurityTargetKind(StrEnum):
    account = "account"
    api_key = "api_key"
    webhook = "webhook"


def _one_of(column: str, enum: type[StrEnum]) -> CheckConstraint:
    values = ", ".join(f"'{m.value}'" for m in enum)
    return CheckConstraint(f"{column} IN ({values})", name=f"{column}_valid")


class SecurityEvent(Base):
    """One security event; never a password, a token or a key, only who, what, whom and where."""

    __tablename__ = "security_event"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    action: Mapped[str] = mapped_column(Text)
    actor_kind: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_name: Mapped[str | None] = mapped_column(Text)
    target_kind: Mapped[str | None] = mapped_column(Text)
    target_id: Mapped[int | None] = mapped_column(BigInteger)
    target_name: Mapped[str | None] = mapped_column(Text)
    client_addr: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))

    __table_args__ = (
        _one_of("action", SecurityAction),
        _one_of("actor_kind", SecurityActorKind),
        _one_of("target_kind", SecurityTargetKind),
        Index("ix_security_event_at", "at"),
        Index("ix_security_event_target_name", "target_name"),
    )
