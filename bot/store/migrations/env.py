"""Alembic environment: runs on the connection ``Database.upgrade`` hands over, or on its own.

``Database.upgrade`` opens an async connection and calls Alembic inside ``run_sync``, passing the
sync facade through ``config.attributes["connection"]``. Run by the ``alembic`` command instead
(``alembic -c bot/store/alembic.ini …``), it builds an async engine from ``sqlalchemy.url``.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection

from bot.store.database import migrate, parse_database_url
from bot.store.schema import Base

target_metadata = Base.metadata


def run_migrations_on(connection: Connection) -> None:
    """Run the migrations on an open connection."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite alters tables by copying them; batch mode lets later migrations do that portably.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline(url: str) -> None:
    """Write the migrations as SQL instead of running them."""
    context.configure(
        url=parse_database_url(url).render_as_string(hide_password=False),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    """Pick how to run, from what the caller gave Alembic."""
    shared_connection = context.config.attributes.get("connection")
    if shared_connection is not None:
        run_migrations_on(shared_connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set sqlalchemy.url (alembic -x is not read) or run `pacsbot db upgrade`")
    if context.is_offline_mode():
        run_migrations_offline(url)
    else:
        asyncio.run(migrate(parse_database_url(url), run_migrations_on))


main()
