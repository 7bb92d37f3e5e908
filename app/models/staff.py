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
    # Set by an administrator's reset: the account's tokens may only change the password, and
    # the temporary password stops opening the account at password_expires_at.
    must_change_password: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    password_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("username"),
        CheckConstraint("username ~ '^[a-z0-9][a-z0-9._-]{2,63}$'", name="username_format"),
        one_of("role", Role),
        not_blank("display_name"),
    )


class ApiKey(Record):
    """A key for a machine client: only its SHA-256 is kept; `prefix` finds it without a scan.

    A key acts with at most its creator's current role, and not at all once the creator is
    disabled. A key made on the command line has no creator: its own role applies.
    """

    __tablename__ = "api_key"

    name: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    prefix: Mapped[str] = mapped_column(Text)
    key_hash: Mapped[bytes] = mapped_column(LargeBinary)
    created_by: Mapped[str | None] = mapped_column(Text)
    # RESTRICT: deleting the creator must not leave the key bounded by nobody.
    creator_id: Mapped[int | None] = mapped_column(ForeignKey("staff_account.id", ondelete="RESTRICT"))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("prefix"),
        one_of("role", Role),
        not_blank("name"),
        Index("ix_api_key_creator_id", "creator_id"),
    )


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


class SignInAttempt(Base):
    """Password checks counted per throttle key in a fixed window, shared by every worker.

    Keys are `pair:<username>|<address>`, `account:<username>` and `address:<address>`. A check
    reserves a slot in each of its three keys (rows locked, so concurrent checks cannot overrun
    a limit); `refused` counts the attempts turned away in the window.
    """

    __tablename__ = "sign_in_attempt"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer)
    refused: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        CheckConstraint("refused >= 0", name="refused_not_negative"),
        Index("ix_sign_in_attempt_window_start", "window_start"),  # sweeping the past windows
    )
