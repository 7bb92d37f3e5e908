"""Schema building blocks shared by the resources."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from functools import cache
from types import UnionType
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    Strict,
    create_model,
)

from app.core.i18n import tr
from app.core.labels import LabelledEnum
from app.kit.types import INT32, Id, Int32, Int64
from app.models import INT_MAX

T = TypeVar("T")


MAX_VALUES = 100


def _split_commas(value: Any) -> Any:
    """Accept `a,b` as well as repeated parameters `x=a&x=b` for multi-valued filters. Too many
    values are refused before any is checked: one error, not one per value."""
    if isinstance(value, str):
        # Empty parts are kept, so that `x=` or `x=a,,b` is refused rather than ignored.
        out = [part.strip() for part in value.split(",")]
    elif isinstance(value, list):
        out = []
        for item in value:
            out.extend(_split_commas(item) if isinstance(item, str) else [item])
    else:
        return value
    if len(out) > MAX_VALUES:
        raise ValueError(tr("at most {most} values, not {count}", most=MAX_VALUES, count=len(out)))
    return out


# A multi-valued query filter: repeated, comma-separated, or both; at most 100 values.
AnyOf = Annotated[list[T], BeforeValidator(_split_commas), Field(max_length=MAX_VALUES)]


@cache
def label_model(enum: type[LabelledEnum]) -> type[BaseModel]:
    """`{code, vi, en}` of one enumeration, its code typed with it: one schema per enumeration
    (e.g. CraftGroupLabel), shared by every answer that shows a code with its labels."""
    model: type[BaseModel] = create_model(
        f"{enum.__name__}Label",
        __config__=ConfigDict(extra="forbid"),
        __doc__=f"A {enum.__name__} code with its Vietnamese and English labels.",
        code=(enum, ...),
        vi=(str, Field(description="Vietnamese label.")),
        en=(str, Field(description="English label.")),
    )
    return model


class Body(BaseModel):
    """A request body: unknown fields are refused rather than silently dropped."""

    model_config = ConfigDict(extra="forbid")


class RecordRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: Int64
    created_at: datetime
    updated_at: datetime
    version: Int32 = Field(description="Starts at 1 and grows by one with every change.")


class AdminUnitSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: Int64
    code: str
    name: str


class NamedSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: Int64
    name: str


# The place of a record in the gazetteer (villages, co-operatives): app/kit/places.py.
COMMUNE_ID = (
    "The commune as recorded: an administrative unit of level commune valid when the figures were "
    "taken (a 2015 commune for 2015 figures). district_id and province_id are derived from it."
)
DISTRICT_ID = (
    "The district: derived from commune_id (none for a commune created in 2025, when districts were "
    "abolished); give it alone when the commune is unknown. Given with commune_id, it must be the "
    "commune's."
)
PROVINCE_ID = "The province: derived from commune_id or district_id; give it alone when neither is known."
OTHER_COMMUNE_IDS = (
    "The record's communes at other dates: where it was before a change, or the part of a split "
    "commune it went to. No two of them, nor one and commune_id, valid on the same day."
)


def _distinct(ids: list[int]) -> list[int]:
    if len(set(ids)) != len(ids):
        raise ValueError(tr("a commune is listed twice"))
    return ids


OtherCommunes = Annotated[list[Id], Field(max_length=20), AfterValidator(_distinct)]


def _admits_none(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, UnionType) and type(None) in get_args(annotation)


def _absent_is_unchanged(extra: Any) -> Callable[[dict[str, Any]], None]:
    """A PATCH field left out keeps its value: the schema shows no default (null would be a lie)."""

    def apply(schema: dict[str, Any]) -> None:
        schema.pop("default", None)
        if isinstance(extra, dict):
            schema.update(extra)

    return apply


def partial_model(create: type[BaseModel], name: str) -> type[BaseModel]:
    """The PATCH body of a resource: every field of its create body, each optional.

    A field may be null only where the create body allows null: a column that cannot be empty
    is left out to keep it, never sent as null. The merged record is validated again with the
    create body, so a change that leaves the record breaking a rule is refused.
    """
    fields: dict[str, Any] = {}
    for field_name, info in create.model_fields.items():
        annotation: Any = info.annotation
        if info.metadata:  # keep the bounds and validators Annotated carried
            annotation = Annotated[(annotation, *info.metadata)]
        fields[field_name] = (
            annotation,  # left out, the field keeps its value; the default is never validated
            Field(
                default=None,
                description=info.description,
                json_schema_extra=_absent_is_unchanged(info.json_schema_extra),
            ),
        )
    fields["version"] = (
        Annotated[int, Strict(), Field(ge=1, le=INT_MAX)],
        Field(
            default=None,
            description="The version you last read, instead of an If-Match header; one is required.",
            json_schema_extra=_absent_is_unchanged(INT32),
        ),
    )
    model: type[BaseModel] = create_model(
        name, __base__=Body, __doc__=f"Partial change: {create.__doc__ or ''}", **fields
    )
    return model


def _bbox_numbers(value: Any) -> Any:
    """A bounding box as text, `min_lon,min_lat,max_lon,max_lat`, or repeated: four numbers."""
    parts = _split_commas(value)
    if not isinstance(parts, list) or len(parts) != 4:
        raise ValueError(tr("must be four numbers: min_lon,min_lat,max_lon,max_lat"))
    numbers = []
    for part in parts:
        try:
            number = float(part)
        except (TypeError, ValueError):
            raise ValueError(tr("must be four numbers: min_lon,min_lat,max_lon,max_lat")) from None
        if not math.isfinite(number):
            raise ValueError(tr("must be four numbers: min_lon,min_lat,max_lon,max_lat"))
        numbers.append(number)
    return numbers


def _bbox_bounds(box: list[float]) -> list[float]:
    west, south, east, north = box
    if not (-180 <= west <= 180 and -180 <= east <= 180):
        raise ValueError(tr("longitudes must be from -180 to 180"))
    if not (-90 <= south <= 90 and -90 <= north <= 90):
        raise ValueError(tr("latitudes must be from -90 to 90"))
    if south > north:
        raise ValueError(tr("min_lat must not be greater than max_lat"))
    return box


BBOX_HELP = (
    "Only records whose coordinates lie in this box, `min_lon,min_lat,max_lon,max_lat` (WGS 84, "
    "longitude first, edges included, as in RFC 7946 §5), e.g. `105.9,20.1,106.6,20.5`. A box whose "
    "min_lon is greater than its max_lon crosses the antimeridian. Records without coordinates are "
    "never in a box."
)
# A map viewport: four numbers, validated (422 when malformed or out of range).
BBox = Annotated[
    list[float],
    PlainValidator(
        lambda value: _bbox_bounds(_bbox_numbers(value)),
        json_schema_input_type=Annotated[list[float], Field(min_length=4, max_length=4)],
    ),
    Field(description=BBOX_HELP, examples=[[105.9, 20.1, 106.6, 20.5]]),
]
