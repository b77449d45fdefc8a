"""Job fixtures: a migrated database of each backend, and a store with a quick backoff."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store import BackoffPolicy, Cipher, Database, Store
from tests.store.databases import BACKENDS, temporary_database_url

QUICK_BACKOFF = BackoffPolicy(base_seconds=0.2, max_seconds=1.0, max_attempts=3)


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with temporary_database_url(str(request.param), tmp_path) as url:
        database = Database(url)
        await database.upgrade()
        await database.dispose()
        yield url


@pytest.fixture
def cipher() -> Cipher:
    return Cipher.from_setting(Cipher.generate_key())


@pytest.fixture
async def store(database_url: str, cipher: Cipher) -> AsyncIterator[Store]:
    database = Database(database_url)
    try:
        yield Store(database, cipher, backoff=QUICK_BACKOFF)
    finally:
        await database.dispose()


@pytest.fixture
async def other_store(database_url: str, cipher: Cipher) -> AsyncIterator[Store]:
    """Another engine on the same database, standing in for a second app process."""
    database = Database(database_url)
    try:
        yield Store(database, cipher, backoff=QUICK_BACKOFF)
    finally:
        await database.dispose()
