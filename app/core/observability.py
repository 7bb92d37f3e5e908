"""Request ids, one-line JSON logs and Prometheus metrics.

Every response carries `X-Request-ID` (the client's, when it sent a sensible one); every log line
written while a request is served carries it too. Metrics are served at /metrics, to the networks
and the token that app.meta.access allows; with several worker processes `serve` points
PROMETHEUS_MULTIPROC_DIR at a fresh folder, so that any worker's answer sums them all.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
# Letters, digits and . _ : - only, 1 to 128 of them: safe to echo in a header and a log line.
_SENSIBLE_ID = re.compile(rb"[A-Za-z0-9._:\-]{1,128}")


def request_id_from(headers: list[tuple[bytes, bytes]]) -> str:
    """The client's X-Request-ID when it is sensible, else a new random one."""
    for name, value in headers:
        if name == b"x-request-id" and _SENSIBLE_ID.fullmatch(value):
            return value.decode()
    return uuid.uuid4().hex


# -- logs ------------------------------------------------------------------------------------

_STANDARD = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the request id, the record's
    extra fields, and for an exception its type and traceback (in the log, never to a client)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        if request_id is not None:
            entry["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[0].__name__
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def log_config(level: str) -> dict[str, Any]:
    """logging.config.dictConfig for the service (also handed to uvicorn): JSON on stderr."""
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "app.core.observability.JsonFormatter"}},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
        },
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},  # ours instead
            "app": {"handlers": ["stderr"], "level": level, "propagate": False},
            "alembic": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
        },
    }


access_log = logging.getLogger("app.access")


# -- metrics ---------------------------------------------------------------------------------

REQUESTS = Counter(
    "http_requests_total", "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)  # fmt: skip
LATENCY = Histogram(
    "http_request_duration_seconds", "Time to answer, by method, route template and status.",
    ["method", "route", "status"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)  # fmt: skip
IN_FLIGHT = Gauge("http_requests_in_flight", "Requests being answered.", multiprocess_mode="livesum")
POOL_IN_USE = Gauge(
    "db_pool_connections_in_use", "Pooled database connections checked out.", multiprocess_mode="livesum"
)
POOL_SIZE = Gauge(
    "db_pool_connections_max", "Connections the pool may hold (size + overflow).", multiprocess_mode="livesum"
)
DB_ERRORS = Counter(
    "db_errors_total", "Requests that failed on the database, by kind.", ["kind"],
)  # fmt: skip


def metrics_body() -> tuple[bytes, str]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def process_exited(pid: int) -> None:
    """Drop a finished worker's live gauges (multi-process mode only)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


def observe(method: str, route: str, status: int, started: float, pool: Any) -> float:
    """Count an answered request; returns its duration in seconds."""
    elapsed = time.perf_counter() - started
    code = str(status)
    REQUESTS.labels(method, route, code).inc()
    LATENCY.labels(method, route, code).observe(elapsed)
    if pool is not None:
        POOL_IN_USE.set(pool.checkedout())
    return elapsed
