"""The command line says what it did, and only that: `users` and `keys` attached to a running
embedded server do not claim to have stopped it, and no run prints a third-party warning."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.embedded import EmbeddedPostgres
from tests.servers import app_env, run_app

pytestmark = pytest.mark.slow


@pytest.fixture
def data_dir() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="craftvillage-cli-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m app ARGS` on the embedded server of `data_dir`, as a plain run would be: no
    DATABASE_URL, and no XDG_RUNTIME_DIR (unset for root, for services, under `su`)."""
    env = app_env(without={"XDG_RUNTIME_DIR", "PYTHONWARNINGS"}, DATA_DIR=str(data_dir))
    return run_app(*args, env=env)


def assert_no_warning(stderr: str) -> None:
    lowered = stderr.lower()
    for sign in ("warning:", "warnings.warn", "xdg_runtime_dir", "runtimedirwarning"):
        assert sign not in lowered, stderr


def test_commands_attached_to_a_running_server_leave_it_running_and_say_so(data_dir: Path) -> None:
    server = EmbeddedPostgres(data_dir)  # stands for `make run`'s server on the same folder
    server.start()
    try:
        made = cli(data_dir, "keys", "create", "--name", "cli test", "--role", "editor")
        assert made.returncode == 0, made.stderr
        assert made.stdout.splitlines()[-1].strip(), made.stdout
        listed = cli(data_dir, "keys", "list")
        users = cli(data_dir, "users", "list")
        for run in (made, listed, users):
            assert run.returncode == 0, run.stderr
            assert "already running" in run.stderr, run.stderr
            assert "stopped" not in run.stderr, run.stderr
            assert_no_warning(run.stderr)
        assert "cli test" in listed.stdout
        assert server.process is not None and server.process.poll() is None, "the server must still run"
    finally:
        server.stop()


def test_a_command_that_started_the_server_stops_it_and_says_so(data_dir: Path) -> None:
    run = cli(data_dir, "keys", "list")
    assert run.returncode == 0, run.stderr
    assert "embedded PostgreSQL ready" in run.stderr, run.stderr
    assert "embedded PostgreSQL stopped" in run.stderr, run.stderr
    assert_no_warning(run.stderr)
