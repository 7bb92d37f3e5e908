"""Reading an uploaded file: CSV and XLSX into numbered rows, and every hostile file refused."""

from __future__ import annotations

import codecs
import datetime as dt
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest

from app.core.i18n import say
from app.spreadsheets.reading import Limits, SpreadsheetError, Table, column_letter, read_table
from tests.spreadsheets import workbooks
from tests.spreadsheets.workbooks import XLSX

FIXTURES = Path(__file__).parent / "fixtures"


def read(data: bytes, **kwargs: object) -> Table:
    return read_table(io.BytesIO(data), **kwargs)  # type: ignore[arg-type]


def rows(data: bytes, **kwargs: object) -> list[tuple[int, tuple[object, ...]]]:
    return [(row.number, row.values) for row in read(data, **kwargs).rows]


def refused(data: bytes, **kwargs: object) -> SpreadsheetError:
    with pytest.raises(SpreadsheetError) as caught:
        table = read(data, **kwargs)
        for _ in table.rows:
            pass
    error = caught.value
    assert say(error.message, "vi") != str(error.message), "every message has its Vietnamese"
    return error


# CSV ---------------------------------------------------------------------------------------------


def test_csv_rows_are_numbered_as_the_spreadsheet_shows_them() -> None:
    data = b'code,name\r\n1,"B\xc3\xa1t Tr\xc3\xa0ng"\r\n\r\n2,"two\r\nlines, and ""quotes"""\r\n3,\r\n'
    table = read(data, filename="villages.csv", content_type="text/csv")
    assert table.format == "csv" and table.header == ("code", "name") and table.delimiter == ","
    assert [(row.number, row.values) for row in table.rows] == [
        (2, ("1", "Bát Tràng")),
        (4, ("2", 'two\r\nlines, and "quotes"')),  # one row, though two lines of the file
        (5, ("3", None)),
    ]


@pytest.mark.parametrize(
    ("encoded", "encoding"),
    [
        (codecs.BOM_UTF8 + "tên,xã\nGốm,Bát Tràng\n".encode(), "utf-8"),
        ("tên,xã\nGốm,Bát Tràng\n".encode(), "utf-8"),
        ("tên,xã\nGốm,Bát Tràng\n".encode("utf-16"), "utf-16-le"),  # Python writes the BOM
        (codecs.BOM_UTF16_BE + "tên,xã\nGốm,Bát Tràng\n".encode("utf-16-be"), "utf-16-be"),
        ("tên\txã\r\nGốm\tBát Tràng\r\n".encode("utf-16"), "utf-16-le"),  # Excel's "Unicode text"
    ],
)
def test_csv_encodings_by_their_bom(encoded: bytes, encoding: str) -> None:
    table = read(encoded)
    assert table.encoding == encoding
    assert table.header == ("tên", "xã")
    assert [row.values for row in table.rows] == [("Gốm", "Bát Tràng")]


def test_a_file_in_a_legacy_code_page_is_refused_naming_the_line() -> None:
    data = "tên,xã\n1,ok\n2,ok\n".encode() + "3,Hà Đông\n".encode("cp1258")
    error = refused(data)
    assert error.code == "undecodable"
    assert "line 4" in error.message and "UTF-8" in error.message
    assert "dòng 4" in say(error.message, "vi")


def test_bad_bytes_far_into_the_file_are_found_in_their_line() -> None:
    body = b"".join(b"%d,x\n" % n for n in range(2, 30_000))  # beyond the first chunks
    error = refused(b"n,v\n" + body + b"30000,\xff\n")
    assert error.code == "undecodable" and "line 30000" in error.message


def test_semicolons_are_sniffed_and_sep_is_obeyed() -> None:
    assert rows("mã;số tiền\n1;4.100,5\n".encode()) == [(2, ("1", "4.100,5"))]
    table = read(b"sep=|\na|b\n1|2\n")
    assert table.delimiter == "|" and table.header == ("a", "b")
    assert [(row.number, row.values) for row in table.rows] == [(2, ("1", "2"))]
    assert read(b"a,b;c\n1,2;3\n").delimiter == ","  # a tie goes to the comma
    assert read(b"a,b\n1,2\n", delimiter=";").header == ("a,b",)


def test_bad_quoting_is_an_error_naming_the_line() -> None:
    error = refused(b'a,b\n1,2\n3,"4"x\n')
    assert error.code == "bad_csv" and "line 3" in error.message and error.row == 3
    assert refused(b'a,b\n1,"never closed\n').code == "bad_csv"


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\r\n\r\n", b"  \n"])
def test_an_empty_csv_is_refused(data: bytes) -> None:
    assert refused(data).code == "empty"


def test_a_header_without_rows_is_refused() -> None:
    error = refused(b"code,name\r\n,\r\n\r\n")
    assert error.code == "no_data" and error.message == "the file has a header row but no data rows"


def test_headers_twice_or_empty_are_refused() -> None:
    error = refused("tên,Mã,mã \n1,2,3\n".encode())
    assert error.code == "duplicate_header" and error.column == "C"
    assert error.message == "the header mã is given twice: columns B and C"
    nfd = "Te\u0302n"  # Tên, decomposed, is the same header as Tên
    assert refused(f"Tên,{nfd}\n1,2\n".encode()).code == "duplicate_header"
    error = refused(b"a,,c\n1,2,3\n")
    assert error.code == "empty_header" and error.column == "B" and error.row == 1


def test_trailing_empty_columns_are_ignored_but_not_values_in_them() -> None:
    assert read(b"a,b,,\n1,2,,\n").header == ("a", "b")
    error = refused(b"a,b\n1,2\n3,4,5\n")
    assert (error.code, error.row, error.column) == ("value_without_header", 3, "C")


def test_the_limits_of_rows_and_bytes() -> None:
    data = b"n\n" + b"".join(b"%d\n" % n for n in range(10))
    assert len(rows(data, limits=Limits(max_rows=10))) == 10
    error = refused(data, limits=Limits(max_rows=9))
    assert (error.code, error.status, error.row) == ("too_many_rows", 413, 11)
    big = b"n\n" + b"1234567\n" * 40_000
    error = refused(big, limits=Limits(max_bytes=100_000))
    assert (error.code, error.status) == ("too_large", 413)


def test_a_pdf_sent_as_csv_is_refused_by_its_content() -> None:
    pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
    error = refused(pdf, filename="villages.csv", content_type="text/csv")
    assert (error.code, error.status) == ("content_mismatch", 415)
    assert error.message == "the file was sent as CSV but its content is PDF"
    assert refused(pdf, filename="villages.csv").code == "content_mismatch"
    assert refused(pdf).code == "unsupported"
    error = refused(b"a,b\n1,2\n", filename="villages.xlsx", content_type=XLSX)
    assert error.code == "content_mismatch"
    assert say(error.message, "vi") == "tệp được gửi dưới dạng XLSX nhưng nội dung của nó là văn bản (CSV)"
    xlsx = workbooks.workbook([["a"], [1]])
    assert refused(xlsx, filename="a.csv", content_type="text/csv").code == "content_mismatch"
    assert refused(b"a\n1\n", content_type="application/json").code == "unsupported"
    assert refused(b"\x00\x01\x02 binary", filename="a.csv").code == "binary"


def test_vague_content_types_are_decided_by_the_bytes() -> None:
    for vague in ("application/octet-stream", "application/vnd.ms-excel", None):
        assert read(b"a\n1\n", content_type=vague, filename="x.csv").format == "csv"
        assert read(workbooks.workbook([["a"], [1]]), content_type=vague).format == "xlsx"


def test_legacy_xls_is_refused_with_a_hint() -> None:
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    error = refused(ole2, filename="old.xls")
    assert error.code == "legacy_or_encrypted" and ".xlsx" in error.message


def test_csv_rows_are_streamed() -> None:
    """The rows come while the file is read: a bad line at the end is found only by iterating."""
    data = b"n\n" + b"1\n" * 100_000 + b"\xff\n"
    table = read(data)
    first = next(table.rows)
    assert first.number == 2
    with pytest.raises(SpreadsheetError):
        for _ in table.rows:
            pass


# XLSX --------------------------------------------------------------------------------------------


def test_a_workbook_saved_by_libreoffice() -> None:
    """tests/spreadsheets/fixtures/README.md says how it was made."""
    with (FIXTURES / "villages-libreoffice.xlsx").open("rb") as file:
        table = read_table(file, filename="villages.xlsx", content_type=XLSX)
        found = list(table.rows)
    assert table.format == "xlsx" and table.sheet == "villages"
    assert table.header[:5] == ("name", "commune_code", "craft_group", "status", "recognised_on")
    assert [row.number for row in found] == [2, 3, 4, 5]
    first = dict(zip(table.header, found[0].values, strict=True))
    assert first["name"] == "Làng gốm Bát Tràng"
    assert first["recognised_on"] == dt.date(2015, 2, 3)  # a date cell, day first in vi-VN
    assert first["revenue_vnd"] == 4_100_000_000_000
    assert first["commune_code"] == 10015
    third = dict(zip(table.header, found[2].values, strict=True))
    assert third["note"] == 'Có "dấu ngoặc", dấu phẩy\nvà xuống dòng'
    assert third["products"] is None
    fourth = dict(zip(table.header, found[3].values, strict=True))
    assert fourth["note"] == 3  # the formula =1+2, as the value LibreOffice saved
    assert fourth["recognised_on"] is None


def test_xlsx_cells_keep_their_types() -> None:
    data = workbooks.workbook(
        [
            ["code", "count", "share", "on", "at", "ok", "formula"],
            [" 01 ", 1250, 2.5, dt.date(2015, 2, 3), dt.datetime(2015, 2, 3, 10, 5), True, "=1+2"],
            [],
            ["x", None, None, None, None, False, None],
        ]
    )
    table = read(data, filename="a.xlsx")
    assert table.header == ("code", "count", "share", "on", "at", "ok", "formula")
    assert [(row.number, row.values) for row in table.rows] == [
        (2, (" 01 ", 1250, 2.5, dt.date(2015, 2, 3), dt.datetime(2015, 2, 3, 10, 5), True, None)),
        (4, ("x", None, None, None, None, False, None)),
    ]  # the formula was never calculated (openpyxl saves none): empty, not "=1+2"


def test_a_sheet_further_down_and_right_keeps_its_numbers_and_letters() -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet["C3"], sheet["D3"] = "a", "a"
    sheet["C4"], sheet["D4"] = 1, 2
    out = io.BytesIO()
    book.save(out)
    error = refused(out.getvalue())
    assert (error.code, error.row, error.column) == ("duplicate_header", 3, "D")
    sheet["D3"] = "b"
    sheet.merge_cells("C6:D6")
    sheet["C6"] = "merged"
    out = io.BytesIO()
    book.save(out)
    table = read(out.getvalue())
    assert table.first_column == 2 and table.letter(1) == "D"
    assert [(row.number, row.values) for row in table.rows] == [(4, (1, 2)), (6, ("merged", None))]


def test_the_first_worksheet_or_a_named_one() -> None:
    data = workbooks.workbook([["a"], [1]], title="Làng nghề", more={"Ghi chú": [["b"], [2]]})
    table = read(data)
    assert table.sheet == "Làng nghề" and table.sheets == ("Làng nghề", "Ghi chú")
    assert read(data, sheet="Ghi chú").header == ("b",)
    error = refused(data, sheet="Số liệu")
    assert error.code == "no_such_sheet" and "Ghi chú" in error.message


def test_empty_and_header_only_workbooks() -> None:
    assert refused(workbooks.workbook([])).code == "empty"
    assert refused(workbooks.workbook([["code", "name"]])).code == "no_data"
    assert refused(workbooks.workbook([["code", "code"], [1, 2]])).code == "duplicate_header"
    assert refused(workbooks.workbook([["code", None, "x"], [1, 2, 3]])).code == "empty_header"


def test_xlsx_row_limit() -> None:
    data = workbooks.workbook([["n"], *([i] for i in range(20))])
    assert len(rows(data, limits=Limits(max_rows=20))) == 20
    assert refused(data, limits=Limits(max_rows=19)).code == "too_many_rows"


def test_a_large_workbook_is_refused_by_size() -> None:
    data = workbooks.workbook([["n"], *([f"value {i}"] for i in range(5000))])
    assert refused(data, limits=Limits(max_bytes=len(data) - 1)).code == "too_large"
    assert refused(data, limits=Limits(max_bytes=1000)).code == "too_large"  # less than one chunk
    assert refused(b"a\n" + b"1\n" * 600, limits=Limits(max_bytes=1000)).code == "too_large"


# Hostile workbooks -------------------------------------------------------------------------------


def test_a_zip_bomb_is_refused_before_inflating() -> None:
    bomb = workbooks.zip_bomb(300 * 1024 * 1024)  # 300 MiB of spaces in 300 KiB
    assert len(bomb) < 1024 * 1024
    error = refused(bomb, filename="bomb.xlsx")
    assert (error.code, error.status) == ("zip_bomb", 413)
    assert "unpacks to" in error.message


def test_a_highly_compressed_part_is_refused_by_its_ratio() -> None:
    bomb = workbooks.zip_bomb(50 * 1024 * 1024)  # under the total, but 1,000 times compressed
    error = refused(bomb)
    assert error.code == "zip_bomb" and "compressed" in error.message


def test_a_zip_claiming_a_gigabyte_is_refused_unopened() -> None:
    data = workbooks.claiming(workbooks.workbook([["a"], [1]]), "xl/worksheets/sheet1.xml", 10**9)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.getinfo("xl/worksheets/sheet1.xml").file_size == 10**9
    error = refused(data)
    assert error.code == "zip_bomb" and "1000" in error.message


def test_a_part_lying_about_its_size_is_refused_while_inflating() -> None:
    base = workbooks.workbook([["a"], [1]])
    data = workbooks.lying(base, "xl/worksheets/sheet1.xml", b"<worksheet>" + b" " * 5_000_000)
    error = refused(data)
    assert error.code == "zip_bomb" and "it declares" in error.message


def test_billion_laughs_is_refused() -> None:
    base = workbooks.workbook([["a"], ["b"]])
    for part in ("xl/worksheets/sheet1.xml", "xl/workbook.xml", "[Content_Types].xml"):

        def inject(xml: bytes) -> bytes:
            start = xml.index(b"?>") + 2 if xml.startswith(b"<?xml") else 0
            return (
                xml[:start] + workbooks.billion_laughs() + xml[start:].replace(b"<t>b</t>", b"<t>&lol9;</t>")
            )

        error = refused(workbooks.edited(base, part, inject))
        assert error.code == "xml_entities" and part in error.message


def test_calamine_itself_does_not_expand_entities() -> None:
    """Were the DOCTYPE check gone, calamine would refuse the entity rather than expand it."""
    from python_calamine import CalamineError, CalamineWorkbook

    base = workbooks.workbook([["a"], ["b"]])

    def inject(xml: bytes) -> bytes:
        return workbooks.billion_laughs() + xml.replace(b"<t>b</t>", b"<t>&lol9;</t>")

    data = workbooks.edited(base, "xl/worksheets/sheet1.xml", inject)
    with pytest.raises(CalamineError, match="entity"):
        list(CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).iter_rows())


def test_utf16_xml_is_refused() -> None:
    base = workbooks.workbook([["a"], ["b"]])
    data = workbooks.edited(base, "xl/workbook.xml", lambda xml: xml.decode().encode("utf-16"))
    assert refused(data).code == "xml_encoding"


def test_macro_enabled_workbooks_are_refused() -> None:
    base = workbooks.workbook([["a"], [1]])
    with_vba = workbooks.parts(base)
    with_vba["xl/vbaProject.bin"] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100
    error = refused(workbooks.rezip(with_vba), filename="report.xlsx")
    assert (error.code, error.status) == ("macros", 415)
    assert refused(base, filename="report.xlsm").code == "macros"

    def macro_type(xml: bytes) -> bytes:
        return xml.replace(
            b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
            b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
        )

    assert refused(workbooks.edited(base, "[Content_Types].xml", macro_type)).code == "macros"


def test_broken_zips_are_refused() -> None:
    base = workbooks.workbook([["a"], [1]])
    assert refused(base[: len(base) // 2], filename="a.xlsx").code == "bad_workbook"
    files = workbooks.parts(base)
    del files["xl/workbook.xml"]
    assert refused(workbooks.rezip(files)).code == "bad_workbook"
    not_a_workbook = workbooks.rezip({"word/document.xml": b"<w/>", "[Content_Types].xml": b"<Types/>"})
    assert refused(not_a_workbook, filename="letter.docx").code == "bad_workbook"
    corrupt = bytearray(base)
    with zipfile.ZipFile(io.BytesIO(base)) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    corrupt[info.header_offset + 30 + len(info.filename) + 10] ^= 0xFF  # a byte of the deflate stream
    assert refused(bytes(corrupt)).code in {"bad_workbook", "zip_bomb"}


def test_stored_parts_are_read() -> None:
    stored = workbooks.rezip(workbooks.parts(workbooks.workbook([["a"], [1]])), method=zipfile.ZIP_STORED)
    assert rows(stored) == [(2, (1,))]


def test_column_letters() -> None:
    assert [column_letter(i) for i in (0, 1, 25, 26, 27, 51, 52, 701, 702)] == [
        "A", "B", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA",
    ]  # fmt: skip


def test_every_part_but_pictures_is_scanned_for_a_doctype() -> None:
    files = workbooks.parts(workbooks.workbook([["a"], [1]]))
    files["xl/worksheets/sheet9"] = workbooks.billion_laughs() + b"<worksheet/>"  # no .xml name
    assert refused(workbooks.rezip(files)).code == "xml_entities"
    del files["xl/worksheets/sheet9"]
    files["xl/media/image1.svg"] = b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x.dtd"><svg/>'
    assert rows(workbooks.rezip(files)) == [(2, (1,))]
