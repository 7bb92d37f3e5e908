"""app/kit/timeline.py on the national gazetteer: which unit a unit became (or had been) on a day.

Expected images come from the official conversion table and the hand-recorded changes
(app/admin_units/gazetteer/), written here by hand: 13777 Xã Thành Lợi merged whole into Phường
Trường Thi on 2025-07-01; 13285 Xã Quang Trung (Bình Lục, Hà Nam) was merged in part into two
communes; province 36 Nam Định went whole into 37 Ninh Bình; district 358 Mỹ Lộc into 356 Nam Định
on 2024-09-01, and its township 13708 was renamed Hưng Lộc that day; 24235 Xã Krông Na was
renamed Xã Buôn Đôn on 2025-07-01.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.orm import aliased

from app.kit.timeline import images
from app.models import AdminUnit

LEGACY = date(2025, 6, 30)
REFORM = date(2025, 7, 1)


@pytest.fixture(scope="module")
async def conn(gazetteer_copy: str) -> AsyncIterator[AsyncConnection]:
    engine = create_async_engine(gazetteer_copy)
    try:
        async with engine.connect() as connection:
            yield connection
    finally:
        await engine.dispose()


async def image(
    conn: AsyncConnection, level: str, code: str, valid_on: date, as_of: date
) -> tuple[str, str, date | None] | None:
    """The image on `as_of` of the unit of `level` and `code` valid on `valid_on`: (code, name,
    valid_from), or None when it has none."""
    unit, found = aliased(AdminUnit), aliased(AdminUnit)
    mapped = images()
    query = (
        select(found.code, found.name, found.valid_from, unit.id)
        .select_from(unit)
        .outerjoin(mapped, mapped.c.unit_id == unit.id)
        .outerjoin(found, found.id == mapped.c.image_id)
        .where(
            unit.level == level,
            unit.code == code,
            func.coalesce(unit.valid_from, date.min) <= valid_on,
            func.coalesce(unit.valid_to, date.max) >= valid_on,
        )
    )
    rows = (await conn.execute(query, {"as_of": as_of})).all()
    assert len(rows) == 1, (level, code, valid_on, rows)
    code_, name, valid_from, _ = rows[0]
    return None if code_ is None else (code_, name, valid_from)


async def test_a_commune_merged_whole_becomes_the_new_commune_that_reuses_its_code(
    conn: AsyncConnection,
) -> None:
    assert await image(conn, "commune", "13777", LEGACY, REFORM) == ("13777", "Trường Thi", REFORM)
    assert await image(conn, "commune", "13777", LEGACY, date(2026, 12, 1)) == ("13777", "Trường Thi", REFORM)
    # The day before, it is still itself.
    assert await image(conn, "commune", "13777", LEGACY, LEGACY) == ("13777", "Thành Lợi", None)


async def test_a_commune_merged_in_part_has_no_image(conn: AsyncConnection) -> None:
    assert await image(conn, "commune", "13285", LEGACY, REFORM) is None
    assert await image(conn, "commune", "13285", LEGACY, date(2015, 12, 31)) == ("13285", "Quang Trung", None)


async def test_a_merger_has_no_image_before_it(conn: AsyncConnection) -> None:
    """Phường Trường Thi was formed from two communes: in 2015 it was neither alone."""
    assert await image(conn, "commune", "13777", REFORM, date(2015, 6, 1)) is None
    assert await image(conn, "commune", "13777", REFORM, REFORM) == ("13777", "Trường Thi", REFORM)


async def test_a_province_merged_whole(conn: AsyncConnection) -> None:
    assert await image(conn, "province", "36", LEGACY, REFORM) == ("37", "Ninh Bình", REFORM)
    # The old Ninh Bình (37) too; the new one was three provinces in 2015.
    assert await image(conn, "province", "37", LEGACY, REFORM) == ("37", "Ninh Bình", REFORM)
    assert await image(conn, "province", "37", REFORM, date(2015, 6, 1)) is None
    assert await image(conn, "province", "36", LEGACY, date(2015, 6, 1)) == ("36", "Nam Định", None)


async def test_the_2024_change_in_nam_dinh(conn: AsyncConnection) -> None:
    """District 358 Mỹ Lộc went whole into Nam Định city on 2024-09-01; districts ended on
    2025-06-30 with no district after them."""
    assert await image(conn, "district", "358", date(2020, 1, 1), date(2024, 8, 31)) == (
        "358",
        "Mỹ Lộc",
        None,
    )
    assert await image(conn, "district", "358", date(2020, 1, 1), date(2024, 9, 1)) == (
        "356",
        "Nam Định",
        None,
    )
    assert await image(conn, "district", "358", date(2020, 1, 1), REFORM) is None
    # The township renamed Hưng Lộc that day (a ward of Nam Định city).
    renamed = ("13708", "Hưng Lộc", date(2024, 9, 1))
    assert await image(conn, "commune", "13708", date(2020, 1, 1), date(2024, 9, 1)) == renamed


async def test_a_renamed_commune_goes_back_to_its_only_predecessor(conn: AsyncConnection) -> None:
    """24235 Xã Krông Na (Đắk Lắk) was renamed Xã Buôn Đôn on 2025-07-01."""
    assert await image(conn, "commune", "24235", REFORM, date(2015, 6, 1)) == ("24235", "Krông Na", None)
    assert await image(conn, "commune", "24235", LEGACY, REFORM) == ("24235", "Buôn Đôn", REFORM)


async def test_every_unit_at_most_once_in_one_statement(conn: AsyncConnection) -> None:
    mapped = images()
    for day in (date(2015, 6, 1), date(2024, 9, 1), REFORM):
        total, distinct = (
            await conn.execute(
                select(func.count(), func.count(mapped.c.unit_id.distinct())).select_from(mapped),
                {"as_of": day},
            )
        ).one()
        assert total == distinct > 3000
        valid = (
            await conn.execute(
                select(func.count())
                .select_from(AdminUnit)
                .where(
                    func.coalesce(AdminUnit.valid_from, date.min) <= day,
                    func.coalesce(AdminUnit.valid_to, date.max) >= day,
                )
            )
        ).scalar_one()
        images_valid = (
            await conn.execute(
                select(func.count(mapped.c.image_id.distinct())).select_from(mapped), {"as_of": day}
            )
        ).scalar_one()
        assert images_valid == valid  # every image is a unit of that day, and every unit of that day its own
