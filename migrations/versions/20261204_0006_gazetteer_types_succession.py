"""Gazetteer: unit types, names with type, former names, identity by (level, code, period),
and succession between units

A unit is now identified by its level, code and validity: the unique key gains the level, and an
exclusion constraint (btree_gist) refuses two rows of one (level, code) whose periods overlap, an
unknown start or end counting as open. search_text is rebuilt to include the name with its type
and the former names (a generated column's expression cannot be changed in place before
PostgreSQL 17, so it is dropped and added again). admin_unit_succession records who became whom
and from when.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 15:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TYPE_FITS_LEVEL = (
    "type IS NULL OR (level = 'province' AND type IN ('province', 'city')) "
    "OR (level = 'district' AND type IN ('district', 'urban_district', 'town', 'city')) "
    "OR (level = 'commune' AND type IN ('commune', 'ward', 'township', 'special_zone'))"
)
SEARCH = "lower(f_unaccent(name || ' ' || code || ' ' || coalesce(name_with_type, '') || ' ' || f_words(former_names)))"
OLD_SEARCH = "lower(f_unaccent(name || ' ' || code))"


def _search_column(expression: str) -> None:
    op.drop_index("ix_admin_unit_search_text", table_name="admin_unit")
    op.drop_column("admin_unit", "search_text")
    op.add_column(
        "admin_unit", sa.Column("search_text", sa.Text(), sa.Computed(expression, persisted=True), nullable=False)
    )
    op.create_index(
        "ix_admin_unit_search_text",
        "admin_unit",
        ["search_text"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.add_column("admin_unit", sa.Column("type", sa.Text(), nullable=True))
    op.add_column("admin_unit", sa.Column("name_with_type", sa.Text(), nullable=True))
    op.add_column(
        "admin_unit",
        sa.Column("former_names", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    )
    _search_column(SEARCH)
    op.create_check_constraint(op.f("ck_admin_unit_type_fits_level"), "admin_unit", TYPE_FITS_LEVEL)
    op.create_check_constraint(
        op.f("ck_admin_unit_former_names_not_null"), "admin_unit", "array_position(former_names, NULL) IS NULL")
    op.drop_constraint(op.f("uq_admin_unit_code_valid_from"), "admin_unit", type_="unique")
    op.create_unique_constraint(
        op.f("uq_admin_unit_level_code_valid_from"),
        "admin_unit",
        ["level", "code", "valid_from"],
        postgresql_nulls_not_distinct=True,
    )
    op.execute(
        "ALTER TABLE admin_unit ADD CONSTRAINT ex_admin_unit_period_overlap EXCLUDE USING gist "
        "(level WITH =, code WITH =, daterange(valid_from, valid_to, '[]') WITH &&)"
    )
    op.create_table(
        "admin_unit_succession",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("predecessor_id", sa.BigInteger(), nullable=False),
        sa.Column("successor_id", sa.BigInteger(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('whole', 'part', 'renamed', 'unchanged')", name=op.f("ck_admin_unit_succession_kind_valid")
        ),
        sa.CheckConstraint(
            "note IS NULL OR btrim(note) <> ''", name=op.f("ck_admin_unit_succession_note_not_blank")
        ),
        sa.CheckConstraint(
            "predecessor_id <> successor_id", name=op.f("ck_admin_unit_succession_not_own_successor")
        ),
        sa.ForeignKeyConstraint(
            ["predecessor_id"],
            ["admin_unit.id"],
            name=op.f("fk_admin_unit_succession_predecessor_id_admin_unit"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["successor_id"],
            ["admin_unit.id"],
            name=op.f("fk_admin_unit_succession_successor_id_admin_unit"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_unit_succession")),
        sa.UniqueConstraint(
            "predecessor_id",
            "successor_id",
            "effective_on",
            name=op.f("uq_admin_unit_succession_link"),
        ),
    )
    op.create_index(
        op.f("ix_admin_unit_succession_successor_id"), "admin_unit_succession", ["successor_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_admin_unit_succession_successor_id"), table_name="admin_unit_succession")
    op.drop_table("admin_unit_succession")
    op.execute("ALTER TABLE admin_unit DROP CONSTRAINT ex_admin_unit_period_overlap")
    op.drop_constraint(op.f("uq_admin_unit_level_code_valid_from"), "admin_unit", type_="unique")
    # Refused, as it should be, while one code is used at two levels from one start.
    op.create_unique_constraint(
        op.f("uq_admin_unit_code_valid_from"), "admin_unit", ["code", "valid_from"], postgresql_nulls_not_distinct=True
    )
    op.drop_constraint(op.f("ck_admin_unit_former_names_not_null"), "admin_unit", type_="check")
    op.drop_constraint(op.f("ck_admin_unit_type_fits_level"), "admin_unit", type_="check")
    _search_column(OLD_SEARCH)
    op.drop_column("admin_unit", "former_names")
    op.drop_column("admin_unit", "name_with_type")
    op.drop_column("admin_unit", "type")
    # btree_gist stays: other objects may have come to use it.
