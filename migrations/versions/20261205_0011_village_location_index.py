"""A GiST index on the villages' point(longitude, latitude), for the list's bbox filter

Map viewports ask for the villages in a box: `point(longitude, latitude) <@ box(...)`, which this
index serves. Villages without coordinates have a null point and are never in a box.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 09:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE INDEX ix_village_location ON village USING gist (point(longitude, latitude))")


def downgrade() -> None:
    op.execute("DROP INDEX ix_village_location")
