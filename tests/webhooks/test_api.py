"""/api/v1/webhooks: registering, reading, changing and removing subscriptions (administrators
only), the secret shown once, the SSRF refusals at registration, the delivery log's 404s, and the
security events of every change."""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import ip_address, ip_network

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Role
from app.webhooks import targets
from tests.auth.helpers import client_of, key_for
from tests.factories import API, assert_problem

HOOKS = f"{API}/webhooks"
PUBLIC = "https://93.184.216.34/hooks/craftvillage"  # a global address: nothing is sent in these tests


async def _names(host: str, port: int) -> list[str]:
    """A resolver of made-up names: what each resolves to."""
    table = {
        "internal.example": ["10.0.0.5"],
        "split.example": ["93.184.216.34", "192.168.1.9"],
        "public.example": ["93.184.216.34"],
    }
    if host not in table:
        raise OSError("no such name")
    return table[host]


@pytest.fixture(autouse=True)
def resolver(app: FastAPI) -> Iterator[None]:
    """Made-up names resolve through `_names`; the allowed networks are the default (none)."""
    saved = app.state.webhook_resolver, app.state.webhook_networks
    app.state.webhook_resolver, app.state.webhook_networks = _names, []
    try:
        yield
    finally:
        app.state.webhook_resolver, app.state.webhook_networks = saved


def _url_refused(response: httpx.Response, fragment: str) -> None:
    body = assert_problem(response, 422)
    assert [e["field"] for e in body["errors"]] == ["url"], body
    assert fragment in body["errors"][0]["message"], body


async def test_the_secret_is_shown_once_and_never_again(client: httpx.AsyncClient) -> None:
    made = await client.post(HOOKS, json={"url": PUBLIC, "resources": ["villages"]})
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 40
    assert made.headers["location"] == f"{HOOKS}/{body['id']}"
    assert made.headers["cache-control"] == "no-store"
    assert body["resources"] == ["villages"] and body["active"] is True
    read = (await client.get(f"{HOOKS}/{body['id']}")).json()
    listed = (await client.get(HOOKS)).json()
    assert "secret" not in read and all("secret" not in s for s in listed)
    assert body["secret"] not in (await client.get(HOOKS)).text
    given = await client.post(HOOKS, json={"url": PUBLIC, "secret": "a-secret-of-my-own-choosing"})
    assert given.json()["secret"] == "a-secret-of-my-own-choosing"
    assert given.json()["resources"] is None  # every resource
    changed = await client.patch(f"{HOOKS}/{body['id']}", json={"secret": "another-secret-0123456789"})
    assert changed.status_code == 200 and "secret" not in changed.json()


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("http://127.0.0.1:9000/hook", "127.0.0.1"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("http://[fe80::1]/hook", "fe80::1"),
        ("http://[::1]/hook", "::1"),
        ("http://[::ffff:10.1.2.3]/hook", "10.1.2.3"),
        ("http://0.0.0.0/hook", "0.0.0.0"),
        ("http://224.0.0.1/hook", "224.0.0.1"),
        # Special-purpose ranges `is_global` wrongly calls global on some Pythons (CVE-2024-4032),
        # and IPv6 forms carrying a refused IPv4 address.
        ("http://192.0.0.192/", "192.0.0.192"),
        ("http://198.18.0.1/", "198.18.0.1"),
        ("http://100.100.100.200/", "100.100.100.200"),
        ("http://[2001:db8::1]/", "2001:db8::1"),
        ("http://[::127.0.0.1]/", "::7f00:1"),
        ("http://[64:ff9b::a9fe:a9fe]/", "64:ff9b::a9fe:a9fe"),
        ("http://[2002:a9fe:a9fe::]/", "2002:a9fe:a9fe::"),
        ("http://[::ffff:0:a9fe:a9fe]/", "::ffff:0:a9fe:a9fe"),
        ("https://internal.example/hook", "10.0.0.5"),  # a name resolving to a private address
        ("https://split.example/hook", "192.168.1.9"),  # one private answer is enough
        ("https://nowhere.example/hook", "does not resolve"),
        ("ftp://93.184.216.34/hook", "http:// or https://"),
        ("http://93.184.216.34:0/hook", "http:// or https://"),  # port 0: no port at all
        ("https://user:pw@93.184.216.34/hook", "user name or password"),
        ("not a url", "http:// or https://"),
    ],
)
async def test_urls_webhooks_may_not_reach_are_refused(
    client: httpx.AsyncClient, url: str, fragment: str
) -> None:
    _url_refused(await client.post(HOOKS, json={"url": url}), fragment)


@pytest.mark.parametrize(
    "address",
    [
        "192.0.0.192",
        "::7f00:1",
        "64:ff9b::a9fe:a9fe",
        "64:ff9b::808:808",
        "2002:a9fe:a9fe::",
        "::ffff:0:a9fe:a9fe",
    ],
)
def test_special_purpose_and_embedding_addresses_are_refused(address: str) -> None:
    assert not targets.allowed(ip_address(address), [])


def test_global_addresses_and_allowed_networks_pass() -> None:
    assert targets.allowed(ip_address("93.184.216.34"), [])
    assert targets.allowed(ip_address("2606:4700::6810:84e5"), [])
    assert targets.allowed(ip_address("192.0.0.192"), [ip_network("192.0.0.0/24")])


async def test_a_real_name_resolving_to_loopback_is_refused(client: httpx.AsyncClient, app: FastAPI) -> None:
    app.state.webhook_resolver = targets.system_resolver
    _url_refused(await client.post(HOOKS, json={"url": "http://localhost:8080/hook"}), "localhost")


async def test_allowed_networks_open_loopback(client: httpx.AsyncClient, app: FastAPI) -> None:
    app.state.webhook_networks = [ip_network("127.0.0.0/8")]
    assert (await client.post(HOOKS, json={"url": "http://127.0.0.1:9000/hook"})).status_code == 201
    _url_refused(await client.post(HOOKS, json={"url": "http://169.254.169.254/"}), "169.254.169.254")


async def test_change_and_remove_are_security_events(client: httpx.AsyncClient) -> None:
    made = (await client.post(HOOKS, json={"url": PUBLIC})).json()
    one = f"{HOOKS}/{made['id']}"
    _url_refused(await client.patch(one, json={"url": "http://10.0.0.1/"}), "10.0.0.1")
    changed = await client.patch(one, json={"active": False, "resources": ["villages", "cooperatives"]})
    assert changed.status_code == 200, changed.text
    assert changed.json()["active"] is False and changed.json()["resources"] == ["villages", "cooperatives"]
    assert (await client.patch(one, json={"resources": None})).json()["resources"] is None
    assert_problem(await client.patch(one, json={"resources": ["nothing"]}), 422)
    assert_problem(await client.patch(one, json={"colour": "red"}), 422)
    assert (await client.delete(one)).status_code == 204
    assert_problem(await client.get(one), 404)
    assert_problem(await client.delete(one), 404)
    trail = (await client.get(f"{API}/audit/security", params={"target": PUBLIC})).json()["items"]
    assert [e["action"] for e in reversed(trail)] == [
        "webhook_created",
        "webhook_changed",
        "webhook_changed",
        "webhook_deleted",
    ]
    assert trail[0]["target_kind"] == "webhook" and trail[0]["target_id"] == made["id"]
    assert trail[-2]["details"] == {"changed": ["resources", "active"]}


async def test_deliveries_of_nothing(client: httpx.AsyncClient) -> None:
    made = (await client.post(HOOKS, json={"url": PUBLIC})).json()
    page = await client.get(f"{HOOKS}/{made['id']}/deliveries", params={"status": "failed"})
    assert page.status_code == 200 and page.json() == {"items": [], "total": 0, "limit": 50, "offset": 0}
    assert_problem(await client.get(f"{HOOKS}/999999/deliveries"), 404)
    assert_problem(await client.post(f"{HOOKS}/{made['id']}/deliveries/999999/redeliver"), 404)
    assert_problem(await client.get(f"{HOOKS}/{made['id']}/deliveries", params={"status": "lost"}), 422)


async def test_only_administrators(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, db: AsyncSession
) -> None:
    made = (await client.post(HOOKS, json={"url": PUBLIC})).json()
    one = f"{HOOKS}/{made['id']}"
    _, secret = await key_for(db, Role.editor)
    routes = [
        ("GET", HOOKS, None),
        ("POST", HOOKS, {"url": PUBLIC}),
        ("GET", one, None),
        ("PATCH", one, {"active": False}),
        ("DELETE", one, None),
        ("GET", f"{one}/deliveries", None),
        ("POST", f"{one}/deliveries/1/redeliver", None),
    ]
    async with client_of(client, {"X-API-Key": secret}) as editor:
        for method, path, body in routes:
            assert_problem(await anonymous.request(method, path, json=body), 401)
            assert_problem(await editor.request(method, path, json=body), 403)
    assert (await client.get(one)).json()["active"] is True  # nothing changed
