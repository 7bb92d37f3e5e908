"""Request bodies checked before FastAPI reads them, so that a client learns what was wrong
with the body itself rather than a validation message about what it turned into:

* a body in a media type the operation does not take (none, text/plain, a form sent to a JSON
  operation, JSON sent to a form): 415, naming the accepted types (`accepted`, and
  `Accept-Post` or `Accept-Patch`);
* JSON that does not parse, or is nested deeper than any record: 400 malformed-json;
* an object with the same key twice, at any depth: 422 naming each such key's path (a parser
  would silently keep the last one).

`BodyRoute` is the route class of every API route (app.main mounts them with it).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

from fastapi import params
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from app.core.errors import AppError, FieldError, InvalidInput
from app.core.i18n import tr

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
# Deeper than any body the API takes (a record, its embedded lines and their fields): anything
# deeper is refused before validation walks it.
MAX_DEPTH = 32
ACCEPT_HEADERS = {"POST": "Accept-Post", "PATCH": "Accept-Patch", "PUT": "Accept-Put"}


class UnsupportedMediaType(AppError):
    status, slug = 415, "unsupported-media-type"


class MalformedJson(AppError):
    status, slug = 400, "malformed-json"


class _Object(dict[str, Any]):
    """A parsed JSON object that remembers the keys it was given more than once."""

    repeated: list[str]


def _pairs(pairs: list[tuple[str, Any]]) -> _Object:
    found = _Object(pairs)
    found.repeated = []
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen and key not in found.repeated:
                found.repeated.append(key)
            seen.add(key)
    return found


def _walk(document: Any) -> Iterator[tuple[list[str], Any]]:
    """Every value of the document with its path, without recursion (a deep document must not
    exhaust the stack); refuses a document nested deeper than MAX_DEPTH."""
    stack: list[tuple[list[str], Any]] = [([], document)]
    while stack:
        path, value = stack.pop()
        if len(path) > MAX_DEPTH:
            raise MalformedJson(
                tr("the request body is nested more than {depth} levels deep", depth=MAX_DEPTH)
            )
        yield path, value
        if isinstance(value, dict):
            stack.extend(([*path, str(k)], v) for k, v in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend(([*path, str(i)], v) for i, v in reversed(list(enumerate(value))))


def check_json(body: bytes) -> None:
    """400 for a body that is not JSON or is nested too deeply; 422 for repeated keys."""
    try:
        document = json.loads(body, object_pairs_hook=_pairs)
    except RecursionError:
        raise MalformedJson(
            tr("the request body is nested more than {depth} levels deep", depth=MAX_DEPTH)
        ) from None
    except ValueError:  # JSONDecodeError, and UnicodeDecodeError for bytes that are not UTF-8
        raise MalformedJson(tr("the request body is not valid JSON")) from None
    errors: list[FieldError] = []
    for path, value in _walk(document):
        if isinstance(value, _Object):
            errors.extend(
                FieldError(
                    field=".".join([*path, key]),
                    message=tr("the key {key} is given more than once", key=key),
                    location="body",
                )
                for key in value.repeated
            )
    if errors:
        raise InvalidInput(
            tr(
                "the request body gives a key more than once: {fields}",
                fields=", ".join(e.field for e in errors),
            ),
            errors=errors,
        )


def _media_type(header: str | None) -> str | None:
    if header is None:
        return None
    return header.split(";", 1)[0].strip().lower() or None


def _is_json(media_type: str) -> bool:
    return media_type == JSON or (media_type.startswith("application/") and media_type.endswith("+json"))


class BodyRoute(APIRoute):
    """An APIRoute whose request body is checked (media type, JSON syntax, repeated keys)
    before FastAPI parses and validates it."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if self.body_field is None:
            return handler
        info = self.body_field.field_info
        takes_form = isinstance(info, params.Form)
        accepted = [FORM, MULTIPART] if takes_form else [JSON]
        fields = [param.alias for param in self.dependant.body_params]
        if takes_form and {"username", "password"} <= set(fields):
            # The OAuth2 password grant (RFC 6749 §4.3.2): clients send grant_type=password too.
            fields.append("grant_type=password")

        async def checked(request: Request) -> Response:
            media_type = _media_type(request.headers.get("content-type"))
            body = await request.body()
            if body or media_type is not None:
                if media_type is None or (
                    media_type not in accepted and not (not takes_form and _is_json(media_type))
                ):
                    raise self._unsupported(request, media_type, accepted, fields, takes_form)
                if not takes_form:
                    check_json(body)
            return await handler(request)

        return checked

    @staticmethod
    def _unsupported(
        request: Request, media_type: str | None, accepted: list[str], fields: list[str], takes_form: bool
    ) -> UnsupportedMediaType:
        sent = media_type or tr("no Content-Type")
        if takes_form:
            detail = tr(
                "this operation takes form fields ({fields}) sent as {form}, not {sent}",
                fields=", ".join(fields),
                form=FORM,
                sent=sent,
            )
        else:
            detail = tr(
                "this operation takes a JSON body sent with Content-Type: {json}, not {sent}",
                json=JSON,
                sent=sent,
            )
        header = ACCEPT_HEADERS.get(request.method)
        return UnsupportedMediaType(
            detail,
            extra={"accepted": accepted},
            headers={header: ", ".join(accepted)} if header else None,
        )
