"""The app answers, and an empty list has the documented shape."""

import httpx


async def test_ready_and_empty_list(client: httpx.AsyncClient) -> None:
    ready = await client.get("/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ready"
    listing = await client.get("/api/v1/villages")
    assert listing.status_code == 200
    assert listing.json() == {"items": [], "total": 0, "limit": 50, "offset": 0}
