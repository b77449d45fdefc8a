"""One DICOM file: is it DICOM, is it whole, which instance is it, and how to make it a Part 10 file.

The header is parsed with pydicom up to the pixel data and no further; the pixel data and anything
after it are checked by walking element headers and seeking over values, so a 1 GB multi-frame
file is checked without reading its pixels. pydicom says nothing when a file ends early (it
returns whatever it managed to read), so every length it reports is compared with the file.

Everything here blocks: callers run it in a worker thread. Messages name the problem, never a
value from the file.
"""

from __future__ import annotations

import enum
import io
import os
import struct
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

import pydicom
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.filebase import DicomFileLike
from pydicom.filewriter import write_file_meta_info
from pydicom.pixels.utils import get_expected_length
from pydicom.uid import (
    UID,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    MediaStorageDirectoryStorage,
)
from pydicom.valuerep import EXPLICIT_VR_LENGTH_32

from bot.dicom.sniff import Kind, sniff

MEDIA_STORAGE_DIRECTORY = MediaStorageDirectoryStorage
IMPLICIT_VR_LITTLE_ENDIAN = ImplicitVRLittleEndian
EXPLICIT_VR_LITTLE_ENDIAN = ExplicitVRLittleEndian
EXPLICIT_VR_BIG_ENDIAN = ExplicitVRBigEndian
REQUIRED_UIDS = ("SOPClassUID", "SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID")
_UID_NAMES = {
    "SOPClassUID": "SOP Class UID",
    "SOPInstanceUID": "SOP Instance UID",
    "StudyInstanceUID": "Study Instance UID",
    "SeriesInstanceUID": "Series Instance UID",
}

_PREAMBLE = b"\x00" * 128
_UNDEFINED = 0xFFFFFFFF
_PIXEL_TAGS = (0x7FE00010, 0x7FE00008, 0x7FE00009)
_DIRECTORY_RECORDS = 0x00041220
_LAST_UID_TAG = 0x0020000E
_ITEM, _ITEM_END, _SEQUENCE_END = 0xE000, 0xE00D, 0xE0DD
# Explicit-VR VRs whose length is 4 bytes after 2 reserved ones (PS3.5 7.1.2).
_LONG_VRS = frozenset(vr.encode() for vr in EXPLICIT_VR_LENGTH_32)
_DEFER_BYTES = 1024
_COPY_CHUNK = 1024 * 1024
# Headers beyond this are not DICOM anyone uploads; parsing them would take the worker thread hostage.
_MAX_NESTING = 32
# pydicom warns (rather than fails) about odd values; warnings are process-wide state, so threads
# that silence them take turns.
_WARNINGS_LOCK = threading.Lock()


class Problem(enum.StrEnum):
    """Why a file cannot be uploaded as DICOM."""

    NOT_DICOM = "not_dicom"
    TRUNCATED = "truncated"
    MISSING_UIDS = "missing_uids"
    UNREADABLE = "unreadable"
    NO_PIXEL_DATA = "no_pixel_data"
    """An image (it has Rows and Columns) whose file holds no pixel data."""
    TOO_DEEP = "too_deep"
    """Sequences nested deeper than a reader can follow."""


class DicomRejected(Exception):
    """A file that is not uploadable DICOM; ``problem`` says why, the message says it in words."""

    def __init__(self, problem: Problem, message: str) -> None:
        super().__init__(message)
        self.problem = problem
        self.message = message


@dataclass(frozen=True, slots=True)
class Layout:
    """How the file is laid out on disk, which decides whether it needs a Part 10 wrapper."""

    part10: bool
    preamble_missing: bool
    transfer_syntax_uid: str


@dataclass(frozen=True, slots=True)
class DicomInstance:
    """The identifiers and a little description of one instance; no patient data."""

    sop_class_uid: str
    sop_instance_uid: str
    study_instance_uid: str
    series_instance_uid: str
    modality: str
    study_date: str
    layout: Layout

    @property
    def needs_wrapping(self) -> bool:
        """Tell whether the file must get a preamble and File Meta Information before upload."""
        return not self.layout.part10 or self.layout.preamble_missing


@dataclass(frozen=True, slots=True)
class DicomDirectory:
    """A DICOMDIR: an index of a CD's files, never uploaded itself."""


Inspection = DicomInstance | DicomDirectory


@dataclass(frozen=True, slots=True)
class FileRegion:
    """A byte range of a file that holds one whole file of its own (a member stored in a zip)."""

    path: Path
    offset: int
    size: int


class _View(io.RawIOBase):
    """A read-only view of ``length`` bytes of a file from ``start``, with ``prefix`` bytes in front.

    The prefix lets a preamble-less Part 10 file read as a whole one; the range lets a member
    stored in a zip be read where it lies.
    """

    def __init__(self, handle: BinaryIO, *, start: int, length: int, prefix: bytes = b"") -> None:
        super().__init__()
        self._handle = handle
        self._start = start
        self._length = length
        self._prefix = prefix
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._position
        elif whence == io.SEEK_END:
            offset += len(self._prefix) + self._length
        self._position = max(offset, 0)
        return self._position

    def read(self, size: int | None = -1) -> bytes:
        end = len(self._prefix) + self._length
        wanted = end - self._position if size is None or size < 0 else min(size, end - self._position)
        if wanted <= 0:
            return b""
        head = self._prefix[self._position : self._position + wanted]
        rest = wanted - len(head)
        body = b""
        if rest:
            self._handle.seek(self._start + max(self._position - len(self._prefix), 0))
            body = self._handle.read(rest)
        data = head + body
        self._position += len(data)
        return data

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


@contextmanager
def quiet_pydicom() -> Iterator[None]:
    """Silence pydicom's warnings about odd values for the block (one thread at a time)."""
    with _WARNINGS_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _location(source: str | os.PathLike[str] | FileRegion) -> tuple[str | os.PathLike[str], int, int | None]:
    """Return the path, start and length (None: to the end) of a file or a region of one."""
    if isinstance(source, FileRegion):
        return source.path, source.offset, source.size
    return source, 0, None


@dataclass(frozen=True, slots=True)
class _Opened:
    stream: BinaryIO
    size: int
    part10: bool
    preamble_missing: bool


@contextmanager
def _opened(source: str | os.PathLike[str] | FileRegion) -> Iterator[_Opened]:
    """Open a file (or a region of one) as a stream that reads like a whole file, from its start."""
    path, start, length = _location(source)
    with open(path, "rb") as handle:
        region = length is not None
        size = length if length is not None else os.fstat(handle.fileno()).st_size
        handle.seek(start)
        head = handle.read(min(132, size))
        sniffed = sniff(head)
        prefix = _PREAMBLE if sniffed.preamble_missing else b""
        stream: BinaryIO = handle
        if prefix or region:
            stream = cast(BinaryIO, _View(handle, start=start, length=size, prefix=prefix))
            size += len(prefix)
        stream.seek(0)
        yield _Opened(stream, size, sniffed.kind is Kind.DICOM, sniffed.preamble_missing)


@contextmanager
def region_stream(source: str | os.PathLike[str] | FileRegion) -> Iterator[tuple[BinaryIO, bool]]:
    """Open a file (or a region of one) to read as a whole file; also say whether it is Part 10."""
    with _opened(source) as opened:
        yield opened.stream, opened.part10


def inspect_dicom(source: str | os.PathLike[str] | FileRegion) -> Inspection:
    """Decide whether a file (or a region of one) is uploadable DICOM, whole, and names its instance."""
    with _opened(source) as opened, quiet_pydicom():
        return _inspect(
            opened.stream, opened.size, part10=opened.part10, preamble_missing=opened.preamble_missing
        )


def _inspect(stream: BinaryIO, size: int, *, part10: bool, preamble_missing: bool) -> Inspection:
    try:
        dataset = pydicom.dcmread(stream, stop_before_pixels=True, defer_size=_DEFER_BYTES, force=not part10)
    except InvalidDicomError:
        raise DicomRejected(Problem.NOT_DICOM, "it is not DICOM") from None
    except RecursionError:
        raise _too_deep() from None
    except (
        EOFError,
        OSError,
        ValueError,
        KeyError,
        IndexError,
        TypeError,
        NotImplementedError,
        struct.error,
    ):
        raise DicomRejected(Problem.UNREADABLE, "its DICOM header cannot be read") from None
    pixels_at = stream.tell()
    meta = dataset.file_meta if hasattr(dataset, "file_meta") else FileMetaDataset()
    if _text(meta, "MediaStorageSOPClassUID") == MEDIA_STORAGE_DIRECTORY or _DIRECTORY_RECORDS in dataset:
        return DicomDirectory()
    missing = [keyword for keyword in REQUIRED_UIDS if not _text(dataset, keyword)]
    if not part10 and len(missing) == len(REQUIRED_UIDS):
        # Without the DICM signature, bytes that pydicom "parsed" into nothing are not DICOM.
        raise DicomRejected(Problem.NOT_DICOM, "it is not DICOM")
    transfer_syntax = _text(meta, "TransferSyntaxUID") or _guessed_transfer_syntax(dataset)
    if not transfer_syntax:
        raise DicomRejected(Problem.UNREADABLE, "its File Meta Information names no transfer syntax")
    deflated = UID(transfer_syntax).is_deflated
    # A value cut short is a truncated file, whatever else is missing from it.
    _check_parsed(meta, size, check_offsets=True)
    _check_parsed(dataset, size, check_offsets=not deflated)
    if missing:
        raise DicomRejected(
            Problem.MISSING_UIDS,
            "it has no " + ", ".join(_UID_NAMES[keyword] for keyword in missing),
        )
    if not deflated:
        _check_rest(stream, pixels_at, size, dataset, dataset_encoding(dataset, transfer_syntax))
    elif any(tag in dataset for tag in _PIXEL_TAGS) or "Rows" in dataset:
        _check_deflated(stream, transfer_syntax)
    return DicomInstance(
        sop_class_uid=_text(dataset, "SOPClassUID"),
        sop_instance_uid=_text(dataset, "SOPInstanceUID"),
        study_instance_uid=_text(dataset, "StudyInstanceUID"),
        series_instance_uid=_text(dataset, "SeriesInstanceUID"),
        modality=_text(dataset, "Modality").upper()[:16],
        study_date=_iso_date(_text(dataset, "StudyDate")),
        layout=Layout(part10=part10, preamble_missing=preamble_missing, transfer_syntax_uid=transfer_syntax),
    )


def _text(dataset: Dataset, keyword: str) -> str:
    try:
        value = dataset.get(keyword)
    except (ValueError, KeyError, TypeError, UnicodeError):
        return ""
    if value is None:
        return ""
    return str(value).strip().strip("\x00").strip()


def _iso_date(value: str) -> str:
    digits = "".join(char for char in value if char.isdigit())[:8]
    if len(digits) != 8:
        return ""
    return f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"


def _guessed_transfer_syntax(dataset: Dataset) -> str:
    encoding = getattr(dataset, "original_encoding", None)
    if not encoding:
        return ""
    implicit, little = encoding
    if implicit:
        return IMPLICIT_VR_LITTLE_ENDIAN
    return EXPLICIT_VR_LITTLE_ENDIAN if little else EXPLICIT_VR_BIG_ENDIAN


def dataset_encoding(dataset: Dataset, transfer_syntax: str) -> tuple[bool, bool]:
    """Return (implicit VR, little endian) as pydicom read the dataset, which may differ from its meta.

    pydicom adapts when a dataset is not encoded as its transfer syntax says (it warns, then
    reads it as it is); its elements remember how they were read.
    """
    for tag in dataset.keys():  # noqa: SIM118 - the keys leave the values raw
        element = dataset.get_item(tag, keep_deferred=True)
        if isinstance(element, RawDataElement):
            return element.is_implicit_VR, element.is_little_endian
    syntax = UID(transfer_syntax)
    return syntax == IMPLICIT_VR_LITTLE_ENDIAN, syntax != EXPLICIT_VR_BIG_ENDIAN


def _too_deep() -> DicomRejected:
    return DicomRejected(Problem.TOO_DEEP, "its sequences nest too deeply to be read")


def _truncated(where: str) -> DicomRejected:
    return DicomRejected(Problem.TRUNCATED, f"it is truncated: the file ends inside {where}")


def _check_parsed(dataset: Dataset, size: int, *, check_offsets: bool) -> None:
    """Raise if a value pydicom read is shorter than its declared length."""
    for tag in list(dataset.keys()):
        element = cast(DataElement | RawDataElement, dataset.get_item(tag, keep_deferred=True))
        if not isinstance(element, RawDataElement) or element.length == _UNDEFINED:
            continue
        if element.value is None:
            if check_offsets and element.value_tell + element.length > size:
                raise _truncated(f"element {element.tag}")
        elif len(element.value) < element.length:
            raise _truncated(f"element {element.tag}")


def _check_rest(
    stream: BinaryIO, start: int, size: int, dataset: Dataset, encoding: tuple[bool, bool]
) -> None:
    """Walk the pixel data and whatever follows it to the end of the file, seeking over values."""
    implicit, little = encoding
    walker = _Walker(stream, size, little=little, implicit=implicit)
    stream.seek(start)
    pixel_length: int | None = None
    saw_pixels = False
    while stream.tell() < size:
        element = walker.element_header()
        if element is None:
            break
        tag, vr, length = element
        if tag in _PIXEL_TAGS:
            saw_pixels = True
            pixel_length = None if length == _UNDEFINED else length
        walker.skip_value(vr, length, depth=0)
    if not saw_pixels and "Rows" in dataset and "Columns" in dataset:
        raise _no_pixel_data()
    expected = _expected_pixel_bytes(dataset)
    if pixel_length is not None and expected and pixel_length < expected:
        raise DicomRejected(
            Problem.TRUNCATED,
            f"it is truncated: the pixel data holds {pixel_length} of the {expected} bytes the image needs",
        )


def _check_deflated(stream: BinaryIO, transfer_syntax: str) -> None:
    """Read a deflated file whole: its dataset is one zlib stream, so there is nothing to seek over."""
    stream.seek(0)
    try:
        dataset = pydicom.dcmread(stream, force=True)
        pixels = dataset.get_item(0x7FE00010)
    except (EOFError, OSError, ValueError, KeyError, IndexError, TypeError, struct.error):
        raise DicomRejected(Problem.TRUNCATED, "it is truncated: its deflated dataset ends early") from None
    expected = _expected_pixel_bytes(dataset)
    value = pixels.value if pixels is not None else None
    if "Rows" in dataset and value is None:
        raise _no_pixel_data()
    if isinstance(value, bytes) and expected and len(value) < expected:
        raise DicomRejected(Problem.TRUNCATED, "it is truncated: the pixel data is shorter than the image")


def _no_pixel_data() -> DicomRejected:
    return DicomRejected(Problem.NO_PIXEL_DATA, "it is an image without pixel data")


def _expected_pixel_bytes(dataset: Dataset) -> int:
    """Return how many bytes native pixel data must hold, as pydicom counts them; 0 when unknown.

    pydicom knows the cases a plain product gets wrong: YBR_FULL_422 and YBR_PARTIAL_420 hold
    subsampled chroma, and one-bit pixels are packed.
    """
    transfer_syntax = _text(getattr(dataset, "file_meta", Dataset()), "TransferSyntaxUID")
    if transfer_syntax and UID(transfer_syntax).is_encapsulated:
        return 0
    try:
        expected = get_expected_length(dataset, unit="bytes")
    except (AttributeError, TypeError, ValueError, KeyError):
        return 0
    return expected if isinstance(expected, int) else 0


class _Walker:
    """Read element and item headers of a dataset stream and seek over their values."""

    def __init__(self, stream: BinaryIO, size: int, *, little: bool, implicit: bool) -> None:
        self.stream = stream
        self.size = size
        self.endian = "<" if little else ">"
        self.implicit = implicit

    def _read(self, count: int, where: str) -> bytes:
        data = self.stream.read(count)
        if len(data) < count:
            raise _truncated(where)
        return data

    def element_header(self) -> tuple[int, bytes | None, int] | None:
        """Read one element header; None when only zero padding is left."""
        position = self.stream.tell()
        raw = self.stream.read(8)
        if len(raw) < 8:
            if raw.strip(b"\x00") == b"" and self._zeros_to_end(position):
                return None
            raise _truncated("an element header")
        group, element = struct.unpack(self.endian + "HH", raw[:4])
        tag = (group << 16) | element
        if tag == 0 and self._zeros_to_end(position):
            return None
        if group == 0xFFFE:
            raise DicomRejected(Problem.UNREADABLE, "its dataset is malformed (a stray item marker)")
        if self.implicit:
            return tag, None, struct.unpack(self.endian + "I", raw[4:])[0]
        vr = raw[4:6]
        if vr in _LONG_VRS:
            return tag, vr, struct.unpack(self.endian + "I", self._read(4, f"element {_tag_text(tag)}"))[0]
        return tag, vr, struct.unpack(self.endian + "H", raw[6:])[0]

    def _zeros_to_end(self, position: int) -> bool:
        self.stream.seek(position)
        while chunk := self.stream.read(_COPY_CHUNK):
            if chunk.strip(b"\x00"):
                return False
        return True

    def skip_value(self, vr: bytes | None, length: int, *, depth: int) -> None:
        """Seek over a value; an undefined length is walked item by item to its delimiter."""
        if length != _UNDEFINED:
            end = self.stream.tell() + length
            if end > self.size:
                raise _truncated("a value")
            self.stream.seek(end)
            return
        if depth > _MAX_NESTING:
            raise _too_deep()
        # Undefined-length UN holds implicit VR little endian items (PS3.5 6.2.2).
        inner = self if vr != b"UN" else _Walker(self.stream, self.size, little=True, implicit=True)
        inner.skip_items(depth + 1)

    def skip_items(self, depth: int) -> None:
        """Seek over sequence items (or pixel data fragments) up to the sequence delimiter."""
        while True:
            group, element, length = struct.unpack(self.endian + "HHI", self._read(8, "a sequence"))
            if group != 0xFFFE:
                raise DicomRejected(Problem.UNREADABLE, "its dataset is malformed (an item without a marker)")
            if element == _SEQUENCE_END:
                return
            if element != _ITEM:
                raise DicomRejected(Problem.UNREADABLE, "its dataset is malformed (an unexpected delimiter)")
            if length != _UNDEFINED:
                self.skip_value(None, length, depth=depth)
                continue
            self.skip_item_dataset(depth)

    def skip_item_dataset(self, depth: int) -> None:
        """Seek over an undefined-length item's dataset up to its item delimiter."""
        while True:
            position = self.stream.tell()
            group, element = struct.unpack(self.endian + "HH", self._read(4, "a sequence item"))
            if group == 0xFFFE and element == _ITEM_END:
                self._read(4, "a sequence item")
                return
            self.stream.seek(position)
            header = self.element_header()
            if header is None:
                raise _truncated("a sequence item")
            _, vr, length = header
            self.skip_value(vr, length, depth=depth)


def _tag_text(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def write_part10(
    source: str | os.PathLike[str] | FileRegion, destination: str | os.PathLike[str], instance: DicomInstance
) -> int:
    """Write ``source`` as a Part 10 file (preamble, ``DICM``, File Meta Information) and return its size."""
    # PostDICOM, like most archives, files only Part 10; the dataset bytes are copied unchanged.
    path, start, left = _location(source)
    target = Path(destination)
    with open(path, "rb") as reader, target.open("wb") as writer:
        reader.seek(start)
        if instance.layout.part10:
            writer.write(_PREAMBLE)
        else:
            meta = FileMetaDataset()
            meta.MediaStorageSOPClassUID = UID(instance.sop_class_uid)
            meta.MediaStorageSOPInstanceUID = UID(instance.sop_instance_uid)
            meta.TransferSyntaxUID = UID(instance.layout.transfer_syntax_uid)
            writer.write(_PREAMBLE + b"DICM")
            buffer = DicomFileLike(io.BytesIO())
            write_file_meta_info(buffer, meta, enforce_standard=True)
            writer.write(cast(io.BytesIO, buffer.parent).getvalue())
        while left is None or left > 0:
            chunk = reader.read(_COPY_CHUNK if left is None else min(left, _COPY_CHUNK))
            if not chunk:
                break
            writer.write(chunk)
            if left is not None:
                left -= len(chunk)
    return target.stat().st_size
