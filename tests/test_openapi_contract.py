"""The OpenAPI document as a contract for client generators: what each generator reads from it is
what the service does. One test per defect an integrator met (issue: "The OpenAPI document as a
contract"), most as checks over the whole document, the rest as requests to the running app.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate

from app.__main__ import openapi_text
from app.models import BIGINT_MAX, INT_MAX
from tests.factories import API, PATHS, district, province, village

DOC: dict[str, Any] = json.loads(openapi_text())
SCHEMAS: dict[str, Any] = DOC["components"]["schemas"]
METHODS = ("get", "post", "patch", "put", "delete")
OPERATIONS = [
    (method.upper(), path, operation)
    for path, item in DOC["paths"].items()
    for method, operation in item.items()
    if method in METHODS
]
OPERATION_IDS = [f"{method} {path}" for method, path, _ in OPERATIONS]


def nodes(node: Any, where: str = "#") -> Iterator[tuple[str, Any]]:
    """Every object in the document with its JSON pointer."""
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from nodes(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from nodes(value, f"{where}/{index}")


def schemas_in(node: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """The schema objects of the document: components and the schemas of parameters and bodies."""
    for where, found in nodes(node):
        if "type" in found or "anyOf" in found or "$ref" in found or "enum" in found:
            yield where, found


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    return resolve(SCHEMAS[ref.rsplit("/", 1)[-1]])


def allows_null(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "null" or any(allows_null(o) for o in schema.get("anyOf", []))


def test_the_document_is_valid_openapi_3_1() -> None:
    validate(DOC)
    assert DOC["openapi"].startswith("3.1")
    assert DOC["servers"], "generators and linters want a server"


def test_every_reference_resolves() -> None:
    refs = {s["$ref"] for _, s in nodes(DOC) if isinstance(s.get("$ref"), str)}
    assert len(refs) > 50
    for ref in refs:
        target: Any = DOC
        for part in ref.removeprefix("#/").split("/"):
            target = target.get(part) if isinstance(target, dict) else None
        assert isinstance(target, dict), ref


# 1. group_by: see tests/stats (repeated values honoured; the parameter an exploded array).


def test_group_by_is_an_array_of_dimensions_sent_as_every_generator_sends_it() -> None:
    stats = [(p, op) for m, p, op in OPERATIONS if p.startswith(f"{API}/stats/") and "overview" not in p]
    assert len(stats) == 4
    for path, operation in stats:
        (group_by,) = [p for p in operation["parameters"] if p["name"] == "group_by"]
        assert group_by.get("explode", True) is True, path
        assert group_by["schema"]["type"] == "array", path
        assert resolve(group_by["schema"]["items"])["enum"], path


# 2. Dates: JSON Schema has no date bounds; the years are a pattern.


def test_no_schema_carries_keywords_that_json_schema_does_not_have() -> None:
    unknown = [w for w, s in schemas_in(DOC) if {"ge", "le", "gt", "lt"} & s.keys()]
    assert unknown == []


def test_every_date_in_a_request_says_which_years_are_accepted() -> None:
    dates = [
        (where, s)
        for where, s in schemas_in(SCHEMAS)
        if s.get("format") == "date" and where.split("/")[1].endswith(("Create", "Update"))
    ]
    assert len(dates) >= 16
    for where, schema in dates:
        assert schema.get("pattern", "").startswith("^(19"), where


async def test_a_date_outside_the_years_is_refused(client: httpx.AsyncClient) -> None:
    unit = await district(client, (await province(client))["id"])
    body = {"name": "X", "district_id": unit["id"], "craft_group": "manufacturing"}
    for day in ("1899-12-31", "2101-01-01"):
        refused = await client.post(
            f"{API}/villages", json={**body, "status": "craft_village", "recognised_on": day}
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == "recognised_on"


# 3 and 9. Every property has a type: no {} and no free-form objects.


def test_no_schema_is_untyped() -> None:
    untyped = [
        where
        for where, s in nodes(SCHEMAS)
        if where.count("/properties/") and where.rsplit("/", 2)[-2] == "properties" and not _typed(s)
    ]
    assert untyped == []


def _typed(schema: dict[str, Any]) -> bool:
    if "$ref" in schema or "type" in schema or "enum" in schema or "const" in schema:
        return True
    options: list[dict[str, Any]] = schema.get("anyOf") or schema.get("oneOf") or []
    return bool(options) and all(_typed(o) for o in options)


def test_no_object_takes_arbitrary_members() -> None:
    free = [
        where
        for where, s in nodes(DOC)
        if (s.get("additionalProperties") is True or s == {}) and not where.endswith("/scopes")
    ]
    assert free == []


def test_the_caller_and_the_enumerations_have_named_typed_schemas() -> None:
    for path, name in ((f"{API}/auth/me", "WhoAmI"), (f"{API}/meta/enums", "Enumerations")):
        content = DOC["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        assert content["schema"] == {"$ref": f"#/components/schemas/{name}"}
    enumerations = SCHEMAS["Enumerations"]
    assert set(enumerations["required"]) == set(enumerations["properties"])
    craft = resolve(enumerations["properties"]["craft_group"]["items"])
    assert resolve(craft["properties"]["code"])["enum"]


def test_key_timestamps_are_typed() -> None:
    for name in ("KeyRead", "KeyCreated"):
        properties = SCHEMAS[name]["properties"]
        assert properties["created_at"]["format"] == "date-time"
        for nullable in ("last_used_at", "revoked_at"):
            formats = [o.get("format") for o in properties[nullable]["anyOf"] if o.get("type") != "null"]
            assert formats == ["date-time"], name


# 4. A PATCH body allows null exactly where the create body does.


@pytest.mark.parametrize("path", PATHS)
def test_an_update_allows_null_only_where_a_create_does(path: str) -> None:
    create = _body_schema("POST", f"{API}/{path}")
    update = _body_schema("PATCH", f"{API}/{path}/{{record_id}}")
    for name, schema in update["properties"].items():
        if name == "version":
            assert not allows_null(schema)
            continue
        assert allows_null(schema) == allows_null(create["properties"][name]), (path, name)
        assert "default" not in schema, (path, name)  # left out means unchanged, not null
    assert not update.get("required")


def _body_schema(method: str, path: str) -> dict[str, Any]:
    operation = DOC["paths"][path][method.lower()]
    return resolve(operation["requestBody"]["content"]["application/json"]["schema"])


async def test_null_for_a_column_that_cannot_be_empty_is_refused_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    unit = await district(client, (await province(client))["id"])
    record = await village(client, unit["id"])
    for field in ("name", "craft_group", "crafts", "status", "on_polluted_list"):
        refused = await client.patch(f"{API}/villages/{record['id']}", json={field: None})
        assert refused.status_code == 422, (field, refused.text)
        assert [e["field"] for e in refused.json()["errors"]] == [field]
    after = (await client.get(f"{API}/villages/{record['id']}")).json()
    assert after == record


# 5. DELETE needs If-Match.


def test_delete_declares_if_match_required() -> None:
    deletes = [(p, op) for m, p, op in OPERATIONS if m == "DELETE" and "{record_id}" in p]
    assert len(deletes) == len(PATHS)
    for path, operation in deletes:
        (if_match,) = [p for p in operation["parameters"] if p["name"] == "If-Match"]
        assert if_match["required"] is True, path
        assert "428" in operation["responses"], path


async def test_delete_without_if_match_is_428(strict: httpx.AsyncClient, client: httpx.AsyncClient) -> None:
    unit = await province(client)
    answer = await strict.delete(f"{API}/admin-units/{unit['id']}")
    assert answer.status_code == 428
    assert answer.json()["errors"][0]["field"] == "If-Match"
    assert (await strict.get(f"{API}/admin-units/{unit['id']}")).status_code == 200


# 6. Response headers and conditional reads.


def _response(method: str, path: str, status: str) -> dict[str, Any]:
    return dict(DOC["paths"][path][method.lower()]["responses"][status])


@pytest.mark.parametrize("path", PATHS)
def test_headers_of_the_resource_operations_are_documented(path: str) -> None:
    item = f"{API}/{path}/{{record_id}}"
    assert set(_response("GET", f"{API}/{path}", "200")["headers"]) == {"Link", "ETag", "Vary"}
    assert "ETag" in _response("GET", f"{API}/{path}", "304")["headers"]
    assert "If-None-Match" in [p["name"] for p in DOC["paths"][f"{API}/{path}"]["get"]["parameters"]]
    assert {"Location", "ETag"} <= set(_response("POST", f"{API}/{path}", "201")["headers"])
    assert set(_response("GET", item, "200")["headers"]) == {"ETag"}
    assert "ETag" in _response("GET", item, "304")["headers"]
    assert set(_response("PATCH", item, "200")["headers"]) == {"ETag"}
    names = [p["name"] for p in DOC["paths"][item]["get"]["parameters"]]
    assert "If-None-Match" in names


def test_every_retry_after_answer_documents_the_header() -> None:
    for method, path, operation in OPERATIONS:
        for status in ("429", "503", "504"):
            if status in operation["responses"]:
                headers = operation["responses"][status].get("headers", {})
                assert "Retry-After" in headers, (method, path, status)


def test_the_statistics_document_etag_and_304() -> None:
    for _, path, operation in OPERATIONS:
        if path.startswith(f"{API}/stats/"):
            assert "ETag" in operation["responses"]["200"]["headers"], path
            assert "304" in operation["responses"], path
            assert "If-None-Match" in [p["name"] for p in operation["parameters"]], path


async def test_the_documented_headers_are_sent(client: httpx.AsyncClient) -> None:
    """Each header the document promises on these answers is in the answer."""
    unit = {"code": "36", "name": "Nam Định", "level": "province"}
    created = await client.post(f"{API}/admin-units", json=unit)
    item = f"{API}/admin-units/{created.json()['id']}"
    read = await client.get(item)
    not_modified = await client.get(item, headers={"If-None-Match": read.headers["etag"]})
    changed = await client.patch(
        item, json={"name": "Tỉnh Nam Định"}, headers={"If-Match": read.headers["etag"]}
    )
    listed = await client.get(f"{API}/admin-units")
    answers = [
        ("POST", f"{API}/admin-units", created),
        ("GET", f"{API}/admin-units/{{record_id}}", read),
        ("GET", f"{API}/admin-units/{{record_id}}", not_modified),
        ("PATCH", f"{API}/admin-units/{{record_id}}", changed),
        ("GET", f"{API}/admin-units", listed),
    ]
    for method, path, answer in answers:
        documented = _response(method, path, str(answer.status_code)).get("headers", {})
        missing = [h for h in documented if h != "Idempotent-Replayed" and h.lower() not in answer.headers]
        assert documented and missing == [], (method, path, answer.status_code, missing)
    assert not_modified.status_code == 304 and not_modified.content == b""


# 7. Problems: optional members are left out, never null.


def test_problem_members_are_optional_and_never_null() -> None:
    problem = SCHEMAS["Problem"]
    assert problem["required"] == ["type", "title", "status"]
    for name, schema in problem["properties"].items():
        assert not allows_null(schema) and "default" not in schema, name
    location = SCHEMAS["FieldError"]["properties"]["location"]
    assert location["enum"] == ["body", "query", "path", "header"] and "default" not in location


async def test_problem_answers_carry_no_null_member(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    answers = [
        await client.get(f"{API}/villages/999999"),
        await client.get(f"{API}/villages?limit=0"),
        await client.post(f"{API}/villages", json={"name": None}),
        await client.post(f"{API}/villages", content=b"{", headers={"Content-Type": "application/json"}),
        await anonymous.post(f"{API}/villages", json={}),
        await client.put(f"{API}/villages"),
        await client.get("/no/such/path"),
    ]
    for answer in answers:
        assert answer.headers["content-type"] == "application/problem+json", answer.text
        assert [k for k, v in answer.json().items() if v is None] == [], answer.text


# 8 and 10. Enumerations are enumerations (the summary maps: tests/stats).


def test_audit_members_and_sort_keys_are_enumerations() -> None:
    event = SCHEMAS["AuditEventRead"]["properties"]
    for name in ("action", "resource", "actor_kind"):
        assert resolve(event[name])["enum"], name
    assert set(resolve(event["resource"])["enum"]) == set(PATHS)
    lists = [(p, op) for m, p, op in OPERATIONS if m == "GET" and p.removeprefix(f"{API}/") in PATHS]
    assert len(lists) == len(PATHS)
    for path, operation in lists:
        (sort,) = [p for p in operation["parameters"] if p["name"] == "sort"]
        assert sort["schema"]["type"] == "array", path
        keys = resolve(sort["schema"]["items"])["enum"]
        ascending = {k for k in keys if not k.startswith("-")}
        assert {"id", "created_at"} <= ascending, path
        assert {k.removeprefix("-") for k in keys if k.startswith("-")} == ascending, path


async def test_sort_keys_are_honoured_repeated_or_comma_separated(client: httpx.AsyncClient) -> None:
    parent = await province(client)
    for code, name in (("362", "B"), ("363", "A"), ("364", "A")):
        await district(client, parent["id"], code=code, name=name)

    async def codes(query: str) -> list[str]:
        answer = await client.get(f"{API}/admin-units?level=district&{query}")
        assert answer.status_code == 200, answer.text
        return [unit["code"] for unit in answer.json()["items"]]

    assert await codes("sort=name&sort=-code") == ["364", "363", "362"]
    assert await codes("sort=name,-code") == ["364", "363", "362"]
    refused = await client.get(f"{API}/admin-units?sort=nope")
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"].startswith("sort")


# 11. Credentials: one of them for writes, none for public reads.


def test_every_operation_says_which_credentials_it_takes() -> None:
    schemes = set(DOC["components"]["securitySchemes"])
    for method, path, operation in OPERATIONS:
        security = operation["security"]
        staff_only = path.startswith(
            (
                f"{API}/admin/",
                f"{API}/audit",
                f"{API}/auth/me",
                f"{API}/changes",
                f"{API}/webhooks",
                f"{API}/imports",
            )
        ) or path.endswith("/history")
        if method == "GET" and not staff_only:
            assert security == [], (method, path)
            continue
        if path == f"{API}/auth/token":
            assert security == []
            continue
        # Alternatives: each requirement names one scheme, so a client sends one credential.
        assert sorted(next(iter(r)) for r in security) == sorted(schemes), (method, path)
        assert all(len(r) == 1 for r in security)
    for scheme in DOC["components"]["securitySchemes"].values():
        assert "one credential" in scheme["description"]


async def test_two_credentials_at_once_are_refused_with_a_clear_reason(client: httpx.AsyncClient) -> None:
    answer = await client.post(f"{API}/admin-units", json={}, headers={"Authorization": "Bearer x"})
    assert answer.status_code == 401
    assert "not both" in answer.json()["detail"]


# 12. Integers: exact bounds and their width.


def test_integer_bounds_are_exact_integers_and_ids_and_money_are_int64() -> None:
    integers = [(w, s) for w, s in schemas_in(DOC) if s.get("type") == "integer"]
    assert len(integers) > 100
    for where, schema in integers:
        for key in ("minimum", "maximum"):
            assert isinstance(schema.get(key, 0), int), (where, schema)
        if schema.get("maximum") == BIGINT_MAX:
            assert schema.get("format") == "int64", where
        if schema.get("maximum") == INT_MAX:
            assert schema.get("format") == "int32", where
    for name, schema in SCHEMAS.items():
        for field, prop in schema.get("properties", {}).items():
            options = [resolve(o) for o in prop.get("anyOf", [prop])]
            if field == "id" or field.endswith(("_id", "_vnd")):
                widths = {o.get("format") for o in options if o.get("type") == "integer"}
                assert widths <= {"int64"} | _stats_sums(name), (name, field, widths)


def _stats_sums(schema_name: str) -> set[Any]:
    """The statistics' sums of money may pass 64 bits; they are plain integers (tests/stats)."""
    return {None} if "Stats" in schema_name or "Overview" in schema_name or "Totals" in schema_name else set()


def test_money_says_how_javascript_reads_it() -> None:
    money = [(w, s) for w, s in nodes(SCHEMAS) if w.endswith("_vnd") and "/properties/" in w]
    assert len(money) > 20
    for where, schema in money:
        said = [schema.get("description", "")] + [o.get("description", "") for o in schema.get("anyOf", [])]
        assert any("2^53" in d for d in said), where
