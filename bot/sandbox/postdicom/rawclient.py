"""A bare-wire client for the emulator: raw frames in, decoded replies out, one request at a time.

It is for tests, benchmarks and poking at the emulator by hand, where the real client's
validation and retries would hide what is on the wire. It does exactly what the library does
(router twice, region once, CreateApiSession; RegisterSession on upload sockets) and no more.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import aiohttp
from yarl import URL

from bot.postdicom.frames import (
    FileUploadManagementType,
    MessageType,
    RequestFrame,
    ResponseFrame,
    SessionManagementType,
)
from bot.postdicom.jsvalues import to_json
from bot.postdicom.methods import GeneralCall, session_payload
from bot.postdicom.upload_frames import UploadRequest

DEFAULT_WAIT = 10.0
MAX_MESSAGE_SIZE = 512 * 1024 * 1024


class RawClientError(Exception):
    """The emulator did not answer as a PostDICOM would (no reply, a closed socket, a refusal)."""


async def service_get(
    session: aiohttp.ClientSession,
    base_url: str,
    request_type: int,
    parameters: Mapping[str, Any],
    client_id: str,
    *,
    wait: float = DEFAULT_WAIT,
) -> dict[str, Any]:
    """Make one of the library's discovery GETs and return the JSON envelope."""
    query = (
        f"?RequestType={request_type}&Parameters={quote(to_json(parameters).decode(), safe='')}"
        f"&ClientUniqueId={quote(client_id, safe='')}&Cache={int(time.time() * 1000)}"
    )
    async with session.get(
        URL(base_url + query, encoded=True), timeout=aiohttp.ClientTimeout(total=wait)
    ) as reply:
        body = await reply.read()
        if reply.status != 200:
            raise RawClientError(f"HTTP {reply.status}")
    envelope = json.loads(body)
    if not isinstance(envelope, dict):
        raise RawClientError("the envelope is not an object")
    return envelope


class RawSocket:
    """One WebSocket carrying one request at a time."""

    def __init__(self, websocket: aiohttp.ClientWebSocketResponse) -> None:
        self.websocket = websocket
        self._lock = asyncio.Lock()

    @classmethod
    async def connect(
        cls, session: aiohttp.ClientSession, url: str, *, wait: float = DEFAULT_WAIT
    ) -> RawSocket:
        """Open a WebSocket to a full URL (with ``?ClientUniqueId=``)."""
        async with asyncio.timeout(wait):
            websocket = await session.ws_connect(URL(url, encoded=True), max_msg_size=MAX_MESSAGE_SIZE)
        return cls(websocket)

    @property
    def closed(self) -> bool:
        """Tell whether the socket is closed."""
        return self.websocket.closed

    async def exchange(self, data: bytes | str, *, wait: float = DEFAULT_WAIT) -> ResponseFrame:
        """Send raw bytes (or text) and return the next reply."""
        async with self._lock:
            if isinstance(data, str):
                await self.websocket.send_str(data)
            else:
                await self.websocket.send_bytes(data)
            return await self._receive(wait)

    async def request(self, frame: RequestFrame, *, wait: float = DEFAULT_WAIT) -> ResponseFrame:
        """Send a frame and return its reply, checking that it names the frame's MessageID."""
        reply = await self.exchange(frame.encode(), wait=wait)
        if reply.requested_id != frame.message_id:
            raise RawClientError(f"reply names message {reply.requested_id}, not {frame.message_id}")
        return reply

    async def _receive(self, wait: float) -> ResponseFrame:
        try:
            async with asyncio.timeout(wait):
                message = await self.websocket.receive()
        except TimeoutError:
            raise RawClientError(f"no reply within {wait:g} s") from None
        if message.type is not aiohttp.WSMsgType.BINARY:
            raise RawClientError(f"the socket gave {message.type.name}, not a binary frame")
        return ResponseFrame.decode(message.data)

    async def close(self) -> None:
        """Close the socket."""
        await self.websocket.close()


@dataclass
class RawSession:
    """The library's view of one account: keys, API session, main socket, message counter."""

    http: aiohttp.ClientSession
    api_key: str
    account_key: str
    websocket_base: str
    region_url: str
    session_uuid: str
    main: RawSocket
    account: dict[str, Any] = field(default_factory=dict)
    message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    sockets: list[RawSocket] = field(default_factory=list)

    @property
    def websocket_url(self) -> str:
        """Return the WebSocket URL as the library composes it."""
        return f"{self.websocket_base}/?ClientUniqueId={self.api_key}"

    @classmethod
    async def open(
        cls,
        http: aiohttp.ClientSession,
        router_url: str,
        api_key: str,
        account_key: str,
        *,
        create_api_session: bool = True,
        wait: float = DEFAULT_WAIT,
    ) -> RawSession:
        """Run the library's Initialize (or stop before CreateApiSession)."""
        router = {"RouterKey": account_key, "AddressType": "1", "AdapterType": "2"}
        region = await service_get(http, router_url, 4, router, api_key, wait=wait)
        if region.get("ResponseCode") != 1:
            raise RawClientError(str(region.get("ResponseMessage")))
        made = await service_get(
            http,
            region["ResponseMessage"],
            7,
            {"TransactionType": "3", "AccountKey": account_key, "ApiKey": api_key},
            api_key,
            wait=wait,
        )
        if made.get("ResponseCode") != 1:
            raise RawClientError(str(made.get("ResponseMessage")))
        sockets = await service_get(http, router_url, 4, {**router, "AddressType": "2"}, api_key, wait=wait)
        main = await RawSocket.connect(
            http, f"{sockets['ResponseMessage']}/?ClientUniqueId={api_key}", wait=wait
        )
        raw = cls(
            http,
            api_key,
            account_key,
            sockets["ResponseMessage"],
            region["ResponseMessage"],
            made["ResponseMessage"],
            main,
        )
        raw.sockets.append(main)
        if create_api_session:
            reply = await raw.session_request(main, SessionManagementType.CREATE_API_SESSION, wait=wait)
            if reply.get("ResponseCode") != 1:
                raise RawClientError(str(reply.get("ResponseMessage")))
            raw.account = reply["ResponseMessage"]["Account"]
        return raw

    def next_id(self) -> int:
        """Return the next MessageID."""
        return next(self.message_ids)

    async def session_request(
        self, socket: RawSocket, management_type: int, *, wait: float = DEFAULT_WAIT
    ) -> dict[str, Any]:
        """Send a session-management frame (CreateApiSession, RegisterSession) and return ApiResult."""
        frame = RequestFrame(
            MessageType.SESSION_MANAGEMENT_REQUEST,
            self.next_id(),
            management_type,
            session_payload(self.session_uuid, self.api_key),
        )
        return (await socket.request(frame, wait=wait)).json()

    async def general(
        self, call: GeneralCall, *, socket: RawSocket | None = None, wait: float = DEFAULT_WAIT
    ) -> dict[str, Any]:
        """Send a general request built by :mod:`bot.postdicom.methods` and return ApiResult."""
        return await self.general_json(
            call.management_type, call.payload(self.api_key, self.account_key), socket=socket, wait=wait
        )

    async def general_json(
        self,
        management_type: int,
        payload: bytes,
        *,
        socket: RawSocket | None = None,
        wait: float = DEFAULT_WAIT,
    ) -> dict[str, Any]:
        """Send a general request with the JSON given as bytes and return ApiResult."""
        frame = RequestFrame(MessageType.GENERAL_REQUEST, self.next_id(), management_type, payload)
        return (await (socket or self.main).request(frame, wait=wait)).json()

    async def upload(
        self,
        management_type: int,
        params: Mapping[str, Any],
        file_bytes: bytes = b"",
        *,
        user_uuid: str,
        socket: RawSocket | None = None,
        wait: float = DEFAULT_WAIT,
    ) -> dict[str, Any]:
        """Send an upload frame (keys appended as the library appends them) and return ApiResult."""
        # A bytes value in params goes out as a JSON array of numbers, as FileBuffer does.
        request = UploadRequest(
            "raw", FileUploadManagementType(management_type), params, user_uuid, file_bytes
        )
        frame = request.frame(self.next_id(), self.api_key, self.account_key)
        return (await (socket or self.main).request(frame, wait=wait)).json()

    async def upload_socket(self, *, wait: float = DEFAULT_WAIT) -> RawSocket:
        """Open one more socket and register it, as the library opens its upload sockets."""
        socket = await RawSocket.connect(self.http, self.websocket_url, wait=wait)
        self.sockets.append(socket)
        reply = await self.session_request(socket, SessionManagementType.REGISTER_SESSION, wait=wait)
        if reply.get("ResponseCode") != 1:
            raise RawClientError(str(reply.get("ResponseMessage")))
        return socket

    async def close(self) -> None:
        """Close every socket this session opened."""
        for socket in self.sockets:
            await socket.close()
