"""Settings, all from the environment (or a .env file); one class for the whole service."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def async_url(url: str) -> str:
    """Accept postgres://, postgresql:// and postgresql+asyncpg:// alike; return the asyncpg form."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError("DATABASE_URL must start with postgresql:// or postgresql+asyncpg://")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL; when unset, an embedded PostgreSQL is started under data_dir.",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    data_dir: Path = Path(".data")
    log_level: str = "info"
    access_log: bool = Field(default=True, description="One JSON line per request on stderr.")
    shutdown_timeout_s: int = Field(
        default=30, ge=1, description="On SIGTERM, how long requests in flight may take to finish."
    )

    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=0, ge=0)
    db_pool_timeout_s: float = Field(default=5.0, gt=0)
    statement_timeout_ms: int = Field(default=5000, ge=0, description="Limit of one query (reads, writes).")
    stats_statement_timeout_ms: int = Field(
        default=30000, ge=0, description="Limit of a statistics aggregate, which scans whole tables."
    )
    idle_in_transaction_timeout_ms: int = Field(
        default=30000, ge=0, description="A backstop: the server ends a session idle in a transaction."
    )
    db_connect_timeout_s: float = Field(
        default=3.0, gt=0, description="Limit on opening a database connection; past it, a 503."
    )
    stats_concurrency: int = Field(
        default=2,
        ge=1,
        description="Aggregates computed at once per process; more wait, holding no connection.",
    )
    stats_work_mem_mb: int = Field(default=64, ge=1, le=2048, description="work_mem of an aggregate query.")

    max_body_bytes: int = Field(default=1_048_576, ge=1024, description="Larger request bodies get 413.")
    cors_origins: list[str] = Field(
        default_factory=list, description="Origins allowed to call the API from a browser; none by default."
    )

    token_ttl_minutes: int = Field(default=480, ge=1, description="Lifetime of a sign-in token.")
    sign_in_max_failures: int = Field(default=5, ge=1, description="Failures before slowing down.")
    sign_in_window_s: int = Field(default=900, ge=1, description="Window in which failures count.")

    @field_validator("database_url")
    @classmethod
    def _normalise_url(cls, value: str | None) -> str | None:
        return async_url(value) if value else None


@lru_cache
def get_settings() -> Settings:
    return Settings()
