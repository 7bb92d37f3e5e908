"""The declarative base, the columns every record has, and helpers for the tables' rules.

Constraints live in the tables as well as in the API schemas, so that no client and no direct
SQL can store what the API would refuse. Enumerations are text columns with CHECK constraints
(adding a code is a one-line migration, unlike a PostgreSQL ENUM type). A rule whose name alone
would not tell a person what went wrong carries its message (`info={"message": ...}`); the
problem a client gets for breaking it quotes that message.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Computed,
    DateTime,
    Identity,
    Integer,
    MetaData,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from app.core.i18n import Text as Message
from app.core.labels import LabelledEnum

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
    # Indexed for the lists' created_since and updated_since filters.
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False, index=True, sort_order=10
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True),
        server_default=func.now(),
        onupdate=func.now(),
        nullable=False,
        index=True,
        sort_order=10,
    )
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("1"), sort_order=10)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}


def rule(condition: str, name: str, message: str) -> CheckConstraint:
    """A CHECK constraint with the message a client reads when a write breaks it (English;
    app.core.locale_vi holds its Vietnamese)."""
    return CheckConstraint(condition, name=name, info={"message": Message(message, {})})


def unique(*columns: str, message: str, **kwargs: Any) -> UniqueConstraint:
    """A UNIQUE constraint with the message a client reads when a write breaks it."""
    return UniqueConstraint(*columns, info={"message": Message(message, {})}, **kwargs)


def trigger_rules(table: str, **messages: str) -> dict[str, Any]:
    """A table's `info` naming the rules its triggers enforce, which a write breaking one raises
    as check_violation (or foreign_key_violation) with CONSTRAINT ck_<table>_<name>: name ->
    message, read like the constraints' messages. The triggers are in the migrations."""
    return {"info": {"rules": {f"ck_{table}_{name}": Message(m, {}) for name, m in messages.items()}}}


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
