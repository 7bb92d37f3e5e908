"""Every request dependency in one place: the session, the read connection, the caller, and the
headers and path parameters the resource endpoints share.

Routers declare what they need with these annotations; none of them builds its own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Header, Path, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import get_session
from app.core.errors import FieldError, InvalidInput
from app.core.i18n import tr
from app.kit import reads
from app.kit.principal import (
    RANK,
    Forbidden,
    Principal,
    Unauthenticated,
    authenticate,
    bearer_scheme,
    key_scheme,
)
from app.kit.types import QId
from app.models import Role

# The request's transaction: committed when the handler returns, rolled back when it raises.
Session = Annotated[AsyncSession, Depends(get_session, scope="function")]
# A pooled raw connection for the read path (no transaction: each read is one statement).
ReadConnection = Annotated[reads.Connection, Depends(reads.read_connection, scope="function")]
# A connection for a streamed file export, opened only when one is asked for and held until the
# answer has been sent.
ExportConnection = Annotated[reads.Opener, Depends(reads.export_connection, scope="request")]


def require(role: Role, *, while_password_must_change: bool = False) -> Callable[..., Awaitable[Principal]]:
    """A dependency: the caller, who must hold at least `role`. An account whose password was
    reset is refused (403) unless `while_password_must_change`: it may only change it."""

    async def dependency(
        request: Request,
        session: Session,
        _bearer: Annotated[str | None, Depends(bearer_scheme)] = None,
        _key: Annotated[str | None, Depends(key_scheme)] = None,
    ) -> Principal:
        principal = await authenticate(request, session)
        if principal is None:
            raise Unauthenticated(tr("this operation needs a credential: a bearer token or an API key"))
        if principal.must_change_password and not while_password_must_change:
            raise Forbidden(
                tr(
                    "the password of {name} was reset by an administrator; change it first "
                    "with POST /api/v1/auth/password",
                    name=principal.name,
                )
            )
        if RANK[principal.role] < RANK[role.value]:
            raise Forbidden(
                tr(
                    "this operation needs the {role} role; {name} is {current}",
                    role=role.value,
                    name=principal.name,
                    current=principal.role,
                )
            )
        return principal

    return dependency


Editor = Annotated[Principal, Depends(require(Role.editor))]
Admin = Annotated[Principal, Depends(require(Role.admin))]
# Any signed-in caller: every role can at least edit.
Anyone = Editor
# Any signed-in caller, including an account that must change its password first: for who-am-I,
# signing out and changing the password.
SignedIn = Annotated[Principal, Depends(require(Role.editor, while_password_must_change=True))]

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="Any unique string per intended creation; a retry with it creates nothing more.",
    ),
]
IF_MATCH_DESCRIPTION = 'The ETag of the record as you last read it, e.g. "3".'
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match", max_length=100, description=IF_MATCH_DESCRIPTION + " Or give `version` in the body."
    ),
]
# DELETE reads If-Match itself (if_match_header) and documents it with this entry.
IF_MATCH_REQUIRED = {
    "name": "If-Match",
    "in": "header",
    "required": True,
    "description": IF_MATCH_DESCRIPTION,
    "schema": {"type": "string", "maxLength": 100},
}


def if_match_header(request: Request) -> str | None:
    """If-Match of a request whose operation takes no body, checked as a declared header is."""
    value = request.headers.get("if-match")
    if value is not None and len(value) > 100:
        raise InvalidInput(
            tr("the request has invalid fields: {fields}", fields="If-Match"),
            errors=[
                FieldError(field="If-Match", message=tr("at most {n} characters", n=100), location="header")
            ],
        )
    return value


RecordId = Annotated[QId, Path(description="The record's id.")]
