"""docker/initdb/10-roles.sql, run as the postgres image runs it, gives the API rows and nothing more.

The script runs with the machine's `psql` on the test server (a superuser is needed to create
roles) in a throwaway database. Roles belong to the whole server, so each run renames them with a
suffix of its own and drops them at the end.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from app.__main__ import migrate
from app.main import migration_head
from tests.conftest import create_database, drop_database, plain_url
from tests.servers import ROOT, app_env, run_app

ROLES_SQL = ROOT / "docker" / "initdb" / "10-roles.sql"
PSQL = shutil.which("psql")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(PSQL is None, reason="no psql client on PATH to run the roles script with"),
]


@dataclass
class Roles:
    owner_url: str
    api_url: str
    api_role: str


def url_for(database_url: str, role: str, password: str) -> str:
    return make_url(database_url).set(username=role, password=password).render_as_string(hide_password=False)


async def superuser_can_create_roles(server: str) -> bool:
    conn = await asyncpg.connect(plain_url(server))
    try:
        return bool(await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))
    finally:
        await conn.close()


async def drop_roles(server: str, *roles: str) -> None:
    conn = await asyncpg.connect(plain_url(server))
    try:
        for role in roles:
            await conn.execute(f'DROP ROLE IF EXISTS "{role}"')
    finally:
        await conn.close()


def without_pg(env: Mapping[str, str]) -> dict[str, str]:
    """`env` without the PG* variables libpq would read in place of what a test gives it."""
    return {key: value for key, value in env.items() if not key.startswith("PG")}


def run_roles_script(database_url: str, owner: str, api: str, owner_password: str, api_password: str) -> None:
    """Run the script as the image's entrypoint does: psql, ON_ERROR_STOP, passwords in the env."""
    assert PSQL is not None
    sql = ROLES_SQL.read_text().replace("craftvillage_owner", owner).replace("craftvillage_api", api)
    url = make_url(database_url)
    env = without_pg(os.environ)
    env.update(
        PGHOST=str(url.host),
        PGPORT=str(url.port or 5432),
        PGUSER=str(url.username),
        PGDATABASE=str(url.database),
        CRAFTVILLAGE_OWNER_PASSWORD=owner_password,
        CRAFTVILLAGE_API_PASSWORD=api_password,
    )
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    done = subprocess.run(
        [PSQL, "-v", "ON_ERROR_STOP=1", "--no-password", "--no-psqlrc"],
        input=sql,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert owner_password not in done.stdout + done.stderr
    assert api_password not in done.stdout + done.stderr


@pytest.fixture
def roles(server_url: str) -> Iterator[Roles]:
    if not asyncio.run(superuser_can_create_roles(server_url)):
        pytest.skip("the test server's user is not a superuser; the roles script needs one")
    suffix = uuid.uuid4().hex[:8]
    owner, api = f"cv_owner_{suffix}", f"cv_api_{suffix}"
    owner_password, api_password = uuid.uuid4().hex, uuid.uuid4().hex
    database = create_database(server_url, "cv_roles")
    try:
        run_roles_script(database, owner, api, owner_password, api_password)
        owner_url = url_for(database, owner, owner_password)
        migrate(owner_url)
        yield Roles(owner_url, url_for(database, api, api_password), api)
    finally:
        drop_database(server_url, database)
        asyncio.run(drop_roles(server_url, api, owner))


async def refused(conn: asyncpg.Connection, sql: str) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await conn.execute(sql)


def test_api_role_reads_and_writes_rows_only(roles: Roles) -> None:
    async def check() -> None:
        conn = await asyncpg.connect(plain_url(roles.api_url))
        try:
            powers = "SELECT rolsuper OR rolcreatedb OR rolcreaterole FROM pg_roles WHERE rolname = user"
            assert await conn.fetchval(powers) is False
            assert await conn.fetchval("SELECT version_num FROM alembic_version") == migration_head()
            unit = await conn.fetchval(
                "INSERT INTO admin_unit (code, name, level) VALUES ('99', 'Thử', 'province') RETURNING id"
            )
            await conn.execute("UPDATE admin_unit SET name = 'Thử lại' WHERE id = $1", unit)
            assert await conn.fetchval("SELECT name FROM admin_unit WHERE id = $1", unit) == "Thử lại"
            await conn.execute("DELETE FROM admin_unit WHERE id = $1", unit)
            await refused(conn, "CREATE TABLE intruder (id int)")
            await refused(conn, "DROP TABLE admin_unit")
            await refused(conn, "ALTER TABLE admin_unit ADD COLUMN intruder int")
            await refused(conn, "TRUNCATE admin_unit")
            await refused(conn, "CREATE FUNCTION intruder() RETURNS int LANGUAGE sql AS 'SELECT 1'")
            await refused(conn, "DROP EXTENSION unaccent CASCADE")
            await refused(conn, f'ALTER ROLE "{roles.api_role}" SUPERUSER')
        finally:
            await conn.close()

    asyncio.run(check())


def test_api_role_runs_the_command_line_at_head(roles: Roles) -> None:
    """`serve` without --no-migrate and `users create` migrate first: at head that needs no DDL."""
    migrate(roles.api_url)
    env = without_pg(app_env(DATABASE_URL=roles.api_url, CRAFTVILLAGE_PASSWORD="a long enough password"))
    new_admin = ("users", "create", "first-admin", "--display-name", "First", "--role", "admin")
    made = run_app(*new_admin, env=env, timeout=120)
    assert made.returncode == 0, made.stderr
