"""Import batches: one row per committed import of a spreadsheet (POST /api/v1/imports)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Identity, Index, Integer, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class ImportBatch(Base):
    """A file imported into one resource: who, when, the file, the counts. Only a committed
    import leaves one (an import is all or nothing; a dry run writes nothing); every audit event
    the import wrote names it (audit_event.import_batch_id)."""

    __tablename__ = "import_batch"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    resource: Mapped[str] = mapped_column(Text)
    mode: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    file_name: Mapped[str | None] = mapped_column(Text)
    file_size: Mapped[int] = mapped_column(BigInteger)
    file_sha256: Mapped[str] = mapped_column(Text)
    rows: Mapped[int] = mapped_column(Integer)
    created: Mapped[int] = mapped_column(Integer)
    updated: Mapped[int] = mapped_column(Integer)
    unchanged: Mapped[int] = mapped_column(Integer)
    actor_kind: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[int] = mapped_column(BigInteger)
    actor_name: Mapped[str] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("mode IN ('create', 'upsert')", name="mode_valid"),
        CheckConstraint("status IN ('completed')", name="status_valid"),
        CheckConstraint("created >= 0 AND updated >= 0 AND unchanged >= 0", name="counts_not_negative"),
        Index("ix_import_batch_at", "at"),
    )
