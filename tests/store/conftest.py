"""Store fixtures: every repository test runs once on SQLite and once on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.store import BackoffPolicy, Cipher, Database, Store
from tests.store.databases import (
    BACKENDS,
    postgres_unavailable_message,
    probe_postgres,
    temporary_database_url,
)

TEST_BACKOFF = BackoffPolicy(base_seconds=10, max_seconds=60, max_attempts=3)


class MutableClock:
    """A clock that stands still until a test moves it."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def database_url(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of an empty, unmigrated database of the parametrized backend."""
    async with temporary_database_url(backend, tmp_path) as url:
        yield url


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """A migrated database."""
    database = Database(database_url)
    await database.upgrade()
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
async def second_database(database: Database, database_url: str) -> AsyncIterator[Database]:
    """Another engine on the same database, standing in for a second app process."""
    other = Database(database_url)
    try:
        yield other
    finally:
        await other.dispose()


@pytest.fixture
def cipher() -> Cipher:
    return Cipher.from_setting(Cipher.generate_key())


@pytest.fixture
def clock() -> MutableClock:
    return MutableClock()


@pytest.fixture
def store(database: Database, cipher: Cipher, clock: MutableClock) -> Store:
    return Store(database, cipher, slack_client_id="1111.2222", backoff=TEST_BACKOFF, clock=clock)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Repeat, at the very end, that PostgreSQL was not tested, if it was not."""
    if probe_postgres.cache_info().currsize and not probe_postgres().available:
        terminalreporter.write_sep("!", postgres_unavailable_message(probe_postgres()), red=True, bold=True)


@pytest.fixture
def second_store(second_database: Database, cipher: Cipher, clock: MutableClock) -> Store:
    """A store on the second engine: what another app process sees."""
    return Store(second_database, cipher, slack_client_id="1111.2222", backoff=TEST_BACKOFF, clock=clock)
