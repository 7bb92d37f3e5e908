"""Accounts, tokens and keys: the operations behind the API's /auth and /admin routes and the CLI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.credentials import digest, hash_password, new_api_key, new_token, verify_password
from app.core.errors import Conflict, NotFound
from app.models import AccessToken, ApiKey, Role, SignInFailure, StaffAccount


async def create_account(
    session: AsyncSession, username: str, display_name: str, role: Role, password: str
) -> StaffAccount:
    """A new, active staff account; 409 when the username is taken."""
    taken = await session.scalar(select(StaffAccount.id).where(StaffAccount.username == username))
    if taken is not None:
        raise Conflict(f"the username {username} is taken")
    account = StaffAccount(
        username=username, display_name=display_name, role=role.value, password_hash=hash_password(password)
    )
    session.add(account)
    await session.flush()
    return account


async def find_account(session: AsyncSession, username: str) -> StaffAccount:
    account = await session.scalar(select(StaffAccount).where(StaffAccount.username == username))
    if account is None:
        raise NotFound(f"no account is named {username}")
    return account


async def revoke_tokens(session: AsyncSession, account_id: int) -> None:
    """Every token of the account stops working at once."""
    await session.execute(
        update(AccessToken)
        .where(AccessToken.account_id == account_id, AccessToken.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )


async def change_account(
    session: AsyncSession, account: StaffAccount, *, role: Role | None = None, active: bool | None = None
) -> StaffAccount:
    """Change role or active flag; either change revokes the account's tokens."""
    if role is not None and role.value != account.role:
        account.role = role.value
        await revoke_tokens(session, account.id)
    if active is not None and active != account.is_active:
        account.is_active = active
        await revoke_tokens(session, account.id)
    await session.flush()
    # The UPDATE expired the server-set updated_at; load it now, not lazily (no IO outside await).
    await session.refresh(account)
    return account


async def issue_token(session: AsyncSession, account: StaffAccount, ttl: timedelta) -> tuple[str, datetime]:
    token = new_token()
    expires = datetime.now(UTC) + ttl
    session.add(AccessToken(token_hash=digest(token), account_id=account.id, expires_at=expires))
    await session.flush()
    return token, expires


async def check_password(session: AsyncSession, username: str, password: str) -> StaffAccount | None:
    """The active account these credentials open, or None (in the same time either way)."""
    account = await session.scalar(select(StaffAccount).where(StaffAccount.username == username))
    ok = verify_password(password, account.password_hash if account else None)
    return account if ok and account is not None and account.is_active else None


async def blocked_for(session: AsyncSession, keys: list[str]) -> int:
    """Seconds until these sign-in keys (username, client address) may try again; 0 when free."""
    until = await session.scalar(
        select(func.max(SignInFailure.blocked_until)).where(
            SignInFailure.key.in_(keys), SignInFailure.blocked_until > func.now()
        )
    )
    if until is None:
        return 0
    return max(1, int((until - datetime.now(UTC)).total_seconds()) + 1)


_COUNT_FAILURE = text(
    """
    INSERT INTO sign_in_failure (key, failures, first_at) VALUES (:key, 1, now())
    ON CONFLICT (key) DO UPDATE SET
        failures = CASE WHEN sign_in_failure.first_at < now() - make_interval(secs => :window)
                        THEN 1 ELSE sign_in_failure.failures + 1 END,
        first_at = CASE WHEN sign_in_failure.first_at < now() - make_interval(secs => :window)
                        THEN now() ELSE sign_in_failure.first_at END
    RETURNING failures
    """
)
# Each failure past the limit doubles the wait: 2 s, 4 s, 8 s, ... at most 15 minutes.
_BLOCK = text(
    """
    UPDATE sign_in_failure
       SET blocked_until = now() + make_interval(secs => least(900, power(2, failures - :max_failures + 1)))
     WHERE key = :key AND failures >= :max_failures
    """
)


async def note_failure(session: AsyncSession, keys: list[str], max_failures: int, window_s: int) -> None:
    """Count a failed sign-in against each key (the username, the client address)."""
    for key in keys:
        await session.execute(_COUNT_FAILURE, {"key": key, "window": window_s})
        await session.execute(_BLOCK, {"key": key, "max_failures": max_failures})


async def clear_failures(session: AsyncSession, key: str) -> None:
    await session.execute(
        update(SignInFailure).where(SignInFailure.key == key).values(failures=0, blocked_until=None)
    )


async def create_key(
    session: AsyncSession, name: str, role: Role, created_by: str | None
) -> tuple[ApiKey, str]:
    """A new API key; the secret is returned once and never stored."""
    secret, prefix = new_api_key()
    key = ApiKey(name=name, role=role.value, prefix=prefix, key_hash=digest(secret), created_by=created_by)
    session.add(key)
    await session.flush()
    return key, secret


async def revoke_key(session: AsyncSession, key_id: int) -> ApiKey:
    key = await session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(f"API key {key_id} does not exist")
    if key.revoked_at is None:
        key.revoked_at = datetime.now(UTC)
        await session.flush()
    return key


def account_view(account: StaffAccount) -> dict[str, Any]:
    return {
        "id": account.id,
        "username": account.username,
        "display_name": account.display_name,
        "role": account.role,
        "is_active": account.is_active,
        "created_at": account.created_at,
        "updated_at": account.updated_at,
        "version": account.version,
    }


def key_view(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "name": key.name,
        "role": key.role,
        "prefix": key.prefix,
        "created_by": key.created_by,
        "created_at": key.created_at,
        "last_used_at": key.last_used_at,
        "revoked_at": key.revoked_at,
    }
