"""Entity tags: a record's ETag is its version; If-None-Match and If-Match read against them."""

from __future__ import annotations

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
    """An If-Match that is no entity tag of ours (`1`, `W/"1"`, `abc`). It is answered by the
    service, once the record is read, so that the 428 can show the record's current ETag."""

    header: str


Expected = int | Malformed | None


def expected_version(if_match: str | None, body_version: int | None) -> Expected:
    """The version the client last saw: If-Match (an item's ETag) or the body's `version`."""
    if if_match is None:
        return body_version
    tag = if_match.strip()
    if not (tag.startswith('"') and tag.endswith('"') and tag[1:-1].isdigit() and len(tag) < 14):
        return Malformed(if_match)
    version = int(tag[1:-1])
    if body_version is not None and body_version != version:
        raise InvalidInput(tr("If-Match and the body's version disagree"))
    return version
