"""Upload parts in any order, repeated, missing, miscounted or cut short, over several upload sockets.

``test_postdicom_emulator_fuzz`` throws single frames at the main socket; this throws *sequences*
of ProcessFile parts at registered upload sockets, and checks the emulator against a model of
reassembly: every part is answered (never an internal error), the sockets stay up, and an
instance is filed only as one of the files the model says were completed, byte for byte.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom.uid import generate_uid

from bot.postdicom import methods
from bot.postdicom.frames import FileUploadManagementType
from bot.sandbox.postdicom import (
    ADA_UUID,
    DEMO_ACCOUNT_KEY,
    DEMO_API_KEY,
    MAIN_INSTITUTION_UUID,
    PostDicomEmulator,
)
from bot.sandbox.postdicom.rawclient import RawSession, RawSocket
from tests.dicom.samples import ct_image


def unique_uid() -> str:
    """Return a UID from uuid4: Hypothesis seeds ``random`` for every example, so new_uid() repeats."""
    return generate_uid(prefix=None)


FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

FILE_INDEXES = itertools.count()
# One step: (part index, total the frame claims, how many bytes to cut from its end, socket number).
Step = tuple[int, int, int, int]
steps = st.lists(
    st.tuples(
        st.integers(0, 4),
        st.sampled_from([3, 3, 3, 3, 2, 4, 1]),
        st.sampled_from([0, 0, 0, 1, 100]),
        st.integers(0, 1),
    ),
    min_size=1,
    max_size=10,
)


@pytest.fixture
async def raw(emulator: PostDicomEmulator) -> AsyncIterator[tuple[RawSession, list[RawSocket]]]:
    async with aiohttp.ClientSession() as http:
        session = await RawSession.open(http, emulator.router_url, DEMO_API_KEY, DEMO_ACCOUNT_KEY)
        sockets = [await session.upload_socket(), await session.upload_socket()]
        yield session, sockets
        await session.close()


def split(data: bytes, parts: int) -> list[bytes]:
    size = -(-len(data) // parts)
    return [data[number * size : (number + 1) * size] for number in range(parts)]


def completed_files(pieces: list[bytes], schedule: list[Step]) -> list[bytes]:
    """Model the emulator's reassembly: which whole files the schedule completes, in order."""
    pending: dict[int, bytes] | None = None
    pending_total = 0
    wholes = []
    for index, total, cut, _ in schedule:
        if index >= total:
            continue  # refused: the index is beyond the count
        if pending is not None and total != pending_total:
            continue  # refused: the count changed between parts of one file
        if pending is None:
            pending, pending_total = {}, total
        piece = pieces[index] if index < len(pieces) else b""
        pending[index] = piece[: max(0, len(piece) - cut)]
        if len(pending) == pending_total:
            wholes.append(b"".join(pending[number] for number in range(pending_total)))
            pending = None
    return wholes


@FUZZ
@given(schedule=steps)
async def test_any_sequence_of_parts_files_only_what_was_completed(
    emulator: PostDicomEmulator, raw: tuple[RawSession, list[RawSocket]], schedule: list[Step]
) -> None:
    session, sockets = raw
    sop = unique_uid()
    original = ct_image(study=unique_uid(), sop=sop, rows=32, columns=32)
    pieces = split(original, 3)
    file_index = next(FILE_INDEXES)  # a file index of its own, so examples never mix their parts
    for index, total, cut, socket_number in schedule:
        piece = pieces[index] if index < len(pieces) else b""
        params: dict[str, Any] = {
            "SessionUniqueUuid": session.session_uuid,
            "InstitutionUuid": MAIN_INSTITUTION_UUID,
            "UserUuid": ADA_UUID,
            "FileIndex": file_index,
            "CurrentFilePartIndex": index,
            "CurrentFileTotalPartCount": total,
        }
        reply = await session.upload(
            FileUploadManagementType.PROCESS_FILE,
            params,
            piece[: max(0, len(piece) - cut)],
            user_uuid=ADA_UUID,
            socket=sockets[socket_number],
        )
        assert reply.get("ResponseCode") in (0, 1)
        assert "Internal server error" not in str(reply)
    # Both upload sockets and the main socket still serve.
    assert all(not socket.closed for socket in sockets)
    assert (await session.general(methods.get_user_list(ADA_UUID)))["ResponseCode"] == 1

    account = emulator.state.account(DEMO_ACCOUNT_KEY)
    assert account is not None
    stored = [
        instance.data
        for order in account.orders.values()
        for uid, instance in order.instances.items()
        if uid == sop
    ]
    wholes = completed_files(pieces, schedule)
    assert len(stored) <= 1
    if stored:
        assert stored[0] in wholes
    if original in wholes[:1]:
        assert stored == [original]
