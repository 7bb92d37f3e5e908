"""Exports imported into an empty database (the gazetteer loaded) and exported again give the same
data; concurrent imports of overlapping rows neither lose nor double a row. Real commits: each on
databases of its own."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.seed import load_sample_data
from tests.conftest import create_database, drop_database
from tests.factories import API
from tests.imports.helpers import XLSX, post_file
from tests.servers import ROOT
from tests.stats.helpers import app_client

# Columns that belong to the database a record is in, not to the record's data.
LOCAL = {"id", "created_at", "updated_at", "version", "village_id"}


@pytest.fixture(scope="module")
def sample_url(server_url: str, gazetteer_url: str) -> Iterator[str]:
    url = create_database(server_url, prefix="cv_import_sample", template=gazetteer_url)
    try:
        asyncio.run(load_sample_data(url, only_if_empty=True))
        yield url
    finally:
        drop_database(server_url, url)


@pytest.fixture
def empty_url(server_url: str, gazetteer_url: str) -> Iterator[str]:
    url = create_database(server_url, prefix="cv_import_empty", template=gazetteer_url)
    try:
        yield url
    finally:
        drop_database(server_url, url)


async def export(client: httpx.AsyncClient, path: str, fmt: str, lang: str | None = None) -> bytes:
    params = {"format": fmt, "sort": "id", **({"lang": lang} if lang else {})}
    response = await client.get(f"{API}/{path}", params=params)
    assert response.status_code == 200, response.text
    return response.content


def data_of(content: bytes) -> list[dict[str, str]]:
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    return [{k: v for k, v in row.items() if k not in LOCAL} for row in rows]


@pytest.mark.parametrize(("fmt", "lang"), [("csv", None), ("xlsx", None), ("xlsx", "vi"), ("csv", "en")])
async def test_an_export_imported_into_an_empty_database_exports_the_same(
    sample_url: str, empty_url: str, fmt: str, lang: str | None
) -> None:
    async with app_client(sample_url) as (_, source):
        files = {
            path: await export(source, path, fmt, lang)
            for path in ("villages", "village-figures", "cooperatives")
        }
        before = {path: data_of(await export(source, path, "csv")) for path in files}
    content_type = XLSX if fmt == "xlsx" else "text/csv"
    async with app_client(empty_url) as (_, target):
        for path, content in files.items():
            answer = await post_file(
                target, path, content, content_type=content_type, multipart=fmt == "xlsx"
            )
            assert answer.status_code == 201, answer.text[:3000]
            assert answer.json()["created"] == len(before[path])
        after = {path: data_of(await export(target, path, "csv")) for path in files}
        again = await post_file(
            target, "villages", files["villages"], content_type=content_type, mode="upsert"
        )
        assert (again.json()["created"], again.json()["updated"]) == (0, 0)
    assert after == before
    assert len(before["villages"]) == 98
    assert len(before["cooperatives"]) > 30


async def test_concurrent_imports_of_overlapping_rows(empty_url: str) -> None:
    async with app_client(empty_url) as (_, client):
        villages = "name,district_code,craft_group\n" + "".join(
            f"Làng {n},362,handicraft\n" for n in range(40)
        )
        first, second = await asyncio.gather(
            post_file(client, "villages", villages.encode(), mode="upsert"),
            post_file(client, "villages", villages.encode(), mode="upsert"),
        )
        answers: list[dict[str, Any]] = [first.json(), second.json()]
        assert sorted(a["created"] for a in answers) == [0, 40], answers
        assert sorted(a["unchanged"] for a in answers) == [0, 40]
        figures = "village_name,district_code,year,workers\n"
        halves = [
            figures + "".join(f"Làng {n},362,{year},{n}\n" for n in range(40) for year in years)
            for years in ((2014, 2015), (2015, 2016))
        ]
        results = await asyncio.gather(
            *(post_file(client, "village-figures", h.encode(), mode="upsert") for h in halves)
        )
        assert all(r.status_code == 201 for r in results), [r.text for r in results]
        listed = await client.get(f"{API}/village-figures", params={"limit": 1})
        assert listed.json()["total"] == 120


def _command(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", "import", *args],
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )


async def test_the_command_line_imports_as_the_command_line(empty_url: str, tmp_path: Path) -> None:
    villages = tmp_path / "villages.csv"
    villages.write_text("name,district_code,craft_group\nVân Chàng,362,manufacturing\n", encoding="utf-8")
    dry = await asyncio.to_thread(_command, empty_url, str(villages), "--resource", "villages", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "created 1" in dry.stdout and "dry run" in dry.stdout
    done = await asyncio.to_thread(_command, empty_url, str(villages), "--resource", "villages")
    assert done.returncode == 0, done.stderr
    assert "batch 1: created 1" in done.stdout
    again = await asyncio.to_thread(_command, empty_url, str(villages), "--resource", "villages")
    assert again.returncode == 1
    assert "row 2, column name" in again.stderr
    async with app_client(empty_url) as (_, client):
        trail = (await client.get(f"{API}/audit", params={"import_batch_id": 1})).json()["items"]
        assert [(e["actor_kind"], e["actor_id"], e["action"]) for e in trail] == [
            ("command_line", 0, "create")
        ]
        batch = (await client.get(f"{API}/imports/1")).json()
        assert (batch["actor_kind"], batch["file_name"], batch["created"]) == (
            "command_line",
            "villages.csv",
            1,
        )
