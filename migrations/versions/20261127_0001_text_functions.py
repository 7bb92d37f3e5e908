"""Extensions and text functions: accent-free search and Vietnamese sort keys

Revision ID: 0001
Revises:
Create Date: 2026-11-27 08:30:00+00:00

Search compares lower-case, accent-free text (unaccent maps đ to d) with trigram indexes.
PostgreSQL's own unaccent() is only STABLE, so an IMMUTABLE wrapper pinned to the dictionary is
what generated columns and indexes may use. Sorting uses vi_sort_key(), a locale-independent key
(the embedded server has no ICU): letters in Vietnamese dictionary order, then tones.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen output of app.text.sort_key_tables() when this revision was written.
SORT_SOURCE = 'aAàÀảẢãÃáÁạẠăĂằẰẳẲẵẴắẮặẶâÂầẦẩẨẫẪấẤậẬbBcCdDđĐeEèÈẻẺẽẼéÉẹẸêÊềỀểỂễỄếẾệỆfFgGhHiIìÌỉỈĩĨíÍịỊjJkKlLmMnNoOòÒỏỎõÕóÓọỌôÔồỒổỔỗỖốỐộỘơƠờỜởỞỡỠớỚợỢpPqQrRsStTuUùÙủỦũŨúÚụỤưƯừỪửỬữỮứỨựỰvVwWxXyYỳỲỷỶỹỸýÝỵỴzZ'
SORT_PRIMARY = 'ĀĀĀĀĀĀĀĀĀĀĀĀāāāāāāāāāāāāĂĂĂĂĂĂĂĂĂĂĂĂăăĄĄąąĆĆććććććććććććĈĈĈĈĈĈĈĈĈĈĈĈĉĉĊĊċċČČČČČČČČČČČČččĎĎďďĐĐđđĒĒĒĒĒĒĒĒĒĒĒĒēēēēēēēēēēēēĔĔĔĔĔĔĔĔĔĔĔĔĕĕĖĖėėĘĘęęĚĚĚĚĚĚĚĚĚĚĚĚěěěěěěěěěěěěĜĜĝĝĞĞğğğğğğğğğğğğĠĠ'
SORT_TONE = '001122334455001122334455001122334455000000000011223344550011223344550000000011223344550000000000001122334455001122334455001122334455000000000000112233445500112233445500000000112233445500'


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(
        """
        CREATE FUNCTION f_unaccent(text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
        AS $$ SELECT unaccent('unaccent'::regdictionary, $1) $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION f_words(text[]) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
        AS $$ SELECT array_to_string($1, ' ') $$
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION vi_sort_key(text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
        AS $$ SELECT translate($1, '{SORT_SOURCE}', '{SORT_PRIMARY}')
                     || chr(1) || translate($1, '{SORT_SOURCE}', '{SORT_TONE}') $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION vi_sort_key(text)")
    op.execute("DROP FUNCTION f_words(text[])")
    op.execute("DROP FUNCTION f_unaccent(text)")
    # The extensions stay: other schemas or databases objects may rely on them.
