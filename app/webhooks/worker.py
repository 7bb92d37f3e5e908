"""The webhook worker: one per service process, started and stopped by the app's lifespan.

Every WEBHOOK_POLL_INTERVAL_S it fans new events out to the subscriptions (outbox.fan_out), then
claims the deliveries that are due and sends them, each with httpx, concurrently, until none is
due. Each attempt checks the URL again (targets.check: DNS may have changed since registration)
and connects to the address it checked, with the Host header and TLS server name of the URL (a
name in its ASCII, IDNA form); any error of an attempt is recorded as its failed outcome;
redirects are not followed and proxies from the environment are not used. An attempt is cut off
after WEBHOOK_TIMEOUT_S in all; the lease of its claim lasts that long plus LEASE_MARGIN_S, so
another process can take over a delivery only once its attempt here has certainly ended.

Every time the worker writes (a delivery queued, its next attempt, a lease, its end, the log) is
taken from the database's clock in the statement that writes it (app/webhooks/outbox.py), never
from this process's: hosts whose clocks disagree still agree on when a delivery is due.

Every WEBHOOK_PRUNE_INTERVAL_S it also prunes the outbox: finished deliveries older than
WEBHOOK_RETENTION_DAYS go, in batches of one short transaction each, at most PRUNE_BATCHES a round
(a backlog is worked off over the following rounds, between deliveries); pending ones never do.

The clock (None: the database's), the resolver, the random source and the HTTP transport are
arguments, so that tests drive the worker step by step (`tick`) without waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.settings import Settings
from app.kit.registry import Registry
from app.webhooks import outbox, signing, targets

log = logging.getLogger("app.webhooks")

LEASE_MARGIN_S = 5.0
CLAIM_BATCH = 10
PRUNE_BATCHES = 20
EXCERPT_CHARS = 200
_READ_AT_MOST = 1024
USER_AGENT = "craftvillage-webhooks/1"


class Worker:
    """Fans out and delivers, on the database of `engine`."""

    def __init__(
        self,
        engine: AsyncEngine,
        registry: Registry,
        settings: Settings,
        *,
        clock: Callable[[], datetime] | None = None,
        resolver: targets.Resolver = targets.system_resolver,
        rng: random.Random | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.engine = engine
        self.registry = registry
        self.settings = settings
        self.clock = clock
        self.resolver = resolver
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not a secret
        self.networks = list(settings.webhook_allowed_networks)
        self.policy = outbox.Policy(
            budget=timedelta(hours=settings.webhook_retry_budget_hours),
            failure_limit=settings.webhook_failure_limit,
        )
        self.lease = timedelta(seconds=settings.webhook_timeout_s + LEASE_MARGIN_S)
        self.retention = timedelta(days=settings.webhook_retention_days)
        self._prune_at = 0.0  # time.monotonic() of the next pruning: the first round prunes
        self.http = httpx.AsyncClient(
            transport=transport, follow_redirects=False, trust_env=False, timeout=settings.webhook_timeout_s
        )
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # -- the loop -----------------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="webhook worker")

    async def stop(self) -> None:
        """Stop looking for work; an attempt in flight may finish within its timeout, then is cut
        (its lease runs out and another process delivers it)."""
        self._stopping.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), self.settings.webhook_timeout_s + 1)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        await self.http.aclose()

    def now(self) -> datetime | None:
        """The test's time, or None: the database's clock."""
        return None if self.clock is None else self.clock()

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                if time.monotonic() >= self._prune_at:
                    # A backlog left (every batch full) is worked on next round, else after the interval.
                    backlog = await self.prune() >= PRUNE_BATCHES * outbox.PRUNE_BATCH
                    wait = 0.0 if backlog else self.settings.webhook_prune_interval_s
                    self._prune_at = time.monotonic() + wait
                while await self.tick() and not self._stopping.is_set():
                    pass
            except Exception:  # the database away, a bug: log, and try again at the next poll
                log.exception("webhook worker: a round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.settings.webhook_poll_interval_s)

    async def tick(self) -> int:
        """One round: fan out, then claim and deliver what is due; how many attempts were made."""
        async with self.engine.connect() as conn:
            raw: Any = (await conn.get_raw_connection()).driver_connection
            await outbox.fan_out(raw, self.registry, self.now())
            held = await outbox.claim(raw, self.now(), self.lease, CLAIM_BATCH)
        if not held:
            return 0
        results = await asyncio.gather(*(self.deliver(claim) for claim in held), return_exceptions=True)
        for result in results:
            # Settling failed (the database away, the subscription deleted meanwhile): the lease
            # runs out and the delivery, if it still exists, is tried again.
            if isinstance(result, Exception):
                log.warning("webhook worker: an attempt could not be recorded", exc_info=result)
        return len(held)

    async def prune(self, batches: int = PRUNE_BATCHES) -> int:
        """Delete finished deliveries older than the retention, a batch at a time, at most
        `batches` batches; how many were deleted."""
        pruned = 0
        async with self.engine.connect() as conn:
            raw: Any = (await conn.get_raw_connection()).driver_connection
            for _ in range(batches):
                deleted = await outbox.prune(raw, self.now(), self.retention)
                pruned += deleted
                if deleted < outbox.PRUNE_BATCH or self._stopping.is_set():
                    break
        if pruned:
            log.info("webhook worker: pruned %d finished deliveries", pruned)
        return pruned

    # -- one attempt --------------------------------------------------------------------------

    async def deliver(self, held: outbox.Claim) -> None:
        outcome = await self.attempt(held)
        retry_in = signing.backoff(
            held.attempt,
            self.settings.webhook_retry_base_s,
            self.settings.webhook_retry_max_interval_s,
            self.rng,
        )
        async with self.engine.connect() as conn:
            raw: Any = (await conn.get_raw_connection()).driver_connection
            await outbox.settle(raw, held, outcome, self.now(), retry_in, self.policy)

    async def attempt(self, held: outbox.Claim) -> outbox.Outcome:
        """POST the delivery's body to its subscription's URL, once."""
        at, started = self.now(), time.monotonic()

        def outcome(**values: Any) -> outbox.Outcome:
            return outbox.Outcome(at=at, duration_ms=int((time.monotonic() - started) * 1000), **values)

        body = held.body.encode()
        try:
            async with asyncio.timeout(self.settings.webhook_timeout_s):
                target = await targets.check(held.url, self.networks, self.resolver)
                headers = {
                    "Host": target.host_header(),
                    "Content-Type": "application/json",
                    "User-Agent": USER_AGENT,
                    "X-Signature": signing.signature(held.secret, int(time.time()), body),
                    "X-Webhook-Event-Id": str(held.event_id),
                }
                extensions = {"sni_hostname": target.hostname} if target.parts.scheme == "https" else {}
                async with self.http.stream(
                    "POST", target.connect_url(), content=body, headers=headers, extensions=extensions
                ) as response:
                    excerpt = await _excerpt(response)
                    return outcome(status_code=response.status_code, excerpt=excerpt)
        except targets.Refused as refused:
            return outcome(error=refused.kind)
        except (TimeoutError, httpx.TimeoutException):
            return outcome(error="timeout")
        except httpx.ConnectError:
            return outcome(error="connect_error")
        except httpx.HTTPError as error:
            return outcome(error=_snake(type(error).__name__))
        except Exception as error:  # whatever it was, the attempt is recorded as failed
            # Not raised on: the delivery would never be settled, and claimed again for ever. Only
            # the class of the error is recorded (its text is for the operator's log alone).
            log.warning("webhook worker: delivery %s failed unexpectedly", held.id, exc_info=error)
            return outcome(error=_snake(type(error).__name__))


async def _excerpt(response: httpx.Response) -> str | None:
    """The start of the receiver's answer, for the log: never more than EXCERPT_CHARS characters."""
    read = b""
    async for chunk in response.aiter_raw():
        read += chunk
        if len(read) >= _READ_AT_MOST:
            break
    text = read[:_READ_AT_MOST].decode("utf-8", errors="replace").strip()
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    if not text:
        return None
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"


def _snake(name: str) -> str:
    """httpx's exception class as an error class: RemoteProtocolError -> remote_protocol_error."""
    return "".join("_" + ch.lower() if ch.isupper() and i else ch.lower() for i, ch in enumerate(name))
