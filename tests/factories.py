"""Builders for test records (each POSTs through the API and returns the JSON) and shared checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

JSON = dict[str, Any]
API = "/api/v1"

# Every collection, in the order the app mounts them.
PATHS = ("admin-units", "villages", "village-figures", "cooperatives", "programmes", "trade-fairs")

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
    if path == "admin-units":
        return {"code": f"9{n:02d}", "name": f"Xã thử {n}", "level": "commune", "parent_id": at.district_id}
    if path == "villages":
        return village_body(at.district_id, f"Làng thử {n}")
    if path == "village-figures":
        return {"village_id": at.village_id, "year": 2000 + n}
    if path == "cooperatives":
        return {"name": f"HTX thử {n}", "sector": "sedge", "district_id": at.district_id}
    if path == "programmes":
        return programme_body(f"Đề án thử {n}")
    if path == "trade-fairs":
        return fair_body(f"Hội chợ thử {n}")
    raise AssertionError(path)


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
