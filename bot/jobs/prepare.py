"""Turn a downloaded file into what can be uploaded: DICOM instances, or one document.

A zip is vetted and checked member by member; each member is sniffed from its first bytes first,
so a viewer program or a README on a CD costs nothing more. A stored member (no compression) is
inspected and later uploaded where it lies in the archive; a compressed one is unpacked into the
job's directory.
A DICOMDIR is skipped, other non-DICOM members are listed as skipped, and a broken DICOM member
(truncated, without its UIDs) rejects the whole archive, so a study is never uploaded in part.
Files that are DICOM but not Part 10 (no preamble, no File Meta Information) are wrapped, because
PostDICOM files Part 10 only. All DICOM and zip work runs in worker threads.
"""

from __future__ import annotations

import asyncio
import re
import struct
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.dicom import (
    Archive,
    ArchiveLimits,
    ArchiveMember,
    ArchiveRejected,
    DicomDirectory,
    DicomInstance,
    DicomRejected,
    DocumentType,
    FileRegion,
    Kind,
    Problem,
    StudyGroup,
    group_studies,
    inspect_dicom,
    sniff,
    write_part10,
)
from bot.jobs.errors import Rejected

# A raw dataset (no preamble, no meta) opens with a group 0002 or 0008 element; anything else is
# not worth extracting to find out.
_PLAUSIBLE_FIRST_GROUPS = frozenset({0x0002, 0x0008})
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")

Tick = Callable[[int, int], Awaitable[None]]
CheckedRange = tuple[int, int, int]
"""A stored zip member's (offset, size, CRC), read and found to match."""


@dataclass(frozen=True, slots=True)
class DicomFile:
    """One DICOM instance ready to upload: ``size`` bytes of ``path`` from ``offset``."""

    path: Path
    name: str
    size: int
    instance: DicomInstance
    # Non-zero for a member stored in a zip, read where it lies in the archive.
    offset: int = 0


@dataclass(frozen=True, slots=True)
class DocumentFile:
    """A document ready to attach to an order."""

    path: Path
    name: str
    size: int
    type: DocumentType


@dataclass(frozen=True, slots=True)
class Prepared:
    """What a shared file turned out to hold."""

    kind: Kind
    dicom: tuple[DicomFile, ...] = ()
    document: DocumentFile | None = None
    skipped: tuple[str, ...] = ()
    dicomdirs: int = 0
    duplicates: int = 0
    directory_only: bool = False
    studies: tuple[StudyGroup, ...] = field(default=())

    @property
    def bytes_total(self) -> int:
        """Return the bytes to upload."""
        return sum(item.size for item in self.dicom) + (self.document.size if self.document else 0)


def safe_file_name(name: str, extension: str = "") -> str:
    """Return a file name fit for disk and for PostDICOM, ending in ``extension`` if given."""
    base = _SAFE_NAME.sub("_", name.replace("/", "_").replace("\\", "_")).strip(" .")[:120] or "file"
    if extension and not base.lower().endswith(extension):
        base += extension
    return base


def _rejected(name: str, error: DicomRejected) -> Rejected:
    code = f"dicom.{error.problem.value}"
    return Rejected(f"`{name}` cannot be uploaded: {error.message}.", code=code)


async def prepare(
    source: Path,
    name: str,
    head: bytes,
    workdir: Path,
    limits: ArchiveLimits,
    *,
    tick: Tick | None = None,
    checked: Mapping[CheckedRange, DicomInstance] | None = None,
) -> Prepared:
    """Classify and, for a zip, unpack a downloaded file; raise Rejected for what must not be uploaded.

    ``checked`` holds the zip's stored members already found whole and DICOM, by (offset, size,
    CRC): a member the central directory puts at the same range with the same CRC is not read again.
    """
    sniffed = sniff(head)
    if sniffed.kind is Kind.ZIP:
        return await _unpack(source, name, workdir, limits, tick, checked or {})
    if sniffed.kind is Kind.DOCUMENT and sniffed.document is not None:
        size = (await asyncio.to_thread(source.stat)).st_size
        target = workdir / safe_file_name(name, sniffed.document.extension)
        await asyncio.to_thread(source.rename, target)
        return Prepared(Kind.DOCUMENT, document=DocumentFile(target, target.name, size, sniffed.document))
    if sniffed.kind is Kind.HTML:
        return Prepared(Kind.HTML)
    try:
        inspection = await asyncio.to_thread(inspect_dicom, source)
    except DicomRejected as error:
        if sniffed.kind is Kind.OTHER and error.problem is Problem.NOT_DICOM:
            return Prepared(Kind.OTHER)
        raise _rejected(name, error) from None
    if isinstance(inspection, DicomDirectory):
        return Prepared(Kind.DICOM, dicomdirs=1, directory_only=True)
    file = await _part10(source, name, inspection, workdir / "part10-0.dcm")
    return Prepared(Kind.DICOM, dicom=(file,), studies=tuple(group_studies([inspection])))


async def _part10(source: Path | FileRegion, name: str, instance: DicomInstance, wrapped: Path) -> DicomFile:
    if instance.needs_wrapping:
        size = await asyncio.to_thread(write_part10, source, wrapped, instance)
        if isinstance(source, Path):
            await asyncio.to_thread(source.unlink, True)
        return DicomFile(wrapped, name, size, instance)
    if isinstance(source, FileRegion):
        return DicomFile(source.path, name, source.size, instance, source.offset)
    size = (await asyncio.to_thread(source.stat)).st_size
    return DicomFile(source, name, size, instance)


def _plausible_raw_dataset(head: bytes) -> bool:
    if len(head) < 8:
        return False
    return (
        struct.unpack_from("<H", head)[0] in _PLAUSIBLE_FIRST_GROUPS
        or struct.unpack_from(">H", head)[0] in _PLAUSIBLE_FIRST_GROUPS
    )


async def _unpack(
    source: Path,
    name: str,
    workdir: Path,
    limits: ArchiveLimits,
    tick: Tick | None,
    checked: Mapping[CheckedRange, DicomInstance],
) -> Prepared:
    try:
        archive = await asyncio.to_thread(Archive, source, limits)
    except ArchiveRejected as error:
        raise Rejected(
            f"`{name}` was not unpacked: {error.message}.", code=f"zip.{error.problem.value}"
        ) from None
    files: list[DicomFile] = []
    skipped: list[str] = []
    seen: set[str] = set()
    dicomdirs = duplicates = 0
    budget = archive.listing.expanded_bytes
    done_bytes = 0
    try:
        members = archive.listing.members
        for number, member in enumerate(members):
            if tick is not None:
                await tick(number, len(members))
            if member.is_dicomdir:
                dicomdirs += 1
                continue
            try:
                outcome = await _member(
                    archive, member, workdir / f"member-{member.index}", budget - done_bytes, checked
                )
            except DicomRejected as error:
                # Member names may name the patient; the archive's own name is already in the channel.
                raise Rejected(
                    f"`{name}` was not uploaded: file {number + 1} of {len(members)} in it "
                    f"cannot be uploaded, because {error.message}.",
                    code=_rejected(name, error).code,
                ) from None
            done_bytes += member.size
            if outcome is None:
                skipped.append(member.name)
            elif isinstance(outcome, DicomDirectory):
                dicomdirs += 1
            elif outcome.instance.sop_instance_uid in seen:
                duplicates += 1
                if outcome.path != source:
                    await asyncio.to_thread(outcome.path.unlink, True)
            else:
                seen.add(outcome.instance.sop_instance_uid)
                files.append(outcome)
    except ArchiveRejected as error:
        raise Rejected(
            f"`{name}` was not unpacked: {error.message}.", code=f"zip.{error.problem.value}"
        ) from None
    finally:
        await asyncio.to_thread(archive.close)
    if not any(file.path == source for file in files):
        # Nothing is read from the archive any more: its disk space goes back at once.
        await asyncio.to_thread(source.unlink, True)
    return Prepared(
        Kind.ZIP,
        dicom=tuple(files),
        skipped=tuple(skipped),
        dicomdirs=dicomdirs,
        duplicates=duplicates,
        studies=tuple(group_studies(file.instance for file in files)),
    )


async def _member(
    archive: Archive,
    member: ArchiveMember,
    path: Path,
    budget: int,
    checked: Mapping[CheckedRange, DicomInstance],
) -> DicomFile | DicomDirectory | None:
    head = await asyncio.to_thread(archive.head, member, 132)
    sniffed = sniff(head)
    if sniffed.kind is not Kind.DICOM and not (sniffed.kind is Kind.OTHER and _plausible_raw_dataset(head)):
        return None
    region = await asyncio.to_thread(archive.region, member, checked.keys())
    source: Path | FileRegion = path if region is None else region
    if region is None:
        await asyncio.to_thread(archive.extract, member, path, budget)
    if region is not None and (known := checked.get((region.offset, region.size, member.crc))) is not None:
        return DicomFile(region.path, member.name, region.size, known, region.offset)
    try:
        inspection = await asyncio.to_thread(inspect_dicom, source)
    except DicomRejected as error:
        if region is None:
            await asyncio.to_thread(path.unlink, True)
        if sniffed.kind is Kind.OTHER and error.problem is Problem.NOT_DICOM:
            return None
        raise
    if isinstance(inspection, DicomDirectory):
        if region is None:
            await asyncio.to_thread(path.unlink, True)
        return inspection
    return await _part10(source, member.name, inspection, path.with_suffix(".part10.dcm"))
