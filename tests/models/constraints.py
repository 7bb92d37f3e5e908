"""The database itself refuses what the API refuses: one raw-SQL test per CHECK, UNIQUE and FOREIGN KEY.

Each case inserts (or updates, or deletes) a row that breaks exactly one rule, through the test's
own session and without the API, and expects PostgreSQL to name that rule. The same mistake sent
through the API comes back as a 4xx problem, and leaves the database as it was.

This module is the method and the rows every case starts from; each resource's cases are in its
own tests/<package>/rules.py (TABLES, CASES, RESTRICT); tests/models/test_constraints.py runs them
all and checks that together they cover every rule of the registry's tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import classify_db_error
from app.registry import REGISTRY
from tests.factories import API, JSON, assert_problem, count, declared, snapshot


def row(table: str, **values: object) -> str:
    """INSERT of one row given as Python values (text quoted, None as NULL)."""

    def literal(value: object) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, str):
            return "'" + value.replace("'", "''") + "'"
        return str(value)

    return f"INSERT INTO {table} ({', '.join(values)}) VALUES ({', '.join(map(literal, values.values()))})"


# Rows every case starts from, with fixed ids far above what the identity columns hand out.
BASE = [
    row("admin_unit", id=9001, code="36", name="Nam Định", level="province"),
    row("admin_unit", id=9002, code="362", name="Nam Trực", level="district", parent_id=9001),
    row("village", id=9101, name="Vân Chàng", district_id=9002, craft_group="manufacturing"),
    "INSERT INTO cooperative (id, name, sector, district_id, registration_code)"
    " VALUES (9201, 'HTX Vân Chàng', 'mechanical', 9002, 'HTX-9201')",
    "INSERT INTO programme (id, name, kind, activity, year)"
    " VALUES (9301, 'Đào tạo nghề', 'industrial_extension', 'vocational_training', 2015)",
    "INSERT INTO programme (id, name, kind, activity, year)"
    " VALUES (9302, 'Hội chợ ngoài tỉnh', 'trade_promotion', 'fair_participation', 2016)",
    row("programme_funding", id=9311, programme_id=9301, source="central", amount_vnd=1000),
    row("programme_beneficiary", id=9321, programme_id=9301, village_id=9101),
    row("programme_beneficiary", id=9322, programme_id=9301, cooperative_id=9201),
    "INSERT INTO trade_fair (id, name, kind, start_on, end_on, programme_id)"
    " VALUES (9401, 'Hội chợ Nam Định', 'hosted', '2015-10-01', '2015-10-05', 9301)",
    "INSERT INTO trade_fair (id, name, kind, start_on, end_on)"
    " VALUES (9402, 'Hội chợ Hà Nội', 'attended', '2016-01-01', '2016-01-03')",
    row("trade_fair_participant", id=9411, trade_fair_id=9401, village_id=9101),
    row("trade_fair_participant", id=9412, trade_fair_id=9401, cooperative_id=9201),
    row("village_figure", id=9501, village_id=9101, year=2015),
]

# A row each table accepts on top of BASE; a case changes one or two of its columns.
VALID: dict[str, dict[str, str]] = {
    "admin_unit": {"code": "'99999'", "name": "'Xã thử'", "level": "'commune'", "parent_id": "9002"},
    "village": {"name": "'Làng thử'", "district_id": "9002", "craft_group": "'salt'"},
    "village_figure": {"village_id": "9101", "year": "2016"},
    "cooperative": {"name": "'HTX thử'", "sector": "'sedge'", "district_id": "9002"},
    "programme": {
        "name": "'Đề án thử'",
        "kind": "'industrial_extension'",
        "activity": "'consulting'",
        "year": "2016",
    },
    "programme_funding": {"programme_id": "9301", "source": "'provincial'", "amount_vnd": "1"},
    "programme_beneficiary": {"programme_id": "9302", "village_id": "9101"},
    "trade_fair": {
        "name": "'Hội chợ thử'",
        "kind": "'attended'",
        "start_on": "'2016-01-01'",
        "end_on": "'2016-01-02'",
    },
    "trade_fair_participant": {"trade_fair_id": "9402", "village_id": "9101"},
    "admin_unit_succession": {
        "predecessor_id": "9002",
        "successor_id": "9001",
        "effective_on": "'2025-07-01'",
        "kind": "'part'",
    },
}


def insert(table: str, **changes: str) -> str:
    """INSERT of VALID[table] with some columns replaced by these SQL literals."""
    row = {**VALID[table], **changes}
    return f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join(row.values())})"


# Bodies the API accepts, for the same tables, referring to BASE.
BODY: dict[str, JSON] = {
    "admin-units": {"code": "99999", "name": "Xã thử", "level": "commune", "parent_id": 9002},
    "villages": {"name": "Làng thử", "district_id": 9002, "craft_group": "salt"},
    "village-figures": {"village_id": 9101, "year": 2016},
    "cooperatives": {"name": "HTX thử", "sector": "sedge", "district_id": 9002},
    "programmes": {
        "name": "Đề án thử",
        "kind": "industrial_extension",
        "activity": "consulting",
        "year": 2016,
    },
    "trade-fairs": {
        "name": "Hội chợ thử",
        "kind": "attended",
        "start_on": "2016-01-01",
        "end_on": "2016-01-02",
    },
}


@dataclass(frozen=True)
class Api:
    """The same mistake through the API, and the status it must get."""

    method: str
    path: str
    body: JSON | None
    status: int


def post(path: str, expect: int = 422, **changes: Any) -> Api:
    return Api("POST", path, {**BODY[path], **changes}, expect)


def lines(path: str, name: str, *items: JSON) -> Api:
    """A new programme or fair whose embedded list is these lines."""
    return Api("POST", path, {**BODY[path], name: list(items)}, 422)


@dataclass(frozen=True)
class Case:
    constraint: str
    sql: str
    api: Api
    setup: tuple[str, ...] = field(default=())


NOWHERE = "8999999"  # an id no table holds

SQLSTATE = {"ck": "23514", "uq": "23505", "fk": "23503"}
# A broken rule is invalid input; a clash with another record is a conflict.
MAPPED = {"ck": 422, "uq": 409, "fk": 409}


async def refusal(db: AsyncSession, statement: str) -> tuple[str, str, int]:
    """Run a statement that must fail: the SQLSTATE and the constraint PostgreSQL names, and the
    HTTP status the service's error mapping gives this very error."""
    with pytest.raises(IntegrityError) as caught:
        async with db.begin_nested():
            await db.execute(text(statement))
    driver = getattr(caught.value.orig, "__cause__", None) or caught.value.orig
    status = classify_db_error(caught.value).status
    return str(getattr(driver, "sqlstate", "")), str(getattr(driver, "constraint_name", "")), status


async def check_valid_row(base: AsyncSession, table: str) -> None:
    """The control: without the one change a case makes, its row goes in."""
    before = await count(base, table)
    async with base.begin_nested():
        await base.execute(text(insert(table)))
    assert await count(base, table) == before + 1


async def check_refused(client: httpx.AsyncClient, base: AsyncSession, case: Case) -> None:
    """The API refuses the mistake and changes nothing; the database names the rule it breaks."""
    if case.api.body is not None:
        before = await snapshot(base)
        response = await client.request(case.api.method, f"{API}/{case.api.path}", json=case.api.body)
        assert_problem(response, case.api.status)
        assert await snapshot(base) == before
    for statement in case.setup:
        await base.execute(text(statement))
    sqlstate, constraint, status = await refusal(base, case.sql)
    assert constraint == case.constraint
    assert sqlstate == SQLSTATE[case.constraint[:2]]
    # Should a write ever reach the database with this mistake, the client still gets a 4xx.
    assert status == MAPPED[case.constraint[:2]]


# Each RESTRICT foreign key: a record referred to only through it, and what the API names.
@dataclass(frozen=True)
class Restrict:
    setup: tuple[str, ...]
    delete: str
    api_path: str
    referenced_by: JSON


async def check_restrict(
    client: httpx.AsyncClient, base: AsyncSession, constraint: str, case: Restrict
) -> None:
    """The database refuses to delete the record referred to; the API answers 409 naming who refers."""
    for statement in case.setup:
        await base.execute(text(statement))
    await base.commit()
    sqlstate, named, status = await refusal(base, case.delete)
    # PostgreSQL 18 reports ON DELETE RESTRICT as restrict_violation; before, as foreign_key_violation.
    version = int((await base.execute(text("SHOW server_version_num"))).scalar_one())
    assert (sqlstate, named) == ("23001" if version >= 180000 else "23503", constraint)
    # A delete that got past the service's own check (a referrer added concurrently) is a conflict.
    assert status == 409

    before = await snapshot(base)
    problem = assert_problem(await client.delete(f"{API}/{case.api_path}"), 409)
    assert problem["referenced_by"] == [case.referenced_by]
    assert await snapshot(base) == before


def rule_modules() -> dict[str, ModuleType]:
    """Each registered resource's tests/<package>/rules.py, by path."""
    what = "cases of its tables' rules (TABLES, CASES, RESTRICT)"
    return {res.path: declared(res.path, "rules", what) for res in REGISTRY}
