"""Staff accounts, API keys, access tokens and the sign-in throttle."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.labels import LabelledEnum
from app.models.base import Base, Record, not_blank, one_of


class Role(LabelledEnum):
    editor = "editor", "Biên tập viên", "Editor: creates, changes and deletes records"
    admin = "admin", "Quản trị viên", "Administrator: also manages accounts and keys"


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
        one_of("role", Role),
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

    __table_args__ = (UniqueConstraint("prefix"), one_of("role", Role), not_blank("name"))


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


class SignInFailure(Base):
    """Failed sign-ins per username and per client address, to slow down guessing."""

    __tablename__ = "sign_in_failure"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    first_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    blocked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
