"""The upload requests of PostDICOM's library as pure functions: JSON shapes, parts, replies; no I/O.

Every builder returns an :class:`UploadRequest` whose keys are in the order the library sets them;
``ApiKey`` and ``AccountKey`` are appended last when the frame is built, as the library's
``ApiFileUploadRequestMessage`` does. ``None`` is JavaScript's ``undefined``: the key is left out.
The readers of replies turn the server's answers into values or the client's exceptions.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from bot.postdicom.errors import ApiError, ProtocolError
from bot.postdicom.frames import FileUploadManagementType as Upload
from bot.postdicom.frames import MessageType, RequestFrame
from bot.postdicom.jsvalues import js_truthy, to_json
from bot.postdicom.methods import response_succeeded
from bot.postdicom.models import Account

PART_SIZE = 512 * 1024
"""The library's ``_maximumBufferLength``: DICOM parts and document parts are cut at 512 KiB."""

UPLOADER_SUFFIX = " - API"

# Only the built-in table: the system's mime.types differs between machines, and reading it is I/O.
_MIME_TYPES = mimetypes.MimeTypes()
_BYTE_TEXT = tuple(str(value).encode("ascii") for value in range(256))


@dataclass(frozen=True, slots=True)
class UploadRequest:
    """One type-23 request, ready for a MessageID and the credentials.

    A ``bytes`` value in ``params`` goes out as a JSON array of numbers, as the library's
    ``FileBuffer`` (a JavaScript array of bytes) does.
    """

    operation: str
    management_type: Upload
    params: Mapping[str, Any]
    user_uuid: str
    file_bytes: bytes = b""

    def payload(self, api_key: str, account_key: str) -> bytes:
        """Return the JSON bytes with ``ApiKey`` and ``AccountKey`` last."""
        members = []
        for key, value in {**self.params, "ApiKey": api_key, "AccountKey": account_key}.items():
            if value is None:
                continue
            text = _byte_array(value) if isinstance(value, bytes) else to_json(value)
            members.append(to_json(key) + b":" + text)
        return b"{" + b",".join(members) + b"}"

    def frame(self, message_id: int, api_key: str, account_key: str) -> RequestFrame:
        """Build the binary frame: JSON, file bytes, and the user UUID as the trailing short string."""
        return RequestFrame(
            MessageType.FILE_UPLOAD_REQUEST,
            message_id,
            self.management_type,
            self.payload(api_key, account_key),
            self.file_bytes,
            self.user_uuid,
        )


def _byte_array(data: bytes) -> bytes:
    return b"[" + b",".join(map(_BYTE_TEXT.__getitem__, data)) + b"]"


@dataclass(frozen=True, slots=True)
class PartRange:
    """Where one 512 KiB part lies in its file."""

    index: int
    count: int
    offset: int
    length: int


def part_count(size: int) -> int:
    """Count the 512 KiB parts of a file; an empty or small file is one part."""
    return max(1, -(-size // PART_SIZE))


def part_ranges(size: int) -> Iterator[PartRange]:
    """Yield the parts a file of this size is cut into, in order."""
    count = part_count(size)
    for index in range(count):
        offset = index * PART_SIZE
        yield PartRange(index, count, offset, min(PART_SIZE, size - offset))


def uploader_name(account: Account | None, user_uuid: str) -> str:
    """Return ``UploaderName``: the user's full name and " - API", or just " - API" for an unknown user."""
    user = account.user(user_uuid) if account is not None else None
    # The library compares UUIDs with ==, so an upper-cased UUID finds nobody there.
    if user is None or user.user_uuid != user_uuid:
        return UPLOADER_SUFFIX
    return user.full_name + UPLOADER_SUFFIX


def document_type(file_name: str) -> str:
    """Return the MIME type a browser would give a file of this name, or "" when it knows none."""
    guessed, _ = _MIME_TYPES.guess_type(file_name, strict=False)
    return guessed or ""


# --- requests ------------------------------------------------------------------------------------


def initialize(user_uuid: str, institution_uuid: str, total_bytes: int, name: str) -> UploadRequest:
    """Build upload Initialize; ``TotalFileSize`` is in KiB with a fraction, as JavaScript divides."""
    return UploadRequest(
        "UploadInitialize",
        Upload.INITIALIZE,
        {
            "UserUuid": user_uuid,
            "InstitutionUuid": institution_uuid,
            "TotalFileSize": total_bytes / 1024,
            "UploaderUuid": user_uuid,
            "UploaderName": name,
        },
        user_uuid,
    )


def check_file_exist(
    session_unique_uuid: str,
    institution_uuid: str,
    user_uuid: str,
    folder_uuid: str | None,
    *,
    study_instance_uid: str | None,
    patient_name: str | None,
    patient_id: str | None,
    series_instance_uid: str | None,
    sop_instance_uid: str | None,
) -> UploadRequest:
    """Build CheckFileExist; ``FolderUuid`` only when a folder is given, a missing tag left out."""
    return UploadRequest(
        "CheckFileExist",
        Upload.CHECK_FILE_EXIST,
        {
            "SessionUniqueUuid": session_unique_uuid,
            "InstitutionUuid": institution_uuid,
            "UserUuid": user_uuid,
            "FolderUuid": folder_uuid or None,
            "StudyInstanceUid": study_instance_uid,
            "PatientName": patient_name,
            "PatientId": patient_id,
            "SeriesInstanceUid": series_instance_uid,
            "SopInstanceUid": sop_instance_uid,
        },
        user_uuid,
    )


def process_file(
    session_unique_uuid: str,
    institution_uuid: str,
    user_uuid: str,
    folder_uuid: str | None,
    file_index: int,
    part: PartRange,
    part_bytes: bytes,
) -> UploadRequest:
    """Build one ProcessFile part; ``FolderUuidList`` only when a folder is given."""
    return UploadRequest(
        "ProcessFile",
        Upload.PROCESS_FILE,
        {
            "SessionUniqueUuid": session_unique_uuid,
            "InstitutionUuid": institution_uuid,
            "UserUuid": user_uuid,
            "FileIndex": file_index,
            "CurrentFilePartIndex": part.index,
            "CurrentFileTotalPartCount": part.count,
            "FolderUuidList": [folder_uuid] if folder_uuid else None,
        },
        user_uuid,
        part_bytes,
    )


def process_document(
    session_unique_uuid: str,
    institution_uuid: str,
    user_uuid: str,
    patient_order_uuid: str,
    *,
    file_index: int,
    file_count: int,
    file_name: str,
    part: PartRange,
    document: bytes,
) -> UploadRequest:
    """Build one ProcessDocuments frame in the library's single-part or multi-part form."""
    # Under 512 KiB the document goes whole in one frame. Above, each part's bytes are the JSON
    # FileBuffer while the binary field carries the whole document in every part: a library bug,
    # but what PostDICOM is known to accept.
    single = len(document) < PART_SIZE
    return UploadRequest(
        "ProcessDocuments",
        Upload.PROCESS_DOCUMENTS,
        {
            "SessionUniqueUuid": session_unique_uuid,
            "InstitutionUuid": institution_uuid,
            "UserUuid": user_uuid,
            "FileIndex": file_index,
            "TotalFileCount": None if single else file_count,
            "CurrentFilePartIndex": part.index,
            "CurrentFileTotalPartCount": part.count,
            "FileBuffer": None if single else document[part.offset : part.offset + part.length],
            "PatientOrderUuid": patient_order_uuid,
            "FileName": file_name,
            "FileType": document_type(file_name),
            "IsDocument": True,
        },
        user_uuid,
        document,
    )


# --- replies -------------------------------------------------------------------------------------


def _refusal_text(reply: Mapping[str, Any]) -> str:
    # Upload failures carry their text in a top-level Message, which is what the library reads.
    for value in (reply.get("Message"), reply.get("ResponseMessage")):
        if isinstance(value, str) and value:
            return value
        if isinstance(value, Mapping) and isinstance(value.get("Message"), str) and value["Message"]:
            return str(value["Message"])
    return "no reason given"


def _refuse_unless_succeeded(operation: str, reply: Mapping[str, Any]) -> None:
    if not response_succeeded(reply):
        raise ApiError(operation, _refusal_text(reply), response_code=reply.get("ResponseCode"))


def upload_session(reply: Mapping[str, Any]) -> str:
    """Return the upload's ``SessionUniqueUuid`` from the Initialize reply (a top-level field)."""
    _refuse_unless_succeeded("UploadInitialize", reply)
    session = reply.get("SessionUniqueUuid")
    if not isinstance(session, str) or not session:
        raise ProtocolError("the answer to UploadInitialize carries no SessionUniqueUuid")
    return session


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What CheckFileExist said: whether the file is there, and the order it belongs to."""

    exists: bool
    patient_order: Mapping[str, Any] | None


def check_result(reply: Mapping[str, Any]) -> CheckResult:
    """Read a CheckFileExist reply; an explicit refusal raises ApiError."""
    # The library ignores ResponseCode here; a reply that carries a refusal is still a refusal.
    if "ResponseCode" in reply:
        _refuse_unless_succeeded("CheckFileExist", reply)
    message = reply.get("ResponseMessage")
    if not isinstance(message, Mapping):
        raise ProtocolError("the answer to CheckFileExist has no ResponseMessage object")
    return CheckResult(js_truthy(message.get("FileIfExist")), _order(message))


def part_result(operation: str, reply: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """Read the reply to a part; return the PatientOrder it names, if any; a refusal raises ApiError."""
    _refuse_unless_succeeded(operation, reply)
    message = reply.get("ResponseMessage")
    return _order(message) if isinstance(message, Mapping) else None


def _order(message: Mapping[str, Any]) -> Mapping[str, Any] | None:
    order = message.get("PatientOrder")
    if isinstance(order, Mapping) and isinstance(order.get("PatientOrderUuid"), str):
        return order
    return None
