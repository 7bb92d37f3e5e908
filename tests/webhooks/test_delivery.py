"""The worker, driven step by step (`tick`) with a clock the test moves, against a receiver that
fails, times out, answers slowly and recovers: every event delivered at least once, signed, in
order per record; the retry schedule; failed for good after the budget; a subscription disabled
after its run of failures; redeliver; the SSRF check again at delivery."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import timedelta
from ipaddress import ip_network
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from app.__main__ import migrate
from app.core.settings import Settings
from app.main import create_app
from app.webhooks import outbox, signing
from app.webhooks.worker import Worker
from tests.conftest import committed_key, create_database, drop_database, plain_url
from tests.webhooks.helpers import Clock, setup, value, write
from tests.webhooks.receiver import Answer, Received, receiving

HOOKS = "/api/v1/webhooks"
LOOPBACK = [ip_network("127.0.0.0/8")]


@pytest.fixture(scope="module")
def template(server_url: str) -> Iterator[str]:
    url = create_database(server_url, "cv_hooks_tpl")
    try:
        migrate(url)
        asyncio.run(setup(url))
        yield url
    finally:
        drop_database(server_url, url)


@pytest.fixture
def fresh(server_url: str, template: str) -> Iterator[str]:
    url = create_database(server_url, "cv_hooks", template=template)
    try:
        yield url
    finally:
        drop_database(server_url, url)


def settings(url: str, **values: Any) -> Settings:
    base: dict[str, Any] = {
        "database_url": url,
        "webhook_worker": False,  # the test drives its own
        "webhook_allowed_networks": LOOPBACK,
        "webhook_timeout_s": 0.5,
        "webhook_retry_base_s": 1,
        "webhook_retry_max_interval_s": 60,
    }
    return Settings(**{**base, **values})


@asynccontextmanager
async def service(url: str, **values: Any) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient, Worker, Clock]]:
    """The app on `url` (its lifespan run, its own worker off), an administrator's client, and a
    worker with a clock of the test's."""
    config = settings(url, **values)
    app = create_app(config)
    async with app.router.lifespan_context(app):
        engine: AsyncEngine = app.state.engine
        secret = await committed_key(engine)
        clock = Clock()
        worker = Worker(engine, app.state.registry, config, clock=clock, rng=random.Random(7))
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", headers={"X-API-Key": secret}
        ) as client:
            try:
                yield app, client, worker, clock
            finally:
                await worker.http.aclose()


async def subscribe(client: httpx.AsyncClient, url: str, **body: Any) -> tuple[int, str]:
    made = await client.post(HOOKS, json={"url": url, **body})
    assert made.status_code == 201, made.text
    return made.json()["id"], made.json()["secret"]


async def run_until(worker: Worker, clock: Clock, done: Any, rounds: int = 200, step_s: float = 90) -> None:
    for _ in range(rounds):
        await worker.tick()
        if done():
            return
        clock.advance(seconds=step_s)
    raise AssertionError("not done within the rounds given")


def check_order(requests: list[Received]) -> None:
    """Per record: deliveries come in event order, and no attempt of an event begins before the
    earlier event of that record was delivered."""
    by_record: dict[int, list[Received]] = {}
    for r in requests:
        by_record.setdefault(r.item["id"], []).append(r)
    for seen in by_record.values():
        delivered_at: dict[int, float] = {}
        for r in sorted(seen, key=lambda r: r.began):
            earlier = [e for e in delivered_at if e < r.event_id]
            later = [e for e in delivered_at if e > r.event_id]
            assert not later, ("an earlier event came after a later one was delivered", r.event_id, later)
            assert all(delivered_at[e] <= r.began for e in earlier)
            if r.status is not None and 200 <= r.status < 300 and r.ended is not None:
                delivered_at.setdefault(r.event_id, r.ended)


def test_backoff_is_full_jitter_between_zero_and_the_doubling_ceiling() -> None:
    rng = random.Random(1)
    for attempt in range(1, 40):
        ceiling = min(3600.0, 30.0 * 2 ** (attempt - 1))
        waits = [signing.backoff(attempt, 30, 3600, rng) for _ in range(200)]
        assert all(0 <= w <= ceiling for w in waits)
        assert max(waits) > ceiling * 0.8  # the whole range is used, not just its start
    assert signing.backoff(10_000, 30, 3600, rng) <= 3600


def test_a_receiver_checks_signatures_and_refuses_old_ones() -> None:
    body = b'{"event_id":1}'
    now = int(time.time())
    header = signing.signature("s3cret-s3cret-s3cret", now, body)
    assert header.startswith(f"t={now},v1=")
    assert signing.verify("s3cret-s3cret-s3cret", header, body, now)
    assert not signing.verify("another-secret-xxxx", header, body, now)
    assert not signing.verify("s3cret-s3cret-s3cret", header, body + b" ", now)
    assert not signing.verify("s3cret-s3cret-s3cret", header, body, now + 301)  # a replay, too late
    assert not signing.verify("s3cret-s3cret-s3cret", "v1=abc", body, now)


async def test_every_event_arrives_signed_and_in_order_through_failures(fresh: str) -> None:
    def script(n: int, r: Received) -> Answer:
        plan = [Answer(500, body=b"x" * 5000), Answer(hang=True), Answer(200, delay=0.2), Answer(503)]
        return plan[n] if n < len(plan) else (Answer(500) if n % 3 == 0 else Answer(200, delay=0.01))

    async with receiving(script) as receiver, service(fresh) as (_, client, worker, clock):
        hook, secret = await subscribe(client, receiver.url)
        plan: list[tuple[str, int | None]] = [("create", None)] * 4 + [("update", n % 4) for n in range(12)]
        await write(fresh, plan)
        events = {r for r in await _event_ids(fresh)}
        await run_until(worker, clock, lambda: {r.event_id for r in receiver.delivered()} >= events)
        assert len(events) == 16
        assert all(r.verified(secret) for r in receiver.requests)
        assert not receiver.overlaps
        check_order(receiver.requests)
        first = receiver.requests[0]
        assert first.headers["content-type"] == "application/json"
        assert first.item["event_id"] == first.event_id
        assert {"resource", "id", "action", "version", "at", "request_id", "record"} <= first.item.keys()
        log = (await client.get(f"{HOOKS}/{hook}/deliveries", params={"limit": 100})).json()
        assert log["total"] == 16 and {d["status"] for d in log["items"]} == {"delivered"}
        attempts = [a for d in log["items"] for a in d["log"]]
        assert {a["error"] for a in attempts} >= {None, "timeout"}
        assert {a["status_code"] for a in attempts} >= {500, 503, 200}
        assert all(a["excerpt"] is None or len(a["excerpt"]) <= 200 for a in attempts)
        assert (await client.get(f"{HOOKS}/{hook}")).json()["consecutive_failures"] == 0


async def _event_ids(url: str) -> list[int]:
    conn = await asyncpg.connect(plain_url(url))
    try:
        return [r["id"] for r in await conn.fetch("SELECT id FROM audit_event")]
    finally:
        await conn.close()


async def test_a_new_subscription_starts_at_the_head(fresh: str) -> None:
    async with receiving() as receiver, service(fresh) as (_, client, worker, _clock):
        await write(fresh, [("create", None)])
        await subscribe(client, receiver.url)
        await write(fresh, [("create", None)])
        await worker.tick()
        assert [r.item["id"] for r in receiver.delivered()] == [2]


async def test_only_the_resources_subscribed(fresh: str) -> None:
    async with receiving() as receiver, service(fresh) as (_, client, worker, _clock):
        await subscribe(client, receiver.url, resources=["cooperatives"])
        await write(fresh, [("create", None)])
        await worker.tick()
        assert receiver.requests == []


async def test_failed_for_good_after_the_budget_then_redelivered(fresh: str) -> None:
    answers = {"status": 500}
    async with (
        receiving(lambda n, r: Answer(answers["status"])) as receiver,
        service(fresh, webhook_retry_budget_hours=24) as (_, client, worker, clock),
    ):
        hook, _ = await subscribe(client, receiver.url)
        await write(fresh, [("create", None)])
        await worker.tick()
        clock.advance(hours=23)
        await worker.tick()
        assert await value(fresh, "SELECT status FROM webhook_delivery") == "pending"
        clock.advance(hours=1, seconds=1)
        await worker.tick()
        assert await value(fresh, "SELECT status FROM webhook_delivery") == "failed"
        clock.advance(hours=48)
        await worker.tick()
        assert len(receiver.requests) == 3  # failed for good: not tried again
        failed = (await client.get(f"{HOOKS}/{hook}/deliveries", params={"status": "failed"})).json()
        assert failed["total"] == 1 and len(failed["items"][0]["log"]) == 3
        answers["status"] = 204
        again = await client.post(f"{HOOKS}/{hook}/deliveries/{failed['items'][0]['id']}/redeliver")
        assert again.status_code == 202 and again.json()["status"] == "pending"
        clock.advance(seconds=1)
        await worker.tick()
        assert len(receiver.delivered()) == 1
        assert await value(fresh, "SELECT status FROM webhook_delivery") == "delivered"
        again = await client.post(f"{HOOKS}/{hook}/deliveries/{failed['items'][0]['id']}/redeliver")
        clock.advance(seconds=1)
        await worker.tick()
        assert len(receiver.delivered()) == 2  # a delivered one can be sent again too


async def test_disabled_after_the_run_of_failures_and_enabled_again(fresh: str) -> None:
    answers = {"status": 500}
    async with (
        receiving(lambda n, r: Answer(answers["status"])) as receiver,
        service(fresh, webhook_failure_limit=3) as (_, client, worker, clock),
    ):
        hook, _ = await subscribe(client, receiver.url)
        ids = await write(fresh, [("create", None), ("create", None)])
        for _ in range(6):
            await worker.tick()
            clock.advance(minutes=5)
        # Two records' deliveries go out side by side: the run can pass the limit by those in flight.
        tried = len(receiver.requests)
        assert 3 <= tried <= 4
        sub = (await client.get(f"{HOOKS}/{hook}")).json()
        assert sub["active"] is False and sub["consecutive_failures"] == tried
        assert "failed attempts in a row; the last: HTTP 500" in sub["disabled_reason"]
        trail = (await client.get("/api/v1/audit/security", params={"action": "webhook_disabled"})).json()
        assert trail["items"][0]["actor_kind"] == "service" and trail["items"][0]["target_id"] == hook
        # Deliveries wait while it is off; switched on again, they go out.
        await write(fresh, [("update", 0)], ids)
        clock.advance(hours=1)
        await worker.tick()
        assert len(receiver.requests) == tried
        answers["status"] = 200
        enabled = await client.patch(f"{HOOKS}/{hook}", json={"active": True})
        assert enabled.json()["consecutive_failures"] == 0 and enabled.json()["disabled_reason"] is None
        await run_until(worker, clock, lambda: len({r.event_id for r in receiver.delivered()}) == 3)
        check_order(receiver.requests)


async def test_the_address_is_checked_again_at_each_delivery(fresh: str) -> None:
    names = {"hooks.example": "127.0.0.1"}

    async def resolver(host: str, port: int) -> list[str]:
        return [names[host]]

    async with receiving() as receiver, service(fresh) as (app, client, worker, clock):
        app.state.webhook_resolver = resolver
        worker.resolver = resolver
        hook, _ = await subscribe(client, f"http://hooks.example:{receiver.port}/hook")
        await write(fresh, [("create", None)])
        names["hooks.example"] = "169.254.169.254"  # the name now points at the metadata service
        await worker.tick()
        assert receiver.requests == []
        log = (await client.get(f"{HOOKS}/{hook}/deliveries")).json()["items"][0]["log"]
        assert [(a["status_code"], a["error"]) for a in log] == [(None, "refused_address")]
        names["hooks.example"] = "127.0.0.1"
        clock.advance(minutes=5)
        await worker.tick()
        assert len(receiver.delivered()) == 1
        # Connected to the address checked, with the URL's host named in Host.
        assert receiver.requests[0].headers["host"] == f"hooks.example:{receiver.port}"


async def test_an_international_host_is_sent_in_its_ascii_form(fresh: str) -> None:
    asked: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"]

    async with receiving() as receiver, service(fresh) as (app, client, worker, _clock):
        app.state.webhook_resolver = resolver
        worker.resolver = resolver
        hook, _ = await subscribe(client, f"http://bücher.example:{receiver.port}/hook")
        await write(fresh, [("create", None)])
        assert await worker.tick() == 1
        assert len(receiver.delivered()) == 1
        assert receiver.requests[0].headers["host"] == f"xn--bcher-kva.example:{receiver.port}"
        assert set(asked) == {"xn--bcher-kva.example"}
        log = (await client.get(f"{HOOKS}/{hook}/deliveries")).json()["items"][0]
        assert log["status"] == "delivered"


async def test_an_unexpected_error_is_recorded_as_a_failed_attempt(fresh: str) -> None:
    def explode(request: httpx.Request) -> httpx.Response:
        raise ValueError("internal detail that must not be shown")

    async with service(fresh) as (_, client, worker, clock):
        await worker.http.aclose()
        worker.http = httpx.AsyncClient(transport=httpx.MockTransport(explode), trust_env=False)
        hook, _ = await subscribe(client, "http://127.0.0.1:9/hook")
        await write(fresh, [("create", None)])
        assert await worker.tick() == 1
        clock.advance(minutes=5)
        assert await worker.tick() == 1
        listed = await client.get(f"{HOOKS}/{hook}/deliveries")
        log = listed.json()["items"][0]
        assert log["status"] == "pending"
        assert [(a["status_code"], a["error"]) for a in log["log"]] == [(None, "value_error")] * 2
        assert "internal detail" not in listed.text
        assert (await client.get(f"{HOOKS}/{hook}")).json()["consecutive_failures"] == 2


async def test_leases_are_by_the_database_clock(fresh: str) -> None:
    async with receiving() as receiver, service(fresh) as (app, client, worker, _clock):
        hook, _ = await subscribe(client, receiver.url)
        await write(fresh, [("create", None)])
        engine: AsyncEngine = app.state.engine
        async with engine.connect() as conn:
            raw: Any = (await conn.get_raw_connection()).driver_connection
            await outbox.fan_out(raw, app.state.registry, None)
            held = await outbox.claim(raw, None, worker.lease, 10)
            assert [c.subscription_id for c in held] == [hook]
            assert await outbox.claim(raw, None, worker.lease, 10) == []  # leased
            # The lease runs from the database's now, whatever this process's clock says.
            left = await raw.fetchval("SELECT lease_until - now() FROM webhook_delivery")
            assert worker.lease - timedelta(seconds=5) < left <= worker.lease
            # A test's clock past the lease takes it over.
            later = await raw.fetchval("SELECT now()") + worker.lease + timedelta(seconds=1)
            assert len(await outbox.claim(raw, later, worker.lease, 10)) == 1
        # The worker on the real clock claims by the database's.
        worker.clock = None
        await write(fresh, [("create", None)])
        assert await worker.tick() == 1
        assert len(receiver.delivered()) == 1


async def test_redirects_are_not_followed(fresh: str) -> None:
    async with (
        receiving(lambda n, r: Answer(302 if n == 0 else 200)) as receiver,
        service(fresh) as (_, client, worker, _clock),
    ):
        hook, _ = await subscribe(client, receiver.url)
        await write(fresh, [("create", None)])
        await worker.tick()
        log = (await client.get(f"{HOOKS}/{hook}/deliveries")).json()["items"][0]
        assert log["status"] == "pending" and log["log"][0]["status_code"] == 302
        assert len(receiver.requests) == 1


async def test_redeliver_never_sends_an_older_state_after_a_newer_one(fresh: str) -> None:
    async with (
        receiving(lambda n, r: Answer(204)) as receiver,
        service(fresh) as (_, client, worker, clock),
    ):
        hook, _ = await subscribe(client, receiver.url)
        ids = await write(fresh, [("create", None)])
        await write(fresh, [("update", 0)], ids)
        await run_until(worker, clock, lambda: len(receiver.delivered()) == 2)
        deliveries = (await client.get(f"{HOOKS}/{hook}/deliveries")).json()["items"]
        first, last = sorted(d["id"] for d in deliveries)
        refused = await client.post(f"{HOOKS}/{hook}/deliveries/{first}/redeliver")
        assert refused.status_code == 409 and f"redeliver {last} instead" in refused.json()["detail"]
        assert (await client.post(f"{HOOKS}/{hook}/deliveries/{last}/redeliver")).status_code == 202
        await run_until(worker, clock, lambda: len(receiver.delivered()) == 3)
        check_order(receiver.requests)
