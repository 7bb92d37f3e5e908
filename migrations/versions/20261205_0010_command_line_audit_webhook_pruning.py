"""The command line in the audit trail, and its missing events; webhook deliveries finished and pruned

audit_event's actor kinds gain `command_line`: changes made outside a request (`places load`,
`places match`, a migration's data step) write their audit events like a request's, in the same
statement as the change, with actor id 0 and the system user (or the migration) as the actor's
name. On a database migrated past 0008 before 0008 wrote events, the records it placed, and those
that `places match` changed, have none, so the changes feed and the webhooks never saw them: each
village and co-operative whose current version has no event, or that is placed in a commune while
no event of it ever recorded commune_id, gets one `update` event now (actor "migration 0010",
changes unknown but for a commune placed from none), one statement per table. A database that
went through the corrected 0008 has its events already, and gets none. Administrative units
loaded silently by earlier gazetteer loads get none: a consumer copied `admin-units` again after
a load, as the README said then.

webhook_delivery gains `finished_at` (when it was delivered or failed for good; filled from the
delivery time, else the last attempt, else the queueing for the deliveries already finished),
an index of the finished ones by it (the worker prunes them after WEBHOOK_RETENTION_DAYS), and an
index of every delivery of a record in order (pruning and redeliver look for earlier and later
ones).

Downgrade: the actor kinds go back to accounts and keys for new events only (NOT VALID: events of
the command line cannot be deleted); the events written stay.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 09:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = "actor_kind IN ('account', 'api_key')"
KINDS_WITH_COMMAND_LINE = "actor_kind IN ('account', 'api_key', 'command_line')"
# The tables whose records 0008 (and `places match`) changed, and the feed's name of each.
PLACED = (("village", "villages"), ("cooperative", "cooperatives"))

# One event for each record of {table} the feed was never told about in its current state.
REPAIR = """
INSERT INTO audit_event (actor_kind, actor_id, actor_name, action, resource, record_id, changes, version)
SELECT 'command_line', 0, 'migration 0010', 'update', '{resource}', r.id,
       CASE WHEN r.commune_id IS NOT NULL AND NOT EXISTS (
                SELECT FROM audit_event e
                WHERE e.resource = '{resource}' AND e.record_id = r.id AND e.changes ? 'commune_id')
            THEN jsonb_build_object('commune_id', jsonb_build_array(NULL, r.commune_id))
            ELSE '{{}}'::jsonb END,
       r.version
FROM {table} r
WHERE NOT EXISTS (
          SELECT FROM audit_event e
          WHERE e.resource = '{resource}' AND e.record_id = r.id AND e.version = r.version)
   OR (r.commune_id IS NOT NULL AND NOT EXISTS (
          SELECT FROM audit_event e
          WHERE e.resource = '{resource}' AND e.record_id = r.id AND e.changes ? 'commune_id'))
ORDER BY r.id
"""


def _kinds(rule: str, valid: bool) -> None:
    op.execute("ALTER TABLE audit_event DROP CONSTRAINT ck_audit_event_actor_kind_valid")
    op.execute(
        f"ALTER TABLE audit_event ADD CONSTRAINT ck_audit_event_actor_kind_valid CHECK ({rule})"
        + ("" if valid else " NOT VALID")
    )


def upgrade() -> None:
    _kinds(KINDS_WITH_COMMAND_LINE, True)
    for table, resource in PLACED:
        op.execute(REPAIR.format(table=table, resource=resource))
    op.add_column("webhook_delivery", sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        """
        UPDATE webhook_delivery d
        SET finished_at = coalesce(
            d.delivered_at,
            (SELECT max(a.at) FROM webhook_attempt a WHERE a.delivery_id = d.id),
            d.queued_at)
        WHERE d.status <> 'pending'
        """
    )
    op.create_index(
        "ix_webhook_delivery_finished_at",
        "webhook_delivery",
        ["finished_at"],
        unique=False,
        postgresql_where=sa.text("status <> 'pending'"),
    )
    op.create_index(
        "ix_webhook_delivery_record_order",
        "webhook_delivery",
        ["subscription_id", "resource", "record_id", "xact", "event_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_webhook_delivery_record_order", table_name="webhook_delivery")
    op.drop_index(
        "ix_webhook_delivery_finished_at",
        table_name="webhook_delivery",
        postgresql_where=sa.text("status <> 'pending'"),
    )
    op.drop_column("webhook_delivery", "finished_at")
    _kinds(KINDS, False)
