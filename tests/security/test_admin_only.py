"""What only workspace admins may do: connect PostDICOM, change settings, disconnect, set a channel's
uploads. A member is refused with words, whether they type the command or submit a form an admin
opened, and nothing changes."""

from __future__ import annotations

import pytest

from bot.sandbox.postdicom import PostDicomEmulator
from bot.store import PhiDisplay, UploadMode
from bot.ui import connect as connect_ui
from bot.ui import settings as settings_ui
from tests.app.harness import Scenario

OTHER_KEYS = {
    connect_ui.API_KEY_BLOCK: {connect_ui.KEY_ACTION: "0a0a0a0a-2222-4abc-8def-0123456789ab"},
    connect_ui.ACCOUNT_KEY_BLOCK: {connect_ui.KEY_ACTION: "0cc0ffee-1111-4abc-9def-0123456789ab"},
}


@pytest.mark.parametrize(
    ("text", "refusal"),
    [
        ("connect", "Only workspace admins and owners can connect"),
        ("settings", "Only workspace admins and owners can change this workspace's settings"),
        ("disconnect", "Only workspace admins and owners can disconnect"),
        ("channel auto", "Only workspace admins and owners can change what happens to files"),
    ],
)
async def test_a_member_typing_an_admin_command_is_refused_and_nothing_changes(
    world: Scenario, text: str, refusal: str
) -> None:
    store = world.app.services.store
    before = await store.connections.get(world.workspace)
    await world.command(world.demo.member, text)
    await world.ephemeral(world.demo.member, refusal)
    assert world.slack.calls.count("views.open") == 0
    assert not world.slack.state.open_views(world.demo.member)
    after = await store.connections.get(world.workspace)
    assert after is not None
    assert before is not None
    assert after.version == before.version
    channel = await store.channel_settings.get(world.workspace, world.demo.general.id)
    assert channel.upload_mode is not UploadMode.AUTO


async def test_a_member_submitting_the_connect_form_an_admin_opened_is_refused(
    world: Scenario, emulator: PostDicomEmulator
) -> None:
    store = world.app.services.store
    before = await store.connections.get(world.workspace)
    assert before is not None
    await world.command(world.demo.admin, "connect")
    keys = await world.modal(world.demo.admin, connect_ui.KEYS_CALLBACK)
    sessions = emulator.stats.http.get("region:7", 0)

    await world.submit(keys, OTHER_KEYS, user=world.demo.member)

    assert "Only workspace admins and owners can connect" in str(keys.definition.get("errors"))
    # The keys were not even tried, and the workspace keeps its own.
    assert emulator.stats.http.get("region:7", 0) == sessions
    after = await store.connections.get(world.workspace)
    assert after is not None
    assert after.account_key.get_secret_value() == before.account_key.get_secret_value()
    assert after.version == before.version


async def test_a_member_submitting_the_settings_form_an_admin_opened_is_refused(world: Scenario) -> None:
    store = world.app.services.store
    await world.command(world.demo.admin, "settings")
    form = await world.modal(world.demo.admin, settings_ui.SETTINGS_CALLBACK)
    before = await store.workspace_settings.get(world.workspace)
    assert before.phi_display is not PhiDisplay.FULL

    values = {block["block_id"]: {} for block in form.blocks if block.get("type") == "input"}
    await world.submit(form, values, user=world.demo.member)

    assert "Only workspace admins and owners" in str(form.definition.get("errors"))
    assert await store.workspace_settings.get(world.workspace) == before
