"""Changes feed: the writing transaction and the version on each audit event; lists filtered by
created_at and updated_at

audit_event gains `xact`, the id of the transaction that wrote the event (pg_current_xact_id(),
as a bigint), and `version`, the version the change left the record at. The changes feed orders
events by (xact, id) and serves only those of transactions that have ended. Events written
before this revision get xact 1, below every real transaction id (normal ids start at 3): the
column is added with that constant default, which PostgreSQL records once instead of rewriting
the table (and the append-only trigger, which refuses UPDATE, is never involved); the default
then becomes pg_current_xact_id() for the events to come. Their version stays unknown (null).

Every record table gets an index on created_at and one on updated_at, for the lists'
created_since and updated_since filters.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 15:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RECORD_TABLES = (
    "admin_unit",
    "api_key",
    "cooperative",
    "programme",
    "programme_beneficiary",
    "programme_funding",
    "staff_account",
    "trade_fair",
    "trade_fair_participant",
    "village",
    "village_figure",
)


def upgrade() -> None:
    op.add_column(
        "audit_event", sa.Column("xact", sa.BigInteger(), server_default=sa.text("1"), nullable=False)
    )
    op.alter_column("audit_event", "xact", server_default=sa.text("(pg_current_xact_id()::text::bigint)"))
    op.add_column("audit_event", sa.Column("version", sa.Integer(), nullable=True))
    op.create_check_constraint(
        op.f("ck_audit_event_version_positive"), "audit_event", "version IS NULL OR version >= 1"
    )
    op.create_index("ix_audit_event_xact_id", "audit_event", ["xact", "id"], unique=False)
    for table in RECORD_TABLES:
        op.create_index(f"ix_{table}_created_at", table, ["created_at"], unique=False)
        op.create_index(f"ix_{table}_updated_at", table, ["updated_at"], unique=False)


def downgrade() -> None:
    for table in reversed(RECORD_TABLES):
        op.drop_index(f"ix_{table}_updated_at", table_name=table)
        op.drop_index(f"ix_{table}_created_at", table_name=table)
    op.drop_index("ix_audit_event_xact_id", table_name="audit_event")
    op.drop_constraint(op.f("ck_audit_event_version_positive"), "audit_event", type_="check")
    op.drop_column("audit_event", "version")
    op.drop_column("audit_event", "xact")
