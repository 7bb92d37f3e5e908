"""Redeliver of an older delivery while a later change of the same record is being sent (leased, in
flight) is refused (409): the older body would reach the receiver after the newer one. Found by a
review; on f5b08ba the redeliver was accepted and the receiver got versions 1, 2, 1."""

from __future__ import annotations

import asyncio

from tests.webhooks.helpers import write
from tests.webhooks.receiver import Answer, receiving
from tests.webhooks.test_delivery import HOOKS, fresh, run_until, service, subscribe, template  # noqa: F401


async def test_redeliver_of_an_older_change_while_a_later_one_is_in_flight_is_409(fresh: str) -> None:  # noqa: F811
    # Request 0: event A (create), answered at once. Request 1: event B (update), answered slowly.
    async with (
        receiving(lambda n, r: Answer(204, delay=0.4 if n == 1 else 0)) as receiver,
        service(fresh, webhook_timeout_s=2) as (_, client, worker, clock),
    ):
        hook, _ = await subscribe(client, receiver.url)
        ids = await write(fresh, [("create", None)])
        await run_until(worker, clock, lambda: len(receiver.delivered()) == 1)
        await write(fresh, [("update", 0)], ids)
        tick = asyncio.create_task(worker.tick())
        while len(receiver.requests) < 2:  # noqa: ASYNC110 - B is being sent (the receiver counts it)
            await asyncio.sleep(0.01)
        deliveries = (await client.get(f"{HOOKS}/{hook}/deliveries")).json()["items"]
        first, later = sorted(d["id"] for d in deliveries)
        again = await client.post(f"{HOOKS}/{hook}/deliveries/{first}/redeliver")
        assert again.status_code == 409, again.text
        assert again.headers["content-type"] == "application/problem+json"
        assert f"delivery {later}" in again.json()["detail"]
        await tick
        clock.advance(seconds=1)
        await worker.tick()
        sent = [(r.event_id, r.item["record"]["version"]) for r in receiver.delivered()]
        assert sent == [(1, 1), (2, 2)]
        # Once B is delivered, A still cannot go again (the existing rule).
        assert (await client.post(f"{HOOKS}/{hook}/deliveries/{first}/redeliver")).status_code == 409
