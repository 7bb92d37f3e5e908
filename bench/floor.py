"""The floor: the service's own SQL behind a minimal raw ASGI app (asyncpg + orjson, no framework).

bench/run.py captures the statements the service sends for each scenario (by running the app's
own code against the bench database) and writes them, with their parameters and the shape of
the response, to the JSON file named by FLOOR_CONFIG. Run under uvicorn with as many workers as
the service:

    FLOOR_CONFIG=... FLOOR_DATABASE_URL=postgresql://... uvicorn --factory bench.floor:create --workers N

For each request it takes a pooled connection, runs the same statement(s) with the same
parameters, and returns orjson-encoded JSON of the same shape. Nothing else: no validation, no
transaction, no cache.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import orjson

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

JSON_HEADERS = [(b"content-type", b"application/json")]


def decode_param(value: Any) -> Any:
    """Parameters travel as JSON; dates are tagged {"$date": "YYYY-MM-DD"}."""
    if isinstance(value, dict) and "$date" in value:
        return date.fromisoformat(value["$date"])
    if isinstance(value, list):
        return [decode_param(v) for v in value]
    return value


def render_row(row: asyncpg.Record, json_column: int | None, skip: frozenset[str]) -> Any:
    """A row as the service shows a record: its JSON when the SQL renders it (then embedded as
    is), otherwise the row as a dict."""
    if json_column is not None:
        return orjson.Fragment(row[json_column])
    return {k: v for k, v in row.items() if k not in skip}


def as_int(value: Any) -> Any:
    return int(value) if isinstance(value, Decimal) else value


class Floor:
    def __init__(self, config: dict[str, Any], dsn: str) -> None:
        self.config = config
        self.dsn = dsn
        self.pool: asyncpg.Pool | None = None
        self.pools: dict[tuple[tuple[str, str], ...], asyncpg.Pool] = {}
        self.gate = asyncio.Semaphore(1)
        self.exact: dict[str, dict[str, Any]] = {}
        self.item: dict[str, Any] | None = None
        for scenario in config["scenarios"]:
            for statement in scenario["statements"]:
                statement["params"] = [decode_param(p) for p in statement["params"]]
            if scenario["kind"] == "item":
                self.item = scenario
            else:
                self.exact[scenario["target"]] = scenario

    async def start(self) -> None:
        """One pool per set of session settings the scenarios need (the service sets a longer
        statement timeout and more work_mem for its statistics, SET LOCAL in its transaction):
        the floor's statements run under the same settings without a transaction. One scenario
        runs at a time, so the pools' sizes add up to no more concurrency than the service's."""
        pool = self.config["pool"]
        for scenario in self.config["scenarios"]:
            key = self.settings_key(scenario)
            if key not in self.pools:
                self.pools[key] = await asyncpg.create_pool(
                    self.dsn, min_size=1, max_size=pool["size"], server_settings=dict(key)
                )
        self.pool = next(iter(self.pools.values()))
        # The service computes at most this many aggregates at once per process; the rest wait.
        self.gate = asyncio.Semaphore(pool.get("stats_concurrency", pool["size"]))

    def settings_key(self, scenario: dict[str, Any]) -> tuple[tuple[str, str], ...]:
        base = dict(self.config["pool"]["server_settings"])
        if "statement_timeout_ms" in scenario:
            base["statement_timeout"] = str(scenario["statement_timeout_ms"])
        base |= scenario.get("local_settings", {})
        return tuple(sorted(base.items()))

    def pool_for(self, scenario: dict[str, Any]) -> asyncpg.Pool:
        return self.pools[self.settings_key(scenario)]

    async def stop(self) -> None:
        for pool in self.pools.values():
            await pool.close()

    async def handle(self, target: str) -> tuple[int, bytes]:
        scenario = self.exact.get(target)
        if scenario is None and self.item is not None and target.startswith(self.item["prefix"]):
            tail = target[len(self.item["prefix"]) :]
            if tail.isdigit():
                return await self.get_item(int(tail))
        if scenario is None:
            return 404, b'{"detail":"not found"}'
        kind = scenario["kind"]
        if kind in {"overview", "grouped"}:
            try:
                await asyncio.wait_for(self.gate.acquire(), scenario["statement_timeout_ms"] / 1000)
            except TimeoutError:
                return 503, b'{"detail":"busy"}'
            try:
                results = await self.fetch_all(scenario)
            finally:
                self.gate.release()
        else:
            results = await self.fetch_all(scenario)
        if kind == "list":
            rows = results[0]
            total_column = scenario["total_column"]
            skip = frozenset({total_column})
            body: Any = {
                "items": [render_row(r, scenario["json_column"], skip) for r in rows],
                "total": rows[0][total_column] if rows else 0,
                "limit": scenario["limit"],
                "offset": scenario["offset"],
            }
        elif kind == "overview":
            body = overview_body(scenario, results[0])
        elif kind == "grouped":
            body = grouped_body(scenario, results[0], results[1][0])
        else:  # pragma: no cover - run.py writes only these kinds
            return 500, b"{}"
        return 200, orjson.dumps(body, option=orjson.OPT_UTC_Z)

    async def fetch_all(self, scenario: dict[str, Any]) -> list[list[asyncpg.Record]]:
        async with self.pool_for(scenario).acquire(timeout=self.config["pool"]["timeout_s"]) as conn:
            return [await conn.fetch(s["sql"], *s["params"]) for s in scenario["statements"]]

    async def get_item(self, record_id: int) -> tuple[int, bytes]:
        assert self.pool is not None and self.item is not None
        statement = self.item["statements"][0]
        params = list(statement["params"])
        params[self.item["id_param"]] = record_id
        async with self.pool_for(self.item).acquire(timeout=self.config["pool"]["timeout_s"]) as conn:
            row = await conn.fetchrow(statement["sql"], *params)
        if row is None or (self.item["json_column"] is not None and row[0] is None):
            return 404, b'{"detail":"not found"}'
        if self.item["json_column"] is not None:
            return 200, row[self.item["json_column"]].encode()
        return 200, orjson.dumps(render_row(row, None, frozenset()), option=orjson.OPT_UTC_Z)


def overview_body(scenario: dict[str, Any], rows: list[asyncpg.Record]) -> dict[str, Any]:
    """The overview's published shape from its query's rows (as app.stats.queries does)."""
    codes = scenario["codes"]
    by_group = dict.fromkeys(codes["craft_group"], 0)
    by_sector = dict.fromkeys(codes["sector"], 0)
    fairs = dict.fromkeys(codes["fair_kind"], 0)
    programmes = dict.fromkeys(codes["programme_kind"], 0)
    support = dict.fromkeys(codes["programme_kind"], 0)
    counterpart = dict.fromkeys(codes["programme_kind"], 0)
    villages = {"total": 0, "recognised": 0, "workers": 0, "production_value_vnd": 0}
    cooperatives = hosted_booths = 0
    for part, code, a, b in rows:
        if part == "village" and code is None:
            villages["total"], villages["recognised"] = int(a), int(b)
        elif part == "village":
            by_group[code] = int(a)
        elif part == "figure":
            villages["workers"], villages["production_value_vnd"] = int(a), int(b)
        elif part == "cooperative" and code is None:
            cooperatives = int(a)
        elif part == "cooperative":
            by_sector[code] = int(a)
        elif part == "programme":
            programmes[code] = int(a)
        elif part == "funding":
            support[code], counterpart[code] = int(a), int(b)
        elif part == "fair":
            fairs[code] = int(a)
            if code == "hosted":
                hosted_booths = int(b)
    ext, promo = "industrial_extension", "trade_promotion"
    return {
        "year": scenario["year"],
        "villages": {
            "total": villages["total"],
            "recognised": villages["recognised"],
            "by_craft_group": by_group,
            "workers": villages["workers"],
            "production_value_vnd": villages["production_value_vnd"],
        },
        "cooperatives": {"total": cooperatives, "by_sector": by_sector},
        "industrial_extension": {
            "programmes": programmes[ext],
            "support_vnd": support[ext],
            "counterpart_vnd": counterpart[ext],
        },
        "trade_promotion": {
            "programmes": programmes[promo],
            "support_vnd": support[promo],
            "fairs": fairs,
            "hosted_booths": hosted_booths,
        },
    }


def grouped_body(
    scenario: dict[str, Any], rows: list[asyncpg.Record], totals: asyncpg.Record
) -> dict[str, Any]:
    """Grouped statistics: enumerations as {code, vi, en}, numbers and measures as integers."""
    dims = scenario["dimensions"]
    measures = scenario["measures"]
    out_rows = []
    for row in rows:
        out: dict[str, Any] = {}
        for dim in dims:
            value = row[dim["name"]]
            if dim["kind"] == "enum":
                label = dim["labels"].get(value) if value is not None else None
                out[dim["name"]] = {
                    "code": value,
                    "vi": label[0] if label else None,
                    "en": label[1] if label else None,
                }
            elif dim["kind"] == "number":
                out[dim["name"]] = None if value is None else int(value)
            else:
                out[dim["name"]] = as_int(value)
        for measure in measures:
            out[measure] = int(row[measure])
        out_rows.append(out)
    return {
        "group_by": [d["name"] for d in dims],
        "rows": out_rows,
        "totals": {m: int(totals[m]) for m in measures},
    }


def create() -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    config = orjson.loads(Path(os.environ["FLOOR_CONFIG"]).read_bytes())
    floor = Floor(config, os.environ["FLOOR_DATABASE_URL"])

    async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await floor.start()
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await floor.stop()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        query: bytes = scope["query_string"]
        if path == "/health":
            status, body = 200, b'{"status":"ok"}'
        else:
            status, body = await floor.handle(path + "?" + query.decode() if query else path)
        await send({"type": "http.response.start", "status": status, "headers": JSON_HEADERS})
        await send({"type": "http.response.body", "body": body})

    return asgi
