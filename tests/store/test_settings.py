"""Workspace and channel settings: defaults until saved, round trips, validation, isolation."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.store import (
    Audience,
    ChannelSettings,
    Permission,
    PhiDisplay,
    Store,
    UploadMode,
    WorkspaceRef,
    WorkspaceSettings,
)

WORKSPACE = WorkspaceRef(None, "T0001")
OTHER = WorkspaceRef(None, "T0002")


async def test_an_unconfigured_workspace_reads_as_the_defaults(store: Store) -> None:
    settings = await store.workspace_settings.get(WORKSPACE)
    assert settings == WorkspaceSettings()
    assert settings.default_share_expiry_days == 7
    assert settings.phi_display is PhiDisplay.INITIALS
    assert settings.email_share == Permission(audience=Audience.EVERYONE)
    assert settings.delete == Permission(audience=Audience.ADMINS)
    assert settings.allowed_channels == ()
    assert settings.cache_ttl_seconds is None
    assert settings.allows_channel("C_ANY")


async def test_saved_workspace_settings_read_back_equal(store: Store) -> None:
    chosen = WorkspaceSettings(
        phi_display=PhiDisplay.HIDDEN,
        default_share_expiry_days=30,
        email_share=Permission(audience=Audience.USERGROUP, usergroup_id="S0RADIOLOGY"),
        delete=Permission(audience=Audience.NOBODY),
        allowed_channels=("C0READING", "C0ER"),
        cache_ttl_seconds=120,
    )
    await store.workspace_settings.save(WORKSPACE, chosen)
    assert await store.workspace_settings.get(WORKSPACE) == chosen
    assert await store.workspace_settings.get(OTHER) == WorkspaceSettings()
    assert chosen.allows_channel("C0ER")
    assert not chosen.allows_channel("C0RANDOM")


async def test_saving_again_replaces_and_reset_restores_the_defaults(store: Store) -> None:
    await store.workspace_settings.save(WORKSPACE, WorkspaceSettings(phi_display=PhiDisplay.FULL))
    changed = (await store.workspace_settings.get(WORKSPACE)).model_copy(
        update={"default_share_expiry_days": 14}
    )
    await store.workspace_settings.save(WORKSPACE, changed)
    assert await store.workspace_settings.get(WORKSPACE) == WorkspaceSettings(
        phi_display=PhiDisplay.FULL, default_share_expiry_days=14
    )
    await store.workspace_settings.reset(WORKSPACE)
    assert await store.workspace_settings.get(WORKSPACE) == WorkspaceSettings()


@pytest.mark.parametrize(
    "bad",
    [
        {"default_share_expiry_days": 0},
        {"default_share_expiry_days": 100_000},
        {"cache_ttl_seconds": 0},
        {"phi_display": "everything"},
        {"unknown_field": True},
    ],
)
def test_invalid_workspace_settings_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        WorkspaceSettings.model_validate(bad)


@pytest.mark.parametrize(
    ("audience", "usergroup_id"),
    [(Audience.USERGROUP, None), (Audience.EVERYONE, "S0GROUP"), (Audience.ADMINS, "S0GROUP")],
)
def test_a_usergroup_goes_with_the_usergroup_audience_only(
    audience: Audience, usergroup_id: str | None
) -> None:
    with pytest.raises(ValidationError, match="usergroup_id"):
        Permission(audience=audience, usergroup_id=usergroup_id)


def test_settings_are_immutable_values() -> None:
    settings = WorkspaceSettings()
    with pytest.raises(ValidationError):
        settings.phi_display = PhiDisplay.FULL  # type: ignore[misc]


async def test_an_unconfigured_channel_asks_before_uploading(store: Store) -> None:
    settings = await store.channel_settings.get(WORKSPACE, "C0NEW")
    assert settings == ChannelSettings()
    assert settings.upload_mode is UploadMode.ASK
    assert (settings.target_folder_uuid, settings.target_folder_path, settings.anonymize_by_default) == (
        None,
        None,
        False,
    )
    assert await store.channel_settings.configured(WORKSPACE) == {}


async def test_channel_settings_round_trip_per_channel_and_workspace(store: Store) -> None:
    auto = ChannelSettings(
        upload_mode=UploadMode.AUTO, target_folder_path="Slack/ER", anonymize_by_default=True
    )
    off = ChannelSettings(upload_mode=UploadMode.OFF)
    await store.channel_settings.save(WORKSPACE, "C0ER", auto)
    await store.channel_settings.save(WORKSPACE, "C0CHAT", off)
    assert await store.channel_settings.get(WORKSPACE, "C0ER") == auto
    assert await store.channel_settings.get(OTHER, "C0ER") == ChannelSettings()
    assert await store.channel_settings.configured(WORKSPACE) == {"C0CHAT": off, "C0ER": auto}


async def test_the_folder_created_on_demand_is_remembered(store: Store) -> None:
    await store.channel_settings.save(WORKSPACE, "C0ER", ChannelSettings(target_folder_path="Slack/ER"))
    current = await store.channel_settings.get(WORKSPACE, "C0ER")
    folder_uuid = "acc0acc0-5678-4abc-9def-0123456789ab"
    await store.channel_settings.save(
        WORKSPACE, "C0ER", current.model_copy(update={"target_folder_uuid": folder_uuid})
    )
    saved = await store.channel_settings.get(WORKSPACE, "C0ER")
    assert (saved.target_folder_uuid, saved.target_folder_path) == (folder_uuid, "Slack/ER")
    await store.channel_settings.reset(WORKSPACE, "C0ER")
    assert await store.channel_settings.get(WORKSPACE, "C0ER") == ChannelSettings()
