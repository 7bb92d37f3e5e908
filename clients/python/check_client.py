"""The Python client generated from docs/openapi.json, used as an integrator would, on a live server.

clients/check generates the client (openapi-python-client) into clients/build/python, checks this
program with mypy --strict, and runs it with CRAFTVILLAGE_BASE_URL and CRAFTVILLAGE_API_KEY set (an
administrator's key) against a throwaway server with the sample data. Every check is run even
when one before it failed; the exit status is 1 when any failed.
"""

from __future__ import annotations

import datetime
import os
import sys
import uuid
from collections.abc import Callable
from http import HTTPStatus
from typing import TypeVar

from craftvillage_client import AuthenticatedClient, Client
from craftvillage_client.api.statistics import stats_overview, stats_villages
from craftvillage_client.api.trade_fairs import (
    create_trade_fairs,
    delete_trade_fairs,
    get_trade_fairs,
    update_trade_fairs,
)
from craftvillage_client.api.villages import get_villages, list_villages
from craftvillage_client.models import (
    CraftGroup,
    FairKind,
    FieldError,
    FieldErrorLocation,
    Overview,
    PageVillageRead,
    Problem,
    TradeFairCreate,
    TradeFairRead,
    TradeFairUpdate,
    VillageDimension,
    VillageRead,
    VillageSortKey,
    VillageStats,
)
from craftvillage_client.types import Response, Unset

PROBLEM_JSON = "application/problem+json"
T = TypeVar("T")
R = TypeVar("R")


class Failed(Exception):
    """A check that failed; the step it is in stops, the others still run."""


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise Failed(message)


def parsed_as(response: Response[R], kind: type[T]) -> T:
    """The parsed body, when it is of the kind expected (the narrowing is the type check).

    Also keeps the program clear of the generator's `Any` for a response without a body (a 204
    or a 304): openapi-python-client types it `Response[Any | …]`, and this hands back a typed body.
    """
    parsed = response.parsed
    if not isinstance(parsed, kind):
        raise Failed(f"expected a {kind.__name__}, got {response.status_code.value}: {response.content!r}")
    return parsed


def problem_of(response: Response[R], status: HTTPStatus) -> Problem:
    """The typed problem of an error answer, after checking its status and media type."""
    expect(
        response.status_code == status,
        f"expected {status.value}, got {response.status_code.value}: {response.content!r}",
    )
    media_type = response.headers.get("content-type", "")
    expect(media_type.startswith(PROBLEM_JSON), f"{status.value} answered as {media_type!r}")
    problem = parsed_as(response, Problem)
    expect(problem.status == status.value, f"problem.status is {problem.status}")
    expect(bool(problem.title), "problem.title is empty")
    return problem


def text(value: str | Unset) -> str:
    """An optional string of a problem, for a message."""
    return value if isinstance(value, str) else "(none)"


def etag_of(response: Response[R]) -> str:
    """The ETag header of an answer that declares one."""
    etag = response.headers.get("etag")
    if etag is None:
        raise Failed(f"no ETag on a {response.status_code.value}")
    return etag


class Run:
    def __init__(self, base_url: str, api_key: str) -> None:
        # Reads need no credential; writes send the API key in X-API-Key (no "Bearer" prefix).
        # Send one credential only: a bearer token and an API key together get a 401.
        self.public = Client(base_url=base_url, raise_on_unexpected_status=False)
        self.editor = AuthenticatedClient(
            base_url=base_url, token=api_key, prefix="", auth_header_name="X-API-Key"
        )
        self.village_id = 0
        self.district_id = 0
        self.fair_id = 0
        self.fair_etag = ""
        self.failures: list[str] = []
        self.passed = 0

    def step(self, name: str, body: Callable[[], None]) -> None:
        try:
            body()
        except Failed as failure:
            self.failures.append(f"{name}: {failure}")
            print(f"FAIL {name}: {failure}", flush=True)
        else:
            self.passed += 1
            print(f"ok   {name}", flush=True)

    # 1. A filtered list: total and items.
    def list_villages(self) -> None:
        response = list_villages.sync_detailed(client=self.public, q="van chang")
        page = parsed_as(response, PageVillageRead)
        expect(page.total >= 1, f"q=van chang found {page.total} villages")
        expect(len(page.items) == min(page.total, page.limit), "items do not match total")
        names = [village.name for village in page.items]
        expect("Vân Chàng" in names, f"q=van chang found {names}")
        first: VillageRead = page.items[0]
        # A village placed in a commune of 2025 has no district (None); Vân Chàng of 2015 has one.
        district_id = first.district_id
        if district_id is None:
            raise Failed("the village has no district")
        self.village_id, self.district_id = first.id, district_id

        # sort is a list of keys, "-" for descending: within the one district, newest id first.
        sort = [VillageSortKey.DISTRICT_ID, VillageSortKey("-id")]
        by_district = parsed_as(
            list_villages.sync_detailed(
                client=self.public, district_id=[self.district_id], sort=sort, limit=5
            ),
            PageVillageRead,
        )
        expect(
            all(v.district_id == self.district_id for v in by_district.items),
            "district_id filter returned villages of other districts",
        )
        expect(by_district.total >= len(by_district.items), "total below the page size")
        ids = [village.id for village in by_district.items]
        expect(ids == sorted(ids, reverse=True), f"sort={[str(k) for k in sort]} gave ids {ids}")

    # 2. A statistic grouped by two dimensions: the answer echoes both, every row carries both.
    def grouped_statistic(self) -> None:
        wanted = [VillageDimension.CRAFT_GROUP, VillageDimension.STATUS]
        response = stats_villages.sync_detailed(client=self.public, group_by=wanted, year=[2015])
        stats = parsed_as(response, VillageStats)
        expect(
            stats.group_by == wanted,
            f"asked group_by={[str(d) for d in wanted]}, the answer says {[str(d) for d in stats.group_by]}",
        )
        expect(bool(stats.rows), "no rows")
        counted = 0
        by_group: dict[CraftGroup, int] = {}
        for row in stats.rows:
            # A row carries the dimensions asked for, and only those.
            if isinstance(row.craft_group, Unset) or isinstance(row.status, Unset):
                raise Failed(f"a row lacks craft_group or status: {row!r}")
            expect(
                isinstance(row.district, Unset) and isinstance(row.year, Unset),
                "a row has a dimension not asked for",
            )
            expect(bool(row.craft_group.vi and row.craft_group.en), "a craft group without labels")
            by_group[row.craft_group.code] = by_group.get(row.craft_group.code, 0) + row.villages
            expect(row.recognised <= row.villages, "more recognised villages than villages in a row")
            counted += row.villages
        totals = stats.totals
        expect(counted == totals.villages, f"rows add up to {counted}, totals say {totals.villages}")
        print(f"     villages by craft group: {', '.join(f'{g}={n}' for g, n in sorted(by_group.items()))}")

    # 3. An ETag, then If-None-Match: 304 (a record, then a statistic).
    def conditional_read(self) -> None:
        response = get_villages.sync_detailed(self.village_id, client=self.public)
        village = parsed_as(response, VillageRead)
        etag = etag_of(response)
        expect(etag == f'"{village.version}"', f"ETag {etag} of version {village.version}")
        again = get_villages.sync_detailed(self.village_id, client=self.public, if_none_match=etag)
        expect(
            again.status_code == HTTPStatus.NOT_MODIFIED,
            f"If-None-Match {etag} answered {again.status_code.value}",
        )
        expect(again.content == b"", "a 304 with a body")
        expect(etag_of(again) == etag, "a 304 with another ETag")

        wanted = [VillageDimension.DISTRICT]
        stats = stats_villages.sync_detailed(client=self.public, group_by=wanted, year=[2015])
        parsed_as(stats, VillageStats)
        stats_etag = etag_of(stats)
        unchanged = stats_villages.sync_detailed(
            client=self.public, group_by=wanted, year=[2015], if_none_match=stats_etag
        )
        expect(
            unchanged.status_code == HTTPStatus.NOT_MODIFIED,
            f"a statistic with If-None-Match {stats_etag} answered {unchanged.status_code.value}",
        )

    # 4. The overview of a year.
    def overview(self) -> None:
        response = stats_overview.sync_detailed(client=self.public, year=2015)
        overview = parsed_as(response, Overview)
        expect(overview.year == 2015, f"year {overview.year}")
        villages = overview.villages
        # The by-code counts are closed objects: one integer per code, zeros included.
        groups = villages.by_craft_group
        expect(0 < groups.handicraft <= villages.total, f"{groups.handicraft} handicraft villages")
        counted = sum(
            (
                groups.agro_processing,
                groups.handicraft,
                groups.material_processing,
                groups.manufacturing,
                groups.ornamental,
                groups.salt,
                groups.rural_services,
            )
        )
        expect(counted == villages.total, f"by_craft_group adds up to {counted}, not {villages.total}")
        expect(villages.recognised <= villages.total, "more recognised villages than villages")
        # Money is whole đồng; a Python int never loses digits.
        expect(villages.production_value_vnd >= 0, "negative production value")
        fairs = overview.trade_promotion.fairs
        expect(min(fairs.hosted, fairs.attended, fairs.overseas) >= 0, f"fairs by kind: {fairs}")

    # 5. A create with an Idempotency-Key, repeated: the same record.
    def create(self) -> None:
        key = f"clients-check-{uuid.uuid4()}"
        body = TradeFairCreate(
            name="Hội chợ kiểm tra client Python",
            kind=FairKind.HOSTED,
            start_on=datetime.date(2015, 10, 1),
            end_on=datetime.date(2015, 10, 5),
            city="Nam Định",
            standard_booths=120,
            contract_value_vnd=9_007_199_254_740_993,  # 2^53 + 1: exact in Python
        )
        first = create_trade_fairs.sync_detailed(client=self.editor, body=body, idempotency_key=key)
        created = parsed_as(first, TradeFairRead)
        expect(first.status_code == HTTPStatus.CREATED, f"create answered {first.status_code}")
        expect(created.contract_value_vnd == 9_007_199_254_740_993, "the amount lost digits")
        self.fair_id = created.id
        self.fair_etag = etag_of(first)
        expect(self.fair_etag == f'"{created.version}"', f"ETag {self.fair_etag!r}")
        location = first.headers.get("location", "")
        expect(location.endswith(f"/trade-fairs/{created.id}"), f"Location {location!r}")

        second = create_trade_fairs.sync_detailed(client=self.editor, body=body, idempotency_key=key)
        replayed = parsed_as(second, TradeFairRead)
        expect(second.status_code == HTTPStatus.CREATED, f"the retry answered {second.status_code}")
        expect(replayed.id == created.id, f"the retry made record {replayed.id}, not {created.id}")
        expect(second.headers.get("idempotent-replayed") == "true", "not marked as replayed")
        expect(etag_of(second) == self.fair_etag, f"the retry's ETag {etag_of(second)!r}")

    # 6. PATCH with If-Match; then with the stale ETag: 412 as a typed Problem, whose
    #    current_version gives the ETag to retry with.
    def update(self) -> None:
        stale = self.fair_etag
        response = update_trade_fairs.sync_detailed(
            self.fair_id, client=self.editor, body=TradeFairUpdate(visitors=1500), if_match=stale
        )
        updated = parsed_as(response, TradeFairRead)
        expect(updated.visitors == 1500, f"visitors {updated.visitors}")
        self.fair_etag = etag_of(response)
        expect(self.fair_etag == f'"{updated.version}"' != stale, f"ETag {self.fair_etag!r}")

        change = TradeFairUpdate(visitors=1600)
        refused = update_trade_fairs.sync_detailed(
            self.fair_id, client=self.editor, body=change, if_match=stale
        )
        problem = problem_of(refused, HTTPStatus.PRECONDITION_FAILED)
        expect(isinstance(problem.detail, str), "a 412 without detail")
        print(f"     412: {problem.title}: {text(problem.detail)}")
        current = problem.current_version
        if isinstance(current, Unset):
            raise Failed("a 412 without current_version")
        expect(current == updated.version, f"current_version {current}, not {updated.version}")

        retried = update_trade_fairs.sync_detailed(
            self.fair_id, client=self.editor, body=change, if_match=f'"{current}"'
        )
        again = parsed_as(retried, TradeFairRead)
        expect(again.visitors == 1600, f"visitors {again.visitors} after the retry")
        expect(again.version == current + 1, f"version {again.version} after {current}")
        self.fair_etag = etag_of(retried)
        expect(self.fair_etag == f'"{again.version}"', f"ETag {self.fair_etag!r}")

    # 7. An invalid change: 422 with the list of errors.
    def invalid_update(self) -> None:
        refused = update_trade_fairs.sync_detailed(
            self.fair_id,
            client=self.editor,
            body=TradeFairUpdate(name="", visitors=-1),
            if_match=self.fair_etag,
        )
        problem = problem_of(refused, HTTPStatus.UNPROCESSABLE_ENTITY)
        errors = problem.errors
        if not isinstance(errors, list) or not errors:
            raise Failed(f"a 422 without errors: {errors!r}")
        fields: set[str] = set()
        for error in errors:
            if not isinstance(error, FieldError):  # an import's cell errors are the other kind
                raise Failed(f"a field error expected, not {error!r}")
            expect(bool(error.field) and bool(error.message), f"an empty error {error!r}")
            expect(error.location == FieldErrorLocation.BODY, f"{error.field}: location {error.location}")
            fields.add(error.field)
        expect({"name", "visitors"} <= fields, f"errors name {sorted(fields)}")
        print(f"     422: {text(problem.detail)}: {sorted(fields)}")

    # 8. DELETE with If-Match; then the record is gone.
    def delete(self) -> None:
        deleted = delete_trade_fairs.sync_detailed(self.fair_id, client=self.editor, if_match=self.fair_etag)
        expect(deleted.status_code == HTTPStatus.NO_CONTENT, f"delete: {deleted.content!r}")
        gone = get_trade_fairs.sync_detailed(self.fair_id, client=self.public)
        problem = problem_of(gone, HTTPStatus.NOT_FOUND)
        print(f"     404: {text(problem.detail)}")


def main() -> int:
    base_url = os.environ.get("CRAFTVILLAGE_BASE_URL", "http://127.0.0.1:8000")
    api_key = os.environ.get("CRAFTVILLAGE_API_KEY", "")
    if not api_key:
        print("CRAFTVILLAGE_API_KEY is not set (an editor's or administrator's API key)")
        return 2
    run = Run(base_url, api_key)
    with run.public, run.editor:
        run.step("1 list villages (q, district_id)", run.list_villages)
        run.step("2 stats/villages group_by=craft_group,status", run.grouped_statistic)
        run.step("3 ETag and If-None-Match: 304 (record, statistic)", run.conditional_read)
        run.step("4 stats/overview?year=2015", run.overview)
        run.step("5 create with Idempotency-Key, twice", run.create)
        if run.fair_id:
            run.step("6 PATCH If-Match; stale: 412 Problem; retry with its version", run.update)
            run.step("7 invalid PATCH: 422 Problem with errors", run.invalid_update)
            run.step("8 DELETE If-Match, then GET: 404", run.delete)
        else:
            run.failures.append("6-8 not run: nothing was created")
    for failure in run.failures:
        print(f"python client: FAILED {failure}")
    print(f"python client: {run.passed} of 8 steps passed")
    return 1 if run.failures or run.passed != 8 else 0


if __name__ == "__main__":
    sys.exit(main())
