"""Workbooks built for the tests: ordinary ones with openpyxl, hostile ones by rewriting their zip."""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import openpyxl

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook(
    rows: Iterable[Sequence[Any]], *, title: str = "Sheet1", more: dict[str, list[list[Any]]] | None = None
) -> bytes:
    """An XLSX workbook with one sheet of `rows` (and more sheets by name), saved by openpyxl."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(list(row))
    for name, other in (more or {}).items():
        extra = book.create_sheet(name)
        for row in other:
            extra.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rezip(files: dict[str, bytes], *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return out.getvalue()


def edited(data: bytes, name: str, change: Callable[[bytes], bytes]) -> bytes:
    """The workbook with one part changed."""
    files = parts(data)
    files[name] = change(files[name])
    return rezip(files)


def billion_laughs(levels: int = 9) -> bytes:
    """The DOCTYPE of the classic entity-expansion attack: &lol9; is 10^9 times "lol"."""
    entities = ['<!ENTITY lol "lol">']
    for level in range(1, levels + 1):
        previous = "lol" if level == 1 else f"lol{level - 1}"
        entities.append(f'<!ENTITY lol{level} "{("&" + previous + ";") * 10}">')
    return ("<!DOCTYPE worksheet [" + "".join(entities) + "]>").encode()


def zip_bomb(size: int) -> bytes:
    """A workbook whose sheet is `size` bytes of one repeated character (honestly declared)."""
    files = parts(workbook([["a"], [1]]))
    files["xl/worksheets/sheet1.xml"] = b" " * size
    return rezip(files)


def claiming(data: bytes, part: str, size: int) -> bytes:
    """The workbook with the central directory's uncompressed size of `part` set to `size`
    (1 GB, say), the local header's too: what a reader believes before inflating anything."""
    buffer = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(part)
    # the local file header: uncompressed size at offset 22
    struct.pack_into("<I", buffer, info.header_offset + 22, size)
    # the central directory entry: find it by its signature and the part's name
    name = part.encode()
    start = 0
    while True:
        start = buffer.index(b"PK\x01\x02", start)
        name_length = struct.unpack_from("<H", buffer, start + 28)[0]
        if bytes(buffer[start + 46 : start + 46 + name_length]) == name:
            struct.pack_into("<I", buffer, start + 24, size)
            return bytes(buffer)
        start += 4


def lying(data: bytes, part: str, content: bytes) -> bytes:
    """The workbook with `part` replaced by `content` while its declared size and CRC stay those
    of a tiny part: a reader trusting the sizes would inflate all of `content`."""
    files = parts(data)
    files[part] = content
    honest = rezip(files)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        original = archive.getinfo(part)
    buffer = bytearray(honest)
    with zipfile.ZipFile(io.BytesIO(honest)) as archive:
        info = archive.getinfo(part)
    struct.pack_into("<II", buffer, info.header_offset + 18, info.compress_size, original.file_size)
    struct.pack_into("<I", buffer, info.header_offset + 14, original.CRC)
    name = part.encode()
    start = 0
    while True:
        start = buffer.index(b"PK\x01\x02", start)
        name_length = struct.unpack_from("<H", buffer, start + 28)[0]
        if bytes(buffer[start + 46 : start + 46 + name_length]) == name:
            struct.pack_into("<I", buffer, start + 16, original.CRC)
            struct.pack_into("<I", buffer, start + 24, original.file_size)
            return bytes(buffer)
        start += 4
