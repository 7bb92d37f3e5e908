"""Together the resources' cases (tests/<package>/test_constraints.py) cover every CHECK, UNIQUE
and FOREIGN KEY of the registry's tables; and the embedded lines follow their parent (CASCADE)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import count
from tests.models.constraints import rule_modules


async def test_every_constraint_has_a_case(db: AsyncSession) -> None:
    modules = rule_modules().values()
    # The registry's tables (statistics and bookkeeping tables are not part of this contract).
    tables = [table for module in modules for table in module.TABLES]
    rows = await db.execute(
        text(
            "SELECT conname FROM pg_constraint WHERE contype IN ('c', 'u', 'f')"
            " AND conrelid::regclass::text = ANY(:tables)"
        ),
        {"tables": tables},
    )
    in_database = set(rows.scalars())
    tested = {case.constraint for module in modules for case in module.CASES.values()}
    tested |= {constraint for module in modules for constraint in module.RESTRICT}
    assert in_database == tested
    assert len(in_database) == 74


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
