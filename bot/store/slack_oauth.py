"""Slack OAuth persistence on the store's engine: installations with encrypted tokens, one-time states.

``EncryptedInstallationStore`` implements slack_sdk's ``AsyncInstallationStore`` by wrapping its
``AsyncSQLAlchemyInstallationStore``: tokens are encrypted before they are saved and decrypted
after they are found, so the tables never hold a usable token. It wraps rather than subclasses
because the SQLAlchemy store's ``async_save`` calls ``self.async_save_bot``, which a subclass
override would make encrypt a second time.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from logging import Logger
from typing import TypeVar

from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy import MetaData, Table

from bot.store.crypto import Cipher
from bot.store.database import Database
from bot.store.schema import (
    SLACK_BOTS_TABLE,
    SLACK_INSTALLATIONS_TABLE,
    SLACK_OAUTH_STATES_TABLE,
    SLACK_TOKEN_COLUMNS,
    widen_token_columns,
)

DEFAULT_STATE_EXPIRATION_SECONDS = 600
_logger = logging.getLogger(__name__)

_Credentials = TypeVar("_Credentials", Installation, Bot)


class _WideTokenSQLAlchemyStore(AsyncSQLAlchemyInstallationStore):
    """slack_sdk's store, on tables whose token columns fit a Fernet token (as the migrations create them)."""

    @classmethod
    def build_installations_table(cls, metadata: MetaData, table_name: str) -> Table:
        """Build slack_sdk's installations table with wide token columns."""
        return widen_token_columns(super().build_installations_table(metadata, table_name))

    @classmethod
    def build_bots_table(cls, metadata: MetaData, table_name: str) -> Table:
        """Build slack_sdk's bots table with wide token columns."""
        return widen_token_columns(super().build_bots_table(metadata, table_name))


class EncryptedInstallationStore(AsyncInstallationStore):
    """Slack installations and bots in the database, every token encrypted with the store's cipher."""

    def __init__(
        self, database: Database, cipher: Cipher, *, client_id: str, logger: Logger = _logger
    ) -> None:
        self._cipher = cipher
        self._logger = logger
        self._tables = _WideTokenSQLAlchemyStore(
            client_id=client_id,
            engine=database.engine,
            bots_table_name=SLACK_BOTS_TABLE,
            installations_table_name=SLACK_INSTALLATIONS_TABLE,
            logger=logger,
        )

    @property
    def logger(self) -> Logger:
        """Return the logger slack_sdk and Bolt expect every store to have."""
        return self._logger

    async def async_save(self, installation: Installation) -> None:
        """Save an installation (and its bot) with encrypted tokens."""
        await self._tables.async_save(self._with_tokens(installation, self._cipher.encrypt_text))

    async def async_save_bot(self, bot: Bot) -> None:
        """Save a bot installation with an encrypted token."""
        await self._tables.async_save_bot(self._with_tokens(bot, self._cipher.encrypt_text))

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        """Find the workspace's newest bot installation, tokens decrypted."""
        bot = await self._tables.async_find_bot(
            enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=is_enterprise_install
        )
        return None if bot is None else self._with_tokens(bot, self._cipher.decrypt_text)

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        """Find the workspace's (or user's) newest installation, tokens decrypted."""
        installation = await self._tables.async_find_installation(
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
            is_enterprise_install=is_enterprise_install,
        )
        return None if installation is None else self._with_tokens(installation, self._cipher.decrypt_text)

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """Delete the workspace's bot installations."""
        await self._tables.async_delete_bot(enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        """Delete the workspace's installations, or one user's."""
        await self._tables.async_delete_installation(
            enterprise_id=enterprise_id, team_id=team_id, user_id=user_id
        )

    @staticmethod
    def _with_tokens(credentials: _Credentials, transform: Callable[[str], str]) -> _Credentials:
        # A copy: the caller's Installation keeps its plaintext tokens (Bolt goes on using it).
        result = copy.copy(credentials)
        for name in SLACK_TOKEN_COLUMNS:
            value = getattr(result, name, None)
            if value is not None:
                setattr(result, name, transform(value))
        return result


class OneTimeOAuthStateStore(AsyncSQLAlchemyOAuthStateStore):
    """slack_sdk's SQLAlchemy state store, with a consume that only one caller can win.

    The original selects the state and then deletes it; on PostgreSQL two concurrent redirects
    with the same state could both pass the select. Here consume is a single DELETE … RETURNING.
    """

    def __init__(
        self, database: Database, *, expiration_seconds: int = DEFAULT_STATE_EXPIRATION_SECONDS
    ) -> None:
        super().__init__(
            expiration_seconds=expiration_seconds,
            engine=database.engine,
            logger=_logger,
            table_name=SLACK_OAUTH_STATES_TABLE,
        )

    async def async_consume(self, state: str) -> bool:
        """Delete the state if it exists and has not expired; return whether it did."""
        # slack_sdk stores naive UTC timestamps in this table.
        now = datetime.now(UTC).replace(tzinfo=None)
        column = self.oauth_states.c
        statement = (
            self.oauth_states.delete()
            .where(column.state == state, column.expire_at > now)
            .returning(column.id)
        )
        async with self.engine.begin() as connection:
            consumed = (await connection.execute(statement)).first() is not None
            # Nothing else ever removes abandoned states.
            await connection.execute(self.oauth_states.delete().where(column.expire_at <= now))
        if not consumed:
            self.logger.info("OAuth state was unknown, expired or already used")
        return consumed
