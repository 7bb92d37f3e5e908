"""Messages for people in English (the default) and Vietnamese.

A message is written once, in English, as a template: `tr("no {resource} with id {id}",
resource="village", id=3)`. The result is a `Text`: a str holding the English sentence (so it
works wherever a str does: logs, tests, exceptions), which also keeps its template and values, so
that a problem answer can be rendered in the language the client asked for with
`Accept-Language`. The Vietnamese templates live in app.core.locale_vi, keyed by the English
template; a test checks that every template used in app/ has one, with the same placeholders.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from app.core import locale_vi

Language = Literal["en", "vi"]
LANGUAGES: tuple[Language, ...] = ("en", "vi")
DEFAULT: Language = "en"


class Text(str):
    """An English sentence that can also be said in Vietnamese."""

    template: str
    values: Mapping[str, Any]

    def __new__(cls, template: str, values: Mapping[str, Any]) -> Text:
        english = template.format_map({k: _english(v) for k, v in values.items()}) if values else template
        self = super().__new__(cls, english)
        self.template = template
        self.values = dict(values)
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (Text, (self.template, self.values))


class Invalid(str):
    """A validation message of Pydantic's, in English, which keeps its error type and context
    so that it can be said in Vietnamese too (app.core.locale_vi.VALIDATION)."""

    error_type: str
    context: Mapping[str, Any]

    def __new__(cls, english: str, error_type: str, context: Mapping[str, Any] | None) -> Invalid:
        self = super().__new__(cls, english)
        self.error_type = error_type
        self.context = dict(context or {})
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (Invalid, (str(self), self.error_type, self.context))


def validation_message(error: Mapping[str, Any]) -> str:
    """The message of one Pydantic error (an item of `ValidationError.errors()`): ours when a
    validator of ours raised it with tr(), else Pydantic's, either way sayable in Vietnamese."""
    context = error.get("ctx") or {}
    cause = context.get("error")
    if isinstance(cause, ValueError) and cause.args and isinstance(cause.args[0], Text):
        return cause.args[0]
    # Pydantic prefixes custom errors with "Value error, "; the field name already says where.
    english = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    return Invalid(english, str(error.get("type", "")), context)


def tr(template: str, /, **values: Any) -> Text:
    """A message for people; `template` is English with {named} placeholders and must be a
    literal (the catalog test finds templates by reading the source)."""
    return Text(template, values)


def _english(value: Any) -> Any:
    return str(value) if isinstance(value, Text) else value


def say(message: str, language: Language) -> str:
    """`message` in `language`: a Text is translated (and so are Text values inside it); any
    other str is said as it is."""
    if language != "en" and isinstance(message, Invalid):
        return validation_text(message.error_type, str(message), message.context, language)
    if language == "en" or not isinstance(message, Text):
        return str(message)
    template = locale_vi.MESSAGES.get(message.template, message.template)
    if not message.values:
        return template
    return template.format_map(
        {k: say(v, language) if isinstance(v, str) else v for k, v in message.values.items()}
    )


def title(status: int, english: str, language: Language) -> str:
    """The problem title (the HTTP status phrase) in `language`."""
    if language == "vi":
        return locale_vi.TITLES.get(status, english)
    return english


def validation_text(
    error_type: str, english: str, context: Mapping[str, Any] | None, language: Language
) -> str:
    """A Pydantic validation message in `language`, by the error's type and context."""
    if language == "en":
        return english
    template = locale_vi.VALIDATION.get(error_type)
    if template is None:
        return english
    values = {k: _plain(v) for k, v in (context or {}).items()}
    if isinstance(values.get("expected"), str):  # Pydantic's list of values: "'a', 'b' or 'c'"
        values["expected"] = values["expected"].replace("' or '", "' hoặc '")
    try:
        return template.format_map(values)
    except (KeyError, IndexError, ValueError):
        return english


def _plain(value: Any) -> Any:
    return value if isinstance(value, int | float | str) else str(value)


def negotiate(accept_language: str | None) -> Language:
    """The language for an answer, from an Accept-Language header (RFC 9110 §12.5.4): the
    listed language of highest weight that we speak; English when none is listed or spoken."""
    if not accept_language:
        return DEFAULT
    best: tuple[float, int, Language] | None = None
    for position, item in enumerate(accept_language.split(",")[:20]):
        tag, _, params = item.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if not 0.0 < weight <= 1.0:
            continue
        language: Language | None = "vi" if primary == "vi" else "en" if primary in {"en", "*"} else None
        if language is None:
            continue
        candidate = (weight, -position, language)
        if best is None or candidate > best:
            best = candidate
    return best[2] if best else DEFAULT
