"""A webhook receiver for the tests: an HTTP/1.1 server on 127.0.0.1, in the test's event loop,
that answers as the test scripts it (fail with 500, hang past the timeout, answer slowly,
recover) and keeps every request it received, with when it began and ended."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from app.webhooks import signing


@dataclass(frozen=True)
class Answer:
    """How to answer one request: a status after `delay` seconds; `hang` never answers."""

    status: int = 200
    delay: float = 0.0
    hang: bool = False
    body: bytes = b"ok"


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    began: float
    ended: float | None = None
    status: int | None = None

    @property
    def event_id(self) -> int:
        return int(self.headers["x-webhook-event-id"])

    @property
    def item(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed

    def verified(self, secret: str) -> bool:
        return signing.verify(secret, self.headers["x-signature"], self.body, time.time())


@dataclass
class Receiver:
    """The server and what it saw. `script(n, received)` chooses the answer to request n (from 0)."""

    script: Callable[[int, Received], Answer] = lambda n, r: Answer()
    port: int = 0
    requests: list[Received] = field(default_factory=list)
    in_flight: dict[int, int] = field(default_factory=dict)  # event id -> requests being answered
    overlaps: list[int] = field(default_factory=list)  # event ids received while one was in flight
    hanging: asyncio.Event = field(default_factory=asyncio.Event)  # set: hanging requests give up

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def delivered(self) -> list[Received]:
        return [r for r in self.requests if r.status is not None and 200 <= r.status < 300]

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        received = Received(headers, body, time.monotonic())
        number = len(self.requests)
        self.requests.append(received)
        event = received.event_id
        if self.in_flight.get(event):
            self.overlaps.append(event)
        self.in_flight[event] = self.in_flight.get(event, 0) + 1
        try:
            answer = self.script(number, received)
            if answer.hang:
                # Until the sender gives up (closes the connection) or the test ends it.
                waits = [asyncio.ensure_future(reader.read(1)), asyncio.ensure_future(self.hanging.wait())]
                _, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                for task in pending:
                    task.cancel()
                return
            await asyncio.sleep(answer.delay)
            received.status = answer.status
            writer.write(
                f"HTTP/1.1 {answer.status} X\r\nContent-Length: {len(answer.body)}\r\n"
                "Connection: close\r\n\r\n".encode()
                + answer.body
            )
            with contextlib.suppress(ConnectionError):
                await writer.drain()
        finally:
            received.ended = time.monotonic()
            self.in_flight[event] -= 1
            writer.close()


@asynccontextmanager
async def receiving(script: Callable[[int, Received], Answer] | None = None) -> AsyncIterator[Receiver]:
    """A receiver listening on a free port of 127.0.0.1 until the block ends."""
    receiver = Receiver() if script is None else Receiver(script)
    server = await asyncio.start_server(receiver.handle, "127.0.0.1", 0)
    receiver.port = server.sockets[0].getsockname()[1]
    try:
        yield receiver
    finally:
        receiver.hanging.set()
        server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 2)
