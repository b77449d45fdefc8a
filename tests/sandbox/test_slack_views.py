"""Modals: trigger_id lifetime, the view stack, hashes, Block Kit limits on views."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.slack import DemoWorkspace, SlackStub
from tests.sandbox.fakes import FakeClock


def modal(
    title: str = "Share study", *, blocks: list[dict[str, Any]] | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "share_study",
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Share"},
        "blocks": blocks if blocks is not None else [order_input()],
        **extra,
    }


def order_input() -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": "order",
        "label": {"type": "plain_text", "text": "Order"},
        "element": {"type": "plain_text_input", "action_id": "order_uid"},
    }


def trigger_for(slack: SlackStub, workspace: DemoWorkspace) -> str:
    command = slack.payloads.slash_command(user=workspace.member, channel=workspace.general, text="share")
    return str(command.payload["trigger_id"])


async def test_views_open_with_a_fresh_trigger(
    slack: SlackStub, bot_client: AsyncWebClient, workspace: DemoWorkspace
) -> None:
    response = await bot_client.views_open(trigger_id=trigger_for(slack, workspace), view=modal())

    view = response["view"]
    assert view["id"].startswith("V")
    assert view["callback_id"] == "share_study"
    assert view["root_view_id"] == view["id"]
    assert view["state"] == {"values": {}}
    assert [v.id for v in slack.state.open_views(workspace.member)] == [view["id"]]


async def test_expired_trigger(
    slack: SlackStub, bot_client: AsyncWebClient, workspace: DemoWorkspace, clock: FakeClock
) -> None:
    trigger_id = trigger_for(slack, workspace)
    clock.advance(3.5)

    with pytest.raises(SlackApiError) as raised:
        await bot_client.views_open(trigger_id=trigger_id, view=modal())

    assert raised.value.response["error"] == "expired_trigger_id"
    assert slack.state.open_views(workspace.member) == []


async def test_trigger_lifetime_is_configurable(clock: FakeClock) -> None:
    async with SlackStub(clock=clock, trigger_ttl_seconds=60) as patient:
        team = patient.state.add_team("Slow Clicks")
        person = patient.state.add_user(team, "slow", is_admin=True)
        channel = patient.state.add_channel(team, "general", members=[person])
        installation = patient.state.install_app(team, channels=[channel])
        command = patient.payloads.slash_command(user=person, channel=channel)
        client = AsyncWebClient(token=installation.bot_token, base_url=patient.api_url, timeout=5)
        clock.advance(30)

        response = await client.views_open(trigger_id=command.payload["trigger_id"], view=modal())

    assert response["ok"] is True


@pytest.mark.parametrize(("reuse", "error"), [(False, "invalid_trigger_id"), (True, "exchanged_trigger_id")])
async def test_unknown_or_reused_trigger(
    slack: SlackStub, bot_client: AsyncWebClient, workspace: DemoWorkspace, reuse: bool, error: str
) -> None:
    trigger_id = trigger_for(slack, workspace) if reuse else "123.456.bogus"
    if reuse:
        await bot_client.views_open(trigger_id=trigger_id, view=modal())

    with pytest.raises(SlackApiError) as raised:
        await bot_client.views_open(trigger_id=trigger_id, view=modal())

    assert raised.value.response["error"] == error


async def test_trigger_of_another_workspace_is_invalid(slack: SlackStub, workspace: DemoWorkspace) -> None:
    other = slack.state.add_team("Elsewhere")
    slack.state.add_user(other, "eve", is_admin=True)
    foreign = slack.state.install_app(other)
    client = AsyncWebClient(token=foreign.bot_token, base_url=slack.api_url, timeout=5)

    with pytest.raises(SlackApiError) as raised:
        await client.views_open(trigger_id=trigger_for(slack, workspace), view=modal())

    assert raised.value.response["error"] == "invalid_trigger_id"


async def test_push_stack_is_three_deep(
    slack: SlackStub, bot_client: AsyncWebClient, workspace: DemoWorkspace
) -> None:
    root = (await bot_client.views_open(trigger_id=trigger_for(slack, workspace), view=modal()))["view"]
    second = (await bot_client.views_push(trigger_id=trigger_for(slack, workspace), view=modal("Step 2")))[
        "view"
    ]
    await bot_client.views_push(trigger_id=trigger_for(slack, workspace), view=modal("Step 3"))

    with pytest.raises(SlackApiError) as raised:
        await bot_client.views_push(trigger_id=trigger_for(slack, workspace), view=modal("Step 4"))

    assert raised.value.response["error"] == "push_limit_reached"
    assert second["root_view_id"] == root["id"]
    assert second["previous_view_id"] == root["id"]
    assert len(slack.state.open_views(workspace.member)) == 3


async def test_update_by_id_and_external_id_with_hash(
    slack: SlackStub, bot_client: AsyncWebClient, workspace: DemoWorkspace
) -> None:
    opened = (
        await bot_client.views_open(
            trigger_id=trigger_for(slack, workspace), view=modal(external_id="order-42")
        )
    )["view"]

    by_id = (
        await bot_client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal("Uploading…"))
    )["view"]
    by_external = (await bot_client.views_update(external_id="order-42", view=modal("Done")))["view"]

    assert by_id["title"]["text"] == "Uploading…"
    assert by_external["id"] == opened["id"]
    assert by_external["title"]["text"] == "Done"
    with pytest.raises(SlackApiError) as raised:
        await bot_client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal("Stale"))
    assert raised.value.response["error"] == "hash_conflict"


async def test_publish_home(slack: SlackStub, bot_client: AsyncWebClient, workspace: DemoWorkspace) -> None:
    home = {
        "type": "home",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Recent studies"}}],
    }

    first = (await bot_client.views_publish(user_id=workspace.member.id, view=home))["view"]
    second = (await bot_client.views_publish(user_id=workspace.member.id, view=home))["view"]

    assert first["type"] == "home"
    assert second["id"] == first["id"]


@pytest.mark.parametrize(
    ("view", "message"),
    [
        (
            modal(blocks=[{"type": "divider"} for _ in range(101)]),
            "no more than 100 items allowed [json-pointer:/view/blocks]",
        ),
        (
            modal("A title longer than twenty-four"),
            "must be less than 25 characters [json-pointer:/view/title/text]",
        ),
        (
            modal(private_metadata="x" * 3001),
            "must be less than 3001 characters [json-pointer:/view/private_metadata]",
        ),
        (
            {**modal(), "submit": None},
            "must provide a `submit` property when using an input block [json-pointer:/view]",
        ),
    ],
)
async def test_view_limits_are_invalid_arguments(
    slack: SlackStub, bot_client: AsyncWebClient, workspace: DemoWorkspace, view: dict[str, Any], message: str
) -> None:
    trigger_id = trigger_for(slack, workspace)

    with pytest.raises(SlackApiError) as raised:
        await bot_client.views_open(trigger_id=trigger_id, view=view)

    assert raised.value.response["error"] == "invalid_arguments"
    assert f"[ERROR] {message}" in raised.value.response["response_metadata"]["messages"]
    # A rejected view does not use up the trigger.
    assert (await bot_client.views_open(trigger_id=trigger_id, view=modal()))["ok"] is True


async def test_view_too_large(slack: SlackStub, bot_client: AsyncWebClient, workspace: DemoWorkspace) -> None:
    big = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 2900}} for _ in range(90)]

    with pytest.raises(SlackApiError) as raised:
        await bot_client.views_open(trigger_id=trigger_for(slack, workspace), view=modal(blocks=big))

    assert raised.value.response["error"] == "view_too_large"


async def test_view_submission_payload_carries_typed_state(
    slack: SlackStub, bot_client: AsyncWebClient, workspace: DemoWorkspace
) -> None:
    blocks = [
        order_input(),
        {
            "type": "input",
            "block_id": "flag",
            "label": {"type": "plain_text", "text": "Flag"},
            "element": {
                "type": "static_select",
                "action_id": "flag_choice",
                "options": [
                    {"text": {"type": "plain_text", "text": "Urgent"}, "value": "urgent"},
                    {"text": {"type": "plain_text", "text": "Routine"}, "value": "routine"},
                ],
            },
        },
        {
            "type": "input",
            "block_id": "assignee",
            "label": {"type": "plain_text", "text": "Assign to"},
            "element": {"type": "users_select", "action_id": "user"},
        },
    ]
    opened = await bot_client.views_open(trigger_id=trigger_for(slack, workspace), view=modal(blocks=blocks))
    view = slack.state.views[opened["view"]["id"]]

    submission = slack.payloads.view_submission(
        view=view,
        values={
            "order": {"order_uid": "1.2.840.99"},
            "flag": {"flag_choice": "urgent"},
            "assignee": {"user": workspace.admin.id},
        },
    )

    values = submission.payload["view"]["state"]["values"]
    assert submission.payload["type"] == "view_submission"
    assert values["order"]["order_uid"] == {"type": "plain_text_input", "value": "1.2.840.99"}
    assert values["flag"]["flag_choice"]["selected_option"]["value"] == "urgent"
    assert values["assignee"]["user"] == {"type": "users_select", "selected_user": workspace.admin.id}
    with pytest.raises(LookupError):
        slack.payloads.view_submission(view=view, values={"flag": {"flag_choice": "sometime"}})
