"""Schema building blocks shared by the resources."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict, create_model

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
        raise ValueError(f"at most {MAX_VALUES} values, not {len(out)}")
    return out


# A multi-valued query filter: repeated, comma-separated, or both; at most 100 values.
AnyOf = Annotated[list[T], BeforeValidator(_split_commas), Field(max_length=MAX_VALUES)]


class Body(BaseModel):
    """A request body: unknown fields are refused rather than silently dropped."""

    model_config = ConfigDict(extra="forbid")


class RecordRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    updated_at: datetime
    version: int = Field(description="Starts at 1 and grows by one with every change.")


class AdminUnitSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str


class NamedSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str


def partial_model(create: type[BaseModel], name: str) -> type[BaseModel]:
    """The PATCH body of a resource: every field of its create body, each optional.

    The merged record is validated again with the create body, so a change that leaves the
    record breaking a rule (or sets a required field to null) is refused.
    """
    fields: dict[str, Any] = {}
    for field_name, info in create.model_fields.items():
        annotation: Any = info.annotation
        if info.metadata:  # keep the bounds and validators Annotated carried
            annotation = Annotated[(annotation, *info.metadata)]
        fields[field_name] = (
            annotation | None,
            Field(default=None, description=info.description, json_schema_extra=info.json_schema_extra),
        )
    fields["version"] = (
        Annotated[int, Strict(), Field(ge=1, le=2_147_483_647)] | None,
        Field(
            default=None,
            description="The version you last read, instead of an If-Match header; one is required.",
        ),
    )
    model: type[BaseModel] = create_model(
        name, __base__=Body, __doc__=f"Partial change: {create.__doc__ or ''}", **fields
    )
    return model
