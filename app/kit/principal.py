"""Who is asking: resolving the credential of a request, and requiring a role for writes.

Reads are public. A write needs `Authorization: Bearer <token>` (staff, from /api/v1/auth/token)
or `X-API-Key: <key>` (machines). No credential: 401 with WWW-Authenticate. A credential that is
malformed, wrong, expired, revoked or of a disabled account: 401. A role too low: 403.

An API key acts with the lower of its own role and its creator's current role, and is refused
once its creator is disabled (401), or while its creator's password was reset and not yet changed
(403); a key made on the command line has no creator and its own role.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from fastapi import Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from sqlalchemy import func, literal_column, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.credentials import PREFIX_LENGTH, digest, same_digest
from app.core.errors import AppError
from app.core.i18n import tr
from app.models import AccessToken, ApiKey, Role, StaffAccount

RANK = {Role.editor.value: 1, Role.admin.value: 2}
CHALLENGE = 'Bearer realm="craftvillage", ApiKey realm="craftvillage"'

# Declared for the OpenAPI document (the Authorize dialog of /docs); checked below by hand.
bearer_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)
key_scheme = APIKeyHeader(name="X-API-Key", auto_error=False)


class Unauthenticated(AppError):
    status, slug = 401, "unauthenticated"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": CHALLENGE})


class Forbidden(AppError):
    status, slug = 403, "forbidden"


class CredentialKind(StrEnum):
    """What a caller signed in with."""

    account = "account"  # a staff account's bearer token
    api_key = "api_key"


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: a staff account or an API key."""

    kind: CredentialKind
    id: int
    name: str
    role: str
    token_id: int | None = None
    # The account behind the credential: a token's own account, a key's creator (whose account
    # the key may never change); None for a key made on the command line.
    owner_id: int | None = None
    # The account's password was reset: its token may only change the password.
    must_change_password: bool = False

    @property
    def credential(self) -> str:
        """A stable name for the credential, e.g. for scoping idempotency keys."""
        return f"{self.kind}:{self.id}"


async def _from_token(session: AsyncSession, token: str) -> Principal:
    row = (
        await session.execute(
            select(
                AccessToken.id,
                StaffAccount.id,
                StaffAccount.username,
                StaffAccount.role,
                StaffAccount.must_change_password,
            )
            .join(StaffAccount, StaffAccount.id == AccessToken.account_id)
            .where(
                AccessToken.token_hash == digest(token),
                AccessToken.revoked_at.is_(None),
                AccessToken.expires_at > func.now(),
                StaffAccount.is_active.is_(True),
            )
        )
    ).first()
    if row is None:
        raise Unauthenticated(tr("the bearer token is unknown, expired or revoked"))
    token_id, account_id, username, role, must_change = row
    return Principal(CredentialKind.account, account_id, username, role, token_id, account_id, must_change)


def lower_role(a: str, b: str) -> str:
    """The lower of two roles."""
    return a if RANK[a] <= RANK[b] else b


async def _from_key(session: AsyncSession, key: str) -> Principal:
    if len(key) < PREFIX_LENGTH + 8 or len(key) > 200:
        raise Unauthenticated(tr("the API key is malformed"))
    row = (
        await session.execute(
            select(
                ApiKey.id,
                ApiKey.name,
                ApiKey.role,
                ApiKey.key_hash,
                ApiKey.creator_id,
                StaffAccount.role.label("creator_role"),
                StaffAccount.is_active.label("creator_active"),
                StaffAccount.username.label("creator_name"),
                StaffAccount.must_change_password.label("creator_must_change"),
            )
            .outerjoin(StaffAccount, StaffAccount.id == ApiKey.creator_id)
            .where(ApiKey.prefix == key[:PREFIX_LENGTH], ApiKey.revoked_at.is_(None))
        )
    ).first()
    if row is None or not same_digest(key, row.key_hash):
        raise Unauthenticated(tr("the API key is unknown or revoked"))
    if row.creator_id is not None and not row.creator_active:
        raise Unauthenticated(tr("the account that created this key is disabled"))
    if row.creator_id is not None and row.creator_must_change:
        # Whoever reset that password may suspect the account: its keys wait for its owner.
        raise Forbidden(
            tr(
                "the password of {name}, who created this key, was reset; the key works again "
                "once {name} has changed it",
                name=row.creator_name,
            )
        )
    role = row.role if row.creator_id is None else lower_role(row.role, row.creator_role)
    # Last use, to the minute: one small write at most per key and minute.
    await session.execute(
        update(ApiKey)
        .where(
            ApiKey.id == row.id,
            (ApiKey.last_used_at.is_(None))
            | (ApiKey.last_used_at < func.now() - literal_column("interval '1 minute'")),
        )
        .values(last_used_at=func.now())
        .execution_options(synchronize_session=False)
    )
    return Principal(CredentialKind.api_key, row.id, row.name, role, owner_id=row.creator_id)


async def authenticate(request: Request, session: AsyncSession) -> Principal | None:
    """The caller's principal, None when no credential was sent; 401 for a bad one."""
    authorization = request.headers.get("authorization")
    key = request.headers.get("x-api-key")
    if authorization is None and key is None:
        return None
    if authorization is not None and key is not None:
        raise Unauthenticated(tr("send one credential: a bearer token or an API key, not both"))
    if key is not None:
        principal = await _from_key(session, key.strip())
    else:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip() or len(token) > 200:
            raise Unauthenticated(tr("the Authorization header must be 'Bearer <token>'"))
        principal = await _from_token(session, token.strip())
    request.state.principal = principal
    return principal
