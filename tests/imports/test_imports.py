"""POST /api/v1/imports: villages and village figures from CSV and XLSX, checked whole, all or nothing."""

from __future__ import annotations

import dataclasses
import io
import unicodedata
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from openpyxl import Workbook
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.core.settings import Settings
from app.kit.importing import declaration_problems, importers
from app.kit.registry import RegistryError
from app.main import create_app
from app.registry import IMPORTS
from tests.conftest import client_in_transaction
from tests.factories import API, count, district, province
from tests.imports.helpers import XLSX, cells_of, csv_bytes, post_file, problems_of
from tests.spreadsheets.workbooks import billion_laughs, claiming, edited, workbook, zip_bomb


def xlsx_file(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def _places(client: httpx.AsyncClient) -> tuple[int, int]:
    p = await province(client)
    d = await district(client, p["id"])
    return p["id"], d["id"]


async def test_villages_created_then_upserted(client: httpx.AsyncClient, db: AsyncSession) -> None:
    await _places(client)
    data = csv_bytes(
        "name,district_code,craft_group,status,recognised_on,households_total",
        "Vân Chàng,362,manufacturing,Làng nghề truyền thống,20/12/2006,1.150",
        "Vị Khê,362,Sản xuất hàng thủ công mỹ nghệ,,,",
    )
    response = await post_file(client, "villages", data)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["created"], body["updated"], body["unchanged"]) == (2, 0, 0)
    assert body["status"] == "completed" and body["resource"] == "villages"
    assert response.headers["location"].endswith(f"/api/v1/imports/{body['id']}")
    assert await count(db, "village") == 2
    again = await post_file(client, "villages", data, mode="upsert")
    assert again.status_code == 201, again.text
    assert (again.json()["created"], again.json()["updated"], again.json()["unchanged"]) == (0, 0, 2)
    changed = data.replace(b"1.150", b"1.200")
    third = await post_file(client, "villages", changed, mode="upsert")
    assert (third.json()["created"], third.json()["updated"], third.json()["unchanged"]) == (0, 1, 1)
    refused = await post_file(client, "villages", data)
    found = problems_of(refused)
    assert cells_of(found) == {(2, "name"), (3, "name")}
    batch = await client.get(f"{API}/imports/{body['id']}")
    assert batch.status_code == 200 and batch.json()["created"] == 2


async def test_errors_in_many_rows_and_columns_all_reported_nothing_written(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await _places(client)
    data = csv_bytes(
        "name,district_code,craft_group,households_total,households_participating,recognised_on,colour",
        "Vân Chàng,362,manufacturing,100,50,,",
    )
    unknown = problems_of(await post_file(client, "villages", data))
    assert unknown["errors"][0]["field"] == "colour"
    data = csv_bytes(
        "name,district_code,craft_group,households_total,households_participating,recognised_on,status",
        'Vân Chàng,362,manufacturing,"4,1",50,31/02/2015,',
        ",999,nonsense,100,200,,craft_village",
        "Tống Xá,362,handicraft,100,50,01/02/2015,craft_village",
        "Tống Xá,362,handicraft,100,50,01/02/2015,craft_village",
    )
    body = problems_of(await post_file(client, "villages", data))
    assert cells_of(body) >= {
        (2, "households_total"),
        (2, "recognised_on"),
        (3, "district_code"),
        (3, "craft_group"),
        (5, "name"),
    }, body["errors"]
    assert body["error_count"] == len(body["errors"])
    assert all(e["message"] for e in body["errors"])
    assert {"row": 2, "column": "households_total", "value": "4,1"}.items() <= next(
        e for e in body["errors"] if (e["row"], e["column"]) == (2, "households_total")
    ).items()
    assert await count(db, "village") == 0
    assert await count(db, "import_batch") == 0


async def test_row_rules_of_the_schema_name_their_column(client: httpx.AsyncClient, db: AsyncSession) -> None:
    await _places(client)
    data = csv_bytes(
        "name,district_code,craft_group,households_total,households_participating",
        "Vân Chàng,362,manufacturing,100,200",
    )
    body = problems_of(await post_file(client, "villages", data))
    assert cells_of(body) == {(2, "households_participating")}
    vietnamese = await post_file(client, "villages", data, headers={"Accept-Language": "vi"})
    assert "không được" in problems_of(vietnamese)["errors"][0]["message"]


async def test_dry_run_counts_and_writes_nothing(client: httpx.AsyncClient, db: AsyncSession) -> None:
    await _places(client)
    data = csv_bytes("name,district_code,craft_group", "Vân Chàng,362,manufacturing", "Vị Khê,362,ornamental")
    events = await count(db, "audit_event")
    response = await post_file(client, "villages", data, dry_run=True)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["id"], body["status"], body["created"]) == (None, "dry_run", 2)
    assert "location" not in response.headers
    assert await count(db, "village") == 0
    assert await count(db, "import_batch") == 0
    assert await count(db, "audit_event") == events


async def test_vietnamese_labels_nfd_text_numbers_and_dates(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await _places(client)
    header = (
        "Tên,Huyện (mã),Nhóm ngành nghề,Tình trạng,Ngày công nhận,Tổng số hộ,Nghề,"
        "Có phương án bảo vệ môi trường"
    )
    nfd = unicodedata.normalize("NFD", "Vân Chàng")
    data = csv_bytes(
        unicodedata.normalize("NFD", header),
        f'{nfd},362,Sản xuất hàng thủ công mỹ nghệ,Làng nghề,20/12/2006,"1 250",rèn; đúc,có',
        "Vị Khê,362,Fine-art handicrafts,làng nghề truyền thống,2006-12-20,4.100,,không",
    )
    response = await post_file(client, "villages", data)
    assert response.status_code == 201, response.text
    listed = (await client.get(f"{API}/villages", params={"sort": "id"})).json()["items"]
    first, second = listed
    assert first["name"] == "Vân Chàng" and first["name"] == unicodedata.normalize("NFC", first["name"])
    assert (first["craft_group"], first["status"], first["recognised_on"]) == (
        "handicraft",
        "craft_village",
        "2006-12-20",
    )
    assert (first["households_total"], first["crafts"], first["has_environment_plan"]) == (
        1250,
        ["rèn", "đúc"],
        True,
    )
    assert (second["status"], second["households_total"]) == ("traditional_craft_village", 4100)


async def test_figures_by_village_id_or_by_name_and_code(client: httpx.AsyncClient, db: AsyncSession) -> None:
    _, district_id = await _places(client)
    village = (
        await client.post(
            f"{API}/villages",
            json={"name": "Vân Chàng", "district_id": district_id, "craft_group": "manufacturing"},
        )
    ).json()
    data = csv_bytes(
        "village_id,village_name,year,workers,production_value_vnd,qualifier",
        f'{village["id"]},Vân Chàng,2014,1.137,"108.039.890.935 đ",Khoảng',
    )
    created = await post_file(client, "village-figures", data)
    assert created.status_code == 201, created.text
    by_name = csv_bytes(
        "village_name,district_code,year,workers", "Vân Chàng,362,2014,1137", "Vân Chàng,362,2015,1200"
    )
    refused = problems_of(await post_file(client, "village-figures", by_name))
    assert cells_of(refused) == {(2, "year")}
    upserted = await post_file(client, "village-figures", by_name, mode="upsert")
    assert (upserted.json()["created"], upserted.json()["updated"], upserted.json()["unchanged"]) == (1, 0, 1)
    wrong = csv_bytes("village_id,village_name,year", f"{village['id']},Vị Khê,2016", "999999,,2016")
    assert cells_of(problems_of(await post_file(client, "village-figures", wrong))) == {
        (2, "village_name"),
        (3, "village_id"),
    }
    figures = (await client.get(f"{API}/village-figures", params={"sort": "year"})).json()["items"]
    assert [(f["year"], f["workers"], f["qualifier"]) for f in figures] == [
        (2014, 1137, "approximate"),
        (2015, 1200, "exact"),
    ]
    assert figures[0]["production_value_vnd"] == 108_039_890_935


async def test_unchanged_rows_write_nothing(client: httpx.AsyncClient, db: AsyncSession) -> None:
    await _places(client)
    data = csv_bytes("name,district_code,craft_group,notes", "Vân Chàng,362,manufacturing,a")
    assert (await post_file(client, "villages", data)).status_code == 201
    before = (await client.get(f"{API}/villages")).json()["items"][0]
    events = await count(db, "audit_event")
    again = await post_file(client, "villages", data, mode="upsert")
    assert again.json()["unchanged"] == 1
    after = (await client.get(f"{API}/villages")).json()["items"][0]
    assert (after["version"], after["updated_at"]) == (before["version"], before["updated_at"])
    assert await count(db, "audit_event") == events
    changed = await post_file(client, "villages", data.replace(b",a\n", b",b\n"), mode="upsert")
    assert changed.json()["updated"] == 1
    after = (await client.get(f"{API}/villages")).json()["items"][0]
    assert (after["version"], after["notes"]) == (before["version"] + 1, "b")


async def test_audit_events_carry_the_batch(client: httpx.AsyncClient, db: AsyncSession) -> None:
    await _places(client)
    data = csv_bytes("name,district_code,craft_group", "Vân Chàng,362,manufacturing", "Vị Khê,362,ornamental")
    batch = (await post_file(client, "villages", data)).json()
    rows = (
        await db.execute(
            text(
                "SELECT action, changes, import_batch_id, version FROM audit_event "
                "WHERE resource = 'villages'"
            )
        )
    ).all()
    assert [(r.action, r.import_batch_id, r.version) for r in rows] == [("create", batch["id"], 1)] * 2
    assert rows[0].changes["name"] == [None, "Vân Chàng"]
    updated = await post_file(client, "villages", data.replace(b"ornamental", b"handicraft"), mode="upsert")
    event = (
        await db.execute(
            text(
                "SELECT changes, import_batch_id FROM audit_event "
                "WHERE action = 'update' AND resource = 'villages'"
            )
        )
    ).one()
    assert event.import_batch_id == updated.json()["id"]
    assert event.changes == {"craft_group": ["ornamental", "handicraft"]}
    trail = await client.get(f"{API}/audit", params={"import_batch_id": batch["id"]})
    assert trail.status_code == 200, trail.text
    assert [e["import_batch_id"] for e in trail.json()["items"]] == [batch["id"]] * 2


async def test_a_database_rule_refuses_the_row_and_nothing_stays(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    p = await province(client)
    old = await district(client, p["id"], code="363", name="Cũ", valid_to="2010-12-31")
    await district(client, p["id"])
    village = (
        await client.post(
            f"{API}/villages", json={"name": "Làng cũ", "district_id": old["id"], "craft_group": "handicraft"}
        )
    ).json()
    lines = [f"{village['id']},2008,{n}" for n in range(3)][:1]
    lines += [f"{village['id']},2009,1", f"{village['id']},2015,1", f"{village['id']},2016,1"]
    data = csv_bytes("village_id,year,workers", *lines)
    body = problems_of(await post_file(client, "village-figures", data))
    assert cells_of(body) == {(4, "year"), (5, "year")}, body
    assert await count(db, "village_figure") == 0
    assert await count(db, "import_batch") == 0
    dry = problems_of(await post_file(client, "village-figures", data, dry_run=True))
    assert cells_of(dry) == {(4, "year"), (5, "year")}


async def test_idempotency_key_replays_the_import(client: httpx.AsyncClient, db: AsyncSession) -> None:
    await _places(client)
    data = csv_bytes("name,district_code,craft_group", "Vân Chàng,362,manufacturing")
    key = {"Idempotency-Key": "import-1"}
    first = await post_file(client, "villages", data, headers=key)
    second = await post_file(client, "villages", data, headers=key)
    assert first.status_code == second.status_code == 201
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json() == first.json() and second.headers["location"] == first.headers["location"]
    assert await count(db, "village") == 1
    other = await post_file(
        client, "villages", data + b"V\xe1\xbb\x8b Kh\xc3\xaa,362,ornamental\n", headers=key
    )
    assert other.status_code == 422


async def test_multipart_and_xlsx(client: httpx.AsyncClient, db: AsyncSession) -> None:
    await _places(client)
    book = xlsx_file(
        [
            ["name", "district_code", "craft_group", "recognised_on", "status", "households_total"],
            ["Vân Chàng", 362, "manufacturing", date(2006, 12, 20), "craft_village", 1150.0],
        ]
    )
    response = await post_file(client, "villages", book, content_type=XLSX, multipart=True, name="v.xlsx")
    assert response.status_code == 201, response.text
    assert response.json()["file_name"] == "v.xlsx"
    item = (await client.get(f"{API}/villages")).json()["items"][0]
    assert (item["recognised_on"], item["households_total"]) == ("2006-12-20", 1150)


async def test_hostile_files(
    client: httpx.AsyncClient, db: AsyncSession, app: FastAPI, engine: AsyncEngine
) -> None:
    await _places(client)
    assert (
        problems_of(await post_file(client, "villages", b"%PDF-1.4 ..."), 415)["code"] == "content_mismatch"
    )
    pdf = await post_file(client, "villages", b"%PDF-1.4 ...", content_type="application/octet-stream")
    assert problems_of(pdf, 415)["code"] == "unsupported"
    assert problems_of(await post_file(client, "villages", b""), 422)["code"] == "empty"
    assert problems_of(await post_file(client, "villages", b"name,craft_group,district_code\n"), 422)
    assert problems_of(await post_file(client, "villages", b"name,name\nx,y\n"), 422)
    xlsx_as_csv = xlsx_file([["name"], ["x"]])
    assert problems_of(await post_file(client, "villages", xlsx_as_csv, name="a.csv", multipart=True), 415)
    assert problems_of(
        await post_file(client, "villages", b"x", content_type="multipart/form-data; boundary=z"), 422
    )
    refused = await client.post(f"{API}/imports", params={"resource": "programmes"}, content=b"a\n")
    assert refused.status_code == 422
    url = engine.url.render_as_string(hide_password=False)
    big = csv_bytes("name,district_code,craft_group", *[f"Làng {n},362,handicraft" for n in range(200)])
    small = create_app(Settings(database_url=url, import_max_bytes=2048, import_max_rows=100))
    small.state.migration_head = app.state.migration_head
    async with client_in_transaction(small, db, engine) as limited:
        assert problems_of(await post_file(limited, "villages", big), 413)["code"] == "too_large"
        assert problems_of(await post_file(limited, "villages", big, multipart=True), 413)
        declared = await limited.post(
            f"{API}/imports",
            params={"resource": "villages"},
            content=b"x" * 100_000,
            headers={"Content-Type": "text/csv"},
        )
        assert problems_of(declared, 413)
    rows = create_app(Settings(database_url=url, import_max_rows=100))
    rows.state.migration_head = app.state.migration_head
    async with client_in_transaction(rows, db, engine) as limited:
        assert problems_of(await post_file(limited, "villages", big), 413)["code"] == "too_many_rows"
    slow = create_app(Settings(database_url=url, import_statement_timeout_ms=1))
    slow.state.migration_head = app.state.migration_head
    many = csv_bytes("name,district_code,craft_group", *[f"Làng {n},362,handicraft" for n in range(5000)])
    async with client_in_transaction(slow, db, engine) as limited:
        assert problems_of(await post_file(limited, "villages", many), 504)
    assert await count(db, "village") == 0


async def test_cooperatives_by_registration_code(client: httpx.AsyncClient, db: AsyncSession) -> None:
    _, district_id = await _places(client)
    body = {"name": "Vân Chàng", "district_id": district_id, "craft_group": "manufacturing"}
    village = (await client.post(f"{API}/villages", json=body)).json()
    data = csv_bytes(
        "name,registration_code,legal_form,sector,district_code,village_name,members,charter_capital_vnd,founded_on",
        'HTX Cơ khí Vân Chàng,0600100000,Hợp tác xã,Cơ khí,362,Vân Chàng,25,"1.500.000.000",15/03/2010',
        "Tổ hợp tác Dệt,,cooperative_group,textile_garment,362,,7,,",
    )
    created = await post_file(client, "cooperatives", data)
    assert created.status_code == 201, created.text
    items = (await client.get(f"{API}/cooperatives", params={"sort": "id"})).json()["items"]
    assert (items[0]["village_id"], items[0]["sector"], items[0]["charter_capital_vnd"]) == (
        village["id"],
        "mechanical",
        1_500_000_000,
    )
    assert items[0]["founded_on"] == "2010-03-15"
    again = await post_file(client, "cooperatives", data.replace(b",25,", b",30,"), mode="upsert")
    # The row without a registration code has no natural key: it is new again.
    assert (again.json()["created"], again.json()["updated"], again.json()["unchanged"]) == (1, 1, 0)
    refused = problems_of(await post_file(client, "cooperatives", data))
    assert cells_of(refused) == {(2, "registration_code")}
    unknown = csv_bytes("name,sector,district_code,village_name", "HTX,other,362,Không có")
    assert cells_of(problems_of(await post_file(client, "cooperatives", unknown))) == {(2, "village_name")}


def test_import_declarations_are_checked() -> None:
    spec = IMPORTS["villages"]
    assert declaration_problems(spec) == []
    broken = dataclasses.replace(spec, key_columns=("nom",), rule_columns={"ck_other_rule": "name"})
    problems = declaration_problems(broken)
    assert any("'nom'" in p for p in problems) and any("ck_other_rule" in p for p in problems)
    with pytest.raises(RegistryError):
        importers(spec, spec)


async def test_xlsx_errors_name_the_rows_the_sheet_shows(client: httpx.AsyncClient, db: AsyncSession) -> None:
    await _places(client)
    book = xlsx_file(
        [
            ["name", "district_code", "craft_group", "households_total", "recognised_on"],
            ["Vân Chàng", 362, "manufacturing", 1150.5, None],
            [None, None, None, None, None],
            ["Vị Khê", 362, "ornamental", 100, "31/02/2015"],
        ]
    )
    body = problems_of(await post_file(client, "villages", book, content_type=XLSX, name="v.xlsx"))
    assert {(e["row"], e["column"], e["value"]) for e in body["errors"]} == {
        (2, "households_total", "1150.5"),
        (4, "recognised_on", "31/02/2015"),
    }
    assert await count(db, "village") == 0


async def test_hostile_workbooks(client: httpx.AsyncClient, db: AsyncSession) -> None:
    plain = workbook([["name", "district_code", "craft_group"], ["Vân Chàng", "362", "manufacturing"]])
    hostile = {
        "zip bomb": zip_bomb(300 * 1024 * 1024 // 8),
        "1 GB claimed": claiming(plain, "xl/worksheets/sheet1.xml", 1_000_000_000),
        "entities": edited(plain, "xl/worksheets/sheet1.xml", lambda xml: billion_laughs() + xml),
        "macros": edited(
            plain, "[Content_Types].xml", lambda xml: xml.replace(b"</Types>", _MACRO + b"</Types>")
        ),
        "duplicate headers": workbook([["name", "Name"], ["a", "b"]]),
        "header only": workbook([["name", "district_code", "craft_group"]]),
    }
    for what, data in hostile.items():
        answer = await post_file(client, "villages", data, content_type=XLSX, multipart=True, name="f.xlsx")
        assert answer.status_code in (413, 415, 422), (what, answer.status_code, answer.text[:500])
        problems_of(answer, answer.status_code)
    assert await count(db, "village") == 0


_MACRO = b'<Override PartName="/xl/vbaProject.bin" ContentType="application/vnd.ms-office.vbaProject"/>'
