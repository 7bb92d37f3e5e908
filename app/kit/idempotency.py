"""Idempotency-Key on POST: a retried request returns the first answer and creates nothing.

Keys are scoped to the credential. The first request with a key holds a transaction-level
advisory lock on it until it commits; a repeat arriving meanwhile gets 409 at once instead of
waiting, and a repeat arriving later finds the stored answer (the same body: replayed; another
body: 422). Answers are kept at least KEEP_HOURS (48) hours. A replay carries the stored body,
its Location and the ETag of the version that body shows.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import orjson
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from app.core.errors import Conflict, FieldError, InvalidInput
from app.core.i18n import tr
from app.kit.etags import etag
from app.models import IdempotencyRecord

KEEP_HOURS = 48
PRUNE_PROBABILITY = 0.01


@dataclass(frozen=True)
class Answer:
    status_code: int
    body: bytes
    headers: dict[str, str]


def _lock_id(credential: str, key: str) -> int:
    digest = hashlib.sha256(f"{credential}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def request_fingerprint(method: str, path: str, canonical_body: str) -> str:
    return hashlib.sha256(f"{method} {path}\n{canonical_body}".encode()).hexdigest()


def _version_of(body: bytes) -> int | None:
    try:
        version = orjson.loads(body).get("version")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return version if isinstance(version, int) else None


async def once(
    session: AsyncSession,
    credential: str,
    key: str,
    fingerprint: str,
    run: Callable[[], Awaitable[Answer]],
) -> Response:
    """Run the request once per (credential, key); replay its answer to repeats."""
    locked = await session.scalar(select(func.pg_try_advisory_xact_lock(_lock_id(credential, key))))
    if not locked:
        raise Conflict(
            tr("a request with this Idempotency-Key is still being processed; retry in a moment"),
            headers={"Retry-After": "1"},
        )
    stored = await session.get(IdempotencyRecord, (credential, key))
    if stored is not None:
        if stored.request_hash != fingerprint:
            raise InvalidInput(
                tr("this Idempotency-Key was already used with a different request"),
                errors=[
                    FieldError(
                        field="Idempotency-Key", message=tr("used for another request"), location="header"
                    )
                ],
            )
        headers = {"Idempotent-Replayed": "true"}
        if stored.location:
            headers["Location"] = stored.location
        version = _version_of(stored.body)
        if version is not None:  # the ETag of the record as the stored answer shows it
            headers["ETag"] = etag(version)
        return Response(
            stored.body, status_code=stored.status_code, media_type="application/json", headers=headers
        )
    answer = await run()
    session.add(
        IdempotencyRecord(
            credential=credential,
            key=key,
            request_hash=fingerprint,
            status_code=answer.status_code,
            body=answer.body,
            location=answer.headers.get("Location"),
        )
    )
    if random.random() < PRUNE_PROBABILITY:  # noqa: S311 - spreading the clean-up, not security
        await session.execute(
            delete(IdempotencyRecord).where(
                IdempotencyRecord.created_at < func.now() - func.make_interval(0, 0, 0, 0, KEEP_HOURS)
            )
        )
    await session.flush()
    return Response(
        answer.body, status_code=answer.status_code, media_type="application/json", headers=answer.headers
    )
