"""Signed HTTP requests as Slack sends them, checked by slack_sdk and delivered to a real Bolt app."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.slack import DemoWorkspace, InboundPayload, SlackStub, compute_signature, deliver

BUTTON_BLOCKS = [
    {
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
]


def every_kind(slack: SlackStub, workspace: DemoWorkspace) -> list[InboundPayload]:
    message = slack.state.post_message(
        workspace.general, text="Order 1", blocks=BUTTON_BLOCKS, author=workspace.bot
    )
    return [
        slack.payloads.slash_command(user=workspace.member, channel=workspace.general, text="search Doe"),
        slack.payloads.block_actions(user=workspace.member, action_id="share_order", message=message),
        slack.payloads.message_event(message),
        slack.payloads.url_verification(),
    ]


def test_signature_matches_slacks_algorithm() -> None:
    # The example from Slack's "Verifying requests from Slack" page.
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
        b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
        b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
        b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )

    signature = compute_signature("8f742231b10e8888abcd99yyyzzz85a5", "1531420618", body)

    assert signature == "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


def test_signed_requests_verify_with_slack_sdk(slack: SlackStub, workspace: DemoWorkspace) -> None:
    verifier = SignatureVerifier(slack.app.signing_secret)

    for inbound in every_kind(slack, workspace):
        good = inbound.signed(slack.app.signing_secret)
        stale = inbound.signed(slack.app.signing_secret, stale=True)
        forged = inbound.signed(slack.app.signing_secret, bad_signature=True)

        assert verifier.is_valid_request(good.body, good.headers), inbound.envelope_type
        assert not verifier.is_valid_request(stale.body, stale.headers)
        assert not verifier.is_valid_request(forged.body, forged.headers)


def test_bodies_are_encoded_as_slack_encodes_them(slack: SlackStub, workspace: DemoWorkspace) -> None:
    command, click, event, challenge = every_kind(slack, workspace)

    command_form = parse_qs(command.body().decode())
    click_form = parse_qs(click.body().decode())

    assert command.content_type == click.content_type == "application/x-www-form-urlencoded"
    assert command_form["command"] == ["/pacs"]
    assert command_form["text"] == ["search Doe"]
    assert command_form["team_id"] == [workspace.team.id]
    assert command_form["response_url"][0].startswith(slack.base_url)
    assert list(click_form) == ["payload"]
    assert json.loads(click_form["payload"][0])["type"] == "block_actions"
    assert event.content_type == "application/json"
    assert json.loads(event.body())["type"] == "event_callback"
    assert json.loads(challenge.body())["type"] == "url_verification"


def test_event_retries_carry_slacks_headers(slack: SlackStub, workspace: DemoWorkspace) -> None:
    upload = slack.upload_file(
        user=workspace.member, channel=workspace.general, name="a.dcm", content=b"DICM"
    )

    retried = upload.file_shared_event.signed(
        slack.app.signing_secret, retry_num=2, retry_reason="http_timeout"
    )
    first = upload.file_shared_event.signed(slack.app.signing_secret)

    assert retried.headers["X-Slack-Retry-Num"] == "2"
    assert retried.headers["X-Slack-Retry-Reason"] == "http_timeout"
    assert "X-Slack-Retry-Num" not in first.headers
    assert retried.body == first.body


def test_socket_mode_envelopes(slack: SlackStub, workspace: DemoWorkspace) -> None:
    command, click, event, _ = every_kind(slack, workspace)

    envelopes = [
        command.envelope(),
        click.envelope(),
        event.envelope(retry_attempt=3, retry_reason="timeout"),
    ]

    assert [e["type"] for e in envelopes] == ["slash_commands", "interactive", "events_api"]
    assert [e["accepts_response_payload"] for e in envelopes] == [True, True, False]
    assert envelopes[2]["retry_attempt"] == 3
    assert len({e["envelope_id"] for e in envelopes}) == 3


def test_block_actions_must_name_an_element_that_exists(slack: SlackStub, workspace: DemoWorkspace) -> None:
    message = slack.state.post_message(
        workspace.general, text="Order 1", blocks=BUTTON_BLOCKS, author=workspace.bot
    )

    with pytest.raises(LookupError):
        slack.payloads.block_actions(user=workspace.member, action_id="no_such_button", message=message)


@pytest.fixture
async def bolt_url(slack: SlackStub, workspace: DemoWorkspace) -> AsyncIterator[tuple[AsyncApp, str]]:
    """A Bolt AsyncApp served over HTTP on 127.0.0.1, talking to the stub."""
    app = AsyncApp(
        client=AsyncWebClient(token=workspace.installation.bot_token, base_url=slack.api_url, timeout=5),
        signing_secret=slack.app.signing_secret,
    )
    runner = web.AppRunner(app.web_app(path="/slack/events"), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield app, f"http://{host}:{port}/slack/events"
    finally:
        await runner.cleanup()


async def test_bolt_accepts_signed_command_and_opens_a_modal_with_its_trigger(
    slack: SlackStub, workspace: DemoWorkspace, bolt_url: tuple[AsyncApp, str]
) -> None:
    app, url = bolt_url
    modal_opened = asyncio.Event()

    @app.command("/pacs")
    async def open_modal(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack(text="Opening…")
        await client.views_open(
            trigger_id=body["trigger_id"],
            view={"type": "modal", "title": {"type": "plain_text", "text": "Upload"}, "blocks": []},
        )
        modal_opened.set()

    command = slack.payloads.slash_command(user=workspace.member, channel=workspace.general, text="upload")

    answer = await deliver(url, command.signed(slack.app.signing_secret))
    await asyncio.wait_for(modal_opened.wait(), 5)

    assert answer.status == 200
    # Bolt answers a text-only ack with the bare text, which Slack shows to the user.
    assert answer.body.decode() == "Opening…"
    assert [view.callback_id for view in slack.state.open_views(workspace.member)] == [""]


@pytest.mark.parametrize("flaw", ["stale", "bad_signature"])
async def test_bolt_rejects_stale_or_forged_requests(
    slack: SlackStub, workspace: DemoWorkspace, bolt_url: tuple[AsyncApp, str], flaw: str
) -> None:
    _, url = bolt_url
    command = slack.payloads.slash_command(user=workspace.member, channel=workspace.general)
    signed = command.signed(
        slack.app.signing_secret, stale=flaw == "stale", bad_signature=flaw == "bad_signature"
    )

    answer = await deliver(url, signed)

    assert answer.status == 401


async def test_bolt_answers_url_verification(
    slack: SlackStub, workspace: DemoWorkspace, bolt_url: tuple[AsyncApp, str]
) -> None:
    _, url = bolt_url
    challenge = slack.payloads.url_verification("let-me-in")

    answer = await deliver(url, challenge.signed(slack.app.signing_secret))

    assert answer.json() == {"challenge": "let-me-in"}


async def test_bolt_button_click_responds_through_the_stub(
    slack: SlackStub, workspace: DemoWorkspace, bolt_url: tuple[AsyncApp, str]
) -> None:
    app, url = bolt_url
    responded = asyncio.Event()

    @app.action("share_order")
    async def share(ack: AsyncAck, respond: AsyncRespond, action: dict[str, Any]) -> None:
        await ack()
        await respond(text=f"Shared {action['value']}", replace_original=True)
        responded.set()

    message = slack.state.post_message(
        workspace.general, text="Order 1", blocks=BUTTON_BLOCKS, author=workspace.bot
    )
    click = slack.payloads.block_actions(user=workspace.member, action_id="share_order", message=message)

    answer = await deliver(url, click.signed(slack.app.signing_secret))
    await asyncio.wait_for(responded.wait(), 5)

    assert answer.status == 200
    assert message.text == "Shared order-uid-1"
    assert slack.calls.last("response_url").ok


async def test_bolt_receives_file_share_events(
    slack: SlackStub, workspace: DemoWorkspace, bolt_url: tuple[AsyncApp, str]
) -> None:
    app, url = bolt_url
    seen: list[str] = []
    handled = asyncio.Event()

    @app.event({"type": "message", "subtype": "file_share"})
    async def on_file_share(event: dict[str, Any]) -> None:
        seen.extend(file["id"] for file in event["files"])
        handled.set()

    @app.event("file_shared")
    async def on_file_shared() -> None:
        """Ignore: the message event carries everything (slack.md §2.1)."""

    upload = slack.upload_file(
        user=workspace.member, channel=workspace.general, name="a.dcm", content=b"DICM"
    )

    answers = [await deliver(url, event.signed(slack.app.signing_secret)) for event in upload.events]
    await asyncio.wait_for(handled.wait(), 5)

    assert [answer.status for answer in answers] == [200, 200]
    assert seen == [upload.file.id]


PATIENT_PICKER_MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "pick_patient",
    "notify_on_close": True,
    "title": {"type": "plain_text", "text": "Pick a patient"},
    "submit": {"type": "plain_text", "text": "Pick"},
    "blocks": [
        {
            "type": "input",
            "block_id": "patient",
            "label": {"type": "plain_text", "text": "Patient"},
            "element": {"type": "external_select", "action_id": "patient_search", "min_query_length": 2},
        }
    ],
}


async def test_bolt_answers_block_suggestion_and_sees_view_closed(
    slack: SlackStub, workspace: DemoWorkspace, bolt_url: tuple[AsyncApp, str], bot_client: AsyncWebClient
) -> None:
    app, url = bolt_url
    closed = asyncio.Event()

    @app.options("patient_search")
    async def suggest(ack: AsyncAck, payload: dict[str, Any]) -> None:
        query = payload["value"]
        await ack(options=[{"text": {"type": "plain_text", "text": f"{query} Jane"}, "value": "P-1"}])

    @app.view_closed("pick_patient")
    async def forget(ack: AsyncAck) -> None:
        await ack()
        closed.set()

    trigger_id = slack.payloads.slash_command(user=workspace.member, channel=workspace.general).payload[
        "trigger_id"
    ]
    opened = await bot_client.views_open(trigger_id=trigger_id, view=PATIENT_PICKER_MODAL)
    view = slack.state.views[opened["view"]["id"]]
    typing = slack.payloads.block_suggestion(
        user=workspace.member, action_id="patient_search", value="Do", view=view
    )

    suggestions = await deliver(url, typing.signed(slack.app.signing_secret))
    closing = await deliver(url, slack.payloads.view_closed(view=view).signed(slack.app.signing_secret))
    await asyncio.wait_for(closed.wait(), 5)

    assert typing.payload["block_id"] == "patient"
    assert typing.payload["container"] == {"type": "view", "view_id": view.id}
    assert suggestions.json() == {
        "options": [{"text": {"type": "plain_text", "text": "Do Jane"}, "value": "P-1"}]
    }
    assert closing.status == 200


def test_select_in_a_modal_and_message_shortcut_payloads(slack: SlackStub, workspace: DemoWorkspace) -> None:
    flag_modal = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Flag order"},
        "blocks": [
            {
                "type": "section",
                "block_id": "flag",
                "text": {"type": "mrkdwn", "text": "Flag"},
                "accessory": {
                    "type": "static_select",
                    "action_id": "flag_choice",
                    "options": [{"text": {"type": "plain_text", "text": "Urgent"}, "value": "urgent"}],
                },
            }
        ],
    }
    trigger = slack.state.exchange_trigger(
        slack.state.issue_trigger(workspace.team.id, workspace.member.id), workspace.team.id
    )
    view = slack.state.open_modal(trigger, flag_modal, workspace.installation)
    upload = slack.upload_file(
        user=workspace.member, channel=workspace.general, name="a.dcm", content=b"DICM"
    )

    selection = slack.payloads.block_actions(
        user=workspace.member, action_id="flag_choice", view=view, value="urgent"
    ).payload
    shortcut = slack.payloads.message_shortcut(
        user=workspace.member, message=upload.message, callback_id="upload_dicom_shortcut"
    ).payload

    [action] = selection["actions"]
    assert action["selected_option"]["value"] == "urgent"
    assert selection["container"] == {"type": "view", "view_id": view.id}
    assert "response_url" not in selection
    assert shortcut["type"] == "message_action"
    assert shortcut["callback_id"] == "upload_dicom_shortcut"
    assert shortcut["message"]["files"][0]["id"] == upload.file.id
    assert shortcut["response_url"].startswith(slack.base_url)
    assert shortcut["trigger_id"] in slack.state.triggers
