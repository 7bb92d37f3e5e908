"""Webhooks: subscriptions, their outbox of deliveries and the log of attempts; webhook security events

webhook_subscription holds what administrators register (URL, resources, secret, active) and the
dispatcher's position in the changes feed; webhook_delivery is the outbox the dispatcher fills from
the audit trail, one row per event and subscription, claimed with FOR UPDATE SKIP LOCKED and
leased while it is delivered; webhook_attempt logs each attempt. These are the service's own
tables: no audit events, no data versions. security_event gains the webhook actions, the
`service` actor (the worker that disables a failing subscription) and the `webhook` target.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 18:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIONS = (
    "sign_in",
    "sign_in_failed",
    "sign_in_throttled",
    "account_created",
    "role_changed",
    "account_disabled",
    "account_enabled",
    "key_created",
    "key_revoked",
    "password_changed",
    "password_change_failed",
    "password_reset",
)
WEBHOOK_ACTIONS = ("webhook_created", "webhook_changed", "webhook_deleted", "webhook_disabled")
ACTOR_KINDS = ("account", "api_key", "command_line", "anonymous")
TARGET_KINDS = ("account", "api_key")


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _security_checks(
    actions: Sequence[str], actors: Sequence[str], targets: Sequence[str], valid: bool
) -> None:
    for column, values in (("action", actions), ("actor_kind", actors), ("target_kind", targets)):
        name = f"ck_security_event_{column}_valid"
        op.execute(f"ALTER TABLE security_event DROP CONSTRAINT {name}")
        # Going down, rows of the webhook events may exist and cannot be deleted (append-only):
        # the narrower rule then holds for new rows only.
        op.execute(
            f"ALTER TABLE security_event ADD CONSTRAINT {name} CHECK ({_in(column, values)})"
            + ("" if valid else " NOT VALID")
        )


def upgrade() -> None:
    op.create_table(
        "webhook_subscription",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("resources", postgresql.ARRAY(sa.Text()), nullable=True),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("disabled_reason", sa.Text(), nullable=True),
        sa.Column("failure_run", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("position_xact", sa.BigInteger(), nullable=False),
        sa.Column("position_id", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("url ~ '^https?://'", name=op.f("ck_webhook_subscription_url_http")),
        sa.CheckConstraint("failure_run >= 0", name=op.f("ck_webhook_subscription_failure_run_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscription")),
    )
    op.create_table(
        "webhook_delivery",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("subscription_id", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("xact", sa.BigInteger(), nullable=False),
        sa.Column("resource", sa.Text(), nullable=False),
        sa.Column("record_id", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column(
            "next_attempt_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_webhook_delivery_attempts_not_negative")),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'failed')", name=op.f("ck_webhook_delivery_status_valid")
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscription.id"],
            name=op.f("fk_webhook_delivery_subscription_id_webhook_subscription"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_delivery")),
        sa.UniqueConstraint(
            "subscription_id", "event_id", name=op.f("uq_webhook_delivery_subscription_id_event_id")
        ),
    )
    op.create_index(
        "ix_webhook_delivery_due",
        "webhook_delivery",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_webhook_delivery_record",
        "webhook_delivery",
        ["subscription_id", "resource", "record_id", "xact", "event_id"],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_webhook_delivery_subscription_id_id", "webhook_delivery", ["subscription_id", "id"], unique=False
    )
    op.create_table(
        "webhook_attempt",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("delivery_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("excerpt", sa.Text(), nullable=True),
        sa.CheckConstraint("duration_ms >= 0", name=op.f("ck_webhook_attempt_duration_not_negative")),
        sa.CheckConstraint("char_length(excerpt) <= 200", name=op.f("ck_webhook_attempt_excerpt_short")),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["webhook_delivery.id"],
            name=op.f("fk_webhook_attempt_delivery_id_webhook_delivery"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempt")),
    )
    op.create_index("ix_webhook_attempt_delivery_id", "webhook_attempt", ["delivery_id"], unique=False)
    _security_checks(ACTIONS + WEBHOOK_ACTIONS, (*ACTOR_KINDS, "service"), (*TARGET_KINDS, "webhook"), True)


def downgrade() -> None:
    _security_checks(ACTIONS, ACTOR_KINDS, TARGET_KINDS, False)
    op.drop_index("ix_webhook_attempt_delivery_id", table_name="webhook_attempt")
    op.drop_table("webhook_attempt")
    op.drop_index("ix_webhook_delivery_subscription_id_id", table_name="webhook_delivery")
    op.drop_index(
        "ix_webhook_delivery_record",
        table_name="webhook_delivery",
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.drop_index(
        "ix_webhook_delivery_due",
        table_name="webhook_delivery",
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.drop_table("webhook_delivery")
    op.drop_table("webhook_subscription")
