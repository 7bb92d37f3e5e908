"""A corpus of hostile values, thrown at every list, path id and body the OpenAPI document lists.

The targets are discovered from the application's own OpenAPI document, so a new endpoint, filter
or field is attacked without anyone adding it here:

* every query parameter of every GET operation that takes query parameters (the lists, the
  statistics, the audit trail and the histories: limit, offset, sort, q and every filter);
* every path parameter of every operation (GET, PATCH, DELETE on records, histories, keys...);
* every field of the POST and PATCH bodies of every resource (a collection with POST and an
  item path with PATCH).

The corpus: NUL (raw, %00 and \\u0000), 2**31, 2**63, -2**63-1, 10**30, lone surrogates (JSON
"\\ud800", and %ED%A0%80 / %F0 on the wire), 100 kB strings, NaN and Infinity, NFD Vietnamese
text, floats for integers, negative and huge numbers, malformed percent-encoding, and very long
sort and q values.

Every answer must be below 500; every 4xx must be an application/problem+json document with the
members of app.core.problems.Problem (type, title, status, detail, instance at least) and no others
than the known extensions; a 4xx must leave the database as it was; and NFD text, where text is
valid, must be accepted and stored in NFC.

Query strings and paths are sent as raw ASGI requests, byte for byte as a client wrote them (httpx
would re-encode malformed percent-escapes and refuses URLs over 64 kB), decoded the way uvicorn
decodes them; bodies go through the `client` fixture.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.problems import PROBLEM_JSON, Problem
from app.core.settings import Settings
from app.main import create_app
from tests.factories import API, LEAKS, SQL_LEAK, Places, assert_problem, create, places, snapshot, valid_body

# -- the OpenAPI document, read at collection time ----------------------------------------------

# Nothing connects: the database URL is only stored (the lifespan, which would use it, never runs).
SPEC: dict[str, Any] = create_app(
    Settings(database_url="postgresql://discovery@127.0.0.1:9/discovery")
).openapi()
COMPONENTS: dict[str, Any] = SPEC.get("components", {}).get("schemas", {})
METHODS = ("get", "post", "patch", "put", "delete")


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with $ref followed and a nullable anyOf reduced to its non-null branch."""
    while "$ref" in schema:
        schema = {
            **COMPONENTS[schema["$ref"].rsplit("/", 1)[-1]],
            **{k: v for k, v in schema.items() if k != "$ref"},
        }
    branches = [b for b in schema.get("anyOf", []) if b.get("type") != "null"]
    if len(branches) == 1:
        return resolve({**{k: v for k, v in schema.items() if k != "anyOf"}, **branches[0]})
    return schema


@dataclass(frozen=True)
class Param:
    name: str
    schema: dict[str, Any]
    required: bool


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    query: tuple[Param, ...]
    path: tuple[Param, ...]

    @property
    def label(self) -> str:
        return f"{self.method} {self.template}"


def operations() -> Iterator[Operation]:
    for template, item in SPEC["paths"].items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            params = [*item.get("parameters", []), *op.get("parameters", [])]

            def of(where: str, params: list[dict[str, Any]] = params) -> tuple[Param, ...]:
                return tuple(
                    Param(p["name"], resolve(p.get("schema", {})), bool(p.get("required")))
                    for p in params
                    if p["in"] == where
                )

            yield Operation(method.upper(), template, of("query"), of("path"))


OPERATIONS = list(operations())
QUERIED = [op for op in OPERATIONS if op.method == "GET" and op.query]
WITH_PATH_PARAMS = [op for op in OPERATIONS if op.path]
# A resource: a collection with POST (a JSON body) whose item path takes PATCH.
RESOURCE_PATH = re.compile(rf"^{API}/([a-z-]+)$")
RESOURCES = sorted(
    match.group(1)
    for template, item in SPEC["paths"].items()
    if (match := RESOURCE_PATH.match(template))
    and "post" in item
    and "patch" in SPEC["paths"].get(template + "/{record_id}", {})
)


def body_schema(resource: str, method: str) -> dict[str, Any]:
    template = f"{API}/{resource}" + ("/{record_id}" if method == "PATCH" else "")
    op = SPEC["paths"][template][method.lower()]
    return resolve(op["requestBody"]["content"]["application/json"]["schema"])


# -- the corpus -----------------------------------------------------------------------------------

VIETNAMESE = "Nguyễn Thị Hoà, làng Đông"
NFD = unicodedata.normalize("NFD", VIETNAMESE)
NFC = unicodedata.normalize("NFC", VIETNAMESE)
assert NFD != NFC
HUNDRED_KB = 100_000

# Query-string and path values, as the bytes a client puts on the wire.
WIRE: dict[str, bytes] = {
    "nul": b"%00",
    "nul inside": b"a%00b",
    "2**31": b"2147483648",
    "2**63": b"9223372036854775808",
    "-2**63-1": b"-9223372036854775809",
    "-2**63": b"-9223372036854775808",
    "10**30": b"1" + b"0" * 30,
    "-1": b"-1",
    "5000 nines": b"9" * 5000,
    "surrogate (UTF-8 of U+D800)": b"%ED%A0%80",
    "lone lead byte": b"%F0",
    "truncated sequence": b"x%F0%9F%98",
    "overlong slash": b"%C0%AF",
    "latin-1 byte": b"caf%E9",
    "100 kB": b"x" * HUNDRED_KB,
    "100 kB of encoded é": b"%C3%A9" * (HUNDRED_KB // 6),
    "NaN": b"NaN",
    "Infinity": b"Infinity",
    "-Infinity": b"-Infinity",
    "1e400": b"1e400",
    "NFD Vietnamese": quote(NFD).encode(),
    "float 1.5": b"1.5",
    "float 12.0": b"12.0",
    "exponent 1e3": b"1e3",
    "lone percent": b"%",
    "bad escape %G1": b"%G1",
    "double percent": b"%%",
    "short escape": b"a%2",
    "empty": b"",
    "only commas": b",,,",
    "quote": b"1%27%20OR%20%271%27%3D%271",
    "long sort list": b"name," * 20_000 + b"name",
    "long word list": b"van+" * 25_000,
    "plus and ampersand": b"%26limit%3D1%2B1",
}

# Body values, as literal JSON text (NaN and Infinity are not JSON, and json.dumps would not let a
# raw NUL or a lone surrogate through).
LITERAL: dict[str, str] = {
    "raw NUL": '"a\x00b"',
    "escaped NUL": '"a\\u0000b"',
    "2**31": str(2**31),
    "2**63": str(2**63),
    "-2**63-1": str(-(2**63) - 1),
    "10**30": str(10**30),
    "-1": "-1",
    "lone surrogate": '"\\ud800"',
    "lone low surrogate": '"a\\udfffb"',
    "100 kB": json.dumps("x" * HUNDRED_KB),
    "100 kB of é": json.dumps("é" * (HUNDRED_KB // 2), ensure_ascii=False),
    "NaN": "NaN",
    "Infinity": "Infinity",
    "-Infinity": "-Infinity",
    "1e400": "1e400",
    "NFD Vietnamese": json.dumps(NFD, ensure_ascii=False),
    "float 1.5": "1.5",
    "float 12.0": "12.0",
    "number as text": '"12"',
    "true": "true",
    "object": "{}",
}


# -- answers --------------------------------------------------------------------------------------

REQUIRED_MEMBERS = {"type", "title", "status", "detail", "instance"}
# Problem's own members, and the extensions the app adds to some problems.
KNOWN_MEMBERS = set(Problem.model_fields) | {"constraint", "allowed", "current_version", "referenced_by"}


@dataclass
class Seen:
    """What a test sent and got: for the checks at its end, and for the failure message."""

    statuses: dict[int, int] = field(default_factory=dict)
    member_sets: set[frozenset[str]] = field(default_factory=set)
    accepted: list[str] = field(default_factory=list)

    def note(self, status: int, what: str) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if status < 400:
            self.accepted.append(what)


def check(seen: Seen, what: str, status: int, headers: httpx.Headers, content: bytes, instance: str) -> None:
    """Never a 5xx; a 4xx is a problem document of the one shape, leaking nothing."""
    seen.note(status, what)
    assert status < 500, f"{what} -> {status} {content[:1000]!r}"
    if status < 400:
        return
    assert headers.get("content-type") == PROBLEM_JSON, f"{what} -> {status} {headers} {content[:300]!r}"
    body = json.loads(content)
    assert isinstance(body, dict), (what, body)
    members = set(body)
    assert members >= REQUIRED_MEMBERS, (what, body)
    assert members <= KNOWN_MEMBERS, (what, sorted(members - KNOWN_MEMBERS))
    seen.member_sets.add(frozenset(members & set(Problem.model_fields)))
    assert body["status"] == status, (what, body)
    assert isinstance(body["type"], str) and body["type"], (what, body)
    assert isinstance(body["title"], str) and body["title"], (what, body)
    assert isinstance(body["detail"], str) and body["detail"], (what, body)
    assert body["instance"] == instance, (what, body["instance"], instance)
    Problem.model_validate(body)
    text = content.decode()
    for leak in LEAKS:
        assert leak not in text.lower(), (what, leak, text[:500])
    assert SQL_LEAK not in text, (what, text[:500])


@dataclass
class Raw:
    status: int
    headers: httpx.Headers
    content: bytes
    path: str  # scope["path"], as the app saw it


async def raw_request(
    client: httpx.AsyncClient, method: str, raw_path: bytes, query: bytes = b"", body: bytes | None = None
) -> Raw:
    """One request to the ASGI app, its target exactly these bytes, decoded as uvicorn does."""
    transport = client._transport
    assert isinstance(transport, httpx.ASGITransport)
    app = transport.app
    path = raw_path.decode("ascii")
    if "%" in path:
        path = unquote(path)
    headers = [
        (b"host", b"testserver"),
        *((k.lower(), v) for k, v in client.headers.raw if k.lower() != b"host"),
    ]
    if body is not None:
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": raw_path,
        "query_string": query,
        "root_path": "",
        "headers": headers,
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 50000),
    }
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body or b"", "more_body": False}

    status = 0
    response_headers: list[tuple[bytes, bytes]] = []
    chunks: list[bytes] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal status, response_headers
        if message["type"] == "http.response.start":
            status, response_headers = message["status"], list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    try:
        await app(scope, receive, send)
    except Exception:
        if not status:  # an exception that no handler turned into a response
            status = 500
    return Raw(status, httpx.Headers(response_headers), b"".join(chunks), path)


# -- the data the requests meet -------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    """One record of each resource (and the places they refer to), so that queries meet rows."""

    at: Places
    records: dict[str, dict[str, Any]]

    def any_id(self) -> int:
        return int(next(iter(self.records.values()))["id"])


@pytest.fixture
async def world(client: httpx.AsyncClient) -> World:
    at = await places(client)
    records = {"admin-units": at.district, "villages": at.village}
    for resource in RESOURCES:
        if resource not in records:
            try:
                body = valid_body(resource, at, 1)
            except AssertionError:
                continue  # a resource whose tests declare no facts yet (see the guard test below)
            records[resource] = await create(client, resource, body)
    return World(at, records)


def snapshot_without(digest: dict[str, str], *tables: str) -> dict[str, str]:
    return {k: v for k, v in digest.items() if k not in tables}


# -- query parameters ------------------------------------------------------------------------------


def valid_value(schema: dict[str, Any]) -> str:
    """A value the parameter accepts, for the required parameters besides the one under attack."""
    schema = resolve(schema)
    if schema.get("type") == "array":
        return valid_value(schema.get("items", {}))
    if "enum" in schema:
        return str(schema["enum"][0])
    if schema.get("type") == "integer":
        return str(max(int(schema.get("minimum", 1)), 1))
    if schema.get("type") == "boolean":
        return "true"
    if schema.get("format") == "date":
        return "2015-01-01"
    return "x"


def fill(template: str, world: World) -> bytes:
    """The path of an operation with its path parameters given ordinary values."""
    return re.sub(r"\{[^}]+\}", str(world.any_id()), template).encode()


def query_probes(op: Operation) -> Iterator[tuple[str, bytes]]:
    """(label, query string) for each parameter and each corpus value, plus repeated arrays."""
    for param in op.query:
        others = [
            f"{p.name}={quote(valid_value(p.schema))}".encode() for p in op.query if p.required and p != param
        ]
        name = quote(param.name).encode()
        for label, value in WIRE.items():
            if label == "long sort list" and param.schema.get("type") == "array":
                continue  # 20,000 items: see test_a_long_list_filter_is_not_amplified
            yield f"{param.name}={label}", b"&".join([*others, name + b"=" + value])
        if param.schema.get("type") == "array":
            repeated = b"&".join([name + b"=1"] * 101)
            yield f"{param.name} repeated 101 times", b"&".join([*others, repeated])
            listed = name + b"=" + b",".join([b"%ED%A0%80", b"%00", b"2147483648", b"NaN"])
            yield f"{param.name}=hostile list", b"&".join([*others, listed])


@pytest.mark.parametrize("op", QUERIED, ids=lambda op: op.label)
async def test_hostile_query_parameters(
    client: httpx.AsyncClient, db: AsyncSession, world: World, op: Operation
) -> None:
    path = fill(op.template, world)
    before = await snapshot(db)
    seen = Seen()
    for label, query in query_probes(op):
        answer = await raw_request(client, "GET", path, query)
        check(seen, f"GET {op.template}?{label}", answer.status, answer.headers, answer.content, answer.path)
    after = await snapshot(db)
    # A statistic answered 200 may have been stored in the shared cache: that is its purpose.
    assert snapshot_without(after, "stats_cache") == snapshot_without(before, "stats_cache")
    if not seen.accepted:
        assert after == before
    assert len(seen.member_sets) <= 2, seen.member_sets  # with and without `errors`
    assert seen.statuses.get(422), f"no value was refused at all: {seen.statuses}"


# -- path parameters -------------------------------------------------------------------------------


@pytest.mark.parametrize("op", WITH_PATH_PARAMS, ids=lambda op: op.label)
async def test_hostile_path_parameters(
    client: httpx.AsyncClient, db: AsyncSession, world: World, op: Operation
) -> None:
    before = await snapshot(db)
    seen = Seen()
    body = b"{}" if op.method in ("POST", "PATCH", "PUT") else None
    for param in op.path:
        for label, value in WIRE.items():
            if not value:
                continue  # an empty segment is another route
            target = op.template.replace("{" + param.name + "}", value.decode())
            raw_path = fill(target, world)
            answer = await raw_request(client, op.method, raw_path, body=body)
            check(seen, f"{op.method} {op.template} {param.name}={label}", answer.status, answer.headers,
                  answer.content, answer.path)  # fmt: skip
    assert await snapshot(db) == before


# -- bodies ----------------------------------------------------------------------------------------

# The pattern app.kit.types puts on text (no NUL): text with it, and no other rule, takes any NFC text.
PLAIN_TEXT_PATTERNS = {None, r"^[^\x00]*$"}


def plain_text(schema: dict[str, Any]) -> bool:
    """Free text: NFD Vietnamese is valid there (and must be stored as NFC)."""
    schema = resolve(schema)
    return (
        schema.get("type") == "string"
        and "enum" not in schema
        and "format" not in schema
        and schema.get("pattern") in PLAIN_TEXT_PATTERNS
        and schema.get("maxLength", len(NFD)) >= len(NFD)
    )


def sample(schema: dict[str, Any]) -> Any:
    """A plausible value of a schema, for the other members of an embedded list's item."""
    schema = resolve(schema)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1)
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return False
    if kind == "array":
        return []
    if schema.get("format") == "date":
        return "2015-01-01"
    return "x"


def body_probes(schema: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(field, label, JSON text of the field's value) for every field of a body and every value:
    the value itself, as the one item of a list field, or as each member of a list's item."""
    for name, declared in schema.get("properties", {}).items():
        prop = resolve(declared)
        for label, literal in LITERAL.items():
            yield name, label, literal
        if prop.get("type") == "array":
            item = resolve(prop.get("items", {}))
            if item.get("type") == "object" or "properties" in item:
                members = item.get("properties", {})
                plain = {m: sample(s) for m, s in members.items() if m in item.get("required", [])}
                for member in members:
                    rest = json.dumps({k: v for k, v in plain.items() if k != member})[:-1]
                    sep = ", " if rest != "{" else ""
                    for label, literal in LITERAL.items():
                        yield name, f"[{{{member}: {label}}}]", f'[{rest}{sep}"{member}": {literal}}}]'
            else:
                for label, literal in LITERAL.items():
                    yield name, f"[{label}]", f"[{literal}]"


def with_member(base: dict[str, Any], name: str, literal: str) -> bytes:
    """JSON text of base with `name` set to this literal JSON text (which json.dumps could not write)."""
    rest = json.dumps({k: v for k, v in base.items() if k != name}, ensure_ascii=False)[:-1]
    return (rest + (", " if rest != "{" else "") + f'"{name}": {literal}}}').encode()


def guard_known(resource: str) -> None:
    try:
        valid_body(resource, None, 1)  # type: ignore[arg-type]
    except AssertionError as unknown:
        pytest.fail(f"tests/factories.valid_body knows no valid body for {resource}: {unknown}")
    except (AttributeError, TypeError):
        pass  # it needed the places: it knows the resource


@pytest.mark.parametrize("resource", RESOURCES)
def test_every_resource_has_a_valid_body(resource: str) -> None:
    """Without a valid base, POST probes would be refused for missing fields, not for the value."""
    guard_known(resource)


@pytest.mark.parametrize("method", ["POST", "PATCH"])
@pytest.mark.parametrize("resource", RESOURCES)
async def test_hostile_bodies(
    client: httpx.AsyncClient, db: AsyncSession, world: World, resource: str, method: str
) -> None:
    guard_known(resource)
    at = world.at
    record = world.records[resource]
    url = f"{API}/{resource}" if method == "POST" else f"{API}/{resource}/{record['id']}"
    schema = body_schema(resource, method)
    seen = Seen()
    before = await snapshot(db)
    serial = 10
    for name, label, literal in body_probes(schema):
        base = valid_body(resource, at, serial) if method == "POST" else {}
        what = f"{method} {resource} {name}={label}"
        response = await client.request(
            method,
            url,
            content=with_member(base, name, literal),
            headers={"content-type": "application/json"},
        )
        check(seen, what, response.status_code, response.headers, response.content, url)
        after = await snapshot(db)
        if response.status_code >= 400:
            assert after == before, f"{what} -> {response.status_code} but the database changed"
        else:
            serial += 1  # the next accepted POST must not collide with this record's codes
            before = after
        prop = resolve(schema["properties"][name])
        valid_text = (label == "NFD Vietnamese" and plain_text(prop)) or (
            label == "[NFD Vietnamese]" and plain_text(prop.get("items", {}))
        )
        if valid_text:
            assert response.status_code < 400, f"{what}: valid text refused: {response.text}"
        if response.status_code < 400 and "NFD" in label and "{" not in label:
            stored = (await client.get(response.headers.get("location") or url)).json()[name]
            expected = [NFC] if label.startswith("[") else NFC
            assert response.json()[name] == expected, (what, response.json()[name])
            assert stored == expected, (what, stored)
    assert len(seen.member_sets) <= 2, seen.member_sets


async def test_the_corpus_covers_the_app(app: FastAPI) -> None:
    """The document read at collection is the one the tested app serves, and it has targets."""
    assert app.openapi()["paths"].keys() == SPEC["paths"].keys()
    listed = {op.template for op in QUERIED}
    assert {f"{API}/{r}" for r in RESOURCES} <= listed
    assert any(t.startswith(f"{API}/stats/") for t in listed)
    assert len(RESOURCES) >= 6


SEARCHED = [op for op in QUERIED if RESOURCE_PATH.match(op.template) and any(p.name == "q" for p in op.query)]


@pytest.mark.parametrize("op", SEARCHED, ids=lambda op: op.label)
async def test_nfd_search_finds_what_was_stored_nfc(
    client: httpx.AsyncClient, world: World, op: Operation
) -> None:
    """Search text typed in NFD (as some keyboards send it) finds the records stored in NFC."""
    resource = RESOURCE_PATH.match(op.template).group(1)  # type: ignore[union-attr]
    record = world.records.get(resource)
    if record is None or "name" not in record:
        record = world.records["villages"]  # figures are searched by their village's name
    name = str(record["name"])
    assert unicodedata.normalize("NFC", name) == name
    query = b"q=" + quote(unicodedata.normalize("NFD", name)).encode()
    answer = await raw_request(client, "GET", op.template.encode(), query)
    assert answer.status == 200, answer.content[:500]
    assert json.loads(answer.content)["total"] >= 1, (op.label, name)


LIST_FILTERS = [
    (op, next(p for p in op.query if p.schema.get("type") == "array"))
    for op in QUERIED
    if any(p.schema.get("type") == "array" for p in op.query)
]


@pytest.mark.parametrize(
    ("op", "param"), LIST_FILTERS, ids=lambda v: getattr(v, "label", getattr(v, "name", ""))
)
async def test_a_long_list_filter_is_not_amplified(
    client: httpx.AsyncClient, world: World, op: Operation, param: Param
) -> None:
    """20,000 comma-separated invalid values (100 kB): refused with a problem of modest size."""
    others = [
        f"{p.name}={quote(valid_value(p.schema))}".encode() for p in op.query if p.required and p != param
    ]
    query = b"&".join([*others, param.name.encode() + b"=" + b"name," * 20_000 + b"name"])
    answer = await raw_request(client, "GET", fill(op.template, world), query)
    check(
        Seen(),
        f"{op.label} {param.name}=20,000 items",
        answer.status,
        answer.headers,
        answer.content,
        answer.path,
    )
    assert answer.status == 422
    assert len(answer.content) <= 64 * 1024, f"{len(query):,} bytes asked, {len(answer.content):,} answered"


async def test_a_huge_invalid_body_is_not_amplified(client: httpx.AsyncClient) -> None:
    """A body of 20,000 funding lines is refused for its length alone (one error); 100 lines with
    two invalid fields each (200 errors) list 100 of them and count the rest."""
    body = {"name": "x", "kind": "industrial_extension", "activity": "consulting", "year": 2015}
    body["funding"] = [{"source": "nowhere", "amount_vnd": -1}] * 20_000
    response = await client.post("/api/v1/programmes", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert len(response.content) <= 64 * 1024, f"{len(response.content):,} bytes answered"
    assert len(response.json()["errors"]) == 1
    body["funding"] = [{"source": "nowhere", "amount_vnd": -1}] * 100
    problem = assert_problem(await client.post("/api/v1/programmes", json=body), 422)
    assert len(problem["errors"]) == 100
    assert problem["detail"].endswith(" and 100 more errors"), problem["detail"][-200:]
