"""``Store``: every repository of one database, built together, for the app to hold and pass around."""

from __future__ import annotations

from bot.store.audit import AuditLog
from bot.store.claims import InteractionClaims
from bot.store.clock import Clock, utc_now
from bot.store.connections import ConnectionRepository
from bot.store.created_links import CreatedLinkRepository
from bot.store.crypto import Cipher
from bot.store.database import Database
from bot.store.jobs import BackoffPolicy, UploadJobRepository
from bot.store.links import UserLinkRepository
from bot.store.maintenance import delete_workspace, rotate_secrets
from bot.store.settings import ChannelSettingsRepository, WorkspaceSettingsRepository
from bot.store.slack_oauth import (
    DEFAULT_STATE_EXPIRATION_SECONDS,
    EncryptedInstallationStore,
    OneTimeOAuthStateStore,
)
from bot.store.subscriptions import SubscriptionRepository
from bot.store.workspace import WorkspaceRef


class Store:
    """The repositories of one database, sharing its engine, cipher and clock.

    ``installations`` exists only when ``slack_client_id`` is given (OAuth distribution); a
    single-workspace app takes its bot token from the environment and stores no installation.
    The store does not own the database: whoever built the ``Database`` disposes of it.
    """

    def __init__(
        self,
        database: Database,
        cipher: Cipher,
        *,
        slack_client_id: str | None = None,
        oauth_state_expiration_seconds: int = DEFAULT_STATE_EXPIRATION_SECONDS,
        backoff: BackoffPolicy | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.database = database
        self.cipher = cipher
        self.connections = ConnectionRepository(database, cipher, clock=clock)
        self.workspace_settings = WorkspaceSettingsRepository(database, clock=clock)
        self.channel_settings = ChannelSettingsRepository(database, clock=clock)
        self.user_links = UserLinkRepository(database, clock=clock)
        self.audit = AuditLog(database, clock=clock)
        self.subscriptions = SubscriptionRepository(database, cipher, clock=clock)
        self.created_links = CreatedLinkRepository(database, cipher, clock=clock)
        self.claims = InteractionClaims(database, clock=clock)
        self.upload_jobs = UploadJobRepository(database, cipher, clock=clock, backoff=backoff)
        self.oauth_states = OneTimeOAuthStateStore(
            database, expiration_seconds=oauth_state_expiration_seconds
        )
        self.installations: EncryptedInstallationStore | None = (
            None
            if slack_client_id is None
            else EncryptedInstallationStore(database, cipher, client_id=slack_client_id)
        )

    async def delete_workspace(self, workspace: WorkspaceRef) -> None:
        """Forget a workspace that uninstalled the app or revoked its tokens (the audit log stays)."""
        await delete_workspace(self.database, workspace)
        if self.database.dialect == "sqlite":
            # The deleted pages' old versions stay in the write-ahead log until a checkpoint.
            # Outside any transaction (a checkpoint inside one cannot complete).
            async with self.database.engine.connect() as connection:
                driver = (await connection.get_raw_connection()).driver_connection
                if driver is not None:
                    await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    async def rotate_secrets(self) -> int:
        """Re-encrypt every stored secret with the first configured key; return how many changed."""
        return await rotate_secrets(self.database, self.cipher)
