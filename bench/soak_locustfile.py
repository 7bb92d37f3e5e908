"""The users of `make soak`: run by locust, started by bench/soak.py (not on its own).

The mix, per task: 80 % reads (40 one village by a random known id, 40 a filtered, sorted page of
villages), 15 % statistics (the overview of a year, programme statistics by year and funding
source, parameters varied a little so that some answers come from cache and some are computed),
5 % authenticated writes: a PATCH of a village figure or an administrative unit with If-Match
after reading its ETag (412: read again and reapply), or a POST of a new co-operative with an
Idempotency-Key (503, 409 "still being processed" or a network error: the same request again,
same key). Each user holds `rate_per_user` tasks per second (constant_throughput).

What was acknowledged (the keys of created records, the PATCHes answered 200 per record), every
status per request kind and the latency percentiles are written as JSON to the config's `out`
when locust quits, for bench/soak.py to check against the database.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, ClassVar

from locust import FastHttpUser, constant_throughput, events, task

CONFIG: dict[str, Any] = json.loads(Path(os.environ["SOAK_CONFIG"]).read_text())
rng = random.Random()  # noqa: S311 - choosing ids and parameters, not secrets
WRITE_ATTEMPTS = 8

_lock = threading.Lock()  # gevent greenlets do not need it; it costs nothing and is obviously safe
statuses: dict[str, Counter[str]] = defaultdict(Counter)
acknowledged: dict[str, int] = {}  # Idempotency-Key -> id of the created record
unacknowledged: list[str] = []  # keys given up on (the record may or may not exist)
patched: Counter[str] = Counter()  # "village-figures/12" -> PATCHes answered 200
write_events: Counter[str] = Counter()  # retries and give-ups, by cause
stats_sources: dict[str, Counter[str]] = defaultdict(Counter)  # X-Stats-Source: computed, shared, memory


@events.request.add_listener
def _count(name: str, response: Any, exception: BaseException | None, **_: Any) -> None:
    code = getattr(response, "status_code", None) if response is not None else None
    with _lock:
        statuses[name][str(code) if code else f"error: {type(exception).__name__}"] += 1


@events.quitting.add_listener
def _dump(environment: Any, **_: Any) -> None:
    latency = {}
    for (name, method), entry in environment.stats.entries.items():
        if not entry.num_requests:
            continue
        latency[name] = {
            "method": method,
            "requests": entry.num_requests,
            "failures": entry.num_failures,
            "p50_ms": entry.get_response_time_percentile(0.5),
            "p90_ms": entry.get_response_time_percentile(0.9),
            "p99_ms": entry.get_response_time_percentile(0.99),
            "max_ms": entry.max_response_time,
            "avg_ms": entry.avg_response_time,
        }
    total = environment.stats.total
    Path(CONFIG["out"]).write_text(
        json.dumps(
            {
                "statuses": {name: dict(c) for name, c in statuses.items()},
                "latency": latency,
                "total": {
                    "requests": total.num_requests,
                    "failures": total.num_failures,
                    "first_request": total.start_time,
                    "last_request": total.last_request_timestamp,
                },
                "acknowledged": acknowledged,
                "unacknowledged": unacknowledged,
                "patched": dict(patched),
                "write_events": dict(write_events),
                "stats_sources": {name: dict(c) for name, c in stats_sources.items()},
            },
            indent=1,
        )
    )


def _retry_after(response: Any) -> float:
    try:
        return min(float(response.headers.get("retry-after") or 1), 5.0)
    except ValueError:
        return 1.0


class Staff(FastHttpUser):
    wait_time = constant_throughput(CONFIG["rate_per_user"])
    network_timeout = 30.0
    connection_timeout = 10.0

    item_ids: ClassVar[list[int]] = CONFIG["village_ids"]
    district_ids: ClassVar[list[int]] = CONFIG["district_ids"]
    figure_ids: ClassVar[list[int]] = CONFIG["figure_ids"]
    unit_ids: ClassVar[list[int]] = CONFIG["admin_unit_ids"]
    craft_groups: ClassVar[list[str | None]] = [*CONFIG["craft_groups"], None]
    sorts = ("-households_total", "name", "-established_year", "-id")
    years = range(CONFIG["years"][0], CONFIG["years"][1] + 1)
    programme_kinds = (None, "industrial_extension", "trade_promotion")
    auth: ClassVar[dict[str, str]] = {"X-API-Key": os.environ["SOAK_KEY"]}  # not written anywhere

    # -- reads (80 %) ---------------------------------------------------------------------------

    @task(40)
    def item(self) -> None:
        self.client.get(f"/api/v1/villages/{rng.choice(self.item_ids)}", name="item")

    @task(40)
    def page(self) -> None:
        query = f"district_id={rng.choice(self.district_ids)}&sort={rng.choice(self.sorts)}&limit=50"
        group = rng.choice(self.craft_groups)
        if group:
            query += f"&craft_group={group}"
        self.client.get(f"/api/v1/villages?{query}", name="list")

    # -- statistics (15 %) ----------------------------------------------------------------------

    @task(8)
    def overview(self) -> None:
        self._stats(f"/api/v1/stats/overview?year={rng.choice(self.years)}", "stats overview")

    @task(7)
    def programmes(self) -> None:
        query = "group_by=year,funding_source"
        kind = rng.choice(self.programme_kinds)
        if kind:
            query += f"&kind={kind}"
        self._stats(f"/api/v1/stats/programmes?{query}", "stats programmes")

    def _stats(self, url: str, name: str) -> None:
        response = self.client.get(url, name=name)
        source = response.headers.get("x-stats-source") if response.status_code == 200 else None
        with _lock:
            stats_sources[name][source or str(response.status_code)] += 1

    # -- writes (5 %) ---------------------------------------------------------------------------

    @task(2)
    def patch_figure(self) -> None:
        def change(record: dict[str, Any]) -> dict[str, Any]:
            return {"workers": (record.get("workers") or 0) % 100_000 + 1}

        self._patch("village-figures", rng.choice(self.figure_ids), change)

    @task(1)
    def patch_unit(self) -> None:
        def change(record: dict[str, Any]) -> dict[str, Any]:
            name = str(record["name"])
            return {"name": name[: -len(" (soak)")] if name.endswith(" (soak)") else name + " (soak)"}

        self._patch("admin-units", rng.choice(self.unit_ids), change)

    @task(2)
    def create(self) -> None:
        key = uuid.uuid4().hex
        body = {
            "name": f"HTX kiểm thử tải {key[:8]}",
            "registration_code": f"SOAK-{key[:24]}",
            "sector": "handicraft",
            "district_id": rng.choice(self.district_ids),
            "members": rng.randint(7, 300),
        }
        headers = {**self.auth, "Idempotency-Key": key}
        for attempt in range(WRITE_ATTEMPTS):
            with self.client.post(
                "/api/v1/cooperatives", json=body, headers=headers, name="write: POST cooperative",
                catch_response=True,
            ) as response:  # fmt: skip
                code = response.status_code
                if code in (200, 201):
                    with _lock:
                        acknowledged[key] = int(response.json()["id"])
                        if attempt:
                            write_events[f"POST acknowledged after {attempt} retries"] += 1
                    return
                if code in (503, 409, 0) or code is None:
                    # Not done, or not known to be done: the same request, same key, again.
                    if code == 409:  # the first try is still running: expected, not a failure
                        response.success()
                    with _lock:
                        write_events[f"POST retried after {code or 'network error'}"] += 1
                    time.sleep(_retry_after(response) if code else 1.0)
                    continue
                response.failure(f"POST answered {code}: {response.text[:200]}")
                break
        with _lock:
            unacknowledged.append(key)
            write_events["POST given up"] += 1

    def _patch(self, resource: str, record_id: int, change: Any) -> None:
        for attempt in range(WRITE_ATTEMPTS):
            read = self.client.get(f"/api/v1/{resource}/{record_id}", name="write: read ETag")
            if read.status_code != 200:
                time.sleep(1.0)
                continue
            with self.client.patch(
                f"/api/v1/{resource}/{record_id}",
                json=change(read.json()),
                headers={**self.auth, "If-Match": read.headers["etag"]},
                name=f"write: PATCH {resource}",
                catch_response=True,
            ) as response:
                code = response.status_code
                if code == 200:
                    with _lock:
                        patched[f"{resource}/{record_id}"] += 1
                        if attempt:
                            write_events[f"PATCH acknowledged after {attempt} retries"] += 1
                    return
                if code == 412:  # changed meanwhile by another user: read again, reapply
                    response.success()
                    with _lock:
                        write_events["PATCH 412, read again"] += 1
                    continue
                if code in (503, 0) or code is None:
                    with _lock:
                        write_events[f"PATCH retried after {code or 'network error'}"] += 1
                    time.sleep(_retry_after(response) if code else 1.0)
                    continue
                response.failure(f"PATCH answered {code}: {response.text[:200]}")
                break
        with _lock:
            write_events["PATCH given up"] += 1
