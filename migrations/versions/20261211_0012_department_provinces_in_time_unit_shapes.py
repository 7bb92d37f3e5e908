"""Department provinces in time, and the shape of administrative units

A programme's department province (department_province_id) must exist in some part of the
programme's year, a fair's on some day of the fair (start_on..end_on): constraint triggers
(deferrable, checked at the end of each statement unless deferred) raise check_violation named
ck_programme_department_province_in_year and ck_trade_fair_department_province_on_dates, as the
village figure-year checks of migration 0008 do. They judge a write of these rows only; rows
written before are not refused (those found are reported at WARNING) until they are changed.

An administrative unit's code has the digits of its level (a province 2, a district 3, a commune 5:
what resolve and the code filters read) and a district or a commune has a parent: CHECK
constraints ck_admin_unit_code_fits_level and ck_admin_unit_parent_given. The national gazetteer
satisfies both; an upgrade over units that do not is refused with the constraint's error (correct
them first).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-11 12:00:00+00:00
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

# A unit exists during [first_day, last_day]: an unknown start or end is open.
EXISTS_DURING = """
CREATE FUNCTION unit_exists_during(unit bigint, first_day date, last_day date) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (
        SELECT FROM admin_unit u
        WHERE u.id = unit
          AND (u.valid_from IS NULL OR u.valid_from <= last_day)
          AND (u.valid_to IS NULL OR u.valid_to >= first_day))
$$
"""

PROGRAMME_DEPARTMENT_IN_YEAR = """
CREATE FUNCTION programme_department_in_year() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT FROM programme p
        WHERE p.id = NEW.id AND p.department_province_id IS NOT NULL
          AND NOT unit_exists_during(p.department_province_id, make_date(p.year, 1, 1),
                                     make_date(p.year, 12, 31))
    ) THEN
        PERFORM place_rule('ck_programme_department_province_in_year',
                           format('programme %s', NEW.id));
    END IF;
    RETURN NULL;
END $$
"""

TRADE_FAIR_DEPARTMENT_ON_DATES = """
CREATE FUNCTION trade_fair_department_on_dates() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT FROM trade_fair f
        WHERE f.id = NEW.id AND f.department_province_id IS NOT NULL
          AND NOT unit_exists_during(f.department_province_id, f.start_on,
                                     greatest(f.start_on, f.end_on))
    ) THEN
        PERFORM place_rule('ck_trade_fair_department_province_on_dates',
                           format('trade fair %s', NEW.id));
    END IF;
    RETURN NULL;
END $$
"""

FUNCTIONS = (
    ("unit_exists_during(bigint, date, date)", EXISTS_DURING),
    ("programme_department_in_year()", PROGRAMME_DEPARTMENT_IN_YEAR),
    ("trade_fair_department_on_dates()", TRADE_FAIR_DEPARTMENT_ON_DATES),
)

TRIGGERS = (
    (
        "ck_programme_department_province_in_year",
        "programme",
        "AFTER INSERT OR UPDATE OF department_province_id, year ON programme "
        "DEFERRABLE INITIALLY IMMEDIATE FOR EACH ROW EXECUTE FUNCTION programme_department_in_year()",
    ),
    (
        "ck_trade_fair_department_province_on_dates",
        "trade_fair",
        "AFTER INSERT OR UPDATE OF department_province_id, start_on, end_on ON trade_fair "
        "DEFERRABLE INITIALLY IMMEDIATE FOR EACH ROW EXECUTE FUNCTION trade_fair_department_on_dates()",
    ),
)

# Frozen copies of app.models.admin_unit's conditions, as of this revision.
CODE_FITS_LEVEL = (
    "level NOT IN ('province', 'district', 'commune') "
    "OR (level = 'province' AND code ~ '^[0-9]{2}$') "
    "OR (level = 'district' AND code ~ '^[0-9]{3}$') "
    "OR (level = 'commune' AND code ~ '^[0-9]{5}$')"
)
PARENT_GIVEN = "level NOT IN ('district', 'commune') OR parent_id IS NOT NULL"

MISPLACED = """
SELECT 'programme' AS "table", p.id, p.department_province_id AS unit
FROM programme p
WHERE p.department_province_id IS NOT NULL
  AND NOT unit_exists_during(p.department_province_id, make_date(p.year, 1, 1), make_date(p.year, 12, 31))
UNION ALL
SELECT 'trade_fair', f.id, f.department_province_id
FROM trade_fair f
WHERE f.department_province_id IS NOT NULL
  AND NOT unit_exists_during(f.department_province_id, f.start_on, greatest(f.start_on, f.end_on))
ORDER BY 1, 2
"""


def upgrade() -> None:
    op.create_check_constraint(op.f("ck_admin_unit_code_fits_level"), "admin_unit", CODE_FITS_LEVEL)
    op.create_check_constraint(op.f("ck_admin_unit_parent_given"), "admin_unit", PARENT_GIVEN)
    for _, source in FUNCTIONS:
        op.execute(source)
    for name, _, definition in TRIGGERS:
        op.execute(f"CREATE CONSTRAINT TRIGGER {name} {definition}")
    for row in op.get_bind().execute(sa.text(MISPLACED)):
        log.warning(
            "department province of another time: %s %s, unit %s (refused when next changed)",
            row.table,
            row.id,
            row.unit,
        )


def downgrade() -> None:
    for name, table, _ in reversed(TRIGGERS):
        op.execute(f"DROP TRIGGER {name} ON {table}")
    for signature, _ in reversed(FUNCTIONS):
        op.execute(f"DROP FUNCTION {signature}")
    op.drop_constraint(op.f("ck_admin_unit_parent_given"), "admin_unit", type_="check")
    op.drop_constraint(op.f("ck_admin_unit_code_fits_level"), "admin_unit", type_="check")
