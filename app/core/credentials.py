"""Passwords, bearer tokens and API keys: generation, hashing, verification.

Passwords are hashed with argon2id (pwdlib). Tokens and keys are 256-bit random secrets, so a
plain SHA-256 is enough to store them (no dictionary to guess from); a key's first characters
(its prefix, shown in listings) find its row, and the digests are compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

_PASSWORDS = PasswordHash((Argon2Hasher(),))
# Verifying against this when the username is unknown takes as long as a real check.
_DUMMY_HASH = _PASSWORDS.hash("an unguessable placeholder password")

KEY_SCHEME = "cvk"
PREFIX_LENGTH = 12  # "cvk_" and 8 characters of the secret


def hash_password(password: str) -> str:
    return _PASSWORDS.hash(password)


def verify_password(password: str, stored: str | None) -> bool:
    """True when the password matches; spends the same time when there is no account."""
    try:
        return _PASSWORDS.verify(password, stored or _DUMMY_HASH) and stored is not None
    except Exception:  # a malformed stored hash is a failed check, not a crash
        return False


def digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def same_digest(secret: str, stored: bytes) -> bool:
    return hmac.compare_digest(digest(secret), stored)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def new_api_key() -> tuple[str, str]:
    """A new key and its prefix (the part kept in clear to find it)."""
    key = f"{KEY_SCHEME}_{secrets.token_urlsafe(32)}"
    return key, key[:PREFIX_LENGTH]
