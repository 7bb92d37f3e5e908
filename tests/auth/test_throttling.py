"""Sign-in throttling (app/auth/throttle.py): password checks counted per (username, address)
pair, per username and per address, a slot reserved before each check."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.auth import router as auth_router
from app.auth import throttle
from app.core.settings import Settings, get_settings
from app.models import AccessToken, SecurityEvent
from tests.auth.helpers import PASSWORD, account, assert_unauthenticated, client_of, sign_in
from tests.factories import assert_problem

WRONG = "a wrong password!"


@pytest.fixture
def limits(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """Smaller limits for a test: set the returned dict's entries (setting names) before signing in."""
    wanted: dict[str, int] = {}
    monkeypatch.setattr(auth_router, "get_settings", lambda: get_settings().model_copy(update=wanted))
    yield wanted


async def events(db: AsyncSession, action: str, target: str) -> int:
    query = select(func.count()).where(SecurityEvent.action == action, SecurityEvent.target_name == target)
    return await db.scalar(query.select_from(SecurityEvent)) or 0


async def test_five_checks_per_username_and_address_then_429(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await account(db, "lan.nguyen")
    async with client_of(client, {}, addr="10.0.0.1") as attacker:
        for _ in range(5):
            assert_unauthenticated(await sign_in(attacker, "lan.nguyen", WRONG))
        for password in (WRONG, PASSWORD, WRONG):  # even the right password is not checked now
            blocked = await sign_in(attacker, "lan.nguyen", password)
            assert_problem(blocked, 429)
            assert 1 <= int(blocked.headers["retry-after"]) <= 900
    assert await events(db, "sign_in_failed", "lan.nguyen") == 5
    assert await events(db, "sign_in_throttled", "lan.nguyen") == 1  # once per window, not per attempt
    # The owner, from another address, is not locked out by the attacker.
    async with client_of(client, {}, addr="10.0.0.2") as owner:
        assert (await sign_in(owner, "lan.nguyen")).status_code == 200
    assert len((await db.scalars(select(AccessToken))).all()) == 1


async def test_a_success_clears_the_pair(client: httpx.AsyncClient, db: AsyncSession) -> None:
    await account(db, "lan.nguyen")
    async with client_of(client, {}, addr="10.0.1.1") as http:
        for _ in range(4):
            assert_unauthenticated(await sign_in(http, "lan.nguyen", WRONG))
        assert (await sign_in(http, "lan.nguyen")).status_code == 200
        for _ in range(5):
            assert_unauthenticated(await sign_in(http, "lan.nguyen", WRONG))
        assert_problem(await sign_in(http, "lan.nguyen"), 429)


async def test_guesses_spread_over_addresses_meet_the_account_limit(
    client: httpx.AsyncClient, db: AsyncSession, limits: dict[str, int]
) -> None:
    limits.update(sign_in_pair_limit=2, sign_in_account_limit=5)
    await account(db, "lan.nguyen")
    await account(db, "minh.tran")
    answers = []
    for n in range(4):
        async with client_of(client, {}, addr=f"10.0.2.{n + 1}") as http:
            answers += [(await sign_in(http, "lan.nguyen", WRONG)).status_code for _ in range(2)]
    assert answers == [401, 401, 401, 401, 401, 429, 429, 429]
    async with client_of(client, {}, addr="10.0.2.9") as http:
        assert_problem(await sign_in(http, "lan.nguyen"), 429)  # the account's limit: every address
        assert (await sign_in(http, "minh.tran")).status_code == 200  # other accounts are not affected


async def test_one_address_meets_its_limit_across_usernames(
    client: httpx.AsyncClient, db: AsyncSession, limits: dict[str, int]
) -> None:
    limits.update(sign_in_address_limit=3)
    await account(db, "lan.nguyen")
    async with client_of(client, {}, addr="10.0.3.1") as http:
        for n in range(3):
            assert_unauthenticated(await sign_in(http, f"khach.{n}", WRONG))  # unknown usernames count
        assert_problem(await sign_in(http, "lan.nguyen"), 429)
    async with client_of(client, {}, addr="10.0.3.2") as other:
        assert (await sign_in(other, "lan.nguyen")).status_code == 200
    assert await events(db, "sign_in_failed", "khach.0") == 1


async def test_successes_give_back_the_wider_slots(
    client: httpx.AsyncClient, db: AsyncSession, limits: dict[str, int]
) -> None:
    # Staff signing in from one office address do not use up its allowance.
    limits.update(sign_in_address_limit=2)
    for n in range(4):
        await account(db, f"can.bo{n}")
    async with client_of(client, {}, addr="10.0.4.1") as office:
        for n in range(4):
            assert (await sign_in(office, f"can.bo{n}")).status_code == 200


async def test_concurrent_reservations_never_exceed_the_limit(engine: AsyncEngine) -> None:
    """Twenty transactions of their own reserve at once for one pair: exactly the limit succeed."""
    settings = Settings(database_url=None, sign_in_pair_limit=3, sign_in_account_limit=1000)
    keys = throttle.Keys.of(f"race.{uuid.uuid4().hex[:8]}", f"10.9.{uuid.uuid4().int % 250}.1")
    start = asyncio.Event()

    async def attempt() -> bool:
        async with AsyncSession(engine) as session, session.begin():
            await start.wait()
            verdict = await throttle.reserve(session, keys, settings)
            await asyncio.sleep(0.01)  # hold the locks a moment, as a password check would
            return verdict.allowed

    try:
        tasks = [asyncio.create_task(attempt()) for _ in range(8)]
        await asyncio.sleep(0.05)
        start.set()
        allowed = await asyncio.gather(*tasks)
        assert sum(allowed) == 3
        async with engine.connect() as conn:
            counted = await conn.scalar(
                text("SELECT attempts FROM sign_in_attempt WHERE key = :k"), {"k": keys.pair}
            )
        assert counted == 3
    finally:
        async with engine.begin() as conn:
            await conn.execute(
                text("DELETE FROM sign_in_attempt WHERE key = ANY(:keys)"),
                {"keys": [keys.pair, keys.account, keys.address]},
            )


async def test_a_success_sweeps_rows_of_windows_long_past(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await account(db, "lan.nguyen")
    await db.execute(
        text(
            "INSERT INTO sign_in_attempt (key, attempts, window_start) VALUES"
            " ('account:da.lau', 3, now() - interval '1 day'), ('account:moi.day', 3, now())"
        )
    )
    await db.commit()
    async with client_of(client, {}, addr="10.0.5.1") as http:
        assert (await sign_in(http, "lan.nguyen")).status_code == 200
    kept = await db.scalars(text("SELECT key FROM sign_in_attempt WHERE key LIKE 'account:%' ORDER BY key"))
    assert list(kept) == ["account:lan.nguyen", "account:moi.day"]


# -- known colleagues: a pair that signed in before is held back by its own pair limit only ------


async def test_a_known_pair_is_not_locked_out_by_guesses_spread_over_addresses(
    client: httpx.AsyncClient, db: AsyncSession, limits: dict[str, int]
) -> None:
    limits.update(sign_in_pair_limit=2, sign_in_account_limit=6)
    await account(db, "lan.nguyen")
    async with client_of(client, {}, addr="10.0.8.1") as desk:
        assert (await sign_in(desk, "lan.nguyen")).status_code == 200  # her desk, last week
    for n in range(3):  # guesses from three other addresses fill the account's limit
        async with client_of(client, {}, addr=f"10.0.8.{n + 2}") as http:
            for _ in range(2):
                assert_unauthenticated(await sign_in(http, "lan.nguyen", WRONG))
    async with client_of(client, {}, addr="10.0.8.9") as stranger:
        assert_problem(await sign_in(stranger, "lan.nguyen"), 429)  # a new address: held back
    async with client_of(client, {}, addr="10.0.8.1") as desk:
        assert (await sign_in(desk, "lan.nguyen")).status_code == 200  # her own: not
        # Still limited as a pair: two wrong passwords there, and the pair is locked.
        for _ in range(2):
            assert_unauthenticated(await sign_in(desk, "lan.nguyen", WRONG))
        assert_problem(await sign_in(desk, "lan.nguyen"), 429)


async def test_a_known_pair_is_not_locked_out_by_guesses_from_its_office_address(
    client: httpx.AsyncClient, db: AsyncSession, limits: dict[str, int]
) -> None:
    limits.update(sign_in_address_limit=3)
    await account(db, "lan.nguyen")
    await account(db, "minh.tran")
    async with client_of(client, {}, addr="10.0.9.1") as office:
        assert (await sign_in(office, "lan.nguyen")).status_code == 200
        for n in range(3):  # someone in the office tries random usernames
            assert_unauthenticated(await sign_in(office, f"khach.{n}", WRONG))
        assert_problem(await sign_in(office, "khach.9", WRONG), 429)
        assert (await sign_in(office, "lan.nguyen")).status_code == 200  # a known colleague
        # A colleague who never signed in from here waits for the window, as a stranger would.
        assert_problem(await sign_in(office, "minh.tran"), 429)


async def test_a_sign_in_older_than_the_known_days_does_not_count(
    client: httpx.AsyncClient, db: AsyncSession, limits: dict[str, int]
) -> None:
    limits.update(sign_in_address_limit=1, sign_in_known_days=30)
    await account(db, "lan.nguyen")
    for addr, days in (("10.0.10.1", 31), ("10.0.10.2", 29)):
        await db.execute(
            text(
                "INSERT INTO security_event (at, action, actor_kind, target_kind, target_name, client_addr)"
                " VALUES (now() - make_interval(days => :days), 'sign_in', 'account', 'account',"
                " 'lan.nguyen', :addr)"
            ),
            {"days": days, "addr": addr},
        )
    await db.commit()
    answers = []
    for addr in ("10.0.10.1", "10.0.10.2"):
        async with client_of(client, {}, addr=addr) as http:
            assert_unauthenticated(await sign_in(http, "khach.0", WRONG))  # fills the address limit
            answers.append((await sign_in(http, "lan.nguyen")).status_code)
    assert answers == [429, 200]


# -- the table stays bounded and its keys short ------------------------------------------------


async def test_failures_and_refusals_sweep_rows_of_windows_long_past(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    old = (
        "INSERT INTO sign_in_attempt (key, attempts, window_start) VALUES (:key, 3, now() - interval '1 day')"
    )

    async def left(key: str) -> int:
        found = await db.scalar(text("SELECT count(*) FROM sign_in_attempt WHERE key = :key"), {"key": key})
        return int(found or 0)

    await db.execute(text(old), {"key": "account:da.lau.1"})
    await db.commit()
    async with client_of(client, {}, addr="10.0.11.1") as http:
        for _ in range(5):
            assert_unauthenticated(await sign_in(http, "khach.lo", WRONG))
        assert await left("account:da.lau.1") == 0  # a wrong password swept it
        await db.execute(text(old), {"key": "account:da.lau.2"})
        await db.commit()
        assert_problem(await sign_in(http, "khach.lo", WRONG), 429)
    assert await left("account:da.lau.2") == 0  # and so did a refusal


async def test_a_long_forwarded_address_makes_short_keys(client: httpx.AsyncClient, db: AsyncSession) -> None:
    """A trusted proxy may pass on whatever X-Forwarded-For a client sent: 4000 characters made
    a key too long for the table's index (a 503, "the database is unavailable")."""
    long_address = secrets.token_urlsafe(3000)  # 4000 characters that do not compress
    await account(db, "lan.nguyen")
    async with client_of(client, {}, addr=long_address) as http:
        for _ in range(5):
            assert_unauthenticated(await sign_in(http, "lan.nguyen", WRONG))
        assert_problem(await sign_in(http, "lan.nguyen", WRONG), 429)
        assert_problem(await sign_in(http, "lan.nguyen"), 429)  # the same pair, counted as one
    keys = throttle.Keys.of("lan.nguyen", long_address)
    assert max(len(keys.pair), len(keys.account), len(keys.address)) < 120
    assert throttle.Keys.of("lan.nguyen", long_address + "x") != keys  # still one key per address
    assert throttle.Keys.of("lan.nguyen", "2001:db8::1").address == "address:2001:db8::1"
