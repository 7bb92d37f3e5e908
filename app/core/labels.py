"""Enumerations whose members carry a Vietnamese and an English label beside their code."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Self


class LabelledEnum(StrEnum):
    """A string enumeration declared as `code = "code", "Vietnamese label", "English label"`.

    The code is the member's value (what the API and the database hold); the labels are for
    people, in the two languages the department works in.
    """

    _value_: str
    vi: str
    en: str

    if TYPE_CHECKING:
        # What callers do: look a member up by its code, e.g. Role("admin").
        def __new__(cls, code: str) -> Self: ...

    else:
        # What the class body does: declare a member from (code, vi, en).
        def __new__(cls, code, vi, en):
            member = str.__new__(cls, code)
            member._value_ = code
            member.vi = vi
            member.en = en
            return member

    @property
    def spec(self) -> tuple[str, str, str]:
        """(code, vi, en): declares the same member in another enumeration."""
        return (self.value, self.vi, self.en)
