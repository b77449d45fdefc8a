"""Uploads (MessageType 23): Initialize, CheckFileExist, ProcessFile parts, ProcessDocuments.

Parts are reassembled by (account, SessionUniqueUuid, FileIndex) and part index, whichever socket
and order they arrive in, and a file is finished when its ``CurrentFileTotalPartCount`` parts are
all there: the library sends no "finish" message. A finished DICOM file is parsed with pydicom
and filed into the order of its StudyInstanceUID (made from its header if new); a SOP Instance
UID the order already holds is stored once. The library's quirks are accepted as they are:

* plain DICOM uploads name the API session in ``SessionUniqueUuid``, anonymized ones the upload
  session, so either is a valid session here;
* multi-part documents carry their part in the JSON ``FileBuffer`` and the whole document in the
  binary field, so ``FileBuffer`` wins when present;
* multi-file document uploads send each file's last part a second time: a frame for a document
  already finished is acknowledged and nothing is stored again.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.postdicom.frames import FileUploadManagementType as Upload
from bot.postdicom.validation import is_guid
from bot.sandbox.postdicom.dicom import DicomHeader, NotDicom, read_header
from bot.sandbox.postdicom.state import (
    Account,
    Document,
    EmulatorState,
    Folder,
    Instance,
    Order,
    OrderStatus,
    Refusal,
    new_uuid,
)

logger = logging.getLogger(__name__)

PARSE_IN_THREAD_BYTES = 256 * 1024
"""Files at least this big are parsed in a worker thread, off the event loop."""
MAX_PARTS_PER_FILE = 1 << 16
DOCUMENT_EXTENSIONS = frozenset({".pdf", ".jpeg", ".jpg", ".png", ".bmp", ".mp4"})
"""The document formats PostDICOM's documentation accepts."""
DOCUMENT_TYPES = frozenset(
    {"application/pdf", "image/jpeg", "image/png", "image/bmp", "image/x-ms-bmp", "video/mp4"}
)
NOT_DICOM_MESSAGE = "The file is not a valid DICOM file."

Params = Mapping[str, Any]


@dataclass(slots=True)
class UploadSession:
    """An upload session made by upload Initialize."""

    uuid: str
    account_key: str
    user_uuid: str
    institution_uuid: str
    total_kib: float
    created: float


@dataclass(slots=True)
class PendingFile:
    """The parts of one file received so far."""

    total: int
    parts: dict[int, bytes] = field(default_factory=dict)


@dataclass(slots=True)
class UploadCounters:
    """What the uploads did, for ``/_emulator/stats``."""

    files_completed: int = 0
    instances_deduplicated: int = 0
    documents_completed: int = 0
    documents_resent: int = 0
    files_refused: int = 0


class UploadRegistry:
    """Upload sessions and the files still being reassembled."""

    def __init__(self) -> None:
        self.sessions: dict[str, UploadSession] = {}
        self.pending: dict[tuple[str, str, int, bool], PendingFile] = {}
        self.finished_documents: dict[tuple[str, str, int], str] = {}
        self.counters = UploadCounters()

    def clear(self) -> None:
        """Forget every session and partial file (the emulator is being reset)."""
        self.sessions.clear()
        self.pending.clear()
        self.finished_documents.clear()
        self.counters = UploadCounters()

    def abandon(self, account_key: str, session_uuid: str) -> None:
        """Forget the unfinished files of one session."""
        for key in [key for key in self.pending if key[0] == account_key and key[1] == session_uuid]:
            del self.pending[key]

    def pending_parts(self) -> int:
        """Count the parts held for files not yet complete."""
        return sum(len(item.parts) for item in self.pending.values())

    def add_part(self, key: tuple[str, str, int, bool], index: int, total: int, data: bytes) -> bytes | None:
        """Keep one part; return the whole file once every part is there."""
        pending = self.pending.get(key)
        if pending is None:
            pending = self.pending[key] = PendingFile(total)
        elif pending.total != total:
            raise Refusal("CurrentFileTotalPartCount changed between parts of one file.")
        # A part sent twice replaces the first copy: the later one is what the sender meant.
        pending.parts[index] = data
        if len(pending.parts) < total:
            return None
        del self.pending[key]
        return b"".join(pending.parts[number] for number in range(total))


@dataclass(slots=True)
class UploadContext:
    """What an upload frame is handled with, including the API session of the socket it came on."""

    state: EmulatorState
    registry: UploadRegistry
    account: Account
    api_session_uuid: str | None = None


# --- filing --------------------------------------------------------------------------------------


def file_instance(
    account: Account,
    header: DicomHeader,
    data: bytes | None,
    *,
    institution_uuid: str,
    now: datetime,
    size: int | None = None,
    order_uuid: str | None = None,
) -> tuple[Order, bool]:
    """File an instance into its study's order (made from the header if new); True if it was there."""
    order = account.order_by_study(header.study_instance_uid)
    if order is None:
        order = account.add_order(
            Order(
                uuid=order_uuid or new_uuid(),
                institution_uuid=institution_uuid,
                patient_name=header.patient_name,
                patient_id=header.patient_id,
                other_patient_id=header.other_patient_id,
                birthdate=header.birthdate,
                sex=header.sex if header.sex in {"M", "F", "O"} else "",
                accession_number=header.accession_number,
                modality=header.modality,
                study_description=header.study_description,
                performed=header.performed or now.strftime("%Y-%m-%d %H:%M"),
                status=OrderStatus.IMAGES_RECEIVED,
                study_instance_uid=header.study_instance_uid,
                details={
                    key: value
                    for key, value in (
                        ("ReferringPhysiciansName", header.referring_physician),
                        ("InstitutionNameInDicom", header.institution_name),
                    )
                    if value
                },
            )
        )
    if header.sop_instance_uid in order.instances:
        return order, True
    instance = Instance(
        header.sop_instance_uid,
        header.series_instance_uid,
        header.sop_class_uid,
        header.modality,
        size if size is not None else len(data or b""),
        data,
    )

    def add(item: Order) -> None:
        item.instances[instance.sop_instance_uid] = instance
        item.status = OrderStatus.IMAGES_RECEIVED
        if not item.modality:
            item.modality = header.modality

    account.update_order(order, add)
    return order, False


# --- reading parameters --------------------------------------------------------------------------


def _guid(params: Params, key: str) -> str:
    value = params.get(key)
    if not isinstance(value, str) or not is_guid(value):
        raise Refusal(f"Invalid parameters for {key}.")
    return value.lower()


def _count(params: Params, key: str, *, minimum: int) -> int:
    value = params.get(key)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= MAX_PARTS_PER_FILE:
        raise Refusal(f"Invalid parameters for {key}.")
    return value


def _session(context: UploadContext, params: Params) -> str:
    session_uuid = _guid(params, "SessionUniqueUuid")
    upload = context.registry.sessions.get(session_uuid)
    api = context.state.sessions.get(session_uuid)
    if (upload is None or upload.account_key != context.account.key) and (
        api is None or api.account_key != context.account.key
    ):
        raise Refusal("Upload session not found.")
    return session_uuid


def _uploader(context: UploadContext, params: Params) -> str:
    account = context.account
    user = account.user(_guid(params, "UserUuid"))
    return account.institution_for(user, _guid(params, "InstitutionUuid")).uuid


def _folders(context: UploadContext, params: Params, key: str) -> list[Folder]:
    value = params.get(key)
    if value is None or value == "":
        return []
    uuids = value if isinstance(value, list) else [value]
    if not all(isinstance(item, str) and is_guid(item) for item in uuids):
        raise Refusal(f"Invalid parameters for {key}.")
    return [context.account.folder(item.lower()) for item in uuids]


def _order_reply(account: Account, order: Order, **extra: Any) -> dict[str, Any]:
    return {
        "ResponseCode": 1,
        "ResponseMessage": {"Success": True, "PatientOrder": account.summary(order), **extra},
    }


# --- handlers ------------------------------------------------------------------------------------


def initialize(context: UploadContext, params: Params) -> dict[str, Any]:
    """Open an upload session; its uuid goes back top-level, where the library reads it."""
    account = context.account
    user = account.user(_guid(params, "UserUuid"))
    institution = account.institution_for(user, _guid(params, "InstitutionUuid"))
    total = params.get("TotalFileSize")
    total_kib = float(total) if isinstance(total, int | float) and not isinstance(total, bool) else 0.0
    session = UploadSession(new_uuid(), account.key, user.uuid, institution.uuid, total_kib, time.monotonic())
    context.registry.sessions[session.uuid] = session
    if context.api_session_uuid is not None:
        # Plain DICOM parts are keyed by the API session, so a new upload would otherwise finish
        # an abandoned one's files with stale parts. The library runs one upload at a time per
        # API session (its upload state is per instance) and never resumes, so a new Initialize
        # abandons what the previous upload left unfinished.
        context.registry.abandon(account.key, context.api_session_uuid)
    return {
        "ResponseCode": 1,
        "SessionUniqueUuid": session.uuid,
        "ResponseMessage": {"Success": True, "SessionUniqueUuid": session.uuid},
    }


def check_file_exist(context: UploadContext, params: Params) -> dict[str, Any]:
    """Say whether the account already holds this SOP Instance UID, and the order of its study."""
    _session(context, params)
    _uploader(context, params)
    _folders(context, params, "FolderUuid")
    study_uid = params.get("StudyInstanceUid")
    if not isinstance(study_uid, str) or not study_uid:
        raise Refusal("Invalid parameters for StudyInstanceUid.")
    sop_uid = params.get("SopInstanceUid")
    order = context.account.order_by_study(study_uid)
    exists = order is not None and isinstance(sop_uid, str) and sop_uid in order.instances
    message: dict[str, Any] = {"Success": True, "FileIfExist": exists}
    if order is not None:
        message["PatientOrder"] = context.account.summary(order)
    return {"ResponseCode": 1, "StudyInstanceUid": study_uid, "ResponseMessage": message}


async def process_file(context: UploadContext, params: Params, part: bytes) -> dict[str, Any]:
    """Keep a DICOM part; once the file is whole, parse it and file it into its order."""
    session_uuid = _session(context, params)
    institution_uuid = _uploader(context, params)
    file_index = _count(params, "FileIndex", minimum=0)
    total = _count(params, "CurrentFileTotalPartCount", minimum=1)
    index = _count(params, "CurrentFilePartIndex", minimum=0)
    if index >= total:
        raise Refusal("CurrentFilePartIndex is beyond CurrentFileTotalPartCount.")
    folder_uuids = [folder.uuid for folder in _folders(context, params, "FolderUuidList")]
    key = (context.account.key, session_uuid, file_index, False)
    whole = context.registry.add_part(key, index, total, part)
    if whole is None:
        return {"ResponseCode": 1, "ResponseMessage": {"Success": True}}
    try:
        if len(whole) >= PARSE_IN_THREAD_BYTES:
            header = await asyncio.to_thread(read_header, whole)
        else:
            header = read_header(whole)
    except NotDicom:
        context.registry.counters.files_refused += 1
        raise Refusal(NOT_DICOM_MESSAGE) from None
    account = context.account
    order, duplicate = file_instance(
        account, header, whole, institution_uuid=institution_uuid, now=context.state.clock()
    )
    # Folders are looked up again: one may have gone while the file was being parsed.
    for folder_uuid in folder_uuids:
        folder = account.folders.get(folder_uuid)
        if folder is not None:
            account.file_in_folder(order, folder)
    counters = context.registry.counters
    counters.files_completed += 1
    if duplicate:
        counters.instances_deduplicated += 1
        logger.debug("upload: instance already stored, kept once (%d bytes)", len(whole))
        return _order_reply(account, order, Message="File already exists.")
    logger.debug("upload: instance filed (%d bytes, %d parts)", len(whole), total)
    return _order_reply(account, order)


def _document_part(params: Params, binary: bytes, total: int) -> bytes:
    buffer = params.get("FileBuffer")
    if isinstance(buffer, list) and buffer:
        try:
            return bytes(buffer)
        except (TypeError, ValueError):
            raise Refusal("Invalid parameters for FileBuffer.") from None
    if total > 1 and buffer is not None and not isinstance(buffer, list):
        raise Refusal("Invalid parameters for FileBuffer.")
    return binary


def _document_name(params: Params) -> tuple[str, str]:
    name = params.get("FileName")
    kind = params.get("FileType")
    if not isinstance(name, str) or not name.strip():
        raise Refusal("Invalid parameters for FileName.")
    kind = kind if isinstance(kind, str) else ""
    extension = os.path.splitext(name)[1].lower()
    if extension not in DOCUMENT_EXTENSIONS and kind.lower() not in DOCUMENT_TYPES:
        raise Refusal("Only PDF, JPEG, PNG, BMP and MP4 documents can be uploaded.")
    return name.strip(), kind


def process_document(context: UploadContext, params: Params, binary: bytes) -> dict[str, Any]:
    """Keep a document part; once whole, attach the document to its order."""
    session_uuid = _session(context, params)
    account = context.account
    user = account.user(_guid(params, "UserUuid"))
    account.institution_for(user, _guid(params, "InstitutionUuid"))
    order = account.order_for(user, _guid(params, "PatientOrderUuid"))
    name, kind = _document_name(params)
    file_index = _count(params, "FileIndex", minimum=0)
    total = _count(params, "CurrentFileTotalPartCount", minimum=1)
    index = _count(params, "CurrentFilePartIndex", minimum=0)
    if index >= total:
        raise Refusal("CurrentFilePartIndex is beyond CurrentFileTotalPartCount.")
    finished_key = (account.key, session_uuid, file_index)
    if finished_key in context.registry.finished_documents:
        context.registry.counters.documents_resent += 1
        return _order_reply(account, order)
    data = _document_part(params, binary, total)
    whole = context.registry.add_part((*finished_key, True), index, total, data)
    if whole is None:
        return _order_reply(account, order)
    document = Document(new_uuid(), name, kind, whole, user.uuid)
    order.documents.append(document)
    order.touch()
    context.registry.finished_documents[finished_key] = document.uuid
    context.registry.counters.documents_completed += 1
    logger.debug("upload: document attached (%d bytes, %d parts)", len(whole), total)
    return _order_reply(account, order)


def cancel(context: UploadContext, params: Params) -> dict[str, Any]:
    """Drop the partial files of an upload session."""
    context.registry.abandon(context.account.key, _session(context, params))
    return {"ResponseCode": 1, "ResponseMessage": {"Success": True, "Message": "Upload cancelled."}}


async def handle_upload(
    context: UploadContext, management_type: int, params: Params, file_bytes: bytes
) -> dict[str, Any]:
    """Answer one upload frame; refusals raise :class:`Refusal`."""
    if management_type == Upload.INITIALIZE:
        return initialize(context, params)
    if management_type == Upload.CHECK_FILE_EXIST:
        return check_file_exist(context, params)
    if management_type == Upload.PROCESS_FILE:
        return await process_file(context, params, file_bytes)
    if management_type == Upload.PROCESS_DOCUMENTS:
        return process_document(context, params, file_bytes)
    if management_type == Upload.CANCEL:
        return cancel(context, params)
    raise Refusal(f"Upload management type {management_type} is not supported.")


def upload_failure(management_type: int, params: Params, message: str) -> dict[str, Any]:
    """Build a refusal the library can read: ``Message`` top-level, and an object in ResponseMessage."""
    # The library reads ResponseMessage.FileIfExist from CheckFileExist replies without looking at
    # ResponseCode, and keys its cache by the top-level StudyInstanceUid: both must be there.
    reply: dict[str, Any] = {"ResponseCode": 0, "Message": message}
    response: dict[str, Any] = {"Success": False, "Message": message}
    if management_type == Upload.CHECK_FILE_EXIST:
        study_uid = params.get("StudyInstanceUid")
        if isinstance(study_uid, str):
            reply["StudyInstanceUid"] = study_uid
        response["FileIfExist"] = False
    reply["ResponseMessage"] = response
    return reply
