"""Sign-in throttle, key creators, password resets and security events

The failure counter (sign_in_failure) gives way to sign_in_attempt, where a password check
reserves its slot before it runs. An API key records the account that created it, which bounds
its role. An account can be flagged to change a temporary password. security_event keeps
sign-ins, lockouts and changes to accounts and keys, append-only like audit_event.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 13:51:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
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


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.drop_table("sign_in_failure")
    op.create_table(
        "sign_in_attempt",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("refused", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "window_start", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_sign_in_attempt_attempts_not_negative")),
        sa.CheckConstraint("refused >= 0", name=op.f("ck_sign_in_attempt_refused_not_negative")),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sign_in_attempt")),
    )
    op.create_index("ix_sign_in_attempt_window_start", "sign_in_attempt", ["window_start"], unique=False)

    op.add_column(
        "staff_account",
        sa.Column("must_change_password", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.add_column(
        "staff_account", sa.Column("password_expires_at", sa.DateTime(timezone=True), nullable=True)
    )

    # Keys made before this revision keep no creator: their own role applies, as for a key made
    # on the command line.
    op.add_column("api_key", sa.Column("creator_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(
        op.f("fk_api_key_creator_id_staff_account"),
        "api_key",
        "staff_account",
        ["creator_id"],
        ["id"],
        ondelete="RESTRICT",
    )
    op.create_index("ix_api_key_creator_id", "api_key", ["creator_id"], unique=False)

    op.create_table(
        "security_event",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("actor_kind", sa.Text(), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("actor_name", sa.Text(), nullable=True),
        sa.Column("target_kind", sa.Text(), nullable=True),
        sa.Column("target_id", sa.BigInteger(), nullable=True),
        sa.Column("target_name", sa.Text(), nullable=True),
        sa.Column("client_addr", sa.Text(), nullable=True),
        sa.Column("request_id", sa.Text(), nullable=True),
        sa.Column(
            "details",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.CheckConstraint(_in("action", ACTIONS), name=op.f("ck_security_event_action_valid")),
        sa.CheckConstraint(
            _in("actor_kind", ("account", "api_key", "command_line", "anonymous")),
            name=op.f("ck_security_event_actor_kind_valid"),
        ),
        sa.CheckConstraint(
            _in("target_kind", ("account", "api_key")), name=op.f("ck_security_event_target_kind_valid")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_event")),
    )
    op.create_index("ix_security_event_at", "security_event", ["at"], unique=False)
    op.create_index("ix_security_event_target_name", "security_event", ["target_name"], unique=False)
    # Append-only, with the function that guards audit_event (revision 0004).
    op.execute(
        "CREATE TRIGGER security_event_append_only BEFORE UPDATE OR DELETE ON security_event "
        "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER security_event_append_only ON security_event")
    op.drop_index("ix_security_event_target_name", table_name="security_event")
    op.drop_index("ix_security_event_at", table_name="security_event")
    op.drop_table("security_event")

    op.drop_index("ix_api_key_creator_id", table_name="api_key")
    op.drop_constraint(op.f("fk_api_key_creator_id_staff_account"), "api_key", type_="foreignkey")
    op.drop_column("api_key", "creator_id")

    op.drop_column("staff_account", "password_expires_at")
    op.drop_column("staff_account", "must_change_password")

    op.drop_index("ix_sign_in_attempt_window_start", table_name="sign_in_attempt")
    op.drop_table("sign_in_attempt")
    op.create_table(
        "sign_in_failure",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sign_in_failure")),
    )
