"""Replay golden/uploads.jsonl: the four upload calls send the library's frames.

Frames are compared per socket, because the protocol lets the main socket (Initialize,
CheckFileExist, documents) and an upload socket (RegisterSession, ProcessFile) interleave in any
order. Within a socket the order is the library's. File bytes are compared by length and SHA-256,
except for anonymized parts: the library's byte splicing and our pydicom rewrite differ on purpose.
"""

from __future__ import annotations

import hashlib
import json
from io import BytesIO
from pathlib import Path
from typing import Any

import pydicom
import pytest
from pydicom.data import get_testdata_file

from bot.postdicom import Completed, PostDicomClient, UploadEvent
from bot.postdicom.frames import FileUploadManagementType, MessageType, SessionManagementType
from tests.paths import GOLDEN
from tests.postdicom.standin import (
    ACCOUNT_KEY,
    API_KEY,
    INSTITUTION_UUID,
    ORDER_UUID,
    USER_UUID,
    GoldenStandIn,
    ReceivedFrame,
)

FOLDER_UUID = "55555555-5555-4555-8555-555555555555"
CT_SMALL = Path(get_testdata_file("CT_small.dcm"))  # type: ignore[arg-type]
DICOM_FILES = [CT_SMALL, GOLDEN / "files" / "golden_big.dcm"]
DOCUMENTS = [GOLDEN / "files" / "small.pdf", GOLDEN / "files" / "report.pdf"]
ANONYMIZED_DATA = [{"Tag": "x00100010", "Value": "ANON^PATIENT"}, {"Tag": "x00100020", "Value": "ANON-1"}]


def _vector_calls() -> list[list[dict[str, Any]]]:
    """Split the capture into its four calls; each starts with an upload Initialize."""
    lines = [json.loads(line) for line in (GOLDEN / "uploads.jsonl").read_text().splitlines()]
    calls: list[list[dict[str, Any]]] = []
    for line in lines:
        starts_call = (
            line.get("message_type") == MessageType.FILE_UPLOAD_REQUEST
            and line.get("management_type") == FileUploadManagementType.INITIALIZE
        )
        if starts_call:
            calls.append([])
        if calls:
            calls[-1].append(line)
    assert len(calls) == 4
    return calls


VECTOR_CALLS = _vector_calls()


def _on_upload_socket(message_type: int, management_type: int) -> bool:
    return (message_type, management_type) in {
        (MessageType.SESSION_MANAGEMENT_REQUEST, SessionManagementType.REGISTER_SESSION),
        (MessageType.FILE_UPLOAD_REQUEST, FileUploadManagementType.PROCESS_FILE),
    }


def _vector_frames(call: list[dict[str, Any]], *, upload_socket: bool) -> list[dict[str, Any]]:
    return [
        line
        for line in call
        if "message_type" in line
        and _on_upload_socket(line["message_type"], line["management_type"]) == upload_socket
    ]


def _described(received: ReceivedFrame) -> dict[str, Any]:
    """Describe a received frame the way the capture describes one."""
    frame = received.frame
    described: dict[str, Any] = {
        "message_type": frame.message_type,
        "management_type": frame.management_type,
        "json": frame.payload.decode(),
    }
    if frame.message_type == MessageType.FILE_UPLOAD_REQUEST:
        described |= {
            "file_bytes_len": len(frame.file_bytes),
            "file_bytes_sha256": hashlib.sha256(frame.file_bytes).hexdigest(),
            "user_uuid": frame.user_uuid,
            "trailing": received.raw[-1:].hex(),
            "frame_len": len(received.raw),
        }
    return described


def _comparable(line: dict[str, Any], *, anonymized: bool) -> dict[str, Any]:
    kept = {key: value for key, value in line.items() if key not in {"message_id", "socket_opened"}}
    if anonymized and line["management_type"] == FileUploadManagementType.PROCESS_FILE:
        for key in ("file_bytes_len", "file_bytes_sha256", "frame_len"):
            kept.pop(key, None)
    return kept


async def _replay(client: PostDicomClient, number: int, events: list[UploadEvent]) -> None:
    user, institution = USER_UUID, INSTITUTION_UUID
    if number == 0:
        await client.upload_dicom_files(user, institution, DICOM_FILES, progress=events.append)
    elif number == 1:
        await client.upload_dicom_files_into_folder(
            user, institution, FOLDER_UUID, DICOM_FILES, progress=events.append
        )
    elif number == 2:
        await client.upload_dicom_files_with_anonymization(
            user, institution, DICOM_FILES, ANONYMIZED_DATA, progress=events.append
        )
    else:
        await client.upload_document_files(user, institution, ORDER_UUID, DOCUMENTS, progress=events.append)


def _without_resent_last_parts(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop the library's duplicate document frames: after a file of a multi-file upload, it resends
    the file's last part (its intended zero "finish" frame carries the last part's JSON by mistake)."""
    kept: list[dict[str, Any]] = []
    for line in frames:
        if kept and _comparable(line, anonymized=False) == _comparable(kept[-1], anonymized=False):
            continue
        kept.append(line)
    return kept


def test_vector_files_are_the_captured_ones() -> None:
    assert hashlib.sha256(CT_SMALL.read_bytes()).hexdigest().startswith("3dd31e5c")
    assert [path.stat().st_size for path in DICOM_FILES] == [39206, 819880]


@pytest.mark.parametrize("number", range(4), ids=["plain", "into-folder", "anonymized", "documents"])
async def test_each_upload_call_sends_the_librarys_frames(number: int) -> None:
    call = VECTOR_CALLS[number]
    async with (
        GoldenStandIn() as standin,
        PostDicomClient(API_KEY, ACCOUNT_KEY, router_url=standin.router_url, upload_sockets=1) as client,
    ):
        await client.initialize()
        before = len(standin.frames)
        events: list[UploadEvent] = []
        await _replay(client, number, events)
        sent = standin.frames[before:]

    main = [_described(received) for received in sent if received.socket_index == 0]
    upload_sockets = sorted({received.socket_index for received in sent} - {0})
    expected_main = [
        _comparable(line, anonymized=number == 2) for line in _vector_frames(call, upload_socket=False)
    ]
    if number == 3:
        expected_main = _without_resent_last_parts(expected_main)
        assert len(expected_main) == len(_vector_frames(call, upload_socket=False)) - 2
    assert [_comparable(line, anonymized=number == 2) for line in main] == expected_main

    assert len(upload_sockets) == sum(1 for line in call if line.get("socket_opened"))
    for socket_index in upload_sockets:
        on_socket = [_described(received) for received in sent if received.socket_index == socket_index]
        expected = [
            _comparable(line, anonymized=number == 2) for line in _vector_frames(call, upload_socket=True)
        ]
        assert [_comparable(line, anonymized=number == 2) for line in on_socket] == expected

    if number < 3:
        # As many frames as the library: MessageIDs run from Initialize's on without gaps, in some order.
        ours = sorted(received.frame.message_id for received in sent)
        theirs = sorted(line["message_id"] for line in call if "message_id" in line)
        assert [id_ - ours[0] for id_ in ours] == [id_ - theirs[0] for id_ in theirs]
    completed = events[-1]
    assert isinstance(completed, Completed)
    assert [order.patient_order_uuid for order in completed.orders] == [ORDER_UUID]
    assert completed.files_sent == (0, 1)


async def test_anonymized_parts_reassemble_into_the_rewritten_files() -> None:
    async with (
        GoldenStandIn() as standin,
        PostDicomClient(API_KEY, ACCOUNT_KEY, router_url=standin.router_url, upload_sockets=1) as client,
    ):
        await client.initialize()
        await _replay(client, 2, [])
    files: dict[int, dict[int, bytes]] = {}
    for received in standin.frames:
        if received.frame.management_type == FileUploadManagementType.PROCESS_FILE:
            fields = received.json()
            files.setdefault(fields["FileIndex"], {})[fields["CurrentFilePartIndex"]] = (
                received.frame.file_bytes
            )
    for index, original in enumerate(DICOM_FILES):
        rewritten = b"".join(part for _, part in sorted(files[index].items()))
        dataset = pydicom.dcmread(BytesIO(rewritten))
        source = pydicom.dcmread(original)
        assert (dataset.PatientName, dataset.PatientID) == ("ANON^PATIENT", "ANON-1")
        assert dataset.PixelData == source.PixelData
        assert dataset.SOPInstanceUID == source.SOPInstanceUID


async def test_the_four_calls_replay_on_one_connection() -> None:
    async with (
        GoldenStandIn() as standin,
        PostDicomClient(API_KEY, ACCOUNT_KEY, router_url=standin.router_url, upload_sockets=1) as client,
    ):
        await client.initialize()
        for number in range(4):
            await _replay(client, number, [])
        sent = standin.frames[1:]
    everything = [line for call in VECTOR_CALLS for line in call if "json" in line]
    expected = _without_resent_last_parts(everything)
    assert sorted(received.frame.payload.decode() for received in sent) == sorted(
        line["json"] for line in expected
    )
    # The DICOM calls use the capture's MessageIDs; the documents two fewer (no resent last parts).
    dicom_ids = {line["message_id"] for call in VECTOR_CALLS[:3] for line in call if "message_id" in line}
    assert {received.frame.message_id for received in sent} == dicom_ids | {23, 24, 25, 26}
    assert max(dicom_ids) == 22
