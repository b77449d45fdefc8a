"""The stub refuses what Slack refuses, with Slack's error: Block Kit rules on every surface, and Slack's behaviours.

Each figure is the one in the validator's docstring (bot/sandbox/slack/blockkit.py), which names
the Slack documentation page it comes from.
"""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.sandbox.slack import DemoWorkspace, SlackStub
from bot.sandbox.slack.blockkit import check_message_blocks, check_response_body, check_view
from tests.sandbox.fakes import FakeClock


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def button(action_id: str, text: str = "Go", **extra: Any) -> dict[str, Any]:
    return {"type": "button", "action_id": action_id, "text": plain(text), "value": "v", **extra}


def section(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def options(count: int, text: str = "o", value: str = "v") -> list[dict[str, Any]]:
    return [{"text": plain(f"{text}{n}" if text else ""), "value": f"{value}{n}"} for n in range(count)]


def select(opts: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "static_select", "action_id": "pick", "options": opts}


CONFIRM = {"title": plain("Sure?"), "text": plain("Really"), "confirm": plain("Yes"), "deny": plain("No")}

# (blocks, the json-pointer Slack names, a phrase of Slack's message)
REFUSED: list[tuple[list[dict[str, Any]], str, str]] = [
    (
        [{"type": "actions", "elements": [button("page"), button("page")]}],
        "/blocks/0/elements/1/action_id",
        'action_id "page" already exists',
    ),
    ([section("a", block_id="b1"), section("b", block_id="b1")], "/blocks/1/block_id", "already exists"),
    ([section("x" * 3001)], "/blocks/0/text/text", "less than 3001"),
    ([section("")], "/blocks/0/text/text", "more than 0"),
    ([{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}], "/blocks/0/fields", "10 items"),
    (
        [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}],
        "/blocks/0/fields/0/text",
        "2001",
    ),
    (
        [{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}],
        "/blocks/0/elements",
        "10 items",
    ),
    (
        [{"type": "actions", "elements": [button(f"b{n}") for n in range(26)]}],
        "/blocks/0/elements",
        "25 items",
    ),
    ([{"type": "header", "text": plain("h" * 151)}], "/blocks/0/text/text", "151"),
    ([{"type": "actions", "elements": [button("b", "t" * 76)]}], "/blocks/0/elements/0/text/text", "76"),
    ([{"type": "actions", "elements": [button("b", url="u" * 3001)]}], "/blocks/0/elements/0/url", "3001"),
    ([{"type": "actions", "elements": [button("a" * 256)]}], "/blocks/0/elements/0/action_id", "256"),
    ([section("s", block_id="b" * 256)], "/blocks/0/block_id", "256"),
    (
        [{"type": "actions", "elements": [select(options(1, text=""))]}],
        "/blocks/0/elements/0/options/0/text/text",
        "more than 0",
    ),
    (
        [{"type": "actions", "elements": [select(options(1, text="t" * 80))]}],
        "/blocks/0/elements/0/options/0/text/text",
        "76",
    ),
    (
        [{"type": "actions", "elements": [select(options(1, value="v" * 150))]}],
        "/blocks/0/elements/0/options/0/value",
        "151",
    ),
    ([{"type": "actions", "elements": [select(options(101))]}], "/blocks/0/elements/0/options", "100 items"),
    (
        [section("s", accessory={"type": "overflow", "action_id": "o", "options": options(1)})],
        "/blocks/0/accessory/options",
        "at least 2",
    ),
    (
        [section("s", accessory={"type": "overflow", "action_id": "o", "options": options(6)})],
        "/blocks/0/accessory/options",
        "5 items",
    ),
    (
        [{"type": "actions", "elements": [button("b", confirm={**CONFIRM, "title": plain("t" * 101)})]}],
        "/blocks/0/elements/0/confirm/title/text",
        "101",
    ),
    (
        [{"type": "actions", "elements": [button("b", confirm={**CONFIRM, "text": plain("t" * 301)})]}],
        "/blocks/0/elements/0/confirm/text/text",
        "301",
    ),
    (
        [{"type": "actions", "elements": [button("b", confirm={**CONFIRM, "deny": plain("d" * 31)})]}],
        "/blocks/0/elements/0/confirm/deny/text",
        "31",
    ),
]


@pytest.mark.parametrize(("blocks", "pointer", "phrase"), REFUSED)
def test_the_validator_names_what_slack_refuses(
    blocks: list[dict[str, Any]], pointer: str, phrase: str
) -> None:
    problems = check_message_blocks(blocks)
    assert any(problem.endswith(f"[json-pointer:{pointer}]") and phrase in problem for problem in problems), (
        problems
    )


def test_the_same_action_id_in_two_blocks_is_fine() -> None:
    blocks = [
        {"type": "actions", "elements": [button("share")]},
        {"type": "actions", "elements": [button("share")]},
    ]
    assert check_message_blocks(blocks) == []


async def test_paging_buttons_sharing_an_action_id_are_invalid_blocks(
    bot_client: AsyncWebClient, workspace: DemoWorkspace
) -> None:
    paging = {
        "type": "actions",
        "elements": [button("search.page", "◀ Previous"), button("search.page", "Next ▶")],
    }
    with pytest.raises(SlackApiError) as raised:
        await bot_client.chat_postEphemeral(
            channel=workspace.general.id, user=workspace.member.id, text="results", blocks=[paging]
        )
    assert raised.value.response["error"] == "invalid_blocks"
    assert raised.value.response["errors"] == [
        'action_id "search.page" already exists [json-pointer:/blocks/0/elements/1/action_id]'
    ]


def modal(**extra: Any) -> dict[str, Any]:
    return {"type": "modal", "title": plain("Title"), "blocks": [section("s")], **extra}


@pytest.mark.parametrize(
    ("view", "pointer"),
    [
        (modal(title=plain("t" * 25)), "/view/title/text"),
        (modal(submit=plain("s" * 25)), "/view/submit/text"),
        (modal(close=plain("c" * 25)), "/view/close/text"),
        (modal(private_metadata="m" * 3001), "/view/private_metadata"),
        (modal(callback_id="c" * 256), "/view/callback_id"),
        (modal(blocks=[section(f"{n}") for n in range(101)]), "/view/blocks"),
        (
            modal(blocks=[{"type": "input", "label": plain("l"), "element": {"type": "plain_text_input"}}]),
            "/view",
        ),
        (
            {"type": "home", "blocks": [section("s", block_id="x"), section("t", block_id="x")]},
            "/view/blocks/1/block_id",
        ),
    ],
)
def test_view_rules(view: dict[str, Any], pointer: str) -> None:
    assert any(problem.endswith(f"[json-pointer:{pointer}]") for problem in check_view(view))


def test_a_home_tab_takes_100_blocks_and_a_message_50() -> None:
    assert check_view({"type": "home", "blocks": [section(f"{n}") for n in range(100)]}) == []
    assert check_message_blocks([section(f"{n}") for n in range(51)]) != []


def test_response_url_bodies_follow_the_message_rules() -> None:
    assert check_response_body({"text": "ok", "blocks": [section("s")]}) == []
    assert check_response_body({"delete_original": True}) == []
    assert check_response_body({"text": "x" * 40_001}) != []
    assert (
        check_response_body({"blocks": [{"type": "actions", "elements": [button("a"), button("a")]}]}) != []
    )


async def test_a_response_url_refuses_invalid_blocks_with_400(
    slack: SlackStub, workspace: DemoWorkspace
) -> None:
    command = slack.payloads.slash_command(user=workspace.member, channel=workspace.general)
    webhook = AsyncWebhookClient(url=command.payload["response_url"], timeout=5)
    answer = await webhook.send(
        text="t", blocks=[{"type": "actions", "elements": [button("a"), button("a")]}]
    )
    assert (answer.status_code, answer.body) == (400, "invalid_blocks")
    assert slack.state.ephemeral_for(workspace.member) == []


async def test_a_message_posted_through_a_response_url_cannot_be_updated(
    slack: SlackStub, bot_client: AsyncWebClient, workspace: DemoWorkspace
) -> None:
    command = slack.payloads.slash_command(user=workspace.member, channel=workspace.general)
    webhook = AsyncWebhookClient(url=command.payload["response_url"], timeout=5)
    await webhook.send(text="A card", response_type="in_channel")
    [message] = slack.state.channel_history(workspace.general)
    assert message.user_id == workspace.bot.id
    with pytest.raises(SlackApiError) as raised:
        await bot_client.chat_update(channel=workspace.general.id, ts=message.ts, text="Redrawn")
    assert raised.value.response["error"] == "cant_update_message"
    assert message.text == "A card"


async def test_an_ephemeral_message_cannot_be_updated(
    slack: SlackStub, bot_client: AsyncWebClient, workspace: DemoWorkspace
) -> None:
    posted = await bot_client.chat_postEphemeral(
        channel=workspace.general.id, user=workspace.member.id, text="Only you"
    )
    with pytest.raises(SlackApiError) as raised:
        await bot_client.chat_update(channel=workspace.general.id, ts=posted["message_ts"], text="Edited")
    assert raised.value.response["error"] == "cant_update_message"


async def test_chat_update_is_rate_limited_at_tier_3_with_retry_after(
    slack: SlackStub, workspace: DemoWorkspace, clock: FakeClock
) -> None:
    # No retry handler: the 429 itself is what this test reads.
    client = AsyncWebClient(
        token=workspace.installation.bot_token, base_url=slack.api_url, timeout=5, retry_handlers=[]
    )
    slack.state.chat_update_burst = 3
    posted = await client.chat_postMessage(channel=workspace.general.id, text="progress 0")
    for step in range(3):
        await client.chat_update(channel=workspace.general.id, ts=posted["ts"], text=f"progress {step}")
    with pytest.raises(SlackApiError) as raised:
        await client.chat_update(channel=workspace.general.id, ts=posted["ts"], text="too fast")
    assert raised.value.response.status_code == 429
    assert raised.value.response["error"] == "ratelimited"
    assert int(raised.value.response.headers["Retry-After"]) >= 1
    clock.advance(60)
    await client.chat_update(channel=workspace.general.id, ts=posted["ts"], text="after a minute")


async def test_post_ephemeral_where_the_bot_is_no_member_is_not_in_channel(
    slack: SlackStub, bot_client: AsyncWebClient, workspace: DemoWorkspace
) -> None:
    elsewhere = slack.state.add_channel(workspace.team, "elsewhere", members=[workspace.member])
    with pytest.raises(SlackApiError) as raised:
        await bot_client.chat_postEphemeral(channel=elsewhere.id, user=workspace.member.id, text="hi")
    assert raised.value.response["error"] == "not_in_channel"


async def test_usergroups_users_list(
    slack: SlackStub, bot_client: AsyncWebClient, workspace: DemoWorkspace
) -> None:
    readers = slack.state.add_usergroup(workspace.team, "readers", "Readers", workspace.member)
    answer = await bot_client.usergroups_users_list(usergroup=readers.id)
    assert answer["users"] == [workspace.member.id]
    with pytest.raises(SlackApiError) as raised:
        await bot_client.usergroups_users_list(usergroup="S0NOPE")
    assert raised.value.response["error"] == "no_such_subteam"


async def test_a_scope_the_manifest_does_not_ask_for_is_missing_scope(
    slack: SlackStub, bot_client: AsyncWebClient, workspace: DemoWorkspace
) -> None:
    direct = slack.state.im_channel(workspace.bot, workspace.member)
    with pytest.raises(SlackApiError) as raised:
        await bot_client.conversations_info(channel=direct.id)
    assert (raised.value.response["error"], raised.value.response["needed"]) == ("missing_scope", "im:read")
