"""The embedded PostgreSQL asks everyone for the password, other local accounts included.

Another OS user (`nobody`, switched to with runuser, so these tests need root) tries the server
with the machine's `psql` client: without the password it is refused, with the one in the URL it
gets in, and it cannot read the password file. A data directory made by the older version, which
trusted every local connection, is upgraded at its next start, stopped or running.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from app.core.embedded import SUPERUSER, EmbeddedPostgres

OTHER_USER = "nobody"
PSQL = shutil.which("psql")
RUNUSER = shutil.which("runuser")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform != "linux", reason="the embedded PostgreSQL needs Linux"),
    pytest.mark.skipif(
        os.geteuid() != 0 or RUNUSER is None,
        reason="acting as a second OS user needs root and runuser; not available here",
    ),
    pytest.mark.skipif(PSQL is None, reason="no psql client on PATH to connect as the second user"),
]

# What the older version wrote: every local connection trusted, whoever it claims to be.
TRUST_HBA = """\
local   all             all                                     trust
host    all             all             127.0.0.1/32            trust
host    all             all             ::1/128                 trust
"""


def as_other_user(*argv: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command as the second OS user, with PGPASSWORD set when a password is given."""
    assert RUNUSER is not None
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    if password is not None:
        env["PGPASSWORD"] = password
    return subprocess.run(
        [RUNUSER, "-u", OTHER_USER, "--", *argv],
        env=env,
        cwd="/",
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def psql_as_other_user(server: EmbeddedPostgres, password: str | None) -> subprocess.CompletedProcess[str]:
    assert PSQL is not None and server.port is not None
    return as_other_user(
        PSQL, "-h", "127.0.0.1", "-p", str(server.port), "-U", SUPERUSER, "-d", "postgres",
        "-w", "-X", "-Atc", "SELECT current_user",
        password=password,
    )  # fmt: skip


def password_of(server: EmbeddedPostgres) -> str:
    password = make_url(server.url).password
    assert password
    return password


def assert_locked(server: EmbeddedPostgres) -> None:
    """No way in without the password, nor with a wrong one; in with the URL's."""
    refused = psql_as_other_user(server, None)
    assert refused.returncode != 0, "a password-less connection from another OS user got in"
    assert "password" in refused.stderr, refused.stderr
    wrong = psql_as_other_user(server, "not-the-password")
    assert wrong.returncode != 0
    assert "password authentication failed" in wrong.stderr, wrong.stderr
    allowed = psql_as_other_user(server, password_of(server))
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout.strip() == SUPERUSER


def make_old_style(server: EmbeddedPostgres) -> None:
    """Turn a stopped server's data directory into what the older version left: trust, no
    password set, no password file."""
    server._run(
        "postgres", "--single", "-D", str(server.pgdata), "postgres",
        as_user=True, stdin=f"ALTER ROLE {SUPERUSER} PASSWORD NULL\n",
    )  # fmt: skip
    (server.pgdata / "pg_hba.conf").write_text(TRUST_HBA)
    server.password_file.unlink()


@pytest.fixture
def folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("embedded-auth")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_another_user_needs_the_password(folder: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with EmbeddedPostgres(folder, database="postgres", throwaway=True) as server:
        assert_locked(server)
        password = password_of(server)
        assert password not in repr(server)
        assert password not in caplog.text
        assert password not in (folder / "postgres.log").read_text(errors="replace")
        # The server listens on the loopback address only.
        assert server._psql("SHOW listen_addresses;\n").strip() == "127.0.0.1"


def test_password_file_is_private(folder: Path) -> None:
    with EmbeddedPostgres(folder, database="postgres", throwaway=True) as server:
        info = server.password_file.stat()
        assert stat.S_IMODE(info.st_mode) == 0o600
        assert info.st_uid == os.geteuid()
        assert server.password_file.read_text().strip() == password_of(server)
        peek = as_other_user("cat", str(server.password_file))
        assert peek.returncode != 0
        assert password_of(server) not in peek.stdout
        # initdb's temporary password file is gone.
        assert not list(folder.glob(".pwfile-*"))


def test_the_data_folder_and_the_log_are_private(folder: Path) -> None:
    """The log quotes rows (a refused row's values); another user can neither read it nor list
    the folder, whatever mode the folder had (an older version left it readable)."""
    folder.chmod(0o755)
    with EmbeddedPostgres(folder, database="postgres", throwaway=True) as server:
        assert server.port is not None
        assert stat.S_IMODE(folder.stat().st_mode) & 0o066 == 0
        assert stat.S_IMODE((folder / "postgres.log").stat().st_mode) == 0o600
        assert as_other_user("ls", str(folder)).returncode != 0
        assert as_other_user("cat", str(folder / "postgres.log")).returncode != 0


def test_password_survives_a_restart(folder: Path) -> None:
    with EmbeddedPostgres(folder, database="postgres", throwaway=True) as server:
        first = password_of(server)
    with EmbeddedPostgres(folder, database="postgres", throwaway=True) as server:
        assert password_of(server) == first
        assert_locked(server)


def test_old_trusting_directory_is_upgraded_at_start(folder: Path, caplog: pytest.LogCaptureFixture) -> None:
    with EmbeddedPostgres(folder, database="postgres", throwaway=True) as server:
        server._psql("CREATE TABLE kept (n int); INSERT INTO kept VALUES (42);\n")
    make_old_style(server)

    caplog.set_level(logging.DEBUG)
    with EmbeddedPostgres(folder, database="postgres", throwaway=True) as server:
        assert_locked(server)
        assert stat.S_IMODE(server.password_file.stat().st_mode) == 0o600
        assert "trust" not in (server.pgdata / "pg_hba.conf").read_text()
        assert server._psql("SELECT n FROM kept;\n").strip() == "42"
        assert password_of(server) not in caplog.text
        assert password_of(server) not in (folder / "postgres.log").read_text(errors="replace")


def test_old_trusting_server_already_running_is_upgraded(folder: Path) -> None:
    older = EmbeddedPostgres(folder, database="postgres", throwaway=True)
    older.start()
    older.stop()
    make_old_style(older)
    older.relaunch()  # the older version's server, still trusting, serving another command of ours
    try:
        assert psql_as_other_user(older, None).returncode == 0, "the setup should trust everyone"
        newer = EmbeddedPostgres(folder, database="postgres", throwaway=True)
        newer.start()  # shares the running server, and makes it ask for the password
        assert newer.port == older.port
        assert_locked(newer)
        newer.stop()  # not its child: leaves it running
    finally:
        older.stop()
