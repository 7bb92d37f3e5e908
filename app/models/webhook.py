"""Webhooks: the subscriptions administrators register, the outbox of deliveries the dispatcher
fills from the audit trail, and the log of each delivery's attempts (app/webhooks/).

These are the service's own tables, not resources: they have no audit events and no data
versions. Changes to subscriptions are security events (app/auth/events.py).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class DeliveryStatus(StrEnum):
    """Where a delivery stands: still being tried, received (2xx), or given up for good."""

    pending = "pending"
    delivered = "delivered"
    failed = "failed"


class WebhookSubscription(Base):
    """A receiver of pushed events: its URL, the resources it wants (null: all), its secret."""

    __tablename__ = "webhook_subscription"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    resources: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    # The HMAC key of X-Signature: the service must sign with it, so it is kept as given (never
    # returned by the API after the answer that created it).
    secret: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    # Failed attempts since the last delivered one, all deliveries of the subscription together.
    failure_run: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    # The dispatcher's position in the changes feed: after the event (xact, id).
    position_xact: Mapped[int] = mapped_column(BigInteger)
    position_id: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint("url ~ '^https?://'", name="url_http"),
        CheckConstraint("failure_run >= 0", name="failure_run_not_negative"),
    )


class WebhookDelivery(Base):
    """One audit event to deliver to one subscription, with its body as fanned out."""

    __tablename__ = "webhook_delivery"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("webhook_subscription.id", ondelete="CASCADE")
    )
    event_id: Mapped[int] = mapped_column(BigInteger)
    xact: Mapped[int] = mapped_column(BigInteger)
    resource: Mapped[str] = mapped_column(Text)
    record_id: Mapped[int] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, server_default=text("'pending'"))
    # Attempts started; a claim takes the next number, and only its holder may record the outcome.
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    queued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When it became delivered or failed for good (null while pending): the worker prunes it
    # WEBHOOK_RETENTION_DAYS after.
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("status IN ('pending', 'delivered', 'failed')", name="status_valid"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        UniqueConstraint("subscription_id", "event_id"),
        Index(
            "ix_webhook_delivery_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
        Index(
            "ix_webhook_delivery_record",
            "subscription_id",
            "resource",
            "record_id",
            "xact",
            "event_id",
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_webhook_delivery_subscription_id_id", "subscription_id", "id"),
        Index(
            "ix_webhook_delivery_finished_at",
            "finished_at",
            postgresql_where=text("status <> 'pending'"),
        ),
        # Every delivery of a record in order, whatever its status: pruning keeps a finished one
        # while an earlier one of its record stays, and redeliver looks for a later one delivered.
        Index(
            "ix_webhook_delivery_record_order",
            "subscription_id",
            "resource",
            "record_id",
            "xact",
            "event_id",
        ),
    )


class WebhookAttempt(Base):
    """One attempt of a delivery: when, how long, and the HTTP status or the error class."""

    __tablename__ = "webhook_attempt"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("webhook_delivery.id", ondelete="CASCADE")
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    duration_ms: Mapped[int] = mapped_column(Integer)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    # At most a short excerpt of what the receiver answered, never its whole body.
    excerpt: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("duration_ms >= 0", name="duration_not_negative"),
        CheckConstraint("char_length(excerpt) <= 200", name="excerpt_short"),
        Index("ix_webhook_attempt_delivery_id", "delivery_id"),
    )
