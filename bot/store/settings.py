"""What admins choose: workspace settings (``/pacs settings``) and channel settings (``/pacs channel``).

A workspace or channel that nobody configured reads as the defaults; nothing is written until an
admin saves.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import delete, select

from bot.store._sql import upsert
from bot.store.clock import Clock, utc_now
from bot.store.database import Database
from bot.store.schema import ChannelSettingsRow, WorkspaceSettingsRow
from bot.store.workspace import WorkspaceRef

DEFAULT_SHARE_EXPIRY_DAYS = 7
MAX_SHARE_EXPIRY_DAYS = 3650
MAX_CACHE_TTL_SECONDS = 86_400


class PhiDisplay(StrEnum):
    """How much of a patient's name the app shows in Slack."""

    FULL = "full"
    INITIALS = "initials"
    HIDDEN = "hidden"


class Audience(StrEnum):
    """Who may use a sensitive capability."""

    EVERYONE = "everyone"
    ADMINS = "admins"
    USERGROUP = "usergroup"
    NOBODY = "nobody"


class UploadMode(StrEnum):
    """What happens when DICOM is shared in a channel."""

    AUTO = "auto"
    ASK = "ask"
    OFF = "off"


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Permission(_Value):
    """Who may do something: everyone, admins, members of one Slack user group, or nobody."""

    audience: Audience
    usergroup_id: str | None = None

    @model_validator(mode="after")
    def _usergroup_only_for_usergroup(self) -> Self:
        if (self.audience is Audience.USERGROUP) != (self.usergroup_id is not None):
            raise ValueError("usergroup_id is required for the usergroup audience and only for it")
        return self


class WorkspaceSettings(_Value):
    """A workspace's choices, with the defaults a new workspace gets."""

    # Initials by default: a channel's members may not all be entitled to see full names.
    phi_display: PhiDisplay = PhiDisplay.INITIALS
    default_share_expiry_days: int = Field(DEFAULT_SHARE_EXPIRY_DAYS, ge=1, le=MAX_SHARE_EXPIRY_DAYS)
    email_share: Permission = Permission(audience=Audience.EVERYONE)
    delete: Permission = Permission(audience=Audience.ADMINS)
    # Empty means every channel the bot is in.
    allowed_channels: tuple[str, ...] = ()
    # None means the app's configured cache TTL.
    cache_ttl_seconds: int | None = Field(None, ge=1, le=MAX_CACHE_TTL_SECONDS)
    # The longest a share link may live; ``expires:`` cannot go beyond it.
    max_share_expiry_days: int = Field(MAX_SHARE_EXPIRY_DAYS, ge=1, le=MAX_SHARE_EXPIRY_DAYS)
    # (PostDICOM user group UUID, Slack channel id): where assignments to that group are announced.
    group_channels: tuple[tuple[str, str], ...] = ()

    @model_validator(mode="after")
    def _default_within_maximum(self) -> Self:
        if self.default_share_expiry_days > self.max_share_expiry_days:
            raise ValueError("the default share expiry cannot exceed the maximum")
        return self

    # Who may make a channel follow a search (``/pacs subscribe``).
    subscribe: Permission = Permission(audience=Audience.EVERYONE)

    def allows_channel(self, channel_id: str) -> bool:
        """Return whether the app may be used in this channel."""
        return not self.allowed_channels or channel_id in self.allowed_channels

    def channel_for_group(self, group_uuid: str) -> str | None:
        """Return the channel that hears of assignments to a PostDICOM user group, if admins set one."""
        return next((channel for group, channel in self.group_channels if group == group_uuid.lower()), None)

    def with_group_channel(self, group_uuid: str, channel_id: str | None) -> WorkspaceSettings:
        """Return settings where a user group's assignments go to a channel (or, with None, nowhere)."""
        kept = tuple(pair for pair in self.group_channels if pair[0] != group_uuid.lower())
        added = ((group_uuid.lower(), channel_id),) if channel_id else ()
        return self.model_copy(update={"group_channels": kept + added})


class ChannelSettings(_Value):
    """A channel's upload behaviour, with the defaults a new channel gets."""

    upload_mode: UploadMode = UploadMode.ASK
    target_folder_uuid: str | None = None
    target_folder_path: str | None = None
    anonymize_by_default: bool = False
    # A channel shared with another organisation (Slack Connect) that an admin allowed by name.
    external_allowed: bool = False


class WorkspaceSettingsRepository:
    """Read and write workspace settings."""

    def __init__(self, database: Database, *, clock: Clock = utc_now) -> None:
        self._database = database
        self._clock = clock

    async def get(self, workspace: WorkspaceRef) -> WorkspaceSettings:
        """Return the workspace's settings, or the defaults if none were saved."""
        async with self._database.transaction() as session:
            row = await session.get(WorkspaceSettingsRow, workspace.key)
            if row is None:
                return WorkspaceSettings()
            return WorkspaceSettings(
                phi_display=PhiDisplay(row.phi_display),
                default_share_expiry_days=row.default_share_expiry_days,
                email_share=Permission(
                    audience=Audience(row.email_share_audience), usergroup_id=row.email_share_usergroup_id
                ),
                delete=Permission(
                    audience=Audience(row.delete_audience), usergroup_id=row.delete_usergroup_id
                ),
                allowed_channels=tuple(row.allowed_channels),
                cache_ttl_seconds=row.cache_ttl_seconds,
                max_share_expiry_days=row.max_share_expiry_days or MAX_SHARE_EXPIRY_DAYS,
                group_channels=tuple(
                    (str(group), str(channel)) for group, channel in (row.group_channels or {}).items()
                ),
                subscribe=Permission(
                    audience=Audience(row.subscribe_audience), usergroup_id=row.subscribe_usergroup_id
                ),
            )

    async def save(self, workspace: WorkspaceRef, settings: WorkspaceSettings) -> None:
        """Store the workspace's settings, replacing earlier ones."""
        values = {
            "phi_display": settings.phi_display.value,
            "default_share_expiry_days": settings.default_share_expiry_days,
            "email_share_audience": settings.email_share.audience.value,
            "email_share_usergroup_id": settings.email_share.usergroup_id,
            "delete_audience": settings.delete.audience.value,
            "delete_usergroup_id": settings.delete.usergroup_id,
            "allowed_channels": list(settings.allowed_channels),
            "cache_ttl_seconds": settings.cache_ttl_seconds,
            "max_share_expiry_days": settings.max_share_expiry_days,
            "group_channels": dict(settings.group_channels),
            "subscribe_audience": settings.subscribe.audience.value,
            "subscribe_usergroup_id": settings.subscribe.usergroup_id,
            "updated_at": self._clock(),
        }
        statement = upsert(
            self._database.dialect,
            WorkspaceSettingsRow,
            {"workspace_key": workspace.key, **values},
            key=["workspace_key"],
            update=values,
        )
        async with self._database.transaction() as session:
            await session.execute(statement)

    async def reset(self, workspace: WorkspaceRef) -> None:
        """Return the workspace to the default settings."""
        async with self._database.transaction() as session:
            await session.execute(
                delete(WorkspaceSettingsRow).where(WorkspaceSettingsRow.workspace_key == workspace.key)
            )


class ChannelSettingsRepository:
    """Read and write per-channel upload settings."""

    def __init__(self, database: Database, *, clock: Clock = utc_now) -> None:
        self._database = database
        self._clock = clock

    async def get(self, workspace: WorkspaceRef, channel_id: str) -> ChannelSettings:
        """Return the channel's settings, or the defaults if none were saved."""
        async with self._database.transaction() as session:
            row = await session.get(ChannelSettingsRow, (workspace.key, channel_id))
            return ChannelSettings() if row is None else _channel_settings(row)

    async def configured(self, workspace: WorkspaceRef) -> dict[str, ChannelSettings]:
        """Return every configured channel of the workspace, by channel id."""
        async with self._database.transaction() as session:
            rows = await session.scalars(
                select(ChannelSettingsRow)
                .where(ChannelSettingsRow.workspace_key == workspace.key)
                .order_by(ChannelSettingsRow.channel_id)
            )
            return {row.channel_id: _channel_settings(row) for row in rows}

    async def save(self, workspace: WorkspaceRef, channel_id: str, settings: ChannelSettings) -> None:
        """Store the channel's settings, replacing earlier ones."""
        values = {
            "upload_mode": settings.upload_mode.value,
            "target_folder_uuid": settings.target_folder_uuid,
            "target_folder_path": settings.target_folder_path,
            "anonymize_by_default": settings.anonymize_by_default,
            "external_allowed": settings.external_allowed,
            "updated_at": self._clock(),
        }
        statement = upsert(
            self._database.dialect,
            ChannelSettingsRow,
            {"workspace_key": workspace.key, "channel_id": channel_id, **values},
            key=["workspace_key", "channel_id"],
            update=values,
        )
        async with self._database.transaction() as session:
            await session.execute(statement)

    async def reset(self, workspace: WorkspaceRef, channel_id: str) -> None:
        """Return the channel to the default settings."""
        async with self._database.transaction() as session:
            await session.execute(
                delete(ChannelSettingsRow).where(
                    ChannelSettingsRow.workspace_key == workspace.key,
                    ChannelSettingsRow.channel_id == channel_id,
                )
            )


def _channel_settings(row: ChannelSettingsRow) -> ChannelSettings:
    return ChannelSettings(
        upload_mode=UploadMode(row.upload_mode),
        target_folder_uuid=row.target_folder_uuid,
        target_folder_path=row.target_folder_path,
        anonymize_by_default=row.anonymize_by_default,
        external_allowed=bool(row.external_allowed),
    )
