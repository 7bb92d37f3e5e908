"""The audit trail."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class AuditActorKind(StrEnum):
    """Who made a change: a staff account's token or an API key (a request), or the command line
    (`places load`, `places match`, a migration's data step), which has no actor id (0)."""

    account = "account"
    api_key = "api_key"
    command_line = "command_line"


# The actor id of a change made at the command line: no account or key made it.
COMMAND_LINE_ACTOR_ID = 0


class AuditEvent(Base):
    """One committed create, update or delete: who, from where, what, and the fields changed."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor_kind: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[int] = mapped_column(BigInteger)
    actor_name: Mapped[str] = mapped_column(Text)
    client_addr: Mapped[str | None] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    resource: Mapped[str] = mapped_column(Text)
    record_id: Mapped[int] = mapped_column(BigInteger)
    changes: Mapped[dict[str, Any]] = mapped_column(JSONB)
    request_id: Mapped[str | None] = mapped_column(Text)
    # The writing transaction's id (pg_current_xact_id(), 64 bits with its epoch, so it never wraps)
    # and the version the change left the record at (the one it deleted, for a delete). The
    # changes feed orders events by (xact, id) and serves only those of transactions that had
    # ended when the page was read (app/changes/feed.py). Events older than the feed have xact 1
    # (below any real transaction id) and no version.
    xact: Mapped[int] = mapped_column(BigInteger, server_default=text("(pg_current_xact_id()::text::bigint)"))
    version: Mapped[int | None] = mapped_column(Integer)
    # The import that wrote the event (POST /api/v1/imports), if one did.
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id", ondelete="RESTRICT"))

    __table_args__ = (
        CheckConstraint(
            "actor_kind IN (" + ", ".join(f"'{kind.value}'" for kind in AuditActorKind) + ")",
            name="actor_kind_valid",
        ),
        CheckConstraint("action IN ('create', 'update', 'delete')", name="action_valid"),
        CheckConstraint("version IS NULL OR version >= 1", name="version_positive"),
        Index("ix_audit_event_resource_record_id", "resource", "record_id"),
        Index("ix_audit_event_at", "at"),
        Index("ix_audit_event_actor_kind_actor_id", "actor_kind", "actor_id"),
        Index("ix_audit_event_xact_id", "xact", "id"),
        Index(
            "ix_audit_event_import_batch_id",
            "import_batch_id",
            postgresql_where=text("import_batch_id IS NOT NULL"),
        ),
    )
