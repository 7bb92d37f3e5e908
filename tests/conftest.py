"""Fixtures: one real PostgreSQL per run, a migrated database, a rolled-back transaction per test.

The database is TEST_DATABASE_URL's server when set (a throwaway database is created on it and
dropped afterwards, so the server needs CREATEDB for that user), otherwise a throwaway embedded
PostgreSQL. The schema is always built by Alembic, never by create_all.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from app.__main__ import migrate
from app.admin_units.gazetteer import load_places
from app.auth.service import create_key
from app.core.db import get_session
from app.core.embedded import EmbeddedPostgres
from app.core.settings import Settings, async_url
from app.kit.reads import export_connection, read_connection
from app.main import create_app, migration_head
from app.models import Role
from app.stats.cache import Memory
from tests.models.constraints import BASE


def plain_url(url: str) -> str:
    """asyncpg.connect wants postgresql://, not the SQLAlchemy dialect form."""
    return make_url(async_url(url)).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """A PostgreSQL server for the whole run: TEST_DATABASE_URL's, or an embedded throwaway one."""
    given = os.environ.get("TEST_DATABASE_URL")
    if given:
        yield async_url(given)
        return
    folder = Path(tempfile.mkdtemp(prefix="craftvillage-test-"))
    server = EmbeddedPostgres(folder, database="postgres", throwaway=True)
    try:
        yield server.start()
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def create_database(server: str, prefix: str = "cv_test", template: str | None = None) -> str:
    """A new database on the server, empty or a copy of `template`'s (a URL); returns its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    copy = f' TEMPLATE "{make_url(template).database}"' if template else ""

    async def create() -> None:
        conn = await asyncpg.connect(plain_url(server))
        try:
            await conn.execute(f'CREATE DATABASE "{name}"{copy}')
        finally:
            await conn.close()

    asyncio.run(create())
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def drop_database(server: str, url: str) -> None:
    name = make_url(url).database

    async def drop() -> None:
        conn = await asyncpg.connect(plain_url(server))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(drop())


@pytest.fixture(scope="session")
def database_url(server_url: str) -> Iterator[str]:
    """A database migrated to head for the run; dropped at the end."""
    url = create_database(server_url)
    try:
        migrate(url)
        yield url
    finally:
        drop_database(server_url, url)


@pytest.fixture(scope="session")
def gazetteer_url(server_url: str) -> Iterator[str]:
    """A database migrated to head with the national gazetteer loaded, once per run. Nothing
    connects to it: databases that need the gazetteer are copied from it (`template`), which
    takes a fraction of a second where loading takes seconds."""
    url = create_database(server_url, prefix="cv_places")
    try:
        migrate(url)
        asyncio.run(load_places(url))
        yield url
    finally:
        drop_database(server_url, url)


@pytest.fixture(scope="module")
def gazetteer_copy(server_url: str, gazetteer_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A copy of the gazetteer's database for one test module (named after it), dropped after."""
    prefix = "cv_" + request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    url = create_database(server_url, prefix=prefix, template=gazetteer_url)
    try:
        yield url
    finally:
        drop_database(server_url, url)


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    # One pooled engine for the run: every test and fixture shares the session's event loop
    # (pyproject: asyncio_default_*_loop_scope = "session"), so a pooled connection never
    # meets a loop other than its own, and tests skip connecting afresh.
    engine = create_async_engine(database_url, pool_size=2, max_overflow=8)
    yield engine
    await engine.dispose()


@pytest.fixture
async def db(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session inside a transaction that is rolled back after the test.

    The app's commits and rollbacks act on savepoints within it, so each request still
    commits or rolls back on its own, and a test sees exactly what the request left.
    """
    async with engine.connect() as conn:
        outer = await conn.begin()
        session = AsyncSession(bind=conn, expire_on_commit=False, join_transaction_mode="create_savepoint")
        try:
            yield session
        finally:
            await session.close()
            await outer.rollback()


@pytest.fixture(scope="session")
def app(database_url: str) -> FastAPI:
    """One application for the run: building the routers and schemas costs ~0.1 s, so not per test."""
    application = create_app(Settings(database_url=database_url))
    application.state.migration_head = migration_head()
    return application


@pytest.fixture
async def client(db: AsyncSession, engine: AsyncEngine, app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the app, every request in the test's transaction."""
    async with client_in_transaction(app, db, engine) as http:
        yield http


@asynccontextmanager
async def client_in_transaction(
    app: FastAPI, db: AsyncSession, engine: AsyncEngine
) -> AsyncIterator[httpx.AsyncClient]:
    """An administrator's HTTP client for `app`, whose requests all run in the test's transaction."""

    async def session_override() -> AsyncIterator[AsyncSession]:
        # The production contract: commit when the handler returns, roll back when it raises.
        try:
            yield db
            await db.commit()
        except BaseException:
            await db.rollback()
            raise

    async def read_override() -> AsyncIterator[object]:
        # Reads use the raw connection of the same transaction, so they see the test's writes.
        raw = await (await db.connection()).get_raw_connection()
        yield raw.driver_connection

    class Opener:
        """File exports stream from the same transaction too."""

        async def open(self) -> object:
            raw = await (await db.connection()).get_raw_connection()
            return raw.driver_connection

    async def export_override() -> AsyncIterator[object]:
        yield Opener()

    app.dependency_overrides[get_session] = session_override
    app.dependency_overrides[read_connection] = read_override
    app.dependency_overrides[export_connection] = export_override
    app.state.engine = engine
    app.state.stats_memory = Memory()  # the lifespan, which makes it, does not run here
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    # Writes need a credential: the client carries an administrator's API key, made in the
    # test's transaction. `anonymous` (below) sends none.
    _, secret = await create_key(db, "test suite", Role.admin, "conftest")
    await db.commit()  # its savepoint is released, so a request that rolls back keeps the key
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", headers={"X-API-Key": secret}
        ) as http:
            # Changes need the version the client last saw. Most tests are about something else,
            # so this client reads the record first when a PATCH or DELETE names no version, as
            # a careful client would. `strict` (below) sends exactly what a test gives it.
            async def read_before_write(request: httpx.Request) -> None:
                if request.method not in ("PATCH", "DELETE") or "if-match" in request.headers:
                    return
                if request.method == "PATCH" and b'"version"' in request.content:
                    return
                try:
                    current = await http.get(request.url.path)
                except httpx.InvalidURL:
                    return  # a hostile path: let the request itself meet the service
                if current.status_code == 200 and "etag" in current.headers:
                    request.headers["If-Match"] = current.headers["etag"]

            http.event_hooks["request"].append(read_before_write)
            yield http
    finally:
        app.dependency_overrides.pop(get_session, None)
        app.dependency_overrides.pop(read_connection, None)
        app.dependency_overrides.pop(export_connection, None)
        del app.state.engine


@pytest.fixture
async def strict(client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """The administrator's client without the read-before-write convenience."""
    async with httpx.AsyncClient(
        transport=client._transport, base_url="http://testserver", headers=dict(client.headers)
    ) as http:
        yield http


@pytest.fixture
async def anonymous(client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the same app and transaction that sends no credential."""
    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def base(db: AsyncSession) -> AsyncSession:
    """The test's session holding the rows every database-rule case starts from
    (tests/models/constraints.py, BASE)."""
    for statement in BASE:
        await db.execute(text(statement))
    # Commit (within the test's outer transaction), or the first refused request's rollback
    # would take these rows with it.
    await db.commit()
    return db


@pytest.fixture
def fresh_stats_memory(app: FastAPI) -> None:
    """Each test's writes are rolled back, data versions included, so a tag can recur with other
    data in the next test: start each test with an empty statistics memory. The statistics tests
    use it (pytestmark = pytest.mark.usefixtures("fresh_stats_memory"))."""
    app.state.stats_memory = Memory()


async def committed_key(engine: AsyncEngine, role: Role = Role.admin) -> str:
    """A committed API key on the engine's database (for apps outside the test transaction)."""
    async with AsyncSession(engine, expire_on_commit=False) as session:
        _, secret = await create_key(session, f"test {role.value}", role, "conftest")
        await session.commit()
    return secret
