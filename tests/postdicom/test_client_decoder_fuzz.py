"""Garbage from the server into the client's live decoder: every request ends (answered, refused or
timed out), and the socket goes on serving the next request.

``test_wire_core`` fuzzes ``ResponseFrame.decode`` alone; here the bytes arrive over a real
WebSocket into :class:`FrameSocket`'s reader, which must drop what it cannot use and keep reading,
and into :func:`methods.result_message`, which must turn any JSON into a result or a typed error.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import WSMsgType, web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.postdicom import methods
from bot.postdicom.errors import PostDicomError, RequestTimeout
from bot.postdicom.frames import MessageType, RequestFrame, ResponseFrame
from bot.postdicom.jsvalues import to_json
from bot.postdicom.transport import FrameSocket

FUZZ = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
WAIT = 0.3
Reply = Callable[[RequestFrame], list[bytes]]


@dataclass
class FakeServer:
    """A WebSocket server whose next answer is whatever the test says."""

    replies: list[Reply] = field(default_factory=list)
    url: str = ""

    def honest(self, request: RequestFrame) -> list[bytes]:
        body = to_json({"ResponseCode": 1, "ResponseMessage": {"Success": True, "UserList": []}})
        return [ResponseFrame(18, 1, request.message_id, request.management_type, body).encode()]

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        websocket = web.WebSocketResponse(max_msg_size=0)
        await websocket.prepare(request)
        async for message in websocket:
            if message.type is not WSMsgType.BINARY:
                continue
            frame = RequestFrame.decode(message.data)
            reply = self.replies.pop(0) if self.replies else self.honest
            for data in reply(frame):
                await websocket.send_bytes(data)
        return websocket


@pytest.fixture
async def server() -> AsyncIterator[FakeServer]:
    fake = FakeServer()
    app = web.Application()
    app.router.add_get("/wss", fake.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fake.url = f"ws://127.0.0.1:{runner.addresses[0][1]}/wss"
    yield fake
    await runner.cleanup()


@pytest.fixture
async def socket(server: FakeServer) -> AsyncIterator[FrameSocket]:
    async with aiohttp.ClientSession() as session:
        connected = await FrameSocket.connect(session, server.url, "fuzz", wait_seconds=5)
        yield connected
        await connected.close()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3),
    max_leaves=8,
)
replies_json = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"ResponseCode": st.sampled_from([0, 1, "1", 2, None, True]), "ResponseMessage": json_values}
    ),
    st.fixed_dictionaries(
        {
            "ResponseCode": st.just(1),
            "ResponseMessage": st.fixed_dictionaries(
                {"Success": st.sampled_from([True, False, None, "true"]), "UserList": json_values}
            ),
        }
    ),
)


@st.composite
def replies(draw: st.DrawFn) -> Reply:
    """What the server sends back for one request: nothing usable, something broken, or an answer."""
    kind = draw(st.sampled_from(["bytes", "mutated", "wrong_id", "json", "text_json", "several"]))
    blob = draw(st.binary(max_size=200))
    payload = draw(replies_json)
    cut = draw(st.integers(min_value=0, max_value=60))
    flips = draw(st.lists(st.tuples(st.integers(0, 400), st.integers(1, 255)), max_size=4))

    def reply(request: RequestFrame) -> list[bytes]:
        good = ResponseFrame(
            MessageType.GENERAL_RESPONSE, 7, request.message_id, request.management_type, to_json(payload)
        ).encode()
        if kind == "bytes":
            return [blob]
        if kind == "mutated":
            data = bytearray(good[: max(0, len(good) - cut)] if cut % 2 else good)
            for position, mask in flips:
                if data:
                    data[position % len(data)] ^= mask
            return [bytes(data)]
        if kind == "wrong_id":
            return [
                ResponseFrame(
                    18, 7, request.message_id + 1, request.management_type, to_json(payload)
                ).encode()
            ]
        if kind == "text_json":
            return [good, blob]
        if kind == "several":
            return [blob, good, good]
        return [good]

    return reply


@FUZZ
@given(reply=replies())
async def test_any_reply_ends_the_request_and_the_socket_keeps_working(
    server: FakeServer, socket: FrameSocket, reply: Reply
) -> None:
    call = methods.get_user_list("0f0f0f0f-1234-4abc-8def-0123456789ab")
    server.replies.append(reply)
    frame = RequestFrame(MessageType.GENERAL_REQUEST, 1000, call.management_type, call.payload("a", "b"))
    try:
        answer = await socket.request(frame, call.operation, wait_seconds=WAIT)
    except RequestTimeout:
        pass  # nothing usable came back: the wait is bounded
    else:
        # Whatever JSON came back is a result or a typed refusal, never another exception.
        with contextlib.suppress(PostDicomError):
            methods.result_message(call.operation, answer.json())
    # The reader survived whatever it was sent: the next request is answered.
    frame = RequestFrame(MessageType.GENERAL_REQUEST, 2000, call.management_type, call.payload("a", "b"))
    next_answer = await asyncio.wait_for(socket.request(frame, call.operation, wait_seconds=5), 10)
    assert json.loads(next_answer.api_result)["ResponseCode"] == 1
    assert not socket.closed
