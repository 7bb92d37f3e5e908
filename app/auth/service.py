"""Accounts, tokens and keys: the operations behind the API's /auth and /admin routes and the CLI.

Every change to an account or a key records its security event in the same transaction. A caller
that is not a request (the command line, a script) is recorded as the command line.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import events
from app.auth.events import Who
from app.auth.passwords import check_policy, hash_password, temporary_password, verify_password
from app.core.credentials import digest, new_api_key, new_token
from app.core.errors import Conflict, NotFound
from app.core.i18n import tr
from app.models import AccessToken, ApiKey, Role, SecurityAction, StaffAccount

# A username: lower case ASCII, 3 to 64 characters (the API's accounts and the command line).
USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{2,63}$"


class Refusal(StrEnum):
    """Why a username and password opened no account (kept in the security event)."""

    unknown_account = "unknown_account"
    wrong_password = "wrong_password"  # noqa: S105 - a reason, not a password
    disabled = "disabled"
    temporary_password_expired = "temporary_password_expired"  # noqa: S105


async def create_account(
    session: AsyncSession,
    username: str,
    display_name: str,
    role: Role,
    password: str,
    *,
    by: Who | None = None,
) -> StaffAccount:
    """A new, active staff account; 422 for a password the policy refuses, 409 when the username
    is taken."""
    check_policy(password, username)
    taken = await session.scalar(select(StaffAccount.id).where(StaffAccount.username == username))
    if taken is not None:
        raise Conflict(tr("the username {username} is taken", username=username))
    account = StaffAccount(
        username=username,
        display_name=display_name,
        role=role.value,
        password_hash=await hash_password(password),
    )
    session.add(account)
    await session.flush()
    await events.record(
        session, by or events.command_line(), SecurityAction.account_created, account=account,
        details={"role": role.value},
    )  # fmt: skip
    return account


async def find_account(session: AsyncSession, username: str) -> StaffAccount:
    account = await session.scalar(select(StaffAccount).where(StaffAccount.username == username))
    if account is None:
        raise NotFound(tr("no account is named {username}", username=username))
    return account


async def revoke_tokens(session: AsyncSession, account_id: int, *, keep: int | None = None) -> None:
    """Every token of the account stops working at once (but `keep`, the one in use)."""
    query = update(AccessToken).where(AccessToken.account_id == account_id, AccessToken.revoked_at.is_(None))
    if keep is not None:
        query = query.where(AccessToken.id != keep)
    await session.execute(query.values(revoked_at=func.now()))


async def change_account(
    session: AsyncSession,
    account: StaffAccount,
    *,
    role: Role | None = None,
    active: bool | None = None,
    by: Who | None = None,
) -> StaffAccount:
    """Change role or active flag; either change revokes the account's tokens."""
    who = by or events.command_line()
    if role is not None and role.value != account.role:
        details = {"role": [account.role, role.value]}
        account.role = role.value
        await revoke_tokens(session, account.id)
        await events.record(session, who, SecurityAction.role_changed, account=account, details=details)
    if active is not None and active != account.is_active:
        account.is_active = active
        await revoke_tokens(session, account.id)
        action = SecurityAction.account_enabled if active else SecurityAction.account_disabled
        await events.record(session, who, action, account=account)
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


async def check_password(
    session: AsyncSession, username: str, password: str
) -> tuple[StaffAccount | None, Refusal | None]:
    """The account named and, when these credentials do not open it, why (in the same time
    either way: an unknown username is checked against a placeholder hash)."""
    account = await session.scalar(select(StaffAccount).where(StaffAccount.username == username))
    matches = await verify_password(password, account.password_hash if account else None)
    if account is None:
        return None, Refusal.unknown_account
    if not matches:
        return account, Refusal.wrong_password
    if not account.is_active:
        return account, Refusal.disabled
    if account.password_expires_at is not None and account.password_expires_at <= datetime.now(UTC):
        return account, Refusal.temporary_password_expired
    return account, None


async def password_matches(account: StaffAccount, password: str) -> bool:
    return await verify_password(password, account.password_hash)


async def change_password(
    session: AsyncSession, account: StaffAccount, new_password: str, *, keep_token: int | None, by: Who
) -> None:
    """The account's own new password (already checked against the policy); its other tokens
    stop working."""
    account.password_hash = await hash_password(new_password)
    account.must_change_password = False
    account.password_expires_at = None
    await revoke_tokens(session, account.id, keep=keep_token)
    await session.flush()
    await events.record(session, by, SecurityAction.password_changed, account=account)


async def reset_password(
    session: AsyncSession, account: StaffAccount, ttl: timedelta, *, by: Who
) -> tuple[str, datetime]:
    """A temporary password for the account, valid for `ttl`, that must be changed at the first
    sign-in; every token of the account stops working."""
    password = temporary_password(account.username)
    expires = datetime.now(UTC) + ttl
    await _set_password(session, account, password, expires)
    await events.record(
        session, by, SecurityAction.password_reset, account=account,
        details={"temporary": True, "expires_at": expires.isoformat(timespec="seconds")},
    )  # fmt: skip
    return password, expires


async def set_password(
    session: AsyncSession, account: StaffAccount, password: str, *, must_change: bool, ttl: timedelta, by: Who
) -> None:
    """A password chosen by the operator (command line); with `must_change` it is temporary."""
    check_policy(password, account.username)
    expires = datetime.now(UTC) + ttl if must_change else None
    await _set_password(session, account, password, expires)
    await events.record(
        session, by, SecurityAction.password_reset, account=account, details={"temporary": must_change}
    )


async def _set_password(
    session: AsyncSession, account: StaffAccount, password: str, expires: datetime | None
) -> None:
    account.password_hash = await hash_password(password)
    account.must_change_password = expires is not None
    account.password_expires_at = expires
    await revoke_tokens(session, account.id)
    await session.flush()
    await session.refresh(account)


async def create_key(
    session: AsyncSession,
    name: str,
    role: Role,
    created_by: str | None,
    *,
    creator_id: int | None = None,
    by: Who | None = None,
) -> tuple[ApiKey, str]:
    """A new API key, bounded by its creator's role when it has one; the secret is returned once
    and never stored."""
    secret, prefix = new_api_key()
    key = ApiKey(
        name=name,
        role=role.value,
        prefix=prefix,
        key_hash=digest(secret),
        created_by=created_by,
        creator_id=creator_id,
    )
    session.add(key)
    await session.flush()
    await events.record(
        session, by or events.command_line(), SecurityAction.key_created, key=key,
        details={"role": role.value, "prefix": prefix},
    )  # fmt: skip
    return key, secret


async def revoke_key(session: AsyncSession, key_id: int, *, by: Who | None = None) -> ApiKey:
    key = await session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(tr("API key {id} does not exist", id=key_id))
    if key.revoked_at is None:
        key.revoked_at = datetime.now(UTC)
        await session.flush()
        await events.record(session, by or events.command_line(), SecurityAction.key_revoked, key=key)
    return key


def account_view(account: StaffAccount) -> dict[str, Any]:
    return {
        "id": account.id,
        "username": account.username,
        "display_name": account.display_name,
        "role": account.role,
        "is_active": account.is_active,
        "must_change_password": account.must_change_password,
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
