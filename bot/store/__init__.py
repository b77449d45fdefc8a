"""Persistence for pacsbot: SQLAlchemy 2 async on SQLite (default) or PostgreSQL.

Build a ``Database`` from a URL, ``await database.upgrade()`` to migrate, then a ``Store`` with a
``Cipher`` made from ``PACSBOT_ENCRYPTION_KEY``; its repositories hand out plain values, never ORM
rows. This package knows nothing of Slack listeners, commands or Block Kit.
"""

from bot.store.audit import AuditEntry, AuditLog, AuditOutcome
from bot.store.clock import Clock, utc_now
from bot.store.connections import ConnectionRepository, PostDicomConnection
from bot.store.crypto import Cipher, DecryptionError, EncryptionKeyError, Purpose, TokenRefused
from bot.store.database import DEFAULT_DATABASE_URL, Database, DatabaseURLError, parse_database_url
from bot.store.jobs import (
    BackoffPolicy,
    EnqueueResult,
    UploadJob,
    UploadJobRepository,
    UploadOptions,
    UploadState,
)
from bot.store.links import UserLink, UserLinkRepository
from bot.store.maintenance import delete_workspace, rotate_secrets
from bot.store.settings import (
    Audience,
    ChannelSettings,
    ChannelSettingsRepository,
    Permission,
    PhiDisplay,
    UploadMode,
    WorkspaceSettings,
    WorkspaceSettingsRepository,
)
from bot.store.slack_oauth import EncryptedInstallationStore, OneTimeOAuthStateStore
from bot.store.store import Store
from bot.store.workspace import WorkspaceRef

__all__ = [
    "DEFAULT_DATABASE_URL",
    "Audience",
    "AuditEntry",
    "AuditLog",
    "AuditOutcome",
    "BackoffPolicy",
    "ChannelSettings",
    "ChannelSettingsRepository",
    "Cipher",
    "Clock",
    "ConnectionRepository",
    "Database",
    "DatabaseURLError",
    "DecryptionError",
    "EncryptedInstallationStore",
    "EncryptionKeyError",
    "EnqueueResult",
    "OneTimeOAuthStateStore",
    "Permission",
    "PhiDisplay",
    "PostDicomConnection",
    "Purpose",
    "Store",
    "TokenRefused",
    "UploadJob",
    "UploadJobRepository",
    "UploadMode",
    "UploadOptions",
    "UploadState",
    "UserLink",
    "UserLinkRepository",
    "WorkspaceRef",
    "WorkspaceSettings",
    "WorkspaceSettingsRepository",
    "delete_workspace",
    "parse_database_url",
    "rotate_secrets",
    "utc_now",
]
