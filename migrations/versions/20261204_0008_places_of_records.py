"""Places of records: villages and co-operatives in a commune of the gazetteer, district and
province derived; programmes and fairs by the province whose department recorded them

village and cooperative gain `commune_id` (the commune as recorded: a unit of level commune valid
when the figures were taken), `province_id` (required, derived) and `other_commune_ids` (the
record's communes at other dates); `district_id` becomes optional (a commune created in 2025 has
no district). The trigger place_record() derives district_id and province_id upward from the most
specific unit given and checks each unit's level; a rule it enforces is raised as check_violation
naming ck_<table>_<rule> (the messages: app.models.admin_unit.PLACE_RULES). Constraint triggers
(deferrable, checked at the end of each statement unless deferred) refuse a village whose units
exist in none of the years it has figures for, a figure for such a year, and a co-operative none of
whose units exists on founded_on. An administrative unit that an other_commune_ids holds cannot be
deleted (foreign_key_violation, like the foreign keys). programme and trade_fair gain
`department_province_id`, a unit of level province.

Data: each existing record's province is its district's parent. Its commune is found by name among
the communes of its district (case and tone marks ignored; the name or the name with its type;
valid in every year of the village's figures, on a co-operative's founded_on; a unique match only).
A co-operative takes the commune of its village when that village is in the same district. Each
record placed gets a new version and, in the same statement, an audit event of the command line
(actor kind `command_line`, which the audit trail allows from here on; actor "migration 0008"), an
update of commune_id, so the changes feed and the webhooks see it like any change (revision 0010
allows the kind too and writes these events on databases migrated past this revision before it
wrote them). Records left without a commune keep their district and are reported at WARNING, one
line each; `python -m app places unplaced` prints the same report, and `python -m app places
match` runs the matching again (after `places load`, since a fresh database gets its gazetteer
after the migrations). The SQL here is this revision's own, frozen; the command's is in
app/admin_units/placing.py.

Downgrade is refused while a record has no district. The audit trail's rule on actor kinds goes
back to accounts and keys for new events only (NOT VALID): the command line's events stay.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 17:00:00+00:00
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

PLACED = ("village", "cooperative")
DEPARTMENT = ("programme", "trade_fair")

# Raises a rule of the record's table: ck_<table>_<rule>.
RAISE = """
CREATE FUNCTION place_rule(rule text, detail text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', detail USING ERRCODE = 'check_violation', CONSTRAINT = rule;
END $$
"""

PLACE_RECORD = """
CREATE FUNCTION place_record() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    prefix text := 'ck_' || TG_TABLE_NAME || '_';
    unit_level text;
    unit_parent bigint;
    parent_level text;
    parent_parent bigint;
    district bigint;
    province bigint;
    derive_district boolean := false;
    derive_province boolean := false;
    district_given boolean;
    province_given boolean;
    communes bigint[];
BEGIN
    -- Given: on INSERT a value, on UPDATE a change. What is not given is derived.
    IF TG_OP = 'INSERT' THEN
        district_given := NEW.district_id IS NOT NULL;
        province_given := NEW.province_id IS NOT NULL;
    ELSE
        district_given := NEW.district_id IS DISTINCT FROM OLD.district_id;
        province_given := NEW.province_id IS DISTINCT FROM OLD.province_id;
    END IF;
    IF NEW.commune_id IS NOT NULL THEN
        SELECT level, parent_id INTO unit_level, unit_parent FROM admin_unit WHERE id = NEW.commune_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'commune_id % does not exist', NEW.commune_id USING
                ERRCODE = 'foreign_key_violation',
                CONSTRAINT = 'fk_' || TG_TABLE_NAME || '_commune_id_admin_unit';
        END IF;
        IF unit_level <> 'commune' THEN
            PERFORM place_rule(prefix || 'commune_level',
                               format('unit %s is a %s', NEW.commune_id, unit_level));
        END IF;
        SELECT level, parent_id INTO parent_level, parent_parent FROM admin_unit WHERE id = unit_parent;
        IF parent_level = 'district' THEN
            district := unit_parent;
            province := parent_parent;
            derive_district := true;
            derive_province := parent_parent IS NOT NULL;
        ELSIF parent_level = 'province' THEN
            district := NULL;
            province := unit_parent;
            derive_district := true;
            derive_province := true;
        END IF;
    END IF;
    IF NOT derive_district AND NEW.district_id IS NOT NULL THEN
        SELECT level, parent_id INTO unit_level, unit_parent FROM admin_unit WHERE id = NEW.district_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'district_id % does not exist', NEW.district_id USING
                ERRCODE = 'foreign_key_violation',
                CONSTRAINT = 'fk_' || TG_TABLE_NAME || '_district_id_admin_unit';
        END IF;
        IF unit_level <> 'district' THEN
            PERFORM place_rule(prefix || 'district_level',
                               format('unit %s is a %s', NEW.district_id, unit_level));
        END IF;
        province := unit_parent;
        derive_province := unit_parent IS NOT NULL;
    END IF;
    IF derive_district THEN
        IF district_given AND NEW.district_id IS DISTINCT FROM district THEN
            PERFORM place_rule(prefix || 'parents_agree',
                               format('the district of the commune is %s', district));
        END IF;
        NEW.district_id := district;
    END IF;
    IF derive_province THEN
        IF province_given AND NEW.province_id IS DISTINCT FROM province THEN
            PERFORM place_rule(prefix || 'parents_agree', format('the province is %s', province));
        END IF;
        NEW.province_id := province;
    ELSIF NEW.province_id IS NULL THEN
        PERFORM place_rule(prefix || 'placed', 'no commune_id, district_id or province_id');
    ELSE
        SELECT level INTO unit_level FROM admin_unit WHERE id = NEW.province_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'province_id % does not exist', NEW.province_id USING
                ERRCODE = 'foreign_key_violation',
                CONSTRAINT = 'fk_' || TG_TABLE_NAME || '_province_id_admin_unit';
        END IF;
        IF unit_level <> 'province' THEN
            PERFORM place_rule(prefix || 'province_level',
                               format('unit %s is a %s', NEW.province_id, unit_level));
        END IF;
    END IF;
    IF cardinality(NEW.other_commune_ids) > 0 THEN
        IF NEW.commune_id IS NULL THEN
            PERFORM place_rule(prefix || 'others_need_commune',
                               'other_commune_ids: ' || NEW.other_commune_ids::text);
        END IF;
        IF array_position(NEW.other_commune_ids, NULL) IS NOT NULL
           OR NEW.commune_id = ANY (NEW.other_commune_ids)
           OR (SELECT count(DISTINCT o) FROM unnest(NEW.other_commune_ids) o)
              <> cardinality(NEW.other_commune_ids)
           OR (SELECT count(*) FROM admin_unit WHERE id = ANY (NEW.other_commune_ids) AND level = 'commune')
              <> cardinality(NEW.other_commune_ids)
        THEN
            PERFORM place_rule(prefix || 'other_communes_valid',
                               'other_commune_ids: ' || NEW.other_commune_ids::text);
        END IF;
        communes := NEW.other_commune_ids || NEW.commune_id;
        IF EXISTS (
            SELECT FROM admin_unit a JOIN admin_unit b ON a.id < b.id
            WHERE a.id = ANY (communes) AND b.id = ANY (communes)
              AND daterange(a.valid_from, a.valid_to, '[]') && daterange(b.valid_from, b.valid_to, '[]')
        ) THEN
            PERFORM place_rule(prefix || 'communes_apart', 'communes ' || communes::text);
        END IF;
    END IF;
    RETURN NEW;
END $$
"""

# Whether one of a record's units exists during [first_day, last_day]: one of its communes when
# it has any, else its district, else its province. An unknown start or end is open.
PLACE_COVERS = """
CREATE FUNCTION place_covers(commune bigint, others bigint[], district bigint, province bigint,
                             first_day date, last_day date) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (
        SELECT FROM admin_unit u
        WHERE u.id = ANY (
                CASE WHEN commune IS NOT NULL OR cardinality(others) > 0 THEN others || commune
                     WHEN district IS NOT NULL THEN ARRAY[district]
                     ELSE ARRAY[province] END)
          AND (u.valid_from IS NULL OR u.valid_from <= last_day)
          AND (u.valid_to IS NULL OR u.valid_to >= first_day))
$$
"""

VILLAGE_FIGURES_PLACED = """
CREATE FUNCTION village_figures_placed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    uncovered integer;
BEGIN
    SELECT f.year INTO uncovered
    FROM village v JOIN village_figure f ON f.village_id = v.id
    WHERE v.id = NEW.id
      AND NOT place_covers(v.commune_id, v.other_commune_ids, v.district_id, v.province_id,
                           make_date(f.year, 1, 1), make_date(f.year, 12, 31))
    ORDER BY f.year LIMIT 1;
    IF FOUND THEN
        PERFORM place_rule('ck_village_figures_placed',
                           format('village %s has figures for %s', NEW.id, uncovered));
    END IF;
    RETURN NULL;
END $$
"""

VILLAGE_FIGURE_YEAR_PLACED = """
CREATE FUNCTION village_figure_year_placed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The village's row is locked first: a concurrent change of its places waits for this
    -- figure's transaction (or this waits for it), so each check sees the other's outcome.
    PERFORM FROM village WHERE id = NEW.village_id FOR SHARE;
    IF EXISTS (
        SELECT FROM village_figure f JOIN village v ON v.id = f.village_id
        WHERE f.id = NEW.id
          AND NOT place_covers(v.commune_id, v.other_commune_ids, v.district_id, v.province_id,
                               make_date(f.year, 1, 1), make_date(f.year, 12, 31))
    ) THEN
        PERFORM place_rule('ck_village_figure_year_placed',
                           format('village %s in %s', NEW.village_id, NEW.year));
    END IF;
    RETURN NULL;
END $$
"""

COOPERATIVE_FOUNDING_PLACED = """
CREATE FUNCTION cooperative_founding_placed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT FROM cooperative c
        WHERE c.id = NEW.id AND c.founded_on IS NOT NULL
          AND NOT place_covers(c.commune_id, c.other_commune_ids, c.district_id, c.province_id,
                               c.founded_on, c.founded_on)
    ) THEN
        PERFORM place_rule('ck_cooperative_founding_placed', format('co-operative %s', NEW.id));
    END IF;
    RETURN NULL;
END $$
"""

DEPARTMENT_PROVINCE_LEVEL = """
CREATE FUNCTION department_province_level() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.department_province_id IS NOT NULL AND EXISTS (
        SELECT FROM admin_unit WHERE id = NEW.department_province_id AND level <> 'province'
    ) THEN
        PERFORM place_rule('ck_' || TG_TABLE_NAME || '_department_province_level',
                           format('unit %s is no province', NEW.department_province_id));
    END IF;
    RETURN NEW;
END $$
"""

# other_commune_ids is an array, which a foreign key cannot check: deleting a unit it holds is
# refused here, as the foreign keys refuse the others.
OTHER_COMMUNES_HELD = """
CREATE FUNCTION admin_unit_other_communes_held() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT FROM village WHERE other_commune_ids @> ARRAY[OLD.id]) THEN
        RAISE EXCEPTION 'unit % is among the other_commune_ids of a village', OLD.id USING
            ERRCODE = 'foreign_key_violation', CONSTRAINT = 'fk_village_other_commune_ids_admin_unit';
    END IF;
    IF EXISTS (SELECT FROM cooperative WHERE other_commune_ids @> ARRAY[OLD.id]) THEN
        RAISE EXCEPTION 'unit % is among the other_commune_ids of a co-operative', OLD.id USING
            ERRCODE = 'foreign_key_violation', CONSTRAINT = 'fk_cooperative_other_commune_ids_admin_unit';
    END IF;
    RETURN OLD;
END $$
"""

FUNCTIONS = (
    ("place_rule(text, text)", RAISE),
    ("place_record()", PLACE_RECORD),
    ("place_covers(bigint, bigint[], bigint, bigint, date, date)", PLACE_COVERS),
    ("village_figures_placed()", VILLAGE_FIGURES_PLACED),
    ("village_figure_year_placed()", VILLAGE_FIGURE_YEAR_PLACED),
    ("cooperative_founding_placed()", COOPERATIVE_FOUNDING_PLACED),
    ("department_province_level()", DEPARTMENT_PROVINCE_LEVEL),
    ("admin_unit_other_communes_held()", OTHER_COMMUNES_HELD),
)

TRIGGERS = (
    (
        "place_record",
        "village",
        "BEFORE INSERT OR UPDATE ON village FOR EACH ROW EXECUTE FUNCTION place_record()",
    ),
    (
        "place_record",
        "cooperative",
        "BEFORE INSERT OR UPDATE ON cooperative FOR EACH ROW EXECUTE FUNCTION place_record()",
    ),
    (
        "ck_village_figures_placed",
        "village",
        "AFTER UPDATE OF commune_id, other_commune_ids, district_id, province_id ON village "
        "DEFERRABLE INITIALLY IMMEDIATE FOR EACH ROW EXECUTE FUNCTION village_figures_placed()",
    ),
    (
        "ck_village_figure_year_placed",
        "village_figure",
        "AFTER INSERT OR UPDATE OF village_id, year ON village_figure "
        "DEFERRABLE INITIALLY IMMEDIATE FOR EACH ROW EXECUTE FUNCTION village_figure_year_placed()",
    ),
    (
        "ck_cooperative_founding_placed",
        "cooperative",
        "AFTER INSERT OR UPDATE OF founded_on, commune_id, other_commune_ids, district_id, province_id "
        "ON cooperative DEFERRABLE INITIALLY IMMEDIATE "
        "FOR EACH ROW EXECUTE FUNCTION cooperative_founding_placed()",
    ),
    (
        "department_province_level",
        "programme",
        "BEFORE INSERT OR UPDATE OF department_province_id ON programme "
        "FOR EACH ROW EXECUTE FUNCTION department_province_level()",
    ),
    (
        "department_province_level",
        "trade_fair",
        "BEFORE INSERT OR UPDATE OF department_province_id ON trade_fair "
        "FOR EACH ROW EXECUTE FUNCTION department_province_level()",
    ),
    (
        "other_communes_held",
        "admin_unit",
        "BEFORE DELETE ON admin_unit FOR EACH ROW EXECUTE FUNCTION admin_unit_other_communes_held()",
    ),
)


# Names compared ignoring case and marks (f_unaccent drops the vowels' marks too, so Trực Hùng and
# Trực Hưng compare equal), and as written, which settles such a tie.
def _name(column: str) -> str:
    return f"lower(f_unaccent(btrim({column})))"


def _exact(column: str) -> str:
    return f"lower(normalize(btrim({column}), NFC))"


# A village's commune: the one commune of its district whose name (or name with type) is the
# text's, valid in every year the village has figures for.
MATCH_VILLAGES = f"""
UPDATE village v SET commune_id = m.commune_id, version = v.version + 1, updated_at = now()
FROM (
    SELECT w.id,
           CASE WHEN count(*) FILTER (WHERE c.exact) = 1 THEN min(c.id) FILTER (WHERE c.exact)
                WHEN count(*) FILTER (WHERE c.exact) = 0 AND count(*) = 1 THEN min(c.id) END AS commune_id
    FROM village w
    JOIN LATERAL (
        SELECT c.id, c.valid_from, c.valid_to,
               {_exact("w.commune")} IN ({_exact("c.name")}, {_exact("c.name_with_type")}) AS exact
        FROM admin_unit c
        WHERE c.parent_id = w.district_id AND c.level = 'commune'
          AND {_name("w.commune")} IN ({_name("c.name")}, {_name("c.name_with_type")})
    ) c ON true
    WHERE w.commune_id IS NULL AND w.district_id IS NOT NULL
      AND NOT EXISTS (
          SELECT FROM village_figure f
          WHERE f.village_id = w.id
            AND NOT ((c.valid_from IS NULL OR c.valid_from <= make_date(f.year, 12, 31))
                     AND (c.valid_to IS NULL OR c.valid_to >= make_date(f.year, 1, 1))))
    GROUP BY w.id
) m
WHERE v.id = m.id AND m.commune_id IS NOT NULL
RETURNING v.id, v.version, v.commune_id
"""

# A co-operative's commune: its village's, when the village is in the same district and the
# commune existed on founded_on.
MATCH_COOPERATIVES = """
UPDATE cooperative o SET commune_id = v.commune_id, version = o.version + 1, updated_at = now()
FROM village v, admin_unit c
WHERE o.commune_id IS NULL AND v.id = o.village_id AND v.district_id = o.district_id
  AND c.id = v.commune_id
  AND (o.founded_on IS NULL
       OR ((c.valid_from IS NULL OR c.valid_from <= o.founded_on)
           AND (c.valid_to IS NULL OR c.valid_to >= o.founded_on)))
RETURNING o.id, o.version, o.commune_id
"""

AUDIT_KINDS = "actor_kind IN ('account', 'api_key')"
AUDIT_KINDS_WITH_COMMAND_LINE = "actor_kind IN ('account', 'api_key', 'command_line')"


def _audit_kinds(rule: str, valid: bool) -> None:
    op.execute("ALTER TABLE audit_event DROP CONSTRAINT ck_audit_event_actor_kind_valid")
    op.execute(
        f"ALTER TABLE audit_event ADD CONSTRAINT ck_audit_event_actor_kind_valid CHECK ({rule})"
        + ("" if valid else " NOT VALID")
    )


def _audited(placing: str, resource: str) -> str:
    """The placing UPDATE and, in the same statement, one audit event per record it placed (the
    commune was none before): the command line's, at the version the placing left."""
    return f"""
WITH placed AS ({placing})
INSERT INTO audit_event (actor_kind, actor_id, actor_name, action, resource, record_id, changes, version)
SELECT 'command_line', 0, 'migration 0008', 'update', '{resource}', id,
       jsonb_build_object('commune_id', jsonb_build_array(NULL, commune_id)), version
FROM placed
"""

UNPLACED = """
SELECT 'village' AS "table", v.id, v.name, v.commune, d.code AS district
FROM village v LEFT JOIN admin_unit d ON d.id = v.district_id
WHERE v.commune_id IS NULL
UNION ALL
SELECT 'cooperative', o.id, o.name, NULL, d.code
FROM cooperative o LEFT JOIN admin_unit d ON d.id = o.district_id
WHERE o.commune_id IS NULL
ORDER BY 1 DESC, 2
"""


def upgrade() -> None:
    for table in PLACED:
        op.add_column(table, sa.Column("commune_id", sa.BigInteger(), nullable=True))
        op.add_column(table, sa.Column("province_id", sa.BigInteger(), nullable=True))
        op.add_column(
            table,
            sa.Column(
                "other_commune_ids",
                postgresql.ARRAY(sa.BigInteger()),
                server_default=sa.text("'{}'::bigint[]"),
                nullable=False,
            ),
        )
        op.alter_column(table, "district_id", existing_type=sa.BigInteger(), nullable=True)
        op.execute(
            f"UPDATE {table} r SET province_id = d.parent_id FROM admin_unit d WHERE d.id = r.district_id"
        )
    _audit_kinds(AUDIT_KINDS_WITH_COMMAND_LINE, True)
    bind = op.get_bind()
    placed = bind.execute(sa.text(_audited(MATCH_VILLAGES, "villages"))).rowcount
    placed += bind.execute(sa.text(_audited(MATCH_COOPERATIVES, "cooperatives"))).rowcount
    if placed:
        op.execute(
            "UPDATE data_version SET version = version + 1, changed_at = now() "
            "WHERE resource IN ('village', 'cooperative')"
        )
    unplaced = bind.execute(sa.text(UNPLACED)).all()
    log.info("placed %d records in their communes; %d left without a commune", placed, len(unplaced))
    for row in unplaced:
        log.warning(
            "not placed: %s %s %r, commune %r, district %s",
            row.table,
            row.id,
            row.name,
            row.commune,
            row.district,
        )
    for table in PLACED:
        op.alter_column(table, "province_id", existing_type=sa.BigInteger(), nullable=False)
        for column in ("commune_id", "province_id"):
            op.create_foreign_key(
                op.f(f"fk_{table}_{column}_admin_unit"),
                table,
                "admin_unit",
                [column],
                ["id"],
                ondelete="RESTRICT",
            )
            op.create_index(f"ix_{table}_{column}", table, [column], unique=False)
        op.create_index(
            f"ix_{table}_other_commune_ids",
            table,
            ["other_commune_ids"],
            unique=False,
            postgresql_using="gin",
        )
    for table in DEPARTMENT:
        op.add_column(table, sa.Column("department_province_id", sa.BigInteger(), nullable=True))
        op.create_foreign_key(
            op.f(f"fk_{table}_department_province_id_admin_unit"),
            table,
            "admin_unit",
            ["department_province_id"],
            ["id"],
            ondelete="RESTRICT",
        )
        op.create_index(f"ix_{table}_department_province_id", table, ["department_province_id"], unique=False)
    for _, source in FUNCTIONS:
        op.execute(source)
    for name, _, definition in TRIGGERS:
        constraint = "CONSTRAINT " if name.startswith("ck_") else ""
        op.execute(f"CREATE {constraint}TRIGGER {name} {definition}")


def downgrade() -> None:
    for name, table, _ in reversed(TRIGGERS):
        op.execute(f"DROP TRIGGER {name} ON {table}")
    for signature, _ in reversed(FUNCTIONS):
        op.execute(f"DROP FUNCTION {signature}")
    for table in reversed(DEPARTMENT):
        op.drop_index(f"ix_{table}_department_province_id", table_name=table)
        op.drop_constraint(op.f(f"fk_{table}_department_province_id_admin_unit"), table, type_="foreignkey")
        op.drop_column(table, "department_province_id")
    for table in reversed(PLACED):
        op.drop_index(f"ix_{table}_other_commune_ids", table_name=table)
        for column in ("province_id", "commune_id"):
            op.drop_index(f"ix_{table}_{column}", table_name=table)
            op.drop_constraint(op.f(f"fk_{table}_{column}_admin_unit"), table, type_="foreignkey")
        # Refused, as it should be, while a record has no district (placed in a 2025 commune).
        op.alter_column(table, "district_id", existing_type=sa.BigInteger(), nullable=False)
        op.drop_column(table, "other_commune_ids")
        op.drop_column(table, "province_id")
        op.drop_column(table, "commune_id")
    _audit_kinds(AUDIT_KINDS, False)
