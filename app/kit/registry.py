"""Registry: the resources an application serves, and every table derived from them.

What the generic service needs beyond one resource (which resource owns a table that refers to a
record, a table's name for people, which tables' writes are counted for ETags, what each database
rule means, which enumerations are published) is computed here from the declarations, never kept
by hand. Building a registry checks it: an inconsistency stops start-up with a message naming
the resource and what to fix, instead of surfacing as a 500 on some later request.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, MetaData, Table

from app.core.labels import LabelledEnum
from app.kit.filters import unmapped_filters
from app.kit.resource import Resource, table_of
from app.kit.timeline import LEVELS

PATH = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


class RegistryError(RuntimeError):
    """The resource declarations contradict each other or the tables."""


@dataclass(frozen=True)
class Owner:
    """The resource whose records a table's rows belong to, and the column holding that record's id
    (a resource's own table: id; an embedded list: the key of its parent)."""

    resource: str
    id_column: str
    # A link table's two ends: a row met through one end names the record at the other.
    ends: tuple[str, str] | None = None

    def column_for(self, referring: str) -> str:
        """The column naming the owning record of a row that refers through `referring`."""
        if self.ends is None:
            return self.id_column
        first, second = self.ends
        return second if referring == first else first


class Registry:
    """The resources in the order they are mounted, with the tables derived from them."""

    def __init__(
        self, resources: Sequence[Resource[Any]], extra_enums: dict[str, type[LabelledEnum]]
    ) -> None:
        self.resources: tuple[Resource[Any], ...] = tuple(resources)
        self.metadata: tuple[MetaData, ...] = tuple(
            dict.fromkeys(table_of(r.model).metadata for r in self.resources)
        )
        errors = _problems(self.resources, self.metadata)
        errors.extend(
            f"enumeration {name!r} is published by a resource and again among the extra ones"
            for name in extra_enums
            if any(name in r.enums for r in self.resources)
        )
        if errors:
            raise RegistryError(
                "the resource registry is inconsistent:\n" + "\n".join(f"  - {e}" for e in errors)
            )
        self.by_path = {r.path: r for r in self.resources}
        # The paths as an enumeration, for the parameters and answers that name a resource (the
        # audit trail's, the changes feed's): one class, so the document has one schema of it.
        self.path_enum: type[StrEnum] = StrEnum(  # type: ignore[misc]
            "ResourcePath", [(r.path.replace("-", "_"), r.path) for r in self.resources]
        )
        self.owners: dict[str, Owner] = {}
        self.labels: dict[str, str] = {}
        for res in self.resources:
            self.owners[res.table.name] = Owner(res.path, "id")
            self.labels[res.table.name] = res.singular
            for child in res.children.values():
                self.owners[table_of(child.model).name] = Owner(res.path, child.parent_key)
            for link in res.links.values():
                self.owners[table_of(link.model).name] = Owner(res.path, link.ends[0], link.ends)
        # Per table, the foreign keys that can keep one of its rows from being deleted (those that
        # do not cascade), in table order: worked out once here rather than on every DELETE.
        self.referring: dict[str, list[ForeignKey]] = {}
        for table in self.tables():
            for fk in table.foreign_keys:
                if (fk.ondelete or "").upper() != "CASCADE":
                    self.referring.setdefault(fk.column.table.name, []).append(fk)
        self.tracked_tables: tuple[str, ...] = tuple(t.name for r in self.resources for t in r.tables())
        self.constraint_messages: dict[str, str] = {
            name: message
            for metadata in self.metadata
            for table in metadata.sorted_tables
            for name, message in _messages(table)
        }
        self.enums: dict[str, type[LabelledEnum]] = {
            name: enum for r in self.resources for name, enum in r.enums.items()
        } | extra_enums

    def __iter__(self) -> Iterator[Resource[Any]]:
        return iter(self.resources)

    def tables(self) -> Iterator[Table]:
        """Every table of the metadata the resources are declared in."""
        for metadata in self.metadata:
            yield from metadata.sorted_tables


def _problems(resources: Sequence[Resource[Any]], metadata: Sequence[MetaData]) -> list[str]:  # noqa: PLR0912
    """Everything inconsistent in the declarations, each as one sentence."""
    errors: list[str] = []
    seen_paths: set[str] = set()
    owned: dict[str, str] = {}
    enums: dict[str, str] = {}
    for res in resources:
        where = f"resource {res.path!r}"
        if not PATH.match(res.path):
            errors.append(f"{where}: a path is lower-case words joined by '-'")
        if res.path in seen_paths:
            errors.append(f"{where} is registered twice")
        seen_paths.add(res.path)
        for table in res.tables():
            if table.name in owned:
                errors.append(f"{where}: table {table.name} already belongs to {owned[table.name]!r}")
            owned[table.name] = res.path
        for name, child in res.children.items():
            child_table = table_of(child.model)
            fks = [fk for fk in child_table.foreign_keys if fk.parent.name == child.parent_key]
            if not any(fk.column.table is res.table for fk in fks):
                errors.append(
                    f"{where}: embedded list {name!r} needs a foreign key {child_table.name}."
                    f"{child.parent_key} to {res.table.name}.id"
                )
            elif any((fk.ondelete or "").upper() != "CASCADE" for fk in fks):
                errors.append(
                    f"{where}: embedded list {name!r}: {child_table.name}.{child.parent_key} must be "
                    "ON DELETE CASCADE (its lines go with their parent)"
                )
            if name not in res.create.model_fields:
                errors.append(f"{where}: embedded list {name!r} is not a field of {res.create.__name__}")
        for name, summary in res.summaries.items():
            key_name = str(getattr(summary.key, "key", ""))
            target = table_of(summary.model)
            key_fks = res.table.c[key_name].foreign_keys if key_name in res.table.c else set()
            if not any(fk.column.table is target for fk in key_fks):
                errors.append(
                    f"{where}: summary {name!r} needs a foreign key from {key_name} to {target.name}"
                )
        errors.extend(
            f"{where}: query parameter {name!r} of {res.query.__name__} maps to no column, range or custom "
            "filter (add it to `columns` or `custom`)"
            for name in unmapped_filters(res)
        )
        errors.extend(
            f"{where}: geography parameter {name!r} names level {level!r}, which its places do not record"
            for name, level in res.geography.items()
            if res.places is not None and (level not in LEVELS or res.places.recorded(level) is None)
        )
        extra = set(res.update.model_fields) - set(res.create.model_fields) - {"version"}
        if extra:
            errors.append(f"{where}: {res.update.__name__} has fields the create body lacks: {sorted(extra)}")
        for enum_name in res.enums:
            if enum_name in enums:
                errors.append(
                    f"{where}: enumeration {enum_name!r} is already published by {enums[enum_name]!r}"
                )
            enums[enum_name] = res.path
    # A record still referred to is refused with 409 naming the referrers: every table that can
    # refer to a resource's record without cascading must belong to some resource.
    for meta in metadata:
        for table in meta.sorted_tables:
            for fk in table.foreign_keys:
                target = fk.column.table
                if target.name not in owned or (fk.ondelete or "").upper() == "CASCADE":
                    continue
                if table.name not in owned:
                    errors.append(
                        f"table {table.name} refers to {target.name} ({fk.parent.name}) but belongs to "
                        "no registered resource, so a refused DELETE could not name it: register its "
                        "resource, or make the foreign key ON DELETE CASCADE"
                    )
    return errors


def _messages(table: Table) -> Iterator[tuple[str, str]]:
    """(constraint name, message) of the table's rules that declare one. The naming convention
    has already named each constraint as the database knows it; a trigger's rules are named in
    the table's info."""
    for constraint in table.constraints:
        message = constraint.info.get("message")
        if message is not None:
            if not isinstance(constraint.name, str):
                raise RegistryError(f"{table.name}: a rule with a message needs a name ({constraint!r})")
            yield constraint.name, message
    # Rules a trigger enforces, raised under these names (app.models.base.trigger_rules).
    yield from table.info.get("rules", {}).items()
