"""The app answers, and an empty list has the documented shape."""

import httpx


async def test_ready_and_empty_list(client: httpx.AsyncClient) -> None:
    ready = await client.get("/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ready"
    listing = await client.get("/api/v1/villages")
    assert listing.status_code == 200
    assert listing.json() == {"items": [], "total": 0, "limit": 50, "offset": 0, "next": None}


async def test_not_ready_is_a_problem_naming_the_migrations(client: httpx.AsyncClient) -> None:
    app = client._transport.app  # type: ignore[attr-defined]
    expected = app.state.migration_head
    app.state.migration_head = "9999"
    try:
        response = await client.get("/ready")
    finally:
        app.state.migration_head = expected
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "1"
    body = response.json()
    assert body["status"] == 503
    assert body["expected_migration"] == "9999"
    assert body["migration"] == expected
