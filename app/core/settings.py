"""Settings, all from the environment (or a .env file); one class for the whole service."""

from __future__ import annotations

from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
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
        repr=False,  # it holds the database password
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

    changes_retention_days: int = Field(
        default=90,
        ge=1,
        le=36_500,
        description=(
            "How long a changes-feed cursor stays valid, and how far back a feed read without a "
            "cursor starts; an older cursor is answered 410 (resynchronise)."
        ),
    )

    # -- pushed events (app/webhooks/) -----------------------------------------------------------
    webhook_worker: bool = Field(
        default=True,
        description="Run the webhook worker (dispatcher and deliveries) in this process; 0 turns it off.",
    )
    webhook_poll_interval_s: float = Field(
        default=1.0,
        gt=0,
        le=3600,
        description="How often the webhook worker looks for new events and due deliveries.",
    )
    webhook_timeout_s: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="Limit of one delivery attempt, from connecting to the answer.",
    )
    webhook_retry_budget_hours: float = Field(
        default=72.0,
        ge=24,
        le=24 * 30,
        description="How long a delivery is retried after it was queued; then it is marked failed for good.",
    )
    webhook_retry_base_s: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="The first retry's longest wait; each further retry doubles it.",
    )
    webhook_retry_max_interval_s: float = Field(
        default=6 * 3600.0,
        gt=0,
        le=86_400,
        description="The longest wait between two attempts of a delivery.",
    )
    webhook_failure_limit: int = Field(
        default=20,
        ge=1,
        le=100_000,
        description="A subscription is disabled after this many failed attempts in a row.",
    )
    webhook_retention_days: int = Field(
        default=30,
        ge=1,
        le=36_500,
        description=(
            "How long a finished webhook delivery (delivered, or failed for good) and its attempts "
            "are kept before the worker prunes them; pending deliveries are never pruned."
        ),
    )
    webhook_prune_interval_s: float = Field(
        default=600.0,
        gt=0,
        le=86_400,
        description="How often the webhook worker prunes finished deliveries past the retention.",
    )
    webhook_allowed_networks: list[IPv4Network | IPv6Network] = Field(
        default_factory=list,
        description=(
            "Networks (CIDR) that webhook URLs may reach although they are loopback, private, "
            "link-local, multicast or reserved; none by default."
        ),
    )

    max_body_bytes: int = Field(default=1_048_576, ge=1024, description="Larger request bodies get 413.")
    # -- imports (POST /api/v1/imports) ------------------------------------------------------
    import_max_bytes: int = Field(
        default=20 * 1024 * 1024, ge=1024, description="Larger import files get 413 (the file, not the form)."
    )
    import_max_rows: int = Field(default=200_000, ge=1, description="Files with more data rows get 413.")
    import_statement_timeout_ms: int = Field(
        default=300_000, ge=0, description="Limit of each statement of an import's transaction (0: none)."
    )
    cors_origins: list[str] = Field(
        default_factory=list, description="Origins allowed to call the API from a browser; none by default."
    )

    token_ttl_minutes: int = Field(default=480, ge=1, description="Lifetime of a sign-in token.")
    # -- sign-in security (app/auth/) ----------------------------------------------------------
    sign_in_window_s: int = Field(
        default=900, ge=1, le=86_400, description="Length of the window in which password checks are counted."
    )
    sign_in_pair_limit: int = Field(
        default=5,
        ge=1,
        description=(
            "Password checks per window for one username from one client address; a successful "
            "sign-in clears the count. Further attempts get 429 with Retry-After, unchecked."
        ),
    )
    sign_in_account_limit: int = Field(
        default=50,
        ge=1,
        description=(
            "Password checks per window for one username from all addresses together, so that "
            "guessing spread over many addresses is slowed too. Higher than the pair limit so "
            "that one address cannot lock a colleague out."
        ),
    )
    sign_in_address_limit: int = Field(
        default=30,
        ge=1,
        description="Password checks per window from one client address, all usernames together.",
    )
    password_hash_concurrency: int = Field(
        default=2,
        ge=1,
        le=64,
        description=(
            "Password hashes (argon2id) computed at once per process, in threads beside the event "
            "loop; more wait their turn, and other requests are answered meanwhile."
        ),
    )
    password_wait_s: float = Field(
        default=10.0,
        gt=0,
        le=60,
        description=(
            "How long a request that checks or sets a password waits for its turn (at most twice "
            "PASSWORD_HASH_CONCURRENCY are admitted at once per process, and those waiting hold no "
            "database connection); past it, a 503 with Retry-After."
        ),
    )
    sign_in_known_days: int = Field(
        default=30,
        ge=0,
        le=3650,
        description=(
            "A username that signed in successfully from a client address within this many days "
            "is not held back there by the account-wide and address-wide limits (only by its "
            "pair limit). 0 turns the exemption off."
        ),
    )
    temporary_password_ttl_hours: int = Field(
        default=72,
        ge=1,
        le=720,
        description="How long a password set by an administrator's reset opens the account.",
    )
    forwarded_allow_ips: str = Field(
        default="",
        description=(
            "Comma-separated addresses (or networks) of the reverse proxies whose X-Forwarded-For "
            "and X-Forwarded-Proto are believed; the client address of sign-in throttling and of "
            "the audit trail comes from them. None by default (the headers are ignored): set it to "
            "your reverse proxy's address. '*' believes any sender and lets clients choose their "
            "own address: never use it when the service is reachable other than through the proxy."
        ),
    )

    # What the service trusts at its edge: who may read /metrics, and which address links name.
    metrics_allowed_networks: list[IPv4Network | IPv6Network] = Field(
        default_factory=lambda: [ip_network("127.0.0.0/8"), ip_network("::1/128")],
        description="Client networks (CIDR) that may read /metrics without a token; loopback by default.",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="When set, `Authorization: Bearer <token>` may read /metrics from any address.",
    )
    public_url: str | None = Field(
        default=None,
        description=(
            "The service's root as clients reach it (http or https, may end in a path prefix); "
            "Link and Location headers start with it. Unset: they are relative, never built from Host."
        ),
    )

    @field_validator("database_url")
    @classmethod
    def _normalise_url(cls, value: str | None) -> str | None:
        return async_url(value) if value else None

    @field_validator("metrics_token")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if len(value.get_secret_value()) < 16:
            raise ValueError("METRICS_TOKEN must be at least 16 characters long")
        return value

    @field_validator("public_url")
    @classmethod
    def _public_root(cls, value: str | None) -> str | None:
        return public_root(value) if value else None


def public_root(url: str) -> str:
    """PUBLIC_URL checked and without its trailing slash: http(s), a host, no query or fragment."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("PUBLIC_URL must be an http:// or https:// URL with a host")
    if parts.query or parts.fragment or url.strip().endswith(("?", "#")):
        raise ValueError("PUBLIC_URL must have no query or fragment")
    if parts.username is not None or parts.password is not None:
        raise ValueError("PUBLIC_URL must not carry a user name or password")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
