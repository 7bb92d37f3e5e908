"""A TCP proxy between the service and PostgreSQL whose faults a test switches on and off.

The proxy runs an asyncio loop in a daemon thread of its own; every control is a plain method,
called from the test's thread (or event loop), that returns once the change has been applied:

* `latency(s)`: each chunk is delivered `s` seconds after it was read, in both directions (a
  delay, not a throughput limit: chunks read meanwhile are delivered on their own schedule);
* `blackhole()`: nothing is forwarded any more in either direction, and new connections are
  accepted but never reach PostgreSQL. Nothing is dropped either: like TCP retransmission across
  a partition, what was held is delivered in order after `heal()`;
* `reset()`: every current connection, both of its sides, is closed abruptly with RST
  (SO_LINGER 0); new connections are served normally;
* `refuse()`: new connections are closed with RST as soon as they are accepted;
* `heal()`: no latency, no black hole, no refusal.

`open_connections` counts the connections accepted and not yet closed; `chunks_from_clients`
counts the chunks read from the service's side (each query sends at least one).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import socket
import struct
import threading
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TypeVar

from app.core.embedded import free_port

T = TypeVar("T")
CHUNK = 65536


def _rst(writer: asyncio.StreamWriter) -> None:
    """Close the connection at once with RST instead of FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class _Pipe:
    """One accepted connection and, once made, its connection to PostgreSQL."""

    def __init__(self, client: asyncio.StreamWriter, task: asyncio.Task[None] | None) -> None:
        self.client = client
        self.upstream: asyncio.StreamWriter | None = None
        self.task = task
        self.aborted = False

    def abort(self) -> None:
        self.aborted = True
        _rst(self.client)
        if self.upstream is not None:
            _rst(self.upstream)
        if self.task is not None and self.task is not asyncio.current_task():
            self.task.cancel()


class Proxy:
    """Listens on 127.0.0.1:`port` and forwards to `target_host`:`target_port`."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.chunks_from_clients = 0
        self._latency = 0.0
        self._refusing = False
        self._pipes: set[_Pipe] = set()
        self._loop = asyncio.new_event_loop()
        self._flowing = asyncio.Event()  # set: forwarding; clear: black hole
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name=f"proxy:{self.port}", daemon=True)

    # -- life cycle ----------------------------------------------------------------------------

    def start(self) -> Proxy:
        self._thread.start()
        self._call(self._listen)
        return self

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        with contextlib.suppress(concurrent.futures.TimeoutError, RuntimeError):
            self._call(self._close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        if not self._thread.is_alive():
            self._loop.close()

    def __enter__(self) -> Proxy:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- controls (from any thread but the proxy's) --------------------------------------------

    def latency(self, seconds: float) -> None:
        async def apply() -> None:
            self._latency = max(0.0, seconds)

        self._call(apply)

    def blackhole(self) -> None:
        async def apply() -> None:
            self._flowing.clear()

        self._call(apply)

    def reset(self) -> None:
        async def apply() -> None:
            for pipe in list(self._pipes):
                pipe.abort()
            self._pipes.clear()

        self._call(apply)

    def refuse(self) -> None:
        async def apply() -> None:
            self._refusing = True

        self._call(apply)

    def heal(self) -> None:
        async def apply() -> None:
            self._latency = 0.0
            self._refusing = False
            self._flowing.set()

        self._call(apply)

    @property
    def open_connections(self) -> int:
        return len(self._pipes)

    # -- inside the proxy's loop ---------------------------------------------------------------

    def _call(self, make: Callable[[], Awaitable[T]], timeout: float = 10.0) -> T:
        async def run() -> T:
            return await make()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout)

    async def _listen(self) -> None:
        self._flowing.set()
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        for pipe in list(self._pipes):
            pipe.abort()
        self._pipes.clear()
        # Let every connection's task finish here, so that none is left pending in a closed loop.
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._refusing:
            _rst(writer)
            return
        pipe = _Pipe(writer, asyncio.current_task())
        self._pipes.add(pipe)
        try:
            await self._flowing.wait()  # a black hole: accepted, then nothing
            up_reader, up_writer = await asyncio.open_connection(*self.target)
            pipe.upstream = up_writer
            async with asyncio.TaskGroup() as group:
                group.create_task(self._pump(reader, up_writer, from_client=True))
                group.create_task(self._pump(up_reader, writer, from_client=False))
        except* OSError:
            pass  # a side went away; both are closed below
        except* asyncio.CancelledError:
            # Our own reset() or stop(). (Python 3.11's stream callback would log a cancelled
            # handler as an error, so end normally.)
            if not pipe.aborted:
                raise
        finally:
            if pipe in self._pipes:
                self._pipes.discard(pipe)
                for side in (writer, pipe.upstream):
                    if side is not None:
                        side.close()

    async def _pump(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, *, from_client: bool
    ) -> None:
        """Forward one direction: each chunk is written `latency` after it was read."""
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        async def read() -> None:
            while True:
                await self._flowing.wait()
                data = await source.read(CHUNK)
                if data and from_client:
                    self.chunks_from_clients += 1
                queue.put_nowait((loop.time() + self._latency, data))
                if not data:
                    return

        async def write() -> None:
            while True:
                due, data = await queue.get()
                delay = due - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                await self._flowing.wait()
                if not data:  # end of stream: pass it on, then this direction is done
                    sink.close()
                    return
                sink.write(data)
                await sink.drain()

        async with asyncio.TaskGroup() as group:
            group.create_task(read())
            group.create_task(write())
