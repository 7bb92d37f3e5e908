"""The sign-in throttle, in PostgreSQL so that every worker and replica shares it.

A password check first reserves a slot under three keys: the (username, client address) pair,
the username from anywhere, and the client address for any username. The reservation locks the
three rows (in one fixed order, so two reservations cannot deadlock) and takes a slot in each
only when all three have one left; the locks last until the request's transaction ends, so
concurrent checks cannot overrun a limit. Counting before the check means a burst of guesses
gets exactly the allowed number of password checks, whatever their timing.

A successful sign-in clears its pair and gives back its slot under the username and the address,
so that the wider limits count failures only: staff signing in from one office address do not
use up that address's allowance.

The wider limits stop strangers, not known colleagues: a (username, address) pair that signed in
successfully within SIGN_IN_KNOWN_DAYS (a `sign_in` security event) is held back by its own pair
limit only, so that guesses spread over many addresses, or made from a shared office address,
cannot lock its owner out. That is looked up only when a wider limit is full.

Keys stay short whatever the client sends (a trusted proxy may pass on a long X-Forwarded-For):
an address or username longer than any real one is replaced by its digest.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.settings import Settings

# The longest textual IP address (IPv6 with an embedded IPv4 address) and the longest username.
MAX_ADDRESS = 45
MAX_USERNAME = 64


def _short(value: str, limit: int) -> str:
    """`value`, or its digest when it is longer than `limit` (never a valid one then)."""
    if len(value) <= limit:
        return value
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Keys:
    pair: str
    account: str
    address: str
    # As given: the known-pair exemption looks them up in the security events.
    username: str = ""
    client: str = ""

    @classmethod
    def of(cls, username: str, address: str) -> Keys:
        user, addr = _short(username, MAX_USERNAME), _short(address, MAX_ADDRESS)
        return cls(f"pair:{user}|{addr}", f"account:{user}", f"address:{addr}", username, address)

    def limits(self, settings: Settings) -> dict[str, int]:
        return {
            self.pair: settings.sign_in_pair_limit,
            self.account: settings.sign_in_account_limit,
            self.address: settings.sign_in_address_limit,
        }


@dataclass(frozen=True)
class Verdict:
    """A reservation's outcome: allowed, or refused for `retry_after` seconds because of the
    keys in `full`; `first_refusal` names those refused for the first time in their window."""

    allowed: bool
    retry_after: int = 0
    full: tuple[str, ...] = ()
    first_refusal: tuple[str, ...] = ()


# Locks each key's row (creating it if need be) and starts a new window for a row whose window
# has passed. The rows are taken in the order given: pair, account, address.
_LOCK = text(
    """
    INSERT INTO sign_in_attempt AS a (key, attempts, refused, window_start)
    SELECT k, 0, 0, now() FROM unnest(CAST(:keys AS text[])) WITH ORDINALITY AS t(k, n) ORDER BY n
    ON CONFLICT (key) DO UPDATE SET
        attempts = CASE WHEN a.window_start <= now() - make_interval(secs => :window)
                        THEN 0 ELSE a.attempts END,
        refused = CASE WHEN a.window_start <= now() - make_interval(secs => :window)
                       THEN 0 ELSE a.refused END,
        window_start = CASE WHEN a.window_start <= now() - make_interval(secs => :window)
                            THEN now() ELSE a.window_start END
    RETURNING key, attempts, refused,
        greatest(1, ceil(extract(epoch FROM
            a.window_start + make_interval(secs => :window) - clock_timestamp())))::int AS wait
    """
)
_TAKE = text("UPDATE sign_in_attempt SET attempts = attempts + 1 WHERE key = ANY(CAST(:keys AS text[]))")
_REFUSE = text("UPDATE sign_in_attempt SET refused = refused + 1 WHERE key = ANY(CAST(:keys AS text[]))")
_CLEAR = text("DELETE FROM sign_in_attempt WHERE key = :pair")
# Rows of windows long past (usernames tried once, addresses gone), a batch at a time; rows that
# another check holds are skipped rather than waited for.
_SWEEP = text(
    """
    DELETE FROM sign_in_attempt WHERE key IN (
        SELECT key FROM sign_in_attempt
         WHERE window_start < now() - make_interval(secs => 2 * :window)
         LIMIT 200 FOR UPDATE SKIP LOCKED)
    """
)
# The pair signed in successfully before, lately: it is a known colleague, not a stranger.
_KNOWN = text(
    """
    SELECT EXISTS (
        SELECT 1 FROM security_event
         WHERE target_name = :username AND target_kind = 'account' AND action = 'sign_in'
           AND client_addr = :address AND at > now() - make_interval(days => :days))
    """
)
_GIVE_BACK = text(
    "UPDATE sign_in_attempt SET attempts = greatest(attempts - 1, 0) WHERE key = ANY(CAST(:keys AS text[]))"
)


async def reserve(session: AsyncSession, keys: Keys, settings: Settings) -> Verdict:
    """Take a password check's slot under each key, or refuse it when any key is full."""
    limits = keys.limits(settings)
    rows = (await session.execute(_LOCK, {"keys": list(limits), "window": settings.sign_in_window_s})).all()
    full = [row for row in rows if row.attempts >= limits[row.key]]
    if full and keys.pair not in {row.key for row in full} and await _known(session, keys, settings):
        full = []  # only the wider limits are full, and they do not hold a known pair back
    if not full:
        await session.execute(_TAKE, {"keys": list(limits)})
        return Verdict(allowed=True)
    names = tuple(row.key for row in full)
    await session.execute(_REFUSE, {"keys": list(names)})
    await session.execute(_SWEEP, {"window": settings.sign_in_window_s})
    return Verdict(
        allowed=False,
        retry_after=max(row.wait for row in full),
        full=names,
        first_refusal=tuple(row.key for row in full if row.refused == 0),
    )


async def _known(session: AsyncSession, keys: Keys, settings: Settings) -> bool:
    """Whether the pair's username signed in from its address within SIGN_IN_KNOWN_DAYS."""
    if settings.sign_in_known_days <= 0 or not keys.username or not keys.client:
        return False
    params = {"username": keys.username, "address": keys.client, "days": settings.sign_in_known_days}
    return bool(await session.scalar(_KNOWN, params))


async def succeeded(session: AsyncSession, keys: Keys, settings: Settings) -> None:
    """A correct password: clear the pair, give back the slot taken under the wider keys, and
    sweep away some rows whose windows are long past."""
    await session.execute(_CLEAR, {"pair": keys.pair})
    await session.execute(_GIVE_BACK, {"keys": [keys.account, keys.address]})
    await session.execute(_SWEEP, {"window": settings.sign_in_window_s})


async def failed(session: AsyncSession, settings: Settings) -> None:
    """A wrong password: sweep too, so that guessing (which makes rows: new usernames, new
    addresses) cannot grow the table without bound. A refusal (reserve) sweeps the same way."""
    await session.execute(_SWEEP, {"window": settings.sign_in_window_s})


def kind_of(key: str) -> str:
    """'pair', 'account' or 'address': which limit a key is."""
    return key.partition(":")[0]
