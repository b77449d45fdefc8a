"""Uploads into the emulator: parts out of order over several sockets, dedupe, documents, refusals."""

from __future__ import annotations

import asyncio
import io
import json
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage

from bot.postdicom import ApiError, PostDicomClient
from bot.postdicom.frames import FileUploadManagementType as Upload
from bot.postdicom.frames import MessageType, RequestFrame
from bot.postdicom.jsvalues import to_json
from bot.postdicom.upload_frames import PART_SIZE
from bot.postdicom.uploads import SkipReason
from bot.sandbox.postdicom import (
    ADA_UUID,
    CASES_FOLDER_UUID,
    CT_ORDER_UUID,
    DEMO_ACCOUNT_KEY,
    DEMO_API_KEY,
    MAIN_INSTITUTION_UUID,
    MR_ORDER_UUID,
    PostDicomEmulator,
)
from bot.sandbox.postdicom.rawclient import RawSession, RawSocket
from bot.sandbox.postdicom.state import Account, Order
from tests.conftest import connected_client
from tests.paths import GOLDEN_FILES

CT_SMALL_STUDY = "1.3.6.1.4.1.5962.1.2.1.20040119072730.12322"
MISSING = "12345678-1234-4234-8234-123456789abc"


@pytest.fixture
async def raw(emulator: PostDicomEmulator, http: aiohttp.ClientSession) -> AsyncIterator[RawSession]:
    session = await RawSession.open(http, emulator.router_url, DEMO_API_KEY, DEMO_ACCOUNT_KEY)
    yield session
    await session.close()


@pytest.fixture
async def client(emulator: PostDicomEmulator) -> AsyncIterator[PostDicomClient]:
    async with connected_client(emulator, timeout=20, upload_sockets=3) as connected:
        yield connected


def demo(emulator: PostDicomEmulator) -> Account:
    account = emulator.state.account(DEMO_ACCOUNT_KEY)
    assert account is not None
    return account


def bundled(name: str) -> bytes:
    path = get_testdata_file(name, download=False)
    assert isinstance(path, str)
    return Path(path).read_bytes()


def made_dicom(study: str, sop: str, *, name: str = "Made^Up", pixels: int = 3_000_000) -> bytes:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = pydicom.uid.UID(sop)
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset = Dataset()
    dataset.file_meta = meta
    dataset.SOPClassUID = SecondaryCaptureImageStorage
    dataset.SOPInstanceUID = sop
    dataset.StudyInstanceUID = study
    dataset.SeriesInstanceUID = study + ".1"
    dataset.PatientName = name
    dataset.PatientID = "MADE-1"
    dataset.PatientBirthDate = "19750203"
    dataset.PatientSex = "F"
    dataset.AccessionNumber = "MADE-ACC"
    dataset.Modality = "OT"
    dataset.StudyDate = "20250317"
    dataset.StudyTime = "141500"
    dataset.StudyDescription = "Made for tests"
    dataset.Rows = 1000
    dataset.Columns = pixels // 1000
    dataset.SamplesPerPixel = 1
    dataset.PhotometricInterpretation = "MONOCHROME2"
    dataset.BitsAllocated = 8
    dataset.BitsStored = 8
    dataset.HighBit = 7
    dataset.PixelRepresentation = 0
    dataset.PixelData = bytes(range(256)) * (pixels // 256) + bytes(pixels % 256)
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def parts(data: bytes) -> list[bytes]:
    return [data[offset : offset + PART_SIZE] for offset in range(0, len(data), PART_SIZE)] or [b""]


def part_frame(
    raw: RawSession, session_uuid: str, file_index: int, index: int, total: int, data: bytes, **extra: Any
) -> RequestFrame:
    params = {
        "SessionUniqueUuid": session_uuid,
        "InstitutionUuid": MAIN_INSTITUTION_UUID,
        "UserUuid": ADA_UUID,
        "FileIndex": file_index,
        "CurrentFilePartIndex": index,
        "CurrentFileTotalPartCount": total,
        **extra,
        "ApiKey": raw.api_key,
        "AccountKey": raw.account_key,
    }
    return RequestFrame(
        MessageType.FILE_UPLOAD_REQUEST, raw.next_id(), Upload.PROCESS_FILE, to_json(params), data, ADA_UUID
    )


async def initialize(raw: RawSession) -> str:
    reply = await raw.upload(
        Upload.INITIALIZE,
        {
            "UserUuid": ADA_UUID,
            "InstitutionUuid": MAIN_INSTITUTION_UUID,
            "TotalFileSize": 12.5,
            "UploaderUuid": ADA_UUID,
            "UploaderName": "Ada Radiologist - API",
        },
        user_uuid=ADA_UUID,
    )
    assert reply["ResponseCode"] == 1
    assert reply["ResponseMessage"]["Success"] is True
    session = reply["SessionUniqueUuid"]
    assert isinstance(session, str)
    return session


async def send_file(
    raw: RawSession, session_uuid: str, file_index: int, data: bytes, **extra: Any
) -> dict[str, Any]:
    pieces = parts(data)
    reply: dict[str, Any] = {}
    for index, piece in enumerate(pieces):
        frame = part_frame(raw, session_uuid, file_index, index, len(pieces), piece, **extra)
        reply = (await raw.main.request(frame)).json()
    return reply


def order_of(emulator: PostDicomEmulator, study_uid: str) -> Order:
    order = demo(emulator).order_by_study(study_uid)
    assert order is not None
    return order


# --- DICOM parts ---------------------------------------------------------------------------------


async def test_parts_out_of_order_over_several_sockets_reassemble_into_orders(
    emulator: PostDicomEmulator, raw: RawSession
) -> None:
    session_uuid = await initialize(raw)
    big = made_dicom("1.2.826.0.1.3680043.8.498.9001", "1.2.826.0.1.3680043.8.498.9001.1")
    golden = (GOLDEN_FILES / "golden_big.dcm").read_bytes()
    files = {0: big, 1: golden}
    frames = [
        part_frame(raw, session_uuid, file_index, index, len(pieces), piece)
        for file_index, data in files.items()
        for pieces in [parts(data)]
        for index, piece in enumerate(pieces)
    ]
    assert len(frames) == 8
    random.Random(3).shuffle(frames)
    sockets = [await raw.upload_socket() for _ in range(3)]

    async def carry(socket: RawSocket, share: list[RequestFrame]) -> list[dict[str, Any]]:
        return [(await socket.request(frame)).json() for frame in share]

    replies = await asyncio.gather(
        *(carry(socket, frames[number::3]) for number, socket in enumerate(sockets))
    )
    flat = [reply for share in replies for reply in share]
    assert all(reply["ResponseCode"] == 1 for reply in flat)
    with_order = [
        reply["ResponseMessage"]["PatientOrder"]
        for reply in flat
        if "PatientOrder" in reply["ResponseMessage"]
    ]
    assert len(with_order) == 2
    made = order_of(emulator, "1.2.826.0.1.3680043.8.498.9001")
    assert (made.patient_name, made.patient_id, made.birthdate, made.sex) == (
        "Made^Up",
        "MADE-1",
        "1975-02-03",
        "F",
    )
    assert (made.modality, made.performed, made.accession_number) == ("OT", "2025-03-17 14:15", "MADE-ACC")
    assert made.institution_uuid == MAIN_INSTITUTION_UUID
    assert made.instances["1.2.826.0.1.3680043.8.498.9001.1"].data == big
    golden_order = order_of(emulator, "1.2.826.0.1.3680043.8.498.2001")
    assert golden_order.patient_name == "GOLDEN^BIG"
    assert next(iter(golden_order.instances.values())).data == golden
    assert {reply["PatientOrderUuid"] for reply in with_order} == {made.uuid, golden_order.uuid}
    assert emulator.uploads.pending_parts() == 0
    stats = emulator.stats_snapshot()
    assert stats["frames"]["23:PROCESS_FILE"] == 8
    assert stats["uploads"]["files_completed"] == 2


async def test_the_api_session_uuid_is_accepted_as_the_library_sends_it(
    emulator: PostDicomEmulator, raw: RawSession
) -> None:
    await initialize(raw)
    reply = await send_file(raw, raw.session_uuid, 0, bundled("rtplan.dcm"))
    assert reply["ResponseCode"] == 1
    order = reply["ResponseMessage"]["PatientOrder"]
    assert order["OrderModality"] == "RTPLAN"
    assert order["ImagesCount"] == 1


async def test_unknown_sessions_are_refused_with_a_top_level_message(
    emulator: PostDicomEmulator, raw: RawSession
) -> None:
    reply = await send_file(raw, MISSING, 0, bundled("rtplan.dcm"))
    assert reply["ResponseCode"] != 1
    assert reply["Message"] == "Upload session not found."
    assert reply["ResponseMessage"]["Success"] is False


async def test_the_same_sop_instance_is_stored_once(emulator: PostDicomEmulator, raw: RawSession) -> None:
    session_uuid = await initialize(raw)
    account = demo(emulator)
    before = account.counts()
    again = await send_file(raw, session_uuid, 0, bundled("CT_small.dcm"))
    assert again["ResponseMessage"]["PatientOrder"]["PatientOrderUuid"] == CT_ORDER_UUID
    assert again["ResponseMessage"]["Message"] == "File already exists."
    variant = await send_file(raw, session_uuid, 1, bundled("MR_small_implicit.dcm"))
    assert variant["ResponseMessage"]["PatientOrder"]["PatientOrderUuid"] == MR_ORDER_UUID
    new = bundled("reportsi.dcm")
    await send_file(raw, session_uuid, 2, new)
    second_session = await initialize(raw)
    await send_file(raw, second_session, 0, new)
    after = account.counts()
    assert after == (before[0] + 1, before[1] + 1, before[2])
    assert account.orders[CT_ORDER_UUID].instances.keys() == {
        "1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322"
    }
    assert emulator.uploads.counters.instances_deduplicated == 3
    assert emulator.uploads.counters.files_completed == 4


async def test_files_into_a_folder_and_unknown_folders(emulator: PostDicomEmulator, raw: RawSession) -> None:
    session_uuid = await initialize(raw)
    reply = await send_file(raw, session_uuid, 0, bundled("693_J2KI.dcm"), FolderUuidList=[CASES_FOLDER_UUID])
    order_uuid = reply["ResponseMessage"]["PatientOrder"]["PatientOrderUuid"]
    assert order_uuid in demo(emulator).folders[CASES_FOLDER_UUID].order_uuids
    assert reply["ResponseMessage"]["PatientOrder"]["FolderUuidList"] == [CASES_FOLDER_UUID]
    refused = await send_file(raw, session_uuid, 1, bundled("rtplan.dcm"), FolderUuidList=[MISSING])
    assert (refused["ResponseCode"], refused["Message"]) == (0, "Folder not found.")


async def test_what_is_not_dicom_is_refused(emulator: PostDicomEmulator, raw: RawSession) -> None:
    session_uuid = await initialize(raw)
    for index, data in enumerate(
        [(GOLDEN_FILES / "small.pdf").read_bytes(), bundled("no_meta.dcm"), bundled("CT_small.dcm")[:200]]
    ):
        reply = await send_file(raw, session_uuid, index, data)
        assert reply["ResponseCode"] == 0
        assert reply["Message"] == "The file is not a valid DICOM file."
    assert emulator.uploads.counters.files_refused == 3


async def test_inconsistent_part_numbers_are_refused(raw: RawSession) -> None:
    session_uuid = await initialize(raw)
    beyond = (await raw.main.request(part_frame(raw, session_uuid, 0, 2, 2, b"x"))).json()
    assert beyond["ResponseCode"] == 0
    first = (await raw.main.request(part_frame(raw, session_uuid, 1, 0, 3, b"x"))).json()
    changed = (await raw.main.request(part_frame(raw, session_uuid, 1, 1, 4, b"x"))).json()
    assert first["ResponseCode"] == 1
    assert changed["ResponseCode"] == 0
    assert "CurrentFileTotalPartCount" in changed["Message"]
    negative = (await raw.main.request(part_frame(raw, session_uuid, -1, 0, 1, b"x"))).json()
    assert negative["ResponseCode"] == 0


async def test_cancel_drops_partial_files(emulator: PostDicomEmulator, raw: RawSession) -> None:
    session_uuid = await initialize(raw)
    await raw.main.request(part_frame(raw, session_uuid, 0, 0, 3, b"x"))
    assert emulator.uploads.pending_parts() == 1
    reply = await raw.upload(Upload.CANCEL, {"SessionUniqueUuid": session_uuid}, user_uuid=ADA_UUID)
    assert reply["ResponseCode"] == 1
    assert emulator.uploads.pending_parts() == 0
    unsupported = await raw.upload(
        Upload.ATTACH_DOCUMENT, {"SessionUniqueUuid": session_uuid}, user_uuid=ADA_UUID
    )
    assert unsupported["ResponseCode"] == 0


# --- CheckFileExist ------------------------------------------------------------------------------


def check_params(session_uuid: str, study: str, sop: str, **extra: Any) -> dict[str, Any]:
    return {
        "SessionUniqueUuid": session_uuid,
        "InstitutionUuid": MAIN_INSTITUTION_UUID,
        "UserUuid": ADA_UUID,
        **extra,
        "StudyInstanceUid": study,
        "PatientName": "CompressedSamples^CT1",
        "PatientId": "1CT1",
        "SeriesInstanceUid": study + ".1",
        "SopInstanceUid": sop,
    }


async def test_check_file_exist_answers_by_sop_instance_uid(raw: RawSession) -> None:
    session_uuid = await initialize(raw)
    sop = "1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322"
    known = await raw.upload(
        Upload.CHECK_FILE_EXIST, check_params(raw.session_uuid, CT_SMALL_STUDY, sop), user_uuid=ADA_UUID
    )
    assert known["ResponseCode"] == 1
    assert known["StudyInstanceUid"] == CT_SMALL_STUDY
    assert known["ResponseMessage"]["FileIfExist"] is True
    assert known["ResponseMessage"]["PatientOrder"]["PatientOrderUuid"] == CT_ORDER_UUID
    new_sop = await raw.upload(
        Upload.CHECK_FILE_EXIST,
        check_params(session_uuid, CT_SMALL_STUDY, "1.2.3.4", FolderUuid=CASES_FOLDER_UUID),
        user_uuid=ADA_UUID,
    )
    assert new_sop["ResponseMessage"]["FileIfExist"] is False
    assert new_sop["ResponseMessage"]["PatientOrder"]["PatientOrderUuid"] == CT_ORDER_UUID
    new_study = await raw.upload(
        Upload.CHECK_FILE_EXIST, check_params(session_uuid, "1.2.3", "1.2.3.4"), user_uuid=ADA_UUID
    )
    assert new_study["ResponseMessage"] == {"Success": True, "FileIfExist": False}
    refused = await raw.upload(
        Upload.CHECK_FILE_EXIST, check_params(MISSING, "1.2.3", "1.2.3.4"), user_uuid=ADA_UUID
    )
    assert refused["ResponseCode"] == 0
    assert refused["StudyInstanceUid"] == "1.2.3"
    assert refused["ResponseMessage"]["FileIfExist"] is False
    assert refused["Message"]


# --- documents -----------------------------------------------------------------------------------


def document_params(
    session_uuid: str, file_index: int, name: str, mime: str = "application/pdf", **extra: Any
) -> dict[str, Any]:
    return {
        "SessionUniqueUuid": session_uuid,
        "InstitutionUuid": MAIN_INSTITUTION_UUID,
        "UserUuid": ADA_UUID,
        "FileIndex": file_index,
        **extra,
        "PatientOrderUuid": CT_ORDER_UUID,
        "FileName": name,
        "FileType": mime,
        "IsDocument": True,
    }


async def send_document_as_the_library_does(
    raw: RawSession, session_uuid: str, file_index: int, name: str, data: bytes, *, file_count: int
) -> list[dict[str, Any]]:
    replies = []
    pieces = parts(data)
    last: dict[str, Any] = {}
    for index, piece in enumerate(pieces):
        if len(pieces) == 1:
            last = document_params(
                session_uuid, file_index, name, CurrentFilePartIndex=0, CurrentFileTotalPartCount=1
            )
        else:
            last = document_params(
                session_uuid,
                file_index,
                name,
                TotalFileCount=file_count,
                CurrentFilePartIndex=index,
                CurrentFileTotalPartCount=len(pieces),
                FileBuffer=piece,
            )
        # The whole document rides in the binary field of every part: the library's bug.
        replies.append(await raw.upload(Upload.PROCESS_DOCUMENTS, last, data, user_uuid=ADA_UUID))
    if file_count > 1:
        # With several files the library sends each file's last part once more.
        replies.append(await raw.upload(Upload.PROCESS_DOCUMENTS, last, data, user_uuid=ADA_UUID))
    return replies


async def test_documents_single_and_multi_part_with_the_librarys_resend(
    emulator: PostDicomEmulator, raw: RawSession
) -> None:
    session_uuid = await initialize(raw)
    small = (GOLDEN_FILES / "small.pdf").read_bytes()
    report = (GOLDEN_FILES / "report.pdf").read_bytes()
    first = await send_document_as_the_library_does(raw, session_uuid, 0, "small.pdf", small, file_count=2)
    second = await send_document_as_the_library_does(raw, session_uuid, 1, "report.pdf", report, file_count=2)
    replies = first + second
    assert len(replies) == 5
    assert all(reply["ResponseCode"] == 1 for reply in replies)
    assert all(
        reply["ResponseMessage"]["PatientOrder"]["PatientOrderUuid"] == CT_ORDER_UUID for reply in replies
    )
    documents = demo(emulator).orders[CT_ORDER_UUID].documents
    assert [(item.file_name, item.file_type, item.data) for item in documents] == [
        ("small.pdf", "application/pdf", small),
        ("report.pdf", "application/pdf", report),
    ]
    assert replies[-1]["ResponseMessage"]["PatientOrder"]["DocumentsCount"] == 2
    assert emulator.uploads.counters.documents_resent == 2


async def test_big_multi_part_documents_pass_the_websocket_size_limit(
    emulator: PostDicomEmulator, raw: RawSession
) -> None:
    session_uuid = await initialize(raw)
    video = random.Random(5).randbytes(6 * PART_SIZE + 17)
    # Every frame carries the whole video and a FileBuffer of at least two characters a byte.
    assert len(video) + 2 * PART_SIZE > 4 * 1024 * 1024
    replies = await send_document_as_the_library_does(raw, session_uuid, 0, "clip.mp4", video, file_count=1)
    assert all(reply["ResponseCode"] == 1 for reply in replies)
    assert demo(emulator).orders[CT_ORDER_UUID].documents[-1].data == video


async def test_multi_part_documents_without_file_buffer_use_the_binary_part(
    emulator: PostDicomEmulator, raw: RawSession
) -> None:
    session_uuid = await initialize(raw)
    report = (GOLDEN_FILES / "report.pdf").read_bytes()
    pieces = parts(report)
    for index in reversed(range(len(pieces))):
        params = document_params(
            session_uuid, 0, "report.pdf", CurrentFilePartIndex=index, CurrentFileTotalPartCount=len(pieces)
        )
        assert (await raw.upload(Upload.PROCESS_DOCUMENTS, params, pieces[index], user_uuid=ADA_UUID))[
            "ResponseCode"
        ] == 1
    assert demo(emulator).orders[CT_ORDER_UUID].documents[-1].data == report


@pytest.mark.parametrize(
    ("name", "mime", "order", "message"),
    [
        ("tool.exe", "application/octet-stream", CT_ORDER_UUID, "Only PDF"),
        ("scan.pdf", "application/pdf", MISSING, "Patient order not found."),
        ("", "application/pdf", CT_ORDER_UUID, "FileName"),
    ],
)
async def test_documents_are_refused_for_bad_types_and_orders(
    raw: RawSession, name: str, mime: str, order: str, message: str
) -> None:
    session_uuid = await initialize(raw)
    params = {
        **document_params(session_uuid, 0, name, mime, CurrentFilePartIndex=0, CurrentFileTotalPartCount=1),
        "PatientOrderUuid": order,
    }
    reply = await raw.upload(Upload.PROCESS_DOCUMENTS, params, b"%PDF-1.4", user_uuid=ADA_UUID)
    assert reply["ResponseCode"] == 0
    assert message in reply["Message"]


async def test_broken_file_buffers_are_refused(raw: RawSession) -> None:
    session_uuid = await initialize(raw)
    for buffer in ([1, 2, 300], [1, "x"], "nope"):
        params = document_params(
            session_uuid, 0, "a.pdf", CurrentFilePartIndex=0, CurrentFileTotalPartCount=2, FileBuffer=buffer
        )
        reply = await raw.upload(Upload.PROCESS_DOCUMENTS, params, b"whole", user_uuid=ADA_UUID)
        assert reply["ResponseCode"] == 0


# --- through our client --------------------------------------------------------------------------


async def test_client_uploads_in_parallel_and_skips_what_exists(
    emulator: PostDicomEmulator, client: PostDicomClient, tmp_path: Path
) -> None:
    made = tmp_path / "made.dcm"
    made.write_bytes(made_dicom("1.2.826.0.1.3680043.8.498.9100", "1.2.826.0.1.3680043.8.498.9100.1"))
    not_dicom = tmp_path / "notes.txt"
    not_dicom.write_text("not DICOM")
    files = [
        str(made),
        str(GOLDEN_FILES / "golden_big.dcm"),
        get_testdata_file("examples_rgb_color.dcm", download=False),
        get_testdata_file("examples_jpeg2k.dcm", download=False),
        get_testdata_file("CT_small.dcm", download=False),
        str(not_dicom),
    ]
    paths = [str(path) for path in files]
    before = demo(emulator).counts()
    result = await client.upload_dicom_files(ADA_UUID, MAIN_INSTITUTION_UUID, paths)
    assert result.files_sent == (0, 1, 2, 3)
    assert [(item.file_index, item.reason) for item in result.files_skipped] == [
        (4, SkipReason.ALREADY_EXISTS),
        (5, SkipReason.NOT_DICOM),
    ]
    after = demo(emulator).counts()
    assert after[:2] == (before[0] + 3, before[1] + 4)
    ultrasound = order_of(emulator, "1.3.6.1.4.1.5962.1.2.13.20040826185059.5457")
    assert len(ultrasound.instances) == 2
    assert ultrasound.modality == "US"
    assert {order.patient_order_uuid for order in result.orders} >= {ultrasound.uuid, CT_ORDER_UUID}
    assert emulator.stats.frames["3:REGISTER_SESSION"] == 3
    again = await client.upload_dicom_files(ADA_UUID, MAIN_INSTITUTION_UUID, paths[:4])
    assert again.files_sent == ()
    assert demo(emulator).counts() == after


async def test_client_uploads_into_a_folder_and_anonymized(
    emulator: PostDicomEmulator, client: PostDicomClient
) -> None:
    path = get_testdata_file("reportsi.dcm", download=False)
    assert isinstance(path, str)
    result = await client.upload_dicom_files_with_anonymization(
        ADA_UUID, MAIN_INSTITUTION_UUID, [path], {"x00100010": "ANON^PATIENT", "x00100020": "ANON-1"}
    )
    assert result.files_sent == (0,)
    order = next(iter(result.orders))
    stored = demo(emulator).orders[order.patient_order_uuid]
    assert (stored.patient_name, stored.patient_id) == ("ANON^PATIENT", "ANON-1")
    other = get_testdata_file("examples_palette.dcm", download=False)
    assert isinstance(other, str)
    into = await client.upload_dicom_files_into_folder(
        ADA_UUID, MAIN_INSTITUTION_UUID, CASES_FOLDER_UUID, [other]
    )
    filed = next(iter(into.orders))
    assert filed.folder_uuid_list == [CASES_FOLDER_UUID]
    listed = await client.get_patient_order_list_in_folder(ADA_UUID, CASES_FOLDER_UUID)
    assert filed.patient_order_uuid in {item.patient_order_uuid for item in listed}


async def test_client_document_uploads_attach_once(
    emulator: PostDicomEmulator, client: PostDicomClient
) -> None:
    result = await client.upload_document_files(
        ADA_UUID,
        MAIN_INSTITUTION_UUID,
        MR_ORDER_UUID,
        [str(GOLDEN_FILES / "small.pdf"), str(GOLDEN_FILES / "report.pdf")],
    )
    assert result.files_sent == (0, 1)
    order = await client.get_patient_order_properties(ADA_UUID, MAIN_INSTITUTION_UUID, MR_ORDER_UUID)
    assert order.documents_count == 2
    listed = (order.model_extra or {})["DocumentList"]
    assert [(item["FileName"], item["FileSize"]) for item in listed] == [
        ("small.pdf", 36),
        ("report.pdf", 698889),
    ]
    with pytest.raises(ApiError, match="Patient order not found"):
        await client.upload_document_files(
            ADA_UUID, MAIN_INSTITUTION_UUID, MISSING, [str(GOLDEN_FILES / "small.pdf")]
        )


async def test_upload_frames_before_a_session_are_refused(
    emulator: PostDicomEmulator, http: aiohttp.ClientSession
) -> None:
    socket = await RawSocket.connect(http, f"{emulator.websocket_url}/?ClientUniqueId={DEMO_API_KEY}")
    try:
        frame = RequestFrame(
            23, 1, Upload.CHECK_FILE_EXIST, to_json({"StudyInstanceUid": "1.2"}), b"", ADA_UUID
        )
        reply = (await socket.request(frame)).json()
    finally:
        await socket.close()
    assert reply["ResponseCode"] == 0
    assert reply["ResponseMessage"]["FileIfExist"] is False
    assert reply["StudyInstanceUid"] == "1.2"
    assert "CreateApiSession" in json.dumps(reply)


async def test_a_new_upload_abandons_the_unfinished_files_of_the_last(
    emulator: PostDicomEmulator, raw: RawSession
) -> None:
    await initialize(raw)
    stale = (await raw.main.request(part_frame(raw, raw.session_uuid, 0, 1, 2, b"stale"))).json()
    assert stale["ResponseCode"] == 1
    assert emulator.uploads.pending_parts() == 1
    await initialize(raw)
    assert emulator.uploads.pending_parts() == 0
    golden = (GOLDEN_FILES / "golden_big.dcm").read_bytes()
    pieces = parts(golden)
    for index in range(len(pieces)):
        await raw.main.request(part_frame(raw, raw.session_uuid, 0, index, len(pieces), pieces[index]))
    assert next(iter(order_of(emulator, "1.2.826.0.1.3680043.8.498.2001").instances.values())).data == golden
