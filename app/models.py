"""All ORM tables: the one import point for Alembic.

Constraints live here as well as in the API schemas, so that no client and no direct SQL can store
what the API would refuse. Enumerations are text columns with CHECK constraints (adding a code is
a one-line migration, unlike a PostgreSQL ENUM type).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, relationship

from app import enums
from app.enums import ACTIVITIES_BY_KIND, LabelledEnum, ProgrammeKind

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

YEAR_MIN, YEAR_MAX = 1900, 2100
# A craft village can be centuries old; only its founding year may predate 1900.
ESTABLISHED_YEAR_MIN = 1000
INT_MAX = 2_147_483_647
BIGINT_MAX = 9_223_372_036_854_775_807


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Record(Base):
    """Columns every table has: identity, timestamps and a version bumped on every change."""

    __abstract__ = True

    # sort_order puts id first and the bookkeeping columns last in CREATE TABLE.
    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True, sort_order=-10)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False, sort_order=10
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True),
        server_default=func.now(),
        onupdate=func.now(),
        nullable=False,
        sort_order=10,
    )
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("1"), sort_order=10)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}


def one_of(column: str, enum: type[LabelledEnum]) -> CheckConstraint:
    values = ", ".join(f"'{m.value}'" for m in enum)
    return CheckConstraint(f"{column} IN ({values})", name=f"{column}_valid")


def not_negative(*columns: str) -> list[CheckConstraint]:
    return [CheckConstraint(f"{c} >= 0", name=f"{c}_not_negative") for c in columns]


def not_blank(column: str) -> CheckConstraint:
    return CheckConstraint(f"btrim({column}) <> ''", name=f"{column}_not_blank")


def year_range(column: str, low: int = YEAR_MIN, high: int = YEAR_MAX) -> CheckConstraint:
    return CheckConstraint(f"{column} BETWEEN {low} AND {high}", name=f"{column}_range")


def search_column(expression: str) -> Mapped[str]:
    """A generated column holding lower-case, accent-free text for trigram search."""
    return mapped_column(Text, Computed(f"lower(f_unaccent({expression}))", persisted=True), sort_order=20)


def sort_column(column: str) -> Mapped[str]:
    """A generated column ordering Vietnamese names as a dictionary does, on any server locale."""
    # Collation "C" compares the key's code points, which is what the key is built for; under a
    # linguistic collation (a common server default) the order would be wrong.
    return mapped_column(
        Text(collation="C"), Computed(f"vi_sort_key({column})", persisted=True), sort_order=20
    )


class AdminUnit(Record):
    __tablename__ = "admin_unit"

    code: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    level: Mapped[str] = mapped_column(Text)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("admin_unit.id", ondelete="RESTRICT"), index=True
    )
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    search_text: Mapped[str] = search_column("name || ' ' || code")
    name_sort: Mapped[str] = sort_column("name")

    parent: Mapped[AdminUnit | None] = relationship(remote_side="AdminUnit.id", lazy="raise")

    __table_args__ = (
        one_of("level", enums.AdminLevel),
        not_blank("code"),
        not_blank("name"),
        CheckConstraint(
            "valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from", name="valid_period"
        ),
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
        UniqueConstraint("code", "valid_from", postgresql_nulls_not_distinct=True),
        Index("ix_admin_unit_level", "level"),
        Index("ix_admin_unit_name_sort", "name_sort"),
        Index(
            "ix_admin_unit_search_text",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )


class Village(Record):
    __tablename__ = "village"

    name: Mapped[str] = mapped_column(Text)
    commune: Mapped[str | None] = mapped_column(Text)
    district_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id", ondelete="RESTRICT"))
    craft_group: Mapped[str] = mapped_column(Text)
    crafts: Mapped[list[str]] = mapped_column(
        ARRAY(Text), server_default=text("'{}'::text[]"), nullable=False
    )
    status: Mapped[str] = mapped_column(Text, server_default=text("'unrecognised'"))
    recognition_decision: Mapped[str | None] = mapped_column(Text)
    recognised_on: Mapped[date | None] = mapped_column(Date)
    revoked_on: Mapped[date | None] = mapped_column(Date)
    established_year: Mapped[int | None] = mapped_column(Integer)
    households_total: Mapped[int | None] = mapped_column(Integer)
    households_participating: Mapped[int | None] = mapped_column(Integer)
    has_environment_plan: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    on_polluted_list: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    latitude: Mapped[float | None] = mapped_column(Double)
    longitude: Mapped[float | None] = mapped_column(Double)
    is_illustrative: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    notes: Mapped[str | None] = mapped_column(Text)
    search_text: Mapped[str] = search_column("name || ' ' || coalesce(commune, '') || ' ' || f_words(crafts)")
    name_sort: Mapped[str] = sort_column("name")

    district: Mapped[AdminUnit] = relationship(lazy="raise")

    __table_args__ = (
        one_of("craft_group", enums.CraftGroup),
        one_of("status", enums.VillageStatus),
        not_blank("name"),
        *not_negative("households_total", "households_participating"),
        CheckConstraint("households_participating <= households_total", name="participating_le_total"),
        year_range("established_year", ESTABLISHED_YEAR_MIN),
        CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude_range"),
        CheckConstraint("(latitude IS NULL) = (longitude IS NULL)", name="coordinates_paired"),
        CheckConstraint("revoked_on >= recognised_on", name="revoked_after_recognised"),
        CheckConstraint("status = 'unrecognised' OR recognised_on IS NOT NULL", name="recognised_has_date"),
        Index("ix_village_district_id", "district_id"),
        Index("ix_village_craft_group", "craft_group"),
        Index("ix_village_status", "status"),
        Index("ix_village_established_year", "established_year"),
        Index("ix_village_recognised_on", "recognised_on"),
        Index("ix_village_households_total", "households_total"),
        Index("ix_village_name_sort", "name_sort"),
        Index("ix_village_crafts", "crafts", postgresql_using="gin"),
        Index(
            "ix_village_search_text",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )


class VillageFigure(Record):
    __tablename__ = "village_figure"

    village_id: Mapped[int] = mapped_column(ForeignKey("village.id", ondelete="RESTRICT"))
    year: Mapped[int] = mapped_column(Integer)
    households: Mapped[int | None] = mapped_column(Integer)
    workers: Mapped[int | None] = mapped_column(Integer)
    production_value_vnd: Mapped[int | None] = mapped_column(BigInteger)
    average_income_vnd: Mapped[int | None] = mapped_column(BigInteger)
    qualifier: Mapped[str] = mapped_column(Text, server_default=text("'exact'"))

    village: Mapped[Village] = relationship(lazy="raise")

    __table_args__ = (
        UniqueConstraint("village_id", "year"),
        year_range("year"),
        one_of("qualifier", enums.FigureQualifier),
        *not_negative("households", "workers", "production_value_vnd", "average_income_vnd"),
        Index("ix_village_figure_year", "year"),
        Index("ix_village_figure_workers", "workers"),
        Index("ix_village_figure_production_value_vnd", "production_value_vnd"),
    )


class Cooperative(Record):
    __tablename__ = "cooperative"

    name: Mapped[str] = mapped_column(Text)
    registration_code: Mapped[str | None] = mapped_column(Text)
    legal_form: Mapped[str] = mapped_column(Text, server_default=text("'cooperative'"))
    sector: Mapped[str] = mapped_column(Text)
    district_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id", ondelete="RESTRICT"))
    village_id: Mapped[int | None] = mapped_column(ForeignKey("village.id", ondelete="RESTRICT"))
    members: Mapped[int | None] = mapped_column(Integer)
    charter_capital_vnd: Mapped[int | None] = mapped_column(BigInteger)
    founded_on: Mapped[date | None] = mapped_column(Date)
    dissolved_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(Text, server_default=text("'active'"))
    search_text: Mapped[str] = search_column("name || ' ' || coalesce(registration_code, '')")
    name_sort: Mapped[str] = sort_column("name")

    district: Mapped[AdminUnit] = relationship(lazy="raise")
    village: Mapped[Village | None] = relationship(lazy="raise")

    __table_args__ = (
        UniqueConstraint("registration_code"),
        one_of("legal_form", enums.LegalForm),
        one_of("sector", enums.CooperativeSector),
        one_of("status", enums.CooperativeStatus),
        not_blank("name"),
        CheckConstraint("btrim(registration_code) <> ''", name="registration_code_not_blank"),
        *not_negative("members", "charter_capital_vnd"),
        CheckConstraint("dissolved_on >= founded_on", name="dissolved_after_founded"),
        Index("ix_cooperative_district_id", "district_id"),
        Index("ix_cooperative_village_id", "village_id"),
        Index("ix_cooperative_sector", "sector"),
        Index("ix_cooperative_legal_form", "legal_form"),
        Index("ix_cooperative_status", "status"),
        Index("ix_cooperative_founded_on", "founded_on"),
        Index("ix_cooperative_members", "members"),
        Index("ix_cooperative_name_sort", "name_sort"),
        Index(
            "ix_cooperative_search_text",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )


def _activity_matches_kind() -> CheckConstraint:
    clauses = []
    for kind in ProgrammeKind:
        values = ", ".join(f"'{a}'" for a in sorted(ACTIVITIES_BY_KIND[kind]))
        clauses.append(f"(kind = '{kind.value}' AND activity IN ({values}))")
    return CheckConstraint(" OR ".join(clauses), name="activity_matches_kind")


class Programme(Record):
    __tablename__ = "programme"

    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    activity: Mapped[str] = mapped_column(Text)
    year: Mapped[int] = mapped_column(Integer)
    implementer: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, server_default=text("'planned'"))
    search_text: Mapped[str] = search_column("name || ' ' || coalesce(implementer, '')")
    name_sort: Mapped[str] = sort_column("name")

    funding: Mapped[list[ProgrammeFunding]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="ProgrammeFunding.id"
    )
    beneficiaries: Mapped[list[ProgrammeBeneficiary]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="ProgrammeBeneficiary.id"
    )

    __table_args__ = (
        one_of("kind", enums.ProgrammeKind),
        one_of("status", enums.ProgrammeStatus),
        _activity_matches_kind(),
        not_blank("name"),
        year_range("year"),
        Index("ix_programme_year", "year"),
        Index("ix_programme_kind", "kind"),
        Index("ix_programme_activity", "activity"),
        Index("ix_programme_status", "status"),
        Index("ix_programme_name_sort", "name_sort"),
        Index(
            "ix_programme_search_text",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )


class ProgrammeFunding(Record):
    __tablename__ = "programme_funding"

    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(Text)
    amount_vnd: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        one_of("source", enums.FundingSource),
        *not_negative("amount_vnd"),
        Index("ix_programme_funding_programme_id", "programme_id"),
        Index("ix_programme_funding_source", "source"),
    )


class ProgrammeBeneficiary(Record):
    __tablename__ = "programme_beneficiary"

    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id", ondelete="CASCADE"))
    village_id: Mapped[int | None] = mapped_column(ForeignKey("village.id", ondelete="RESTRICT"))
    cooperative_id: Mapped[int | None] = mapped_column(ForeignKey("cooperative.id", ondelete="RESTRICT"))

    __table_args__ = (
        CheckConstraint("num_nonnulls(village_id, cooperative_id) = 1", name="one_beneficiary"),
        UniqueConstraint("programme_id", "village_id"),
        UniqueConstraint("programme_id", "cooperative_id"),
        Index("ix_programme_beneficiary_village_id", "village_id"),
        Index("ix_programme_beneficiary_cooperative_id", "cooperative_id"),
    )


class TradeFair(Record):
    __tablename__ = "trade_fair"

    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    organiser: Mapped[str | None] = mapped_column(Text)
    venue: Mapped[str | None] = mapped_column(Text)
    city: Mapped[str | None] = mapped_column(Text)
    province: Mapped[str | None] = mapped_column(Text)
    country: Mapped[str] = mapped_column(Text, server_default=text("'VN'"))
    start_on: Mapped[date] = mapped_column(Date)
    end_on: Mapped[date] = mapped_column(Date)
    standard_booths: Mapped[int | None] = mapped_column(Integer)
    exhibitors: Mapped[int | None] = mapped_column(Integer)
    visitors: Mapped[int | None] = mapped_column(Integer)
    contracts_signed: Mapped[int | None] = mapped_column(Integer)
    contract_value_vnd: Mapped[int | None] = mapped_column(BigInteger)
    sales_vnd: Mapped[int | None] = mapped_column(BigInteger)
    cost_vnd: Mapped[int | None] = mapped_column(BigInteger)
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programme.id", ondelete="RESTRICT"))
    search_text: Mapped[str] = search_column(
        "name || ' ' || coalesce(organiser, '') || ' ' || coalesce(venue, '') || ' '"
        " || coalesce(city, '') || ' ' || coalesce(province, '')"
    )
    name_sort: Mapped[str] = sort_column("name")

    programme: Mapped[Programme | None] = relationship(lazy="raise")
    participants: Mapped[list[TradeFairParticipant]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="TradeFairParticipant.id"
    )

    __table_args__ = (
        one_of("kind", enums.FairKind),
        not_blank("name"),
        CheckConstraint("country ~ '^[A-Z]{2}$'", name="country_iso_alpha2"),
        CheckConstraint("end_on >= start_on", name="end_after_start"),
        CheckConstraint(
            "(kind = 'overseas') = (country <> 'VN') OR kind = 'trade_conference'",
            name="country_matches_kind",
        ),
        CheckConstraint(
            f"start_on BETWEEN DATE '{YEAR_MIN}-01-01' AND DATE '{YEAR_MAX}-12-31'",
            name="start_on_range",
        ),
        *not_negative(
            "standard_booths",
            "exhibitors",
            "visitors",
            "contracts_signed",
            "contract_value_vnd",
            "sales_vnd",
            "cost_vnd",
        ),
        Index("ix_trade_fair_kind", "kind"),
        Index("ix_trade_fair_start_on", "start_on"),
        Index("ix_trade_fair_country", "country"),
        Index("ix_trade_fair_province", "province"),
        Index("ix_trade_fair_programme_id", "programme_id"),
        Index("ix_trade_fair_name_sort", "name_sort"),
        Index(
            "ix_trade_fair_search_text",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )


class TradeFairParticipant(Record):
    __tablename__ = "trade_fair_participant"

    trade_fair_id: Mapped[int] = mapped_column(ForeignKey("trade_fair.id", ondelete="CASCADE"))
    village_id: Mapped[int | None] = mapped_column(ForeignKey("village.id", ondelete="RESTRICT"))
    cooperative_id: Mapped[int | None] = mapped_column(ForeignKey("cooperative.id", ondelete="RESTRICT"))
    booths: Mapped[int] = mapped_column(Integer, server_default=text("1"))

    __table_args__ = (
        CheckConstraint("num_nonnulls(village_id, cooperative_id) = 1", name="one_participant"),
        UniqueConstraint("trade_fair_id", "village_id"),
        UniqueConstraint("trade_fair_id", "cooperative_id"),
        *not_negative("booths"),
        Index("ix_trade_fair_participant_village_id", "village_id"),
        Index("ix_trade_fair_participant_cooperative_id", "cooperative_id"),
    )


class DataVersion(Base):
    """A counter per table, bumped in the same transaction as every write through the service.

    Statistics depend on tables; their ETags are made from these counters, so an ETag changes
    when, and only when, a table it depends on changed — in whichever worker process wrote it.
    """

    __tablename__ = "data_version"

    resource: Mapped[str] = mapped_column(Text, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class StatsCache(Base):
    """Computed statistics shared by all worker processes; a cache, so UNLOGGED (not WAL-logged)."""

    __tablename__ = "stats_cache"
    __table_args__ = {"prefixes": ["UNLOGGED"]}  # noqa: RUF012 - SQLAlchemy's declarative form

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    tag: Mapped[str] = mapped_column(Text)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


# The tables whose changes are counted in data_version.
TRACKED_TABLES: tuple[str, ...] = (
    "admin_unit",
    "village",
    "village_figure",
    "cooperative",
    "programme",
    "programme_funding",
    "programme_beneficiary",
    "trade_fair",
    "trade_fair_participant",
)


# -- staff, credentials and the audit trail ------------------------------------------------------


class StaffAccount(Record):
    """A member of staff who signs in with a password (hashed with argon2id)."""

    __tablename__ = "staff_account"

    username: Mapped[str] = mapped_column(Text)
    display_name: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    password_hash: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("username"),
        CheckConstraint("username ~ '^[a-z0-9][a-z0-9._-]{2,63}$'", name="username_format"),
        one_of("role", enums.Role),
        not_blank("display_name"),
    )


class ApiKey(Record):
    """A key for a machine client: only its SHA-256 is kept; `prefix` finds it without a scan."""

    __tablename__ = "api_key"

    name: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    prefix: Mapped[str] = mapped_column(Text)
    key_hash: Mapped[bytes] = mapped_column(LargeBinary)
    created_by: Mapped[str | None] = mapped_column(Text)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("prefix"), one_of("role", enums.Role), not_blank("name"))


class AccessToken(Base):
    """A bearer token issued at sign-in; only its SHA-256 is kept. Revoked by setting revoked_at."""

    __tablename__ = "access_token"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary)
    account_id: Mapped[int] = mapped_column(ForeignKey("staff_account.id", ondelete="CASCADE"))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("token_hash"),
        Index("ix_access_token_account_id", "account_id"),
    )


class AuditEvent(Base):
    """One committed create, update or delete: who, from where, what, and the fields changed."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor_kind: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[int] = mapped_column(BigInteger)
    actor_name: Mapped[str] = mapped_column(Text)
    client_addr: Mapped[str | None] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    resource: Mapped[str] = mapped_column(Text)
    record_id: Mapped[int] = mapped_column(BigInteger)
    changes: Mapped[dict[str, Any]] = mapped_column(JSONB)
    request_id: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("actor_kind IN ('account', 'api_key')", name="actor_kind_valid"),
        CheckConstraint("action IN ('create', 'update', 'delete')", name="action_valid"),
        Index("ix_audit_event_resource_record_id", "resource", "record_id"),
        Index("ix_audit_event_at", "at"),
        Index("ix_audit_event_actor_kind_actor_id", "actor_kind", "actor_id"),
    )


class IdempotencyRecord(Base):
    """The answer to a POST sent with an Idempotency-Key, replayed to repeats of that request."""

    __tablename__ = "idempotency_record"

    credential: Mapped[str] = mapped_column(Text, primary_key=True)
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    request_hash: Mapped[str] = mapped_column(Text)
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    location: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (Index("ix_idempotency_record_created_at", "created_at"),)


class SignInFailure(Base):
    """Failed sign-ins per username and per client address, to slow down guessing."""

    __tablename__ = "sign_in_failure"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    first_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    blocked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
