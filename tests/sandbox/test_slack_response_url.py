"""response_url: replies recorded as messages, replace/delete of the original, use limits."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.sandbox.slack import RESPONSE_URL, DemoWorkspace, SlackStub
from tests.sandbox.fakes import FakeClock

SHARE_BUTTON = {
    "type": "actions",
    "block_id": "order-1",
    "elements": [
        {
            "type": "button",
            "action_id": "share_order",
            "text": {"type": "plain_text", "text": "Share"},
            "value": "order-uid-1",
        }
    ],
}


async def test_slash_command_replies_ephemeral_then_in_channel(
    slack: SlackStub, workspace: DemoWorkspace
) -> None:
    command = slack.payloads.slash_command(
        user=workspace.member, channel=workspace.general, text="search Doe"
    )
    webhook = AsyncWebhookClient(url=command.payload["response_url"], timeout=5)

    searching = await webhook.send(text="Searching…")
    shared = await webhook.send(text="Shared a viewer link", response_type="in_channel")

    assert (searching.status_code, searching.body) == (200, "ok")
    assert shared.status_code == 200
    [ephemeral] = slack.state.ephemeral_for(workspace.member, channel=workspace.general)
    assert (ephemeral.text, ephemeral.source) == ("Searching…", "response_url")
    [message] = slack.state.channel_history(workspace.general)
    assert (message.text, message.user_id) == ("Shared a viewer link", workspace.bot.id)
    assert slack.calls.count(RESPONSE_URL) == 2


async def test_replace_original_of_a_slash_command_reply(slack: SlackStub, workspace: DemoWorkspace) -> None:
    command = slack.payloads.slash_command(user=workspace.member, channel=workspace.general)
    webhook = AsyncWebhookClient(url=command.payload["response_url"], timeout=5)

    await webhook.send(text="Uploading 1/3")
    await webhook.send(text="Uploaded 3/3", replace_original=True)

    assert [m.text for m in slack.state.ephemeral_for(workspace.member)] == ["Uploaded 3/3"]


async def test_button_click_can_replace_then_delete_its_message(
    slack: SlackStub, bot_client: AsyncWebClient, workspace: DemoWorkspace
) -> None:
    posted = await bot_client.chat_postMessage(
        channel=workspace.general.id, text="Order 1", blocks=[SHARE_BUTTON]
    )
    message = slack.state.find_message(workspace.general.id, posted["ts"])
    assert message is not None
    click = slack.payloads.block_actions(user=workspace.member, action_id="share_order", message=message)
    webhook = AsyncWebhookClient(url=click.payload["response_url"], timeout=5)

    await webhook.send(text="Order 1 (shared)", replace_original=True)
    replaced = slack.state.find_message(workspace.general.id, posted["ts"])
    await webhook.send(delete_original=True)

    [action] = click.payload["actions"]
    assert (action["action_id"], action["block_id"], action["value"]) == (
        "share_order",
        "order-1",
        "order-uid-1",
    )
    assert click.payload["container"] == {
        "type": "message",
        "message_ts": posted["ts"],
        "channel_id": workspace.general.id,
        "is_ephemeral": False,
    }
    assert replaced is not None
    assert replaced.text == "Order 1 (shared)"
    assert slack.state.find_message(workspace.general.id, posted["ts"]) is None


async def test_button_in_an_ephemeral_message(
    slack: SlackStub, bot_client: AsyncWebClient, workspace: DemoWorkspace
) -> None:
    response = await bot_client.chat_postEphemeral(
        channel=workspace.general.id, user=workspace.member.id, text="Order 1", blocks=[SHARE_BUTTON]
    )
    ephemeral = slack.state.find_ephemeral(workspace.general.id, response["message_ts"])
    assert ephemeral is not None
    click = slack.payloads.block_actions(user=workspace.member, action_id="share_order", message=ephemeral)

    await AsyncWebhookClient(url=click.payload["response_url"], timeout=5).send(delete_original=True)

    assert click.payload["container"]["is_ephemeral"] is True
    assert "message" not in click.payload
    assert slack.state.ephemeral_for(workspace.member) == []


async def test_response_url_allows_five_uses(slack: SlackStub, workspace: DemoWorkspace) -> None:
    command = slack.payloads.slash_command(user=workspace.member, channel=workspace.general)
    webhook = AsyncWebhookClient(url=command.payload["response_url"], timeout=5)

    statuses = [(await webhook.send(text=f"update {n}")).status_code for n in range(5)]
    sixth = await webhook.send(text="one too many")

    assert statuses == [200] * 5
    assert (sixth.status_code, sixth.body) == (404, "used_url")


async def test_response_url_expires_after_thirty_minutes(
    slack: SlackStub, workspace: DemoWorkspace, clock: FakeClock
) -> None:
    command = slack.payloads.slash_command(user=workspace.member, channel=workspace.general)
    clock.advance(30 * 60 + 1)

    late = await AsyncWebhookClient(url=command.payload["response_url"], timeout=5).send(text="late")

    assert (late.status_code, late.body) == (404, "expired_url")


async def test_response_url_rejects_what_slack_rejects(slack: SlackStub, workspace: DemoWorkspace) -> None:
    command = slack.payloads.slash_command(user=workspace.member, channel=workspace.general)
    webhook = AsyncWebhookClient(url=command.payload["response_url"], timeout=5)
    too_many = [{"type": "divider"} for _ in range(51)]

    empty = await webhook.send_dict({"response_type": "ephemeral"})
    oversized = await webhook.send(text="results", blocks=too_many)

    assert (empty.status_code, empty.body) == (400, "no_text")
    assert (oversized.status_code, oversized.body) == (400, "invalid_blocks")
    assert slack.state.ephemeral_for(workspace.member) == []
