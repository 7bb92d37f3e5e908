"""The OpenAPI document equals the reviewed snapshot in docs/openapi.json (`make openapi`)."""

from __future__ import annotations

import difflib
from pathlib import Path

from app.__main__ import openapi_text

SNAPSHOT = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"


def test_openapi_document_matches_the_committed_snapshot() -> None:
    current = openapi_text()
    committed = SNAPSHOT.read_text(encoding="utf-8")
    if current != committed:
        diff = "".join(
            list(
                difflib.unified_diff(
                    committed.splitlines(keepends=True),
                    current.splitlines(keepends=True),
                    "docs/openapi.json (committed)",
                    "the app's document",
                    n=2,
                )
            )[:80]
        )
        raise AssertionError(
            "the OpenAPI document changed; if the change is intended, run `make openapi` and commit "
            "docs/openapi.json with it\n" + diff
        )
