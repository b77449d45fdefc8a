"""Replay every line of golden/general.jsonl through the client, byte for byte."""

from __future__ import annotations

import contextlib
import inspect
import json
from typing import Any

import pydantic
import pytest

from bot.postdicom import InvalidParameter, PostDicomClient, ProtocolError
from tests.paths import GOLDEN
from tests.postdicom.standin import ACCOUNT_KEY, API_KEY, GoldenStandIn

LINES = [json.loads(line) for line in (GOLDEN / "general.jsonl").read_text().splitlines()]
INITIALIZE = LINES[0]
CALLS = LINES[1:]


def masked(frame: bytes) -> bytes:
    """Blank the MessageID, which depends only on how many frames came before."""
    return frame[:2] + b"\0\0\0\0" + frame[6:]


async def test_initialize_sends_the_librarys_http_requests_and_session_frame() -> None:
    async with (
        GoldenStandIn() as standin,
        PostDicomClient(API_KEY, ACCOUNT_KEY, router_url=standin.router_url) as client,
    ):
        account = await client.initialize()

        sent = [
            {key: entry[key] for key in ("request_type", "parameters", "client_unique_id", "path")}
            for entry in standin.http_requests
        ]
        assert sent == INITIALIZE["http"]
        assert all(entry["cache"] and entry["cache"].isdigit() for entry in standin.http_requests)
        assert [received.raw for received in standin.frames] == [bytes.fromhex(INITIALIZE["frame_hex"])]
        assert account.user_list[0].full_name == "Ada Radiologist"
        assert account.user_list[0].institution_list[0].institution_name == "Main"


async def test_initialize_twice_reuses_the_session() -> None:
    async with (
        GoldenStandIn() as standin,
        PostDicomClient(API_KEY, ACCOUNT_KEY, router_url=standin.router_url) as client,
    ):
        first = await client.initialize()
        second = await client.initialize()
        assert first == second
        assert len(standin.http_requests) == 3
        assert len(standin.frames) == 1


@pytest.mark.parametrize(
    "line", CALLS, ids=[f"{index}-{line['method']}" for index, line in enumerate(CALLS, 1)]
)
async def test_every_general_call_matches_the_library(line: dict[str, Any]) -> None:
    async with (
        GoldenStandIn() as standin,
        PostDicomClient(API_KEY, ACCOUNT_KEY, router_url=standin.router_url) as client,
    ):
        await client.initialize()
        method = getattr(client, line["python_method"])
        if "error" in line:
            with pytest.raises(InvalidParameter) as raised:
                await method(*line["args"])
            assert str(raised.value) == line["error"]
            assert len(standin.frames) == 1, "nothing may be sent after a refused argument"
            return
        # The stand-in echoes {"Success": true}, which is not every method's result shape.
        with contextlib.suppress(ProtocolError, pydantic.ValidationError):
            await method(*line["args"])
        sent = standin.frames[1]
        assert masked(sent.raw) == masked(bytes.fromhex(line["frame_hex"]))
        assert sent.frame.payload.decode() == line["json"]
        assert (sent.frame.message_type, sent.frame.management_type) == (
            line["message_type"],
            line["management_type"],
        )


async def test_one_connection_replays_the_whole_file_with_the_librarys_message_ids() -> None:
    async with (
        GoldenStandIn() as standin,
        PostDicomClient(API_KEY, ACCOUNT_KEY, router_url=standin.router_url) as client,
    ):
        await client.initialize()
        for line in CALLS:
            if "error" in line:
                continue
            with contextlib.suppress(ProtocolError, pydantic.ValidationError):
                await getattr(client, line["python_method"])(*line["args"])
        expected = [bytes.fromhex(line["frame_hex"]) for line in LINES if "frame_hex" in line]
        assert [received.raw for received in standin.frames] == expected


def test_client_methods_show_the_librarys_arguments() -> None:
    client = PostDicomClient(API_KEY, ACCOUNT_KEY)
    for line in CALLS:
        method = getattr(client, line["python_method"])
        parameters = inspect.signature(method).parameters
        assert len(line["args"]) <= len(parameters), line["method"]
        assert next(iter(parameters)) == "user_uuid"
        assert method.__doc__
