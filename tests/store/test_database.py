"""Database: migrations from empty, readiness, SQLite pragmas, URLs, timestamps, the ``pacsbot db`` CLI."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from importlib.resources import files
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from setuptools import find_packages
from sqlalchemy import Connection, insert, inspect, select, text

from bot.cli import main
from bot.store import Cipher, Database, DatabaseURLError, parse_database_url
from bot.store.database import migrate
from bot.store.schema import Base, UserLinkRow

EXPECTED_TABLES = {
    "alembic_version",
    "audit_log",
    "channel_settings",
    "interaction_claims",
    "postdicom_connections",
    "slack_bots",
    "slack_installations",
    "slack_oauth_states",
    "upload_job_sent_instances",
    "subscriptions",
    "subscription_filters",
    "subscription_orders",
    "subscription_events",
    "subscription_leases",
    "created_links",
    "upload_jobs",
    "user_links",
    "workspace_settings",
}


def _schema_differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_migrations_build_the_whole_schema_from_an_empty_database(database_url: str) -> None:
    database = Database(database_url)
    try:
        assert await database.current_revision() is None
        await database.upgrade()
        assert await database.current_revision() == Database.head_revision()
        async with database.engine.connect() as connection:
            tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
            differences = await connection.run_sync(_schema_differences)
        assert tables == EXPECTED_TABLES
        # The models and the migrations describe the same schema, types and indexes included.
        assert differences == []
    finally:
        await database.dispose()


async def test_upgrading_twice_changes_nothing(database: Database) -> None:
    await database.upgrade()
    assert await database.current_revision() == Database.head_revision()


async def test_ping_answers_for_a_reachable_database(database: Database) -> None:
    assert await database.ping()


async def test_ping_is_false_when_the_server_is_unreachable() -> None:
    async with Database("postgresql+asyncpg://nobody:secret@127.0.0.1:1/none") as database:
        assert not await database.ping()


async def test_database_works_as_an_async_context_manager(database_url: str) -> None:
    async with Database(database_url) as database:
        await database.upgrade()
        assert await database.ping()


async def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    async with (
        Database(f"sqlite:///{tmp_path / 'pragmas.db'}") as database,
        database.engine.connect() as connection,
    ):
        journal = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar()
        foreign_keys = (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar()
        busy_timeout = (await connection.exec_driver_sql("PRAGMA busy_timeout")).scalar()
    assert (journal, foreign_keys) == ("wal", 1)
    assert busy_timeout >= 1000


async def test_timestamps_come_back_as_aware_utc_whatever_zone_went_in(database: Database) -> None:
    tokyo = timezone(timedelta(hours=9))
    written = datetime(2026, 11, 2, 18, 30, 15, 123456, tzinfo=tokyo)
    async with database.transaction() as session:
        await session.execute(
            insert(UserLinkRow).values(
                workspace_key="-:T1", slack_user_id="U1", postdicom_user_uuid="x", linked_at=written
            )
        )
    async with database.transaction() as session:
        read = await session.scalar(select(UserLinkRow.linked_at))
    assert read == written
    assert read is not None
    assert read.tzinfo is UTC


async def test_naive_timestamps_are_refused(database: Database) -> None:
    with pytest.raises(Exception, match="naive datetimes"):
        async with database.transaction() as session:
            await session.execute(
                insert(UserLinkRow).values(
                    workspace_key="-:T1",
                    slack_user_id="U1",
                    postdicom_user_uuid="x",
                    linked_at=datetime(2026, 1, 1),
                )
            )


async def test_a_failed_transaction_rolls_back(database: Database) -> None:
    async def delete_then_fail() -> None:
        async with database.transaction() as session:
            await session.execute(text("DELETE FROM alembic_version"))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await delete_then_fail()
    assert await database.current_revision() == Database.head_revision()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///./pacsbot.db", "sqlite+aiosqlite:///./pacsbot.db"),
        ("sqlite+aiosqlite:///./pacsbot.db", "sqlite+aiosqlite:///./pacsbot.db"),
        ("postgres://u:p@h/db", "postgresql+asyncpg://u:p@h/db"),
        ("postgresql://u:p@h:5433/db", "postgresql+asyncpg://u:p@h:5433/db"),
        ("postgresql+asyncpg://u:p@h/db", "postgresql+asyncpg://u:p@h/db"),
    ],
)
def test_plain_urls_get_the_async_driver(given: str, expected: str) -> None:
    assert parse_database_url(given).render_as_string(hide_password=False) == expected


@pytest.mark.parametrize(
    "url", ["mysql://u:hunter2@h/db", "postgresql+psycopg2://u:hunter2@h/db", "::not a url::"]
)
def test_unsupported_urls_are_refused_without_showing_the_password(url: str) -> None:
    with pytest.raises(DatabaseURLError) as raised:
        Database(url)
    assert "hunter2" not in str(raised.value)
    assert "sqlite+aiosqlite" in str(raised.value)


def test_repr_and_safe_url_hide_the_password() -> None:
    database = Database("postgresql+asyncpg://pacsbot:hunter2@db.example:5432/pacsbot")
    assert "hunter2" not in repr(database)
    assert "hunter2" not in database.safe_url


def test_migrations_ship_inside_the_package() -> None:
    migrations = files("bot.store") / "migrations"
    assert (migrations / "env.py").is_file()
    assert any(entry.name.endswith("_initial.py") for entry in (migrations / "versions").iterdir())
    # pyproject's package discovery finds them, so a wheel carries them.
    packages = find_packages(where=str(files("bot").joinpath("..")), include=["bot*"])
    assert {"bot.store.migrations", "bot.store.migrations.versions"} <= set(packages)


async def test_pacsbot_db_upgrade_migrates_and_reports(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # The CLI runs its own event loop, so it runs in a worker thread here.
    exit_code = await asyncio.to_thread(main, ["db", "upgrade", "--database-url", database_url])
    assert exit_code == 0
    assert f"revision {Database.head_revision()}" in capsys.readouterr().out
    exit_code = await asyncio.to_thread(main, ["db", "current", "--database-url", database_url])
    assert exit_code == 0
    assert "up to date" in capsys.readouterr().out
    async with Database(database_url) as database:
        assert await database.current_revision() == Database.head_revision()


def test_pacsbot_db_current_reports_an_unreachable_database(capsys: pytest.CaptureFixture[str]) -> None:
    exit_code = main(["db", "current", "--database-url", "postgresql://nobody:hunter2@127.0.0.1:1/none"])
    assert exit_code == 1
    error = capsys.readouterr().err
    assert "cannot reach" in error
    assert "hunter2" not in error


def test_pacsbot_db_generate_key_prints_a_usable_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "generate-key"]) == 0
    Cipher.from_setting(capsys.readouterr().out.strip())


def test_pacsbot_db_rotate_keys_refuses_a_malformed_key_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("PACSBOT_ENCRYPTION_KEY", "not-a-fernet-key-hunter2")
    exit_code = main(["db", "rotate-keys", "--database-url", f"sqlite:///{tmp_path}/x.db"])
    assert exit_code == 2
    error = capsys.readouterr().err
    # The settings check the key before the command runs, as they do for pacsbot run.
    assert "PACSBOT_ENCRYPTION_KEY holds a key that is not a Fernet key" in error
    assert "hunter2" not in error


async def test_sqlite_migrations_run_with_foreign_keys_off_so_table_copies_do_not_cascade(
    tmp_path: Path,
) -> None:
    url = parse_database_url(f"sqlite:///{tmp_path / 'migrate.db'}")
    seen: list[int] = []
    await migrate(
        url, lambda connection: seen.append(connection.exec_driver_sql("PRAGMA foreign_keys").scalar_one())
    )
    assert seen == [0]


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_sqlite_migration_that_breaks_a_foreign_key_is_rolled_back(database: Database) -> None:
    url = parse_database_url(str(database.engine.url))

    def orphan_a_row(connection: Connection) -> None:
        connection.exec_driver_sql(
            "INSERT INTO upload_job_sent_instances (job_id, sop_instance_uid, sent_at) "
            "VALUES ('no-such-job', '1.2.3', '2026-01-01 00:00:00')"
        )

    with pytest.raises(RuntimeError, match="foreign keys"):
        await migrate(url, orphan_a_row)
    async with database.transaction() as session:
        assert (
            await session.execute(text("SELECT count(*) FROM upload_job_sent_instances"))
        ).scalar_one() == 0
