"""Every resource's rule cases (tests/<package>/rules.py), run against the database and the API;
together they cover every CHECK, UNIQUE and FOREIGN KEY of the registry's tables; and the
embedded lines follow their parent (CASCADE)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import count
from tests.models.constraints import (
    Case,
    Restrict,
    check_refused,
    check_restrict,
    check_valid_row,
    rule_modules,
)

RULES = rule_modules().values()
TABLES = [table for module in RULES for table in module.TABLES]
CASES: dict[str, Case] = {name: case for module in RULES for name, case in module.CASES.items()}
RESTRICT: dict[str, Restrict] = {name: r for module in RULES for name, r in module.RESTRICT.items()}
# A name used by two resources' modules would hide one of the cases.
assert len(CASES) == sum(len(module.CASES) for module in RULES), "a case name is used twice"
assert len(RESTRICT) == sum(len(module.RESTRICT) for module in RULES), "a constraint is listed twice"


@pytest.mark.parametrize("table", TABLES)
async def test_the_valid_row_of_each_table_is_accepted(base: AsyncSession, table: str) -> None:
    """The control: without the one change a case makes, its row goes in."""
    await check_valid_row(base, table)


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
async def test_database_and_api_refuse(client: httpx.AsyncClient, base: AsyncSession, case: Case) -> None:
    await check_refused(client, base, case)


@pytest.mark.parametrize("constraint", list(RESTRICT))
async def test_database_refuses_to_delete_what_is_referred_to(
    client: httpx.AsyncClient, base: AsyncSession, constraint: str
) -> None:
    await check_restrict(client, base, constraint, RESTRICT[constraint])


async def test_every_constraint_has_a_case(db: AsyncSession) -> None:
    # The registry's tables (statistics and bookkeeping tables are not part of this contract).
    rows = await db.execute(
        text(
            "SELECT conname FROM pg_constraint WHERE contype IN ('c', 'u', 'f')"
            " AND conrelid::regclass::text = ANY(:tables)"
        ),
        {"tables": TABLES},
    )
    in_database = set(rows.scalars())
    tested = {case.constraint for case in CASES.values()} | set(RESTRICT)
    assert in_database == tested
    assert len(in_database) == 90


async def test_embedded_lines_go_with_their_parent(base: AsyncSession) -> None:
    """The three CASCADE keys: funding, beneficiaries and participants follow their parent."""
    await base.execute(
        text("INSERT INTO programme_funding (programme_id, source, amount_vnd) VALUES (9302, 'central', 5)")
    )
    await base.execute(
        text("INSERT INTO programme_beneficiary (programme_id, village_id) VALUES (9302, 9101)")
    )
    await base.execute(
        text("INSERT INTO trade_fair_participant (trade_fair_id, cooperative_id) VALUES (9402, 9201)")
    )
    assert (await count(base, "programme_funding"), await count(base, "programme_beneficiary")) == (2, 3)
    assert await count(base, "trade_fair_participant") == 3
    await base.execute(text("DELETE FROM programme WHERE id = 9302"))
    await base.execute(text("DELETE FROM trade_fair WHERE id = 9402"))
    assert (await count(base, "programme_funding"), await count(base, "programme_beneficiary")) == (1, 2)
    assert await count(base, "trade_fair_participant") == 2
