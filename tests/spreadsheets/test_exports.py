"""File exports of the lists: CSV read back with Python's csv module, XLSX opened with openpyxl,
GeoJSON checked against the rules of RFC 7946; negotiation, 406, 304, fields, limits, streaming."""

from __future__ import annotations

import asyncio
import csv
import io
import unicodedata
from datetime import date, datetime
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from app.kit import export
from app.registry import REGISTRY
from app.spreadsheets.formats import MEDIA_TYPES, Format, today
from app.spreadsheets.headers import LABELS
from tests.factories import API, PATHS, assert_invalid, assert_problem, create, places, valid_body

BY_PATH = {res.path: res for res in REGISTRY}
XLSX = MEDIA_TYPES[Format.xlsx]


def read_csv(response: httpx.Response) -> list[dict[str, str]]:
    """The rows of a CSV answer, which must start with a BOM and use CRLF line ends."""
    assert response.content.startswith(b"\xef\xbb\xbf"), response.content[:10]
    text = response.content.decode("utf-8-sig")
    assert text.endswith("\r\n") and text.split("\r\n", 1)[0].count("\n") == 0  # CRLF ends the records
    return list(csv.DictReader(io.StringIO(text, newline="")))


def read_xlsx(response: httpx.Response) -> Any:
    return load_workbook(io.BytesIO(response.content))


def attachment(response: httpx.Response, stem: str, extension: str) -> None:
    expected = f'attachment; filename="{stem}-{today().isoformat()}.{extension}"'
    assert response.headers["content-disposition"] == expected


@pytest.mark.parametrize("path", PATHS)
async def test_every_list_as_csv_and_xlsx(client: httpx.AsyncClient, path: str) -> None:
    at = await places(client)
    made = await create(client, path, valid_body(path, at, 1))
    columns = [c.code for c in export.columns_of(BY_PATH[path])]
    listed = (await client.get(f"{API}/{path}", params={"limit": 500})).json()

    answer = await client.get(f"{API}/{path}", params={"format": "csv"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/csv; charset=utf-8; header=present"
    attachment(answer, path, "csv")
    rows = read_csv(answer)
    assert list(rows[0]) == columns
    assert [int(r["id"]) for r in rows] == [item["id"] for item in listed["items"]]
    mine = next(r for r in rows if int(r["id"]) == made["id"])
    assert mine["version"] == str(made["version"])
    if "name" in made:
        assert mine["name"] == made["name"]

    book = await client.get(f"{API}/{path}", headers={"Accept": XLSX})
    assert book.status_code == 200 and book.headers["content-type"] == XLSX
    attachment(book, path, "xlsx")
    workbook = read_xlsx(book)
    assert workbook.sheetnames == ["data", "about"]
    sheet = workbook["data"]
    header = [cell.value for cell in sheet[1]]
    assert header == columns
    assert all(cell.font.b for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, len(columns)).column_letter}{len(rows) + 1}"
    ids = [sheet.cell(r, 1).value for r in range(2, sheet.max_row + 1)]
    assert ids == [int(r["id"]) for r in rows]
    assert all(type(i) is int for i in ids)
    about = {row[0].value: row[1].value for row in workbook["about"].iter_rows()}
    assert about["Rows"] == str(len(rows))
    assert about["Source"].startswith(f"/api/v1/{path}")
    assert about["Data version"] and about["Data as of (last change, UTC)"]
    for width in (sheet.column_dimensions[sheet.cell(1, c).column_letter].width for c in range(1, 4)):
        assert 6 <= width <= 60


async def test_csv_text_quoting_and_the_formula_guard(client: httpx.AsyncClient) -> None:
    at = await places(client)
    decomposed = unicodedata.normalize("NFD", "Làng gốm Bát Tràng")
    village = await create(
        client,
        "villages",
        {
            "name": decomposed,
            "district_id": at.district_id,
            "craft_group": "handicraft",
            "crafts": ["=HYPERLINK(1)", "gốm, sứ"],
            "notes": 'dòng một\nsay "xin chào", bạn',
            "recognition_decision": "-12/QĐ-UBND",
            "latitude": -10.5,
            "longitude": 106.25,
            "households_total": 12,
        },
    )
    await create(client, "villages", {"name": "@cmd", "district_id": at.district_id, "craft_group": "salt"})
    await create(client, "villages", {"name": "+1", "district_id": at.district_id, "craft_group": "salt"})
    answer = await client.get(f"{API}/villages", params={"format": "csv", "sort": "id"})
    rows = {r["id"]: r for r in read_csv(answer)}
    row = rows[str(village["id"])]
    assert row["name"] == unicodedata.normalize("NFC", decomposed)  # NFC, as stored
    assert row["notes"] == 'dòng một\nsay "xin chào", bạn'  # quoted, kept whole
    assert row["crafts"] == "'=HYPERLINK(1); gốm, sứ"
    assert row["recognition_decision"] == "'-12/QĐ-UBND"
    assert row["latitude"] == "-10.5" and row["households_total"] == "12"  # numbers untouched
    assert row["craft_group"] == "handicraft" and row["has_environment_plan"] == "false"
    assert row["district_code"] == "362" and row["district_name"] == "Nam Trực"
    assert row["recognised_on"] == "" and row["created_at"].endswith("+00:00")
    datetime.fromisoformat(row["created_at"])
    names = {r["name"] for r in rows.values()}
    assert {"'@cmd", "'+1", "Vị Khê"} <= names
    # The raw bytes: the field with a line break and quotes is quoted as RFC 4180 says.
    assert '"dòng một\nsay ""xin chào"", bạn"' in answer.content.decode("utf-8-sig")


async def test_lang_switches_headers_and_enumerations_to_labels(client: httpx.AsyncClient) -> None:
    at = await places(client)
    await create(
        client, "villages", {"name": "Đông Kỵ", "district_id": at.district_id, "craft_group": "handicraft"}
    )
    vi = read_csv(await client.get(f"{API}/villages", params={"format": "csv", "lang": "vi", "q": "dong ky"}))
    (row,) = vi
    assert row["Tên"] == "Đông Kỵ"
    assert row["Nhóm ngành nghề"] == "Sản xuất hàng thủ công mỹ nghệ"
    assert row["Tình trạng"] == "Làng có nghề (chưa công nhận)"
    assert row["Có phương án bảo vệ môi trường"] == "không"
    assert row["Huyện (mã)"] == "362"
    en = read_csv(await client.get(f"{API}/villages", params={"format": "csv", "lang": "en", "q": "dong ky"}))
    assert en[0]["Craft group"] == "Fine-art handicrafts" and en[0]["Has an environment plan"] == "no"
    book = read_xlsx(
        await client.get(f"{API}/villages", params={"format": "xlsx", "lang": "vi", "q": "dong ky"})
    )
    assert book["data"]["A1"].value == "Mã số"
    assert "Nguồn" in [row[0].value for row in book["about"].iter_rows()]


def test_every_column_has_labels() -> None:
    for res in REGISTRY:
        for column in export.columns_of(res):
            assert column.vi and column.en, (res.path, column.code)
    assert all(vi and en for vi, en in LABELS.values())


async def test_xlsx_cells_are_typed_and_big_money_is_text(client: httpx.AsyncClient) -> None:
    at = await places(client)
    big = 2**53 + 1  # not an exact Excel number
    fair = await create(
        client,
        "trade-fairs",
        valid_body("trade-fairs", at, 3)
        | {"contract_value_vnd": big, "sales_vnd": 1_250_000, "exhibitors": 7},
    )
    programme = await create(
        client,
        "programmes",
        valid_body("programmes", at, 4)
        | {
            "funding": [
                {"source": "central", "amount_vnd": 100},
                {"source": "central", "amount_vnd": 50},
                {"source": "provincial", "amount_vnd": 7},
            ],
            "beneficiaries": [{"village_id": at.village_id}],
        },
    )
    book = read_xlsx(await client.get(f"{API}/trade-fairs", params={"format": "xlsx", "sort": "id"}))
    sheet = book["data"]
    header = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == fair["id"])
    cell = dict(zip(header, row, strict=True))
    assert cell["contract_value_vnd"] == str(big)  # text, exact
    assert cell["sales_vnd"] == 1_250_000 and type(cell["exhibitors"]) is int
    assert isinstance(cell["start_on"], datetime) and cell["start_on"].date() == date.fromisoformat(
        fair["start_on"]
    )
    assert isinstance(cell["created_at"], datetime)
    notes = [r[1].value for r in book["about"].iter_rows() if r[0].value == "Large numbers written as text"]
    assert notes and notes[0].startswith("1 cells")

    rows = read_csv(await client.get(f"{API}/programmes", params={"format": "csv"}))
    mine = next(r for r in rows if int(r["id"]) == programme["id"])
    assert mine["funding_central_vnd"] == "150" and mine["funding_provincial_vnd"] == "7"
    assert mine["funding_district_vnd"] == ""
    assert mine["beneficiaries"] == f"village_id={at.village_id}"
    book = read_xlsx(await client.get(f"{API}/programmes", params={"format": "xlsx"}))
    header = [c.value for c in book["data"][1]]
    values = next(r for r in book["data"].iter_rows(min_row=2, values_only=True) if r[0] == programme["id"])
    assert dict(zip(header, values, strict=True))["funding_central_vnd"] == 150


async def test_geojson_follows_rfc_7946(client: httpx.AsyncClient) -> None:
    at = await places(client)  # its village has no coordinates
    west = await create(
        client,
        "villages",
        {
            "name": "Bát Tràng",
            "district_id": at.district_id,
            "craft_group": "handicraft",
            "latitude": 20.97,
            "longitude": 105.91,
        },
    )
    east = await create(
        client,
        "villages",
        {
            "name": "Vân Chàng",
            "district_id": at.district_id,
            "craft_group": "manufacturing",
            "latitude": 20.35,
            "longitude": 106.28,
        },
    )
    answer = await client.get(f"{API}/villages", headers={"Accept": "application/geo+json"})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/geo+json"
    attachment(answer, "villages", "geojson")
    collection = answer.json()
    assert collection["type"] == "FeatureCollection"
    assert collection["excluded_without_coordinates"] == 1
    features = {f["id"]: f for f in collection["features"]}
    assert set(features) == {west["id"], east["id"]}
    for feature in features.values():
        assert set(feature) == {"type", "id", "geometry", "properties"} and feature["type"] == "Feature"
        geometry = feature["geometry"]
        assert geometry["type"] == "Point" and len(geometry["coordinates"]) == 2
        longitude, latitude = geometry["coordinates"]
        assert -180 <= longitude <= 180 and -90 <= latitude <= 90
        properties = feature["properties"]
        assert [longitude, latitude] == [properties["longitude"], properties["latitude"]]  # longitude first
    listed = (await client.get(f"{API}/villages/{west['id']}")).json()
    assert features[west["id"]]["properties"] == listed  # properties as in the list
    narrow = (await client.get(f"{API}/villages", params={"format": "geojson", "fields": "id,name"})).json()
    assert {tuple(f["properties"]) for f in narrow["features"]} == {("id", "name")}

    # A map viewport: the box around Bát Tràng only, in JSON and in GeoJSON.
    box = "105.8,20.9,106.0,21.0"
    page = (await client.get(f"{API}/villages", params={"bbox": box})).json()
    assert [item["id"] for item in page["items"]] == [west["id"]]
    boxed = (await client.get(f"{API}/villages", params={"bbox": box, "format": "geojson"})).json()
    assert [f["id"] for f in boxed["features"]] == [west["id"]] and boxed["excluded_without_coordinates"] == 0
    # Edges are inside; a box crossing the antimeridian (min_lon > max_lon) holds both ends.
    edge = (await client.get(f"{API}/villages", params={"bbox": "105.91,20.97,105.91,20.97"})).json()
    assert [item["id"] for item in edge["items"]] == [west["id"]]
    wrapped = (await client.get(f"{API}/villages", params={"bbox": "106.0,20,105.95,22"})).json()
    assert {item["id"] for item in wrapped["items"]} == {west["id"], east["id"]}
    nothing = (await client.get(f"{API}/villages", params={"bbox": "106.0,20,-179,22"})).json()
    assert [item["id"] for item in nothing["items"]] == [east["id"]]
    for bad in ("1,2,3", "1,2,3,4,5", "a,b,c,d", "nan,1,2,3", "-181,0,0,1", "0,-91,1,1", "0,2,1,1", ""):
        assert_invalid(await client.get(f"{API}/villages", params={"bbox": bad}), "bbox", location="query")
    # GeoJSON is the villages' alone.
    assert_invalid(
        await client.get(f"{API}/cooperatives", params={"format": "geojson"}), "format", location="query"
    )


async def test_accept_negotiation_and_406(client: httpx.AsyncClient) -> None:
    await places(client)
    for accept, expected in (
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "application/json"),
        ("text/csv", "text/csv; charset=utf-8; header=present"),
        ("text/*", "text/csv; charset=utf-8; header=present"),
        ("application/json;q=0.5, text/csv", "text/csv; charset=utf-8; header=present"),
        (XLSX, XLSX),
    ):
        answer = await client.get(f"{API}/villages", headers={"Accept": accept})
        assert answer.status_code == 200, (accept, answer.text)
        assert answer.headers["content-type"] == expected, accept
        assert "Accept" in answer.headers["vary"]
    # The format parameter wins over Accept (a link opened in a browser).
    answer = await client.get(f"{API}/villages?format=csv", headers={"Accept": "text/html"})
    assert answer.headers["content-type"].startswith("text/csv")
    for accept in ("text/html", "application/xml", "image/png, text/csv;q=0"):
        body = assert_problem(await client.get(f"{API}/villages", headers={"Accept": accept}), 406)
        assert body["available"] == [
            "application/json",
            "text/csv",
            XLSX,
            "application/geo+json",
        ]
    body = assert_problem(
        await client.get(
            f"{API}/cooperatives", headers={"Accept": "application/geo+json", "Accept-Language": "vi"}
        ),
        406,
    )
    assert "application/geo+json" not in body["available"] and body["title"] == "Không có định dạng phù hợp"


async def test_strong_etag_and_304(client: httpx.AsyncClient) -> None:
    at = await places(client)
    first = await client.get(f"{API}/villages", params={"format": "csv"})
    tag = first.headers["etag"]
    assert tag.startswith('"')  # strong: the same data, the same bytes
    again = await client.get(f"{API}/villages", params={"format": "csv"})
    assert again.headers["etag"] == tag and again.content == first.content
    assert (
        await client.get(f"{API}/villages", headers={"Accept": "text/csv", "If-None-Match": tag})
    ).status_code == 304
    book = await client.get(f"{API}/villages", params={"format": "xlsx"})
    assert book.headers["etag"] != tag
    assert (await client.get(f"{API}/villages", params={"format": "xlsx"})).content == book.content
    assert (
        await client.get(
            f"{API}/villages", params={"format": "xlsx"}, headers={"If-None-Match": book.headers["etag"]}
        )
    ).status_code == 304
    await create(client, "villages", {"name": "Mới", "district_id": at.district_id, "craft_group": "salt"})
    changed = await client.get(f"{API}/villages", params={"format": "csv"}, headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["etag"] != tag


async def test_fields_limit_offset_and_after_apply(client: httpx.AsyncClient) -> None:
    at = await places(client)
    for n in range(3):
        await create(
            client, "villages", {"name": f"Làng {n}", "district_id": at.district_id, "craft_group": "salt"}
        )
    rows = read_csv(
        await client.get(f"{API}/villages", params={"format": "csv", "fields": "name,id,district"})
    )
    assert list(rows[0]) == ["id", "name", "district_code", "district_name"]
    assert len(rows) == 4
    sheet = read_xlsx(await client.get(f"{API}/villages", params={"format": "xlsx", "fields": "id,name"}))[
        "data"
    ]
    assert [c.value for c in sheet[1]] == ["id", "name"]
    assert_invalid(
        await client.get(f"{API}/villages", params={"format": "csv", "fields": "nope"}),
        "fields",
        location="query",
    )
    page = read_csv(
        await client.get(f"{API}/villages", params={"format": "csv", "sort": "name", "limit": 2, "offset": 1})
    )
    everything = read_csv(await client.get(f"{API}/villages", params={"format": "csv", "sort": "name"}))
    assert [r["id"] for r in page] == [r["id"] for r in everything[1:3]]
    cursor = (await client.get(f"{API}/villages", params={"sort": "name", "limit": 2})).json()["next"]
    rest = read_csv(
        await client.get(f"{API}/villages", params={"format": "csv", "sort": "name", "after": cursor})
    )
    assert [r["id"] for r in rest] == [r["id"] for r in everything[2:]]
    filtered = read_csv(await client.get(f"{API}/villages", params={"format": "csv", "q": "lang 1"}))
    assert [r["name"] for r in filtered] == ["Làng 1"]


async def test_an_export_is_streamed_in_chunks(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rows are read from the cursor a chunk at a time and each chunk is sent as it comes:
    the body is never held whole."""
    at = await places(client)
    for n in range(5):
        await create(
            client, "villages", {"name": f"Làng {n}", "district_id": at.district_id, "craft_group": "salt"}
        )
    monkeypatch.setattr(export, "CHUNK_ROWS", 2)
    app = client._transport.app  # type: ignore[attr-defined]
    chunks = await asgi_body(app, "/api/v1/villages?format=csv")
    # The header, then 6 villages in chunks of 2, each sent as it was read.
    assert len(chunks) == 4, [len(c) for c in chunks]
    assert chunks[0].startswith(b"\xef\xbb\xbfid,")
    assert all(c.endswith(b"\r\n") and c.count(b"\r\n") == 2 for c in chunks[1:])
    pieces = await asgi_body(app, "/api/v1/villages?format=geojson")
    assert len(pieces) == 2 and pieces[-1] == b'],"excluded_without_coordinates":6}'


async def asgi_body(app: Any, target: str) -> list[bytes]:
    """The body parts an ASGI app sends for a GET, as it sends them (httpx's ASGI transport joins
    them into one)."""
    path, _, query = target.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    parts: list[bytes] = []
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            assert message["status"] == 200, message
        elif message["type"] == "http.response.body" and message.get("body"):
            parts.append(message["body"])

    await app(scope, receive, send)
    return parts
