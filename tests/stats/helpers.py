"""Helpers of the statistics tests: reading a statistic exactly, tabulating its rows, an app of its own,
and the measures and places of the grouped statistics."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.settings import Settings
from app.main import create_app
from tests import factories as f
from tests.conftest import committed_key

JSON = dict[str, Any]
STATS = "/api/v1/stats"
Key = tuple[Any, ...]


async def get_stats(client: httpx.AsyncClient, path: str, **params: Any) -> JSON:
    """A statistic that must be answered, parsed from the raw body so that integers stay exact."""
    response = await client.get(f"{STATS}/{path}", params=params)
    assert response.status_code == 200, response.text
    body: JSON = json.loads(response.content)
    return body


async def resolve_unit(client: httpx.AsyncClient, code: str, on: str) -> int:
    """The id of the unit a code named on a day (GET /admin-units/resolve), which must exist."""
    response = await client.get("/api/v1/admin-units/resolve", params={"code": code, "on": on})
    assert response.status_code == 200, response.text
    return int(response.json()["id"])


def _key(value: Any) -> Any:
    """A dimension value as a plain key: an enumeration or a district by its code."""
    return value["code"] if isinstance(value, dict) else value


def tabulate(body: JSON) -> dict[Key, JSON]:
    """The rows keyed by their dimension values; every measure must be a JSON integer."""
    dims: list[str] = body["group_by"]
    table: dict[Key, JSON] = {}
    for row in body["rows"]:
        key = tuple(_key(row[d]) for d in dims)
        assert key not in table, ("a group appears twice", key)
        measures = {name: value for name, value in row.items() if name not in dims}
        assert all(type(v) is int for v in measures.values()), row
        table[key] = measures
    assert all(type(v) is int for v in body["totals"].values()), body["totals"]
    return table


def named(names: tuple[str, ...], *values: int) -> dict[str, int]:
    """Measures by name, in the order the statistic lists them."""
    return dict(zip(names, values, strict=True))


@asynccontextmanager
async def app_client(url: str) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """An application of its own on the database at `url`, started the way a server starts it
    (lifespan included: its own engine and its own statistics memory), and a client for it."""
    app = create_app(Settings(database_url=url))
    async with app.router.lifespan_context(app):
        secret = await committed_key(app.state.engine)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", headers={"X-API-Key": secret}
        ) as client:
            yield app, client


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[tuple[str, Any]]]:
    """Every statement sent through the engine meanwhile, with its parameters as sent."""
    sent: list[tuple[str, Any]] = []

    def note(
        conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        sent.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", note)


# -- the grouped statistics ----------------------------------------------------------------------

# Each statistic's measures, in the order it lists them.
VILLAGE = ("villages", "recognised", "households", "workers", "production_value_vnd")
COOPERATIVE = ("cooperatives", "members", "charter_capital_vnd")
PROGRAMME = ("programmes", "support_vnd", "counterpart_vnd", "beneficiaries")
FAIR = ("fairs", "standard_booths", "exhibitors", "visitors", "contract_value_vnd", "sales_vnd")
MEASURES = {"villages": VILLAGE, "cooperatives": COOPERATIVE, "programmes": PROGRAMME, "trade-fairs": FAIR}

# Each statistic's dimensions, in the order it lists them.
DIMENSIONS = {
    "villages": ["craft_group", "status", "province", "district", "commune", "year"],
    "cooperatives": ["sector", "legal_form", "status", "province", "district", "commune", "founded_year"],
    "programmes": ["year", "kind", "activity", "funding_source", "province"],
    "trade-fairs": ["year", "kind", "province", "country", "department_province"],
}

M = 1_000_000  # one triệu đồng
B = 1_000_000_000  # one tỷ đồng


def v(*values: int) -> dict[str, int]:
    return named(VILLAGE, *values)


def c(*values: int) -> dict[str, int]:
    return named(COOPERATIVE, *values)


def p(*values: int) -> dict[str, int]:
    return named(PROGRAMME, *values)


def t(*values: int) -> dict[str, int]:
    return named(FAIR, *values)


@dataclass(frozen=True)
class Districts:
    d1: JSON  # 362 Nam Trực
    d2: JSON  # 360 Ý Yên


async def districts(client: httpx.AsyncClient) -> Districts:
    province = await f.province(client)
    d1 = await f.district(client, province["id"])
    d2 = await f.district(client, province["id"], code="360", name="Ý Yên")
    return Districts(d1, d2)
