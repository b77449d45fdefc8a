"""Slack's side of Socket Mode: the WebSocket the app connects to, envelopes out, acks back."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass

from aiohttp import WSMsgType, web

from bot.sandbox.slack.model import JsonObject
from bot.sandbox.slack.payloads import InboundPayload
from bot.sandbox.slack.state import SlackRejection, SlackState

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SocketModeAck:
    """The app's acknowledgement of one envelope, with the response payload it carried, if any."""

    envelope_id: str
    payload: JsonObject | None
    raw: JsonObject


class SocketModeHub:
    """Serve Socket Mode connections, push envelopes through them and collect the acks."""

    def __init__(self, state: SlackState) -> None:
        self.state = state
        self.acks: list[SocketModeAck] = []
        self.envelopes: list[JsonObject] = []
        self.connections_accepted = 0
        self._connections: list[web.WebSocketResponse] = []
        self._connections_changed = asyncio.Condition()
        self._pending: dict[str, asyncio.Future[SocketModeAck]] = {}
        self._delivered: dict[str, InboundPayload] = {}

    @property
    def connection_count(self) -> int:
        """Return how many app connections are open."""
        return len(self._connections)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Accept one app connection at the URL ``apps.connections.open`` handed out."""
        if not self.state.redeem_socket_ticket(request.query.get("ticket", "")):
            return web.json_response({"ok": False, "error": "invalid_ticket"}, status=401)
        # A short close handshake keeps stopping the stub quick when an app never answers the close.
        socket = web.WebSocketResponse(autoping=True, timeout=2.0)
        await socket.prepare(request)
        await socket.send_json(self._hello())
        async with self._connections_changed:
            self._connections.append(socket)
            self.connections_accepted += 1
            self._connections_changed.notify_all()
        try:
            async for message in socket:
                if message.type == WSMsgType.TEXT:
                    self._receive(message.data)
        finally:
            async with self._connections_changed:
                self._connections.remove(socket)
                self._connections_changed.notify_all()
        return socket

    async def wait_for_connection(self, *, nth: int = 1, timeout_seconds: float = 5.0) -> None:
        """Wait until the app has an open connection and ``nth`` connections were accepted in all."""

        def connected() -> bool:
            return bool(self._connections) and self.connections_accepted >= nth

        async with self._connections_changed:
            await asyncio.wait_for(self._connections_changed.wait_for(connected), timeout_seconds)

    async def send(
        self,
        inbound: InboundPayload,
        *,
        retry_attempt: int = 0,
        retry_reason: str = "",
        timeout_seconds: float = 5.0,
    ) -> SocketModeAck:
        """Deliver a payload over the newest connection and return the app's ack."""
        await self.wait_for_connection(timeout_seconds=timeout_seconds)
        envelope = inbound.envelope(retry_attempt=retry_attempt, retry_reason=retry_reason)
        envelope_id = str(envelope["envelope_id"])
        acknowledged: asyncio.Future[SocketModeAck] = asyncio.get_running_loop().create_future()
        self._pending[envelope_id] = acknowledged
        self._delivered[envelope_id] = inbound
        self.envelopes.append(envelope)
        try:
            await self._connections[-1].send_json(envelope)
            return await asyncio.wait_for(acknowledged, timeout_seconds)
        finally:
            self._pending.pop(envelope_id, None)

    async def request_reconnect(self, reason: str = "refresh_requested") -> None:
        """Tell every connected app to reconnect, as Slack does before recycling a connection."""
        message = {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-sandbox"}}
        for socket in list(self._connections):
            await socket.send_json(message)

    async def close_all(self) -> None:
        """Close every connection (the stub is shutting down)."""
        for socket in list(self._connections):
            await socket.close()

    def _hello(self) -> JsonObject:
        return {
            "type": "hello",
            "num_connections": len(self._connections),
            "debug_info": {
                "host": "applink-sandbox",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self.state.app.app_id},
        }

    def _receive(self, data: str) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            logger.warning("Socket Mode: ignored a frame that is not JSON")
            return
        if not isinstance(message, dict) or "envelope_id" not in message:
            return
        response_payload = message.get("payload")
        ack = SocketModeAck(
            envelope_id=str(message["envelope_id"]),
            payload=response_payload if isinstance(response_payload, dict) else None,
            raw=message,
        )
        self.acks.append(ack)
        self._apply(ack)
        waiting = self._pending.get(ack.envelope_id)
        if waiting is not None and not waiting.done():
            waiting.set_result(ack)

    def _apply(self, ack: SocketModeAck) -> None:
        """Show what the ack asked for: the command's reply, or the modal change after a submission."""
        inbound = self._delivered.pop(ack.envelope_id, None)
        if inbound is None:
            return
        payload, response = inbound.payload, ack.payload or {}
        # A reply Slack would refuse is simply not shown, as in Slack; the ack itself is recorded.
        with contextlib.suppress(SlackRejection):
            if inbound.envelope_type == "slash_commands" and response:
                self.state.deliver_reply(
                    team_id=str(payload["team_id"]),
                    channel_id=str(payload["channel_id"]),
                    user_id=str(payload["user_id"]),
                    body=response,
                    original=None,
                    source="ack",
                )
            elif payload.get("type") == "view_submission":
                view = self.state.views.get(str(payload["view"]["id"]))
                if view is not None:
                    self.state.apply_view_submission_ack(view, response)
