"""``Database``: the engine, its sessions, migrations and readiness, for SQLite or PostgreSQL."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib.resources import files
from types import TracebackType
from typing import Any, Self

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./pacsbot.db"
SQLITE_BUSY_TIMEOUT_MS = 10_000
PING_TIMEOUT_SECONDS = 5.0
_DRIVER_FOR_SCHEME = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}


class DatabaseURLError(ValueError):
    """The database URL is not one the store supports; the message never shows a password."""


def parse_database_url(url: str | URL) -> URL:
    """Parse a database URL, choosing the async driver for plain ``sqlite:`` and ``postgresql:`` URLs."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseURLError(
            "the database URL cannot be parsed; use sqlite+aiosqlite:///path/to/file.db "
            "or postgresql+asyncpg://user:password@host:5432/name"
        ) from None
    driver = _DRIVER_FOR_SCHEME.get(parsed.drivername)
    if driver is None:
        raise DatabaseURLError(
            f"unsupported database {parsed.drivername!r}; use sqlite+aiosqlite:///path/to/file.db "
            "or postgresql+asyncpg://user:password@host:5432/name"
        )
    return parsed.set(drivername=driver)


def _configure_sqlite(engine: AsyncEngine, *, foreign_keys: bool = True) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (below) instead of the sqlite3 module's legacy guessing.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Deleted rows (an uninstalled workspace's encrypted keys) are overwritten, not left in
        # free pages for anyone who copies the file.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # IMMEDIATE takes the write lock up front: a transaction that reads and then writes would
        # otherwise fail with SQLITE_BUSY, without waiting, when another writer got in between.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """One database: owns the async engine and hands out sessions and transactions."""

    def __init__(self, url: str | URL = DEFAULT_DATABASE_URL, *, echo: bool = False) -> None:
        self._url = parse_database_url(url)
        options: dict[str, Any] = {"echo": echo}
        if self._url.get_backend_name() == "postgresql":
            options["pool_pre_ping"] = True
        self._engine = create_async_engine(self._url, **options)
        if self.dialect == "sqlite":
            _configure_sqlite(self._engine)
        self._sessions = async_sessionmaker(self._engine, expire_on_commit=False, autoflush=False)

    @property
    def engine(self) -> AsyncEngine:
        """Return the async engine, for libraries that take one (slack_sdk's stores)."""
        return self._engine

    @property
    def dialect(self) -> str:
        """Return ``"sqlite"`` or ``"postgresql"``."""
        return self._url.get_backend_name()

    @property
    def safe_url(self) -> str:
        """Return the URL with its password hidden, for logs and messages."""
        return self._url.render_as_string(hide_password=True)

    def session(self) -> AsyncSession:
        """Return a new session; the caller owns its transaction."""
        return self._sessions()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """Open a session in a transaction that commits on success and rolls back on error."""
        async with self._sessions() as session, session.begin():
            yield session

    async def upgrade(self, revision: str = "head") -> None:
        """Migrate the schema up to ``revision`` (the newest by default)."""
        await migrate(self._url, functools.partial(_run_upgrade, revision=revision), engine=self._engine)

    async def current_revision(self) -> str | None:
        """Return the schema revision the database is at, or None before the first migration."""
        async with self._engine.connect() as connection:
            return await connection.run_sync(_current_revision)

    @staticmethod
    def head_revision() -> str | None:
        """Return the newest schema revision the package ships."""
        return ScriptDirectory.from_config(_alembic_config()).get_current_head()

    async def ping(self) -> bool:
        """Return whether the database answers a trivial query within ``PING_TIMEOUT_SECONDS``."""
        try:
            async with asyncio.timeout(PING_TIMEOUT_SECONDS), self._engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except (SQLAlchemyError, OSError, TimeoutError):
            return False
        return True

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self._engine.dispose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.dispose()

    def __repr__(self) -> str:
        return f"Database({self.safe_url!r})"


async def migrate(url: URL, run: Callable[[Connection], None], *, engine: AsyncEngine | None = None) -> None:
    """Run a migration step in one transaction; on SQLite, with foreign keys off and checked after."""
    # SQLite changes a table by copying it and dropping the original; with foreign keys on, that
    # drop would cascade into the rows that refer to it. Foreign keys cannot be switched inside a
    # transaction, so SQLite migrations get a connection of their own that never turned them on,
    # and the result is checked with ``foreign_key_check`` before it commits.
    is_sqlite = url.get_backend_name() == "sqlite"
    if not is_sqlite and engine is not None:
        migration_engine, owned = engine, False
    else:
        migration_engine, owned = create_async_engine(url, poolclass=NullPool), True
        if is_sqlite:
            _configure_sqlite(migration_engine, foreign_keys=False)
    try:
        async with migration_engine.begin() as connection:
            await connection.run_sync(run)
            if is_sqlite and (await connection.exec_driver_sql("PRAGMA foreign_key_check")).first():
                raise RuntimeError("the migration left rows whose foreign keys point nowhere; rolled back")
    finally:
        if owned:
            await migration_engine.dispose()


def _alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    # A filesystem path from the installed package, so a wheel's migrations are found too.
    config.set_main_option("script_location", str(files("bot.store") / "migrations"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _run_upgrade(connection: Connection, revision: str) -> None:
    command.upgrade(_alembic_config(connection), revision)


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()
