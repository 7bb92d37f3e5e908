"""Posting files to the importer and reading its answers."""

from __future__ import annotations

from typing import Any

import httpx

from tests.factories import API, LEAKS, SQL_LEAK

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def csv_bytes(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


async def post_file(
    client: httpx.AsyncClient,
    resource: str,
    data: bytes,
    *,
    content_type: str = CSV,
    multipart: bool = False,
    name: str = "file.csv",
    headers: dict[str, str] | None = None,
    **params: Any,
) -> httpx.Response:
    query = {
        "resource": resource,
        **{k: str(v).lower() if isinstance(v, bool) else v for k, v in params.items()},
    }
    if multipart:
        return await client.post(
            f"{API}/imports", params=query, files={"file": (name, data, content_type)}, headers=headers
        )
    return await client.post(
        f"{API}/imports",
        params=query,
        content=data,
        headers={"Content-Type": content_type, **(headers or {})},
    )


def problems_of(response: httpx.Response, status: int = 422) -> dict[str, Any]:
    """An import's problem: problem+json, nothing of the internals, errors as row/column/value/message."""
    assert response.status_code == status, response.text[:3000]
    assert response.headers["content-type"] == "application/problem+json"
    lowered = response.text.lower()
    for leak in LEAKS:
        assert leak not in lowered, response.text
    assert SQL_LEAK not in response.text
    body: dict[str, Any] = response.json()
    for error in body.get("errors") or []:
        assert set(error) in ({"row", "column", "value", "message"}, {"field", "message", "location"}), error
    return body


def cells_of(body: dict[str, Any]) -> set[tuple[int, str]]:
    return {(e["row"], e["column"]) for e in body["errors"]}
