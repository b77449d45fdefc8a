"""Zip archives of studies (CD exports with a DICOMDIR, zipped folders): vetted, then unpacked.

Before anything is unpacked the whole central directory is checked: encrypted members, compression
methods the standard library cannot undo, more members than allowed, and zip bombs (an expanded
size over the absolute limit, or a compression ratio no real study reaches) reject the archive.
Compressed members are then streamed to disk one chunk at a time, with the expanded bytes counted
as they come, so a central directory that lies is caught too; stored members (no compression, as
CD exports often are) are read where they lie in the archive once their CRC is checked. Member
names are only used to recognise a DICOMDIR and to tell people what was skipped; files are written
under names of our own.

Everything here blocks: callers run it in a worker thread.
"""

from __future__ import annotations

import enum
import os
import re
import struct
import zipfile
import zlib
from collections.abc import Container
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from bot.dicom.instances import FileRegion

_CHUNK = 1024 * 1024
_CRC_CHUNK = 4 * 1024 * 1024
_LOCAL_HEADER_SIZE = 30
_SUPPORTED = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA})
_AES = 99
_ENCRYPTED = 0x1
_DATA_DESCRIPTOR = 0x8
_UTF8_NAME = 0x800
_ZIP64_SIZE = 0xFFFFFFFF
_DEFLATE64 = 9
# Members this big must also compress no better than the ratio limit on their own.
_RATIO_CHECK_MIN_BYTES = 8 * 1024 * 1024
_JUNK_NAMES = frozenset({".ds_store", "thumbs.db", "desktop.ini"})
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f]")


class ArchiveProblem(enum.StrEnum):
    """Why an archive is refused as a whole."""

    ENCRYPTED = "encrypted"
    TOO_LARGE = "too_large"
    RATIO = "ratio"
    TOO_MANY_FILES = "too_many_files"
    UNSUPPORTED = "unsupported"
    CORRUPT = "corrupt"


class ArchiveRejected(Exception):
    """An archive that is not unpacked; the message says why in words fit for the person who shared it."""

    def __init__(self, problem: ArchiveProblem, message: str) -> None:
        super().__init__(message)
        self.problem = problem
        self.message = message


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    """How far an archive may expand: in total, relative to its own size, and in member count."""

    max_expanded_bytes: int
    max_ratio: float
    max_members: int = 20_000


@dataclass(frozen=True, slots=True)
class ArchiveMember:
    """One file in an archive."""

    index: int
    name: str
    size: int
    compressed_size: int
    crc: int

    @property
    def is_dicomdir(self) -> bool:
        """Tell whether the member is named like a CD's DICOMDIR index."""
        return self.name.upper() == "DICOMDIR"


@dataclass(frozen=True, slots=True)
class ArchiveListing:
    """The files of a vetted archive (folders and operating-system litter left out)."""

    members: tuple[ArchiveMember, ...]
    expanded_bytes: int


def display_name(member_name: str) -> str:
    """Return the base name of a member, cleaned for display."""
    base = re.split(r"[\\/]", member_name.rstrip("/\\"))[-1]
    return _UNPRINTABLE.sub("", base)[:80] or "(unnamed)"


def _is_litter(info: zipfile.ZipInfo) -> bool:
    parts = re.split(r"[\\/]", info.filename)
    base = parts[-1]
    return "__MACOSX" in parts or base.startswith("._") or base.lower() in _JUNK_NAMES


class Archive:
    """An open, vetted archive; use as a context manager and read or extract its members."""

    def __init__(self, path: str | os.PathLike[str], limits: ArchiveLimits) -> None:
        archive_size = os.path.getsize(path)
        self._path = os.fspath(path)
        try:
            self._zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
            raise ArchiveRejected(
                ArchiveProblem.CORRUPT, "it is not a zip archive that can be read"
            ) from None
        try:
            self._infos = self._zip.infolist()
            self.listing = _vet(self._infos, archive_size, limits)
        except BaseException:
            self._zip.close()
            raise

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the archive file."""
        self._zip.close()

    def head(self, member: ArchiveMember, count: int) -> bytes:
        """Return the first ``count`` expanded bytes of a member."""
        try:
            with self._zip.open(self._infos[member.index]) as source:
                return source.read(count)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError):
            raise ArchiveRejected(
                ArchiveProblem.CORRUPT, "a file in it cannot be unpacked (it is damaged)"
            ) from None

    def extract(self, member: ArchiveMember, destination: str | os.PathLike[str], budget: int) -> int:
        """Stream a member to ``destination``, refusing to write more than ``budget`` bytes; return its size."""
        target = Path(destination)
        written = 0
        try:
            with self._zip.open(self._infos[member.index]) as source, target.open("wb") as output:
                while chunk := source.read(_CHUNK):
                    written += len(chunk)
                    if written > member.size or written > budget:
                        raise ArchiveRejected(
                            ArchiveProblem.TOO_LARGE, "a file in it expands beyond what the archive declares"
                        )
                    output.write(chunk)
        except ArchiveRejected:
            target.unlink(missing_ok=True)
            raise
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError):
            # zipfile raises BadZipFile for a CRC mismatch and RuntimeError for a missing password.
            target.unlink(missing_ok=True)
            raise ArchiveRejected(
                ArchiveProblem.CORRUPT, "a file in it cannot be unpacked (it is damaged)"
            ) from None
        return written

    def region(
        self, member: ArchiveMember, checked: Container[tuple[int, int, int]] = ()
    ) -> FileRegion | None:
        """Return where a stored member's bytes lie in the archive, CRC checked; None if compressed.

        A stored member is a byte range of the archive and can be read where it lies: no copy to
        disk, which for a study of a gigabyte costs seconds and as much disk again. A range listed
        in ``checked`` as (offset, size, CRC) was read and found to match that CRC already.
        """
        info = self._infos[member.index]
        if info.compress_type != zipfile.ZIP_STORED:
            return None
        if info.compress_size != info.file_size:
            raise ArchiveRejected(
                ArchiveProblem.TOO_LARGE, "a file in it expands beyond what the archive declares"
            )
        try:
            with open(self._path, "rb") as reader:
                offset = _data_offset(reader, info)
                seen = (offset, info.file_size, info.CRC) in checked
                crc = info.CRC if seen else _crc(reader, offset, info.file_size)
        except (OSError, struct.error, ValueError, UnicodeDecodeError):
            raise _damaged() from None
        if crc != info.CRC:
            raise _damaged()
        return FileRegion(Path(self._path), offset, info.file_size)


def _data_offset(reader: BinaryIO, info: zipfile.ZipInfo) -> int:
    """Return where a member's data starts, after its local header, which must agree on its name."""
    header = _local_header(reader, info.header_offset)
    if header is None:
        raise _damaged()
    # As zipfile does: a local name other than the directory's is an archive read two ways.
    if _name(reader.read(header.name_length), info.flag_bits) != info.orig_filename:
        raise _damaged()
    return header.data_offset(info.header_offset)


@dataclass(frozen=True, slots=True)
class _LocalHeader:
    """The fixed part of a local file header; the name and extra field follow it."""

    flags: int
    method: int
    crc: int
    compressed_size: int
    size: int
    name_length: int
    extra_length: int

    def data_offset(self, header_offset: int) -> int:
        """Return where the member's data starts, for a header at ``header_offset``."""
        return header_offset + _LOCAL_HEADER_SIZE + self.name_length + self.extra_length


def _local_header(reader: BinaryIO, offset: int) -> _LocalHeader | None:
    """Read the fixed part of the local header at ``offset``; None if none starts there."""
    reader.seek(offset)
    fixed = reader.read(_LOCAL_HEADER_SIZE)
    if len(fixed) != _LOCAL_HEADER_SIZE or fixed[:4] != b"PK\x03\x04":
        return None
    flags, method = struct.unpack_from("<HH", fixed, 6)
    crc, compressed_size, size, name_length, extra_length = struct.unpack_from("<IIIHH", fixed, 14)
    return _LocalHeader(flags, method, crc, compressed_size, size, name_length, extra_length)


def _name(raw: bytes, flags: int, errors: str = "strict") -> str:
    return raw.decode("utf-8" if flags & _UTF8_NAME else "cp437", errors)


def _damaged() -> ArchiveRejected:
    return ArchiveRejected(ArchiveProblem.CORRUPT, "a file in it cannot be unpacked (it is damaged)")


@dataclass(frozen=True, slots=True)
class LocalEntry:
    """A member as its local header describes it: readable before the central directory arrives."""

    name: str
    data_offset: int
    compressed_size: int
    size: int
    crc: int
    stored: bool

    @property
    def end(self) -> int:
        """Return where the member's data ends (the next local header, or the central directory)."""
        return self.data_offset + self.compressed_size


def read_local_entry(path: str | os.PathLike[str], offset: int, available: int) -> LocalEntry | int | None:
    """Read the local header at ``offset`` of an archive of which ``available`` bytes are on disk.

    Returns the entry; or, as an int, how many bytes must be on disk to read it; or None where
    nothing more can be read ahead: the central directory, or a member whose end its local header
    does not give (sizes in a trailing data descriptor or in Zip64 fields), or an encrypted one.
    Nothing read this way is trusted on its own: the central directory decides what the archive is.
    """
    if available < offset + _LOCAL_HEADER_SIZE:
        return offset + _LOCAL_HEADER_SIZE
    with open(path, "rb") as reader:
        header = _local_header(reader, offset)
        if header is None:
            return None
        if header.flags & (_ENCRYPTED | _DATA_DESCRIPTOR) or _ZIP64_SIZE in (
            header.compressed_size,
            header.size,
        ):
            return None
        data_offset = header.data_offset(offset)
        if available < data_offset:
            return data_offset
        name = _name(reader.read(header.name_length), header.flags, "replace")
    stored = header.method == zipfile.ZIP_STORED and header.compressed_size == header.size
    return LocalEntry(name, data_offset, header.compressed_size, header.size, header.crc, stored)


def stored_region(path: str | os.PathLike[str], entry: LocalEntry) -> FileRegion | None:
    """Return a stored entry's bytes as a region once its CRC is checked; None if it is damaged."""
    if not entry.stored:
        return None
    try:
        with open(path, "rb") as reader:
            if _crc(reader, entry.data_offset, entry.size) != entry.crc:
                return None
    except ArchiveRejected:
        return None
    return FileRegion(Path(path), entry.data_offset, entry.size)


def _crc(reader: BinaryIO, offset: int, size: int) -> int:
    reader.seek(offset)
    crc, left = 0, size
    while left:
        chunk = reader.read(min(left, _CRC_CHUNK))
        if not chunk:
            raise ArchiveRejected(ArchiveProblem.CORRUPT, "a file in it is cut short")
        crc = zlib.crc32(chunk, crc)
        left -= len(chunk)
    return crc


def _vet(infos: list[zipfile.ZipInfo], archive_size: int, limits: ArchiveLimits) -> ArchiveListing:
    if len(infos) > limits.max_members:
        raise ArchiveRejected(
            ArchiveProblem.TOO_MANY_FILES,
            f"it holds {len(infos):,} entries, more than the {limits.max_members:,} allowed",
        )
    members: list[ArchiveMember] = []
    expanded = 0
    for index, info in enumerate(infos):
        if info.flag_bits & _ENCRYPTED or info.compress_type == _AES:
            raise ArchiveRejected(
                ArchiveProblem.ENCRYPTED,
                "it is encrypted (password-protected); share the files or an unencrypted zip instead",
            )
        if info.is_dir() or _is_litter(info):
            continue
        if info.compress_type not in _SUPPORTED:
            method = "Deflate64" if info.compress_type == _DEFLATE64 else f"method {info.compress_type}"
            raise ArchiveRejected(
                ArchiveProblem.UNSUPPORTED,
                f"it uses a compression ({method}) the app cannot unpack; zip it again with standard compression",
            )
        if info.file_size >= _RATIO_CHECK_MIN_BYTES and info.file_size > limits.max_ratio * max(
            info.compress_size, 1
        ):
            raise _ratio_rejection(limits)
        expanded += info.file_size
        members.append(
            ArchiveMember(index, display_name(info.filename), info.file_size, info.compress_size, info.CRC)
        )
    if expanded > limits.max_expanded_bytes:
        raise ArchiveRejected(
            ArchiveProblem.TOO_LARGE,
            f"it would expand to {_size(expanded)}, more than the {_size(limits.max_expanded_bytes)} allowed",
        )
    if expanded > limits.max_ratio * max(archive_size, 1):
        raise _ratio_rejection(limits)
    return ArchiveListing(tuple(members), expanded)


def _ratio_rejection(limits: ArchiveLimits) -> ArchiveRejected:
    return ArchiveRejected(
        ArchiveProblem.RATIO,
        f"it expands more than {limits.max_ratio:g} times its size, which no real study does (a zip bomb?)",
    )


def _size(value: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if value >= scale:
            return f"{value / scale:.1f} {unit}"
    return f"{value} bytes"
