"""The protections every response carries (app/core/middleware.py, app/main.py): security headers,
CORS for the configured origins only, and the one-mebibyte body limit."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.settings import Settings
from app.main import create_app
from tests.factories import API, assert_problem, snapshot


async def test_security_headers_on_every_response(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    responses = [
        await anonymous.get(f"{API}/villages"),
        await anonymous.get(f"{API}/villages/999999"),
        await anonymous.post(f"{API}/villages", json={}),
        await client.get(f"{API}/admin/keys"),
        await client.post(f"{API}/admin-units", json={"code": "36", "name": "Nam Định", "level": "province"}),
    ]
    for response in responses:
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert responses[0].headers.get("cache-control") != "no-store"  # public reads may be cached
    assert responses[3].headers["cache-control"] == "no-store"
    assert responses[4].status_code == 201 and responses[4].headers["cache-control"] == "no-store"


def preflight(origin: str) -> dict[str, str]:
    return {"Origin": origin, "Access-Control-Request-Method": "PATCH"}


async def cors_client(database_url: str, origins: list[str]) -> tuple[FastAPI, httpx.AsyncClient]:
    app = create_app(Settings(database_url=database_url, cors_origins=origins))
    return app, httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def test_cors_allows_only_configured_origins(database_url: str, client: httpx.AsyncClient) -> None:
    _, http = await cors_client(database_url, ["https://sct.namdinh.gov.vn"])
    async with http:
        ok = await http.options(f"{API}/villages/1", headers=preflight("https://sct.namdinh.gov.vn"))
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == "https://sct.namdinh.gov.vn"
        assert ok.headers["access-control-allow-credentials"] == "true"
        assert "PATCH" in ok.headers["access-control-allow-methods"]
        evil = await http.options(f"{API}/villages/1", headers=preflight("https://evil.example"))
        assert "access-control-allow-origin" not in evil.headers
    # None by default.
    default = await client.get(f"{API}/villages", headers={"Origin": "https://sct.namdinh.gov.vn"})
    assert "access-control-allow-origin" not in default.headers


async def test_cors_wildcard_never_with_credentials(database_url: str) -> None:
    _, http = await cors_client(database_url, ["*"])
    async with http:
        response = await http.options(f"{API}/villages", headers=preflight("https://any.example"))
        assert response.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in response.headers


async def test_bodies_over_one_mebibyte_are_refused(client: httpx.AsyncClient, db: AsyncSession) -> None:
    before = await snapshot(db)
    big = b'{"name": "' + b"x" * (1_048_576 + 10) + b'"}'
    declared = await client.post(f"{API}/villages", content=big, headers={"Content-Type": "application/json"})
    assert_problem(declared, 413)
    assert declared.headers["x-content-type-options"] == "nosniff"

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(big), 65_536):
            yield big[start : start + 65_536]

    chunked = await client.post(
        f"{API}/villages", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in chunked.request.headers
    assert chunked.status_code == 413, chunked.text
    assert chunked.headers["content-type"] == "application/problem+json"
    assert chunked.json()["status"] == 413
    assert await snapshot(db) == before
    # Just under the limit is read (and judged on its content).
    fits = await client.post(
        f"{API}/villages",
        content=big[: 1_048_576 - 100] + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert fits.status_code == 422
