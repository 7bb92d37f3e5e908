"""Request ids, JSON logs, Prometheus metrics (app/core/observability.py, app/core/middleware.py),
and how database faults are classified (app/core/errors.py; the faults themselves, with real
processes, are in tests/faults/). The statistics gate is in tests/stats/test_gate.py."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterator

import httpx
import pytest

from app.core.errors import DatabaseUnavailable, TimedOut, classify_sqlstate
from app.core.observability import JsonFormatter, request_id_from
from tests.factories import API, create

HEX_ID = re.compile(r"^[0-9a-f]{32}$")


# -- X-Request-ID --------------------------------------------------------------------------


@pytest.mark.parametrize("sent", ["abc-123", "2f1c9e0a:trace.7", "A" * 128])
async def test_a_sensible_request_id_is_echoed(client: httpx.AsyncClient, sent: str) -> None:
    response = await client.get(f"{API}/villages", headers={"X-Request-ID": sent})
    assert response.headers["x-request-id"] == sent


@pytest.mark.parametrize("sent", [None, "", "two words", "A" * 129, "semi;colon", "ümlaut", "a\tb"])
async def test_otherwise_a_new_one_is_made(client: httpx.AsyncClient, sent: str | None) -> None:
    headers: dict[bytes, bytes] = {} if sent is None else {b"X-Request-ID": sent.encode("utf-8")}
    first = await client.get(f"{API}/villages", headers=headers)
    second = await client.get(f"{API}/villages", headers=headers)
    assert HEX_ID.match(first.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


@pytest.mark.parametrize(
    ("method", "path", "content", "status"),
    [
        ("GET", "/no/such/route", None, 404),
        ("PUT", f"{API}/villages", None, 405),
        ("GET", f"{API}/villages?limit=0", None, 422),
        ("POST", f"{API}/admin-units", b"x" * 2_000_000, 413),
        ("HEAD", f"{API}/villages", None, 200),
    ],
)
async def test_every_answer_carries_one(
    client: httpx.AsyncClient, method: str, path: str, content: bytes | None, status: int
) -> None:
    response = await client.request(method, path, headers={"X-Request-ID": "trace-1"}, content=content)
    assert response.status_code == status
    assert response.headers["x-request-id"] == "trace-1"
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_the_audit_trail_records_a_generated_id(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{API}/admin-units", json={"code": "36", "name": "Nam Định", "level": "province"}
    )
    assert response.status_code == 201
    made_id = response.headers["x-request-id"]
    trail = await client.get(
        f"{API}/audit", params={"resource": "admin-units", "record_id": response.json()["id"]}
    )
    assert trail.json()["items"][0]["request_id"] == made_id


def test_request_id_from_headers() -> None:
    assert request_id_from([(b"x-request-id", b"ok.1")]) == "ok.1"
    assert HEX_ID.match(request_id_from([(b"x-request-id", b"no\nnewlines")]))
    assert HEX_ID.match(request_id_from([]))


# -- logs ----------------------------------------------------------------------------------


@pytest.fixture
def access_records() -> Iterator[list[logging.LogRecord]]:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("app.access")
    handler, level = Keep(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield records
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def test_one_access_record_per_request_with_its_id(
    client: httpx.AsyncClient, access_records: list[logging.LogRecord]
) -> None:
    village_path = f"{API}/villages"
    await client.get(village_path, headers={"X-Request-ID": "log-me"})
    mine = [r for r in access_records if getattr(r, "path", None) == village_path]
    assert len(mine) == 1
    line = JsonFormatter().format(mine[0])
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["request_id"] == "log-me"
    assert entry["route"] == "/api/v1/villages"
    assert entry["status"] == 200 and entry["method"] == "GET"
    assert entry["duration_ms"] >= 0 and entry["level"] == "info"


def test_an_error_log_line_keeps_the_traceback_on_one_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord(
            "app.errors", logging.ERROR, __file__, 1, "failed %s", ("x",), sys.exc_info()
        )
    entry = json.loads(JsonFormatter().format(record))
    assert entry["msg"] == "failed x" and entry["error"] == "ValueError"
    assert "raise ValueError" in entry["traceback"]


# -- metrics -------------------------------------------------------------------------------


def sample(body: str, name: str, **labels: str) -> float:
    """The value of one sample of the Prometheus text format (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in body.splitlines():
        if line.startswith("#") or " " not in line:
            continue
        key, value = line.rsplit(" ", 1)
        metric, _, rest = key.partition("{")
        got = ",".join(sorted(rest.rstrip("}").split(","))) if rest else ""
        if metric == name and got == wanted:
            return float(value)
    return 0.0


async def test_metrics_count_requests_by_route_template_and_status(client: httpx.AsyncClient) -> None:
    unit = await create(client, "admin-units", {"code": "36", "name": "Nam Định", "level": "province"})
    item = "/api/v1/admin-units/{record_id}"
    before = (await client.get("/metrics")).text
    await client.get(f"{API}/admin-units/{unit['id']}")
    await client.get(f"{API}/admin-units/{unit['id'] + 10_000}")
    await client.get("/no/such/route/at/all")
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    after = response.text
    for status in ("200", "404"):
        labels = {"method": "GET", "route": item, "status": status}
        assert (
            sample(after, "http_requests_total", **labels)
            == sample(before, "http_requests_total", **labels) + 1
        )
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    assert sample(after, "http_requests_total", **unmatched) >= 1
    assert "/no/such/route" not in after  # unknown paths never become labels
    for status in ("200", "404"):
        labels = {"method": "GET", "route": item, "status": status}
        assert sample(after, "http_request_duration_seconds_count", **labels) >= 1
    assert "db_pool_connections_in_use" in after and "db_errors_total" in after


# -- database faults: how each is answered -------------------------------------------------


@pytest.mark.parametrize(
    ("sqlstate", "kind", "status"),
    [
        ("57014", TimedOut, 504),  # statement timeout
        ("57P01", DatabaseUnavailable, 503),  # admin shutdown: pg_terminate_backend, restart
        ("57P03", DatabaseUnavailable, 503),  # cannot connect now: starting up
        ("08006", DatabaseUnavailable, 503),  # connection failure
        ("53300", DatabaseUnavailable, 503),  # too many connections
    ],
)
def test_database_faults_are_503_or_504_with_retry_after(sqlstate: str, kind: type, status: int) -> None:
    error = classify_sqlstate(sqlstate, None)
    assert isinstance(error, kind) and error.status == status
    assert error.headers["Retry-After"] == "1"
