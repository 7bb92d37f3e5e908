"""The service's own tables: data versions, the statistics cache, idempotent answers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Integer, LargeBinary, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class DataVersion(Base):
    """A counter per table, bumped in the same transaction as every write through the service.

    Statistics depend on tables; their ETags are made from these counters, so an ETag changes
    when, and only when, a table it depends on changed — in whichever worker process wrote it.
    """

    __tablename__ = "data_version"

    resource: Mapped[str] = mapped_column(Text, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class StatsCache(Base):
    """Computed statistics shared by all worker processes; a cache, so UNLOGGED (not WAL-logged)."""

    __tablename__ = "stats_cache"
    __table_args__ = {"prefixes": ["UNLOGGED"]}  # noqa: RUF012 - SQLAlchemy's declarative form

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    tag: Mapped[str] = mapped_column(Text)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class IdempotencyRecord(Base):
    """The answer to a POST sent with an Idempotency-Key, replayed to repeats of that request."""

    __tablename__ = "idempotency_record"

    credential: Mapped[str] = mapped_column(Text, primary_key=True)
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    request_hash: Mapped[str] = mapped_column(Text)
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    location: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (Index("ix_idempotency_record_created_at", "created_at"),)
