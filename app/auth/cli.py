"""`python -m app users ...` and `python -m app keys ...`: so that the first administrator can be made.

Every change is recorded as a security event whose actor is the command line (and the system
user running it). A key made here has no creator account: its own role applies.

Names follow the API's rules (a username as POST /api/v1/admin/accounts takes it). Every refusal
is one line on standard error, never a traceback: exit status 2 for an argument the rules refuse,
1 for anything else (a name taken, no such account, the database unreachable).
"""

from __future__ import annotations

import argparse
import getpass
import os
import re
import sys
from datetime import timedelta
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import exc as sa_exc
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from app.auth import service
from app.auth.events import command_line
from app.auth.passwords import policy_error
from app.core.db import make_sessionmaker
from app.core.errors import AppError, classify_db_error
from app.core.i18n import tr
from app.core.settings import async_url, get_settings
from app.kit.types import Name
from app.models import ApiKey, Role, StaffAccount

ROLES = [r.value for r in Role]
USAGE = 2  # the exit status of an argument the rules refuse, as argparse's own
_NAME: TypeAdapter[str] = TypeAdapter(Name)


class Refused(Exception):
    """An argument the rules refuse: one line on standard error, exit status 2."""


def add_commands(commands: Any) -> None:
    """Register the `users` and `keys` sub-commands on the main parser."""
    users = commands.add_parser(
        "users", help="staff accounts: create, list, disable, enable, set-role, reset-password"
    )
    user_cmds = users.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = user_cmds.add_parser(
        "create", help="create an account (password from CRAFTVILLAGE_PASSWORD or a prompt)"
    )
    create.add_argument("username")
    create.add_argument("--display-name", required=True)
    create.add_argument("--role", choices=ROLES, default="editor")
    user_cmds.add_parser("list", help="list the accounts")
    disable = user_cmds.add_parser("disable", help="disable an account; its tokens stop working")
    disable.add_argument("username")
    enable = user_cmds.add_parser("enable", help="enable a disabled account again")
    enable.add_argument("username")
    set_role = user_cmds.add_parser("set-role", help="change an account's role; its tokens stop working")
    set_role.add_argument("username")
    set_role.add_argument("role", choices=ROLES)
    reset = user_cmds.add_parser(
        "reset-password",
        help=(
            "set an account's password (from CRAFTVILLAGE_PASSWORD or a prompt), or with --temporary "
            "make a temporary one and show it once; its tokens stop working"
        ),
    )
    reset.add_argument("username")
    reset.add_argument(
        "--temporary",
        action="store_true",
        help=(
            "make a random temporary password, printed once on the last line: the person must change "
            "it at first sign-in, and it expires after TEMPORARY_PASSWORD_TTL_HOURS"
        ),
    )

    keys = commands.add_parser("keys", help="API keys for machine clients: create, list, revoke")
    key_cmds = keys.add_subparsers(dest="action", required=True, metavar="ACTION")
    key_create = key_cmds.add_parser("create", help="create a key; it is printed alone on the last line")
    key_create.add_argument("--name", required=True)
    key_create.add_argument("--role", choices=ROLES, default="editor")
    key_cmds.add_parser("list", help="list the keys (never the keys themselves)")
    revoke = key_cmds.add_parser("revoke", help="revoke a key by id")
    revoke.add_argument("id", type=int)


def _username(username: str) -> str:
    """A new account's username, by the API's rule (app/auth/service.py, USERNAME_PATTERN)."""
    if not re.fullmatch(service.USERNAME_PATTERN, username):
        raise Refused(
            f"the username {username!r} is not allowed: 3 to 64 characters, lower-case ASCII letters "
            "a-z, digits and . _ - (starting with a letter or digit), e.g. minh or ngoc.tran"
        )
    return username


def _name(value: str, what: str) -> str:
    """A display name or key name, by the API's rule (1 to 300 characters, no NUL)."""
    try:
        return _NAME.validate_python(value)
    except ValidationError:
        raise Refused(f"the {what} must have 1 to 300 characters and no NUL character") from None


def _password(username: str) -> str:
    password = os.environ.get("CRAFTVILLAGE_PASSWORD")
    if password is None:
        try:
            password = getpass.getpass("password: ")
            if getpass.getpass("again: ") != password:
                raise SystemExit(tr("the passwords differ"))
        except EOFError:
            raise SystemExit(
                "error: no password given: set CRAFTVILLAGE_PASSWORD or type it at the prompt"
            ) from None
    refused = policy_error(password, username, "password")
    if refused is not None:
        raise SystemExit(refused.message)
    return password


async def run(url: str, args: argparse.Namespace) -> int:
    """Carry out one users/keys command in one transaction."""
    engine = create_async_engine(async_url(url), poolclass=NullPool)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            await _dispatch(session, args)
    except Refused as refused:
        print(f"error: {refused}", file=sys.stderr)
        return USAGE
    except AppError as error:
        print(f"error: {error.detail}", file=sys.stderr)
        return 1
    except sa_exc.DBAPIError as error:
        # Never the statement or its parameters (they may hold a password's hash).
        print(f"error: {classify_db_error(error).detail}", file=sys.stderr)
        return 1
    except (OSError, TimeoutError) as error:
        print(f"error: the database cannot be reached ({type(error).__name__})", file=sys.stderr)
        return 1
    finally:
        await engine.dispose()
    return 0


async def _dispatch(session: AsyncSession, args: argparse.Namespace) -> None:
    if args.command == "users":
        await _users(session, args)
    else:
        await _keys(session, args)


async def _users(session: AsyncSession, args: argparse.Namespace) -> None:
    if args.action == "create":
        username, display_name = _username(args.username), _name(args.display_name, "display name")
        account = await service.create_account(
            session, username, display_name, Role(args.role), _password(username)
        )
        print(f"created {account.role} {account.username} (id {account.id})")
    elif args.action == "list":
        for account in await session.scalars(select(StaffAccount).order_by(StaffAccount.username)):
            state = "active" if account.is_active else "disabled"
            print(f"{account.id}\t{account.username}\t{account.role}\t{state}\t{account.display_name}")
    elif args.action == "disable":
        account = await service.find_account(session, args.username)
        await service.change_account(session, account, active=False)
        print(f"disabled {account.username}; its tokens are revoked")
    elif args.action == "enable":
        account = await service.find_account(session, args.username)
        await service.change_account(session, account, active=True)
        print(f"enabled {account.username}")
    elif args.action == "reset-password" and args.temporary:
        # As the API's reset: a random password, shown this once, changed at first sign-in.
        account = await service.find_account(session, args.username)
        ttl = timedelta(hours=get_settings().temporary_password_ttl_hours)
        password, expires = await service.reset_password(session, account, ttl, by=command_line())
        print(
            f"temporary password of {account.username} set; its tokens are revoked; it must be "
            f"changed at first sign-in and expires {expires:%Y-%m-%d %H:%M} UTC; it is shown once:"
        )
        print(password)
    elif args.action == "reset-password":
        account = await service.find_account(session, args.username)
        ttl = timedelta(hours=get_settings().temporary_password_ttl_hours)
        await service.set_password(
            session, account, _password(account.username), must_change=False, ttl=ttl, by=command_line()
        )
        print(f"password of {account.username} set; its tokens are revoked")
    else:
        account = await service.find_account(session, args.username)
        await service.change_account(session, account, role=Role(args.role))
        print(f"{account.username} is now {account.role}; its tokens are revoked")


async def _keys(session: AsyncSession, args: argparse.Namespace) -> None:
    if args.action == "create":
        name = _name(args.name, "key name")
        key, secret = await service.create_key(session, name, Role(args.role), "command line")
        print(f"created {key.role} key {key.name} (id {key.id}, prefix {key.prefix}); it is shown once:")
        print(secret)
    elif args.action == "list":
        for key in await session.scalars(select(ApiKey).order_by(ApiKey.id)):
            state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
            print(f"{key.id}\t{key.prefix}…\t{key.role}\t{state}\t{key.name}")
    else:
        key = await service.revoke_key(session, args.id)
        print(f"revoked key {key.id} ({key.name})")
