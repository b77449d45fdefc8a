"""The recording stand-in the golden vectors were captured against, rebuilt for replaying them.

It answers exactly as tests/data/postdicom/golden/CAPTURE.md says the capture stand-in did, and
records every HTTP request and every frame. Hooks let transport tests delay, reorder, drop and
refuse replies. It is deliberately dumb: the stateful PostDICOM lives in bot/sandbox.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import unquote

from aiohttp import WSMsgType, web

from bot.postdicom.frames import MessageType, RequestFrame, ResponseFrame, response_type_for
from bot.postdicom.jsvalues import to_json

API_KEY = "0f0f0f0f-1234-4abc-8def-0123456789ab"
ACCOUNT_KEY = "acc0acc0-5678-4abc-9def-0123456789ab"
API_SESSION_UUID = "5e55e55e-0000-4000-8000-000000000001"
UPLOAD_SESSION_UUID = "0babe000-0000-4000-8000-000000000002"
USER_UUID = "11111111-1111-4111-8111-111111111111"
INSTITUTION_UUID = "22222222-2222-4222-8222-222222222222"
ORDER_UUID = "33333333-3333-4333-8333-333333333333"
ACCOUNT = {
    "UserList": [
        {
            "UserUuid": USER_UUID,
            "FullName": "Ada Radiologist",
            "UserName": "ada",
            "InstitutionList": [{"InstitutionUuid": INSTITUTION_UUID, "InstitutionName": "Main"}],
        }
    ]
}

Responder = Callable[["ReceivedFrame"], Awaitable[dict[str, Any] | None]]


@dataclass
class ReceivedFrame:
    """One frame the stand-in received, with the socket it came on."""

    socket_index: int
    raw: bytes
    frame: RequestFrame

    def json(self) -> dict[str, Any]:
        """Parse the frame's JSON."""
        return self.frame.json()


def golden_reply(received: ReceivedFrame) -> dict[str, Any]:
    """Return the ApiResult the capture stand-in gave for this frame."""
    frame = received.frame
    if frame.message_type == MessageType.SESSION_MANAGEMENT_REQUEST:
        return {"ResponseCode": 1, "ResponseMessage": {"Account": ACCOUNT}}
    if frame.message_type == MessageType.GENERAL_REQUEST:
        return {"ResponseCode": 1, "ResponseMessage": {"Success": True, "Echo": frame.management_type}}
    return {
        "ResponseCode": 1,
        "SessionUniqueUuid": UPLOAD_SESSION_UUID,
        "ResponseMessage": {"FileIfExist": False, "PatientOrder": {"PatientOrderUuid": ORDER_UUID}},
    }


@dataclass
class GoldenStandIn:
    """An aiohttp server playing router, region service and region WebSocket on one port."""

    responder: Responder | None = None
    http_requests: list[dict[str, Any]] = field(default_factory=list)
    frames: list[ReceivedFrame] = field(default_factory=list)
    sockets_opened: int = 0
    open_sockets: list[web.WebSocketResponse] = field(default_factory=list)
    router_status: int = 200
    region_status: int = 200
    router_body: Callable[[dict[str, Any]], Any] | None = None
    # Off for tests that measure memory: recorded frames then keep their JSON but not file bytes.
    keep_file_bytes: bool = True
    sockets_by_index: dict[int, web.WebSocketResponse] = field(default_factory=dict)
    _runner: web.AppRunner | None = None
    base_url: str = ""

    @property
    def router_url(self) -> str:
        """Return the router URL to hand to the client."""
        return f"{self.base_url}/wssShellService/"

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_get("/wssShellService/", self._router)
        app.router.add_get("/region/", self._region)
        app.router.add_get("/ws/", self._websocket)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for socket in list(self.open_sockets):
            await socket.close()
        assert self._runner is not None
        await self._runner.cleanup()

    def _record_http(self, request: web.Request, path: str) -> dict[str, Any]:
        # aiohttp has already percent-decoded the query; decode once more only if the client
        # double-encoded, which would show up as a leftover '%7B'.
        parameters_text = request.query["Parameters"]
        if parameters_text.startswith("%"):
            parameters_text = unquote(parameters_text)
        entry = {
            "request_type": request.query["RequestType"],
            "parameters": json.loads(parameters_text),
            "client_unique_id": request.query["ClientUniqueId"],
            "path": path,
            "cache": request.query.get("Cache"),
        }
        self.http_requests.append(entry)
        return entry

    async def _router(self, request: web.Request) -> web.Response:
        entry = self._record_http(request, "/wssShellService/")
        if self.router_status != 200:
            return web.Response(status=self.router_status)
        if self.router_body is not None:
            return web.json_response(self.router_body(entry))
        address_type = entry["parameters"]["AddressType"]
        address = (
            f"{self.base_url}/region/" if address_type == "1" else self.base_url.replace("http", "ws") + "/ws"
        )
        return web.json_response({"ResponseCode": 1, "ResponseMessage": address})

    async def _region(self, request: web.Request) -> web.Response:
        self._record_http(request, "/region/")
        if self.region_status != 200:
            return web.Response(status=self.region_status)
        return web.json_response({"ResponseCode": 1, "ResponseMessage": API_SESSION_UUID})

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(max_msg_size=64 * 1024 * 1024)
        await socket.prepare(request)
        index = self.sockets_opened
        self.sockets_opened += 1
        self.open_sockets.append(socket)
        self.sockets_by_index[index] = socket
        tasks: set[asyncio.Task[None]] = set()
        try:
            async for message in socket:
                if message.type is not WSMsgType.BINARY:
                    continue
                received = ReceivedFrame(index, message.data, RequestFrame.decode(message.data))
                self.frames.append(
                    received
                    if self.keep_file_bytes
                    else ReceivedFrame(index, b"", dataclasses.replace(received.frame, file_bytes=b""))
                )
                task = asyncio.create_task(self._answer(socket, received))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        finally:
            self.open_sockets.remove(socket)
        return socket

    async def _answer(self, socket: web.WebSocketResponse, received: ReceivedFrame) -> None:
        api_result = golden_reply(received) if self.responder is None else await self.responder(received)
        if api_result is None or socket.closed:
            return
        frame = received.frame
        reply = ResponseFrame(
            response_type_for(frame.message_type),
            frame.message_id + 1000,
            frame.message_id,
            frame.management_type,
            to_json(api_result),
        )
        await socket.send_bytes(reply.encode())

    async def drop_socket(self, index: int) -> None:
        """Close one WebSocket, by the order it was opened in (0 is the main socket), from the server side."""
        await self.sockets_by_index[index].close()

    async def drop_all_sockets(self) -> None:
        """Close every open WebSocket from the server side."""
        for socket in list(self.open_sockets):
            await socket.close()
