"""Ordering of list pages, and keyset paging: `after=<cursor>` continues after the last record of
the previous page instead of skipping `offset` records, so a deep page costs what the first does.

A cursor is the sort keys' values of the last record of a page, with the sort it was made for,
as URL-safe base64 of JSON. It names a position, not a page: records inserted or deleted between
two requests shift no other record, so following `next` never skips nor repeats a record (every
sort ends with the unique id). A cursor carries no secret and needs none: its values are bound
parameters, and a changed cursor only moves the position (a malformed one is a 422).

Order is NULLS LAST in both directions, so "after" a value means beyond it in the key's direction
or null, and after a null only the other nulls (compared by the next keys).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Float, and_, bindparam, false, func, or_, tuple_

from app.core.errors import FieldError, InvalidInput
from app.core.i18n import tr
from app.kit.resource import Resource


@dataclass(frozen=True)
class Key:
    """One sort key: its expression, direction and whether it can be null."""

    expression: Any
    descending: bool
    nullable: bool


def sort_keys(res: Resource[Any], sort: Sequence[str] | None, q: str | None) -> list[Key]:
    """The keys a list is ordered by: the sort parameter (whitelisted); without it, with a search,
    the best matches first; then the id, so that every order is total and pages are stable."""
    keys: list[Key] = []
    if sort:
        for raw in sort:
            descending = raw.startswith("-")
            name = raw.removeprefix("-")
            if name not in res.sortable:
                allowed = ", ".join(sorted(res.sortable))
                raise InvalidInput(
                    tr("cannot sort by '{key}'; sortable fields: {allowed}", key=name, allowed=allowed),
                    errors=[
                        FieldError(
                            field="sort", message=tr("allowed: {allowed}", allowed=allowed), location="query"
                        )
                    ],
                )
            column = res.sortable[name]
            expression = getattr(column, "expression", column)
            keys.append(Key(column, descending, bool(getattr(expression, "nullable", True))))
    elif q and q.split() and res.search is not None:
        # The whole query's similarity to the record's search text (never null: neither is).
        similarity = func.similarity(res.search, func.lower(func.f_unaccent(bindparam("q"))), type_=Float)
        keys.append(Key(similarity, True, False))
    keys.append(Key(res.model.id, list(sort or ()) == ["-id"], False))
    return keys


def order_by(keys: Sequence[Key]) -> list[Any]:
    return [(k.expression.desc() if k.descending else k.expression.asc()).nulls_last() for k in keys]


def _param(index: int) -> Any:
    return bindparam(f"after_{index}")


def after(keys: Sequence[Key], nulls: Sequence[bool]) -> ColumnElement[bool]:
    """Records strictly after the position whose key values are the parameters after_0.., where
    `nulls` says which of them are null (the statement's shape depends on it, not on the values)."""
    if not any(nulls) and len({k.descending for k in keys}) == 1 and not any(k.nullable for k in keys[:-1]):
        # One direction and no nulls: a row comparison, which an index on the keys serves.
        left = tuple_(*[k.expression for k in keys])
        right = tuple_(*[_param(i) for i in range(len(keys))])
        return left < right if keys[0].descending else left > right
    terms: list[ColumnElement[bool]] = []
    for i, key in enumerate(keys):
        if nulls[i]:
            continue  # nothing comes after a null in this key but other nulls, which are equal
        beyond = key.expression < _param(i) if key.descending else key.expression > _param(i)
        if key.nullable:
            beyond = or_(beyond, key.expression.is_(None))
        equal = [
            keys[j].expression.is_(None) if nulls[j] else keys[j].expression == _param(j) for j in range(i)
        ]
        terms.append(and_(*equal, beyond))
    return or_(*terms) if terms else false()


def signature(sort: Sequence[str] | None, q: str | None) -> str:
    """What a cursor is only valid with: the sort, or the search ordering."""
    if sort:
        return ",".join(sort)
    return "~q" if q and q.split() else ""


def encode(sig: str, values: Sequence[Any]) -> str:
    encoded = [v.isoformat() if isinstance(v, (date, datetime)) else v for v in values]
    raw = json.dumps({"s": sig, "k": encoded}, ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _bad(message: Any) -> InvalidInput:
    return InvalidInput(
        tr("after: {message}", message=message),
        errors=[FieldError(field="after", message=message, location="query")],
    )


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(value)
    return value


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not -(2**63) <= value < 2**63:
        raise ValueError(value)
    return value


def _float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(value)
    return float(value)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(value)
    return value


def _moment(value: Any) -> datetime:
    moment = datetime.fromisoformat(_text(value))
    if moment.tzinfo is None:
        raise ValueError(value)
    return moment


def _day(value: Any) -> date:
    if len(_text(value)) != len("2015-12-31"):
        raise ValueError(value)
    return date.fromisoformat(value)


# Each key's JSON value as its column's Python type, or a ValueError.
TYPED = {bool: _bool, int: _int, float: _float, datetime: _moment, date: _day}


def _typed(value: Any, key: Key) -> Any:
    if value is None:
        if not key.nullable:
            raise ValueError("null")
        return None
    return TYPED.get(key.expression.type.python_type, _text)(value)


def decode(cursor: str, keys: Sequence[Key], sig: str) -> list[Any]:
    """The key values a cursor holds, checked against the keys of this request: a 422 for a
    cursor that is not one, or that was made for another sort."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw.decode())
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):  # [[[[… nests too deep
        raise _bad(tr("not a cursor; use the one in `next` or the Link header")) from None
    if not isinstance(data, dict) or set(data) != {"s", "k"} or not isinstance(data["k"], list):
        raise _bad(tr("not a cursor; use the one in `next` or the Link header"))
    if data["s"] != sig:
        raise _bad(
            tr("this cursor was made for another order; keep the sort (and q) of the page it came from")
        )
    if len(data["k"]) != len(keys):
        raise _bad(tr("not a cursor; use the one in `next` or the Link header"))
    try:
        return [_typed(value, key) for value, key in zip(data["k"], keys, strict=True)]
    except (ValueError, TypeError, OverflowError):
        raise _bad(tr("not a cursor; use the one in `next` or the Link header")) from None
