"""An uploaded CSV or XLSX file, read safely into a header and rows of cell values.

`read_table(file, filename=..., content_type=...)` answers a `Table`: the header (column names,
NFC, trimmed) and an iterator of `Row`s, each with its number **as the spreadsheet shows it** (the
header is row 1, the first data row 2; blank rows are skipped but keep their numbers) and its
values aligned with the header. Anything wrong with the file as a whole is a `SpreadsheetError`
with a code, a translatable message (app.core.i18n.tr), the row and column when known, and the
HTTP status the import endpoint should answer (413 too large, 415 not a CSV or XLSX, 422 else).
Errors found while streaming (row limit, bad bytes on line 90,000) are raised by the iteration.
Nothing here knows the web framework or the database (import-linter contract in pyproject.toml).

What the file is comes from its first bytes, not from its name or Content-Type: those are only
compared with it, so that a PDF sent as `report.csv` is refused as a PDF (415), not read as text.

CSV
    UTF-8 with or without BOM; UTF-16 and UTF-32 when they start with their BOM (Excel's "Unicode
    text", tab-separated). Bytes that are not valid in the encoding are refused naming the line
    (a file saved in a legacy code page such as Windows-1258 must be saved again as CSV UTF-8):
    nothing is guessed. The delimiter is sniffed from the header line among `,` `;` (what Excel
    writes in Vietnamese and other decimal-comma locales) and tab, comma on a tie; a first line
    `sep=;` (Excel's hint) is obeyed and is not a row. RFC 4180 quoting (a quoted field may hold
    the delimiter, `""` and line breaks), strictly: a stray quote is an error naming the line.
    Rows are streamed: the file is decoded in 64 KiB chunks and one row at a time is held. Cell
    values are str, an empty cell None.

XLSX, with python-calamine (Rust), chosen by measurement against openpyxl read-only on a
generated workbook of 100,000 rows × 12 columns (6.1 MiB, 63 MB of sheet XML), each reader in a
fresh process, best of three (`.venv/bin/python -m tests.spreadsheets.measure_xlsx`):

    ==========================  ===================  ===================
    reader                      idle machine         busy machine (load 7)
    ==========================  ===================  ===================
    imports only (baseline)      0.11 s    35 MiB     0.22 s    28 MiB
    python-calamine 0.9.1        1.10 s   121 MiB     1.89 s   121 MiB
    openpyxl 3.1.5 read-only    14.44 s    35 MiB    28.72 s    33 MiB
    read_table (this module)         —                1.09 s   133 MiB
    ==========================  ===================  ===================

    (Time: best of three; memory: peak RSS of the process.) Calamine is 13 to 15 times faster;
    it holds the sheet in memory (about 86 MiB for these 1.2 million cells) where openpyxl
    streams. read_table adds the checks below and the workbook's bytes in memory, and is no
    slower than calamine alone (which the harness gives an open file, read through Python
    calls, where read_table gives it the bytes). An import checks the whole file before it
    writes anything and keeps every row until then anyway, the memory is bounded by the limits
    below (bytes, unpacked XML, rows), and 14 s per 100,000 rows would alone spend the import's
    time budget (issue 10: within 5× of COPY), so calamine it is.

    Safety, all checked before calamine sees the file:
    - the zip's central directory: at most `max_entries` parts, no duplicate names, no encrypted
      parts, only stored or deflated ones; the declared uncompressed sizes must add up to at
      most `max_unpacked_bytes` (256 MiB), and no part over 1 MiB may claim a compression ratio
      above `max_ratio` (200; sheet XML is about 10) — a zip claiming 1 GB is refused unopened;
    - then every part is inflated once, in 64 KiB steps, and must produce exactly its declared
      size and CRC (a part that lies about its size is refused as soon as it passes it), so no
      reader can be made to inflate more than was declared and checked;
    - macro-enabled workbooks are refused: a `.xlsm`/`.xltm`/`.xlsb` name, a `vbaProject.bin`
      part anywhere, or a macro content type (macroEnabled, vbaProject, macrosheet, ActiveX) in
      `[Content_Types].xml`, which is parsed with defusedxml;
    - XML entity expansion: calamine (quick-xml) does not expand entities declared in a DTD
      (tests/spreadsheets show a billion-laughs sheet failing with "unrecognized entity"), and
      besides, a part that declares a DOCTYPE or an ENTITY, which no spreadsheet program writes,
      is refused while inflating it (every part but pictures is scanned, whatever its name), as
      is a .xml or .rels part that is not UTF-8;
    - Excel 97-2003 (.xls) and password-protected workbooks (both OLE2 files) are refused with
      a hint to save as .xlsx.

    Reading: the first worksheet in workbook order (chart and macro sheets are not worksheets),
    or the one named. The header is the first non-blank row (row numbers stay the sheet's own);
    blank rows, trailing blank columns and formatted-but-empty cells are ignored; a formula cell
    gives the value Excel last calculated and saved (nothing is recalculated; a formula never
    calculated is empty); a merged range gives its value in its first cell only, the others
    empty. Values are what calamine gives: str, float (every number: an integral one is for
    app.spreadsheets.cells to accept), bool, datetime.date for a date cell, datetime.datetime
    for a date-time cell, datetime.time, datetime.timedelta; an empty cell None.

Both: an empty file (or a sheet without a value), a header without data rows, an empty header
cell (a trailing one with no data below is dropped), a header given twice (compared without case,
spaces or Unicode form), a value in a column without header, more than `max_rows` data rows
(200,000) and more than `max_bytes` bytes (20 MiB) are refused with their own codes.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import chain
from typing import BinaryIO, Literal

from app.core.i18n import Text, tr
from app.spreadsheets.cells import CellValue

Format = Literal["csv", "xlsx"]

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPES = frozenset({"text/csv", "text/plain", "application/csv", "text/comma-separated-values"})
# What browsers and clients send when they do not know better (Windows sends the old Excel type
# for .csv files).
VAGUE_TYPES = frozenset({"application/octet-stream", "application/vnd.ms-excel", "binary/octet-stream", ""})
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Limits:
    """How much an import accepts; the defaults are issue 10's."""

    max_bytes: int = 20 * 1024 * 1024
    max_rows: int = 200_000
    max_unpacked_bytes: int = 256 * 1024 * 1024
    max_ratio: int = 200
    max_entries: int = 10_000


class SpreadsheetError(Exception):
    """A file that cannot be imported as a whole: `code` for programs, `message` for people (a
    Text, sayable in Vietnamese), `row`/`column` (a letter, as the spreadsheet shows it) when
    known, and `status`, the HTTP status the endpoint should answer."""

    def __init__(
        self,
        code: str,
        message: Text,
        *,
        row: int | None = None,
        column: str | None = None,
        status: int = 422,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.row = row
        self.column = column
        self.status = status


@dataclass(frozen=True)
class Row:
    """One data row: its number as the spreadsheet shows it and its values, one per header column."""

    number: int
    values: tuple[CellValue, ...]


@dataclass
class Table:
    """The header and the data rows of a file; `rows` streams (a CSV's source must stay open)."""

    format: Format
    header: tuple[str, ...]
    rows: Iterator[Row]
    sheet: str | None = None  # XLSX: the sheet read
    encoding: str | None = None  # CSV
    delimiter: str | None = None  # CSV
    first_column: int = 0  # XLSX: the header's first column (0 is A) when the sheet starts further right
    sheets: tuple[str, ...] = field(default=())  # XLSX: every sheet of the workbook

    def letter(self, index: int) -> str:
        """The spreadsheet's letter of header column `index` (0 is the first header column)."""
        return column_letter(self.first_column + index)


def column_letter(index: int) -> str:
    """A, B, …, Z, AA, … for 0, 1, …"""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def read_table(
    source: BinaryIO,
    *,
    filename: str | None = None,
    content_type: str | None = None,
    sheet: str | None = None,
    delimiter: str | None = None,
    limits: Limits | None = None,
) -> Table:
    """Read `source` (a binary file positioned at its start) as CSV or XLSX, by its first bytes.

    `filename` and `content_type`, as the client sent them, are checked against the content;
    `sheet` names the XLSX sheet to read (default: the first worksheet); `delimiter` forces the
    CSV delimiter instead of sniffing it. Raises SpreadsheetError; so does iterating the rows."""
    limits = limits or Limits()
    head = source.read(_CHUNK)
    if not head:
        raise SpreadsheetError("empty", tr("the file is empty"))
    found = _sniff(head)
    declared = _declared(filename, content_type)
    if found == "zip":
        if declared == "csv":
            raise _mismatch(declared, found)
        if filename and filename.lower().endswith((".xlsm", ".xltm", ".xlsb")):
            raise _macros()
        return _read_xlsx(head, source, sheet, limits)
    if found == "text":
        if declared == "xlsx":
            raise _mismatch(declared, found)
        return _read_csv(head, source, delimiter, limits)
    if found == "ole2":
        raise SpreadsheetError(
            "legacy_or_encrypted",
            tr(
                "Excel 97-2003 (.xls) and password-protected workbooks cannot be read: "
                "save it as an Excel Workbook (.xlsx) without a password"
            ),
            status=415,
        )
    if declared is not None:
        raise _mismatch(declared, found)
    raise SpreadsheetError(
        "unsupported",
        tr("a {found} file cannot be imported: send CSV (UTF-8) or XLSX", found=found),
        status=415,
    )


# What the bytes are ------------------------------------------------------------------------------

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),  # an empty zip
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole2"),
    (b"%PDF-", "PDF"),
    (b"\x89PNG", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF8", "GIF"),
    (b"\x1f\x8b", "gzip"),
    (b"{\\rtf", "RTF"),
    (b"7z\xbc\xaf", "7-Zip"),
    (b"Rar!", "RAR"),
)
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def _sniff(head: bytes) -> str:
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    return "text"


def _declared(filename: str | None, content_type: str | None) -> Format | None:
    """What the client says the file is: its Content-Type if telling, else its name's extension."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media in (XLSX_TYPE, "application/zip"):
        return "xlsx"
    if media in CSV_TYPES or media.startswith("text/"):
        return "csv"
    if media not in VAGUE_TYPES and not media.startswith("multipart/"):
        raise SpreadsheetError(
            "unsupported",
            tr("the content type {type} cannot be imported: send CSV (UTF-8) or XLSX", type=media),
            status=415,
        )
    name = (filename or "").lower()
    if name.endswith((".xlsx", ".xlsm", ".xltx", ".xltm")):
        return "xlsx"
    if name.endswith((".csv", ".txt", ".tsv")):
        return "csv"
    return None


def _mismatch(declared: Format, found: str) -> SpreadsheetError:
    names: dict[str, str] = {
        "csv": "CSV",
        "xlsx": "XLSX",
        "zip": tr("a zip archive (XLSX)"),
        "text": tr("text (CSV)"),
        "ole2": "OLE2",
    }
    return SpreadsheetError(
        "content_mismatch",
        tr(
            "the file was sent as {declared} but its content is {found}",
            declared=names[declared],
            found=names.get(found, found),
        ),
        status=415,
    )


def _macros() -> SpreadsheetError:
    return SpreadsheetError(
        "macros",
        tr("macro-enabled workbooks are refused: save it as an Excel Workbook (.xlsx), without macros"),
        status=415,
    )


# The header -----------------------------------------------------------------------------------


def _fold(name: str) -> str:
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def _header(cells: list[CellValue], row: int, first_column: int) -> tuple[str, ...]:
    names = [_header_text(cell) for cell in cells]
    while names and not names[-1]:
        names.pop()
    seen: dict[str, int] = {}
    for index, name in enumerate(names):
        letter = column_letter(first_column + index)
        if not name:
            raise SpreadsheetError(
                "empty_header",
                tr("column {column} has no header (row {row})", column=letter, row=row),
                row=row,
                column=letter,
            )
        key = _fold(name)
        if key in seen:
            raise SpreadsheetError(
                "duplicate_header",
                tr(
                    "the header {name} is given twice: columns {first} and {second}",
                    name=name,
                    first=column_letter(first_column + seen[key]),
                    second=letter,
                ),
                row=row,
                column=letter,
            )
        seen[key] = index
    return tuple(names)


def _header_text(cell: CellValue) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, dt.date):
        return cell.isoformat()
    return " ".join(unicodedata.normalize("NFC", str(cell)).split())


def _rows(
    numbered: Iterator[tuple[int, list[CellValue]]], width: int, first_column: int, limits: Limits
) -> Iterator[Row]:
    """Data rows from (number, cells): blank ones skipped, each aligned with the header."""
    count = 0
    for number, given in numbered:
        if not any(cell is not None for cell in given):
            continue
        for index in range(width, len(given)):
            if given[index] is not None:
                letter = column_letter(first_column + index)
                raise SpreadsheetError(
                    "value_without_header",
                    tr(
                        "row {row}, column {column}: a value in a column without a header",
                        row=number,
                        column=letter,
                    ),
                    row=number,
                    column=letter,
                )
        count += 1
        if count > limits.max_rows:
            raise SpreadsheetError(
                "too_many_rows",
                tr("the file has more than {limit} data rows", limit=limits.max_rows),
                row=number,
                status=413,
            )
        cells = given[:width] if len(given) >= width else given + [None] * (width - len(given))
        yield Row(number, tuple(cells))


def _table_from(
    numbered: Iterator[tuple[int, list[CellValue]]], limits: Limits, first_column: int = 0
) -> tuple[tuple[str, ...], Iterator[Row]]:
    """The header (the first non-blank row) and the data rows, at least one of them."""
    for number, cells in numbered:
        if any(cell is not None for cell in cells):
            header = _header(cells, number, first_column)
            break
    else:
        raise SpreadsheetError("empty", tr("the file is empty"))
    rows = _rows(numbered, len(header), first_column, limits)
    first = next(rows, None)
    if first is None:
        raise SpreadsheetError("no_data", tr("the file has a header row but no data rows"), row=number + 1)
    return header, chain([first], rows)


# CSV ---------------------------------------------------------------------------------------------


def _read_csv(head: bytes, source: BinaryIO, delimiter: str | None, limits: Limits) -> Table:
    encoding, skip = "utf-8", 0
    for bom, name in _BOMS:
        if head.startswith(bom):
            encoding, skip = name, len(bom)
            break
    lines = _text_lines(head, skip, source, encoding, limits)
    leading, first = _first_line(lines)
    hint = (first or "").strip()
    if not leading and len(hint) == 5 and hint.lower().startswith("sep="):  # Excel's delimiter hint
        delimiter = delimiter or hint[4]
        leading, first = _first_line(lines)
    if first is None:
        raise SpreadsheetError("empty", tr("the file is empty"))
    lines = chain(leading, [first], lines)
    chosen = delimiter or _sniff_delimiter(first)
    reader = csv.reader(lines, delimiter=chosen, quotechar='"', doublequote=True, strict=True)

    def numbered() -> Iterator[tuple[int, list[CellValue]]]:
        number = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error:
                raise SpreadsheetError(
                    "bad_csv",
                    tr(
                        "line {line} is not valid CSV: a quote is not closed, text follows a closing "
                        "quote, or a cell is longer than {most} characters",
                        line=reader.line_num,
                        most=csv.field_size_limit(),
                    ),
                    row=number + 1,
                ) from None
            number += 1
            yield number, [cell if cell != "" else None for cell in cells]

    header, rows = _table_from(numbered(), limits)
    return Table("csv", header, rows, encoding=encoding, delimiter=chosen)


def _sniff_delimiter(line: str) -> str:
    """The most frequent of , ; and tab outside quotes in the header line; comma on a tie."""
    counts = {",": 0, ";": 0, "\t": 0}
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(counts.values())
    return "," if best == 0 or counts[","] == best else (";" if counts[";"] == best else "\t")


def _first_line(lines: Iterator[str]) -> tuple[list[str], str | None]:
    """The blank lines before the first line with text, and that line (None at the end)."""
    leading: list[str] = []
    for line in lines:
        if line.strip():
            return leading, line
        leading.append(line)
    return leading, None


def _text_lines(head: bytes, skip: int, source: BinaryIO, encoding: str, limits: Limits) -> Iterator[str]:
    """The decoded lines of the file after its first `skip` bytes (a BOM), each with its line
    break, decoding strictly in chunks."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    newlines = 0  # line breaks decoded so far
    pending = ""
    read = len(head)
    chunk = head[skip:]
    if not chunk:
        chunk = source.read(_CHUNK)
        read += len(chunk)
    while True:
        if read > limits.max_bytes:
            raise _too_large(limits)
        final = not chunk
        buffered = decoder.getstate()[0]
        try:
            text = decoder.decode(chunk, final=final)
        except UnicodeDecodeError as error:
            before = (buffered + chunk)[: error.start].decode(encoding, errors="replace")
            line = newlines + before.count("\n") + 1
            raise SpreadsheetError(
                "undecodable",
                tr(
                    "line {line} is not valid {encoding} text: save the file as CSV UTF-8",
                    line=line,
                    encoding=encoding.upper(),
                ),
            ) from None
        if "\x00" in text:
            line = newlines + text[: text.index("\x00")].count("\n") + 1
            raise SpreadsheetError(
                "binary",
                tr("line {line} holds a NUL character: this is not a text file", line=line),
                status=415,
            )
        newlines += text.count("\n")
        pending += text
        if "\n" in pending:
            parts = pending.split("\n")
            pending = parts.pop()
            for part in parts:
                yield part + "\n"
        if final:
            break
        chunk = source.read(_CHUNK)
        read += len(chunk)
    if pending:
        yield pending


def _too_large(limits: Limits) -> SpreadsheetError:
    return SpreadsheetError(
        "too_large", tr("the file is larger than {limit} bytes", limit=limits.max_bytes), status=413
    )


# XLSX --------------------------------------------------------------------------------------------

_PICTURES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".emf", ".wmf", ".svg")
_MACRO_TYPES = ("macroenabled", "vbaproject", "macrosheet", "activex", "vnd.ms-office.vba")


def _read_xlsx(head: bytes, source: BinaryIO, sheet: str | None, limits: Limits) -> Table:
    data = head + source.read(max(limits.max_bytes + 1 - len(head), 0))
    if len(data) > limits.max_bytes:
        raise _too_large(limits)
    _check_workbook(data, limits)
    from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = [m.name for m in workbook.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
        if sheet is not None:
            if sheet not in names:
                raise SpreadsheetError(
                    "no_such_sheet",
                    tr(
                        "the workbook has no sheet named {name}; its sheets: {sheets}",
                        name=sheet,
                        sheets=", ".join(names),
                    ),
                )
            chosen = sheet
        elif names:
            chosen = names[0]
        else:
            raise SpreadsheetError("empty", tr("the file is empty"))
        values = workbook.get_sheet_by_name(chosen)
    except CalamineError:
        raise _not_a_workbook() from None
    if values.start is None:
        raise SpreadsheetError("empty", tr("the file is empty"))
    # iter_rows() gives the rows from the sheet's first (row 1), blank ones too, and the columns
    # from the first one with a value (`left`); tests/spreadsheets pins this.
    left = values.start[1]
    numbered = (
        (index + 1, [None if cell == "" else cell for cell in cells])
        for index, cells in enumerate(values.iter_rows())
    )
    header, rows = _table_from(numbered, limits, first_column=left)
    return Table("xlsx", header, rows, sheet=chosen, first_column=left, sheets=tuple(names))


def _not_a_workbook() -> SpreadsheetError:
    return SpreadsheetError("bad_workbook", tr("the file is not a readable XLSX workbook"), status=415)


def _check_workbook(data: bytes, limits: Limits) -> None:
    """The checks of the zip and its XML before anything else reads it (see the module's text)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise _not_a_workbook() from None
    if len(entries) > limits.max_entries:
        raise _bomb(tr("the workbook has more than {limit} parts", limit=limits.max_entries))
    names = [entry.filename for entry in entries]
    if len(set(names)) != len(names):
        raise _not_a_workbook()
    if any(name.rsplit("/", 1)[-1].lower() == "vbaproject.bin" for name in names):
        raise _macros()
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise _not_a_workbook()
    total = sum(entry.file_size for entry in entries)
    if total > limits.max_unpacked_bytes:
        raise _bomb(
            tr(
                "the workbook unpacks to {size} bytes, more than the {limit} allowed",
                size=total,
                limit=limits.max_unpacked_bytes,
            )
        )
    for entry in entries:
        if entry.file_size > 1024 * 1024 and entry.file_size > limits.max_ratio * max(entry.compress_size, 1):
            raise _bomb(
                tr(
                    "the workbook's part {part} claims to be compressed {ratio} times, more than a "
                    "spreadsheet can be; refused as a possible zip bomb",
                    part=entry.filename,
                    ratio=entry.file_size // max(entry.compress_size, 1),
                )
            )
    for entry in entries:
        name = entry.filename.lower()
        # Pictures are never read as XML (SVG may carry a DOCTYPE); any other part might be, by
        # whatever name the workbook's relationships give it, so each is scanned.
        scan = not name.endswith(_PICTURES)
        xml = name.endswith((".xml", ".rels", ".vml"))
        content = _inflate(data, entry, keep=entry.filename == "[Content_Types].xml", xml=xml, scan=scan)
        if content is not None:
            _check_content_types(content)


def _bomb(message: Text) -> SpreadsheetError:
    return SpreadsheetError("zip_bomb", message, status=413)


def _inflate(data: bytes, entry: zipfile.ZipInfo, *, keep: bool, xml: bool, scan: bool) -> bytes | None:
    """Inflate one part, checking that it gives exactly its declared size and CRC, that XML
    starts as UTF-8 XML, and that a scanned part has no DOCTYPE; its bytes when `keep`."""
    if entry.flag_bits & 0x1 or entry.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise _not_a_workbook()
    offset = entry.header_offset
    local = data[offset : offset + 30]
    if len(local) < 30 or local[:4] != b"PK\x03\x04":
        raise _not_a_workbook()
    name_length, extra_length = struct.unpack("<HH", local[26:30])
    start = offset + 30 + name_length + extra_length
    raw = memoryview(data)[start : start + entry.compress_size]
    if len(raw) != entry.compress_size:
        raise _not_a_workbook()
    produced, crc, tail, kept = 0, 0, b"", bytearray()
    for piece in _pieces(raw, entry.compress_type == zipfile.ZIP_DEFLATED):
        produced += len(piece)
        if produced > entry.file_size:
            raise _bomb(
                tr(
                    "the workbook's part {part} unpacks to more than the {size} bytes it declares",
                    part=entry.filename,
                    size=entry.file_size,
                )
            )
        crc = zlib.crc32(piece, crc)
        if xml and produced == len(piece):
            _check_xml_start(piece, entry.filename)
        if scan:
            window = tail + piece
            if b"<!DOCTYPE" in window or b"<!ENTITY" in window:
                raise SpreadsheetError(
                    "xml_entities",
                    tr(
                        "the workbook's part {part} declares a DOCTYPE or entities, which spreadsheets "
                        "never do; refused",
                        part=entry.filename,
                    ),
                    status=415,
                )
            tail = window[-8:]
        if keep:
            kept += piece
    if produced != entry.file_size or crc != entry.CRC:
        raise _not_a_workbook()
    return bytes(kept) if keep else None


def _pieces(raw: memoryview, deflated: bool) -> Iterator[bytes]:
    """The inflated bytes of a part, at most 64 KiB at a time; a deflate stream must end."""
    if not deflated:
        for start in range(0, len(raw), _CHUNK):
            yield bytes(raw[start : start + _CHUNK])
        return
    inflater = zlib.decompressobj(-15)
    position = 0
    while not inflater.eof:
        if inflater.unconsumed_tail:
            source = inflater.unconsumed_tail
        elif position < len(raw):
            source = bytes(raw[position : position + _CHUNK])
            position += len(source)
        else:
            raise _not_a_workbook()  # the stream ends before its end mark
        try:
            piece = inflater.decompress(source, _CHUNK)
        except zlib.error:
            raise _not_a_workbook() from None
        if piece:
            yield piece


def _check_xml_start(piece: bytes, part: str) -> None:
    body = piece.removeprefix(codecs.BOM_UTF8).lstrip(b" \t\r\n")
    if body and not body.startswith(b"<"):
        raise SpreadsheetError(
            "xml_encoding",
            tr("the workbook's part {part} is not XML in UTF-8", part=part),
            status=415,
        )


def _check_content_types(content: bytes) -> None:
    from defusedxml import ElementTree
    from defusedxml.common import DefusedXmlException

    try:
        root = ElementTree.fromstring(content)
    except (DefusedXmlException, ElementTree.ParseError):
        raise _not_a_workbook() from None
    for element in root:
        kind = (element.get("ContentType") or "").lower()
        if any(word in kind for word in _MACRO_TYPES):
            raise _macros()
