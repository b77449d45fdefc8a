"""A zip followed while it downloads: its stored DICOM instances found as their bytes land on disk.

A zip's central directory, which says what the archive holds, comes last; its local headers come
before each member. Read ahead from those, a stored member (no compression, as CD exports often
are) whose CRC matches and that parses as a whole Part 10 instance can be uploaded while the rest
downloads. None of that is trusted: the upload holds back every file's last part, and PostDICOM
files nothing until the archive has downloaded and passed the same checks as any other
(:func:`bot.jobs.prepare.prepare`). Only then are the last parts of the instances it accepted
sent; what was read ahead but is not in the vetted archive is withdrawn, and a rejected archive
sends no last part at all, so it still uploads nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Set
from pathlib import Path

from bot.dicom import (
    DicomInstance,
    DicomRejected,
    Kind,
    LocalEntry,
    display_name,
    inspect_dicom,
    read_local_entry,
    sniff,
    stored_region,
)
from bot.jobs.prepare import CheckedRange, DicomFile, Prepared

_HEAD = 132


class ArrivingArchive:
    """Follow a download on disk; hand out its instances, early ones first, then the vetted rest."""

    def __init__(self, path: Path, *, already: Set[str], max_members: int) -> None:
        self.path = path
        self.already = already
        self.max_members = max_members
        # Every file handed out, in order: the upload's FileIndex is the position here.
        self.handed_out: list[DicomFile] = []
        # Stored members found whole and DICOM, by (offset, size, CRC), so the vetting need not
        # read them again.
        self.checked: dict[CheckedRange, DicomInstance] = {}
        self._read_ahead_count = 0
        self._rewritten = False
        self._written = 0
        self._download_over = False
        self._changed = asyncio.Event()
        self._vetted: asyncio.Future[Prepared] = asyncio.get_running_loop().create_future()

    def written(self, size: int) -> None:
        """Take note that the first ``size`` bytes of the download are on disk."""
        if size < self._written:
            # The download started again and is writing the file anew: what was read ahead may
            # not be what ends up on disk, so none of it counts.
            self._rewritten = True
            self.checked.clear()
        self._written = size
        self._changed.set()

    def download_over(self) -> None:
        """Take note that no more bytes will come (the download ended, however it ended)."""
        self._download_over = True
        self._changed.set()

    def vetted(self, prepared: Prepared) -> None:
        """Hand over what the archive was found to hold once whole: the rest is handed out from it."""
        if not self._vetted.done():
            self._vetted.set_result(prepared)

    def failed(self, error: BaseException) -> None:
        """Say the archive will not be vetted: whoever is taking files gets ``error``."""
        if not self._vetted.done():
            self._vetted.set_exception(error)
            # Retrieved here, so a failure nobody waited for is not reported as lost.
            self._vetted.exception()

    async def files(self) -> AsyncIterator[DicomFile]:
        """Yield instances read ahead as they land, then, once vetted, those not yet handed out."""
        seen = set(self.already)
        async for file in self._read_ahead():
            if file.instance.sop_instance_uid not in seen:
                seen.add(file.instance.sop_instance_uid)
                self.handed_out.append(file)
                self._read_ahead_count += 1
                yield file
        prepared = await asyncio.shield(self._vetted)
        handed = {(file.path, file.offset, file.size) for file in self.handed_out}
        for file in prepared.dicom:
            sop = file.instance.sop_instance_uid
            if (file.path, file.offset, file.size) not in handed and sop not in self.already:
                self.handed_out.append(file)
                yield file

    def bytes_to_come(self, archive_size: int) -> int:
        """Return how many bytes will be handed out in all: exact once vetted, else the archive's size."""
        if not self._vetted.done() or self._vetted.exception() is not None:
            return archive_size
        return sum(
            file.size
            for file in self._vetted.result().dicom
            if file.instance.sop_instance_uid not in self.already
        )

    async def release(self) -> set[int]:
        """Return the FileIndexes of files read ahead that the vetted archive does not hold."""
        prepared = await asyncio.shield(self._vetted)
        accepted = {(file.path, file.offset, file.size) for file in prepared.dicom}
        return {
            index
            for index, file in enumerate(self.handed_out)
            if (file.path, file.offset, file.size) not in accepted
            or (self._rewritten and index < self._read_ahead_count)
        }

    async def _until(self, size: int) -> bool:
        """Wait until ``size`` bytes are on disk; False if the download is over before."""
        while self._written < size:
            if self._download_over:
                return False
            self._changed.clear()
            await self._changed.wait()
        return True

    async def _read_ahead(self) -> AsyncIterator[DicomFile]:
        offset = 0
        for _ in range(self.max_members):
            entry = await asyncio.to_thread(read_local_entry, self.path, offset, self._written)
            while isinstance(entry, int):
                if not await self._until(entry):
                    return
                entry = await asyncio.to_thread(read_local_entry, self.path, offset, self._written)
            if entry is None:
                return
            offset = entry.end
            if not entry.stored or entry.size <= _HEAD:
                continue
            if not await self._until(entry.end):
                return
            file = await asyncio.to_thread(_instance, self.path, entry)
            if self._rewritten:
                return
            if file is not None:
                self.checked[(entry.data_offset, entry.size, entry.crc)] = file.instance
                yield file


def _instance(path: Path, entry: LocalEntry) -> DicomFile | None:
    """Return the entry as an instance to upload, or None to leave it to the vetting of the whole archive."""
    region = stored_region(path, entry)
    if region is None:
        return None
    with path.open("rb") as reader:
        reader.seek(region.offset)
        head = reader.read(_HEAD)
    if sniff(head).kind is not Kind.DICOM:
        return None
    try:
        instance = inspect_dicom(region)
    except DicomRejected:
        return None
    if not isinstance(instance, DicomInstance) or instance.needs_wrapping:
        return None
    return DicomFile(path, display_name(entry.name), region.size, instance, region.offset)
