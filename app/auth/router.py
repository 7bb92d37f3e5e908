"""Sign-in for staff (OAuth2 password flow, used by the Authorize dialog of /docs), sign-out,
changing one's password, and the administrators' management of accounts and API keys."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import events, service, throttle
from app.auth.passwords import MIN_LENGTH, Turns, check_policy
from app.core.errors import Conflict, FieldError, InvalidInput
from app.core.i18n import tr
from app.core.problems import error_responses, language_of, problem
from app.core.settings import get_settings
from app.kit.deps import Admin, Session, SignedIn
from app.kit.principal import CredentialKind, Forbidden, Principal, Unauthenticated
from app.kit.types import Flag, Int32, Int64, Name, QId
from app.models import AccessToken, ApiKey, Role, SecurityAction, StaffAccount

router = APIRouter(prefix="/api/v1", tags=["staff and keys"])
Username = Annotated[str, Field(pattern=service.USERNAME_PATTERN, description="Lower case, 3 to 64.")]
Password = Annotated[
    str,
    Field(
        min_length=MIN_LENGTH,
        max_length=200,
        description=(
            f"At least {MIN_LENGTH} characters, not containing the username, not one of the most "
            "common passwords."
        ),
    ),
]
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="craftvillage"'}


async def _password_turn(request: Request) -> AsyncIterator[None]:
    """This request's turn to check or set a password (app/auth/passwords.py, Turns). Declared
    before the session and the caller, so that it is had before the request's session touches the
    database: waiting, a request holds no pooled connection and no throttle row."""
    turns: Turns = request.app.state.password_turns
    async with turns.turn():
        yield


# The first parameter of every operation that hashes or verifies a password.
PasswordTurn = Annotated[None, Depends(_password_turn, scope="function")]


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: Int32 = Field(description="Seconds until the token expires.")


class WhoAmI(BaseModel):
    """The caller, as the credential sent identifies it."""

    kind: CredentialKind = Field(description="A staff account's bearer token, or an API key.")
    id: Int64 = Field(description="The account's or the key's id.")
    name: str = Field(description="The account's username or the key's name.")
    role: Role = Field(description="The role in effect: for a key, at most its creator's current role.")
    must_change_password: bool = Field(
        description="The password was reset: only POST /api/v1/auth/password is allowed until it is changed."
    )


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: Annotated[str, Field(min_length=1, max_length=200)]
    new_password: Password


class AccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username
    display_name: Name
    role: Role = Role.editor
    password: Password


class AccountChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    is_active: Flag | None = Field(
        default=None, description="false disables the account, true enables it again."
    )


class AccountRead(BaseModel):
    id: Int64
    username: str
    display_name: str
    role: Role
    is_active: bool
    must_change_password: bool = Field(description="A reset password has not been changed yet.")


class PasswordReset(BaseModel):
    username: str
    temporary_password: str = Field(description="Shown this once and never stored; give it to the person.")
    expires_at: datetime = Field(
        description="After this, the temporary password no longer opens the account."
    )


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    role: Role = Role.editor


class KeyRead(BaseModel):
    id: Int64
    name: str
    role: Role = Field(description="The key's own role; it acts with at most its creator's current role.")
    prefix: str = Field(description="The first characters of the key, to recognise it.")
    created_by: str | None = Field(description="The administrator who created it.")
    created_at: datetime
    last_used_at: datetime | None = Field(description="Last use, to the minute; null if never used.")
    revoked_at: datetime | None


class KeyCreated(KeyRead):
    key: str = Field(description="The key itself. It is shown this once and never stored.")


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _too_many(request: Request, verdict: throttle.Verdict) -> Response:
    return problem(
        429,
        tr(
            "too many sign-in attempts; wait {seconds} seconds before trying again",
            seconds=verdict.retry_after,
        ),
        instance=request.url.path,
        slug="too-many-attempts",
        headers={"Retry-After": str(verdict.retry_after)},
        language=language_of(request),
    )


async def _refused(session: AsyncSession, who: events.Who, username: str, verdict: throttle.Verdict) -> None:
    """Record a lockout once per throttle key and window, not once per refused attempt."""
    if verdict.first_refusal:
        limits = sorted(throttle.kind_of(key) for key in verdict.first_refusal)
        await events.record(
            session, who, SecurityAction.sign_in_throttled, target_name=username,
            details={"limits": limits, "retry_after": verdict.retry_after},
        )  # fmt: skip


@router.post(
    "/auth/token",
    operation_id="sign_in",
    summary="Sign in: exchange a username and password for a bearer token",
    response_model=TokenResponse,
    responses=error_responses(400, 401, 422, 429),
)
async def sign_in(
    _turn: PasswordTurn,
    request: Request,
    session: Session,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=200)],
    response: Response,
) -> Any:
    response.headers["Cache-Control"] = "no-store"  # RFC 6749 §5.1: a token response is never stored
    settings = get_settings()
    name = username.strip().lower()
    who = events.from_request(request)
    keys = throttle.Keys.of(name, _address(request))
    # The slot is taken before the password is checked, and kept when the check fails.
    # Failures are returned, not raised, so that the count and the event are committed.
    verdict = await throttle.reserve(session, keys, settings)
    if not verdict.allowed:
        await _refused(session, who, name, verdict)
        return _too_many(request, verdict)
    account, refusal = await service.check_password(session, name, password)
    if account is None or refusal is not None:
        await throttle.failed(session, settings)
        await events.record(
            session, who, SecurityAction.sign_in_failed, account=account, target_name=name,
            details={"reason": refusal.value if refusal else None},
        )  # fmt: skip
        # Only someone who knows the password learns that it has expired.
        detail = (
            tr("the temporary password has expired; ask an administrator to reset it again")
            if refusal is service.Refusal.temporary_password_expired
            else tr("the username or password is wrong, or the account is disabled")
        )
        return problem(
            401,
            detail,
            instance=request.url.path,
            slug="unauthenticated",
            headers=CHALLENGE,
            language=language_of(request),
        )
    await throttle.succeeded(session, keys, settings)
    ttl = timedelta(minutes=settings.token_ttl_minutes)
    token, _ = await service.issue_token(session, account, ttl)
    await events.record(
        session, who.as_account(account), SecurityAction.sign_in, account=account,
        details={"must_change_password": True} if account.must_change_password else None,
    )  # fmt: skip
    return TokenResponse(access_token=token, expires_in=int(ttl.total_seconds()))


@router.post(
    "/auth/sign-out",
    operation_id="sign_out",
    status_code=204,
    summary="Sign out: the bearer token used stops working",
    responses=error_responses(401, 403),
)
async def sign_out(session: Session, principal: SignedIn) -> Response:
    if principal.token_id is None:
        raise Unauthenticated(tr("sign-out ends a bearer token; an API key is revoked by an administrator"))
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
async def me(principal: SignedIn) -> WhoAmI:
    return WhoAmI(
        kind=principal.kind,
        id=principal.id,
        name=principal.name,
        role=Role(principal.role),
        must_change_password=principal.must_change_password,
    )


@router.post(
    "/auth/password",
    operation_id="change_password",
    status_code=204,
    summary="Change one's own password (a staff account's bearer token); its other tokens stop working",
    responses=error_responses(400, 401, 403, 422, 429),
)
async def change_password(
    _turn: PasswordTurn, request: Request, session: Session, principal: SignedIn, body: PasswordChange
) -> Response:
    if principal.kind != CredentialKind.account:
        raise Forbidden(
            tr("an API key has no password; a staff account changes its own with its bearer token")
        )
    check_policy(body.new_password, principal.name, "new_password")
    if body.new_password == body.current_password:
        raise InvalidInput(
            tr("the request has invalid fields: {fields}", fields="new_password"),
            errors=[
                FieldError(
                    field="new_password",
                    message=tr("the new password must differ from the current one"),
                    location="body",
                )
            ],
        )
    who = events.from_request(request, principal)
    # Guessing the current password with a stolen token is throttled like signing in.
    keys = throttle.Keys.of(principal.name, _address(request))
    settings = get_settings()
    verdict = await throttle.reserve(session, keys, settings)
    if not verdict.allowed:
        await _refused(session, who, principal.name, verdict)
        return _too_many(request, verdict)
    account = await service.find_account(session, principal.name)
    if not await service.password_matches(account, body.current_password):
        await throttle.failed(session, settings)
        await events.record(session, who, SecurityAction.password_change_failed, account=account)
        return problem(  # returned, not raised: the throttle's count and the event are committed
            422,
            tr("the request has invalid fields: {fields}", fields="current_password"),
            instance=request.url.path,
            slug="validation-failed",
            errors=[
                FieldError(
                    field="current_password", message=tr("the current password is wrong"), location="body"
                )
            ],
            language=language_of(request),
        )
    await throttle.succeeded(session, keys, settings)
    await service.change_password(session, account, body.new_password, keep_token=principal.token_id, by=who)
    return Response(status_code=204)


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
async def create_account(
    _turn: PasswordTurn, request: Request, session: Session, principal: Admin, body: AccountCreate
) -> Any:
    account = await service.create_account(
        session,
        body.username,
        body.display_name,
        body.role,
        body.password,
        by=events.from_request(request, principal),
    )
    return service.account_view(account)


def _not_its_creator(principal: Principal, account: StaffAccount) -> None:
    """A key may never change the account that created it: it could raise its own ceiling."""
    if principal.kind == CredentialKind.api_key and principal.owner_id == account.id:
        raise Forbidden(
            tr("an API key cannot change the account that created it ({username})", username=account.username)
        )


@router.patch(
    "/admin/accounts/{username}",
    operation_id="change_account",
    summary="Change an account's role, disable it or enable it again (its tokens stop working at once)",
    response_model=AccountRead,
    responses=error_responses(400, 401, 403, 404, 409, 422),
)
async def change_account(
    request: Request,
    session: Session,
    principal: Admin,
    username: Annotated[str, Path(max_length=64)],
    body: AccountChange,
) -> Any:
    account = await service.find_account(session, username)
    _not_its_creator(principal, account)
    demoting = body.role is not None and body.role != Role.admin
    if principal.kind == "account" and principal.id == account.id and (demoting or body.is_active is False):
        raise Conflict(tr("an administrator cannot disable or demote the account they are signed in with"))
    account = await service.change_account(
        session, account, role=body.role, active=body.is_active, by=events.from_request(request, principal)
    )
    return service.account_view(account)


@router.post(
    "/admin/accounts/{username}/password-reset",
    operation_id="reset_password",
    summary="Reset an account's password: a temporary one, shown once, to be changed at first use",
    response_model=PasswordReset,
    responses=error_responses(401, 403, 404, 409, 422),
)
async def reset_password(
    _turn: PasswordTurn,
    request: Request,
    response: Response,
    session: Session,
    principal: Admin,
    username: Annotated[str, Path(max_length=64)],
) -> Any:
    response.headers["Cache-Control"] = "no-store"
    account = await service.find_account(session, username)
    _not_its_creator(principal, account)
    if principal.kind == CredentialKind.account and principal.id == account.id:
        raise Conflict(tr("change your own password with POST /api/v1/auth/password"))
    ttl = timedelta(hours=get_settings().temporary_password_ttl_hours)
    password, expires = await service.reset_password(
        session, account, ttl, by=events.from_request(request, principal)
    )
    return PasswordReset(username=account.username, temporary_password=password, expires_at=expires)


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
    summary="Create an API key (an administrator's bearer token, not a key); the response shows it once",
    response_model=KeyCreated,
    responses=error_responses(400, 401, 403, 422),
)
async def create_key(request: Request, session: Session, principal: Admin, body: KeyCreate) -> Any:
    # A key made by a key would outlive its maker's revocation and hide who made it.
    if principal.kind == CredentialKind.api_key:
        raise Forbidden(
            tr(
                "an API key cannot create keys: a staff administrator signed in with a password "
                "creates them, or `python -m app keys create` on the command line"
            )
        )
    key, secret = await service.create_key(
        session,
        body.name,
        body.role,
        principal.name,
        creator_id=principal.owner_id,
        by=events.from_request(request, principal),
    )
    return {**service.key_view(key), "key": secret}


@router.delete(
    "/admin/keys/{key_id}",
    operation_id="revoke_key",
    summary="Revoke an API key",
    response_model=KeyRead,
    responses=error_responses(401, 403, 404, 409, 422),
)
async def revoke_key(
    request: Request,
    session: Session,
    principal: Admin,
    key_id: Annotated[QId, Path(description="The key's id.")],
) -> Any:
    if principal.kind == "api_key" and principal.id == key_id:
        raise Conflict(tr("a key cannot revoke itself; use another administrator's credential"))
    key = await service.revoke_key(session, key_id, by=events.from_request(request, principal))
    return service.key_view(key)
