"""The outbox: deliveries fanned out from the audit trail, claimed, and settled.

**Fan-out.** Each subscription keeps a position in the changes feed, (xact, id), and the
dispatcher reads on from it with the feed's own statement (app/changes/feed.py, `page_plan`):
events ordered by (xact, id), only those of transactions below the horizon
`pg_snapshot_xmin(pg_current_snapshot())`. Every transaction below the horizon has ended and none
can begin below it, so a position never passes a change that commits later: no committed change
is ever passed over, and positions only move forward, so none is queued twice (a unique
(subscription, event) backs this). The subscription's row is locked FOR UPDATE SKIP LOCKED
meanwhile, so two processes never fan out the same subscription at once. Each delivery stores its
body as fanned out: the feed's item (the record as it stood then) and the event id; every
attempt sends exactly these bytes. A disabled subscription is still fanned out: its deliveries
wait, and go out when it is enabled again. A new subscription starts at the head of the feed.

**Claims.** A process claims due deliveries in one short transaction, `FOR UPDATE SKIP LOCKED`, and
leases each (`lease_until`, by the database's clock, the same for every process): no other
process claims it until the lease runs out. A process killed mid-delivery loses nothing: its lease
runs out and another process delivers the event (at least once). A claim numbers the attempt
(`attempts`), and only the holder of that number settles it. A delivery is due only when no
earlier delivery (by (xact, id)) of the same subscription, resource and record is pending: events
of one record arrive in order. A delivery failed for good does not hold later ones back.

**Settling.** 2xx: delivered, and the subscription's run of failures ends. Otherwise the next attempt
waits (signing.backoff), or, past the retry budget since the delivery was queued, it is failed for
good; a subscription whose run of failed attempts reaches the limit is disabled, with a reason and
a security event. A delivered or failed delivery is *finished* (`finished_at`).

**Clocks.** Every time written here that the worker compares (queued_at, next_attempt_at,
lease_until, finished_at, and the times of the log) is taken from the database's clock, in the
statement (`now()`, `clock_timestamp()`, plus an interval): all processes share it, so a host
whose own clock is off cannot queue a retry early or late, or a budget short. A time given as
`now` (a test's clock, which moves only when told) is used instead.

**Pruning.** Finished deliveries (and their attempts) older than the retention are deleted in
small batches, one short transaction each, rows locked by a claim skipped: the outbox does not
grow for ever. A pending delivery is never pruned, however old. A finished delivery stays while
an earlier one of the same record does (so redeliver can still refuse to send that older state
after this newer one).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from asyncpg import Connection

from app.changes.feed import Position, page_plan
from app.kit.registry import Registry

log = logging.getLogger("app.webhooks")
security_log = logging.getLogger("app.security")

FAN_OUT_BATCH = 500
_EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)  # a position, not a date, bounds what is read

# Queued by the database's clock ($8 null), or a test's.
INSERT_DELIVERY = """
INSERT INTO webhook_delivery
    (subscription_id, event_id, xact, resource, record_id, action, body, queued_at, next_attempt_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, COALESCE($8::timestamptz, now()), COALESCE($8::timestamptz, now()))
ON CONFLICT (subscription_id, event_id) DO NOTHING
"""

CLAIM = """
WITH clock AS (SELECT COALESCE($1::timestamptz, now()) AS now),
due AS (
    SELECT d.id
    FROM webhook_delivery AS d
    JOIN webhook_subscription AS s ON s.id = d.subscription_id
    CROSS JOIN clock
    WHERE d.status = 'pending'
      AND s.active
      AND d.next_attempt_at <= clock.now
      AND (d.lease_until IS NULL OR d.lease_until <= clock.now)
      AND NOT EXISTS (
          SELECT 1 FROM webhook_delivery AS e
          WHERE e.subscription_id = d.subscription_id
            AND e.resource = d.resource
            AND e.record_id = d.record_id
            AND e.status = 'pending'
            AND (e.xact, e.event_id) < (d.xact, d.event_id)
      )
    ORDER BY d.xact, d.event_id
    LIMIT $3
    FOR UPDATE OF d SKIP LOCKED
)
UPDATE webhook_delivery AS d
SET attempts = d.attempts + 1, lease_until = clock.now + $2::interval
FROM due, clock, webhook_subscription AS s
WHERE d.id = due.id AND s.id = d.subscription_id
RETURNING d.id, d.subscription_id, d.event_id, d.attempts, d.body, d.queued_at, s.url, s.secret
"""

# The attempt's log line: it began `duration` before now by the database's clock ($3 null), or at
# the test's time $3.
LOG_ATTEMPT = """
INSERT INTO webhook_attempt (delivery_id, at, duration_ms, status_code, error, excerpt)
VALUES ($1, COALESCE($3::timestamptz, clock_timestamp() - make_interval(secs => $2::int / 1000.0)),
        $2, $4, $5, $6)
"""

DELIVERED = """
UPDATE webhook_delivery
SET status = 'delivered', delivered_at = t.now, finished_at = t.now, lease_until = NULL
FROM (SELECT COALESCE($3::timestamptz, clock_timestamp()) AS now) AS t
WHERE id = $1 AND attempts = $2 AND status = 'pending'
"""

# Not delivered: failed for good once the retry budget since it was queued is spent, otherwise
# tried again `retry_in` seconds from now, by the same clock as the budget.
NOT_DELIVERED = """
UPDATE webhook_delivery AS d
SET status = CASE WHEN t.now - d.queued_at >= $4::interval THEN 'failed' ELSE 'pending' END,
    finished_at = CASE WHEN t.now - d.queued_at >= $4::interval THEN t.now END,
    next_attempt_at = CASE WHEN t.now - d.queued_at >= $4::interval THEN d.next_attempt_at
                           ELSE t.now + make_interval(secs => $5::float8) END,
    lease_until = NULL
FROM (SELECT COALESCE($3::timestamptz, clock_timestamp()) AS now) AS t
WHERE d.id = $1 AND d.attempts = $2 AND d.status = 'pending'
"""

PRUNE_BATCH = 500

# One batch of finished deliveries older than the retention, oldest first; their attempts go with
# them (ON DELETE CASCADE).
PRUNE = """
WITH t AS (SELECT COALESCE($1::timestamptz, now()) - $2::interval AS before),
old AS (
    SELECT d.id
    FROM webhook_delivery AS d CROSS JOIN t
    WHERE d.status <> 'pending' AND d.finished_at < t.before
      AND NOT EXISTS (
          SELECT FROM webhook_delivery AS e
          WHERE e.subscription_id = d.subscription_id
            AND e.resource = d.resource
            AND e.record_id = d.record_id
            AND (e.xact, e.event_id) < (d.xact, d.event_id)
            AND NOT (e.status <> 'pending' AND e.finished_at < t.before)
      )
    ORDER BY d.finished_at
    LIMIT $3
    FOR UPDATE OF d SKIP LOCKED
)
DELETE FROM webhook_delivery AS d USING old WHERE d.id = old.id
"""


@dataclass(frozen=True)
class Claim:
    """A delivery this process holds the lease of, for attempt number `attempt`."""

    id: int
    subscription_id: int
    event_id: int
    attempt: int
    body: str
    queued_at: datetime
    url: str
    secret: str


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to: a 2xx, another HTTP status, or an error class."""

    at: datetime | None  # when the attempt began by a test's clock; None: by the database's
    duration_ms: int
    status_code: int | None = None
    error: str | None = None
    excerpt: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


async def head(conn: Connection[Any]) -> int:
    """The feed's horizon now: a new subscription's position is (head, 0)."""
    return int(await conn.fetchval("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"))


def _item_fields(item: str) -> tuple[str, int, str]:
    parsed: dict[str, Any] = json.loads(item)
    return str(parsed["resource"]), int(parsed["id"]), str(parsed["action"])


async def fan_out(
    conn: Connection[Any], registry: Registry, now: datetime | None, batch: int = FAN_OUT_BATCH
) -> int:
    """Queue the events each subscription has not had yet; how many deliveries were queued. They
    are queued at `now`; None: by the database's clock."""
    queued = 0
    paths = [res.path for res in registry]
    plan = page_plan(registry)
    async with conn.transaction():
        subscriptions = await conn.fetch(
            "SELECT id, resources, position_xact, position_id FROM webhook_subscription "
            "ORDER BY id FOR UPDATE SKIP LOCKED"
        )
        for sub in subscriptions:
            position = Position(int(sub["position_xact"]), int(sub["position_id"]))
            wanted = [p for p in paths if sub["resources"] is None or p in sub["resources"]]
            start = position
            while True:
                values = {
                    "xact": position.xact,
                    "id": position.id,
                    "resources": wanted,
                    "limit": batch,
                    "since": _EARLIEST,
                }
                rows = await conn.fetch(plan.sql, *plan.args(values))
                horizon = int(rows[0][0])
                events = [row for row in rows if row[2] is not None]
                if events:
                    records = []
                    for row in events:
                        xact, event_id, item = int(row[1]), int(row[2]), str(row[3])
                        resource, record_id, action = _item_fields(item)
                        body = '{"event_id":' + str(event_id) + "," + item.lstrip()[1:]
                        records.append((sub["id"], event_id, xact, resource, record_id, action, body, now))
                    await conn.executemany(INSERT_DELIVERY, records)
                    queued += len(records)
                if len(events) == batch:
                    position = Position(int(events[-1][1]), int(events[-1][2]))
                    continue
                position = max(position, Position(horizon, 0))
                break
            if position != start:
                await conn.execute(
                    "UPDATE webhook_subscription SET position_xact = $2, position_id = $3 WHERE id = $1",
                    sub["id"],
                    position.xact,
                    position.id,
                )
    return queued


async def claim(conn: Connection[Any], now: datetime | None, lease: timedelta, limit: int) -> list[Claim]:
    """Lease up to `limit` due deliveries, in one short transaction. `now` None: by the database's
    clock, which every process shares (a process's own clock may be off, and its leases with it);
    a time given (a test's clock) is used instead."""
    rows = await conn.fetch(CLAIM, now, lease, limit)
    return [
        Claim(
            id=row["id"],
            subscription_id=row["subscription_id"],
            event_id=row["event_id"],
            attempt=row["attempts"],
            body=row["body"],
            queued_at=row["queued_at"],
            url=row["url"],
            secret=row["secret"],
        )
        for row in rows
    ]


@dataclass(frozen=True)
class Policy:
    """When to try again, when to give up, when to disable."""

    budget: timedelta
    failure_limit: int


async def settle(
    conn: Connection[Any],
    held: Claim,
    outcome: Outcome,
    now: datetime | None,
    retry_in: float,
    policy: Policy,
) -> None:
    """Log the attempt and record its outcome (when this process still holds the claim). `now`
    None: every time by the database's clock."""
    async with conn.transaction():
        await conn.execute(
            LOG_ATTEMPT,
            held.id,
            outcome.duration_ms,
            outcome.at,
            outcome.status_code,
            outcome.error,
            outcome.excerpt,
        )
        if outcome.delivered:
            await conn.execute(DELIVERED, held.id, held.attempt, now)
            await conn.execute(
                "UPDATE webhook_subscription SET failure_run = 0 WHERE id = $1 AND failure_run <> 0",
                held.subscription_id,
            )
            return
        await conn.execute(NOT_DELIVERED, held.id, held.attempt, now, policy.budget, retry_in)
        row = await conn.fetchrow(
            "UPDATE webhook_subscription SET failure_run = failure_run + 1 WHERE id = $1 "
            "RETURNING failure_run, active, url",
            held.subscription_id,
        )
        if row is not None and row["active"] and row["failure_run"] >= policy.failure_limit:
            await _disable(conn, held.subscription_id, row["url"], row["failure_run"], outcome)


async def prune(
    conn: Connection[Any], now: datetime | None, retention: timedelta, batch: int = PRUNE_BATCH
) -> int:
    """Delete one batch of finished deliveries older than `retention` (by the database's clock
    when `now` is None), in a transaction of its own; how many were deleted."""
    async with conn.transaction():
        status: str = await conn.execute(PRUNE, now, retention, batch)
    return int(status.rsplit(maxsplit=1)[-1])


async def _disable(conn: Connection[Any], subscription_id: int, url: str, run: int, last: Outcome) -> None:
    """Turn a failing subscription off, with the reason, a security event and a log line."""
    cause = last.error or f"HTTP {last.status_code}"
    reason = f"disabled after {run} failed attempts in a row; the last: {cause}"
    await conn.execute(
        "UPDATE webhook_subscription SET active = false, disabled_reason = $2, updated_at = now() "
        "WHERE id = $1",
        subscription_id,
        reason,
    )
    details = {"failed_attempts": run, "last": cause}
    await conn.execute(
        "INSERT INTO security_event "
        "(action, actor_kind, actor_name, target_kind, target_id, target_name, details) VALUES "
        "('webhook_disabled', 'service', 'webhook worker', 'webhook', $1, $2, $3::jsonb)",
        subscription_id,
        url,
        json.dumps(details),
    )
    security_log.warning(
        "security event: webhook_disabled",
        extra={"action": "webhook_disabled", "actor_kind": "service", "target": url, "details": details},
    )
