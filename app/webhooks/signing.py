"""The signature of a delivery and the wait before the next attempt.

`X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, f"{t}.{body}")>`, as Stripe signs:
a receiver recomputes the HMAC over the timestamp, a dot and the raw body as received, compares
it in constant time, and refuses a timestamp older than a few minutes, so that a captured
request cannot be replayed later (`verify` below is such a receiver's check).

Retries wait with exponential backoff and full jitter: before attempt n + 1, a random time
between 0 and min(cap, base * 2^(n-1)) seconds, so that receivers coming back from an outage are
not met by every sender at once.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import secrets

TOLERANCE_S = 300


def new_secret() -> str:
    """A secret the service makes when an administrator gives none: 256 random bits."""
    return "whsec_" + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Signature header's value for `body` sent at `timestamp`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, now: float, tolerance_s: int = TOLERANCE_S) -> bool:
    """A receiver's check: the header signs this body with this secret, at most `tolerance_s` ago."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance_s:
        return False
    expected = signature(secret, timestamp, body).rsplit("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))


def backoff(attempt: int, base_s: float, cap_s: float, rng: random.Random | None = None) -> float:
    """Seconds to wait after failed attempt number `attempt` (1 for the first): full jitter,
    uniform between 0 and min(cap_s, base_s * 2^(attempt - 1))."""
    ceiling = min(cap_s, base_s * 2.0 ** min(max(attempt, 1) - 1, 60))
    return (rng or random).uniform(0, ceiling)
