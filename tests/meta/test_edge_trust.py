"""What the service believes of a request's edge: /metrics only for allowed networks or the
metrics token, and links that never name the host the Host header claims (issue 13, 7 and 8)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.core.settings import Settings
from app.main import create_app
from tests.conftest import client_in_transaction
from tests.factories import API, assert_problem

OUTSIDER = ("203.0.113.5", 1234)  # TEST-NET-3: not loopback
TOKEN = "s3cret-metrics-token-0123456789"
EVIL = "evil.example"
PROVINCE = {"code": "99", "name": "Tỉnh thử", "level": "province"}


@asynccontextmanager
async def served(
    database_url: str, client: tuple[str, int] = OUTSIDER, **settings: object
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app with these settings, connecting from `client` (no database use)."""
    app = create_app(Settings(database_url=database_url, **settings))  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=app, client=client)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


# -- /metrics --------------------------------------------------------------------------------


async def test_metrics_refused_to_an_outside_address_by_default(database_url: str) -> None:
    async with served(database_url) as http:
        response = await http.get("/metrics")
    body = assert_problem(response, 403)
    assert "http_requests_total" not in response.text
    assert body["instance"] == "/metrics"


async def test_metrics_answered_on_loopback_by_default(database_url: str) -> None:
    for client in [("127.0.0.1", 5000), ("::1", 5000), ("::ffff:127.0.0.1", 5000)]:
        async with served(database_url, client) as http:
            response = await http.get("/metrics")
        assert response.status_code == 200, client
        assert "http_requests_total" in response.text


async def test_metrics_allowed_networks_are_configurable(database_url: str) -> None:
    async with served(database_url, metrics_allowed_networks=["203.0.113.0/24"]) as http:
        assert (await http.get("/metrics")).status_code == 200
    async with served(database_url, ("127.0.0.1", 5000), metrics_allowed_networks=["10.0.0.0/8"]) as http:
        assert_problem(await http.get("/metrics"), 403)


async def test_metrics_token_opens_them_from_anywhere(database_url: str) -> None:
    async with served(database_url, metrics_token=TOKEN) as http:
        ok = await http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert ok.status_code == 200 and "http_requests_total" in ok.text
        for headers in [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}]:
            refused = await http.get("/metrics", headers=headers)
            assert_problem(refused, 401)
            assert refused.headers["www-authenticate"].startswith("Bearer")
            assert "http_requests_total" not in refused.text
    # Loopback needs no token even when one is configured.
    async with served(database_url, ("127.0.0.1", 5000), metrics_token=TOKEN) as http:
        assert (await http.get("/metrics")).status_code == 200


def test_metrics_settings_are_checked() -> None:
    with pytest.raises(ValidationError):
        Settings(metrics_token="short")
    with pytest.raises(ValidationError):
        Settings(metrics_allowed_networks=["not a network"])
    assert Settings(metrics_token="").metrics_token is None


# -- Host is never reflected -----------------------------------------------------------------


def assert_no_host(response: httpx.Response, host: str = EVIL) -> None:
    for name, value in response.headers.items():
        assert host not in value, (name, value)


async def test_links_and_locations_never_name_the_host_header(
    client: httpx.AsyncClient, base: AsyncSession
) -> None:
    evil = {"Host": EVIL}
    created = await client.post(f"{API}/admin-units", json=PROVINCE, headers=evil)
    assert created.status_code == 201, created.text
    assert_no_host(created)
    assert created.headers["location"] == f"{API}/admin-units/{created.json()['id']}"
    listing = await client.get(f"{API}/villages", params={"limit": 1, "offset": 1}, headers=evil)
    assert listing.status_code == 200
    assert_no_host(listing)
    links = listing.headers["link"]
    assert f'<{API}/villages?limit=1&offset=0>; rel="first"' in links
    assert f'<{API}/villages?limit=1&offset=0>; rel="prev"' in links
    audit = await client.get(f"{API}/audit", params={"limit": 1}, headers=evil)
    assert audit.status_code == 200
    assert_no_host(audit)
    assert audit.headers["link"].startswith(f'<{API}/audit?limit=1&offset=0>; rel="first"')


async def test_links_keep_the_other_query_parameters(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/villages", params={"q": "vân", "limit": 2})
    first = response.headers["link"].split(",")[0]
    assert first == f'<{API}/villages?q=v%C3%A2n&limit=2&offset=0>; rel="first"'


@asynccontextmanager
async def public_client(
    database_url: str, db: AsyncSession, engine: AsyncEngine, public_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = create_app(Settings(database_url=database_url, public_url=public_url))
    async with client_in_transaction(app, db, engine) as http:
        yield http


async def test_links_start_with_public_url_when_configured(
    database_url: str, db: AsyncSession, engine: AsyncEngine, base: AsyncSession
) -> None:
    root = "https://congthuong.example.gov.vn/du-lieu"
    async with public_client(database_url, db, engine, root + "/") as http:
        evil = {"Host": EVIL}
        created = await http.post(f"{API}/admin-units", json=PROVINCE, headers=evil)
        assert created.status_code == 201, created.text
        assert created.headers["location"] == f"{root}{API}/admin-units/{created.json()['id']}"
        listing = await http.get(f"{API}/villages", params={"limit": 1}, headers=evil)
        audit = await http.get(f"{API}/audit", headers=evil)
        for response in (created, listing, audit):
            assert_no_host(response)
        for header in (listing.headers["link"], audit.headers["link"]):
            targets = [part.split(">")[0].strip().lstrip("<") for part in header.split(",")]
            assert targets and all(t.startswith(root + API + "/") for t in targets), targets


@pytest.mark.parametrize(
    "url",
    [
        "ftp://congthuong.example.gov.vn",
        "https://congthuong.example.gov.vn/?a=1",
        "https://congthuong.example.gov.vn/#top",
        "/relative/only",
        "https://user:pw@congthuong.example.gov.vn",
    ],
)
def test_public_url_is_checked(url: str) -> None:
    with pytest.raises(ValidationError):
        Settings(public_url=url)


async def test_trailing_slash_is_a_404_problem_not_a_redirect(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get(f"{API}/villages/", headers={"Host": EVIL})
    assert_problem(response, 404)
    assert "location" not in response.headers
    assert_no_host(response)


async def test_home_redirects_to_docs_by_path(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/", headers={"Host": EVIL})
    assert response.status_code in (302, 307)
    assert response.headers["location"] == "/docs"
