"""The sample data files themselves (app/<resource>/sample.csv, format in app/seed.py's docstring).

Each file parses as CSV, names only the columns the format allows for its resource, repeats no
natural key, and loading an empty database turns every row into exactly one record (and every
funding cell, beneficiary and participant into one line). The report's figures are
tests/test_seed.py's business.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from typing import NamedTuple

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app.kit.resource import table_of
from app.models import FundingSource, ProgrammeBeneficiary, ProgrammeFunding, TradeFairParticipant
from app.registry import REGISTRY
from app.seed import REFERENCES, SAMPLES, Sample, load_sample_data
from tests.conftest import create_database, drop_database

BY_PATH = {s.path: s for s in SAMPLES}
FUNDING_COLUMNS = {f"funding_{source.value}_vnd" for source in FundingSource}


def table(sample: Sample) -> list[list[str]]:
    """The file's rows, header first, read here rather than by the loader."""
    raw = sample.file.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf"), "no byte-order mark"
    return list(csv.reader(io.StringIO(raw.decode("utf-8"), newline=""), strict=True))


def records(sample: Sample) -> list[dict[str, str]]:
    header, *rows = table(sample)
    return [dict(zip(header, row, strict=True)) for row in rows]


def allowed_columns(sample: Sample) -> set[str]:
    """The create body's fields, a reference <x>_id named <x> (or as REFERENCES says), funding
    flattened by source, and the other embedded lists (beneficiaries, participants) one cell each."""
    res = sample.resource
    fields = set(res.create.model_fields)
    allowed = {f for f in fields if not f.endswith("_id")} - {"funding"}
    allowed |= {f.removesuffix("_id") for f in fields if f.endswith("_id")}
    allowed |= {column for column, field in REFERENCES.items() if field in fields}
    if "funding" in res.children:
        allowed |= FUNDING_COLUMNS
    return allowed


def list_items(cell: str) -> list[str]:
    return cell.split("; ") if cell else []


def test_one_file_per_resource_in_dependency_order() -> None:
    # The places are the national gazetteer's (app/admin_units/gazetteer), not a sample file.
    assert [s.path for s in SAMPLES] == [r.path for r in REGISTRY if r.path != "admin-units"]
    for sample in SAMPLES:
        assert sample.file.is_file(), sample.file


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.path)
def test_file_parses_with_one_cell_per_column(sample: Sample) -> None:
    header, *rows = table(sample)
    assert rows, "a sample file holds records"
    assert len(set(header)) == len(header), "no column twice"
    for number, row in enumerate(rows, start=1):
        assert len(row) == len(header), f"row {number}"


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.path)
def test_columns_are_the_resources_fields(sample: Sample) -> None:
    header = table(sample)[0]
    assert set(header) <= allowed_columns(sample), set(header) - allowed_columns(sample)
    assert set(sample.key) <= set(header)
    assert set(sample.reference) <= set(header)


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.path)
def test_no_natural_key_or_reference_repeats(sample: Sample) -> None:
    rows = records(sample)
    keys = Counter(tuple(row[c] for c in sample.key) for row in rows)
    assert [k for k, n in keys.items() if n > 1] == []
    references = Counter("/".join(row[c] for c in sample.reference or sample.key) for row in rows)
    assert [r for r, n in references.items() if n > 1] == []


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.path)
def test_cells_are_written_as_documented(sample: Sample) -> None:
    for number, row in enumerate(records(sample), start=1):
        for column, cell in row.items():
            where = f"row {number} {column}={cell!r}"
            assert cell == cell.strip() and cell == unicodedata.normalize("NFC", cell), where
            if column.endswith("_vnd"):
                assert re.fullmatch(r"[0-9]*", cell), where  # whole đồng, no separators
            if column.endswith("_on") or column in {"valid_from", "valid_to"}:
                assert re.fullmatch(r"([0-9]{4}-[0-9]{2}-[0-9]{2})?", cell), where
            if column in {"beneficiaries", "participants"}:
                booths = r"\*[0-9]+" if column == "participants" else ""
                for item in list_items(cell):
                    assert re.fullmatch(rf"(village:[0-9]+/|cooperative:)[^;*]+{booths}", item), where


class Loaded(NamedTuple):
    report: str
    counts: dict[str, int]  # rows per table


@pytest.fixture(scope="module")
def loaded(server_url: str, gazetteer_url: str) -> Iterator[Loaded]:
    """The sample data loaded into a database of this module's own holding only the gazetteer."""
    url = create_database(server_url, prefix="cv_sample_files", template=gazetteer_url)

    async def count() -> dict[str, int]:
        engine = create_async_engine(url, poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                tables = [t for r in REGISTRY for t in r.tables()]
                return {t.name: await conn.scalar(select(func.count()).select_from(t)) or 0 for t in tables}
        finally:
            await engine.dispose()

    try:
        report = asyncio.run(load_sample_data(url, only_if_empty=True))
        yield Loaded(report, asyncio.run(count()))
    finally:
        drop_database(server_url, url)


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.path)
def test_every_row_is_one_record(sample: Sample, loaded: Loaded) -> None:
    assert loaded.counts[sample.resource.table.name] == len(records(sample))


def test_every_list_item_is_one_line(loaded: Loaded) -> None:
    programmes = records(BY_PATH["programmes"])
    fairs = records(BY_PATH["trade-fairs"])
    lines = {
        ProgrammeFunding: sum(1 for row in programmes for c in FUNDING_COLUMNS if row.get(c)),
        ProgrammeBeneficiary: sum(len(list_items(row["beneficiaries"])) for row in programmes),
        TradeFairParticipant: sum(len(list_items(row["participants"])) for row in fairs),
    }
    for model, expected in lines.items():
        assert loaded.counts[table_of(model).name] == expected, model.__name__
    total = sum(len(records(s)) for s in SAMPLES) + sum(lines.values())
    places, sample = loaded.report.splitlines()
    assert places.startswith("places: 0 units added, 0 changed, ")
    assert sample == f"sample data: {total} records added, 0 already present"
