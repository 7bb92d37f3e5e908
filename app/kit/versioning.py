"""Count writes per table in data_version, inside the writing transaction.

Mapper events note the table of every row actually inserted, changed or deleted (cascaded
deletes of embedded lines included); just before the commit one statement bumps those tables'
counters (creating a counter the first time a table is written). Rows in a fixed order, held only
while the transaction commits: concurrent writers cannot deadlock on it. A rollback forgets the
tables. Which tables are counted is the registry's business: `track()` adds them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, event, func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Mapper, Session, object_session

from app.kit import reads
from app.models import Base, DataVersion

_KEY = "touched_tables"
_TRACKED: set[str] = set()


def _note(mapper: Mapper[Any], target: Any) -> None:
    table = mapper.local_table.name  # type: ignore[attr-defined]
    session = object_session(target)
    if session is not None and table in _TRACKED:
        session.info.setdefault(_KEY, set()).add(table)


def _inserted_or_deleted(mapper: Mapper[Any], connection: Connection, target: Any) -> None:
    _note(mapper, target)


def _updating(mapper: Mapper[Any], connection: Connection, target: Any) -> None:
    session = object_session(target)
    # A row marked dirty with no net change gets no UPDATE, so it changes no version either.
    if session is not None and session.is_modified(target, include_collections=False):
        _note(mapper, target)


def _before_commit(session: Session) -> None:
    # The commit's own flush comes after this hook: flush first, or its writes go uncounted.
    session.flush()
    tables = session.info.pop(_KEY, None)
    if tables:
        session.execute(bump(tables))


def bump(tables: Iterable[str]) -> Any:
    """The statement that adds one to the data version of each of these tables (creating it at 1),
    for writes the ORM does not see: the gazetteer's loader, `places match`."""
    statement = insert(DataVersion).values(
        [{"resource": name, "version": 1, "changed_at": func.now()} for name in sorted(tables)]
    )
    return statement.on_conflict_do_update(
        index_elements=[DataVersion.resource],
        set_={"version": DataVersion.version + 1, "changed_at": func.now()},
    )


def _forget(session: Session, *args: Any) -> None:
    session.info.pop(_KEY, None)


def install(tracked: Iterable[str]) -> None:
    """Count the writes to these tables (a registry's tracked tables) from now on; the hooks are
    registered once, however often this is called."""
    _TRACKED.update(tracked)
    if event.contains(Session, "before_commit", _before_commit):
        return
    event.listen(Base, "after_insert", _inserted_or_deleted, propagate=True)
    event.listen(Base, "after_delete", _inserted_or_deleted, propagate=True)
    event.listen(Base, "before_update", _updating, propagate=True)
    event.listen(Session, "before_commit", _before_commit)
    event.listen(Session, "after_rollback", _forget)


# The counters of some tables as one text ("table:version,..."); a table never written has none.
_TAG_SQL = (
    "SELECT coalesce(string_agg(resource || ':' || version, ',' ORDER BY resource), '') "
    "FROM data_version WHERE resource = ANY($1::text[])"
)


async def data_tag(conn: reads.Connection, tables: Sequence[str]) -> str:
    """The data versions of these tables now: equal tags, equal data in them."""
    tag: str = await conn.fetchval(_TAG_SQL, list(tables))
    return tag


def weak_etag(*parts: str) -> str:
    """A weak entity tag (W/"..."): a hash of what the answer depends on, not of its bytes."""
    digest = hashlib.blake2b("|".join(parts).encode(), digest_size=16).hexdigest()
    return f'W/"{digest}"'
