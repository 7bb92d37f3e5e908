"""/docs and /redoc load nothing from outside the service, under a strict Content-Security-Policy
(app/docs_ui). tests/browser/test_docs_in_chromium.py checks the same pages in a real browser."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.factories import assert_problem

PAGES = ["/docs", "/redoc"]
REFERENCE = re.compile(r"""(?:src|href)=["']([^"']+)["']""")


def policy(response: httpx.Response) -> dict[str, list[str]]:
    header = response.headers["content-security-policy"]
    directives = [part.split() for part in header.split(";") if part.strip()]
    return {d[0]: d[1:] for d in directives}


@pytest.mark.parametrize("url", PAGES)
async def test_page_references_only_its_own_assets(anonymous: httpx.AsyncClient, url: str) -> None:
    page = await anonymous.get(url)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    references = REFERENCE.findall(page.text)
    assert references, page.text
    for reference in references:
        assert reference.startswith("/docs/assets/"), reference
        asset = await anonymous.get(reference)
        assert asset.status_code == 200, reference
        assert asset.content, reference
    assert "http://" not in page.text and "https://" not in page.text
    assert "fonts.googleapis" not in page.text and "cdn.jsdelivr" not in page.text
    # Every script is a file: no inline script for the policy to allow.
    assert re.findall(r"<script(?![^>]*\bsrc=)", page.text) == []


@pytest.mark.parametrize("url", PAGES)
async def test_page_policy_allows_only_this_service(anonymous: httpx.AsyncClient, url: str) -> None:
    page = await anonymous.get(url)
    csp = policy(page)
    assert csp["default-src"] == ["'none'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["connect-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    for sources in csp.values():
        for source in sources:
            assert source in {"'self'", "'none'", "'unsafe-inline'", "data:", "blob:"}, (url, source)
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
    # One policy: the middleware's default is not added beside the page's own.
    assert page.headers.get_list("content-security-policy") == [page.headers["content-security-policy"]]


async def test_api_answers_keep_the_default_policy(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/health")
    assert response.headers["content-security-policy"] == "frame-ancestors 'none'"


async def test_assets_have_their_types(anonymous: httpx.AsyncClient) -> None:
    for name, kind in [
        ("swagger-ui-bundle.js", "text/javascript"),
        ("swagger-ui.css", "text/css"),
        ("redoc.standalone.js", "text/javascript"),
        ("swagger-init.js", "text/javascript"),
        ("redoc-init.js", "text/javascript"),
        ("favicon.png", "image/png"),
    ]:
        response = await anonymous.get(f"/docs/assets/{name}")
        assert response.status_code == 200, name
        assert response.headers["content-type"].startswith(kind), name


async def test_swagger_ui_asks_no_online_validator(anonymous: httpx.AsyncClient) -> None:
    script = (await anonymous.get("/docs/assets/swagger-init.js")).text
    assert "validatorUrl: null" in script


@pytest.mark.parametrize("name", ["nothing.js", "..%2Fmain.py", "%2E%2E%2F%2E%2E%2Fpyproject.toml"])
async def test_only_listed_assets_are_served(anonymous: httpx.AsyncClient, name: str) -> None:
    assert_problem(await anonymous.get(f"/docs/assets/{name}"), 404)


async def test_authorize_dialog_uses_the_password_flow(anonymous: httpx.AsyncClient) -> None:
    schemes = (await anonymous.get("/openapi.json")).json()["components"]["securitySchemes"]
    flows = [s["flows"] for s in schemes.values() if s["type"] == "oauth2"]
    assert flows == [{"password": {"scopes": {}, "tokenUrl": "/api/v1/auth/token"}}]


async def test_documentation_pages_are_not_in_the_api_document(anonymous: httpx.AsyncClient) -> None:
    paths = (await anonymous.get("/openapi.json")).json()["paths"]
    assert not {"/", "/docs", "/redoc", "/docs/assets/{name}"} & set(paths)
