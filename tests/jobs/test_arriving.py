"""A zip followed while it downloads: stored instances handed out as they land, the rest once vetted."""

from __future__ import annotations

import asyncio
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.dicom import ArchiveLimits
from bot.jobs import Rejected, prepare
from bot.jobs.arriving import ArrivingArchive
from bot.jobs.prepare import DicomFile
from tests.dicom.samples import CT_SMALL, ct_image, new_uid, pydicom_file, zip_bytes

LIMITS = ArchiveLimits(max_expanded_bytes=256 * 1024 * 1024, max_ratio=100)


def stored_zip(members: list[tuple[str, bytes]]) -> bytes:
    return zip_bytes(members, compression=zipfile.ZIP_STORED)


class Landing:
    """Write an archive to disk piece by piece, as a download does, telling the follower each time."""

    def __init__(self, path: Path, data: bytes, arriving: ArrivingArchive) -> None:
        self.path = path
        self.data = data
        self.arriving = arriving
        self.landed = 0
        path.write_bytes(b"")

    def land(self, upto: int) -> None:
        with self.path.open("ab") as handle:
            handle.write(self.data[self.landed : upto])
        self.landed = upto
        self.arriving.written(upto)


async def take(files: AsyncIterator[DicomFile], count: int) -> list[DicomFile]:
    taken = []
    async with asyncio.timeout(10):
        for _ in range(count):
            taken.append(await anext(files))
    return taken


def follower(tmp_path: Path, already: frozenset[str] = frozenset()) -> ArrivingArchive:
    return ArrivingArchive(tmp_path / "download", already=already, max_members=100)


def downloaded(tmp_path: Path, data: bytes) -> tuple[Path, ArrivingArchive]:
    """Return an archive wholly on disk, and a follower told so."""
    path = tmp_path / "download"
    path.write_bytes(data)
    arriving = follower(tmp_path)
    arriving.written(len(data))
    arriving.download_over()
    return path, arriving


async def test_stored_instances_are_handed_out_as_soon_as_their_bytes_land(tmp_path: Path) -> None:
    study = new_uid()
    images = [ct_image(study=study), ct_image(study=study), ct_image(study=study)]
    data = stored_zip([(f"CD/IM{number}", image) for number, image in enumerate(images)])
    arriving = follower(tmp_path)
    landing = Landing(tmp_path / "download", data, arriving)
    files = arriving.files()

    first_end = data.index(images[0]) + len(images[0])
    landing.land(first_end + 10)
    (first,) = await take(files, 1)
    # Handed out with two thirds of the archive (and its central directory) still to come.
    assert first.name == "IM0"
    assert data[first.offset : first.offset + first.size] == images[0]

    landing.land(len(data))
    second, third = await take(files, 2)
    assert [second.name, third.name] == ["IM1", "IM2"]
    arriving.download_over()
    assert arriving.bytes_to_come(len(data)) == len(data)  # all there is to go on before vetting
    prepared = await prepare(landing.path, "cd.zip", data[:1024], tmp_path, LIMITS)
    arriving.vetted(prepared)
    assert arriving.bytes_to_come(len(data)) == sum(map(len, images))
    assert [file async for file in files] == []
    assert await arriving.release() == set()


async def test_what_cannot_be_read_ahead_is_handed_out_once_vetted(tmp_path: Path) -> None:
    data = stored_zip([("A", ct_image()), ("B-RAW", CT_SMALL.read_bytes()[128:]), ("C", b"a text file")])
    path, arriving = downloaded(tmp_path, data)
    files = arriving.files()
    (early,) = await take(files, 1)
    assert early.name == "A"
    prepared = await prepare(path, "cd.zip", data[:1024], tmp_path, LIMITS)
    arriving.vetted(prepared)
    rest = [file async for file in files]
    # The raw dataset needed a Part 10 wrapper: it comes from the vetting, as a file of its own.
    assert [file.name for file in rest] == ["B-RAW"]
    assert rest[0].path != path
    assert prepared.skipped == ("C",)


async def test_a_member_read_ahead_that_the_vetted_archive_does_not_hold_is_withdrawn(tmp_path: Path) -> None:
    study = new_uid()
    image = ct_image(study=study)
    data = stored_zip([("IM1", image), ("IM2", ct_image(study=study))])
    path, arriving = downloaded(tmp_path, data)
    files = arriving.files()
    early = await take(files, 2)
    prepared = await prepare(path, "cd.zip", data[:1024], tmp_path, LIMITS)
    # As when the central directory lists other members than the local headers show.
    only_second = type(prepared)(prepared.kind, dicom=prepared.dicom[1:])
    arriving.vetted(only_second)
    assert [file async for file in files] == []
    assert await arriving.release() == {0}
    assert [file.name for file in early] == ["IM1", "IM2"]


async def test_a_compressed_member_is_stepped_over_and_comes_once_vetted(tmp_path: Path) -> None:
    study = new_uid()
    path = tmp_path / "download"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("IM1", ct_image(study=study), compress_type=zipfile.ZIP_STORED)
        archive.writestr("IM2", ct_image(study=study), compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("IM3", ct_image(study=study), compress_type=zipfile.ZIP_STORED)
    data = path.read_bytes()
    arriving = follower(tmp_path)
    arriving.written(len(data))
    arriving.download_over()
    files = arriving.files()
    early = await take(files, 2)
    # The deflated member's end is in its local header, so reading ahead skips over it.
    assert [file.name for file in early] == ["IM1", "IM3"]
    arriving.vetted(await prepare(path, "cd.zip", data[:1024], tmp_path, LIMITS))
    (rest,) = [file async for file in files]
    assert rest.name == "IM2"
    assert rest.path != path


async def test_instances_already_recorded_and_repeats_are_not_handed_out_again(tmp_path: Path) -> None:
    study = new_uid()
    image = ct_image(study=study)
    recorded = ct_image(study=study)
    data = stored_zip([("IM1", image), ("IM1-again", image), ("OLD", recorded)])
    path = tmp_path / "download"
    path.write_bytes(data)
    prepared = await prepare(path, "cd.zip", data[:1024], tmp_path, LIMITS)
    old_sop = prepared.dicom[1].instance.sop_instance_uid
    arriving = follower(tmp_path, frozenset({old_sop}))
    arriving.written(len(data))
    arriving.download_over()
    arriving.vetted(prepared)
    assert [file.name async for file in arriving.files()] == ["IM1"]


async def test_damaged_or_foreign_members_are_left_to_the_vetting(tmp_path: Path) -> None:
    image = ct_image()
    data = bytearray(
        stored_zip([("IM1", image), ("DICOMDIR", pydicom_file("dicomdirtests/DICOMDIR").read_bytes())])
    )
    data[data.index(image) + 2000] ^= 0xFF  # the CRC no longer matches
    _, arriving = downloaded(tmp_path, bytes(data))
    files = arriving.files()
    failure = asyncio.ensure_future(anext(files))
    await asyncio.sleep(0.2)
    assert not failure.done()  # nothing read ahead: it waits for the vetting
    arriving.failed(RuntimeError("refused"))
    with pytest.raises(RuntimeError, match="refused"):
        await failure


async def test_a_failed_download_ends_the_reading_ahead_and_fails_whoever_waits(tmp_path: Path) -> None:
    data = stored_zip([("IM1", ct_image())])
    arriving = follower(tmp_path)
    landing = Landing(tmp_path / "download", data, arriving)
    files = arriving.files()
    waiting = asyncio.ensure_future(anext(files))
    landing.land(100)
    await asyncio.sleep(0.1)
    arriving.download_over()
    arriving.failed(RuntimeError("the download failed"))
    with pytest.raises(RuntimeError, match="download failed"):
        await waiting


async def test_the_vetting_does_not_read_again_what_was_read_ahead(tmp_path: Path) -> None:
    study = new_uid()
    data = stored_zip([("IM1", ct_image(study=study)), ("IM2", ct_image(study=study))])
    path, arriving = downloaded(tmp_path, data)
    files = arriving.files()
    early = await take(files, 2)
    assert len(arriving.checked) == 2
    # Were the two members read again, the damage below would reject the archive.
    damaged = bytearray(data)
    damaged[early[0].offset + 500] ^= 0xFF
    path.write_bytes(bytes(damaged))
    prepared = await prepare(path, "cd.zip", data[:1024], tmp_path, LIMITS, checked=arriving.checked)
    assert [file.instance for file in prepared.dicom] == [file.instance for file in early]
    # Without what was read ahead, the same bytes are refused.
    with pytest.raises(Rejected):
        await prepare(path, "cd.zip", data[:1024], tmp_path, LIMITS)


async def test_a_download_that_starts_again_withdraws_everything_read_ahead(tmp_path: Path) -> None:
    study = new_uid()
    images = [ct_image(study=study), ct_image(study=study)]
    data = stored_zip([("IM1", images[0]), ("IM2", images[1])])
    arriving = follower(tmp_path)
    landing = Landing(tmp_path / "download", data, arriving)
    files = arriving.files()
    landing.land(data.index(images[1]))
    (first,) = await take(files, 1)
    # A retried download writes the file anew from its first byte, and says so.
    landing.path.write_bytes(b"")
    landing.landed = 0
    arriving.written(0)
    landing.land(len(data))
    arriving.download_over()
    prepared = await prepare(landing.path, "cd.zip", data[:1024], tmp_path, LIMITS, checked=arriving.checked)
    arriving.vetted(prepared)
    rest = [file async for file in files]
    assert [file.name for file in rest] == ["IM2"]  # handed out again only if not read ahead
    assert await arriving.release() == {0}
    assert first.name == "IM1"
