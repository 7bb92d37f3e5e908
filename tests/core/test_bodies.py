"""Request bodies: the media type an operation takes (415), JSON that does not parse or is nested
too deeply (400 malformed-json), keys given twice (422), all before the body is validated."""

from __future__ import annotations

import json

import httpx
from fastapi import FastAPI

from tests.factories import API, assert_problem, places, programme_body, village_body

PROBLEM = "urn:craftvillage:problem:"
VILLAGES = f"{API}/villages"
TOKEN = f"{API}/auth/token"


async def test_a_json_body_without_content_type_is_415_naming_the_accepted_type(
    client: httpx.AsyncClient,
) -> None:
    at = await places(client)
    body = json.dumps(village_body(at.district["id"], "Làng Không Nhãn")).encode()
    refused = assert_problem(await client.post(VILLAGES, content=body), 415)
    assert refused["type"] == PROBLEM + "unsupported-media-type"
    assert refused["accepted"] == ["application/json"]
    assert "Content-Type: application/json" in refused["detail"]
    response = await client.post(VILLAGES, content=body)
    assert response.headers["accept-post"] == "application/json"
    # The same bytes with the header are accepted, a charset parameter included.
    made = await client.post(
        VILLAGES, content=body, headers={"Content-Type": "application/json; charset=utf-8"}
    )
    assert made.status_code == 201, made.text


async def test_text_and_forms_on_a_json_operation_are_415(client: httpx.AsyncClient) -> None:
    at = await places(client)
    url = f"{VILLAGES}/{at.village_id}"
    text_body = await client.patch(
        url, content=b'{"households_total": 40}', headers={"Content-Type": "text/plain"}
    )
    refused = assert_problem(text_body, 415)
    assert refused["accepted"] == ["application/json"] and "text/plain" in refused["detail"]
    assert text_body.headers["accept-patch"] == "application/json"
    form = assert_problem(await client.post(VILLAGES, data={"name": "Làng Biểu Mẫu"}), 415)
    assert "application/x-www-form-urlencoded" in form["detail"]
    assert (await client.get(url)).json()["version"] == 1  # nothing was changed


async def test_json_sent_to_the_sign_in_form_is_415_naming_its_fields(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.post(TOKEN, json={"username": "hoa", "password": "mat-khau-dai"})
    refused = assert_problem(response, 415)
    assert refused["type"] == PROBLEM + "unsupported-media-type"
    assert "application/x-www-form-urlencoded" in refused["accepted"]
    for part in ("application/x-www-form-urlencoded", "username", "password", "grant_type=password"):
        assert part in refused["detail"], refused["detail"]
    assert response.headers["accept-post"] == ", ".join(refused["accepted"])


async def test_deeply_nested_json_is_malformed_json(client: httpx.AsyncClient) -> None:
    # Deeper than the parser's recursion limit, and merely deeper than any record.
    for body in (b"[" * 100_000 + b"]" * 100_000, b'{"name": ' + b"[" * 40 + b"]" * 40 + b"}"):
        response = await client.post(VILLAGES, content=body, headers={"Content-Type": "application/json"})
        refused = assert_problem(response, 400)
        assert refused["type"] == PROBLEM + "malformed-json", refused
        assert "nested" in refused["detail"]


async def test_the_depth_limit_counts_containers_not_brackets_in_strings(client: httpx.AsyncClient) -> None:
    """The document is level 1; level 32 passes the check (and meets validation: 422), level 33
    does not (400). Brackets inside strings are text, not nesting."""
    headers = {"Content-Type": "application/json"}
    at_the_limit = b'{"name": ' + b"[" * 31 + b"]" * 31 + b"}"
    assert assert_problem(await client.post(VILLAGES, content=at_the_limit, headers=headers), 422)
    past_it = b'{"name": ' + b"[" * 32 + b"]" * 32 + b"}"
    assert assert_problem(await client.post(VILLAGES, content=past_it, headers=headers), 400)
    text = b'{"name": "' + b"[" * 100 + b'", "notes": "{{{{\\"[[["}'
    assert assert_problem(await client.post(VILLAGES, content=text, headers=headers), 422)


async def test_malformed_json_and_bytes_that_are_not_utf8(client: httpx.AsyncClient) -> None:
    for body in (b'{"name": ', b"\xff\xfe{}", b"{'name': 1}"):
        response = await client.post(VILLAGES, content=body, headers={"Content-Type": "application/json"})
        assert assert_problem(response, 400)["type"] == PROBLEM + "malformed-json"


async def test_a_key_given_twice_is_422_naming_it_at_any_depth(client: httpx.AsyncClient) -> None:
    at = await places(client)
    twice = (
        b'{"name": "a", "name": "b", "district_id": %d, "craft_group": "manufacturing"}' % at.district["id"]
    )
    response = await client.post(VILLAGES, content=twice, headers={"Content-Type": "application/json"})
    refused = assert_problem(response, 422)
    assert refused["type"] == PROBLEM + "validation-failed"
    assert refused["errors"] == [
        {"field": "name", "message": "the key name is given more than once", "location": "body"}
    ]

    body = json.dumps(programme_body(funding=[{"source": "central", "amount_vnd": 1}]))
    nested = body.replace('"source": "central"', '"source": "central", "source": "provincial"')
    assert nested != body
    response = await client.post(
        f"{API}/programmes", content=nested, headers={"Content-Type": "application/json"}
    )
    refused = assert_problem(response, 422)
    assert [e["field"] for e in refused["errors"]] == ["funding.0.source"]
    assert "funding.0.source" in refused["detail"]
    assert (await client.get(f"{API}/programmes")).json()["total"] == 0


async def test_the_size_limit_still_answers_413_first(client: httpx.AsyncClient) -> None:
    huge = b"x" * (2 * 1024 * 1024)
    response = await client.post(VILLAGES, content=huge, headers={"Content-Type": "text/plain"})
    assert_problem(response, 413)


async def test_every_operation_with_a_body_documents_415(app: FastAPI) -> None:
    document = app.openapi()
    with_body = [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "requestBody" in operation
    ]
    assert len(with_body) > 10
    for path, method, operation in with_body:
        response = operation["responses"].get("415")
        assert response is not None, (method, path)
        assert response["content"]["application/problem+json"]["schema"] == {
            "$ref": "#/components/schemas/Problem"
        }
    assert "accepted" in document["components"]["schemas"]["Problem"]["properties"]
