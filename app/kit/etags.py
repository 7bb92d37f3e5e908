"""Entity tags: a record's ETag is its version; If-None-Match and If-Match read against them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.core.errors import InvalidInput
from app.core.i18n import tr


def etag(version: int) -> str:
    return f'"{version}"'


def etag_matches(header: str | None, etag: str) -> bool:
    """If-None-Match uses the weak comparison (RFC 9110 §13.1.2): W/ prefixes are ignored."""
    if not header:
        return False
    candidates = [c.strip().removeprefix("W/") for c in header.split(",")]
    return "*" in candidates or etag in candidates


@dataclass(frozen=True)
class Malformed:
    """An If-Match that is no list of entity tags (`1`, `abc`, `"1`). It is answered by the
    service, once the record is read, so that the 428 can show the record's current ETag."""

    header: str


@dataclass(frozen=True)
class Star:
    """`If-Match: *`: any version. It says nothing of the version the client read, so it cannot
    guard against a lost update, and the service answers it as it answers no If-Match (428)."""

    header: str


@dataclass(frozen=True)
class Listed:
    """Several entity tags, or weak ones: the write goes ahead when one of `versions` is current.
    If-Match compares strongly (RFC 9110 §13.1.1), so a weak tag (W/"3") matches nothing."""

    versions: frozenset[int]
    header: str


Expected = int | Listed | Star | Malformed | None

# An ETag of ours: a version in quotes; the digits are ASCII ones ("²" is no version). An item read
# with `fields` answers "<version>.<hash of the fields>": the version is what a write compares.
_STRONG = re.compile(r'"([0-9]{1,9})(?:\.[0-9a-f]{12})?"')
_WEAK = re.compile(r'W/"[\x21\x23-\x7e]*"')


def expected_version(if_match: str | None, body_version: int | None) -> Expected:
    """The version the client last saw: If-Match (an item's ETag, or a list of them) or the
    body's `version`."""
    if if_match is None:
        return body_version
    items = [item.strip() for item in if_match.split(",")]
    if items == ["*"]:
        return Star(if_match)
    versions: set[int] = set()
    for item in items:
        if found := _STRONG.fullmatch(item):
            versions.add(int(found.group(1)))
        elif not _WEAK.fullmatch(item):
            return Malformed(if_match)
    if body_version is not None and body_version not in versions:
        raise InvalidInput(tr("If-Match and the body's version disagree"))
    if len(items) == 1 and len(versions) == 1:
        return versions.pop()
    return Listed(frozenset(versions), if_match)
