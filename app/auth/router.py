"""Sign-in for staff (OAuth2 password flow, used by the Authorize dialog of /docs), sign-out, and
the administrators' management of accounts and API keys."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select, update

from app.auth import service
from app.core.errors import Conflict
from app.core.problems import error_responses, problem
from app.core.settings import get_settings
from app.kit.deps import Admin, Anyone, Session
from app.kit.principal import CredentialKind, Unauthenticated
from app.kit.types import Flag, Int32, Int64, Name, QId
from app.models import AccessToken, ApiKey, Role, StaffAccount

router = APIRouter(prefix="/api/v1", tags=["staff and keys"])
Username = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{2,63}$", description="Lower case, 3 to 64.")]
Password = Annotated[str, Field(min_length=10, max_length=200)]


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: Int32 = Field(description="Seconds until the token expires.")


class WhoAmI(BaseModel):
    """The caller, as the credential sent identifies it."""

    kind: CredentialKind = Field(description="A staff account's bearer token, or an API key.")
    id: Int64 = Field(description="The account's or the key's id.")
    name: str = Field(description="The account's username or the key's name.")
    role: Role


class AccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username
    display_name: Name
    role: Role = Role.editor
    password: Password


class AccountChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    is_active: Flag | None = None


class AccountRead(BaseModel):
    id: Int64
    username: str
    display_name: str
    role: Role
    is_active: bool


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    role: Role = Role.editor


class KeyRead(BaseModel):
    id: Int64
    name: str
    role: Role
    prefix: str = Field(description="The first characters of the key, to recognise it.")
    created_by: str | None = Field(description="The administrator who created it.")
    created_at: datetime
    last_used_at: datetime | None = Field(description="Last use, to the minute; null if never used.")
    revoked_at: datetime | None


class KeyCreated(KeyRead):
    key: str = Field(description="The key itself. It is shown this once and never stored.")


@router.post(
    "/auth/token",
    operation_id="sign_in",
    summary="Sign in: exchange a username and password for a bearer token",
    response_model=TokenResponse,
    responses=error_responses(400, 401, 422, 429),
)
async def sign_in(
    request: Request,
    session: Session,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=200)],
    response: Response,
) -> Any:
    response.headers["Cache-Control"] = "no-store"  # RFC 6749 §5.1: a token response is never stored
    settings = get_settings()
    client = request.client.host if request.client else "unknown"
    keys = [f"user:{username.lower()}", f"addr:{client}"]
    wait = await service.blocked_for(session, keys)
    if wait:
        return problem(
            429,
            "too many failed sign-ins; wait before trying again",
            instance=request.url.path,
            slug="too-many-attempts",
            headers={"Retry-After": str(wait)},
        )
    account = await service.check_password(session, username.lower(), password)
    if account is None:
        # Returned, not raised, so that the failure count is committed.
        await service.note_failure(session, keys, settings.sign_in_max_failures, settings.sign_in_window_s)
        return problem(
            401,
            "the username or password is wrong, or the account is disabled",
            instance=request.url.path,
            slug="unauthenticated",
            headers={"WWW-Authenticate": 'Bearer realm="craftvillage"'},
        )
    await service.clear_failures(session, keys[0])
    ttl = timedelta(minutes=settings.token_ttl_minutes)
    token, _ = await service.issue_token(session, account, ttl)
    return TokenResponse(access_token=token, expires_in=int(ttl.total_seconds()))


@router.post(
    "/auth/sign-out",
    operation_id="sign_out",
    status_code=204,
    summary="Sign out: the bearer token used stops working",
    responses=error_responses(401, 403),
)
async def sign_out(session: Session, principal: Anyone) -> Response:
    if principal.token_id is None:
        raise Unauthenticated("sign-out ends a bearer token; an API key is revoked by an administrator")
    await session.execute(
        update(AccessToken).where(AccessToken.id == principal.token_id).values(revoked_at=func.now())
    )
    return Response(status_code=204)


@router.get(
    "/auth/me",
    operation_id="who_am_i",
    summary="The caller's identity and role",
    response_model=WhoAmI,
    responses=error_responses(401, 403),
)
async def me(principal: Anyone) -> WhoAmI:
    return WhoAmI(kind=principal.kind, id=principal.id, name=principal.name, role=Role(principal.role))


@router.get(
    "/admin/accounts",
    operation_id="list_accounts",
    summary="Staff accounts",
    response_model=list[AccountRead],
    responses=error_responses(401, 403),
)
async def list_accounts(session: Session, _: Admin) -> Any:
    accounts = (await session.scalars(select(StaffAccount).order_by(StaffAccount.username))).all()
    return [service.account_view(a) for a in accounts]


@router.post(
    "/admin/accounts",
    operation_id="create_account",
    status_code=201,
    summary="Create a staff account",
    response_model=AccountRead,
    responses=error_responses(400, 401, 403, 409, 422),
)
async def create_account(session: Session, _: Admin, body: AccountCreate) -> Any:
    account = await service.create_account(
        session, body.username, body.display_name, body.role, body.password
    )
    return service.account_view(account)


@router.patch(
    "/admin/accounts/{username}",
    operation_id="change_account",
    summary="Change an account's role or disable it (its tokens stop working at once)",
    response_model=AccountRead,
    responses=error_responses(400, 401, 403, 404, 409, 422),
)
async def change_account(
    session: Session, principal: Admin, username: Annotated[str, Path(max_length=64)], body: AccountChange
) -> Any:
    account = await service.find_account(session, username)
    demoting = body.role is not None and body.role != Role.admin
    if principal.kind == "account" and principal.id == account.id and (demoting or body.is_active is False):
        raise Conflict("an administrator cannot disable or demote the account they are signed in with")
    account = await service.change_account(session, account, role=body.role, active=body.is_active)
    return service.account_view(account)


@router.get(
    "/admin/keys",
    operation_id="list_keys",
    summary="API keys (never the keys themselves)",
    response_model=list[KeyRead],
    responses=error_responses(401, 403),
)
async def list_keys(session: Session, _: Admin) -> Any:
    keys = (await session.scalars(select(ApiKey).order_by(ApiKey.id))).all()
    return [service.key_view(k) for k in keys]


@router.post(
    "/admin/keys",
    operation_id="create_key",
    status_code=201,
    summary="Create an API key; the response shows it once",
    response_model=KeyCreated,
    responses=error_responses(400, 401, 403, 422),
)
async def create_key(session: Session, principal: Admin, body: KeyCreate) -> Any:
    key, secret = await service.create_key(session, body.name, body.role, principal.name)
    return {**service.key_view(key), "key": secret}


@router.delete(
    "/admin/keys/{key_id}",
    operation_id="revoke_key",
    summary="Revoke an API key",
    response_model=KeyRead,
    responses=error_responses(401, 403, 404, 409, 422),
)
async def revoke_key(
    session: Session, principal: Admin, key_id: Annotated[QId, Path(description="The key's id.")]
) -> Any:
    if principal.kind == "api_key" and principal.id == key_id:
        raise Conflict("a key cannot revoke itself; use another administrator's credential")
    return service.key_view(await service.revoke_key(session, key_id))
