"""Replay the frames PostDICOM's own library sent (the golden vectors) into the emulator, byte for byte."""

from __future__ import annotations

import hashlib
import io
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pydicom
import pytest
from pydicom.data import get_testdata_file

from bot.postdicom.frames import MessageType, RequestFrame, response_type_for
from bot.postdicom.upload_frames import PART_SIZE
from bot.sandbox.postdicom import (
    CASES_FOLDER_UUID,
    CT_ORDER_UUID,
    DEMO_ACCOUNT_KEY,
    DEMO_API_KEY,
    PostDicomEmulator,
)
from bot.sandbox.postdicom.rawclient import RawSocket, service_get
from bot.sandbox.postdicom.state import ApiSession
from tests.paths import GOLDEN

GOLDEN_API_SESSION = "5e55e55e-0000-4000-8000-000000000001"
GOLDEN_UPLOAD_SESSION = "0babe000-0000-4000-8000-000000000002"
GOLDEN_BIG_STUDY = "1.2.826.0.1.3680043.8.498.2001"

# What each general answer must carry when it succeeds, by management type.
SUCCESS_KEYS = {
    1: "SearchResultList",
    2: "FolderUuid",
    3: "Folder",
    5: "Result",
    7: "PatientOrderUuid",
    10: "ConnectedGroupUuid",
    11: "ConnectedGroupUuid",
    12: "ConnectedGroupUuid",
    13: "PatientOrder",
    21: "Result",
    22: "UserGroupList",
    23: "DicomNodeList",
    24: "ContactList",
    25: "PatientOrderUuid",
    26: "Result",
    30: "FlagGroupList",
    34: "UserList",
    37: "Result",
}


def golden_lines(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (GOLDEN / name).read_text().splitlines()]


@pytest.fixture
async def emulator() -> AsyncIterator[PostDicomEmulator]:
    async with PostDicomEmulator(seed="demo") as running:
        # The vectors were captured with this API session; the emulator did not hand it out.
        running.state.sessions[GOLDEN_API_SESSION] = ApiSession(
            GOLDEN_API_SESSION, DEMO_ACCOUNT_KEY, time.monotonic()
        )
        yield running


async def open_socket(emulator: PostDicomEmulator, http: aiohttp.ClientSession) -> RawSocket:
    return await RawSocket.connect(http, f"{emulator.websocket_url}/?ClientUniqueId={DEMO_API_KEY}")


async def test_the_librarys_discovery_gets_succeed(
    emulator: PostDicomEmulator, http: aiohttp.ClientSession
) -> None:
    initialize = golden_lines("general.jsonl")[0]
    answers = []
    for call in initialize["http"]:
        base = emulator.router_url if call["path"] == "/wssShellService/" else emulator.region_url
        answers.append(
            await service_get(
                http, base, int(call["request_type"]), call["parameters"], call["client_unique_id"]
            )
        )
    assert [answer["ResponseCode"] for answer in answers] == [1, 1, 1]
    assert [answer["ResponseMessage"] for answer in answers][::2] == [
        emulator.region_url,
        emulator.websocket_url,
    ]


async def test_every_general_frame_of_the_library_gets_a_sensible_answer(
    emulator: PostDicomEmulator, http: aiohttp.ClientSession
) -> None:
    lines = golden_lines("general.jsonl")
    socket = await open_socket(emulator, http)
    try:
        created = await socket.exchange(bytes.fromhex(lines[0]["frame_hex"]))
        assert created.message_type == 4
        assert created.json()["ResponseMessage"]["Account"]["UserList"][0]["FullName"] == "Ada Radiologist"
        outcomes: dict[str, bool] = {}
        for line in lines[1:]:
            if "frame_hex" not in line:
                continue
            data = bytes.fromhex(line["frame_hex"])
            sent = RequestFrame.decode(data)
            reply = await socket.exchange(data)
            assert reply.message_type == response_type_for(sent.message_type)
            assert reply.requested_id == sent.message_id
            assert reply.management_type == sent.management_type
            result = reply.json()
            assert result["ResponseCode"] == 1, line["method"]
            message = result["ResponseMessage"]
            assert isinstance(message["Success"], bool)
            if message["Success"]:
                assert SUCCESS_KEYS.get(sent.management_type, "Message") in message, line["method"]
            else:
                assert isinstance(message["Message"], str)
                assert message["Message"]
            outcomes[f"{line['method']}#{sent.message_id}"] = message["Success"]
    finally:
        await socket.close()
    refused = sorted(name.split("#")[0] for name, succeeded in outcomes.items() if not succeeded)
    # The capture deleted folder 5555… and order 3333… early on, so later calls naming them are
    # refused as "not found"; so are the order group 6666… (a user group's uuid in the vectors)
    # and the made-up patient the by-name viewer calls look for.
    assert refused == sorted(
        [
            "AddOrderToFolder",
            "AddOrdersToOrderGroup",
            "AssignPatientOrderToLocation",
            "AssignPatientOrderToUser",
            "AssignPatientOrderToUserGroup",
            "CreateOrderGroup",
            "CreateQuickShareLink",
            "CreateQuickShareLinkWithExpireDate",
            "GetFolderList",
            "GetFolderViewUrl",
            "GetPatientOrderProperties",
            "GetViewUrlWithPatientName",
            "GetViewUrlWithPatientNameAndBirthDate",
            "RemoveOrderFromFolder",
            "SetFlagToPatientOrder",
            "ShareFolderToUploadWithEmail",
            "ShareFolderToUploadWithUrl",
            "ShareFolderWithAccountUser",
            "ShareFolderWithAccountUserGroup",
            "ShareFolderWithEmail",
            "ShareFolderWithURL",
            "SharePatientOrder",
            "SharePatientOrderWithExpireDate",
            "UnassignPatientOrderFromUser",
            "UnassignPatientOrderFromUserGroup",
            "UpdateFolderWithJSON",
        ]
    )


async def test_each_general_frame_succeeds_against_a_fresh_seed(
    emulator: PostDicomEmulator, http: aiohttp.ClientSession
) -> None:
    lines = golden_lines("general.jsonl")
    frames = [bytes.fromhex(line["frame_hex"]) for line in lines[1:] if "frame_hex" in line]
    failures = []
    for data in frames:
        await emulator.reset()
        emulator.state.sessions[GOLDEN_API_SESSION] = ApiSession(
            GOLDEN_API_SESSION, DEMO_ACCOUNT_KEY, time.monotonic()
        )
        socket = await open_socket(emulator, http)
        try:
            await socket.exchange(bytes.fromhex(lines[0]["frame_hex"]))
            message = (await socket.exchange(data)).json()["ResponseMessage"]
        finally:
            await socket.close()
        if not message["Success"]:
            failures.append((RequestFrame.decode(data).management_type, message["Message"]))
    # Alone on the seed, only what names things the seed lacks is refused: the order group 6666…
    # and the made-up patients of the by-name viewer calls.
    assert failures == [
        (11, "Order group not found."),
        (5, "No patient order found."),
        (5, "No patient order found."),
    ]


# --- uploads -------------------------------------------------------------------------------------


def anonymized(data: bytes) -> bytes:
    dataset = pydicom.dcmread(io.BytesIO(data))
    dataset.PatientName = "ANON^PATIENT"
    dataset.PatientID = "ANON-1"
    buffer = io.BytesIO()
    dataset.save_as(buffer)
    return buffer.getvalue()


def file_bytes_by_digest() -> dict[str, bytes]:
    ct_path = get_testdata_file("CT_small.dcm", download=False)
    assert isinstance(ct_path, str)
    ct = Path(ct_path).read_bytes()
    big = (GOLDEN / "files" / "golden_big.dcm").read_bytes()
    known = [ct, big[:PART_SIZE], big[PART_SIZE:]]
    known += [(GOLDEN / "files" / name).read_bytes() for name in ("small.pdf", "report.pdf")]
    return {hashlib.sha256(data).hexdigest(): data for data in known}


def anonymized_parts() -> dict[tuple[int, int], bytes]:
    # The library's anonymized bytes are not in the vectors (only their digests); pydicom makes
    # equivalent ones, and the replay checks the frames' JSON shapes, not those bytes.
    ct_path = get_testdata_file("CT_small.dcm", download=False)
    assert isinstance(ct_path, str)
    ct = anonymized(Path(ct_path).read_bytes())
    big = anonymized((GOLDEN / "files" / "golden_big.dcm").read_bytes())
    return {(0, 0): ct, (1, 0): big[:PART_SIZE], (1, 1): big[PART_SIZE:]}


async def test_the_librarys_upload_frames_are_accepted_and_filed(
    emulator: PostDicomEmulator, http: aiohttp.ClientSession
) -> None:
    records = golden_lines("uploads.jsonl")
    by_digest = file_bytes_by_digest()
    substitutes = anonymized_parts()
    sockets: list[RawSocket] = []
    upload_session = GOLDEN_UPLOAD_SESSION
    account = emulator.state.account(DEMO_ACCOUNT_KEY)
    assert account is not None
    documents_before = len(account.orders[CT_ORDER_UUID].documents)
    try:
        for record in records:
            if record.get("socket_opened"):
                sockets.append(await open_socket(emulator, http))
                continue
            params = json.loads(record["json"].replace(GOLDEN_UPLOAD_SESSION, upload_session))
            payload = json.dumps(params, separators=(",", ":"), ensure_ascii=False).encode()
            kind, management = record["message_type"], record["management_type"]
            if kind == MessageType.SESSION_MANAGEMENT_REQUEST:
                socket = sockets[0] if management == 4 else sockets[-1]
                frame = RequestFrame(kind, record["message_id"], management, payload)
            else:
                data = b""
                if record["file_bytes_len"]:
                    data = (
                        by_digest.get(record["file_bytes_sha256"])
                        or substitutes[(params["FileIndex"], params["CurrentFilePartIndex"])]
                    )
                socket = sockets[-1] if management == 3 else sockets[0]
                frame = RequestFrame(
                    kind, record["message_id"], management, payload, data, record["user_uuid"]
                )
            reply = await socket.request(frame)
            result = reply.json()
            assert reply.message_type == (4 if kind == 3 else 6)
            assert result["ResponseCode"] == 1, (kind, management, result)
            if kind == 23 and management == 1:
                upload_session = result["SessionUniqueUuid"]
            if kind == 23 and management == 2:
                assert result["StudyInstanceUid"] == params["StudyInstanceUid"]
                assert isinstance(result["ResponseMessage"]["FileIfExist"], bool)
    finally:
        for socket in sockets:
            await socket.close()
    golden_order = account.order_by_study(GOLDEN_BIG_STUDY)
    assert golden_order is not None
    assert (golden_order.patient_name, len(golden_order.instances)) == ("GOLDEN^BIG", 1)
    folder = account.folders[CASES_FOLDER_UUID]
    assert {CT_ORDER_UUID, golden_order.uuid} <= set(folder.order_uuids)
    assert len(account.orders[CT_ORDER_UUID].instances) == 1
    documents = account.orders[CT_ORDER_UUID].documents[documents_before:]
    assert [(item.file_name, len(item.data)) for item in documents] == [
        ("small.pdf", 36),
        ("report.pdf", 698889),
    ]
    counters = emulator.uploads.counters
    assert (counters.instances_deduplicated, counters.documents_resent, counters.files_refused) == (5, 2, 0)
    assert emulator.uploads.pending_parts() == 0
