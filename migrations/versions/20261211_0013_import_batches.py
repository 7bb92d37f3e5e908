"""Import batches, and the batch of each audit event an import wrote

import_batch holds one row per committed import of a spreadsheet (POST /api/v1/imports): the
resource, the mode, the file (name, size, SHA-256), the counts and who imported it.
audit_event gains a nullable import_batch_id naming it. Adding a nullable column touches no row,
so the append-only trigger of audit_event (revision 0004), which refuses UPDATE and DELETE, is
not involved; nor on downgrade, which drops the column (DDL, not a DELETE). Batches are never
deleted while an event names one (ON DELETE RESTRICT).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 12:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "import_batch",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("resource", sa.Text(), nullable=False),
        sa.Column("mode", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=True),
        sa.Column("file_size", sa.BigInteger(), nullable=False),
        sa.Column("file_sha256", sa.Text(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("actor_kind", sa.Text(), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=False),
        sa.Column("actor_name", sa.Text(), nullable=False),
        sa.Column("request_id", sa.Text(), nullable=True),
        sa.CheckConstraint("mode IN ('create', 'upsert')", name=op.f("ck_import_batch_mode_valid")),
        sa.CheckConstraint("status IN ('completed')", name=op.f("ck_import_batch_status_valid")),
        sa.CheckConstraint(
            "created >= 0 AND updated >= 0 AND unchanged >= 0", name=op.f("ck_import_batch_counts_not_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_batch")),
    )
    op.create_index("ix_import_batch_at", "import_batch", ["at"], unique=False)
    op.add_column("audit_event", sa.Column("import_batch_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(
        op.f("fk_audit_event_import_batch_id_import_batch"),
        "audit_event",
        "import_batch",
        ["import_batch_id"],
        ["id"],
        ondelete="RESTRICT",
    )
    op.create_index(
        "ix_audit_event_import_batch_id",
        "audit_event",
        ["import_batch_id"],
        unique=False,
        postgresql_where=sa.text("import_batch_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_audit_event_import_batch_id",
        table_name="audit_event",
        postgresql_where=sa.text("import_batch_id IS NOT NULL"),
    )
    op.drop_constraint(op.f("fk_audit_event_import_batch_id_import_batch"), "audit_event", type_="foreignkey")
    op.drop_column("audit_event", "import_batch_id")
    op.drop_index("ix_import_batch_at", table_name="import_batch")
    op.drop_table("import_batch")
