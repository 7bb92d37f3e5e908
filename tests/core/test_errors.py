"""Hostile input never gives a 5xx, never leaks internals, and always answers in one problem format
(app/core/handlers.py, app/core/problems.py), for the fields, queries and ids of every resource."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import (
    API,
    PATHS,
    Places,
    assert_invalid,
    assert_problem,
    create,
    facts,
    paths_where,
    places,
    snapshot,
    valid_body,
)


def with_money(path: str, value: Any) -> dict[str, Any]:
    """A one-field body setting the resource's money (a funding line's amount for programmes) to `value`."""
    known = facts(path)
    if known.money_line is not None:
        return known.money_line(value)
    assert known.money_field is not None
    return {known.money_field: value}


@dataclass(frozen=True)
class Target:
    """A resource under attack: its path, the places its records refer to, one record of it."""

    path: str
    at: Places
    existing: dict[str, Any]

    def base(self, method: str) -> dict[str, Any]:
        """What a hostile body adds to: a valid new record for POST, nothing for PATCH."""
        return valid_body(self.path, self.at, 2) if method == "POST" else {}


@pytest.fixture
async def target(client: httpx.AsyncClient, request: pytest.FixtureRequest) -> Target:
    """The parametrised resource, with places and one record of it."""
    path: str = request.param
    at = await places(client)
    return Target(path, at, await create(client, path, valid_body(path, at, 1)))


async def send(
    client: httpx.AsyncClient, method: str, path: str, record: dict[str, Any], body: dict[str, Any] | bytes
) -> httpx.Response:
    """POST a new record or PATCH the existing one with this body (JSON, or raw bytes sent as JSON)."""
    url = f"{API}/{path}" if method == "POST" else f"{API}/{path}/{record['id']}"
    if isinstance(body, bytes):
        return await client.request(method, url, content=body, headers={"content-type": "application/json"})
    return await client.request(method, url, json=body)


def raw(obj: dict[str, Any], **literals: str) -> bytes:
    """JSON text of obj with some members given as literal JSON text (NaN, lone surrogates...)."""
    text = json.dumps(obj)[:-1]
    extra = ", ".join(f'"{k}": {v}' for k, v in literals.items())
    return (text + (", " if obj and extra else "") + extra + "}").encode()


METHODS = ["POST", "PATCH"]


@pytest.mark.parametrize("target", PATHS, indirect=True)
@pytest.mark.parametrize("method", METHODS)
async def test_hostile_text(client: httpx.AsyncClient, db: AsyncSession, target: Target, method: str) -> None:
    path, existing, at_least = target.path, target.existing, target.base(method)
    field = facts(path).text_field
    before = await snapshot(db)
    for value in ["a\x00b", "\x00", "x" * 100_000, "é" * 50_000]:
        response = await send(client, method, path, existing, {**at_least, field: value})
        assert_invalid(response, field)
    for literal in ['"\\ud800"', '"a\\udfffb"', '"\\u0000"']:
        response = await send(client, method, path, existing, raw(at_least, **{field: literal}))
        assert_invalid(response, field)
    # A lone surrogate as a member name, and as a whole body.
    assert_problem(await send(client, method, path, existing, b'{"\\udc00": 1}'), 422)
    assert_problem(await send(client, method, path, existing, b'"\\ud800"'), 422)
    assert await snapshot(db) == before


HOSTILE_INTEGERS: list[Any] = [2**31, 2**63, -(2**63) - 1, 10**30, -1, 1.5, 12.0, "100", "12", True, [], {}]


@pytest.mark.parametrize("target", PATHS, indirect=True)
@pytest.mark.parametrize("method", METHODS)
async def test_hostile_integers(
    client: httpx.AsyncClient, db: AsyncSession, target: Target, method: str
) -> None:
    path, existing, base = target.path, target.existing, target.base(method)
    field = facts(path).integer_field
    before = await snapshot(db)
    for hostile in HOSTILE_INTEGERS:
        # For an id, 2**31 is valid but of nothing; it is refused all the same.
        response = await send(client, method, path, existing, {**base, field: hostile})
        assert_invalid(response, field)
    for literal in ["NaN", "Infinity", "-Infinity", "1e400", "1" * 5000]:
        response = await send(client, method, path, existing, raw(base, **{field: literal}))
        assert response.status_code in (400, 422), (literal, response.text)
        assert_problem(response, response.status_code)
    assert await snapshot(db) == before


@pytest.mark.parametrize("target", paths_where(lambda known: known.money_field is not None), indirect=True)
@pytest.mark.parametrize("method", METHODS)
async def test_money_must_be_a_whole_json_integer(
    client: httpx.AsyncClient, db: AsyncSession, target: Target, method: str
) -> None:
    path, existing, base = target.path, target.existing, target.base(method)
    known = facts(path)
    field = known.money_field
    assert field is not None  # the parametrisation takes only the resources that have money
    before = await snapshot(db)
    for value in [1.5, 100.0, 4.1e12, "100", "4100000000000", True, False, 2**63, 10**30, -1, None, [1]]:
        if value is None and known.money_line is None:
            continue  # money may be unknown (null) on a record, not on a funding line
        response = await send(client, method, path, existing, {**base, **with_money(path, value)})
        assert_invalid(response, field)
    assert await snapshot(db) == before
    largest = 9_223_372_036_854_775_807
    response = await send(client, method, path, existing, {**base, **with_money(path, largest)})
    assert response.status_code == (201 if method == "POST" else 200), response.text
    assert str(largest) in response.text


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
async def test_latitude_must_be_finite(
    client: httpx.AsyncClient, db: AsyncSession, method: str, literal: str
) -> None:
    at = await places(client)
    base = valid_body("villages", at, 2) if method == "POST" else {}
    before = await snapshot(db)
    body = raw({**base, "longitude": 106.2}, latitude=literal)
    response = await send(client, method, "villages", at.village, body)
    assert_invalid(response, "latitude")
    assert await snapshot(db) == before


MALFORMED = [
    b'{"name": ',
    b"{name: 1}",
    b"{'name': 'x'}",
    b'{"name": "x",}',
    b'{"a": 1} {"b": 2}',
    b"\xff\xfe\x00",
    b'{"name": "\xff"}',
    b"[" * 100_000,
    b'{"name": "x"',
]


@pytest.mark.parametrize("target", PATHS, indirect=True)
@pytest.mark.parametrize("method", METHODS)
async def test_malformed_json_is_400(
    client: httpx.AsyncClient, db: AsyncSession, target: Target, method: str
) -> None:
    path, existing = target.path, target.existing
    before = await snapshot(db)
    for body in MALFORMED:
        assert_problem(await send(client, method, path, existing, body), 400)
    assert await snapshot(db) == before


@pytest.mark.parametrize("target", PATHS, indirect=True)
@pytest.mark.parametrize("method", METHODS)
async def test_a_body_that_is_not_an_object_is_refused(
    client: httpx.AsyncClient, db: AsyncSession, target: Target, method: str
) -> None:
    path, existing = target.path, target.existing
    before = await snapshot(db)
    for body in [b"[]", b"null", b"1", b'"text"', b"true"]:
        assert_problem(await send(client, method, path, existing, body), 422)
    empty = await send(client, method, path, existing, b"")
    assert_problem(empty, empty.status_code)
    assert 400 <= empty.status_code < 500
    url = f"{API}/{path}" if method == "POST" else f"{API}/{path}/{existing['id']}"
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ]:
        response = await client.request(
            method, url, content=b'{"name": "x"}', headers={"content-type": content_type}
        )
        assert_problem(response, response.status_code)
        assert 400 <= response.status_code < 500, (content_type, response.status_code)
    assert await snapshot(db) == before


@pytest.mark.parametrize("path", PATHS)
async def test_unknown_query_parameters_are_422(client: httpx.AsyncClient, path: str) -> None:
    for query in ["colour=red", "LIMIT=5", "page=2", "search=x", "limit=5&Limit=6", "sort_by=name"]:
        name = query.split("=")[0] if query != "limit=5&Limit=6" else "Limit"
        assert_invalid(await client.get(f"{API}/{path}?{query}"), name, location="query")


@pytest.mark.parametrize("path", PATHS)
async def test_hostile_query_values(client: httpx.AsyncClient, path: str) -> None:
    for query in [
        "limit=9223372036854775808",
        "limit=" + "9" * 5000,
        "offset=1e3",
        "q=" + "x" * 60_000,  # httpx refuses URLs over 64 kB
        "q=%00",
        "sort=" + "a" * 600,
        "sort=%00",
    ]:
        response = await client.get(f"{API}/{path}?{query}")
        assert_invalid(response, query.split("=")[0], location="query")


@pytest.mark.parametrize("path", PATHS)
async def test_hostile_ids_in_the_path(client: httpx.AsyncClient, path: str) -> None:
    for record_id in [
        "-1",
        "0",
        "-9223372036854775808",
        "9223372036854775808",
        "9" * 400,
        "1%00",
        "1;DROP",
        "١",
    ]:
        for method in ["GET", "PATCH", "DELETE"]:
            response = await client.request(
                method, f"{API}/{path}/{record_id}", json={} if method == "PATCH" else None
            )
            assert_invalid(response, "record_id", location="path")


@pytest.mark.parametrize("path", PATHS)
async def test_wrong_method_is_405_naming_the_allowed(client: httpx.AsyncClient, path: str) -> None:
    for method, url, allowed in [
        ("PUT", f"{API}/{path}", {"GET", "POST"}),
        ("DELETE", f"{API}/{path}", {"GET", "POST"}),
        ("PATCH", f"{API}/{path}", {"GET", "POST"}),
        ("PUT", f"{API}/{path}/1", {"GET", "PATCH", "DELETE"}),
        ("POST", f"{API}/{path}/1", {"GET", "PATCH", "DELETE"}),
    ]:
        response = await client.request(method, url, json={})
        problem = assert_problem(response, 405)
        assert method in problem["detail"]
        assert allowed <= {m.strip() for m in response.headers["allow"].split(",")}, response.headers


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/nothing",
        "/api/v2/villages",
        "/api/v1/villages/1/extra",
        "/api/v1/meta/nothing",
        "/%00",
        "/api/v1/" + "x" * 10_000,
    ],
)
async def test_unknown_route_is_404(client: httpx.AsyncClient, url: str) -> None:
    problem = assert_problem(await client.get(url), 404)
    assert problem["type"] == "about:blank"
    assert problem["title"] == "Not Found"


async def test_database_refusal_is_a_problem_without_driver_text(client: httpx.AsyncClient) -> None:
    """A rule only the database knows (not own parent) comes back as a plain 422 problem."""
    unit = await create(client, "admin-units", {"code": "36", "name": "Nam Định", "level": "province"})
    response = await client.patch(f"{API}/admin-units/{unit['id']}", json={"parent_id": unit["id"]})
    problem = assert_problem(response, 422)
    assert problem["type"].endswith("validation-failed")
    for word in ("CHECK", "violates", 'constraint "', "DETAIL", "INSERT", "UPDATE"):
        assert word not in problem["detail"], word
