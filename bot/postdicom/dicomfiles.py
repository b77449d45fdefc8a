"""The client's DICOM layer: read upload identifiers, anonymize, and group files like the JS library.

PostDICOM's JavaScript library does this work with dicomParser on whole files held in memory. This
module does it with pydicom and never loads pixel data:

* Every read parses the header only up to the last tag it needs, so pixel data, and everything after
  it, is never read. Header values over 1 MiB are skipped rather than read.
* :func:`anonymize_file` splices: it parses the header to find where each tag to replace sits, then
  stream-copies the source in fixed-size chunks, writing a freshly encoded element (made with
  pydicom's element writer, in the file's own transfer syntax) in place of each replaced one. Every
  other byte of the file is copied unchanged, whatever follows the pixel data included (trailing
  padding, digital signatures). Retired group lengths that cover a replaced element are adjusted by
  the size difference. Peak memory does not depend on the file size.
* Deflated transfer syntaxes (the whole dataset is one raw-deflate stream) are inflated on demand
  into a spooled temporary file (on disk beyond a small size), and :func:`anonymize_file` deflates
  the rewritten dataset as it streams out, so the result keeps the source's transfer syntax and
  memory stays flat here too.
* A file keeps its shape: with or without the 128-byte preamble, with or without File Meta
  Information. Nothing is converted between transfer syntaxes.
* Text values are read the way dicomParser's ``string()`` gives them (raw text up to a NUL,
  trimmed, multiple values joined by backslashes, person names in their ``^``/``=`` form), with
  one deliberate difference: bytes are decoded with the file's Specific Character Set, where
  dicomParser maps each byte to one character. ASCII values, which is all the golden vectors
  hold, come out the same; non-ASCII names come out right instead of as mojibake.

Everything here is synchronous and pure: callers run it in a worker thread. Errors are
:class:`DicomFileError`; their messages name the file and the tag, never a patient value.
"""

from __future__ import annotations

import datetime
import enum
import io
import os
import re
import struct
import tempfile
import threading
import unicodedata
import warnings
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from io import SEEK_CUR, SEEK_END, SEEK_SET, BytesIO
from pathlib import Path
from typing import Any, BinaryIO, Final, Literal, cast

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_pascal
from pydicom.charset import convert_encodings, custom_encoders, decode_bytes, encode_string
from pydicom.datadict import dictionary_VM, dictionary_VR
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filereader import read_dataset
from pydicom.filewriter import write_data_element
from pydicom.tag import BaseTag, Tag
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ImplicitVRLittleEndian,
    JPIPHTJ2KReferencedDeflate,
    MediaStorageDirectoryStorage,
)
from pydicom.valuerep import EXPLICIT_VR_LENGTH_32

__all__ = [
    "DICOMDIR_MESSAGE",
    "DUPLICATE_SOP_INSTANCE_MESSAGE",
    "DicomFileError",
    "DicomImage",
    "DicomReadProblem",
    "DicomReadProblemKind",
    "DicomReadResult",
    "DicomSeries",
    "DicomStudy",
    "DicomTag",
    "InvalidReplacementError",
    "UploadIdentifiers",
    "anonymize_file",
    "looks_like_dicom",
    "parse_dicom_tag",
    "read_dicom_files",
    "read_upload_identifiers",
    "read_upload_identifiers_from_bytes",
]

StrPath = str | os.PathLike[str]


class DicomFileError(ValueError):
    """A file is not DICOM, or its DICOM cannot be read or rewritten as asked.

    The message names the file and, where relevant, the tag; it never quotes a value from the file.
    """


class TruncatedDicomError(DicomFileError):
    """A DICOM file ends before its last element does."""


class InvalidReplacementError(DicomFileError):
    """A replacement cannot be written: an unknown tag key, an invalid date, or a value too long."""


class DicomTag(enum.Enum):
    """The tags the JS library's ``DicomTagsEnum`` can anonymize, plus ``StudyDate``.

    Each value is the library's key string (``"x"`` + group + element in lowercase hex); ``tag`` gives
    the pydicom tag. ``StudyDate`` appears in PostDICOM's demo page but not in the library build we
    follow, which silently ignores it.
    """

    PatientName = "x00100010"
    PatientId = "x00100020"
    OtherPatientId = "x00101000"
    OtherPatientName = "x00101001"
    StudyDescription = "x00081030"
    ReferringPhysicianName = "x00080090"
    InstitutionName = "x00080080"
    InstitutionAddress = "x00080081"
    AccessionNumber = "x00080050"
    StudyDate = "x00080020"

    @property
    def tag(self) -> BaseTag:
        """Return the pydicom tag for this entry."""
        return Tag(int(self.value[1:], 16))


def parse_dicom_tag(key: str | DicomTag) -> DicomTag:
    """Return the DicomTag for a library key such as ``"x00100010"`` (any case) or a member name."""
    if isinstance(key, DicomTag):
        return key
    normalized = key.strip().lower()
    for member in DicomTag:
        if normalized in (member.value, member.name.lower()):
            return member
    raise InvalidReplacementError(f"unknown anonymization tag key {key!r}")


# --------------------------------------------------------------------------------------------------
# Header parsing

_IMPLICIT_VR_LITTLE_ENDIAN: Final = ImplicitVRLittleEndian
_EXPLICIT_VR_BIG_ENDIAN: Final = ExplicitVRBigEndian
_DEFLATED_TRANSFER_SYNTAXES: Final = frozenset(
    {
        DeflatedExplicitVRLittleEndian,
        "1.2.840.10008.1.2.4.95",  # JPIP Referenced Deflate
        JPIPHTJ2KReferencedDeflate,
    }
)
_MEDIA_STORAGE_DIRECTORY: Final = MediaStorageDirectoryStorage

_SPECIFIC_CHARACTER_SET: Final = 0x00080005
_SOP_CLASS_UID: Final = 0x00080016
_SOP_INSTANCE_UID: Final = 0x00080018
_STUDY_DATE: Final = 0x00080020
_SERIES_DATE: Final = 0x00080021
_MODALITY: Final = 0x00080060
_STUDY_INSTANCE_UID: Final = 0x0020000D
_SERIES_INSTANCE_UID: Final = 0x0020000E
_TRANSFER_SYNTAX_UID: Final = 0x00020010
_MEDIA_STORAGE_SOP_CLASS_UID: Final = 0x00020002
_DIRECTORY_GROUP: Final = 0x0004

# Reads stop at the first top-level tag after the last one they need: pixel data, and the
# per-frame functional groups of enhanced multi-frame images, come much later.
_LAST_IDENTIFYING_TAG: Final = _SERIES_INSTANCE_UID
_LAST_REPLACEABLE_TAG: Final = max(member.tag for member in DicomTag)

# Header values longer than this are skipped, not read: no identifier is anywhere near it, and a
# corrupt length must not make us read a gigabyte.
_DEFER_SIZE: Final = 1 << 20
_COPY_CHUNK: Final = 1 << 20
_SPOOL_IN_MEMORY: Final = 1 << 20
_PREAMBLE_LENGTH: Final = 128
_DICM: Final = b"DICM"
_PART10_PREFIX_LENGTH: Final = _PREAMBLE_LENGTH + len(_DICM)
_PLAUSIBLE_FIRST_GROUPS: Final = frozenset({0x0002, 0x0008})
_DEFAULT_ENCODINGS: Final = ("iso8859",)


class _InflatedStream:
    """A seekable, readable view of a raw-deflate stream, inflated on demand.

    The inflated bytes go to a spooled temporary file, so seeking back is cheap and memory stays
    bounded however large the dataset is. Output per inflate step is capped, which also defuses
    deflate bombs.
    """

    def __init__(self, source: BinaryIO, offset: int) -> None:
        self._source = source
        self._source_position = offset
        self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        self._pending = b""
        self._spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115
        self._inflated_size = 0
        self._position = 0
        self._exhausted = False

    def close(self) -> None:
        """Discard the inflated bytes."""
        self._spool.close()

    def tell(self) -> int:
        """Return the position in the inflated stream."""
        return self._position

    def seek(self, offset: int, whence: int = SEEK_SET) -> int:
        """Move to a position in the inflated stream."""
        if whence == SEEK_SET:
            position = offset
        elif whence == SEEK_CUR:
            position = self._position + offset
        elif whence == SEEK_END:
            self._inflate_until(None)
            position = self._inflated_size + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if position < 0:
            raise ValueError("negative seek position")
        self._position = position
        return position

    def read(self, size: int | None = -1) -> bytes:
        """Read up to ``size`` inflated bytes (all that remain if ``size`` is negative)."""
        end = None if size is None or size < 0 else self._position + size
        self._inflate_until(end)
        stop = self._inflated_size if end is None else min(end, self._inflated_size)
        if stop <= self._position:
            return b""
        self._spool.seek(self._position)
        data = self._spool.read(stop - self._position)
        self._position += len(data)
        return data

    def _inflate_until(self, size: int | None) -> None:
        while not self._exhausted and (size is None or self._inflated_size < size):
            if not self._pending:
                self._source.seek(self._source_position)
                self._pending = self._source.read(_COPY_CHUNK)
                self._source_position += len(self._pending)
            if self._pending:
                inflated = self._inflater.decompress(self._pending, _COPY_CHUNK)
                self._pending = self._inflater.unconsumed_tail
            else:
                # The file ends before the deflate stream does: keep what it held.
                inflated = self._inflater.flush()
                self._exhausted = True
            if self._inflater.eof:
                self._exhausted = True
            self._spool.seek(self._inflated_size)
            self._spool.write(inflated)
            self._inflated_size += len(inflated)


@dataclass(frozen=True)
class _Header:
    """What a header parse found, and where."""

    name: str
    meta: Dataset
    dataset: Dataset
    encodings: list[str]
    # Where the dataset starts in the file; for deflated files, where the deflated bytes start.
    dataset_offset_in_file: int
    # The dataset's bytes: the file itself, or the inflated view of a deflated file.
    stream: BinaryIO
    deflated: bool
    reached_directory_records: bool

    @property
    def is_directory(self) -> bool:
        """Return True for a DICOMDIR (Media Storage Directory) file."""
        sop_class = _raw_text(self.meta, _MEDIA_STORAGE_SOP_CLASS_UID, _DEFAULT_ENCODINGS, self.name)
        return sop_class == _MEDIA_STORAGE_DIRECTORY or self.reached_directory_records


def _plausible_dataset_start(first_bytes: bytes) -> bool:
    """Return True if ``first_bytes`` could open a DICOM dataset or meta group without preamble."""
    if len(first_bytes) < 8:
        return False
    little_group = struct.unpack_from("<H", first_bytes)[0]
    big_group = struct.unpack_from(">H", first_bytes)[0]
    return little_group in _PLAUSIBLE_FIRST_GROUPS or big_group in _PLAUSIBLE_FIRST_GROUPS


def _guess_encoding(stream: BinaryIO, offset: int) -> tuple[bool, bool]:
    """Return (is_implicit_vr, is_little_endian) guessed from the first element at ``offset``."""
    stream.seek(offset)
    first = stream.read(6)
    stream.seek(offset)
    if len(first) < 6:
        return True, True
    explicit = all(0x41 <= byte <= 0x5A for byte in first[4:6])
    little_group = struct.unpack_from("<H", first)[0]
    big_group = struct.unpack_from(">H", first)[0]
    big_endian = explicit and little_group > 0x00FF and big_group <= 0x00FF
    return not explicit, not big_endian


def _not_meta(tag: BaseTag, vr: str | None, length: int) -> bool:
    return tag.group != 0x0002


class _StopAfter:
    """A pydicom ``stop_when`` that stops at the first top-level tag after ``last_tag``."""

    def __init__(self, last_tag: int) -> None:
        self.last_tag = last_tag
        self.stopped = False
        self.reached_directory_records = False

    def __call__(self, tag: BaseTag, vr: str | None, length: int) -> bool:
        if tag.group == _DIRECTORY_GROUP:
            self.reached_directory_records = True
        if tag > self.last_tag or self.reached_directory_records:
            self.stopped = True
        return self.stopped


_PARSE_FAILURES: Final = (
    RecursionError,
    EOFError,
    OSError,
    struct.error,
    zlib.error,
    ValueError,
    KeyError,
    IndexError,
    TypeError,
    NotImplementedError,
)


# pydicom warns about files it reads anyway (a dataset not encoded as its meta says); warnings are
# process-wide state, so the threads that silence them take turns.
_WARNINGS_LOCK: Final = threading.Lock()


@contextmanager
def _quiet_pydicom() -> Iterator[None]:
    with _WARNINGS_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@contextmanager
def _open_header(
    source: BinaryIO, name: str, *, last_tag: int, tolerate_truncation: bool = False
) -> Iterator[_Header | None]:
    """Yield the parsed header of ``source``, or None if it does not look like DICOM at all."""
    with ExitStack() as cleanup:
        try:
            # pydicom warns about files it reads anyway (a dataset not encoded as its meta says).
            with _quiet_pydicom():
                header = _parse_header(source, name, last_tag, tolerate_truncation, cleanup)
        except DicomFileError:
            raise
        except _PARSE_FAILURES as exc:
            raise DicomFileError(f"{name}: the DICOM header cannot be parsed") from exc
        yield header


def _parse_header(
    source: BinaryIO, name: str, last_tag: int, tolerate_truncation: bool, cleanup: ExitStack
) -> _Header | None:
    source.seek(0)
    prefix = source.read(_PART10_PREFIX_LENGTH)
    if prefix[_PREAMBLE_LENGTH:] == _DICM:
        meta_offset = _PART10_PREFIX_LENGTH
    elif prefix[: len(_DICM)] == _DICM and _plausible_dataset_start(prefix[len(_DICM) :]):
        # The preamble was cut off but the rest of the Part 10 file is intact.
        meta_offset = len(_DICM)
    elif _plausible_dataset_start(prefix):
        meta_offset = 0
    else:
        return None

    source.seek(meta_offset)
    if source.read(2) == b"\x02\x00":
        source.seek(meta_offset)
        meta = read_dataset(
            source, is_implicit_VR=False, is_little_endian=True, stop_when=_not_meta, defer_size=_DEFER_SIZE
        )
    else:
        meta = Dataset()
    dataset_offset = source.tell() if len(meta) else meta_offset
    _check_complete(meta, source, name, tolerate_truncation)

    transfer_syntax = _raw_text(meta, _TRANSFER_SYNTAX_UID, _DEFAULT_ENCODINGS, name)
    deflated = transfer_syntax in _DEFLATED_TRANSFER_SYNTAXES
    stream: BinaryIO = source
    stream_start = dataset_offset
    if deflated:
        inflated = _InflatedStream(source, dataset_offset)
        cleanup.callback(inflated.close)
        stream = cast(BinaryIO, inflated)
        stream_start = 0
        is_implicit_vr, is_little_endian = False, True
    elif transfer_syntax is None:
        is_implicit_vr, is_little_endian = _guess_encoding(source, dataset_offset)
    else:
        is_implicit_vr = transfer_syntax == _IMPLICIT_VR_LITTLE_ENDIAN
        is_little_endian = transfer_syntax != _EXPLICIT_VR_BIG_ENDIAN

    stop = _StopAfter(last_tag)
    stream.seek(stream_start)
    dataset = read_dataset(
        stream,
        is_implicit_VR=is_implicit_vr,
        is_little_endian=is_little_endian,
        stop_when=stop,
        defer_size=_DEFER_SIZE,
    )
    _check_complete(dataset, stream, name, tolerate_truncation)
    if not stop.stopped and not tolerate_truncation:
        _check_no_trailing_fragment(dataset, stream, stream_start, name)
    return _Header(
        name=name,
        meta=meta,
        dataset=dataset,
        encodings=_dataset_encodings(dataset),
        dataset_offset_in_file=dataset_offset,
        stream=stream,
        deflated=deflated,
        reached_directory_records=stop.reached_directory_records,
    )


def _raw_elements(dataset: Dataset) -> Iterator[DataElement | RawDataElement]:
    # Iterating a Dataset itself would convert every value; its keys leave them raw.
    tags = list(dataset.keys())
    for tag in tags:
        yield cast(DataElement | RawDataElement, dataset.get_item(tag, keep_deferred=True))


def _check_complete(dataset: Dataset, stream: BinaryIO, name: str, tolerate_truncation: bool) -> None:
    """Raise if a value was cut short by the end of the file (pydicom itself says nothing)."""
    for element in list(_raw_elements(dataset)):
        if not isinstance(element, RawDataElement) or element.length in (0, 0xFFFFFFFF):
            continue
        if element.value is not None:
            complete = len(element.value) == element.length
        else:
            stream.seek(element.value_tell + element.length - 1)
            complete = stream.read(1) != b""
        if complete:
            continue
        if not tolerate_truncation:
            raise TruncatedDicomError(f"{name}: the file ends inside element {element.tag}")
        del dataset[element.tag]


def _check_no_trailing_fragment(dataset: Dataset, stream: BinaryIO, start: int, name: str) -> None:
    """Raise if bytes too few for an element header follow the last element of a whole-file read."""
    ends = [start]
    for element in _raw_elements(dataset):
        if isinstance(element, RawDataElement) and element.length != 0xFFFFFFFF:
            ends.append(element.value_tell + element.length)
        else:
            return  # an undefined-length element ends at a delimiter we did not record
    if stream.seek(0, SEEK_END) != max(ends):
        raise TruncatedDicomError(f"{name}: the file ends inside an element header")


def _dataset_encodings(dataset: Dataset) -> list[str]:
    element = _raw_element(dataset, _SPECIFIC_CHARACTER_SET)
    if element is None or not element.value:
        return list(_DEFAULT_ENCODINGS)
    terms = [term.strip(" \x00") for term in element.value.decode("ascii", "replace").split("\\")]
    return convert_encodings(terms)


def _raw_element(dataset: Dataset, tag: int) -> RawDataElement | None:
    if tag not in dataset:
        return None
    element = cast(DataElement | RawDataElement, dataset.get_item(tag, keep_deferred=True))
    return element if isinstance(element, RawDataElement) else None


_PERSON_NAME_DELIMITERS: Final = {0x5C, 0x3D, 0x5E}
_VALUE_DELIMITERS: Final = {0x5C}


def _raw_text(dataset: Dataset, tag: int, encodings: Sequence[str], name: str) -> str | None:
    """Return a value as dicomParser's ``string()`` gives it: raw text up to NUL, trimmed; else None.

    Multiple values stay joined by backslashes and person names keep their ``^``/``=`` form; the
    bytes are decoded with the dataset's Specific Character Set.
    """
    element = _raw_element(dataset, tag)
    if element is None or element.length == 0:
        return None
    if element.value is None:
        raise DicomFileError(f"{name}: element {Tag(tag)} is implausibly large")
    raw = element.value.split(b"\x00", 1)[0]
    delimiters = _PERSON_NAME_DELIMITERS if _dictionary_vr(tag) == "PN" else _VALUE_DELIMITERS
    text = decode_bytes(raw, encodings, delimiters).strip()
    return text or None


def _dictionary_vr(tag: int) -> str | None:
    try:
        return dictionary_VR(tag)
    except KeyError:
        return None


@contextmanager
def _open_path(path: StrPath) -> Iterator[BinaryIO]:
    with open(path, "rb") as handle:
        yield handle


def _display_name(path: StrPath) -> str:
    return Path(path).name


# --------------------------------------------------------------------------------------------------
# Detection


_REQUIRED_UIDS_WITHOUT_PREAMBLE: Final = (
    _SOP_CLASS_UID,
    _SOP_INSTANCE_UID,
    _STUDY_INSTANCE_UID,
    _SERIES_INSTANCE_UID,
)


def looks_like_dicom(source: bytes | StrPath) -> bool:
    """Return True if bytes or a file are DICOM for upload purposes.

    ``bytes`` may be just the beginning of a file. A Part 10 file (``DICM`` at offset 128) is
    accepted on its signature alone, like the JS library and ``pydicom.misc.is_dicom`` do. Anything
    else (a raw dataset without preamble, or a Part 10 file whose preamble was cut off) must parse
    and carry SOP Class, SOP Instance, Study and Series Instance UIDs, because without a signature
    ``pydicom`` will "parse" almost any bytes into junk.
    """
    if isinstance(source, bytes):
        return _looks_like_dicom(BytesIO(source), "<bytes>", tolerate_truncation=True)
    with _open_path(source) as handle:
        return _looks_like_dicom(handle, _display_name(source), tolerate_truncation=False)


def _looks_like_dicom(stream: BinaryIO, name: str, *, tolerate_truncation: bool) -> bool:
    prefix = stream.read(_PART10_PREFIX_LENGTH)
    if prefix[_PREAMBLE_LENGTH:] == _DICM:
        return True
    try:
        with _open_header(
            stream, name, last_tag=_LAST_IDENTIFYING_TAG, tolerate_truncation=tolerate_truncation
        ) as header:
            if header is None:
                return False
            encodings = header.encodings
            return all(
                _raw_text(header.dataset, tag, encodings, name) for tag in _REQUIRED_UIDS_WITHOUT_PREAMBLE
            )
    except DicomFileError:
        return False


# --------------------------------------------------------------------------------------------------
# CheckFileExist identifiers


@dataclass(frozen=True)
class UploadIdentifiers:
    """The header values the JS library sends in CheckFileExist; None where the tag is missing/empty."""

    study_instance_uid: str | None
    patient_name: str | None
    patient_id: str | None
    series_instance_uid: str | None
    sop_instance_uid: str | None

    def library_fields(self) -> dict[str, str]:
        """Return the CheckFileExist JSON fields in the library's order, leaving out missing ones."""
        fields = {
            "StudyInstanceUid": self.study_instance_uid,
            "PatientName": self.patient_name,
            "PatientId": self.patient_id,
            "SeriesInstanceUid": self.series_instance_uid,
            "SopInstanceUid": self.sop_instance_uid,
        }
        return {key: value for key, value in fields.items() if value is not None}


def read_upload_identifiers(
    path: StrPath, *, offset: int = 0, size: int | None = None
) -> UploadIdentifiers | None:
    """Read the CheckFileExist identifiers from a file's header (or from ``size`` bytes at ``offset``).

    Returns None if the file is not DICOM at all, or is a DICOMDIR (never uploaded). Raises
    :class:`DicomFileError` if it looks like DICOM but its header is broken or truncated; ``OSError``
    from opening the file propagates.
    """
    with _open_path(path) as handle:
        stream = handle if size is None else cast(BinaryIO, io.BufferedReader(_Window(handle, offset, size)))
        return _read_upload_identifiers(stream, _display_name(path), tolerate_truncation=False)


class _Window(io.RawIOBase):
    """``size`` bytes of an open file from ``offset``, read as a file of their own (a zip's stored member)."""

    def __init__(self, handle: BinaryIO, offset: int, size: int) -> None:
        super().__init__()
        self._descriptor = handle.fileno()
        self._offset = offset
        self._size = size
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = SEEK_SET) -> int:
        base = {SEEK_SET: 0, SEEK_CUR: self._position, SEEK_END: self._size}[whence]
        self._position = max(base + offset, 0)
        return self._position

    def readinto(self, buffer: Any) -> int:
        wanted = min(len(buffer), self._size - self._position)
        if wanted <= 0:
            return 0
        data = os.pread(self._descriptor, wanted, self._offset + self._position)
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)


class UploadFileProblem(enum.StrEnum):
    """Why a file is not sent: what :func:`check_upload_file` found."""

    NOT_DICOM = "not_dicom"
    MISSING_UIDS = "missing_uids"
    TRUNCATED = "truncated"
    UNREADABLE = "unreadable"


_LAST_BEFORE_PIXELS: Final = 0x7FE00007
_ITEM: Final = 0xFFFEE000
_ITEM_END: Final = 0xFFFEE00D
_SEQUENCE_END: Final = 0xFFFEE0DD
_UNDEFINED_LENGTH: Final = 0xFFFFFFFF
_LONG_LENGTH_VRS: Final = frozenset(vr.encode() for vr in EXPLICIT_VR_LENGTH_32)
_MAX_NESTING: Final = 32


def check_upload_file(
    path: StrPath, *, offset: int = 0, size: int | None = None
) -> UploadIdentifiers | UploadFileProblem:
    """Return a whole instance's CheckFileExist identifiers, or why the file is not one to send.

    The header is parsed up to the pixel data; the pixel data and whatever follows are walked
    element by element, seeking over values, so a truncated file is found without reading it.
    """
    with _open_path(path) as handle:
        stream = handle if size is None else cast(BinaryIO, io.BufferedReader(_Window(handle, offset, size)))
        try:
            return _check_whole(stream, _display_name(path))
        except TruncatedDicomError:
            return UploadFileProblem.TRUNCATED
        except DicomFileError:
            return UploadFileProblem.UNREADABLE


def _check_whole(stream: BinaryIO, name: str) -> UploadIdentifiers | UploadFileProblem:
    with _open_header(stream, name, last_tag=_LAST_BEFORE_PIXELS) as header:
        if header is None or header.is_directory:
            return UploadFileProblem.NOT_DICOM
        identifiers = _identifiers(header)
        if None in (
            identifiers.study_instance_uid,
            identifiers.series_instance_uid,
            identifiers.sop_instance_uid,
        ):
            return UploadFileProblem.MISSING_UIDS
        if not header.deflated:
            dataset_element = next(iter(_raw_elements(header.dataset)), None)
            implicit = bool(getattr(dataset_element, "is_implicit_VR", False))
            little = bool(getattr(dataset_element, "is_little_endian", True))
            # The header parse stopped at the first element it did not read, and left the stream there.
            position = header.stream.tell()
            end = header.stream.seek(0, SEEK_END)
            header.stream.seek(position)
            _walk_to_end(header.stream, _PixelWalk(end, "<" if little else ">", implicit))
        return identifiers


@dataclass(frozen=True)
class _PixelWalk:
    end: int
    endian: str
    implicit: bool


def _walk_to_end(stream: BinaryIO, walk: _PixelWalk) -> None:
    """Seek over the elements left after the header (the pixel data, mostly) to the end of the file."""
    while True:
        position = stream.tell()
        head = stream.read(8)
        if not head.strip(b"\x00"):
            stream.seek(position)
            if not stream.read().strip(b"\x00"):
                return  # the end, or padding to it
            raise TruncatedDicomError("the file ends inside an element header")
        _skip_element(stream, walk, head, depth=0)


def _skip_element(stream: BinaryIO, walk: _PixelWalk, head: bytes, *, depth: int) -> None:
    if len(head) < 8:
        raise TruncatedDicomError("the file ends inside an element header")
    group = struct.unpack(walk.endian + "H", head[:2])[0]
    if walk.implicit or group == 0xFFFE:
        length = struct.unpack(walk.endian + "I", head[4:])[0]
    elif head[4:6] in _LONG_LENGTH_VRS:
        more = stream.read(4)
        if len(more) < 4:
            raise TruncatedDicomError("the file ends inside an element header")
        length = struct.unpack(walk.endian + "I", more)[0]
    else:
        length = struct.unpack(walk.endian + "H", head[6:])[0]
    if length != _UNDEFINED_LENGTH:
        if stream.tell() + length > walk.end:
            raise TruncatedDicomError("the file ends inside a value")
        stream.seek(length, SEEK_CUR)
        return
    if depth >= _MAX_NESTING:
        raise DicomFileError("sequences nest too deeply")
    # An undefined length: items (or pixel data fragments) up to the sequence delimiter.
    while True:
        item = stream.read(8)
        if len(item) < 8:
            raise TruncatedDicomError("the file ends inside a sequence")
        tag = _tag_of(item, walk.endian)
        item_length = struct.unpack(walk.endian + "I", item[4:])[0]
        if tag == _SEQUENCE_END:
            return
        if tag != _ITEM:
            raise DicomFileError("a sequence holds something other than items")
        if item_length != _UNDEFINED_LENGTH:
            if stream.tell() + item_length > walk.end:
                raise TruncatedDicomError("the file ends inside an item")
            stream.seek(item_length, SEEK_CUR)
            continue
        while True:  # an undefined-length item: elements up to its delimiter
            inner = stream.read(8)
            if len(inner) == 8 and _tag_of(inner, walk.endian) == _ITEM_END:
                break
            _skip_element(stream, walk, inner, depth=depth + 1)


def _tag_of(head: bytes, endian: str) -> int:
    group, element = struct.unpack(endian + "HH", head[:4])
    return int((group << 16) | element)


def read_upload_identifiers_from_bytes(data: bytes) -> UploadIdentifiers | None:
    """Read the CheckFileExist identifiers from a file's bytes, or just its first part.

    Elements cut off by the end of ``data`` count as missing, so pass enough bytes to cover the
    header up to (0020,000E) (64 KiB covers ordinary files). Otherwise as
    :func:`read_upload_identifiers`.
    """
    return _read_upload_identifiers(BytesIO(data), "<bytes>", tolerate_truncation=True)


def _read_upload_identifiers(
    stream: BinaryIO, name: str, *, tolerate_truncation: bool
) -> UploadIdentifiers | None:
    with _open_header(
        stream, name, last_tag=_LAST_IDENTIFYING_TAG, tolerate_truncation=tolerate_truncation
    ) as header:
        if header is None or header.is_directory:
            return None
        return _identifiers(header)


def _identifiers(header: _Header) -> UploadIdentifiers:
    encodings = header.encodings

    def text(tag: int) -> str | None:
        return _raw_text(header.dataset, tag, encodings, header.name)

    return UploadIdentifiers(
        study_instance_uid=text(_STUDY_INSTANCE_UID),
        patient_name=text(DicomTag.PatientName.tag),
        patient_id=text(DicomTag.PatientId.tag),
        series_instance_uid=text(_SERIES_INSTANCE_UID),
        sop_instance_uid=text(_SOP_INSTANCE_UID),
    )


# --------------------------------------------------------------------------------------------------
# Anonymization

_UNDEFINED: Final = "undefined"
_PLACEHOLDER: Final = "?"
_PN_MAX_GROUP_CHARS: Final = 64
_PN_MAX_GROUPS: Final = 3
_PN_MAX_COMPONENTS: Final = 5
# Characters per value (per component group for PN); None means only the length field limits it.
_MAX_CHARS: Final[dict[str, int | None]] = {
    "AE": 16,
    "CS": 16,
    "DA": 8,
    "LO": 64,
    "LT": 10240,
    "PN": _PN_MAX_GROUP_CHARS,
    "SH": 16,
    "ST": 1024,
    "UC": None,
    "UT": None,
}
_SINGLE_TEXT_VRS: Final = frozenset({"LT", "ST", "UT"})
_CHARSET_VRS: Final = frozenset({"LO", "LT", "PN", "SH", "ST", "UC", "UT"})
_TEXT_CONTROLS: Final = frozenset("\r\n\t\f")
_SHORT_LENGTH_LIMIT: Final = 0xFFFE


@dataclass(frozen=True)
class _Patch:
    """Replace ``old_length`` bytes at ``offset`` of the dataset stream with ``data``."""

    offset: int
    old_length: int
    data: bytes


def anonymize_file(source: StrPath, destination: StrPath, replacements: Mapping[DicomTag, str]) -> int:
    """Write ``source`` to ``destination`` with the given top-level values replaced; return its size.

    Like the JS library, only tags already present at the top level of the dataset change (nothing
    is added, sequence items are left alone) and a value equal to the string ``"undefined"`` becomes
    empty. Unlike it, the result is valid DICOM in the source's own transfer syntax:

    * values are truncated to the VR's maximum per value (PN: per component group, at most three
      groups of five components), then padded to even length;
    * text is encoded in the file's Specific Character Set; characters it cannot represent become
      ``?`` (the set is not changed, so no other element needs re-encoding);
    * control characters (other than CR, LF, TAB and FF in ST/LT/UT) become spaces, and so does a
      backslash in a single-valued element, where it would start a second value;
    * a StudyDate replacement must be empty or a real date as YYYYMMDD.

    ``destination`` is written atomically and may be ``source`` itself. Raises
    :class:`DicomFileError` for input that is not DICOM, is truncated inside the header or is a
    DICOMDIR, and :class:`InvalidReplacementError` for a replacement that cannot be written.
    """
    source_path = Path(source)
    destination_path = Path(destination)
    name = source_path.name
    wanted = {parse_dicom_tag(key): _unless_undefined(value) for key, value in replacements.items()}
    if DicomTag.StudyDate in wanted:
        # Checked up front so a bad date fails the same way whether or not this file has the tag.
        _validated_date(DicomTag.StudyDate, wanted[DicomTag.StudyDate])
    with (
        _open_path(source_path) as handle,
        _open_header(handle, name, last_tag=_LAST_REPLACEABLE_TAG) as header,
    ):
        if header is None:
            raise DicomFileError(f"{name}: not a DICOM file")
        if header.is_directory:
            raise DicomFileError(f"{name}: a DICOMDIR cannot be anonymized")
        patches = _plan_patches(header, wanted)
        return _write_atomically(
            destination_path, lambda output: _write_spliced(handle, header, patches, output)
        )


def _write_atomically(destination: Path, write: Callable[[BinaryIO], int]) -> int:
    descriptor, temporary_name = tempfile.mkstemp(
        prefix=f".{destination.name}.", suffix=".partial", dir=destination.parent
    )
    temporary = Path(temporary_name)
    try:
        with os.fdopen(descriptor, "wb") as output:
            size = write(output)
        temporary.replace(destination)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return size


def _write_spliced(source: BinaryIO, header: _Header, patches: list[_Patch], output: BinaryIO) -> int:
    written = 0

    def emit(data: bytes | memoryview) -> None:
        nonlocal written
        output.write(data)
        written += len(data)

    if not header.deflated:
        _copy_with_patches(source, patches, emit)
        return written

    # Preamble and File Meta Information are never deflated; the dataset after them is.
    _copy_range(source, 0, header.dataset_offset_in_file, emit)
    compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -zlib.MAX_WBITS)
    try:
        _copy_with_patches(header.stream, patches, lambda data: emit(compressor.compress(data)))
    except zlib.error as exc:
        raise DicomFileError(f"{header.name}: the deflated dataset is corrupt") from exc
    emit(compressor.flush())
    return written


def _copy_with_patches(
    stream: BinaryIO, patches: list[_Patch], emit: Callable[[bytes | memoryview], None]
) -> None:
    position = 0
    for patch in sorted(patches, key=lambda patch: patch.offset):
        _copy_range(stream, position, patch.offset, emit)
        emit(patch.data)
        position = patch.offset + patch.old_length
    _copy_range(stream, position, None, emit)


def _copy_range(
    stream: BinaryIO, start: int, end: int | None, emit: Callable[[bytes | memoryview], None]
) -> None:
    stream.seek(start)
    remaining = None if end is None else end - start
    while remaining is None or remaining > 0:
        chunk = stream.read(_COPY_CHUNK if remaining is None else min(_COPY_CHUNK, remaining))
        if not chunk:
            break
        emit(chunk)
        if remaining is not None:
            remaining -= len(chunk)


def _plan_patches(header: _Header, replacements: Mapping[DicomTag, str]) -> list[_Patch]:
    patches: list[_Patch] = []
    growth_by_group: dict[int, int] = {}
    encodings = header.encodings
    for member, value in replacements.items():
        if member.tag not in header.dataset:
            continue
        element = cast(DataElement | RawDataElement, header.dataset.get_item(member.tag, keep_deferred=True))
        if not isinstance(element, RawDataElement) or element.length == 0xFFFFFFFF:
            raise DicomFileError(f"{header.name}: element {member.tag} is a sequence, not text")
        vr = _text_vr(element, header)
        element_start = element.value_tell - _element_header_length(element)
        old_length = element.value_tell + element.length - element_start
        value_bytes = _encode_replacement(member, value, vr, encodings)
        short_length_field = not element.is_implicit_VR and vr not in EXPLICIT_VR_LENGTH_32
        if short_length_field and len(value_bytes) > _SHORT_LENGTH_LIMIT:
            raise InvalidReplacementError(f"replacement for {member.name} {member.tag} is too long")
        new_element = _encode_element(element, vr, value_bytes)
        patches.append(_Patch(element_start, old_length, new_element))
        group = member.tag.group
        growth_by_group[group] = growth_by_group.get(group, 0) + len(new_element) - old_length
    patches.extend(_group_length_patches(header, growth_by_group))
    return patches


def _text_vr(element: RawDataElement, header: _Header) -> str:
    """Return the VR to encode a replacement with: the file's own, or the dictionary's if unknown."""
    vr = element.VR
    if vr is None or vr == "UN":
        vr = _dictionary_vr(element.tag)
    if vr not in _MAX_CHARS:
        raise DicomFileError(f"{header.name}: element {element.tag} has VR {vr}, which is not text")
    return vr


def _element_header_length(element: RawDataElement) -> int:
    if element.is_implicit_VR:
        return 8
    return 12 if element.VR in EXPLICIT_VR_LENGTH_32 else 8


def _encode_element(old: RawDataElement, vr: str, value: bytes) -> bytes:
    """Return a whole element (tag, VR, length, value) encoded like ``old`` was."""
    buffer = DicomBytesIO()
    buffer.is_little_endian = old.is_little_endian
    buffer.is_implicit_VR = old.is_implicit_VR
    new = RawDataElement(old.tag, vr, len(value), value, 0, old.is_implicit_VR, old.is_little_endian)
    write_data_element(buffer, new)
    return bytes(buffer.getvalue())


def _group_length_patches(header: _Header, growth_by_group: Mapping[int, int]) -> Iterator[_Patch]:
    for group, growth in growth_by_group.items():
        element = _raw_element(header.dataset, group << 16)
        if growth == 0 or element is None or element.length != 4 or element.value is None:
            continue
        endian = "<" if element.is_little_endian else ">"
        new_length = struct.unpack(f"{endian}L", element.value)[0] + growth
        if 0 <= new_length <= 0xFFFFFFFF:
            yield _Patch(element.value_tell, 4, struct.pack(f"{endian}L", new_length))


def _unless_undefined(value: str) -> str:
    # The JS library turns the string "undefined" (what JS makes of a missing value) into "".
    return "" if value == _UNDEFINED else value


def _encode_replacement(member: DicomTag, text: str, vr: str, encodings: Sequence[str]) -> bytes:
    """Return the even-length value bytes for a replacement, following the rules of ``vr``."""
    if vr == "DA":
        return _pad(_validated_date(member, text).encode("ascii"))
    text = "".join(_allowed_char(char, vr) for char in text)
    if vr in _SINGLE_TEXT_VRS:
        values = [text]
    elif dictionary_VM(member.tag) == "1":
        values = [text.replace("\\", " ")]
    else:
        values = text.split("\\")
    uses_charset = vr in _CHARSET_VRS
    check_codecs = _representability_codecs(encodings) if uses_charset else ["ascii"]
    encoded_values = []
    for index, single in enumerate(values):
        single = "".join(_representable(char, check_codecs) for char in single)
        if vr == "PN":
            encoded_values.append(_encode_person_name(single, encodings))
            continue
        limit = _MAX_CHARS[vr]
        truncated = single if limit is None else single[:limit]
        if not uses_charset:
            encoded = truncated.encode("ascii")
        elif limit is not None and index == len(values) - 1:
            encoded = _fit_last_value(
                truncated, limit, encodings, sum(len(value) + 1 for value in encoded_values)
            )
        else:
            encoded = encode_string(truncated, encodings)
        encoded_values.append(encoded)
    return _pad(b"\\".join(encoded_values))


def _fit_last_value(text: str, limit: int, encodings: Sequence[str], preceding_bytes: int) -> bytes:
    """Encode the last value, shortened until it fits ``limit`` characters as a reader decodes it.

    Readers count the pad space too, and after an ISO 2022 escape it decodes as one more
    character, so a value exactly at the limit can read back one character over.
    """
    while True:
        encoded = encode_string(text, encodings)
        padding = b" " if (preceding_bytes + len(encoded)) % 2 else b""
        if not text or len(decode_bytes(encoded + padding, list(encodings), set())) <= limit:
            return encoded
        text = text[:-1]


def _validated_date(member: DicomTag, text: str) -> str:
    if text == "":
        return text
    try:
        if not re.fullmatch(r"\d{8}", text):
            raise ValueError
        datetime.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise InvalidReplacementError(
            f"replacement for {member.name} {member.tag} is not a date as YYYYMMDD"
        ) from None
    return text


def _allowed_char(char: str, vr: str) -> str:
    if unicodedata.category(char) != "Cc":
        return char
    if vr in _SINGLE_TEXT_VRS and char in _TEXT_CONTROLS:
        return char
    return " "


def _representability_codecs(encodings: Sequence[str]) -> list[str]:
    # pydicom decodes the default repertoire as Latin-1, but DICOM's default is ASCII: a file
    # without Specific Character Set must not gain Latin-1 bytes.
    first, *rest = encodings
    return ["ascii" if first in _DEFAULT_ENCODINGS else first, *rest]


def _representable(char: str, codecs: Sequence[str]) -> str:
    for codec in codecs:
        encoder = custom_encoders.get(codec)
        try:
            if encoder is not None:
                encoder(char, "strict")
            else:
                char.encode(codec)
        except (UnicodeError, LookupError):
            continue
        return char
    return _PLACEHOLDER


def _encode_person_name(value: str, encodings: Sequence[str]) -> bytes:
    groups = value.split("=")[:_PN_MAX_GROUPS]
    encoded_groups = []
    for group in groups:
        components = group[:_PN_MAX_GROUP_CHARS].split("^")
        if len(components) > _PN_MAX_COMPONENTS:
            kept = _PN_MAX_COMPONENTS - 1
            components = [*components[:kept], " ".join(components[kept:])]
        # Each component is encoded on its own so ISO 2022 escapes reset at every delimiter.
        encoded_groups.append(b"^".join(encode_string(component, encodings) for component in components))
    return b"=".join(encoded_groups)


def _pad(value: bytes) -> bytes:
    return value + b" " if len(value) % 2 else value


# --------------------------------------------------------------------------------------------------
# ReadDicomFiles

DUPLICATE_SOP_INSTANCE_MESSAGE: Final = "Selected files include same SopInstanceUuid"
DICOMDIR_MESSAGE: Final = "DICOMDIR skipped! FileName: "
_UNSUPPORTED_MESSAGE: Final = "Unsupported file! FileName: "
_COMPLETED_MESSAGE: Final = "Completed"


class _LibraryModel(BaseModel):
    """A frozen model whose ``model_dump(by_alias=True)`` uses the JS library's PascalCase names."""

    model_config = ConfigDict(alias_generator=to_pascal, validate_by_name=True, frozen=True)


class DicomImage(_LibraryModel):
    """One image (SOP instance)."""

    sop_instance_uid: str | None


class DicomSeries(_LibraryModel):
    """One series of a study, with its images in file order."""

    series_date: str | None
    series_instance_uid: str | None
    image_list: tuple[DicomImage, ...]


class DicomStudy(_LibraryModel):
    """One study; its patient and study fields come from its first file, as in the JS library."""

    patient_name: str | None
    other_patient_name: str | None
    patient_id: str | None
    other_patient_id: str | None
    accession_number: str | None
    modality: str | None
    study_date: str | None
    study_instance_uid: str | None
    study_description: str | None
    referring_physician_name: str | None
    institution_name: str | None
    institution_address: str | None
    transfer_syntax_uid: str | None
    series_list: tuple[DicomSeries, ...]
    file_list: tuple[Path, ...]
    image_list: tuple[DicomImage, ...]


class DicomReadProblemKind(enum.StrEnum):
    """Why a file was left out of a :class:`DicomReadResult`."""

    UNSUPPORTED = "unsupported"
    DUPLICATE_SOP_INSTANCE = "duplicate_sop_instance"
    DICOMDIR = "dicomdir"


class DicomReadProblem(_LibraryModel):
    """A file left out of the result, with the JS library's message for it."""

    kind: DicomReadProblemKind
    file_name: str
    path: Path
    message: str


class DicomReadResult(_LibraryModel):
    """The final result the JS library's ReadDicomFiles passes its callback, plus what was left out."""

    message: str = _COMPLETED_MESSAGE
    progress: float = 100
    study_list: tuple[DicomStudy, ...]
    problems: tuple[DicomReadProblem, ...]


@dataclass(frozen=True)
class _FileSummary:
    """The values ReadDicomFiles takes from one file."""

    patient_name: str | None
    other_patient_name: str | None
    patient_id: str | None
    other_patient_id: str | None
    accession_number: str | None
    modality: str | None
    study_date: str | None
    study_instance_uid: str | None
    study_description: str | None
    referring_physician_name: str | None
    institution_name: str | None
    institution_address: str | None
    transfer_syntax_uid: str | None
    series_date: str | None
    series_instance_uid: str | None
    sop_instance_uid: str | None


@dataclass
class _SeriesBuilder:
    first_file: _FileSummary
    images: list[DicomImage]


@dataclass
class _StudyBuilder:
    first_file: _FileSummary
    series: dict[str, _SeriesBuilder]
    files: list[Path]
    images: list[DicomImage]


def read_dicom_files(paths: Iterable[StrPath]) -> DicomReadResult:
    """Group DICOM files by study and series from their headers, like the JS ReadDicomFiles.

    Files that cannot be read, are not DICOM, or lack a Study, Series or SOP Instance UID are left
    out with the library's "Unsupported file! FileName: <name>" message; a DICOMDIR is left out
    (the library stalls on it); a file repeating an SOP Instance UID already seen anywhere in the
    batch is left out with the library's duplicate message. Nothing here is fatal.
    """
    studies: dict[str, _StudyBuilder] = {}
    seen_sop_instances: set[str] = set()
    problems: list[DicomReadProblem] = []

    def report(kind: DicomReadProblemKind, path: Path, message: str) -> None:
        problems.append(DicomReadProblem(kind=kind, file_name=path.name, path=path, message=message))

    for given in paths:
        path = Path(given)
        try:
            summary = _summarize(path)
        except (DicomFileError, OSError):
            summary = None
        if summary == "directory":
            report(DicomReadProblemKind.DICOMDIR, path, DICOMDIR_MESSAGE + path.name)
            continue
        if (
            summary is None
            or summary.study_instance_uid is None
            or summary.series_instance_uid is None
            or summary.sop_instance_uid is None
        ):
            report(DicomReadProblemKind.UNSUPPORTED, path, _UNSUPPORTED_MESSAGE + path.name)
            continue
        if summary.sop_instance_uid in seen_sop_instances:
            report(DicomReadProblemKind.DUPLICATE_SOP_INSTANCE, path, DUPLICATE_SOP_INSTANCE_MESSAGE)
            continue
        seen_sop_instances.add(summary.sop_instance_uid)
        image = DicomImage(sop_instance_uid=summary.sop_instance_uid)
        study = studies.setdefault(
            summary.study_instance_uid, _StudyBuilder(summary, series={}, files=[], images=[])
        )
        series = study.series.setdefault(summary.series_instance_uid, _SeriesBuilder(summary, images=[]))
        series.images.append(image)
        study.images.append(image)
        study.files.append(path)

    return DicomReadResult(
        study_list=tuple(_build_study(study) for study in studies.values()),
        problems=tuple(problems),
    )


def _summarize(path: Path) -> _FileSummary | Literal["directory"] | None:
    with (
        _open_path(path) as handle,
        _open_header(handle, path.name, last_tag=_LAST_IDENTIFYING_TAG) as header,
    ):
        if header is None:
            return None
        if header.is_directory:
            return "directory"

        def text(tag: int) -> str | None:
            return _raw_text(header.dataset, tag, header.encodings, header.name)

        return _FileSummary(
            patient_name=text(DicomTag.PatientName.tag),
            other_patient_name=text(DicomTag.OtherPatientName.tag),
            patient_id=text(DicomTag.PatientId.tag),
            other_patient_id=text(DicomTag.OtherPatientId.tag),
            accession_number=text(DicomTag.AccessionNumber.tag),
            modality=text(_MODALITY),
            study_date=text(_STUDY_DATE),
            study_instance_uid=text(_STUDY_INSTANCE_UID),
            study_description=text(DicomTag.StudyDescription.tag),
            referring_physician_name=text(DicomTag.ReferringPhysicianName.tag),
            institution_name=text(DicomTag.InstitutionName.tag),
            institution_address=text(DicomTag.InstitutionAddress.tag),
            transfer_syntax_uid=_raw_text(header.meta, _TRANSFER_SYNTAX_UID, _DEFAULT_ENCODINGS, header.name),
            series_date=text(_SERIES_DATE),
            series_instance_uid=text(_SERIES_INSTANCE_UID),
            sop_instance_uid=text(_SOP_INSTANCE_UID),
        )


def _build_study(study: _StudyBuilder) -> DicomStudy:
    first = study.first_file
    return DicomStudy(
        patient_name=first.patient_name,
        other_patient_name=first.other_patient_name,
        patient_id=first.patient_id,
        other_patient_id=first.other_patient_id,
        accession_number=first.accession_number,
        modality=first.modality,
        study_date=first.study_date,
        study_instance_uid=first.study_instance_uid,
        study_description=first.study_description,
        referring_physician_name=first.referring_physician_name,
        institution_name=first.institution_name,
        institution_address=first.institution_address,
        transfer_syntax_uid=first.transfer_syntax_uid,
        series_list=tuple(
            DicomSeries(
                series_date=series.first_file.series_date,
                series_instance_uid=series.first_file.series_instance_uid,
                image_list=tuple(series.images),
            )
            for series in study.series.values()
        ),
        file_list=tuple(study.files),
        image_list=tuple(study.images),
    )
