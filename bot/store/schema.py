"""The tables, as SQLAlchemy mappings. Private to ``bot.store``: repositories turn rows into values.

Every timestamp is an aware UTC datetime (``UtcDateTime``). Every per-workspace row carries the
``WorkspaceRef.key`` text, so one ``delete_workspace`` can find all of them. Secrets live only in
``*_encrypted`` columns, as Fernet tokens.

The migrations in ``bot/store/migrations`` create these tables; a test checks that both agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

WORKSPACE_KEY_LENGTH = 80
SLACK_ID_LENGTH = 32
UUID_LENGTH = 64
SLACK_INSTALLATIONS_TABLE = "slack_installations"
SLACK_BOTS_TABLE = "slack_bots"
SLACK_OAUTH_STATES_TABLE = "slack_oauth_states"
# The token columns slack_sdk stores; they hold Fernet tokens here, which outgrow its String(200).
SLACK_TOKEN_COLUMNS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")

AutoIncrementId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back as an aware UTC datetime.

    SQLite has no time zone type, so there the value is stored naive, already converted to UTC:
    its text form then sorts and compares correctly in SQL.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert an aware datetime to UTC for storage; refuse naive ones."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return the stored value as an aware UTC datetime."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with named constraints, so migrations can refer to them on every backend."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {datetime: UtcDateTime()}  # noqa: RUF012


class ConnectionRow(Base):
    """One PostDICOM account bound to one workspace."""

    __tablename__ = "postdicom_connections"

    workspace_key: Mapped[str] = mapped_column(String(WORKSPACE_KEY_LENGTH), primary_key=True)
    enterprise_id: Mapped[str | None] = mapped_column(String(SLACK_ID_LENGTH))
    team_id: Mapped[str | None] = mapped_column(String(SLACK_ID_LENGTH))
    is_enterprise_install: Mapped[bool] = mapped_column(Boolean)
    api_key_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    account_key_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    router_url: Mapped[str] = mapped_column(String(500))
    acting_user_uuid: Mapped[str | None] = mapped_column(String(UUID_LENGTH))
    default_institution_uuid: Mapped[str | None] = mapped_column(String(UUID_LENGTH))
    connected_by: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    connected_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer)


class WorkspaceSettingsRow(Base):
    """What a workspace admin chose in ``/pacs settings``; absent means every default."""

    __tablename__ = "workspace_settings"

    workspace_key: Mapped[str] = mapped_column(String(WORKSPACE_KEY_LENGTH), primary_key=True)
    phi_display: Mapped[str] = mapped_column(String(16))
    default_share_expiry_days: Mapped[int] = mapped_column(Integer)
    email_share_audience: Mapped[str] = mapped_column(String(16))
    email_share_usergroup_id: Mapped[str | None] = mapped_column(String(SLACK_ID_LENGTH))
    delete_audience: Mapped[str] = mapped_column(String(16))
    delete_usergroup_id: Mapped[str | None] = mapped_column(String(SLACK_ID_LENGTH))
    allowed_channels: Mapped[list[str]] = mapped_column(JSON)
    cache_ttl_seconds: Mapped[int | None] = mapped_column(Integer)
    max_share_expiry_days: Mapped[int | None] = mapped_column(Integer)
    group_channels: Mapped[dict[str, str] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime]
    subscribe_audience: Mapped[str] = mapped_column(String(16), server_default="everyone")
    subscribe_usergroup_id: Mapped[str | None] = mapped_column(String(SLACK_ID_LENGTH))


class ChannelSettingsRow(Base):
    """Upload behaviour for one channel (``/pacs channel``)."""

    __tablename__ = "channel_settings"

    workspace_key: Mapped[str] = mapped_column(String(WORKSPACE_KEY_LENGTH), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH), primary_key=True)
    upload_mode: Mapped[str] = mapped_column(String(8))
    target_folder_uuid: Mapped[str | None] = mapped_column(String(UUID_LENGTH))
    target_folder_path: Mapped[str | None] = mapped_column(String(500))
    anonymize_by_default: Mapped[bool] = mapped_column(Boolean)
    external_allowed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    updated_at: Mapped[datetime]


class UserLinkRow(Base):
    """A Slack user who said which PostDICOM user they are (``/pacs me``)."""

    __tablename__ = "user_links"
    __table_args__ = (Index(None, "workspace_key", "postdicom_user_uuid"),)

    workspace_key: Mapped[str] = mapped_column(String(WORKSPACE_KEY_LENGTH), primary_key=True)
    slack_user_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH), primary_key=True)
    postdicom_user_uuid: Mapped[str] = mapped_column(String(UUID_LENGTH))
    linked_at: Mapped[datetime]


class InteractionClaimRow(Base):
    """An interaction already acted on (a click, a submission): a replay finds its claim and does nothing."""

    __tablename__ = "interaction_claims"
    __table_args__ = (Index(None, "claimed_at"),)

    claim_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    claimed_at: Mapped[datetime]


class AuditRow(Base):
    """One thing someone did to PostDICOM through the app. Identifiers only: no patient data."""

    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "workspace_key", "id"),)

    id: Mapped[int] = mapped_column(AutoIncrementId, primary_key=True, autoincrement=True)
    workspace_key: Mapped[str] = mapped_column(String(WORKSPACE_KEY_LENGTH))
    slack_user_id: Mapped[str | None] = mapped_column(String(SLACK_ID_LENGTH))
    channel_id: Mapped[str | None] = mapped_column(String(SLACK_ID_LENGTH))
    action: Mapped[str] = mapped_column(String(64))
    order_uuids: Mapped[list[str]] = mapped_column(JSON)
    folder_uuids: Mapped[list[str]] = mapped_column(JSON)
    outcome: Mapped[str] = mapped_column(String(16))
    error_code: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]


class UploadJobRow(Base):
    """One Slack file on its way to PostDICOM; ``(workspace_key, slack_file_id)`` makes it happen once."""

    __tablename__ = "upload_jobs"
    __table_args__ = (
        UniqueConstraint("workspace_key", "slack_file_id"),
        Index(None, "state", "next_attempt_at"),
        Index(None, "state", "lease_expires_at"),
        Index(None, "share_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    workspace_key: Mapped[str] = mapped_column(String(WORKSPACE_KEY_LENGTH))
    enterprise_id: Mapped[str | None] = mapped_column(String(SLACK_ID_LENGTH))
    team_id: Mapped[str | None] = mapped_column(String(SLACK_ID_LENGTH))
    is_enterprise_install: Mapped[bool] = mapped_column(Boolean)
    slack_file_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime]
    channel_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    thread_ts: Mapped[str | None] = mapped_column(String(SLACK_ID_LENGTH))
    progress_message_ts: Mapped[str | None] = mapped_column(String(SLACK_ID_LENGTH))
    requested_by: Mapped[str | None] = mapped_column(String(SLACK_ID_LENGTH))
    anonymize: Mapped[bool] = mapped_column(Boolean)
    folder_uuid: Mapped[str | None] = mapped_column(String(UUID_LENGTH))
    folder_path: Mapped[str | None] = mapped_column(String(500))
    # Anonymization replacement values may themselves identify a patient, so they are encrypted.
    replacements_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    order_uuids: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    # The files of one share show in one Slack message: each job keeps its part of it (encrypted,
    # as it may name a patient), and whichever job changes renders the whole message again.
    share_id: Mapped[str | None] = mapped_column(String(36))
    share_index: Mapped[int | None] = mapped_column(Integer)
    display_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)


class SentInstanceRow(Base):
    """A SOP Instance UID a job has already sent, so a resumed job never sends it again."""

    __tablename__ = "upload_job_sent_instances"

    job_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("upload_jobs.id", ondelete="CASCADE"), primary_key=True
    )
    sop_instance_uid: Mapped[str] = mapped_column(String(64), primary_key=True)
    sent_at: Mapped[datetime]


class SubscriptionRow(Base):
    """A channel's standing search (``/pacs subscribe``): its filter, the events it wants, who made it."""

    __tablename__ = "subscriptions"
    __table_args__ = (Index(None, "workspace_key", "channel_id"), Index(None, "workspace_key", "filter_key"))

    id: Mapped[int] = mapped_column(AutoIncrementId, primary_key=True, autoincrement=True)
    workspace_key: Mapped[str] = mapped_column(String(WORKSPACE_KEY_LENGTH))
    enterprise_id: Mapped[str | None] = mapped_column(String(SLACK_ID_LENGTH))
    team_id: Mapped[str | None] = mapped_column(String(SLACK_ID_LENGTH))
    is_enterprise_install: Mapped[bool] = mapped_column(Boolean)
    channel_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    # The query may name a patient: stored encrypted, and grouped by a keyed fingerprint.
    query_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    filter_key: Mapped[str] = mapped_column(String(UUID_LENGTH))
    events: Mapped[list[str]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    created_at: Mapped[datetime]


class SubscriptionFilterRow(Base):
    """What one distinct filter of a workspace last saw; absent until its first poll (the baseline)."""

    __tablename__ = "subscription_filters"

    workspace_key: Mapped[str] = mapped_column(String(WORKSPACE_KEY_LENGTH), primary_key=True)
    filter_key: Mapped[str] = mapped_column(String(UUID_LENGTH), primary_key=True)
    polled_at: Mapped[datetime]


class SubscriptionOrderRow(Base):
    """The last state of one order a filter saw: what the next poll compares against."""

    __tablename__ = "subscription_orders"

    workspace_key: Mapped[str] = mapped_column(String(WORKSPACE_KEY_LENGTH), primary_key=True)
    filter_key: Mapped[str] = mapped_column(String(UUID_LENGTH), primary_key=True)
    order_uuid: Mapped[str] = mapped_column(String(UUID_LENGTH), primary_key=True)
    images_count: Mapped[int] = mapped_column(Integer)
    flags: Mapped[list[str]] = mapped_column(JSON)
    assignees: Mapped[list[str]] = mapped_column(JSON)
    seen_at: Mapped[datetime]


class SubscriptionEventRow(Base):
    """An event owed to one subscription's channel: written with the snapshot, deleted once posted."""

    __tablename__ = "subscription_events"
    __table_args__ = (Index(None, "workspace_key", "id"),)

    id: Mapped[int] = mapped_column(AutoIncrementId, primary_key=True, autoincrement=True)
    workspace_key: Mapped[str] = mapped_column(String(WORKSPACE_KEY_LENGTH))
    subscription_id: Mapped[int] = mapped_column(
        AutoIncrementId, ForeignKey("subscriptions.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(16))
    # The order as PostDICOM returned it (patient data): encrypted until the card is drawn.
    order_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]


class SubscriptionLeaseRow(Base):
    """Which replica polls a workspace's subscriptions, until when, and when it last did."""

    __tablename__ = "subscription_leases"

    workspace_key: Mapped[str] = mapped_column(String(WORKSPACE_KEY_LENGTH), primary_key=True)
    owner: Mapped[str | None] = mapped_column(String(200))
    expires_at: Mapped[datetime | None]
    polled_at: Mapped[datetime | None]


class CreatedLinkRow(Base):
    """A PostDICOM share link the app created, so a paste of it can be unfurled (by a keyed hash of the URL)."""

    __tablename__ = "created_links"

    workspace_key: Mapped[str] = mapped_column(String(WORKSPACE_KEY_LENGTH), primary_key=True)
    url_key: Mapped[str] = mapped_column(String(UUID_LENGTH), primary_key=True)
    order_uuid: Mapped[str] = mapped_column(String(UUID_LENGTH))
    institution_uuid: Mapped[str | None] = mapped_column(String(UUID_LENGTH))
    expires_on: Mapped[str] = mapped_column(String(10))
    can_download: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]


def widen_token_columns(table: Table) -> Table:
    """Give slack_sdk's token columns room for a Fernet token instead of the raw token."""
    for name in SLACK_TOKEN_COLUMNS:
        if name in table.c:
            table.c[name].type = Text()
    return table


# Slack's own tables, declared here so migrations and autogenerate see the whole schema.
slack_installations = widen_token_columns(
    SQLAlchemyInstallationStore.build_installations_table(Base.metadata, SLACK_INSTALLATIONS_TABLE)
)
slack_bots = widen_token_columns(
    SQLAlchemyInstallationStore.build_bots_table(Base.metadata, SLACK_BOTS_TABLE)
)
slack_oauth_states = SQLAlchemyOAuthStateStore.build_oauth_states_table(
    Base.metadata, SLACK_OAUTH_STATES_TABLE
)
# slack_sdk looks states up by value on every OAuth redirect.
Index("ix_slack_oauth_states_state", slack_oauth_states.c.state)
