"""Uploads beyond the golden replay: parallel sockets, skips, bad inputs, failures, progress, memory."""

from __future__ import annotations

import asyncio
import hashlib
import json
import struct
import tempfile
import tracemalloc
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, CTImageStorage, ExplicitVRLittleEndian

from bot.postdicom import (
    ApiError,
    Checking,
    Completed,
    ConnectionLost,
    DocumentTooLarge,
    InvalidAnonymization,
    InvalidParameter,
    PostDicomClient,
    Reading,
    RequestTimeout,
    Sending,
    Skipped,
    SkipReason,
    UploadEvent,
    UploadInterrupted,
)
from bot.postdicom import upload_frames as frames
from bot.postdicom.dicomfiles import DicomTag
from bot.postdicom.frames import FileUploadManagementType as Upload
from bot.postdicom.frames import MessageType
from bot.postdicom.models import Account
from bot.postdicom.uploads import anonymization_replacements
from tests.dicom.samples import ct_image, deeply_nested
from tests.postdicom.standin import (
    ACCOUNT,
    ACCOUNT_KEY,
    API_KEY,
    INSTITUTION_UUID,
    ORDER_UUID,
    USER_UUID,
    GoldenStandIn,
    ReceivedFrame,
    golden_reply,
)

CT_SMALL = Path(get_testdata_file("CT_small.dcm"))  # type: ignore[arg-type]
CT_BYTES = CT_SMALL.read_bytes()
OTHER_ORDER = "44444444-4444-4444-8444-444444444444"
FOLDER = "55555555-5555-4555-8555-555555555555"
PART = frames.PART_SIZE
Responder = Callable[[ReceivedFrame], Awaitable[dict[str, Any] | None]]


# --- helpers -------------------------------------------------------------------------------------


def write_dicom(
    path: Path,
    pixel_bytes: int,
    *,
    study: str = "1.2.826.0.1.3680043.8.498.7001",
    sop: str = "1.2.826.0.1.3680043.8.498.7002",
    patient: str = "TEST^PATIENT",
    header_padding: int = 0,
) -> Path:
    """Write an Explicit VR Little Endian CT file whose pixel data is a byte pattern, streamed to disk."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = UID(sop)
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset = Dataset()
    dataset.file_meta = meta
    dataset.SOPClassUID = CTImageStorage
    dataset.SOPInstanceUID = sop
    dataset.StudyInstanceUID = study
    dataset.SeriesInstanceUID = study + ".1"
    dataset.PatientName = patient
    dataset.PatientID = "ID-1"
    if header_padding:
        dataset.add_new(0x00291010, "OB", b"\x01" * header_padding)  # a large private header value
    dataset.save_as(path, enforce_file_format=True)
    pattern = bytes(range(256)) * 4096
    with path.open("ab") as handle:
        handle.write(b"\xe0\x7f\x10\x00OB\x00\x00" + struct.pack("<I", pixel_bytes))
        left = pixel_bytes
        while left:
            chunk = pattern[: min(left, len(pattern))]
            handle.write(chunk)
            left -= len(chunk)
    return path


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@asynccontextmanager
async def connected(
    responder: Responder | None = None,
    *,
    upload_sockets: int = 4,
    wait_seconds: float = 10.0,
    keep_bytes: bool = True,
) -> AsyncIterator[tuple[GoldenStandIn, PostDicomClient]]:
    async with (
        GoldenStandIn(responder=responder, keep_file_bytes=keep_bytes) as standin,
        PostDicomClient(
            API_KEY,
            ACCOUNT_KEY,
            router_url=standin.router_url,
            upload_sockets=upload_sockets,
            timeout=wait_seconds,
        ) as client,
    ):
        await client.initialize()
        yield standin, client


def of_kind(standin: GoldenStandIn, management_type: Upload) -> list[ReceivedFrame]:
    return [
        received
        for received in standin.frames
        if received.frame.message_type == MessageType.FILE_UPLOAD_REQUEST
        and received.frame.management_type == management_type
    ]


def reassembled(standin: GoldenStandIn) -> dict[int, bytes]:
    """Put every file's parts back together by (FileIndex, CurrentFilePartIndex), checking coverage."""
    parts: dict[int, dict[int, bytes]] = {}
    counts: dict[int, int] = {}
    for received in of_kind(standin, Upload.PROCESS_FILE):
        fields = received.json()
        file_parts = parts.setdefault(fields["FileIndex"], {})
        assert fields["CurrentFilePartIndex"] not in file_parts, "a part was sent twice"
        file_parts[fields["CurrentFilePartIndex"]] = received.frame.file_bytes
        counts[fields["FileIndex"]] = fields["CurrentFileTotalPartCount"]
    for index, file_parts in parts.items():
        assert sorted(file_parts) == list(range(counts[index]))
    return {
        index: b"".join(part for _, part in sorted(file_parts.items())) for index, file_parts in parts.items()
    }


async def wait_until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(5):
        while not condition():  # noqa: ASYNC110 - polling the stand-in's state, which has no event
            await asyncio.sleep(0.01)


def upload_socket_count(standin: GoldenStandIn) -> int:
    return sum(1 for socket in standin.open_sockets if socket is not standin.sockets_by_index[0])


@pytest.fixture
def scratch_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[], set[str]]:
    # A temp root of this test's own, so scratch directories of other processes cannot show up.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    def listing() -> set[str]:
        return {entry.name for entry in Path(tempfile.gettempdir()).glob("pacsbot-upload-*")}

    before = listing()
    return lambda: listing() - before


# --- the pure builders ---------------------------------------------------------------------------


def test_initialize_divides_as_javascript_and_names_the_uploader() -> None:
    account = Account.model_validate(ACCOUNT)
    request = frames.initialize(USER_UUID, INSTITUTION_UUID, 2048, frames.uploader_name(account, USER_UUID))
    assert request.payload("k", "a") == (
        b'{"UserUuid":"%s","InstitutionUuid":"%s","TotalFileSize":2,"UploaderUuid":"%s",'
        b'"UploaderName":"Ada Radiologist - API","ApiKey":"k","AccountKey":"a"}'
        % (USER_UUID.encode(), INSTITUTION_UUID.encode(), USER_UUID.encode())
    )
    assert json.loads(frames.initialize(USER_UUID, INSTITUTION_UUID, 1, "").payload("k", "a"))[
        "TotalFileSize"
    ] == (1 / 1024)
    # The library matches users with ==: an upper-cased UUID finds nobody.
    lettered = "abcdef00-1111-4111-8111-111111111111"
    other = Account.model_validate({"UserList": [{"UserUuid": lettered, "FullName": "Bo"}]})
    assert frames.uploader_name(other, lettered) == "Bo - API"
    assert frames.uploader_name(other, lettered.upper()) == " - API"
    assert frames.uploader_name(account, OTHER_ORDER) == " - API"
    assert frames.uploader_name(None, USER_UUID) == " - API"


def test_check_file_exist_leaves_out_missing_tags_and_an_empty_folder() -> None:
    request = frames.check_file_exist(
        "s",
        "i",
        "u",
        "",
        study_instance_uid="1.2",
        patient_name=None,
        patient_id="ÄÖ",
        series_instance_uid="1.2.3",
        sop_instance_uid=None,
    )
    assert request.payload("k", "a").decode() == (
        '{"SessionUniqueUuid":"s","InstitutionUuid":"i","UserUuid":"u","StudyInstanceUid":"1.2",'
        '"PatientId":"ÄÖ","SeriesInstanceUid":"1.2.3","ApiKey":"k","AccountKey":"a"}'
    )


def test_parts_are_cut_at_512_kib() -> None:
    assert [(p.index, p.count, p.offset, p.length) for p in frames.part_ranges(0)] == [(0, 1, 0, 0)]
    assert [p.length for p in frames.part_ranges(PART)] == [PART]
    assert [p.length for p in frames.part_ranges(PART + 1)] == [PART, 1]
    assert [p.offset for p in frames.part_ranges(3 * PART - 5)] == [0, PART, 2 * PART]


def test_document_frames_take_the_librarys_two_forms() -> None:
    small = frames.process_document(
        "s",
        "i",
        "u",
        "o",
        file_index=0,
        file_count=2,
        file_name="scan.JPG",
        part=next(frames.part_ranges(3)),
        document=b"\x00\x01\xff",
    )
    assert json.loads(small.payload("k", "a")) == {
        "SessionUniqueUuid": "s", "InstitutionUuid": "i", "UserUuid": "u", "FileIndex": 0,
        "CurrentFilePartIndex": 0, "CurrentFileTotalPartCount": 1, "PatientOrderUuid": "o",
        "FileName": "scan.JPG", "FileType": "image/jpeg", "IsDocument": True, "ApiKey": "k", "AccountKey": "a",
    }  # fmt: skip
    assert small.file_bytes == b"\x00\x01\xff"
    document = bytes(range(256)) * (PART // 256) + b"\x07\x00"
    second = list(frames.part_ranges(len(document)))[1]
    big = frames.process_document(
        "s", "i", "u", "o", file_index=1, file_count=2, file_name="notes", part=second, document=document
    )
    payload = big.payload("k", "a")
    assert (
        b'"TotalFileCount":2,"CurrentFilePartIndex":1,"CurrentFileTotalPartCount":2,"FileBuffer":[7,0],'
        in payload
    )
    assert json.loads(payload)["FileType"] == ""
    assert big.file_bytes == document  # the whole document in every part, as the library sends it


def test_replies_are_read_as_the_library_reads_them() -> None:
    assert frames.upload_session({"ResponseCode": "1", "SessionUniqueUuid": "x"}) == "x"
    with pytest.raises(ApiError) as refused:
        frames.upload_session({"ResponseCode": 3, "Message": "Quota exceeded"})
    assert refused.value.server_message == "Quota exceeded"
    with pytest.raises(Exception, match="SessionUniqueUuid"):
        frames.upload_session({"ResponseCode": 1})
    check = frames.check_result(
        {"ResponseMessage": {"FileIfExist": 1, "PatientOrder": {"PatientOrderUuid": "o"}}}
    )
    assert check.exists
    assert check.patient_order == {"PatientOrderUuid": "o"}
    with pytest.raises(ApiError):
        frames.check_result({"ResponseCode": 0, "ResponseMessage": "no session"})
    with pytest.raises(ApiError, match="disk full"):
        frames.part_result("ProcessFile", {"ResponseCode": 0, "Message": "disk full"})
    assert frames.part_result("ProcessFile", {"ResponseCode": 1, "ResponseMessage": {}}) is None


def test_anonymized_data_in_either_form() -> None:
    library_form = [
        {"Tag": "x00100010", "Value": "A^B"},
        {"Tag": "X00100020", "Value": "undefined"},
        {"Tag": "x00080050"},
        {"Tag": "x00100010", "Value": "LAST^WINS"},
    ]
    assert anonymization_replacements(library_form) == {
        DicomTag.PatientName: "LAST^WINS",
        DicomTag.PatientId: "undefined",
        DicomTag.AccessionNumber: "undefined",
    }
    mixed: dict[DicomTag | str, str] = {DicomTag.StudyDate: "20240101", "InstitutionName": "X"}
    assert anonymization_replacements(mixed) == {
        DicomTag.StudyDate: "20240101",
        DicomTag.InstitutionName: "X",
    }
    with pytest.raises(InvalidAnonymization, match="x00100030"):
        anonymization_replacements([{"Tag": "x00100030", "Value": "19000101"}])


# --- validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda c: c.upload_dicom_files("nope", INSTITUTION_UUID, [CT_SMALL]),
            "Invalid parameters for userUuid. Given value = 'nope' is not guid format.",
        ),
        (
            lambda c: c.upload_dicom_files_into_folder(USER_UUID, "", FOLDER, [CT_SMALL]),
            "Invalid parameters for institutionUuid. Given value = '' is not guid format.",
        ),
        (
            lambda c: c.upload_dicom_files_into_folder_with_anonymization(
                USER_UUID, INSTITUTION_UUID, "", [CT_SMALL], []
            ),
            "Invalid parameters for folderUuid. Given value = '' is not guid format.",
        ),
        (
            lambda c: c.upload_dicom_files(
                USER_UUID, INSTITUTION_UUID, [CT_SMALL], folder_uuid="x", anonymize={}
            ),
            "Invalid parameters for folderUuid. Given value = 'x' is not guid format.",
        ),
        (
            lambda c: c.upload_document_files(USER_UUID, INSTITUTION_UUID, None, [CT_SMALL]),
            "Invalid parameters for patientOrderUuid. Given value = 'undefined' is not guid format.",
        ),
    ],
)
async def test_arguments_are_refused_as_the_library_refuses_them(
    call: Callable[[PostDicomClient], Awaitable[object]], message: str
) -> None:
    async with connected() as (standin, client):
        with pytest.raises(InvalidParameter) as refused:
            await call(client)
        assert str(refused.value) == message
        assert len(standin.frames) == 1


async def test_into_folder_does_not_validate_the_folder_as_the_library_does_not() -> None:
    async with connected() as (standin, client):
        await client.upload_dicom_files_into_folder(USER_UUID, INSTITUTION_UUID, "not-a-guid", [CT_SMALL])
        (check,) = of_kind(standin, Upload.CHECK_FILE_EXIST)
        assert check.json()["FolderUuid"] == "not-a-guid"


# --- parallel sockets ----------------------------------------------------------------------------


async def test_parts_spread_over_four_sockets_one_in_flight_each_replies_out_of_order(tmp_path: Path) -> None:
    in_flight: Counter[int] = Counter()
    most_in_flight: Counter[int] = Counter()
    sent_order: list[tuple[int, int]] = []
    answered_order: list[tuple[int, int]] = []

    async def responder(received: ReceivedFrame) -> dict[str, Any] | None:
        if received.frame.management_type == Upload.PROCESS_FILE and received.frame.message_type == 23:
            fields = received.json()
            key = (fields["FileIndex"], fields["CurrentFilePartIndex"])
            sent_order.append(key)
            in_flight[received.socket_index] += 1
            most_in_flight[received.socket_index] = max(
                most_in_flight[received.socket_index], in_flight[received.socket_index]
            )
            # Even parts are slow: later parts overtake them on other sockets.
            await asyncio.sleep(0.05 if key[1] % 2 == 0 else 0)
            in_flight[received.socket_index] -= 1
            answered_order.append(key)
        return golden_reply(received)

    paths = [
        write_dicom(tmp_path / f"{index}.dcm", 3 * PART + index * 1000, sop=f"1.2.3.{index}")
        for index in range(3)
    ]
    async with connected(responder, upload_sockets=4) as (standin, client):
        result = await client.upload_dicom_files(USER_UUID, INSTITUTION_UUID, paths)
        await wait_until(lambda: upload_socket_count(standin) == 0)

    files = reassembled(standin)
    assert {index: hashlib.sha256(data).hexdigest() for index, data in files.items()} == {
        index: file_sha256(path) for index, path in enumerate(paths)
    }
    sockets_used = {received.socket_index for received in of_kind(standin, Upload.PROCESS_FILE)}
    assert len(sockets_used) == 4
    assert 0 not in sockets_used
    assert set(most_in_flight.values()) == {1}
    assert answered_order != sent_order
    assert result.files_sent == (0, 1, 2)
    assert result.bytes_sent == sum(path.stat().st_size for path in paths)
    assert [order.patient_order_uuid for order in result.orders] == [ORDER_UUID]
    assert standin.sockets_opened == 1 + 4


async def test_a_single_small_file_opens_a_single_upload_socket() -> None:
    async with connected(upload_sockets=4) as (standin, client):
        await client.upload_dicom_files(USER_UUID, INSTITUTION_UUID, [CT_SMALL])
        assert standin.sockets_opened == 2


# --- files already there, and files that are not DICOM -------------------------------------------


async def test_a_file_the_server_has_is_skipped_and_every_file_is_checked(tmp_path: Path) -> None:
    async def responder(received: ReceivedFrame) -> dict[str, Any] | None:
        reply = golden_reply(received)
        frame = received.frame
        if frame.message_type == 23 and frame.management_type == Upload.CHECK_FILE_EXIST:
            exists = received.json().get("SopInstanceUid") == "1.2.3.1"
            reply["ResponseMessage"] = {
                "FileIfExist": exists,
                "PatientOrder": {"PatientOrderUuid": OTHER_ORDER},
            }
        return reply

    # Three files of one study: the library checks only until one is new; we check all three.
    paths = [
        write_dicom(tmp_path / f"same-study-{index}.dcm", 1000, sop=f"1.2.3.{index}") for index in range(3)
    ]
    events: list[UploadEvent] = []
    async with connected(responder) as (standin, client):
        result = await client.upload_dicom_files(USER_UUID, INSTITUTION_UUID, paths, progress=events.append)
    assert len(of_kind(standin, Upload.CHECK_FILE_EXIST)) == 3
    assert sorted(received.json()["FileIndex"] for received in of_kind(standin, Upload.PROCESS_FILE)) == [
        0,
        2,
    ]
    (skipped,) = result.files_skipped
    assert (skipped.file_index, skipped.reason) == (1, SkipReason.ALREADY_EXISTS)
    assert skipped.message == "File already exist. FileName: same-study-1.dcm"
    assert "same-study" not in repr(skipped)
    assert Checking(1, "same-study-1.dcm", True) in events
    assert result.files_sent == (0, 2)
    assert [order.patient_order_uuid for order in result.orders] == [OTHER_ORDER, ORDER_UUID]
    final = [event for event in events if isinstance(event, Sending)][-1]
    assert final.bytes_done == final.bytes_total == paths[0].stat().st_size + paths[2].stat().st_size


async def test_inputs_that_are_not_dicom_are_reported_and_skipped(tmp_path: Path) -> None:
    ct = CT_BYTES
    inputs = {
        "empty.dcm": b"",
        "page.html": b"<!DOCTYPE html><html><body>Sign in</body></html>\n" * 40,
        "truncated.dcm": ct[:1000],
        "huge-length.dcm": b"\0" * 128
        + b"DICM\x02\x00\x10\x00UI\x14\x001.2.840.10008.1.2.1\0"
        + b"\x10\x00\x20\x00UT\x00\x00"
        + struct.pack("<I", 0x7FFFFFF0)
        + b"x" * 64,
    }
    paths: list[Path] = []
    for name, data in inputs.items():
        paths.append(tmp_path / name)
        paths[-1].write_bytes(data)
    paths.insert(2, CT_SMALL)
    big_header = write_dicom(tmp_path / "big-header.dcm", 10, header_padding=3 * 1024 * 1024, sop="1.9")
    paths.append(big_header)
    events: list[UploadEvent] = []
    async with connected() as (standin, client):
        result = await client.upload_dicom_files(USER_UUID, INSTITUTION_UUID, paths, progress=events.append)
    assert [(skip.file_index, skip.reason) for skip in result.files_skipped] == [
        (0, SkipReason.NOT_DICOM),
        (1, SkipReason.NOT_DICOM),
        (3, SkipReason.TRUNCATED),
        (4, SkipReason.TRUNCATED),
    ]
    assert [skip.message for skip in result.files_skipped][1] == "Unsupported file! FileName: page.html"
    assert [skip.message for skip in result.files_skipped][2] == "Unsupported file! FileName: truncated.dcm"
    assert result.files_sent == (2, 5)
    files = reassembled(standin)
    assert files[2] == ct
    assert hashlib.sha256(files[5]).hexdigest() == file_sha256(big_header)
    (initialize,) = of_kind(standin, Upload.INITIALIZE)
    assert initialize.json()["TotalFileSize"] == sum(path.stat().st_size for path in paths) / 1024
    assert [event.file_index for event in events if isinstance(event, Reading)] == list(range(6))


async def test_uid_less_and_truncated_files_are_skipped_with_their_reason_and_the_rest_sent(
    tmp_path: Path,
) -> None:
    first = write_dicom(tmp_path / "1.dcm", 100, sop="1.2.826.0.1.3680043.8.498.71")
    no_study = tmp_path / "no-study.dcm"
    no_study.write_bytes(ct_image(omit=("StudyInstanceUID",)))
    no_sop = tmp_path / "no-sop.dcm"
    no_sop.write_bytes(ct_image(omit=("SOPInstanceUID",)))
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(CT_BYTES[:-100])  # inside the pixel data, after every UID
    deep = tmp_path / "deep.dcm"
    deep.write_bytes(deeply_nested(500))
    last = write_dicom(tmp_path / "2.dcm", 100, sop="1.2.826.0.1.3680043.8.498.72")
    given = [first, no_study, no_sop, cut, deep, last]
    async with connected() as (standin, client):
        result = await client.upload_dicom_files(USER_UUID, INSTITUTION_UUID, given)
    assert [(skip.file_index, skip.reason) for skip in result.files_skipped] == [
        (1, SkipReason.MISSING_UIDS),
        (2, SkipReason.MISSING_UIDS),
        (3, SkipReason.TRUNCATED),
        (4, SkipReason.UNREADABLE),  # sequences 500 deep: refused, no RecursionError
    ]
    assert all(skip.reason.refused for skip in result.files_skipped)
    assert result.files_sent == (0, 5)
    files = reassembled(standin)
    assert files[0] == first.read_bytes()
    assert files[5] == last.read_bytes()
    assert set(files) == {0, 5}


async def test_a_missing_path_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    async with connected() as (standin, client):
        with pytest.raises(Exception, match="file 1 cannot be read") as raised:
            await client.upload_dicom_files(
                USER_UUID, INSTITUTION_UUID, [CT_SMALL, tmp_path / "Doe^John.dcm"]
            )
        assert "Doe" not in str(raised.value)
        assert raised.value.__cause__ is None
        assert len(standin.frames) == 1


async def test_a_lone_path_or_positional_options_are_refused() -> None:
    async with connected() as (standin, client):
        with pytest.raises(TypeError, match="not one path"):
            await client.upload_dicom_files(USER_UUID, INSTITUTION_UUID, str(CT_SMALL))
        with pytest.raises(TypeError):
            await client.upload_dicom_files(USER_UUID, INSTITUTION_UUID, [CT_SMALL], FOLDER)  # type: ignore[call-arg]
        assert len(standin.frames) == 1


async def test_an_empty_list_sends_nothing() -> None:
    events: list[UploadEvent] = []
    async with connected() as (standin, client):
        result = await client.upload_dicom_files(USER_UUID, INSTITUTION_UUID, [], progress=events.append)
        assert result.files_sent == ()
        assert len(standin.frames) == 1
    assert events == [Completed((), (), (), 0)]


# --- failures ------------------------------------------------------------------------------------


async def test_a_refused_part_raises_api_error_and_closes_every_socket(tmp_path: Path) -> None:
    async def responder(received: ReceivedFrame) -> dict[str, Any] | None:
        frame = received.frame
        refused = frame.message_type == 23 and frame.management_type == Upload.PROCESS_FILE
        if refused and received.json()["FileIndex"] == 1:
            return {"ResponseCode": 0, "Message": "Storage quota exceeded"}
        return golden_reply(received)

    paths = [write_dicom(tmp_path / f"{index}.dcm", 2 * PART, sop=f"1.2.{index}") for index in range(3)]
    async with connected(responder, upload_sockets=3) as (standin, client):
        with pytest.raises(ApiError) as refused:
            await client.upload_dicom_files(USER_UUID, INSTITUTION_UUID, paths)
        assert refused.value.server_message == "Storage quota exceeded"
        assert refused.value.operation == "ProcessFile"
        await wait_until(lambda: upload_socket_count(standin) == 0)
        assert len(await client.get_user_list(USER_UUID)) == 0  # the main socket still works


async def test_a_refused_initialize_opens_no_socket() -> None:
    async def responder(received: ReceivedFrame) -> dict[str, Any] | None:
        if received.frame.message_type == 23 and received.frame.management_type == Upload.INITIALIZE:
            return {"ResponseCode": 2, "Message": "Upload is not allowed"}
        return golden_reply(received)

    async with connected(responder) as (standin, client):
        with pytest.raises(ApiError, match="Upload is not allowed"):
            await client.upload_dicom_files(USER_UUID, INSTITUTION_UUID, [CT_SMALL])
        assert standin.sockets_opened == 1


async def test_a_dropped_upload_socket_raises_connection_lost_naming_completed_files(tmp_path: Path) -> None:
    standin_box: list[GoldenStandIn] = []
    parts_seen = 0

    async def responder(received: ReceivedFrame) -> dict[str, Any] | None:
        nonlocal parts_seen
        frame = received.frame
        if frame.message_type == 23 and frame.management_type == Upload.PROCESS_FILE:
            parts_seen += 1
            if received.json()["FileIndex"] == 2:
                await standin_box[0].drop_socket(received.socket_index)
                return None
        return golden_reply(received)

    paths = [write_dicom(tmp_path / f"{index}.dcm", 100, sop=f"1.2.{index}") for index in range(4)]
    # One upload socket makes the order, and so the completed files, certain.
    async with connected(responder, upload_sockets=1) as (standin, client):
        standin_box.append(standin)
        with pytest.raises(ConnectionLost) as lost:
            await client.upload_dicom_files(USER_UUID, INSTITUTION_UUID, paths)
        assert isinstance(lost.value, UploadInterrupted)
        assert lost.value.completed_files == (0, 1)
        await wait_until(lambda: upload_socket_count(standin) == 0)
        assert standin.sockets_by_index[0] in standin.open_sockets
        assert len(await client.get_user_list(USER_UUID)) == 0
    # Nothing is resent, and nothing follows the dropped part.
    assert parts_seen == len(of_kind(standin, Upload.PROCESS_FILE)) == 3


async def test_a_dropped_main_socket_during_checks_is_not_retried(tmp_path: Path) -> None:
    standin_box: list[GoldenStandIn] = []

    async def responder(received: ReceivedFrame) -> dict[str, Any] | None:
        frame = received.frame
        checking = frame.message_type == 23 and frame.management_type == Upload.CHECK_FILE_EXIST
        if checking and received.json()["SopInstanceUid"] == "1.2.1":
            await standin_box[0].drop_all_sockets()
            return None
        return golden_reply(received)

    paths = [write_dicom(tmp_path / f"{index}.dcm", 100, sop=f"1.2.{index}") for index in range(2)]
    async with connected(responder) as (standin, client):
        standin_box.append(standin)
        with pytest.raises(UploadInterrupted):
            await client.upload_dicom_files(USER_UUID, INSTITUTION_UUID, paths)
        await wait_until(lambda: not standin.open_sockets)
        assert len(of_kind(standin, Upload.CHECK_FILE_EXIST)) == 2


async def test_a_part_without_answer_times_out_and_closes_the_sockets() -> None:
    async def responder(received: ReceivedFrame) -> dict[str, Any] | None:
        if received.frame.message_type == 23 and received.frame.management_type == Upload.PROCESS_FILE:
            return None
        return golden_reply(received)

    async with connected(responder, wait_seconds=0.3) as (standin, client):
        with pytest.raises(RequestTimeout):
            await client.upload_dicom_files(USER_UUID, INSTITUTION_UUID, [CT_SMALL])
        await wait_until(lambda: upload_socket_count(standin) == 0)


async def test_a_replacement_that_cannot_be_written_stops_the_upload(
    scratch_dirs: Callable[[], set[str]],
) -> None:
    async with connected() as (standin, client):
        with pytest.raises(InvalidAnonymization, match="StudyDate") as refused:
            await client.upload_dicom_files_with_anonymization(
                USER_UUID, INSTITUTION_UUID, [CT_SMALL], {DicomTag.StudyDate: "2024-01-01"}
            )
        assert "CT_small" not in str(refused.value)
        assert not of_kind(standin, Upload.PROCESS_FILE)
        await wait_until(lambda: upload_socket_count(standin) == 0)
    assert not scratch_dirs()


# --- byte sources, progress, documents -----------------------------------------------------------


async def chunks_of(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        await asyncio.sleep(0)
        yield data[start : start + size]


async def test_async_byte_sources_are_spooled_and_cleaned_up(scratch_dirs: Callable[[], set[str]]) -> None:
    ct = CT_BYTES
    names: list[str] = []
    async with connected() as (standin, client):
        await client.upload_dicom_files(
            USER_UUID,
            INSTITUTION_UUID,
            [("from-slack.dcm", chunks_of(ct, 1000)), CT_SMALL],
            progress=lambda event: names.append(getattr(event, "file_name", "")),
        )
    assert reassembled(standin)[0] == ct
    assert of_kind(standin, Upload.INITIALIZE)[0].json()["TotalFileSize"] == 2 * len(ct) / 1024
    assert not scratch_dirs()


async def test_a_stalled_byte_source_times_out() -> None:
    async def stalls() -> AsyncIterator[bytes]:
        yield b"DICM"
        await asyncio.sleep(60)

    async with connected(wait_seconds=0.2) as (standin, client):
        with pytest.raises(RequestTimeout, match="file 0"):
            await client.upload_dicom_files(USER_UUID, INSTITUTION_UUID, [("x.dcm", stalls())])
        assert len(standin.frames) == 1


async def test_progress_events_tell_a_coherent_story(tmp_path: Path) -> None:
    events: list[UploadEvent] = []

    async def record(event: UploadEvent) -> None:
        await asyncio.sleep(0)
        events.append(event)

    junk = tmp_path / "notes.txt"
    junk.write_text("not an image")
    paths = [write_dicom(tmp_path / "a.dcm", 2 * PART + 7, sop="1.7.1"), junk, CT_SMALL]
    async with connected(upload_sockets=2) as (_, client):
        result = await client.upload_dicom_files(USER_UUID, INSTITUTION_UUID, paths, progress=record)

    assert isinstance(events[-1], Completed)
    assert sum(isinstance(event, Completed) for event in events) == 1
    assert events[-1] == Completed(result.orders, result.files_sent, result.files_skipped, result.bytes_sent)
    for index in (0, 2):
        kinds = [type(event) for event in events if getattr(event, "file_index", None) == index]
        assert kinds[:2] == [Reading, Checking]
        assert set(kinds[2:]) == {Sending}
    assert [type(event) for event in events if getattr(event, "file_index", None) == 1] == [Reading, Skipped]
    sending = [event for event in events if isinstance(event, Sending)]
    assert [event.bytes_done for event in sending] == sorted({event.bytes_done for event in sending})
    assert sending[-1].bytes_done == sending[-1].bytes_total == result.bytes_sent
    assert all(event.bytes_done <= event.bytes_total for event in sending)
    assert [(event.files_done, event.files_total) for event in events if isinstance(event, Reading)] == [
        (1, 3),
        (2, 3),
        (3, 3),
    ]


async def test_documents_go_one_frame_at_a_time_without_the_resent_last_part(tmp_path: Path) -> None:
    big = tmp_path / "scan.mp4"
    big.write_bytes(bytes(range(256)) * (PART // 256) * 2 + b"tail")
    events: list[UploadEvent] = []
    async with connected() as (standin, client):
        result = await client.upload_document_files(
            USER_UUID,
            INSTITUTION_UUID,
            ORDER_UUID,
            [("report.pdf", chunks_of(b"%PDF-1.4 tiny", 5)), big],
            progress=events.append,
        )
    documents = of_kind(standin, Upload.PROCESS_DOCUMENTS)
    assert [(d.json()["FileIndex"], d.json()["CurrentFilePartIndex"]) for d in documents] == [
        (0, 0),
        (1, 0),
        (1, 1),
        (1, 2),
    ]
    assert {d.socket_index for d in documents} == {0}
    assert documents[0].json()["FileType"] == "application/pdf"
    assert documents[0].frame.file_bytes == b"%PDF-1.4 tiny"
    assert b"".join(bytes(d.json()["FileBuffer"]) for d in documents[1:]) == big.read_bytes()
    assert all(d.frame.file_bytes == big.read_bytes() for d in documents[1:])
    assert documents[1].json()["FileType"] == "video/mp4"
    assert result.files_sent == (0, 1)
    assert [o.patient_order_uuid for o in result.orders] == [ORDER_UUID]
    assert isinstance(events[-1], Completed)


async def test_a_document_over_the_cap_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    huge = tmp_path / "huge.pdf"
    with huge.open("wb") as handle:
        handle.truncate(10 * 1024 * 1024 + 1)
    async with connected() as (standin, client):
        with pytest.raises(DocumentTooLarge, match=r"document 1 is 10\.0 MiB"):
            await client.upload_document_files(USER_UUID, INSTITUTION_UUID, ORDER_UUID, [CT_SMALL, huge])
        assert len(standin.frames) == 1


async def test_a_refused_document_raises_api_error() -> None:
    async def responder(received: ReceivedFrame) -> dict[str, Any] | None:
        if received.frame.message_type == 23 and received.frame.management_type == Upload.PROCESS_DOCUMENTS:
            return {"ResponseCode": 0, "Message": "Order is locked"}
        return golden_reply(received)

    async with connected(responder) as (_, client):
        with pytest.raises(ApiError, match="Order is locked"):
            await client.upload_document_files(USER_UUID, INSTITUTION_UUID, ORDER_UUID, [CT_SMALL])


# --- memory --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("anonymized", "sockets"),
    [(False, 1), (False, 4), (True, 1)],
    ids=["plain", "plain-4-sockets", "anonymized"],
)
async def test_memory_stays_flat_for_a_large_file(tmp_path: Path, anonymized: bool, sockets: int) -> None:
    size = 64 * 1024 * 1024
    path = write_dicom(tmp_path / "large.dcm", size, patient="LARGE^FILE")
    digest = hashlib.sha256()
    received_bytes = 0

    async def responder(received: ReceivedFrame) -> dict[str, Any] | None:
        nonlocal received_bytes
        if received.frame.message_type == 23 and received.frame.management_type == Upload.PROCESS_FILE:
            digest.update(received.frame.file_bytes)  # in order only with one socket
            received_bytes += len(received.frame.file_bytes)
        return golden_reply(received)

    anonymize = {DicomTag.PatientName: "ANON"} if anonymized else None
    async with connected(responder, upload_sockets=sockets, keep_bytes=False) as (standin, client):
        tracemalloc.start()
        try:
            await client.upload_dicom_files(USER_UUID, INSTITUTION_UUID, [path], anonymize=anonymize)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    file_size = path.stat().st_size
    assert len({received.socket_index for received in of_kind(standin, Upload.PROCESS_FILE)}) == sockets
    # "LARGE^FILE" becomes "ANON": six bytes shorter, already even.
    assert received_bytes == file_size - (6 if anonymized else 0)
    if sockets == 1 and not anonymized:
        assert digest.hexdigest() == file_sha256(path)
    # A part and its frame per socket, plus the in-process stand-in's receive buffers: nothing that
    # grows with the file (64 MiB and 256 MiB files measure the same).
    budget = (1 + sockets) * 2.5 * 2**20
    assert peak < budget, f"peak {peak / 2**20:.1f} MiB uploading {file_size / 2**20:.0f} MiB"
