"""Pure ASGI middleware (no per-request task or body buffering)."""

from __future__ import annotations

import time
from typing import Any

from fastapi.routing import iter_route_contexts
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import BodyTooLarge
from app.core.i18n import tr
from app.core.observability import IN_FLIGHT, REQUEST_ID, access_log, observe, request_id_from
from app.core.problems import language_of, problem


class Edge:
    """Everything done around each HTTP request, in one layer (each layer costs every request):

    * X-Request-ID: the client's when sensible, else a new one; on the response, in the logs.
    * HEAD answered as GET without the body (RFC 9110 §9.3.2): same status and headers.
    * Request bodies over `limit` bytes refused with a 413 problem: at once when Content-Length
      says so, otherwise (chunked) as soon as the bytes read pass it; nothing processed.
    * Security headers on every response; answers to authenticated requests never stored.
    * Metrics (count and latency by route template and status) and a one-line JSON access log.
    """

    SECURITY = (
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"content-security-policy", b"frame-ancestors 'none'"),
        (b"referrer-policy", b"no-referrer"),
    )

    def __init__(
        self, app: ASGIApp, *, limit: int, access_log: bool = True, larger: dict[str, int] | None = None
    ) -> None:
        self.app = app
        self.limit = limit
        # Paths whose bodies may be larger (a spreadsheet's upload), and their own limit.
        self.larger = larger or {}
        self.access_log = access_log
        self._templates: dict[int, str] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: PLR0915
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = request_id_from(scope["headers"])
        token = REQUEST_ID.set(request_id)
        method = scope["method"]
        head = method == "HEAD"
        inner: Scope = {**scope, "method": "GET"} if head else scope
        state = inner.setdefault("state", {})
        state["request_id"] = request_id
        status = 500
        refused = False
        seen = 0
        limit = self.larger.get(scope["path"], self.limit)

        async def respond(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # Set by app.kit.principal when the request's credential was checked (writes, admin).
                authenticated = "principal" in state
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k != b"cache-control" or not authenticated
                ]
                # A response with its own policy (the documentation pages) keeps it; that policy
                # says frame-ancestors 'none' too.
                own_policy = any(k == b"content-security-policy" for k, _ in headers)
                headers.extend(
                    h for h in self.SECURITY if not own_policy or h[0] != b"content-security-policy"
                )
                headers.append((b"x-request-id", request_id.encode()))
                if authenticated:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            elif head and message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            if not refused:
                await send(message)

        async def counted() -> Message:
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit and not refused:
                    # Answer now: the framework would turn the exception into a generic 400.
                    await self._refuse(inner, respond, limit)
                    refused = True
                    raise BodyTooLarge
            return message

        IN_FLIGHT.inc()
        try:
            if self._declared_too_large(scope, limit):
                await self._refuse(inner, respond, limit)
            else:
                await self.app(inner, counted, respond)
        finally:
            IN_FLIGHT.dec()
            app = scope.get("app")
            route = self._template(app, inner.get("route"))
            engine = getattr(app.state, "engine", None) if app is not None else None
            elapsed = observe(method, route, status, started, engine.pool if engine is not None else None)
            if self.access_log:
                client = scope.get("client")
                access_log.info(
                    "request",
                    extra={
                        "request_id": request_id,
                        "method": method,
                        "path": scope["path"],
                        "route": route,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                        "client": client[0] if client else None,
                    },
                )
            REQUEST_ID.reset(token)

    def _template(self, app: Any, route: Any) -> str:
        """The matched route's full path template (a bounded set of metric labels), prefix of
        its included router and all; "unmatched" when no route matched."""
        if route is None:
            return "unmatched"
        found = self._templates.get(id(route))
        if found is None and app is not None:
            for context in iter_route_contexts(app.routes):
                original = getattr(context, "original_route", context)
                self._templates[id(original)] = context.path or "unmatched"
            found = self._templates.setdefault(id(route), getattr(route, "path", "unmatched"))
        return found or "unmatched"

    def _declared_too_large(self, scope: Scope, limit: int) -> bool:
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit() or int(value) > limit):
                return True
        return False

    async def _refuse(self, scope: Scope, send: Send, limit: int) -> None:
        response = problem(
            413,
            tr("the request body is over {limit} bytes", limit=limit),
            instance=scope["path"],
            slug="too-large",
            language=language_of(HTTPConnection(scope)),
        )
        await response(scope, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}
