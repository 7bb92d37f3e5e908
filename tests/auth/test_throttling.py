"""Sign-in throttling (app/auth/): failures per username and per client address are slowed."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AccessToken
from tests.auth.helpers import account, assert_unauthenticated, client_of, sign_in
from tests.factories import assert_problem


async def test_failed_sign_ins_for_one_username_are_slowed(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await account(db, "lan.nguyen")
    # Four failures from four addresses, then the right password: still let in.
    for n in range(4):
        async with client_of(client, {}, addr=f"10.0.0.{n + 1}") as http:
            assert_unauthenticated(await sign_in(http, "lan.nguyen", "wrong password!"))
    async with client_of(client, {}, addr="10.0.0.9") as http:
        assert (await sign_in(http, "lan.nguyen")).status_code == 200
    # Success clears the username's count; five more failures, from five addresses, block it.
    for n in range(5):
        async with client_of(client, {}, addr=f"10.0.1.{n + 1}") as http:
            assert_unauthenticated(await sign_in(http, "lan.nguyen", "wrong password!"))
    async with client_of(client, {}, addr="10.0.2.1") as http:
        blocked = await sign_in(http, "lan.nguyen")  # even with the right password
        assert_problem(blocked, 429)
        assert int(blocked.headers["retry-after"]) >= 1
    assert (await db.execute(select(AccessToken))).scalars().all().__len__() == 1


async def test_failed_sign_ins_from_one_client_are_slowed(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await account(db, "lan.nguyen")
    async with client_of(client, {}, addr="10.9.9.9") as http:
        for n in range(5):
            assert_unauthenticated(await sign_in(http, f"khach.{n}", "wrong password!"))
        blocked = await sign_in(http, "lan.nguyen")
        assert_problem(blocked, 429)
        assert int(blocked.headers["retry-after"]) >= 1
    async with client_of(client, {}, addr="10.9.9.8") as other:
        assert (await sign_in(other, "lan.nguyen")).status_code == 200
