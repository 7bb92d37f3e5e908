"""Pure ASGI middleware (no per-request task or body buffering)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    """HEAD is answered as GET without the body (RFC 9110 §9.3.2): same status and headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_headers_only)


class SecurityHeaders:
    """Headers every response carries; answers to authenticated requests are never stored."""

    COMMON = (
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"content-security-policy", b"frame-ancestors 'none'"),
        (b"referrer-policy", b"no-referrer"),
    )

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def add_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Set by app.auth when the request's credential was checked (writes, admin).
                authenticated = "principal" in scope.get("state", {})
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k != b"cache-control" or not authenticated
                ]
                headers.extend(self.COMMON)
                if authenticated:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, add_headers)


class BodyTooLarge(Exception):
    """Raised while reading a request body past the limit (rendered as a 413 problem)."""


class BodyLimit:
    """Refuse request bodies over `limit` bytes: at once when Content-Length says so, otherwise
    (chunked) as soon as the bytes read pass it. Either way a 413 problem, nothing processed."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit() or int(value) > self.limit):
                await self._refuse(scope, send)
                return
        seen = 0
        refused = False

        async def counted() -> Message:
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit and not refused:
                    # Answer now: the framework would turn the exception into a generic 400.
                    refused = True
                    await self._refuse(scope, send)
                    raise BodyTooLarge
            return message

        async def unless_refused(message: Message) -> None:
            if not refused:
                await send(message)

        await self.app(scope, counted, unless_refused)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        from app.errors import problem

        response = problem(413, f"the request body is over {self.limit} bytes", instance=scope["path"])
        await response(scope, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}
