"""The outbox's times are the database's, whatever this process's clock says; finished deliveries
are pruned after the retention, in batches, pending ones never."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.webhooks import outbox, worker
from tests.conftest import plain_url
from tests.webhooks.helpers import write
from tests.webhooks.receiver import Answer, receiving
from tests.webhooks.test_delivery import HOOKS, fresh, service, subscribe, template

__all__ = ["fresh", "template"]  # the fixtures, shared with test_delivery

SKEW = timedelta(hours=6)


class Skewed(datetime):
    """datetime whose now() is six hours ahead: a host whose clock is off."""

    @classmethod
    def now(cls, tz: Any = None) -> Any:
        return datetime.now(tz) + SKEW


async def _rows(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(plain_url(url))
    try:
        rows: list[asyncpg.Record] = await conn.fetch(sql, *args)
        return rows
    finally:
        await conn.close()


async def _db_now(url: str) -> datetime:
    now: datetime = (await _rows(url, "SELECT clock_timestamp() AS now"))[0]["now"]
    return now


async def test_times_are_the_databases_whatever_the_process_clock_says(
    fresh: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The process clock runs six hours ahead; time.time stays right (the signature's timestamp is
    # the receiver's business, checked against its own clock).
    monkeypatch.setattr(worker, "datetime", Skewed)
    monkeypatch.setattr(outbox, "datetime", Skewed)
    async with (
        receiving(lambda n, r: Answer(500 if n == 0 else 204)) as receiver,
        service(fresh, webhook_retry_max_interval_s=60) as (_, client, hooks, _clock),
    ):
        hooks.clock = None  # the production worker: the database's clock
        await subscribe(client, receiver.url)
        await write(fresh, [("create", None)])
        before = await _db_now(fresh)
        assert await hooks.tick() == 1  # a 500: tried again later
        after = await _db_now(fresh)
        row = (
            await _rows(
                fresh,
                "SELECT d.queued_at, d.next_attempt_at, d.status, a.at FROM webhook_delivery d "
                "JOIN webhook_attempt a ON a.delivery_id = d.id",
            )
        )[0]
        assert row["status"] == "pending"
        assert before <= row["queued_at"] <= after
        assert before - timedelta(seconds=1) <= row["at"] <= after
        # The backoff of a first attempt is at most retry_base_s (1 s here) after the attempt.
        assert row["at"] <= row["next_attempt_at"] <= after + timedelta(seconds=1)
        # Due by the database's clock: delivered once the wait is over, not six hours later.
        await asyncio.sleep(1.1)
        assert await hooks.tick() == 1
        done = (await _rows(fresh, "SELECT status, delivered_at, finished_at FROM webhook_delivery"))[0]
        assert done["status"] == "delivered"
        assert done["delivered_at"] == done["finished_at"] <= await _db_now(fresh)
        assert len(receiver.delivered()) == 1


async def test_finished_deliveries_are_pruned_after_the_retention_pending_ones_never(fresh: str) -> None:
    answers = {"status": 204}
    async with (
        receiving(lambda n, r: Answer(answers["status"])) as receiver,
        service(fresh, webhook_retention_days=30) as (_, client, hooks, clock),
    ):
        hook, _ = await subscribe(client, receiver.url)
        ids = await write(fresh, [("create", None)] * 4)
        while await hooks.tick():
            pass
        assert len(receiver.delivered()) == 4
        answers["status"] = 500
        await write(fresh, [("update", 0)], ids)  # village 1 again: stays pending
        await hooks.tick()
        # Deliveries of villages 1 and 2 finished 31 days ago, of 3 yesterday, of 4 now; all were
        # queued 100 days ago, the pending one too.
        await _rows(
            fresh,
            """
            UPDATE webhook_delivery SET finished_at = now() - CASE record_id
                WHEN $1 THEN interval '31 days' WHEN $2 THEN interval '31 days'
                WHEN $3 THEN interval '1 day' END
            WHERE status = 'delivered' AND record_id <> $4
            """,
            *ids,
        )
        await _rows(fresh, "UPDATE webhook_delivery SET queued_at = now() - interval '100 days'")
        assert await hooks.prune() == 2  # villages 1 (delivered) and 2
        left = await _rows(fresh, "SELECT record_id, status FROM webhook_delivery ORDER BY id")
        assert [(r["record_id"], r["status"]) for r in left] == [
            (ids[2], "delivered"),
            (ids[3], "delivered"),
            (ids[0], "pending"),
        ]
        # Their attempts went with them: those left are the deliveries' left.
        attempts = await _rows(
            fresh, "SELECT count(*) AS n, count(DISTINCT delivery_id) AS d FROM webhook_attempt"
        )
        assert (attempts[0]["n"], attempts[0]["d"]) == (3, 3)
        # A pending delivery however old stays; past the retention of its own, a finished one goes.
        clock.advance(days=29, hours=12)
        assert await hooks.prune() == 1  # village 3's
        assert await hooks.prune() == 0
        listed = (await client.get(f"{HOOKS}/{hook}/deliveries")).json()
        assert listed["total"] == 2


async def test_an_earlier_delivery_of_the_record_keeps_a_later_one(fresh: str) -> None:
    """Redeliver refuses an older change once a later one of the record was delivered: pruning
    the later one first would let the older state be sent again."""
    async with receiving(lambda n, r: Answer(204)) as _receiver, service(fresh) as (_, client, hooks, clock):
        hook, _ = await subscribe(client, _receiver.url)
        ids = await write(fresh, [("create", None)])
        await write(fresh, [("update", 0)], ids)
        while await hooks.tick():
            pass
        first, last = (r["id"] for r in await _rows(fresh, "SELECT id FROM webhook_delivery ORDER BY id"))
        # The earlier one failed for good, recently; the later one was delivered long ago.
        await _rows(
            fresh,
            "UPDATE webhook_delivery SET status = CASE WHEN id = $1 THEN 'failed' ELSE status END, "
            "finished_at = CASE WHEN id = $1 THEN now() ELSE now() - interval '60 days' END",
            first,
        )
        assert await hooks.prune() == 0
        refused = await client.post(f"{HOOKS}/{hook}/deliveries/{first}/redeliver")
        assert refused.status_code == 409
        clock.advance(days=31)
        assert await hooks.prune() == 2  # both, the earlier with the later
        assert await _rows(fresh, "SELECT id FROM webhook_delivery") == []
        assert last > first


async def test_pruning_goes_in_small_batches_and_the_worker_prunes_on_its_own(fresh: str) -> None:
    async with receiving(lambda n, r: Answer(204)) as receiver, service(fresh) as (app, client, hooks, clock):
        await subscribe(client, receiver.url)
        await write(fresh, [("create", None)] * 5)
        while await hooks.tick():
            pass
        assert len(receiver.delivered()) == 5
        clock.advance(days=31)
        engine: AsyncEngine = app.state.engine
        async with engine.connect() as conn:
            raw: Any = (await conn.get_raw_connection()).driver_connection
            assert [await outbox.prune(raw, clock(), hooks.retention, batch=2) for _ in range(4)] == [
                2,
                2,
                1,
                0,
            ]
        # Queued again and delivered; the running worker prunes at its first round.
        await write(fresh, [("create", None)])
        while await hooks.tick():
            pass
        clock.advance(days=31)
        hooks.start()
        try:
            for _ in range(100):
                if not await _rows(fresh, "SELECT id FROM webhook_delivery"):
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("the worker did not prune")
        finally:
            await hooks.stop()


async def test_redeliver_of_a_finished_delivery_unfinishes_it(fresh: str) -> None:
    async with receiving(lambda n, r: Answer(204)) as receiver, service(fresh) as (_, client, hooks, clock):
        hook, _ = await subscribe(client, receiver.url)
        await write(fresh, [("create", None)])
        await hooks.tick()
        delivery = (await _rows(fresh, "SELECT id, finished_at FROM webhook_delivery"))[0]
        assert delivery["finished_at"] is not None
        assert (await client.post(f"{HOOKS}/{hook}/deliveries/{delivery['id']}/redeliver")).status_code == 202
        clock.advance(days=31)
        assert (await _rows(fresh, "SELECT finished_at FROM webhook_delivery"))[0]["finished_at"] is None
        assert await hooks.prune() == 0
