"""Issue 4 scenarios: connect, disconnect, status, help, uninstall, signatures — both transports, both databases."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from bot.postdicom.frames import MessageType
from bot.ui import connect as ui
from bot.ui.blocks import escape
from commands.connect import KEY_CHECK_BUDGET_SECONDS
from tests.app.harness import Scenario, eventually, scenario
from tests.postdicom.standin import (
    ACCOUNT_KEY,
    API_KEY,
    INSTITUTION_UUID,
    USER_UUID,
    GoldenStandIn,
    ReceivedFrame,
    golden_reply,
)

KEYS = {ui.API_KEY_BLOCK: {ui.KEY_ACTION: API_KEY}, ui.ACCOUNT_KEY_BLOCK: {ui.KEY_ACTION: ACCOUNT_KEY}}


async def connect(world: Scenario) -> None:
    """Run the whole connect flow as the admin."""
    admin = world.demo.admin
    await world.command(admin, "connect")
    keys_view = await world.modal(admin, ui.KEYS_CALLBACK)
    await world.submit(keys_view, KEYS)
    account_view = await world.modal(admin, ui.ACCOUNT_CALLBACK)
    await world.submit(
        account_view,
        {
            ui.USER_BLOCK: {ui.SELECT_ACTION: USER_UUID},
            ui.INSTITUTION_BLOCK: {ui.SELECT_ACTION: INSTITUTION_UUID},
        },
    )
    await world.ephemeral(admin, "PostDICOM is connected")


async def test_an_admin_connects_with_good_keys(world: Scenario) -> None:
    await connect(world)
    connection = await world.app.services.store.connections.get(world.workspace)
    assert connection is not None
    assert connection.api_key.get_secret_value() == API_KEY
    assert connection.acting_user_uuid == USER_UUID
    assert connection.default_institution_uuid == INSTITUTION_UUID
    assert connection.connected_by == world.demo.admin.id
    assert not world.slack.state.open_views(world.demo.admin)
    audit = await world.app.services.store.audit.recent(world.workspace)
    assert [entry.action for entry in audit] == ["workspace.connect_user", "workspace.connect"]


async def test_keys_that_are_not_keys_are_field_errors(world: Scenario) -> None:
    admin = world.demo.admin
    await world.command(admin, "connect")
    keys_view = await world.modal(admin, ui.KEYS_CALLBACK)
    bad = {
        ui.API_KEY_BLOCK: {ui.KEY_ACTION: "my-password"},
        ui.ACCOUNT_KEY_BLOCK: {ui.KEY_ACTION: ACCOUNT_KEY},
    }
    await world.submit(keys_view, bad)
    errors = await eventually(lambda: world.slack.state.open_views(admin)[-1].definition.get("errors"))
    assert list(errors) == [ui.API_KEY_BLOCK]
    assert await world.app.services.store.connections.get(world.workspace) is None


async def test_keys_postdicom_refuses_are_field_errors(world: Scenario, standin: GoldenStandIn) -> None:
    async def refuse(received: ReceivedFrame) -> dict[str, Any]:
        if received.frame.message_type == MessageType.SESSION_MANAGEMENT_REQUEST:
            return {"ResponseCode": 0, "ResponseMessage": "Invalid api key."}
        return golden_reply(received)

    standin.responder = refuse
    admin = world.demo.admin
    await world.command(admin, "connect")
    await world.submit(await world.modal(admin, ui.KEYS_CALLBACK), KEYS)
    errors = await eventually(lambda: world.slack.state.open_views(admin)[-1].definition.get("errors"))
    assert "did not accept these keys" in errors[ui.API_KEY_BLOCK]
    assert await world.app.services.store.connections.get(world.workspace) is None


async def test_a_slow_postdicom_gets_an_interim_view_then_the_verdict(
    tmp_path: Path, standin: GoldenStandIn
) -> None:
    async def slow(received: ReceivedFrame) -> dict[str, Any]:
        if received.frame.message_type == MessageType.SESSION_MANAGEMENT_REQUEST:
            await asyncio.sleep(KEY_CHECK_BUDGET_SECONDS + 0.5)
        return golden_reply(received)

    standin.responder = slow
    async with scenario(tmp_path, postdicom_router_url=standin.router_url) as world:
        admin = world.demo.admin
        await world.command(admin, "connect")
        await world.submit(await world.modal(admin, ui.KEYS_CALLBACK), KEYS)
        assert "Checking the keys" in json.dumps(world.slack.state.open_views(admin)[-1].definition)
        await world.modal(admin, ui.ACCOUNT_CALLBACK, within=KEY_CHECK_BUDGET_SECONDS + 5)


async def test_a_member_may_not_connect(world: Scenario) -> None:
    await world.command(world.demo.member, "connect")
    await world.ephemeral(world.demo.member, "Only workspace admins and owners can connect")
    assert world.slack.calls.count("views.open") == 0


async def test_status_before_and_after_connecting(world: Scenario) -> None:
    await world.command(world.demo.member, "status")
    await world.ephemeral(world.demo.member, "not connected")
    await connect(world)
    await world.command(world.demo.member, "status")
    message = await world.ephemeral(world.demo.member, "PostDICOM: connected")
    rendered = json.dumps(message.blocks)
    assert "Ada Radiologist" in rendered
    assert "round trip" in rendered
    assert API_KEY not in rendered


async def test_disconnect_deletes_the_keys(world: Scenario) -> None:
    await connect(world)
    await world.command(world.demo.member, "disconnect")
    await world.ephemeral(world.demo.member, "Only workspace admins and owners can disconnect")
    await world.command(world.demo.owner, "disconnect")
    await world.ephemeral(world.demo.owner, "PostDICOM is disconnected")
    assert await world.app.services.store.connections.get(world.workspace) is None
    assert len(world.app.services.postdicom) == 0


async def test_help_lists_every_subcommand_with_an_example(world: Scenario) -> None:
    await world.command(world.demo.member, "help")
    message = await world.ephemeral(world.demo.member, "pacsbot: PostDICOM in Slack")
    rendered = "\n".join(block["text"]["text"] for block in message.blocks if "text" in block)
    for subcommand in world.app.app.router.subcommands():
        assert f"/pacs {escape(subcommand.usage)}" in rendered
        assert all(escape(example) in rendered for example in subcommand.examples)


async def test_uninstall_forgets_the_workspace(world: Scenario) -> None:
    await connect(world)
    await world.event({"type": "app_uninstalled"})
    await eventually(lambda: len(world.app.services.postdicom) == 0)
    for _ in range(250):
        if await world.app.services.store.connections.get(world.workspace) is None:
            break
        await asyncio.sleep(0.02)
    assert await world.app.services.store.connections.get(world.workspace) is None


async def test_app_home_says_whether_the_workspace_is_connected(world: Scenario) -> None:
    await world.event(
        {"type": "app_home_opened", "user": world.demo.member.id, "tab": "home", "channel": "D1"}
    )
    home = await eventually(lambda: [v for v in world.slack.state.views.values() if v.type == "home"])
    assert "not connected" in json.dumps(home[-1].definition)
