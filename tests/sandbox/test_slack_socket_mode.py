"""Socket Mode: slack_sdk's and slack_bolt's aiohttp clients against the stub's WebSocket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.slack import DemoWorkspace, SlackStub

SHARE_MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "share_study",
    "title": {"type": "plain_text", "text": "Share study"},
    "submit": {"type": "plain_text", "text": "Share"},
    "blocks": [
        {
            "type": "input",
            "block_id": "order",
            "label": {"type": "plain_text", "text": "Order"},
            "element": {"type": "plain_text_input", "action_id": "order_uid"},
        }
    ],
}


@pytest.fixture
async def sdk_client(slack: SlackStub, workspace: DemoWorkspace) -> AsyncIterator[SocketModeClient]:
    client = SocketModeClient(
        app_token=slack.app.app_token, web_client=AsyncWebClient(base_url=slack.api_url, timeout=5)
    )
    try:
        yield client
    finally:
        await client.close()  # type: ignore[no-untyped-call]


async def test_slash_command_envelope_and_ack_with_payload(
    slack: SlackStub, workspace: DemoWorkspace, sdk_client: SocketModeClient
) -> None:
    received: list[SocketModeRequest] = []

    async def acknowledge(client: AsyncBaseSocketModeClient, request: SocketModeRequest) -> None:
        received.append(request)
        response = SocketModeResponse(envelope_id=request.envelope_id, payload={"text": "Searching…"})
        await client.send_socket_mode_response(response)

    sdk_client.socket_mode_request_listeners.append(acknowledge)
    await sdk_client.connect()  # type: ignore[no-untyped-call]
    command = slack.payloads.slash_command(
        user=workspace.member, channel=workspace.general, text="search Doe"
    )

    ack = await slack.socket_mode.send(command)

    [request] = received
    assert request.type == "slash_commands"
    assert request.envelope_id == ack.envelope_id
    assert request.accepts_response_payload is True
    assert request.payload["text"] == "search Doe"
    assert ack.payload == {"text": "Searching…"}
    [reply] = slack.state.ephemeral_for(workspace.member)
    assert (reply.text, reply.source) == ("Searching…", "ack")
    assert slack.calls.count("apps.connections.open") == 1
    assert slack.socket_mode.connection_count == 1


async def test_events_carry_retry_information(
    slack: SlackStub, workspace: DemoWorkspace, sdk_client: SocketModeClient
) -> None:
    received: list[SocketModeRequest] = []

    async def acknowledge(client: AsyncBaseSocketModeClient, request: SocketModeRequest) -> None:
        received.append(request)
        await client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))

    sdk_client.socket_mode_request_listeners.append(acknowledge)
    await sdk_client.connect()  # type: ignore[no-untyped-call]
    upload = slack.upload_file(
        user=workspace.member, channel=workspace.general, name="a.dcm", content=b"DICM"
    )

    ack = await slack.socket_mode.send(upload.message_event, retry_attempt=1, retry_reason="timeout")

    assert ack.payload is None
    [request] = received
    assert request.type == "events_api"
    assert request.retry_attempt == 1
    assert request.retry_reason == "timeout"
    assert request.accepts_response_payload is False
    assert request.payload["event"]["subtype"] == "file_share"
    assert slack.socket_mode.envelopes[-1]["envelope_id"] == ack.envelope_id


async def test_reconnect_on_request(
    slack: SlackStub, workspace: DemoWorkspace, sdk_client: SocketModeClient
) -> None:
    async def acknowledge(client: AsyncBaseSocketModeClient, request: SocketModeRequest) -> None:
        await client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))

    sdk_client.socket_mode_request_listeners.append(acknowledge)
    await sdk_client.connect()  # type: ignore[no-untyped-call]
    first_session = sdk_client.current_session

    await slack.socket_mode.request_reconnect()
    await slack.socket_mode.wait_for_connection(nth=2)
    ack = await slack.socket_mode.send(
        slack.payloads.slash_command(user=workspace.member, channel=workspace.general)
    )

    assert ack.envelope_id
    assert sdk_client.current_session is not first_session
    assert slack.calls.count("apps.connections.open") == 2


async def test_connection_url_needs_the_app_token(slack: SlackStub, workspace: DemoWorkspace) -> None:
    bot = AsyncWebClient(base_url=slack.api_url, timeout=5)

    with pytest.raises(SlackApiError) as raised:
        await bot.apps_connections_open(app_token=workspace.installation.bot_token)

    assert raised.value.response["error"] == "not_allowed_token_type"


async def test_bolt_app_over_socket_mode_opens_a_modal_and_validates_it(
    slack: SlackStub, workspace: DemoWorkspace
) -> None:
    app = AsyncApp(
        client=AsyncWebClient(token=workspace.installation.bot_token, base_url=slack.api_url, timeout=5),
        signing_secret=slack.app.signing_secret,
    )
    modal_opened = asyncio.Event()

    @app.command("/pacs")
    async def open_share_modal(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=SHARE_MODAL)
        modal_opened.set()

    @app.view("share_study")
    async def check_order(ack: AsyncAck, view: dict[str, Any]) -> None:
        order_uid = view["state"]["values"]["order"]["order_uid"]["value"]
        if not order_uid.startswith("1.2."):
            await ack(response_action="errors", errors={"order": "Not a study UID"})
            return
        await ack()

    handler = AsyncSocketModeHandler(app, app_token=slack.app.app_token)
    await handler.connect_async()  # type: ignore[no-untyped-call]
    try:
        command = slack.payloads.slash_command(user=workspace.member, channel=workspace.general, text="share")
        await slack.socket_mode.send(command)
        await asyncio.wait_for(modal_opened.wait(), 5)
        [view] = slack.state.open_views(workspace.member)

        rejected = await slack.socket_mode.send(
            slack.payloads.view_submission(view=view, values={"order": {"order_uid": "oops"}})
        )
        still_open = [v.id for v in slack.state.open_views(workspace.member)]
        accepted = await slack.socket_mode.send(
            slack.payloads.view_submission(view=view, values={"order": {"order_uid": "1.2.840.1"}})
        )
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]

    assert rejected.payload == {"response_action": "errors", "errors": {"order": "Not a study UID"}}
    assert still_open == [view.id]
    assert view.definition["errors"] == {"order": "Not a study UID"}
    assert accepted.payload is None
    assert slack.state.open_views(workspace.member) == []
    assert slack.calls.count("views.open") == 1
