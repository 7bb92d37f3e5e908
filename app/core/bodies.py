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
import re
from collections.abc import Callable, Coroutine, Iterable, Iterator
from itertools import accumulate
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


def _containers(document: Any) -> Iterator[tuple[Any, int, str]]:
    """Every object and array of the document, each with its parent's position in this order
    (-1 for none) and its key there; without recursion (the document may be deep)."""
    stack: list[tuple[Any, int, str]] = [(document, -1, "")]
    position = 0
    while stack:
        value, parent, key = stack.pop()
        yield value, parent, key
        if isinstance(value, dict):
            items: Iterable[tuple[str, Any]] = value.items()
        else:
            items = ((str(index), item) for index, item in enumerate(value))
        stack.extend((item, position, name) for name, item in items if isinstance(item, dict | list))
        position += 1


def check_json(body: bytes) -> None:
    """400 for a body that is not JSON or is nested more than MAX_DEPTH deep; 422 naming the
    path of each key given twice in one object."""
    repeated: dict[int, list[str]] = {}  # id() of an object -> its keys given more than once

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        found = dict(items)
        if len(found) != len(items):
            seen: set[str] = set()
            twice = repeated.setdefault(id(found), [])
            for key, _ in items:
                if key in seen and key not in twice:
                    twice.append(key)
                seen.add(key)
        return found

    too_deep = MalformedJson(tr("the request body is nested more than {depth} levels deep", depth=MAX_DEPTH))
    try:
        document = json.loads(body, object_pairs_hook=pairs)
    except RecursionError:
        raise too_deep from None
    except ValueError:  # JSONDecodeError, and UnicodeDecodeError for bytes that are not UTF-8
        raise MalformedJson(tr("the request body is not valid JSON")) from None
    if _depth(body) > MAX_DEPTH:
        raise too_deep
    if not repeated:
        return
    # Where each container sits (its parent and key), to name the path of a repeated key.
    places: list[tuple[int, str]] = []
    errors: list[FieldError] = []
    for value, parent, key in _containers(document):
        places.append((parent, key))
        for name in repeated.get(id(value), ()):
            errors.append(
                FieldError(
                    field=".".join([*_path(places, len(places) - 1), name]),
                    message=tr("the key {key} is given more than once", key=name),
                    location="body",
                )
            )
    if errors:
        raise InvalidInput(
            tr(
                "the request body gives a key more than once: {fields}",
                fields=", ".join(e.field for e in errors),
            ),
            errors=errors,
        )


_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"')
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def _depth(body: bytes) -> int:
    """How deeply the containers of a valid JSON document nest (the document itself is 1), read
    off its brackets outside strings: no walk of the parsed values, so a long array costs little."""
    brackets = _STRINGS.sub(b"", body).translate(None, delete=_NOT_BRACKETS)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def _path(places: list[tuple[int, str]], position: int) -> list[str]:
    """The keys from the document down to the container at `position`."""
    path: list[str] = []
    while position > 0:
        position, key = places[position]
        path.append(key)
    return path[::-1]


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
