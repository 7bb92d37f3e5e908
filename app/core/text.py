"""Text handling: Unicode NFC on input, refusal of what PostgreSQL cannot store, search terms."""

from __future__ import annotations

import unicodedata

from app.core.i18n import tr

_VOWELS = "aăâeêioôơuưy"
# Vietnamese dictionary order of the letters; f, j, w, z kept for foreign names.
_ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
# Tone order used by Vietnamese dictionaries: level, grave, hook, tilde, acute, dot below.
_TONES = ("", "\u0300", "\u0309", "\u0303", "\u0301", "\u0323")


def nfc(value: str) -> str:
    """Normalise to NFC and refuse characters PostgreSQL text cannot hold."""
    if "\x00" in value:
        raise ValueError(tr("must not contain NUL characters"))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(tr("must be valid Unicode (no lone surrogates)")) from None
    return unicodedata.normalize("NFC", value)


def search_terms(query: str) -> list[str]:
    """Split a search query into terms; accents are removed by the database, the same way as the data."""
    return [t for t in nfc(query).split() if t]


def like_escape(term: str) -> str:
    """Escape LIKE wildcards so that a term matches literally (backslash is the escape character)."""
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def sort_key_tables() -> tuple[str, str, str]:
    """The translate() tables of the SQL function vi_sort_key: source, primary and tone characters.

    Each Vietnamese letter, in either case and with any tone, maps to one character of a private
    ordered range (U+0100 onward) in alphabet order, and separately to a tone rank '0'..'5'.
    The migration that creates the function holds a frozen copy of this output.
    """
    src: list[str] = []
    primary: list[str] = []
    tone: list[str] = []
    for rank, letter in enumerate(_ALPHABET):
        for tone_rank, mark in enumerate(_TONES):
            if mark and letter not in _VOWELS:
                continue
            for cased in (letter, letter.upper()):
                char = unicodedata.normalize("NFC", cased + mark)
                if len(char) != 1:
                    continue
                src.append(char)
                primary.append(chr(0x100 + rank))
                tone.append(str(tone_rank))
    return "".join(src), "".join(primary), "".join(tone)
