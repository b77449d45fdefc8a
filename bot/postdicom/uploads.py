"""DICOM and document uploads: PostDICOM's library's frames, sent in parallel and streamed from disk.

The frames are the library's (see :mod:`bot.postdicom.upload_frames`); how they are sent differs
where the library is slow, wasteful or wrong:

* parts are spread over several upload sockets, each carrying one part in flight as the library's
  one socket does;
* every file is checked (the library stops checking the later files of a study once one was new)
  and a file PostDICOM already has is skipped and reported (the library uploads it anyway);
* a file is read part by part, in a worker thread, just before its part is sent, so memory stays
  flat whatever the file size; it may be a range of another file (:class:`FileRange`, a zip
  member stored as is), read where it lies; an anonymized file is rewritten to a temporary file
  first;
* a file that is not DICOM is reported and skipped; a refused part raises :class:`ApiError`; a
  dropped socket raises :class:`UploadInterrupted`, which names the files that did complete;
  nothing is ever resent, and every socket is closed however the upload ends.
"""

from __future__ import annotations

import asyncio
import enum
import inspect
import logging
import os
import shutil
import tempfile
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeAlias

from bot.postdicom import upload_frames
from bot.postdicom.dicomfiles import (
    DicomFileError,
    DicomTag,
    InvalidReplacementError,
    UploadFileProblem,
    UploadIdentifiers,
    anonymize_file,
    check_upload_file,
    parse_dicom_tag,
)
from bot.postdicom.errors import ConnectionLost, PostDicomError, ProtocolError, RequestTimeout
from bot.postdicom.jsvalues import js_string
from bot.postdicom.models import PatientOrder
from bot.postdicom.transport import FrameSocket, SocketClosed, Transport
from bot.postdicom.upload_frames import PartRange, UploadRequest
from bot.postdicom.validation import Kind, validate

logger = logging.getLogger(__name__)

ByteSource: TypeAlias = AsyncIterable[bytes]


@dataclass(frozen=True, slots=True)
class FileRange:
    """A file held whole inside another, ``size`` bytes from ``offset`` (a zip member stored as is)."""

    path: Path
    offset: int
    size: int
    name: str


UploadFile: TypeAlias = str | os.PathLike[str] | FileRange | tuple[str, ByteSource]
"""A file to upload: a path, a range of a file, or a name with an async source of its bytes
(spooled to disk first)."""
AnonymizedData: TypeAlias = (
    Mapping[DicomTag, str] | Mapping[str, str] | Mapping[DicomTag | str, str] | Sequence[Mapping[str, Any]]
)
"""Replacements as a mapping, or in the library's form ``[{"Tag": "x00100010", "Value": "..."}]``."""

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
"""The largest document uploaded. The library's multi-part form resends the whole document with
every 512 KiB part, so traffic grows with the square of the size: 10 MiB already costs 200 MiB."""

UNSUPPORTED_FILE_MESSAGE = "Unsupported file! FileName: "
FILE_EXISTS_MESSAGE = "File already exist. FileName: "
WITHDRAWN_MESSAGE = "Withdrawn before it was complete. FileName: "
_SPOOL_CHUNK = 1024 * 1024
# Parts waiting per socket; they are descriptions, not bytes, so this bounds temporary files only.
_QUEUED_PARTS_PER_SOCKET = 4


# --- progress events -----------------------------------------------------------------------------


class SkipReason(enum.Enum):
    """Why a file was not sent."""

    ALREADY_EXISTS = "already exists"
    NOT_DICOM = "not DICOM"
    WITHDRAWN = "withdrawn"
    """The caller's release withdrew it: its last part was never sent, so PostDICOM never filed it."""
    MISSING_UIDS = "missing UIDs"
    """DICOM without one of the SOP Class, SOP Instance, Study and Series Instance UIDs."""
    TRUNCATED = "truncated"
    """DICOM that ends before its last value does."""
    UNREADABLE = "unreadable"
    """DICOM whose header cannot be parsed (malformed, or nested too deeply)."""

    @property
    def refused(self) -> bool:
        """Tell whether the file itself was refused (as opposed to already there, or withdrawn)."""
        return self not in (SkipReason.ALREADY_EXISTS, SkipReason.WITHDRAWN)


_SKIP_REASONS = {
    UploadFileProblem.NOT_DICOM: SkipReason.NOT_DICOM,
    UploadFileProblem.MISSING_UIDS: SkipReason.MISSING_UIDS,
    UploadFileProblem.TRUNCATED: SkipReason.TRUNCATED,
    UploadFileProblem.UNREADABLE: SkipReason.UNREADABLE,
}


@dataclass(frozen=True, slots=True)
class Reading:
    """A file has been read and parsed (``files_done`` of ``files_total``)."""

    file_index: int
    files_done: int
    files_total: int


@dataclass(frozen=True, slots=True)
class Checking:
    """PostDICOM answered CheckFileExist for a file."""

    file_index: int
    file_name: str = field(repr=False)
    exists: bool


@dataclass(frozen=True, slots=True)
class Sending:
    """A part was acknowledged; ``bytes_total`` shrinks as files are skipped and follows anonymization."""

    bytes_done: int
    bytes_total: int
    file_index: int


@dataclass(frozen=True, slots=True)
class Skipped:
    """A file was not sent, and why; ``message`` is the library's text for it."""

    file_index: int
    file_name: str = field(repr=False)
    reason: SkipReason

    @property
    def message(self) -> str:
        """Return the library's message for this file: "Unsupported file! ..." or "File already exist. ..."."""
        prefixes = {SkipReason.ALREADY_EXISTS: FILE_EXISTS_MESSAGE, SkipReason.WITHDRAWN: WITHDRAWN_MESSAGE}
        return prefixes.get(self.reason, UNSUPPORTED_FILE_MESSAGE) + self.file_name


@dataclass(frozen=True, slots=True)
class UploadResult:
    """What an upload did: the orders it touched (distinct), the files sent and the files skipped."""

    orders: tuple[PatientOrder, ...]
    files_sent: tuple[int, ...]
    files_skipped: tuple[Skipped, ...]
    bytes_sent: int


@dataclass(frozen=True, slots=True)
class Completed:
    """The upload finished; the same summary as the :class:`UploadResult` returned."""

    orders: tuple[PatientOrder, ...]
    files_sent: tuple[int, ...]
    files_skipped: tuple[Skipped, ...]
    bytes_sent: int


UploadEvent: TypeAlias = Reading | Checking | Sending | Skipped | Completed
ProgressCallback: TypeAlias = Callable[[UploadEvent], Awaitable[None] | None]
Release: TypeAlias = Callable[[], Awaitable[AbstractSet[int]]]
"""Called once every file has been checked and all but its last part sent: return the indexes of
files to withdraw (their last parts are never sent), or raise to send no last part at all."""


# --- errors --------------------------------------------------------------------------------------


class UploadInterrupted(ConnectionLost):
    """A socket dropped mid-upload. Files in ``completed_files`` were fully acknowledged; the rest may
    or may not have arrived, so the caller decides what to send again."""

    def __init__(
        self, message: str, *, completed_files: tuple[int, ...], skipped: tuple[Skipped, ...]
    ) -> None:
        super().__init__(message)
        self.completed_files = completed_files
        self.skipped = skipped


class UploadSourceError(PostDicomError):
    """A file to upload cannot be read; the message names it by its index, never by its name."""


class DocumentTooLarge(UploadSourceError):
    """A document is over :data:`MAX_DOCUMENT_BYTES`; nothing was sent."""


class InvalidAnonymization(PostDicomError, ValueError):
    """The anonymization data names an unknown tag or a value that cannot be written."""


# --- inputs --------------------------------------------------------------------------------------


def anonymization_replacements(data: AnonymizedData) -> dict[DicomTag, str]:
    """Turn either form of anonymization data into replacements; a later entry for a tag wins."""
    pairs: list[tuple[object, object]]
    if isinstance(data, Mapping):
        pairs = list(data.items())
    else:
        pairs = [(item.get("Tag"), item.get("Value")) for item in data]
    replacements: dict[DicomTag, str] = {}
    for key, value in pairs:
        try:
            tag = parse_dicom_tag(key) if isinstance(key, str | DicomTag) else None
        except InvalidReplacementError:
            tag = None
        if tag is None:
            raise InvalidAnonymization(f"{js_string(key)!r} is not a tag the library can anonymize")
        # The library writes the value's characters; a missing value reads as "undefined", which it
        # (and anonymize_file) turns into an empty one.
        replacements[tag] = value if isinstance(value, str) else js_string(value)
    return replacements


@dataclass(frozen=True, slots=True)
class _Source:
    """A file to upload, on disk: where it is, what to call it, how big it is."""

    index: int
    name: str
    path: Path
    size: int
    # Where the file starts in ``path`` when it is a FileRange; None for a file of its own.
    offset: int | None = None


class _Scratch:
    """A private temporary directory, made on first use and removed with everything in it."""

    def __init__(self) -> None:
        self._directory: Path | None = None

    async def path(self, name: str) -> Path:
        if self._directory is None:
            self._directory = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="pacsbot-upload-"))
        return self._directory / name

    async def cleanup(self) -> None:
        if self._directory is not None:
            await asyncio.to_thread(shutil.rmtree, self._directory, True)
            self._directory = None


async def _prepare(files: Sequence[UploadFile], scratch: _Scratch, wait_seconds: float) -> list[_Source]:
    if isinstance(files, str | bytes | os.PathLike):
        # A lone path is a sequence too: of characters, each of which would become a "file".
        raise TypeError("files must be a list of paths or (name, byte source) pairs, not one path")
    return [await _source(index, item, scratch, wait_seconds) for index, item in enumerate(files)]


async def _arriving(
    files: AsyncIterable[UploadFile], scratch: _Scratch, wait_seconds: float
) -> AsyncIterator[_Source]:
    index = 0
    async for item in files:
        yield await _source(index, item, scratch, wait_seconds)
        index += 1


async def _source(index: int, item: UploadFile, scratch: _Scratch, wait_seconds: float) -> _Source:
    if isinstance(item, tuple):
        name, stream = item
        path = await scratch.path(f"source-{index}")
        return _Source(index, name, path, await _spool(stream, path, index, wait_seconds))
    if isinstance(item, FileRange):
        if item.offset < 0 or item.size < 0 or await _file_size(item.path, index) < item.offset + item.size:
            raise UploadSourceError(f"file {index} lies beyond the end of the file holding it")
        return _Source(index, item.name, item.path, item.size, item.offset)
    path = Path(os.fspath(item))
    return _Source(index, path.name, path, await _file_size(path, index))


async def _file_size(path: Path, index: int) -> int:
    try:
        stat = await asyncio.to_thread(path.stat)
    except OSError as error:
        # The OSError names the path, which may name the patient: keep it out of the chain.
        raise UploadSourceError(f"file {index} cannot be read ({type(error).__name__})") from None
    return stat.st_size


async def _spool(stream: AsyncIterable[bytes], path: Path, index: int, wait_seconds: float) -> int:
    """Copy an async byte source to disk chunk by chunk; memory holds one chunk at a time."""
    chunks = aiter(stream)
    size = 0
    handle = await asyncio.to_thread(path.open, "wb")
    try:
        while True:
            try:
                async with asyncio.timeout(wait_seconds):
                    chunk = await anext(chunks)
            except StopAsyncIteration:
                break
            except TimeoutError:
                raise RequestTimeout(
                    f"the bytes of file {index} stopped coming for {wait_seconds:g} s"
                ) from None
            if not isinstance(chunk, bytes | bytearray | memoryview):
                raise UploadSourceError(
                    f"the source of file {index} yielded {type(chunk).__name__}, not bytes"
                )
            size += len(chunk)
            await asyncio.to_thread(handle.write, chunk)
    finally:
        await asyncio.to_thread(handle.close)
    return size


def _read_range(path: Path, offset: int, length: int) -> bytes:
    with path.open("rb") as handle:
        handle.seek(offset)
        return handle.read(length)


def _read_identifiers(source: _Source) -> UploadIdentifiers | SkipReason:
    """Return the CheckFileExist identifiers of a whole, uploadable instance, or why it is not one."""
    if source.offset is None:
        checked = check_upload_file(source.path)
    else:
        checked = check_upload_file(source.path, offset=source.offset, size=source.size)
    return _SKIP_REASONS[checked] if isinstance(checked, UploadFileProblem) else checked


def _copy_range(source: Path, offset: int, size: int, destination: Path) -> None:
    with source.open("rb") as reader, destination.open("wb") as writer:
        reader.seek(offset)
        while size > 0 and (chunk := reader.read(min(size, _SPOOL_CHUNK))):
            writer.write(chunk)
            size -= len(chunk)


async def _each(sources: list[_Source] | AsyncIterator[_Source]) -> AsyncIterator[_Source]:
    if isinstance(sources, list):
        for source in sources:
            yield source
    else:
        async for source in sources:
            yield source


class _Emitter:
    """Deliver events to a sync or async callback one at a time, in the order they happened."""

    def __init__(self, callback: ProgressCallback | None) -> None:
        self._callback = callback
        self._lock = asyncio.Lock()

    async def __call__(self, event: UploadEvent) -> None:
        if self._callback is None:
            return
        async with self._lock:
            outcome = self._callback(event)
            if inspect.isawaitable(outcome):
                await outcome


def _check_guids(*checks: tuple[str, str | None]) -> None:
    validate(*((name, Kind.GUID, value) for name, value in checks))


async def _initialize(transport: Transport, user_uuid: str, institution_uuid: str, total_bytes: int) -> str:
    name = upload_frames.uploader_name(transport.account, user_uuid)
    request = upload_frames.initialize(user_uuid, institution_uuid, total_bytes, name)
    reply = await _main_request(transport, request)
    return upload_frames.upload_session(reply)


async def _main_request(transport: Transport, request: UploadRequest) -> dict[str, Any]:
    api_key, account_key = transport.api_key, transport.account_key
    reply = await transport.request(
        lambda message_id: request.frame(message_id, api_key, account_key),
        operation=request.operation,
        repeatable=False,
    )
    return reply.json()


def _first_failure(group: BaseExceptionGroup[BaseException]) -> BaseException:
    for error in group.exceptions:
        if isinstance(error, BaseExceptionGroup):
            return _first_failure(error)
        if not isinstance(error, asyncio.CancelledError):
            return error
    return group.exceptions[0]


# --- DICOM ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Part:
    file_index: int
    path: Path
    range: PartRange
    # Where the file starts in ``path``: non-zero for a FileRange.
    base: int = 0


class _DicomUpload:
    """One run of the DICOM upload: a checker feeding parts to one sender per upload socket."""

    def __init__(
        self,
        transport: Transport,
        *,
        user_uuid: str,
        institution_uuid: str,
        folder_uuid: str | None,
        replacements: Mapping[DicomTag, str] | None,
        emit: _Emitter,
        socket_count: int,
        scratch: _Scratch,
        release: Release | None = None,
    ) -> None:
        self.transport = transport
        self.user_uuid = user_uuid
        self.institution_uuid = institution_uuid
        self.folder_uuid = folder_uuid or None
        self.replacements = replacements
        self.emit = emit
        self.socket_count = socket_count
        self.scratch = scratch
        self.timeout = transport.timeout
        self.session_uuid = ""
        self.sockets: list[FrameSocket] = []
        self.parts: asyncio.Queue[_Part | None] = asyncio.Queue(socket_count * _QUEUED_PARTS_PER_SOCKET)
        self.parts_left: dict[int, int] = {}
        self.rewritten: dict[int, Path] = {}
        self.sent: list[int] = []
        self.skipped: list[Skipped] = []
        self.orders: dict[str, PatientOrder] = {}
        self.bytes_done = 0
        self.bytes_total = 0
        # With a release, each file's last part waits here until the caller says which may go.
        self.release = release
        self.held: dict[int, tuple[_Source, _Part]] = {}

    def summary(self) -> UploadResult:
        skipped = tuple(sorted(self.skipped, key=lambda skip: skip.file_index))
        return UploadResult(tuple(self.orders.values()), tuple(sorted(self.sent)), skipped, self.bytes_done)

    async def run(self, sources: list[_Source] | AsyncIterator[_Source], expected_bytes: int) -> UploadResult:
        """Upload the files; arriving ones are announced to PostDICOM as ``expected_bytes`` in all."""
        if isinstance(sources, list):
            self.bytes_total = expected_bytes = sum(source.size for source in sources)
            estimated_parts = sum(upload_frames.part_count(source.size) for source in sources)
            senders = max(1, min(self.socket_count, estimated_parts))
        else:
            senders = self.socket_count
        upload_session = await _initialize(
            self.transport, self.user_uuid, self.institution_uuid, expected_bytes
        )
        # The library's choice, kept because it is what PostDICOM is known to accept: plain uploads
        # name the API session, anonymized ones the session upload Initialize returned.
        if self.replacements is None:
            if self.transport.session_uuid is None:
                raise ProtocolError("the API session has no UUID")
            self.session_uuid = self.transport.session_uuid
        else:
            self.session_uuid = upload_session
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._check_all(sources, senders))
                for number in range(senders):
                    group.create_task(self._open_and_send(number))
        except BaseExceptionGroup as failures:
            raise self._explained(_first_failure(failures)) from None
        finally:
            await asyncio.gather(*(socket.close() for socket in self.sockets))
        result = self.summary()
        logger.info(
            "DICOM upload done: %d file(s) sent, %d skipped, %d bytes over %d socket(s)",
            len(result.files_sent),
            len(result.files_skipped),
            result.bytes_sent,
            senders,
        )
        await self.emit(Completed(result.orders, result.files_sent, result.files_skipped, result.bytes_sent))
        return result

    def _explained(self, error: BaseException) -> BaseException:
        if isinstance(error, ConnectionLost) and not isinstance(error, UploadInterrupted):
            done = tuple(sorted(self.sent))
            return UploadInterrupted(
                f"the connection dropped during the upload; {len(done)} file(s) completed",
                completed_files=done,
                skipped=tuple(self.skipped),
            )
        return error

    # The checker: read, anonymize, check, and queue each file's parts.

    async def _check_all(self, sources: list[_Source] | AsyncIterator[_Source], senders: int) -> None:
        # Files are read in order, but their CheckFileExist round trips overlap: one at a time, a
        # PostDICOM 20 ms away could check 50 files a second, fewer than four sockets can send.
        room = asyncio.Semaphore(2 * senders)
        file_count = len(sources) if isinstance(sources, list) else 0
        async with asyncio.TaskGroup() as checks:
            async for source in _each(sources):
                if not isinstance(sources, list):
                    self.bytes_total += source.size
                await room.acquire()
                read = await self._read(source, file_count)
                if read is None:
                    room.release()
                    continue
                check = checks.create_task(self._check(*read))
                check.add_done_callback(lambda _: room.release())
        if self.release is not None:
            await self._release_held()
        for _ in range(senders):
            await self.parts.put(None)

    async def _release_held(self) -> None:
        assert self.release is not None  # noqa: S101 - only called with a release
        withdrawn = await self.release()
        for index, (source, last_part) in sorted(self.held.items()):
            if index in withdrawn:
                # Its other parts may still be queued: a rewritten copy goes with the scratch
                # directory when the upload ends, not now.
                self.bytes_total -= last_part.range.length
                skipped = Skipped(index, source.name, SkipReason.WITHDRAWN)
                self.skipped.append(skipped)
                await self.emit(skipped)
            else:
                await self.parts.put(last_part)
        self.held.clear()

    async def _read(self, source: _Source, file_count: int) -> tuple[_Source, UploadIdentifiers] | None:
        """Return the file as it will be sent (rewritten when anonymizing) and its identifiers."""
        identifiers = await asyncio.to_thread(_read_identifiers, source)
        sent = source
        if isinstance(identifiers, UploadIdentifiers) and self.replacements is not None:
            rewritten = await self._anonymize(source)
            if rewritten is None:
                identifiers = SkipReason.UNREADABLE
            else:
                size = (await asyncio.to_thread(rewritten.stat)).st_size
                sent = replace(source, path=rewritten, size=size, offset=None)
                self.bytes_total += sent.size - source.size
                identifiers = await asyncio.to_thread(_read_identifiers, sent)
        await self.emit(Reading(source.index, source.index + 1, file_count))
        if isinstance(identifiers, SkipReason):
            await self._skip(source, sent.size, identifiers)
            return None
        return sent, identifiers

    async def _check(self, source: _Source, identifiers: UploadIdentifiers) -> None:
        request = upload_frames.check_file_exist(
            self.session_uuid,
            self.institution_uuid,
            self.user_uuid,
            self.folder_uuid,
            study_instance_uid=identifiers.study_instance_uid,
            patient_name=identifiers.patient_name,
            patient_id=identifiers.patient_id,
            series_instance_uid=identifiers.series_instance_uid,
            sop_instance_uid=identifiers.sop_instance_uid,
        )
        check = upload_frames.check_result(await _main_request(self.transport, request))
        self._remember(check.patient_order)
        await self.emit(Checking(source.index, source.name, check.exists))
        if check.exists:
            await self._skip(source, source.size, SkipReason.ALREADY_EXISTS)
            return
        parts = [
            _Part(source.index, source.path, part, source.offset or 0)
            for part in upload_frames.part_ranges(source.size)
        ]
        self.parts_left[source.index] = len(parts)
        if self.release is not None:
            # PostDICOM files a file when its last part arrives: held back, nothing is filed yet.
            self.held[source.index] = (source, parts.pop())
        for part in parts:
            await self.parts.put(part)

    async def _anonymize(self, source: _Source) -> Path | None:
        assert self.replacements is not None  # noqa: S101 - only called on the anonymized path
        destination = await self.scratch.path(f"anonymized-{source.index}.dcm")
        original = source.path
        if source.offset is not None:
            # The rewrite reads a file of its own: the range is copied out first.
            original = await self.scratch.path(f"range-{source.index}.dcm")
            await asyncio.to_thread(_copy_range, source.path, source.offset, source.size, original)
        try:
            await asyncio.to_thread(anonymize_file, original, destination, self.replacements)
        except InvalidReplacementError as error:
            # The message names the tag, never the value; a file name in front of it is left out.
            reason = str(error).removeprefix(f"{original.name}: ")
            raise InvalidAnonymization(f"file {source.index}: {reason}") from None
        except DicomFileError:
            return None
        finally:
            if original is not source.path:
                await asyncio.to_thread(original.unlink, True)
        self.rewritten[source.index] = destination
        return destination

    async def _skip(self, source: _Source, size: int, reason: SkipReason) -> None:
        self.bytes_total -= size
        await self._discard_rewritten(source.index)
        skipped = Skipped(source.index, source.name, reason)
        self.skipped.append(skipped)
        await self.emit(skipped)

    async def _discard_rewritten(self, file_index: int) -> None:
        rewritten = self.rewritten.pop(file_index, None)
        if rewritten is not None:
            await asyncio.to_thread(rewritten.unlink, True)

    def _remember(self, order: Mapping[str, Any] | None) -> None:
        if order is not None and order["PatientOrderUuid"] not in self.orders:
            self.orders[order["PatientOrderUuid"]] = PatientOrder.model_validate(order)

    # The senders: one per upload socket, one part in flight each.

    async def _open_and_send(self, number: int) -> None:
        socket = await self.transport.open_upload_socket(f"upload-{number}")
        self.sockets.append(socket)
        while (part := await self.parts.get()) is not None:
            await self._send(socket, part)

    async def _send(self, socket: FrameSocket, part: _Part) -> None:
        chunk = await asyncio.to_thread(
            _read_range, part.path, part.base + part.range.offset, part.range.length
        )
        if len(chunk) != part.range.length:
            raise UploadSourceError(f"file {part.file_index} changed while it was being uploaded")
        request = upload_frames.process_file(
            self.session_uuid,
            self.institution_uuid,
            self.user_uuid,
            self.folder_uuid,
            part.file_index,
            part.range,
            chunk,
        )
        frame = request.frame(
            self.transport.next_message_id(), self.transport.api_key, self.transport.account_key
        )
        try:
            reply = await socket.request(frame, "ProcessFile", wait_seconds=self.timeout)
        except SocketClosed:
            raise ConnectionLost("an upload socket closed while a part was in flight") from None
        self._remember(upload_frames.part_result("ProcessFile", reply.json()))
        self.bytes_done += part.range.length
        self.parts_left[part.file_index] -= 1
        if self.parts_left[part.file_index] == 0:
            self.sent.append(part.file_index)
            await self._discard_rewritten(part.file_index)
        await self.emit(Sending(self.bytes_done, self.bytes_total, part.file_index))


async def upload_dicom_files(
    transport: Transport,
    user_uuid: str,
    institution_uuid: str,
    files: Sequence[UploadFile] | AsyncIterable[UploadFile],
    *,
    folder_uuid: str | None = None,
    anonymize: AnonymizedData | None = None,
    progress: ProgressCallback | None = None,
    upload_sockets: int = 1,
    validate_folder: bool = False,
    expected_bytes: int = 0,
    release: Release | None = None,
) -> UploadResult:
    """Upload DICOM files as the library's four UploadDicomFiles* methods do, with the improvements above.

    ``files`` may also arrive while the upload runs (an async iterable); PostDICOM is then told
    ``expected_bytes`` at the start. With ``release``, every file's last part is held back until
    all files are checked and the rest sent, and ``release`` decides which files complete.
    """
    # Only the library's UploadDicomFilesIntoFolderWithAnonymization checks the folder.
    _check_guids(
        ("userUuid", user_uuid),
        ("institutionUuid", institution_uuid),
        *([("folderUuid", folder_uuid)] if validate_folder else []),
    )
    replacements = None if anonymize is None else anonymization_replacements(anonymize)
    emit = _Emitter(progress)
    scratch = _Scratch()
    try:
        sources: list[_Source] | AsyncIterator[_Source]
        if isinstance(files, AsyncIterable):
            sources = _arriving(files, scratch, transport.timeout)
        else:
            sources = await _prepare(files, scratch, transport.timeout)
        if not sources:
            # The library sends Initialize and then crashes on the empty list; there is nothing to do.
            await emit(Completed((), (), (), 0))
            return UploadResult((), (), (), 0)
        upload = _DicomUpload(
            transport,
            user_uuid=user_uuid,
            institution_uuid=institution_uuid,
            folder_uuid=folder_uuid,
            replacements=replacements,
            emit=emit,
            socket_count=upload_sockets,
            scratch=scratch,
            release=release,
        )
        async with transport.upload_lock:
            return await upload.run(sources, expected_bytes)
    finally:
        await scratch.cleanup()


# --- documents -----------------------------------------------------------------------------------


async def upload_document_files(
    transport: Transport,
    user_uuid: str,
    institution_uuid: str,
    patient_order_uuid: str,
    files: Sequence[UploadFile],
    *,
    progress: ProgressCallback | None = None,
) -> UploadResult:
    """Attach documents to an order with the library's ProcessDocuments frames, one at a time."""
    # Unlike the library, each file's last part is not sent a second time after it: that frame was
    # meant as an empty "finish" frame, and PostDICOM finishes a file from its part count anyway.
    _check_guids(
        ("userUuid", user_uuid),
        ("institutionUuid", institution_uuid),
        ("patientOrderUuid", patient_order_uuid),
    )
    emit = _Emitter(progress)
    scratch = _Scratch()
    try:
        sources = await _prepare(files, scratch, transport.timeout)
        for source in sources:
            if source.size > MAX_DOCUMENT_BYTES:
                raise DocumentTooLarge(
                    f"document {source.index} is {source.size / 2**20:.1f} MiB; PostDICOM's document "
                    f"upload resends the whole file with every 512 KiB part, so documents are limited "
                    f"to {MAX_DOCUMENT_BYTES // 2**20} MiB"
                )
        if not sources:
            await emit(Completed((), (), (), 0))
            return UploadResult((), (), (), 0)
        async with transport.upload_lock:
            return await _send_documents(
                transport, user_uuid, institution_uuid, patient_order_uuid, sources, emit
            )
    finally:
        await scratch.cleanup()


async def _send_documents(
    transport: Transport,
    user_uuid: str,
    institution_uuid: str,
    patient_order_uuid: str,
    sources: list[_Source],
    emit: _Emitter,
) -> UploadResult:
    orders: dict[str, PatientOrder] = {}
    sent: list[int] = []
    bytes_done = 0
    bytes_total = sum(source.size for source in sources)
    session = await _initialize(transport, user_uuid, institution_uuid, bytes_total)
    for source in sources:
        document = await asyncio.to_thread(source.path.read_bytes)
        if len(document) != source.size:
            raise UploadSourceError(f"document {source.index} changed while it was being uploaded")
        await emit(Reading(source.index, source.index + 1, len(sources)))
        for part in upload_frames.part_ranges(len(document)):
            request = upload_frames.process_document(
                session,
                institution_uuid,
                user_uuid,
                patient_order_uuid,
                file_index=source.index,
                file_count=len(sources),
                file_name=source.name,
                part=part,
                document=document,
            )
            order = upload_frames.part_result("ProcessDocuments", await _main_request(transport, request))
            if order is not None and order["PatientOrderUuid"] not in orders:
                orders[order["PatientOrderUuid"]] = PatientOrder.model_validate(order)
            bytes_done += part.length
            await emit(Sending(bytes_done, bytes_total, source.index))
        sent.append(source.index)
    result = UploadResult(tuple(orders.values()), tuple(sent), (), bytes_done)
    logger.info("document upload done: %d file(s), %d bytes", len(sent), bytes_done)
    await emit(Completed(result.orders, result.files_sent, (), bytes_done))
    return result
