"""Entity tags: a record's ETag is its version; If-None-Match and If-Match read against them."""

from __future__ import annotations

from app.core.errors import FieldError, InvalidInput, PreconditionRequired


def etag(version: int) -> str:
    return f'"{version}"'


def etag_matches(header: str | None, etag: str) -> bool:
    """If-None-Match uses the weak comparison (RFC 9110 §13.1.2): W/ prefixes are ignored."""
    if not header:
        return False
    candidates = [c.strip().removeprefix("W/") for c in header.split(",")]
    return "*" in candidates or etag in candidates


def expected_version(if_match: str | None, body_version: int | None) -> int | None:
    """The version the client last saw: If-Match (an item's ETag) or the body's `version`."""
    if if_match is None:
        return body_version
    tag = if_match.strip()
    if not (tag.startswith('"') and tag.endswith('"') and tag[1:-1].isdigit() and len(tag) < 14):
        raise PreconditionRequired(
            'If-Match must be the ETag of the record as you read it, e.g. "3"',
            errors=[FieldError(field="If-Match", message='an ETag such as "3"', location="header")],
        )
    version = int(tag[1:-1])
    if body_version is not None and body_version != version:
        raise InvalidInput("If-Match and the body's version disagree")
    return version
