"""Fixtures of the statistics tests: the sample data in a database of their own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from app.seed import load_sample_data
from tests.conftest import create_database, drop_database
from tests.stats.helpers import app_client


@pytest.fixture(scope="package")
def seeded_url(server_url: str, gazetteer_url: str) -> Iterator[str]:
    """A database of the statistics tests' own holding the gazetteer and the sample data (only read)."""
    url = create_database(server_url, prefix="cv_stats_seed", template=gazetteer_url)
    try:
        asyncio.run(load_sample_data(url, only_if_empty=False))
        yield url
    finally:
        drop_database(server_url, url)


@pytest.fixture(scope="package")
async def seeded(seeded_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an application on the seeded database; requests commit as in production."""
    async with app_client(seeded_url) as (_, client):
        yield client
