"""GET /docs (Swagger UI), /redoc (ReDoc), their assets under /docs/assets/, and / → /docs.

Swagger UI's and ReDoc's scripts and styles are those the fastapi-offline package installs (MIT;
Swagger UI is Apache-2.0, ReDoc MIT); the two small start-up scripts are ours, in static/. Each
page has a Content-Security-Policy that lets it load and call only this service: no inline
script, no font, image or script from elsewhere (ReDoc's footer logo points at a CDN and is
refused by that policy, so the browser never asks for it).
"""

from __future__ import annotations

from html import escape
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from app.core.errors import NotFound
from app.core.i18n import tr

OURS = Path(__file__).resolve().parent / "static"
VENDORED = Path(fastapi_offline.__file__).resolve().parent / "static"
ASSETS: dict[str, tuple[Path, str]] = {
    "swagger-ui-bundle.js": (VENDORED / "swagger-ui-bundle.js", "text/javascript"),
    "swagger-ui.css": (VENDORED / "swagger-ui.css", "text/css"),
    "redoc.standalone.js": (VENDORED / "redoc.standalone.js", "text/javascript"),
    "favicon.png": (VENDORED / "favicon.png", "image/png"),
    "swagger-init.js": (OURS / "swagger-init.js", "text/javascript"),
    "redoc-init.js": (OURS / "redoc-init.js", "text/javascript"),
}

_COMMON = (
    "default-src 'none'",
    "script-src 'self'",
    "connect-src 'self'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
)
SWAGGER_CSP = "; ".join((*_COMMON, "style-src 'self'"))
# ReDoc styles itself with <style> elements it writes at run time (styled-components), and runs
# its search in a web worker made from a blob: URL (local, never a request).
REDOC_CSP = "; ".join((*_COMMON, "style-src 'self' 'unsafe-inline'", "worker-src 'self' blob:"))

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" type="image/png" href="{assets}/favicon.png">
{head}
</head>
<body>
<div id="{element}" data-openapi-url="{openapi}"></div>
{scripts}
</body>
</html>
"""


def docs_router(title: str, openapi_url: str) -> APIRouter:
    """The documentation pages for the OpenAPI document at `openapi_url`."""
    router = APIRouter(include_in_schema=False)

    def page(
        request: Request, name: str, element: str, head: str, scripts: list[str], csp: str
    ) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        assets = f"{root}/docs/assets"
        body = PAGE.format(
            title=escape(f"{title} - {name}"),
            assets=assets,
            head=head.format(assets=assets),
            element=element,
            openapi=escape(root + openapi_url),
            scripts="\n".join(f'<script src="{assets}/{script}"></script>' for script in scripts),
        )
        return HTMLResponse(body, headers={"Content-Security-Policy": csp})

    @router.get("/", name="docs_home")
    async def home(request: Request) -> RedirectResponse:
        # A path, never an address built from the request's Host header.
        return RedirectResponse(request.scope.get("root_path", "") + "/docs", status_code=307)

    @router.get("/docs", name="swagger_ui")
    async def swagger_ui(request: Request) -> HTMLResponse:
        head = '<link rel="stylesheet" href="{assets}/swagger-ui.css">'
        scripts = ["swagger-ui-bundle.js", "swagger-init.js"]
        return page(request, "Swagger UI", "swagger-ui", head, scripts, SWAGGER_CSP)

    @router.get("/redoc", name="redoc")
    async def redoc(request: Request) -> HTMLResponse:
        scripts = ["redoc.standalone.js", "redoc-init.js"]
        return page(request, "ReDoc", "redoc", "", scripts, REDOC_CSP)

    @router.get("/docs/assets/{name}", name="docs_asset")
    async def asset(name: str) -> FileResponse:
        found = ASSETS.get(name)
        if found is None:
            raise NotFound(tr("no documentation asset named {name}", name=name))
        path, media_type = found
        return FileResponse(path, media_type=media_type, headers={"Cache-Control": "public, max-age=3600"})

    return router
