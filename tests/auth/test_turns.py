"""The turns of password checks (app/auth/passwords.py, Turns): every operation that hashes or
verifies a password takes one before its session touches the database, and a request that waits
too long gets a 503 with Retry-After. The burst against a real server is in test_server.py."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from app.auth import router as auth_router
from app.auth.passwords import Turns
from app.core.db import make_sessionmaker
from app.core.errors import Unavailable
from tests.auth.helpers import PASSWORD, account, client_of, sign_in
from tests.factories import API, assert_problem

# Every operation that hashes or verifies a password.
PASSWORD_OPERATIONS = {"sign_in", "change_password", "create_account", "reset_password"}


def test_every_password_operation_takes_its_turn_before_anything_else(app: FastAPI) -> None:
    """FastAPI solves an operation's dependencies in the order of its parameters: the turn comes
    first, before the session and the caller (whose check already uses the database)."""
    routes = {r.operation_id: r for r in app.routes if isinstance(r, APIRoute)}
    for operation in PASSWORD_OPERATIONS:
        first = routes[operation].dependant.dependencies[0]
        assert first.call is auth_router._password_turn, operation
    others = [r for r in routes.values() if r.operation_id not in PASSWORD_OPERATIONS]
    assert not any(d.call is auth_router._password_turn for r in others for d in r.dependant.dependencies)


async def test_a_session_opens_its_connection_only_when_first_used(database_url: str) -> None:
    """app/core/db.py get_session: a request's session holds no pooled connection until it is
    used, so waiting for a turn after it was made would hold none either."""
    engine: AsyncEngine = create_async_engine(database_url, pool_size=1, max_overflow=0)
    try:
        async with make_sessionmaker(engine)() as session:
            assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
            await session.connection()
            assert engine.pool.checkedout() == 1  # type: ignore[attr-defined]
        assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        await engine.dispose()


async def test_turns_admit_so_many_and_refuse_after_the_wait() -> None:
    turns = Turns(2, 0.1)
    async with turns.turn(), turns.turn():
        with pytest.raises(Unavailable) as refused:
            async with turns.turn():
                pass
        assert refused.value.headers == {"Retry-After": "1"}
    async with turns.turn():  # given back
        pass


@pytest.fixture
def one_turn(app: FastAPI) -> Iterator[Turns]:
    saved = app.state.password_turns
    app.state.password_turns = Turns(1, 0.2)
    yield app.state.password_turns
    app.state.password_turns = saved


async def test_a_request_that_waits_too_long_gets_503_with_retry_after(
    client: httpx.AsyncClient, db: AsyncSession, one_turn: Turns
) -> None:
    await account(db, "lan.nguyen")
    async with client_of(client, {}, addr="10.0.30.1") as http:
        held = asyncio.Event()
        release = asyncio.Event()

        async def hold() -> None:
            async with one_turn.turn():
                held.set()
                await release.wait()

        holder = asyncio.create_task(hold())
        await held.wait()
        busy = await sign_in(http, "lan.nguyen")
        body = assert_problem(busy, 503)
        assert "passwords" in body["detail"] and busy.headers["retry-after"] == "1"
        vi = await http.post(
            f"{API}/auth/token",
            data={"username": "lan.nguyen", "password": PASSWORD},
            headers={"Accept-Language": "vi"},
        )
        assert "mật khẩu" in assert_problem(vi, 503)["detail"]
        release.set()
        await holder
        assert (await sign_in(http, "lan.nguyen")).status_code == 200
