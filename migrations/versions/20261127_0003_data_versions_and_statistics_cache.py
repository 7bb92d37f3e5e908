"""Data versions per table and a shared statistics cache

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 08:48:32+00:00

data_version holds one counter per table, bumped by the service in the transaction of every
write; statistics ETags are made from them. stats_cache keeps computed statistics for all worker
processes; it is UNLOGGED because it is only a cache (lost on a crash, rebuilt on demand).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copy of app.models.TRACKED_TABLES at this revision.
TRACKED_TABLES = (
    "admin_unit",
    "village",
    "village_figure",
    "cooperative",
    "programme",
    "programme_funding",
    "programme_beneficiary",
    "trade_fair",
    "trade_fair_participant",
)


def upgrade() -> None:
    data_version = op.create_table(
        "data_version",
        sa.Column("resource", sa.Text(), nullable=False),
        sa.Column("version", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("resource", name=op.f("pk_data_version")),
    )
    op.bulk_insert(data_version, [{"resource": name} for name in TRACKED_TABLES])
    op.create_table(
        "stats_cache",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("tag", sa.Text(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_stats_cache")),
        prefixes=["UNLOGGED"],
    )


def downgrade() -> None:
    op.drop_table("stats_cache")
    op.drop_table("data_version")
