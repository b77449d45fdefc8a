"""Garbage into the emulator's WebSocket: it answers or refuses, never crashes, never drops the socket."""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.postdicom import methods
from bot.postdicom.jsvalues import to_json
from bot.sandbox.postdicom import (
    ADA_UUID,
    CASES_FOLDER_UUID,
    CT_ORDER_UUID,
    DEMO_ACCOUNT_KEY,
    DEMO_API_KEY,
    MAIN_INSTITUTION_UUID,
    PostDicomEmulator,
)
from bot.sandbox.postdicom.rawclient import RawSession

FUZZ_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
KEYS = (
    "UserUuid", "InstitutionUuid", "InstitutionUuidList", "PatientName", "PatientId", "PatientID",
    "AccessionNumber", "Modalities", "StartDate", "EndDate", "StartBirthdate", "FolderUuid",
    "ParentFolderUuid", "FolderName", "GetOrdersInFolder", "PatientOrderUuid",
    "PatientOrderInstitutionUuid", "PatientOrderUuidList", "FolderUuidList", "OrderUuidList", "GroupId",
    "FlagId", "JsonParameters", "OrderModality", "PerformedDatetime", "PatientsBirthDate", "Email",
    "ExpireDate", "SessionUniqueUuid", "FileIndex", "CurrentFilePartIndex", "CurrentFileTotalPartCount",
    "FileBuffer", "FileName", "FileType", "StudyInstanceUid", "SopInstanceUid", "ConnectedGroupUuid",
    "SharedUserUuidList", "AssignedUserUuid", "BirthDate", "SessionUuid", "OtherParameterList",
)  # fmt: skip
GUIDS = (
    ADA_UUID,
    MAIN_INSTITUTION_UUID,
    CT_ORDER_UUID,
    CASES_FOLDER_UUID,
    "00000000-0000-0000-0000-000000000000",
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(GUIDS),
    st.sampled_from(("2026-01-01", "2026-13-45", "10:00", "CT", "a/b", "*", "^", "")),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), inner, max_size=4),
    ),
    max_leaves=12,
)
params = st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=10), json_values, max_size=8)


@st.composite
def well_formed_frames(draw: st.DrawFn) -> bytes:
    """A frame whose layout is right and whose JSON carries the right keys, with anything else in it."""
    message_type = draw(st.sampled_from((3, 17, 23)))
    management_type = draw(st.integers(min_value=-2, max_value=40))
    body: dict[str, Any] = draw(params)
    body.update({"ApiKey": DEMO_API_KEY, "AccountKey": DEMO_ACCOUNT_KEY})
    payload = to_json(body)
    frame = struct.pack("<HIii", message_type, draw(st.integers(0, 2**32 - 1)), management_type, len(payload))
    frame += payload
    if message_type == 23:
        data = draw(st.binary(max_size=64))
        frame += struct.pack("<i", len(data)) + data + bytes((36,)) + ADA_UUID.encode() + b"\x00"
    elif message_type == 17:
        frame += b"\x00"
    return frame


@st.composite
def broken_frames(draw: st.DrawFn) -> bytes:
    """A plausible header followed by lengths and bytes that do not add up."""
    head = struct.pack("<HIi", draw(st.sampled_from((3, 17, 23, 0, 4, 65535))), draw(st.integers(0, 9)), 1)
    length = draw(st.integers(-5, 50))
    return head + struct.pack("<i", length) + draw(st.binary(max_size=60))


@pytest.fixture
async def raw(emulator: PostDicomEmulator) -> AsyncIterator[RawSession]:
    async with aiohttp.ClientSession() as http:
        session = await RawSession.open(http, emulator.router_url, DEMO_API_KEY, DEMO_ACCOUNT_KEY)
        yield session
        await session.close()


async def answered_and_alive(raw: RawSession, data: bytes) -> dict[str, Any]:
    reply = await raw.main.exchange(data, wait=5)
    assert reply.message_type in (4, 6, 18, 24)
    result = reply.json()
    assert result["ResponseCode"] in (0, 1)
    still = await raw.general(methods.get_user_list(ADA_UUID), wait=5)
    assert still["ResponseCode"] == 1
    return result


@FUZZ_SETTINGS
@given(data=st.binary(max_size=300))
async def test_random_bytes_are_answered_and_the_socket_survives(raw: RawSession, data: bytes) -> None:
    await answered_and_alive(raw, data)


@FUZZ_SETTINGS
@given(data=broken_frames())
async def test_frames_with_wrong_lengths_are_answered(raw: RawSession, data: bytes) -> None:
    result = await answered_and_alive(raw, data)
    assert result["ResponseCode"] == 0


@FUZZ_SETTINGS
@given(data=well_formed_frames())
async def test_any_json_in_a_well_formed_frame_is_refused_cleanly_or_served(
    raw: RawSession, data: bytes
) -> None:
    result = await answered_and_alive(raw, data)
    # "Internal server error." would mean a handler crashed instead of refusing.
    assert "Internal server error" not in str(result)
