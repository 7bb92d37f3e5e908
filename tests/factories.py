"""Builders for test records (each POSTs through the API and returns the JSON), shared checks, and
the facts each resource's test package declares for the generic tests (ResourceFacts)."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Sequence, Set
from dataclasses import dataclass
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.registry import REGISTRY

JSON = dict[str, Any]
API = "/api/v1"

# Every collection, in the order the app mounts them.
PATHS = tuple(res.path for res in REGISTRY)

# Words that would betray a traceback, the driver, the ORM (any case) or SQL text in an error body.
LEAKS = ("traceback", "asyncpg", "sqlalchemy")
SQL_LEAK = "SELECT"


# -- builders ----------------------------------------------------------------------------------


async def create(client: httpx.AsyncClient, path: str, body: JSON) -> JSON:
    """POST a body that must be accepted; the created record."""
    response = await client.post(f"{API}/{path}", json=body)
    assert response.status_code == 201, response.text
    created: JSON = response.json()
    return created


async def province(client: httpx.AsyncClient, code: str = "36", name: str = "Nam Định", **extra: Any) -> JSON:
    return await create(client, "admin-units", {"code": code, "name": name, "level": "province", **extra})


async def district(
    client: httpx.AsyncClient, parent_id: int, code: str = "362", name: str = "Nam Trực", **extra: Any
) -> JSON:
    body = {"code": code, "name": name, "level": "district", "parent_id": parent_id, **extra}
    return await create(client, "admin-units", body)


async def village(client: httpx.AsyncClient, district_id: int, name: str = "Vân Chàng", **extra: Any) -> JSON:
    return await create(client, "villages", village_body(district_id, name, **extra))


def village_body(district_id: int, name: str = "Vân Chàng", **extra: Any) -> JSON:
    return {"name": name, "district_id": district_id, "craft_group": "manufacturing", **extra}


async def figure(client: httpx.AsyncClient, village_id: int, year: int = 2015, **extra: Any) -> JSON:
    return await create(client, "village-figures", {"village_id": village_id, "year": year, **extra})


async def cooperative(
    client: httpx.AsyncClient, district_id: int, name: str = "HTX Cơ khí Vân Chàng", **extra: Any
) -> JSON:
    body = {"name": name, "sector": "mechanical", "district_id": district_id, **extra}
    return await create(client, "cooperatives", body)


async def programme(client: httpx.AsyncClient, name: str = "Đào tạo nghề rèn", **extra: Any) -> JSON:
    return await create(client, "programmes", programme_body(name, **extra))


def programme_body(name: str = "Đào tạo nghề rèn", **extra: Any) -> JSON:
    return {
        "name": name,
        "kind": "industrial_extension",
        "activity": "vocational_training",
        "year": 2015,
        **extra,
    }


async def fair(client: httpx.AsyncClient, name: str = "Hội chợ Công Thương Nam Định", **extra: Any) -> JSON:
    return await create(client, "trade-fairs", fair_body(name, **extra))


def fair_body(name: str = "Hội chợ Công Thương Nam Định", **extra: Any) -> JSON:
    return {"name": name, "kind": "hosted", "start_on": "2015-10-01", "end_on": "2015-10-05", **extra}


@dataclass(frozen=True)
class Places:
    """A province, one of its districts and a village there: what most records refer to."""

    province: JSON
    district: JSON
    village: JSON

    @property
    def district_id(self) -> int:
        return int(self.district["id"])

    @property
    def village_id(self) -> int:
        return int(self.village["id"])


async def places(client: httpx.AsyncClient) -> Places:
    p = await province(client)
    d = await district(client, p["id"])
    v = await village(client, d["id"], name="Vị Khê", craft_group="ornamental")
    return Places(p, d, v)


def valid_body(path: str, at: Places, n: int = 0) -> JSON:
    """A body the API accepts for a new record of `path`; n keeps codes and years distinct."""
    return facts(path).valid_body(at, n)


# -- what the generic tests know of each resource ----------------------------------------------


@dataclass(frozen=True)
class ResourceFacts:
    """What the generic tests (tests/kit, tests/core, tests/auth) need to know of one resource.

    Each resource's test package declares its own in `tests/<package>/facts.py` as
    `FACTS = ResourceFacts(...)`, found through the registry's paths (see `facts`). The values are
    expectations written by hand, never read from the app's schemas or declarations: a test that
    took them from the code under test could not fail.
    """

    path: str
    # Only an administrator may write (an editor gets 403).
    admins_only: bool
    # A body the API accepts for a new record, given the places; n keeps codes and years distinct.
    valid_body: Callable[[Places, int], JSON]
    # A field a PATCH changes and a value to change it to; another value of the same field; and a
    # second, different change (another field), so that the version moves again.
    change: tuple[str, Any]
    other_value: Any
    second_change: JSON
    # Records of the collection after places() and one create (places() makes a province, a
    # district and a village).
    total_after_create: int
    # Fields a create body must carry.
    required: Set[str]
    # Fields that always have a value (required, or defaulted but never null).
    not_null: Sequence[str]
    # A filter that selects exactly the records valid_body() makes (and not what places() made).
    only_made: str
    # The fields the list sorts by, separated by white space.
    sortable: str
    # A text field, an INTEGER field and, if the resource has one, a money (BIGINT đồng) field.
    text_field: str
    integer_field: str
    money_field: str | None = None
    # When the money is on a line of an embedded list: a one-field body putting the amount there
    # (a line's amount is never null, unlike a record's).
    money_line: Callable[[Any], JSON] | None = None
    # Whether records carry a free-text `name` (round trips, Vietnamese order, search by name).
    named: bool = True
    # A field the list sorts by, to build malformed sort parameters around.
    sort_key: str = "name"
    # For a resource not searched by its own name: makes (given the places) a record that a search
    # for "VAN CHANG" finds, and returns it.
    searched: Callable[[httpx.AsyncClient, Places], Awaitable[JSON]] | None = None


def declared(path: str, leaf: str, what: str) -> ModuleType:
    """The module tests/<the resource's package>/<leaf>.py, where a registered resource's tests
    declare `what`; an AssertionError naming the file to write when there is none."""
    name = f"tests.{path.replace('-', '_')}.{leaf}"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name not in (name, name.rpartition(".")[0]):
            raise
        raise AssertionError(
            f"the resource {path!r} is registered (app/registry.py) but its tests declare no {what}:"
            f" write {name.replace('.', '/')}.py, and an empty __init__.py beside it"
        ) from None


def facts(path: str) -> ResourceFacts:
    """The facts of the resource at `path`; an AssertionError naming the file to write if none."""
    module = declared(path, "facts", f"facts (FACTS = ResourceFacts(path={path!r}, ...), tests/factories.py)")
    name = module.__name__
    found = getattr(module, "FACTS", None)
    assert isinstance(found, ResourceFacts), f"{name} must define FACTS = ResourceFacts(...)"
    assert found.path == path, f"{name} declares the facts of {found.path!r}, not of {path!r}"
    return found


def paths_where(wanted: Callable[[ResourceFacts], bool]) -> list[str]:
    """The registered paths whose facts are wanted, for a parametrize list; a path without facts is
    kept, so that its test fails saying which facts to write."""
    kept = []
    for path in PATHS:
        try:
            if not wanted(facts(path)):
                continue
        except AssertionError:
            pass
        kept.append(path)
    return kept


# -- checks ------------------------------------------------------------------------------------


def assert_problem(response: httpx.Response, status: int) -> JSON:
    """The response is an RFC 9457 problem with this status, leaking nothing of the internals."""
    request = response.request
    sent = f"{request.method} {request.url} {request.content[:100]!r}"
    assert response.status_code == status, f"{sent} -> {response.status_code} {response.text[:2000]}"
    assert response.headers["content-type"] == "application/problem+json", (sent, response.headers)
    body: JSON = response.json()
    assert {"type", "title", "status", "detail", "instance"} <= body.keys(), body
    assert body["status"] == status
    assert isinstance(body["type"], str) and body["type"]
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["instance"] == response.request.url.path
    lowered = response.text.lower()
    for leak in LEAKS:
        assert leak not in lowered, (leak, response.text)
    assert SQL_LEAK not in response.text, response.text
    for error in body.get("errors") or []:
        assert set(error) <= {"field", "message", "location"}, error
        assert isinstance(error["field"], str) and isinstance(error["message"], str)
    return body


def assert_invalid(response: httpx.Response, *fields: str, location: str = "body") -> JSON:
    """A 422 problem whose errors[] name at least these fields (or items of them) at this location."""
    body = assert_problem(response, 422)
    assert body["type"].endswith("validation-failed"), body
    named = [e["field"] for e in body.get("errors") or [] if e.get("location") == location]
    for wanted in fields:
        assert any(f == wanted or f.startswith(wanted + ".") for f in named), (wanted, body)
    return body


def ids(page: JSON) -> list[int]:
    return [int(item["id"]) for item in page["items"]]


def names(page: JSON) -> list[str]:
    return [str(item["name"]) for item in page["items"]]


def links(response: httpx.Response) -> dict[str, dict[str, list[str]]]:
    """The Link header as rel -> query parameters of its target."""
    out: dict[str, dict[str, list[str]]] = {}
    for part in response.headers["link"].split(", <"):
        target, rel = part.split(">; rel=")
        url = urlsplit(target.lstrip("<"))
        out[rel.strip('"')] = parse_qs(url.query, keep_blank_values=True)
    return out


async def trail(client: httpx.AsyncClient, **params: Any) -> JSON:
    """A page of the audit trail, read by the administrator's client."""
    response = await client.get(f"{API}/audit", params=params)
    assert response.status_code == 200, response.text
    body: JSON = response.json()
    return body


async def snapshot(db: AsyncSession) -> dict[str, str]:
    """Every table's rows, digested: equal snapshots mean the database did not change."""
    tables = (
        await db.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version' ORDER BY tablename"
            )
        )
    ).scalars()
    digests = " UNION ALL ".join(
        f"SELECT '{table}', count(*) || ':' || md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))"
        f" FROM {table} t"
        for table in tables
    )
    rows = await db.execute(text(digests))
    digest = {str(table): str(value) for table, value in rows}
    assert {"admin_unit", "village", "programme_funding", "trade_fair_participant"} <= digest.keys()
    return digest


async def count(db: AsyncSession, table: str) -> int:
    return int((await db.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())
