"""Passwords: hashing beside the event loop, the policy a new password must meet, and temporary
passwords for an administrator's reset.

argon2id takes tens of milliseconds of CPU on purpose. Run on the event loop it would stall every
other request of the process (a burst of sign-ins held /health for seconds), so hashes run in a
small pool of threads (PASSWORD_HASH_CONCURRENCY) at a lower CPU priority; argon2-cffi releases
the GIL while it works.

A request that checks or sets a password first takes a turn at the process's gate (`Turns`),
before its session touches the database: a burst of sign-ins then waits in memory, holding no
pooled connection and no throttle row, instead of filling the pool while it waits for a hashing
thread; a turn not had within PASSWORD_WAIT_S is a 503 with Retry-After.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import secrets
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from functools import cache
from pathlib import Path

from app.core import credentials
from app.core.errors import FieldError, InvalidInput, Unavailable
from app.core.i18n import tr
from app.core.settings import get_settings

MIN_LENGTH = 12
COMMON_FILE = Path(__file__).with_name("common_passwords.txt")
# No 0/O, 1/l/I: a temporary password is read out or typed from a note.
_TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
# Hashing threads run at this nice value; measured on two busy cores, it halves the p99 of
# /health during a burst of sign-ins.
HASH_NICENESS = 10


def _lower_priority() -> None:
    """Run this hashing thread (and the threads argon2 starts from it, which inherit it) at a
    lower CPU priority, so that on a busy machine the event loop is scheduled first."""
    # Elsewhere than Linux, or where it is not allowed, hashing simply keeps the usual priority.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASH_NICENESS)


@cache
def _pool() -> ThreadPoolExecutor:
    workers = get_settings().password_hash_concurrency
    return ThreadPoolExecutor(
        max_workers=workers, thread_name_prefix="password-hash", initializer=_lower_priority
    )


class Turns:
    """At most `slots` requests of this process check or set a password at once; the others wait
    here, holding nothing, up to `wait_s` seconds, then get a 503 with Retry-After."""

    def __init__(self, slots: int, wait_s: float) -> None:
        self.slots = asyncio.Semaphore(slots)
        self.wait_s = wait_s

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        try:
            await asyncio.wait_for(self.slots.acquire(), self.wait_s)
        except TimeoutError:
            seconds = max(1, math.ceil(self.wait_s))
            raise Unavailable(
                tr(
                    "too many passwords are being checked at this moment; retry in {seconds} seconds",
                    seconds=seconds,
                ),
                headers={"Retry-After": str(seconds)},
            ) from None
        try:
            yield
        finally:
            self.slots.release()


async def hash_password(password: str) -> str:
    """The argon2id hash of a password, computed in the hashing pool."""
    return await asyncio.get_running_loop().run_in_executor(_pool(), credentials.hash_password, password)


async def verify_password(password: str, stored: str | None) -> bool:
    """True when the password matches `stored`; with None (no such account) a placeholder hash
    is checked instead, so an unknown username takes as long as a known one."""
    return await asyncio.get_running_loop().run_in_executor(
        _pool(), credentials.verify_password, password, stored
    )


@cache
def common_passwords() -> frozenset[str]:
    """The built-in list of passwords too common to accept, lower-cased."""
    lines = COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def policy_error(password: str, username: str, field: str) -> FieldError | None:
    """Why `password` may not be `username`'s password, as a field error; None when it may."""
    if len(password) < MIN_LENGTH:
        message = tr("a password has at least {n} characters", n=MIN_LENGTH)
    elif username and username.lower() in password.lower():
        message = tr("a password must not contain the username")
    elif password.strip().lower() in common_passwords():
        message = tr("this password is among the most common ones; choose another")
    else:
        return None
    return FieldError(field=field, message=message, location="body")


def check_policy(password: str, username: str, field: str = "password") -> None:
    """Refuse (422, naming `field`) a password that breaks the policy."""
    error = policy_error(password, username, field)
    if error is not None:
        raise InvalidInput(tr("the request has invalid fields: {fields}", fields=field), errors=[error])


def temporary_password(username: str) -> str:
    """A random password that meets the policy: 16 characters in four groups of four."""
    while True:
        raw = "".join(secrets.choice(_TEMPORARY_ALPHABET) for _ in range(16))
        password = "-".join(raw[i : i + 4] for i in range(0, 16, 4))
        if policy_error(password, username, "password") is None:
            return password
