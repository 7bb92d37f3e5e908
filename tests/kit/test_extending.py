"""Extending the service: a resource declared in this one module gets the five endpoints, filters,
sorting, ETags, the audit trail, rule messages and DELETE 409s, with no edit anywhere else.

The resource's table lives in a MetaData of its own (so Alembic's view of the app's tables stays as
it is) and is created inside the test's transaction, which is rolled back afterwards.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import httpx
import pytest
from fastapi import FastAPI
from pydantic import Field
from sqlalchemy import ForeignKey, Index, Integer, MetaData, Text, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from app.core.labels import LabelledEnum
from app.core.settings import Settings
from app.kit.pagination import FilterParams
from app.kit.registry import Registry
from app.kit.resource import Resource
from app.kit.schemas import AnyOf, Body, RecordRead, partial_model
from app.kit.types import Id, Name, QCount, QId
from app.main import create_app
from app.models import Record, Role
from app.models.base import NAMING_CONVENTION, one_of, rule
from app.registry import REGISTRY
from tests.conftest import client_in_transaction
from tests.factories import assert_invalid, assert_problem

WORKSHOPS = "/api/v1/workshops"


class WorkshopKind(LabelledEnum):
    forge = "forge", "Lò rèn", "Forge"
    loom = "loom", "Khung dệt", "Loom"


class _OwnTables(Record):
    __abstract__ = True
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Workshop(_OwnTables):
    __tablename__ = "test_workshop"

    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    seats: Mapped[int | None] = mapped_column(Integer)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("test_workshop.id", ondelete="RESTRICT"))

    __table_args__ = (
        one_of("kind", WorkshopKind),
        # Left to the database on purpose (the API schema has no bound): its message must reach
        # the client through the registry.
        rule("seats >= 0", "seats_not_negative", "a workshop cannot have fewer than no seats"),
        Index("ix_test_workshop_parent_id", "parent_id"),
    )


class WorkshopCreate(Body):
    name: Name
    kind: WorkshopKind
    seats: int | None = None
    parent_id: Id | None = Field(default=None, description="The workshop this one is part of.")


class WorkshopRead(RecordRead):
    name: str
    kind: WorkshopKind
    seats: int | None
    parent_id: int | None


class WorkshopQuery(FilterParams):
    kind: AnyOf[WorkshopKind] | None = None
    parent_id: AnyOf[QId] | None = None
    seats_min: QCount | None = None


WORKSHOP: Resource[Workshop] = Resource(
    path="workshops",
    singular="workshop",
    plural="workshops",
    model=Workshop,
    create=WorkshopCreate,
    update=partial_model(WorkshopCreate, "WorkshopUpdate"),
    read=WorkshopRead,
    query=WorkshopQuery,
    columns={"kind": Workshop.kind, "parent_id": Workshop.parent_id, "seats": Workshop.seats},
    sortable={"id": Workshop.id, "name": Workshop.name, "seats": Workshop.seats},
    enums={"workshop_kind": WorkshopKind},
)


@pytest.fixture(scope="module")
def extended_app(database_url: str) -> FastAPI:
    registry = Registry((*REGISTRY.resources, WORKSHOP), extra_enums={"role": Role})
    return create_app(Settings(database_url=database_url), registry=registry)


@pytest.fixture
async def http(
    db: AsyncSession, engine: AsyncEngine, extended_app: FastAPI
) -> AsyncIterator[httpx.AsyncClient]:
    await db.run_sync(lambda session: Workshop.metadata.create_all(session.connection()))
    async with client_in_transaction(extended_app, db, engine) as client:
        yield client


async def test_a_declared_resource_gets_the_five_endpoints(http: httpx.AsyncClient) -> None:
    created = await http.post(WORKSHOPS, json={"name": "Lò rèn Vân Chàng", "kind": "forge", "seats": 4})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["name"] == "Lò rèn Vân Chàng" and body["kind"] == "forge" and body["version"] == 1
    assert created.headers["location"] == f"{WORKSHOPS}/{body['id']}"
    assert created.headers["etag"] == '"1"'
    assert datetime.fromisoformat(body["created_at"])

    read = await http.get(f"{WORKSHOPS}/{body['id']}")
    assert read.status_code == 200 and read.json() == body
    assert (await http.get(f"{WORKSHOPS}/{body['id']}", headers={"If-None-Match": '"1"'})).status_code == 304

    changed = await http.patch(f"{WORKSHOPS}/{body['id']}", json={"seats": 6}, headers={"If-Match": '"1"'})
    assert changed.status_code == 200, changed.text
    assert changed.json()["seats"] == 6 and changed.headers["etag"] == '"2"'
    stale = await http.patch(f"{WORKSHOPS}/{body['id']}", json={"seats": 7}, headers={"If-Match": '"1"'})
    assert_problem(stale, 412)

    deleted = await http.delete(f"{WORKSHOPS}/{body['id']}", headers={"If-Match": '"2"'})
    assert deleted.status_code == 204
    assert_problem(await http.get(f"{WORKSHOPS}/{body['id']}"), 404)


async def test_filters_sorting_and_enumerations(http: httpx.AsyncClient) -> None:
    for name, kind, seats in (("Xưởng B", "loom", 2), ("Xưởng A", "forge", 9), ("Xưởng C", "forge", 1)):
        await http.post(WORKSHOPS, json={"name": name, "kind": kind, "seats": seats})
    page = (await http.get(WORKSHOPS, params={"kind": "forge", "sort": "-seats"})).json()
    assert [w["name"] for w in page["items"]] == ["Xưởng A", "Xưởng C"] and page["total"] == 2
    page = (await http.get(WORKSHOPS, params={"seats_min": 2, "sort": "name"})).json()
    assert [w["name"] for w in page["items"]] == ["Xưởng A", "Xưởng B"]
    assert_invalid(await http.get(WORKSHOPS, params={"kind": "kiln"}), "kind", location="query")
    assert_invalid(await http.get(WORKSHOPS, params={"colour": "red"}), "colour", location="query")
    enums = (await http.get("/api/v1/meta/enums")).json()
    assert [v["code"] for v in enums["workshop_kind"]] == ["forge", "loom"]
    assert enums["workshop_kind"][0]["vi"] == "Lò rèn"


async def test_writes_are_audited_and_counted(http: httpx.AsyncClient, db: AsyncSession) -> None:
    before = await _data_version(db)
    created = (await http.post(WORKSHOPS, json={"name": "Khung dệt", "kind": "loom"})).json()
    history = await http.get(f"{WORKSHOPS}/{created['id']}/history")
    assert history.status_code == 200, history.text
    [event] = history.json()["items"]
    assert event["action"] == "create" and event["resource"] == "workshops"
    assert event["changes"]["name"] == [None, "Khung dệt"]
    trail = await http.get("/api/v1/audit", params={"resource": "workshops"})
    assert trail.json()["total"] == 1
    assert await _data_version(db) == before + 1


async def test_database_rules_and_references(http: httpx.AsyncClient) -> None:
    parent = (await http.post(WORKSHOPS, json={"name": "Xưởng mẹ", "kind": "forge"})).json()
    child = await http.post(WORKSHOPS, json={"name": "Xưởng con", "kind": "forge", "parent_id": parent["id"]})
    assert child.status_code == 201, child.text

    # The rule the table declares, explained with its own message.
    broken = assert_problem(await http.post(WORKSHOPS, json={"name": "X", "kind": "loom", "seats": -1}), 422)
    assert broken["detail"] == "a workshop cannot have fewer than no seats"
    # A reference to nothing is named, with the resource's own word for it.
    missing = assert_invalid(
        await http.post(WORKSHOPS, json={"name": "Y", "kind": "loom", "parent_id": 999999})
    )
    assert "workshop 999999 does not exist" in str(missing["errors"])

    refused = assert_problem(await http.delete(f"{WORKSHOPS}/{parent['id']}"), 409)
    assert refused["referenced_by"] == [
        {"resource": "workshops", "field": "parent_id", "count": 1, "ids": [child.json()["id"]]}
    ]


async def test_the_document_describes_it(extended_app: FastAPI) -> None:
    paths = extended_app.openapi()["paths"]
    assert {"get", "post"} <= paths[WORKSHOPS].keys()
    assert {"get", "patch", "delete"} <= paths[WORKSHOPS + "/{record_id}"].keys()
    assert paths[WORKSHOPS + "/{record_id}/history"]["get"]["operationId"] == "history_workshops"


async def _data_version(db: AsyncSession) -> int:
    found = await db.scalar(text("SELECT version FROM data_version WHERE resource = 'test_workshop'"))
    return int(found or 0)
