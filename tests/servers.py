"""The real command line and the real server, for the tests that run them: `python -m app ARGS`
in a subprocess, `python -m app serve` on a free port until /ready answers, a fresh migrated
database for either, and the Server such a test talks to."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import asyncpg
import httpx

from app.__main__ import migrate
from app.core.embedded import free_port
from tests.conftest import create_database, drop_database, plain_url

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"


def app_env(*, without: Iterable[str] = (), **values: str) -> dict[str, str]:
    """This process's environment for `python -m app`: without TEST_DATABASE_URL and
    DATABASE_URL (nor the names in `without`), with `values` set."""
    dropped = {"TEST_DATABASE_URL", "DATABASE_URL", *without}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(values)
    return env


def run_app(*args: str, env: Mapping[str, str], timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """`python -m app ARGS` from the project's folder, its output captured as text, nothing on
    its standard input."""
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def app_ok(*args: str, env: Mapping[str, str], timeout: float = 180) -> str:
    """`python -m app ARGS`, which must succeed; what it printed on standard output."""
    done = run_app(*args, env=env, timeout=timeout)
    assert done.returncode == 0, f"{list(args)}: {done.stdout}\n{done.stderr}"
    return done.stdout


def start_server(
    env: Mapping[str, str], port: int, *args: str, output: int | IO[bytes] = subprocess.DEVNULL
) -> subprocess.Popen[bytes]:
    """`python -m app serve ARGS` on 127.0.0.1:`port`; its standard output and error both go to
    `output` (subprocess.PIPE to read them from the process)."""
    return subprocess.Popen(
        [sys.executable, "-m", "app", "serve", *args],
        cwd=ROOT,
        env={**env, "HOST": HOST, "PORT": str(port)},
        stdin=subprocess.DEVNULL,
        stdout=output,
        stderr=subprocess.STDOUT,
    )


def wait_ready(
    process: subprocess.Popen[bytes], port: int, timeout: float = 90, log: Path | None = None
) -> httpx.Response:
    """The first 200 from the server's /ready; fails, with its output (piped, or the `log` file
    it writes to), if the process exits first or no 200 comes within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            if process.stdout is not None:
                output = process.stdout.read().decode()
            else:
                output = log.read_text() if log is not None else ""
            raise AssertionError(f"the server exited ({process.returncode}) before it was ready\n{output}")
        try:
            response = httpx.get(f"http://{HOST}:{port}/ready", timeout=2)
            if response.status_code == 200:
                return response
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("the server did not become ready")


def stop(process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """SIGTERM, and SIGKILL if the process has not ended within `timeout` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def serving(env: Mapping[str, str], *args: str) -> Iterator[str]:
    """`python -m app serve ARGS` on a free port, its output discarded, until the block ends;
    the server's base URL once it is ready."""
    port = free_port()
    process = start_server(env, port, *args)
    try:
        wait_ready(process, port)
        yield f"http://{HOST}:{port}"
    finally:
        stop(process)


@contextmanager
def fresh_database(server_url: str, prefix: str, *, migrated: bool = True) -> Iterator[str]:
    """A new database on the test server (migrated to head unless told not), dropped at the end;
    its URL."""
    url = create_database(server_url, prefix)
    try:
        if migrated:
            migrate(url)
        yield url
    finally:
        drop_database(server_url, url)


@dataclass
class Server:
    """A running `python -m app serve`: its base URL and its database's."""

    base: str
    url: str

    async def scalar(self, sql: str, *args: Any) -> Any:
        """The first value of the first row `sql` returns, read from the server's database."""
        conn = await asyncpg.connect(plain_url(self.url))
        try:
            return await conn.fetchval(sql, *args)
        finally:
            await conn.close()
