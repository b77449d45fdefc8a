"""``pacsbot db …``: migrate the database, rotate the encryption key, make a new key.

The database URL comes from ``--database-url``, else the settings (``PACSBOT_DATABASE_URL``, else
the SQLite default). Encryption keys come only from the settings' ``PACSBOT_ENCRYPTION_KEY``: a key
on the command line would show in the process list and the shell history. Like the rest of the
app, these commands read the environment (and ``.env``) through :func:`bot.settings.load_settings`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.settings import Settings

DATABASE_URL_VARIABLE = "PACSBOT_DATABASE_URL"
ENCRYPTION_KEY_VARIABLE = "PACSBOT_ENCRYPTION_KEY"


def register(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Attach the ``db`` subcommand and its actions to the ``pacsbot`` parser."""
    database = subcommands.add_parser(
        "db", help="manage the database", description="Manage the pacsbot database."
    )
    actions = database.add_subparsers(dest="db_command", metavar="ACTION", required=True)

    upgrade = actions.add_parser("upgrade", help="migrate the schema to the newest revision")
    _add_database_url(upgrade)
    upgrade.add_argument("--revision", default="head", help="target revision (default: %(default)s)")
    upgrade.set_defaults(handler=_sync(_upgrade))

    current = actions.add_parser("current", help="show the schema revision the database is at")
    _add_database_url(current)
    current.set_defaults(handler=_sync(_current))

    rotate = actions.add_parser(
        "rotate-keys",
        help=f"re-encrypt every stored secret with the first key in {ENCRYPTION_KEY_VARIABLE}",
    )
    _add_database_url(rotate)
    rotate.set_defaults(handler=_sync(_rotate_keys))

    generate = actions.add_parser("generate-key", help=f"print a new key for {ENCRYPTION_KEY_VARIABLE}")
    generate.set_defaults(handler=_generate_key)


def _add_database_url(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        help=f"SQLAlchemy URL (default: ${DATABASE_URL_VARIABLE}, else sqlite+aiosqlite:///./pacsbot.db)",
    )


def _sync(
    action: Callable[[argparse.Namespace], Coroutine[Any, Any, int]],
) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from bot.settings import SettingsError
        from bot.store.crypto import EncryptionKeyError
        from bot.store.database import DatabaseURLError

        try:
            return asyncio.run(action(args))
        except (DatabaseURLError, EncryptionKeyError, SettingsError) as error:
            sys.stderr.write(f"pacsbot db: {error}\n")
            return 2

    return run


def _settings() -> Settings:
    from bot.settings import load_settings

    return load_settings()


def _database_url(args: argparse.Namespace) -> str:
    # The settings are read only when they are needed, so that --database-url works whatever
    # else the environment holds.
    url: str = args.database_url or _settings().database_url
    return url


async def _upgrade(args: argparse.Namespace) -> int:
    from bot.store.database import Database

    async with Database(_database_url(args)) as database:
        if not await database.ping():
            sys.stderr.write(f"pacsbot db: cannot reach {database.safe_url}\n")
            return 1
        await database.upgrade(args.revision)
        sys.stdout.write(f"{database.safe_url} is at revision {await database.current_revision()}\n")
    return 0


async def _current(args: argparse.Namespace) -> int:
    from bot.store.database import Database

    async with Database(_database_url(args)) as database:
        if not await database.ping():
            sys.stderr.write(f"pacsbot db: cannot reach {database.safe_url}\n")
            return 1
        current = await database.current_revision()
        head = Database.head_revision()
        state = "up to date" if current == head else f"behind {head}: run `pacsbot db upgrade`"
        sys.stdout.write(f"{database.safe_url} is at revision {current or '(empty)'} ({state})\n")
    return 0


async def _rotate_keys(args: argparse.Namespace) -> int:
    from bot.store.crypto import Cipher
    from bot.store.database import Database
    from bot.store.maintenance import rotate_secrets

    key = _settings().encryption_key
    cipher = Cipher.from_setting(key.get_secret_value() if key is not None else "")
    async with Database(_database_url(args)) as database:
        rotated = await rotate_secrets(database, cipher)
    sys.stdout.write(
        f"re-encrypted {rotated} stored secrets with the first key; "
        f"the other {cipher.key_count - 1} key(s) can now be removed from {ENCRYPTION_KEY_VARIABLE}\n"
    )
    return 0


def _generate_key(_args: argparse.Namespace) -> int:
    from bot.store.crypto import Cipher

    sys.stdout.write(f"{Cipher.generate_key()}\n")
    return 0
