"""Throwaway test databases: a SQLite file, or a uniquely named PostgreSQL database that is dropped after.

Other test packages (the app's scenario tests) can reuse ``temporary_database_url``. PostgreSQL is
expected on 127.0.0.1:5432 with trust auth for ``postgres``; ``PACSBOT_TEST_POSTGRES_DSN`` points
elsewhere. When it cannot be reached, ``require_postgres`` fails the test under ``CI=true`` (CI must
never pass without having tested PostgreSQL) and skips it loudly otherwise.
"""

from __future__ import annotations

import asyncio
import functools
import os
import threading
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from tests.system_tools import unavailable

POSTGRES_ADMIN_DSN = os.environ.get(
    "PACSBOT_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = ("sqlite", "postgresql")


@dataclass(frozen=True)
class PostgresProbe:
    """Whether the test PostgreSQL server answered, and why not if it did not."""

    available: bool
    reason: str


@functools.cache
def probe_postgres() -> PostgresProbe:
    """Try the admin DSN once per test session."""
    outcome: list[PostgresProbe] = []

    async def probe() -> PostgresProbe:
        try:
            connection = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=5)
        except (OSError, asyncpg.PostgresError, TimeoutError) as error:
            return PostgresProbe(False, f"{type(error).__name__}: {error}")
        try:
            await connection.execute("SELECT 1")
        finally:
            await connection.close()
        return PostgresProbe(True, "")

    # A thread of its own: the calling test may already be inside a running event loop.
    thread = threading.Thread(target=lambda: outcome.append(asyncio.run(probe())))
    thread.start()
    thread.join()
    return outcome[0]


def postgres_unavailable_message(probe: PostgresProbe) -> str:
    """Return the loud explanation shown when PostgreSQL tests cannot run."""
    where = make_url(POSTGRES_ADMIN_DSN).render_as_string(hide_password=True)
    return (
        f"POSTGRESQL UNREACHABLE at {where} ({probe.reason}): the PostgreSQL half of the store tests "
        "did not run. Start it with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` "
        "or set PACSBOT_TEST_POSTGRES_DSN. Under CI=true this is a failure."
    )


def require_postgres() -> None:
    """Fail (under CI=true) or skip the current test when PostgreSQL cannot be reached."""
    probe = probe_postgres()
    if probe.available:
        return
    unavailable("PostgreSQL", postgres_unavailable_message(probe))


@asynccontextmanager
async def temporary_postgres_database() -> AsyncIterator[str]:
    """Create a uniquely named PostgreSQL database, yield its SQLAlchemy URL, then drop it."""
    name = f"pacsbot_test_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=5)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield (
            make_url(POSTGRES_ADMIN_DSN)
            .set(drivername="postgresql+asyncpg", database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        admin = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=5)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@asynccontextmanager
async def temporary_database_url(backend: str, directory: Path) -> AsyncIterator[str]:
    """Yield the URL of an empty database of ``backend`` that is removed afterwards."""
    if backend == "postgresql":
        require_postgres()
        async with temporary_postgres_database() as url:
            yield url
    elif backend == "sqlite":
        yield f"sqlite+aiosqlite:///{directory / 'pacsbot-test.db'}"
    else:
        raise ValueError(f"unknown test database backend {backend!r}")
