"""The command line that manages accounts and keys (app/auth/cli.py): `python -m app users ...`
and `python -m app keys ...` against a database of their own."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from datetime import timedelta

import asyncpg
import httpx
import pytest

from tests.auth.helpers import PASSWORD, assert_unauthenticated, sign_in
from tests.conftest import plain_url
from tests.factories import API
from tests.servers import app_env, fresh_database, run_app
from tests.stats.helpers import app_client

NEW = "mây tre đan Phú Vinh 2026"


@pytest.fixture
def scratch_url(server_url: str) -> Iterator[str]:
    with fresh_database(server_url, "cv_cli") as url:
        yield url


def cli(url: str, *args: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
    env = app_env(without={"CRAFTVILLAGE_PASSWORD"}, DATABASE_URL=url)
    if password is not None:
        env["CRAFTVILLAGE_PASSWORD"] = password
    return run_app(*args, env=env)


@pytest.mark.slow
async def test_command_line_manages_accounts_and_keys(scratch_url: str) -> None:
    made = cli(scratch_url, "users", "create", "quan.tri", "--display-name", "Quản trị", "--role", "admin",
               password=PASSWORD)  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert PASSWORD not in made.stdout + made.stderr
    cli(scratch_url, "users", "create", "lan.nguyen", "--display-name", "Lan", password=PASSWORD)
    too_short = cli(scratch_url, "users", "create", "ngan.ngan", "--display-name", "N", password="short")
    assert too_short.returncode != 0
    common = cli(scratch_url, "users", "create", "ngan.ngan", "--display-name", "N", password="password1234")
    assert common.returncode != 0 and "common" in common.stderr

    key = cli(scratch_url, "keys", "create", "--name", "cổng dữ liệu", "--role", "editor")
    assert key.returncode == 0, key.stderr
    secret = key.stdout.strip().splitlines()[-1]
    assert secret.startswith("cvk_") and " " not in secret

    async with app_client(scratch_url) as (_, admin_client):
        http = httpx.AsyncClient(transport=admin_client._transport, base_url="http://testserver")
        for who, role in (("quan.tri", "admin"), ("lan.nguyen", "editor")):
            signed = await sign_in(http, who)
            assert signed.status_code == 200, signed.text
            headers = {"Authorization": "Bearer " + signed.json()["access_token"]}
            me = await http.get(f"{API}/auth/me", headers=headers)
            assert me.json()["role"] == role
        lan_token = (await sign_in(http, "lan.nguyen")).json()["access_token"]
        me = await http.get(f"{API}/auth/me", headers={"X-API-Key": secret})
        assert me.json()["name"] == "cổng dữ liệu"
        key_id = me.json()["id"]

        users = cli(scratch_url, "users", "list")
        assert [line.split("\t")[1:4] for line in users.stdout.splitlines()] == [
            ["lan.nguyen", "editor", "active"],
            ["quan.tri", "admin", "active"],
        ]
        lan = {"Authorization": f"Bearer {lan_token}"}
        assert (await http.get(f"{API}/auth/me", headers=lan)).status_code == 200
        assert cli(scratch_url, "users", "set-role", "lan.nguyen", "admin").returncode == 0
        assert_unauthenticated(await http.get(f"{API}/auth/me", headers=lan))
        assert cli(scratch_url, "users", "disable", "lan.nguyen").returncode == 0
        assert_unauthenticated(await sign_in(http, "lan.nguyen"))
        assert cli(scratch_url, "users", "enable", "lan.nguyen").returncode == 0
        assert (await sign_in(http, "lan.nguyen")).status_code == 200
        weak = cli(scratch_url, "users", "reset-password", "lan.nguyen", password="lan.nguyen-2026!")
        assert weak.returncode != 0 and "username" in weak.stderr
        # --temporary makes the password and shows it once, as README says (not the variable's).
        reset = cli(scratch_url, "users", "reset-password", "lan.nguyen", "--temporary", password=NEW)
        assert reset.returncode == 0, reset.stderr
        assert NEW not in reset.stdout + reset.stderr
        shown = reset.stdout.strip().splitlines()[-1]
        assert re.fullmatch(r"[A-Za-z2-9]{4}(-[A-Za-z2-9]{4}){3}", shown), reset.stdout
        assert "shown once" in reset.stdout and "expires" in reset.stdout
        assert_unauthenticated(await sign_in(http, "lan.nguyen"))
        assert_unauthenticated(await sign_in(http, "lan.nguyen", NEW))
        temporary = await sign_in(http, "lan.nguyen", shown)
        assert temporary.status_code == 200, temporary.text
        flagged = {"Authorization": "Bearer " + temporary.json()["access_token"]}
        assert (await http.get(f"{API}/auth/me", headers=flagged)).json()["must_change_password"] is True
        conn = await asyncpg.connect(plain_url(scratch_url))
        try:
            expires = await conn.fetchval(
                "SELECT password_expires_at - now() FROM staff_account WHERE username = 'lan.nguyen'"
            )
            details = await conn.fetchval(
                "SELECT details FROM security_event WHERE action = 'password_reset' ORDER BY id DESC LIMIT 1"
            )
        finally:
            await conn.close()
        assert timedelta(hours=71) < expires <= timedelta(hours=72)
        assert '"temporary": true' in details and shown not in details
        # Without --temporary, the password comes from the variable and is set for good.
        direct = cli(scratch_url, "users", "reset-password", "lan.nguyen", password=NEW)
        assert direct.returncode == 0, direct.stderr
        assert (await sign_in(http, "lan.nguyen", NEW)).status_code == 200
        trail = (
            await admin_client.get(f"{API}/audit/security", params={"actor_kind": "command_line"})
        ).json()
        assert {"account_created", "role_changed", "account_disabled", "account_enabled", "password_reset",
                "key_created"} <= {e["action"] for e in trail["items"]}  # fmt: skip

        keys = cli(scratch_url, "keys", "list")
        assert secret not in keys.stdout and secret[:12] in keys.stdout
        assert cli(scratch_url, "keys", "revoke", str(key_id)).returncode == 0
        assert_unauthenticated(await http.get(f"{API}/auth/me", headers={"X-API-Key": secret}))
        await http.aclose()


def one_line_refusal(done: subprocess.CompletedProcess[str], status: int) -> str:
    """The command failed with `status` and said why in one line of standard error, nothing else:
    no traceback, no SQL, no parameters (a password's hash among them)."""
    assert done.returncode == status, (done.returncode, done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    for leak in ("Traceback", "argon2", "INSERT", "sqlalchemy", "asyncpg"):
        assert leak not in done.stderr + done.stdout
    return lines[0]


@pytest.mark.slow
async def test_command_line_refuses_what_the_api_refuses_in_one_line(scratch_url: str) -> None:
    for name in ("Minh", "ngọc", "ab", "minh tran", "x" * 65):
        refused = cli(scratch_url, "users", "create", name, "--display-name", "Minh", password=PASSWORD)
        line = one_line_refusal(refused, 2)
        assert "username" in line and "a-z" in line, line
    one_line_refusal(cli(scratch_url, "users", "create", "minh", "--display-name", "", password=PASSWORD), 2)
    one_line_refusal(
        cli(scratch_url, "users", "create", "minh", "--display-name", "x" * 301, password=PASSWORD), 2
    )
    one_line_refusal(cli(scratch_url, "keys", "create", "--name", " "), 2)
    assert cli(scratch_url, "users", "list").stdout == ""  # nothing was made
    made = cli(scratch_url, "users", "create", "minh", "--display-name", "Minh", password=PASSWORD)
    assert made.returncode == 0, made.stderr
    assert "taken" in one_line_refusal(
        cli(scratch_url, "users", "create", "minh", "--display-name", "Minh", password=PASSWORD), 1
    )
    for args in (("users", "disable", "nobody"), ("users", "reset-password", "nobody", "--temporary"),
                 ("keys", "revoke", "999")):  # fmt: skip
        one_line_refusal(cli(scratch_url, *args), 1)
    unreachable = run_app("users", "list", env=app_env(DATABASE_URL="postgresql://u:p@127.0.0.1:9/none"))
    assert "database" in one_line_refusal(unreachable, 1)
