"""The real command line: `python -m app serve` on an empty embedded database, end to end."""

from __future__ import annotations

import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.core.embedded import free_port
from tests.servers import app_env, start_server, wait_ready

pytestmark = pytest.mark.slow


def processes_using(folder: Path) -> list[int]:
    """Pids whose command line mentions the folder (the server's postgres, its children)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if str(folder).encode() in cmdline:
            found.append(int(entry.name))
    return found


@pytest.fixture
def data_dir() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="craftvillage-serve-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def start(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    return start_server(app_env(DATA_DIR=str(data_dir)), port, output=subprocess.PIPE)


def wait_gone(folder: Path, timeout: float = 30) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and processes_using(folder):
        time.sleep(0.2)
    return processes_using(folder)


def test_serve_on_empty_embedded_database_then_sigterm(data_dir: Path) -> None:
    port = free_port()
    process = start(data_dir, port)
    try:
        ready = wait_ready(process, port)
        assert ready.json()["status"] == "ready"
        docs = httpx.get(f"http://127.0.0.1:{port}/docs", timeout=5)
        assert docs.status_code == 200
        assert "swagger-ui" in docs.text
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/villages", timeout=5).json()["total"] == 0
        assert processes_using(data_dir), "the embedded PostgreSQL should be running"
        process.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises SIGTERM: a normal stop, exit code 0.
        assert process.wait(timeout=30) == 0
        output = process.stdout.read().decode() if process.stdout else ""
        assert "Application shutdown complete" in output
        assert "embedded PostgreSQL stopped" in output
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert wait_gone(data_dir) == [], "no process may outlive the service"


def test_no_orphan_database_after_sigkill(data_dir: Path) -> None:
    port = free_port()
    process = start(data_dir, port)
    try:
        wait_ready(process, port)
    finally:
        process.kill()  # SIGKILL: no handler runs; the kernel tells PostgreSQL its parent died
        process.wait()
    assert wait_gone(data_dir) == [], "PostgreSQL outlived a SIGKILLed service"
    # The data directory is reusable at once: the next start finds no stale server.
    again = start(data_dir, port)
    try:
        wait_ready(again, port)
        again.send_signal(signal.SIGINT)
        assert again.wait(timeout=30) in (0, 130)
    finally:
        if again.poll() is None:
            again.kill()
            again.wait()
    assert wait_gone(data_dir) == []
