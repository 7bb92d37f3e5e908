"""Statistics as files: every grouped statistic and the overview in CSV and XLSX, their rows and
totals the JSON answer's, with their own ETags."""

from __future__ import annotations

import csv
import io
import json

import httpx
import pytest
from openpyxl import load_workbook

from app.models import ProgrammeKind
from app.spreadsheets.formats import MEDIA_TYPES, Format, today
from app.stats.specs import ALL_STATS
from tests.factories import assert_problem
from tests.stats.helpers import STATS

XLSX = MEDIA_TYPES[Format.xlsx]
GROUPS = {
    "villages": "craft_group,district",
    "cooperatives": "sector",
    "programmes": "year,kind",
    "trade-fairs": "kind,year",
}


def _csv(answer: httpx.Response) -> list[list[str]]:
    assert answer.content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"), newline="")))


@pytest.mark.parametrize("path", [s.path for s in ALL_STATS])
async def test_each_statistic_as_csv_and_xlsx(seeded: httpx.AsyncClient, path: str) -> None:
    stats = next(s for s in ALL_STATS if s.path == path)
    params = {"group_by": GROUPS[path]}
    body = json.loads((await seeded.get(f"{STATS}/{path}", params=params)).content)
    answer = await seeded.get(f"{STATS}/{path}", params=params, headers={"Accept": "text/csv"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-disposition"] == (
        f'attachment; filename="stats-{path}-{today().isoformat()}.csv"'
    )
    lines = _csv(answer)
    header, rows, totals = lines[0], lines[1:-1], lines[-1]
    dims = body["group_by"]
    assert header[-len(stats.measures) :] == list(stats.measures)
    assert len(rows) == len(body["rows"]) and rows
    for line, row in zip(rows, body["rows"], strict=True):
        assert [int(v) for v in line[-len(stats.measures) :]] == [row[m] for m in stats.measures]
    assert totals[0] == "total"
    assert [int(v) for v in totals[-len(stats.measures) :]] == [body["totals"][m] for m in stats.measures]
    if "district" in dims:
        assert "district_code" in header and "district_name" in header

    book = await seeded.get(f"{STATS}/{path}", params=params | {"format": "xlsx", "lang": "vi"})
    assert book.status_code == 200 and book.headers["content-type"] == XLSX
    workbook = load_workbook(io.BytesIO(book.content))
    sheet = workbook["data"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref
    assert sheet.max_row == len(body["rows"]) + 2
    last = [c.value for c in sheet[sheet.max_row]]
    assert last[0] == "Tổng cộng" and sheet.cell(sheet.max_row, 1).font.b
    assert last[-len(stats.measures) :] == [body["totals"][m] for m in stats.measures]
    about = {r[0].value: r[1].value for r in workbook["about"].iter_rows()}
    assert str(about["Nguồn"]).startswith(f"/api/v1/stats/{path}") and about["Phiên bản dữ liệu"]


async def test_statistic_files_have_their_own_etags(seeded: httpx.AsyncClient) -> None:
    params = {"group_by": "kind"}
    as_json = await seeded.get(f"{STATS}/programmes", params=params)
    as_csv = await seeded.get(f"{STATS}/programmes", params=params | {"format": "csv"})
    assert as_json.headers["etag"] != as_csv.headers["etag"]
    again = await seeded.get(
        f"{STATS}/programmes",
        params=params,
        headers={"Accept": "text/csv", "If-None-Match": as_csv.headers["etag"]},
    )
    assert again.status_code == 304
    vi = await seeded.get(f"{STATS}/programmes", params=params | {"format": "csv", "lang": "vi"})
    assert vi.headers["etag"] != as_csv.headers["etag"]
    header, first = _csv(vi)[:2]
    assert header[0] == "Loại" and first[0] in {kind.vi for kind in ProgrammeKind}
    body = assert_problem(
        await seeded.get(f"{STATS}/programmes", params=params, headers={"Accept": "application/geo+json"}),
        406,
    )
    assert body["available"] == ["application/json", "text/csv", XLSX]


async def test_the_overview_as_a_file(seeded: httpx.AsyncClient) -> None:
    body = json.loads((await seeded.get(f"{STATS}/overview", params={"year": 2015})).content)
    lines = _csv(await seeded.get(f"{STATS}/overview", params={"year": 2015, "format": "csv"}))
    assert lines[0] == ["figure", "value"]
    figures = dict(lines[1:])
    assert figures["villages.total"] == str(body["villages"]["total"])
    assert figures["villages.by_craft_group.handicraft"] == str(
        body["villages"]["by_craft_group"]["handicraft"]
    )
    book = load_workbook(
        io.BytesIO((await seeded.get(f"{STATS}/overview", params={"year": 2015, "format": "xlsx"})).content)
    )
    values = {r[0]: r[1] for r in book["data"].iter_rows(min_row=2, values_only=True)}
    assert values["year"] == 2015 and type(values["villages.total"]) is int
