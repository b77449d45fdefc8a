"""Zip archives: vetted before unpacking (bombs, encryption, methods), streamed member by member."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.dicom import (
    Archive,
    ArchiveLimits,
    ArchiveProblem,
    ArchiveRejected,
    LocalEntry,
    read_local_entry,
    stored_region,
)
from tests.dicom.samples import CT_SMALL, mark_encrypted, write, zip_bytes, zip_of_zeros

LIMITS = ArchiveLimits(max_expanded_bytes=64 * 1024 * 1024, max_ratio=100)


def rejection(path: Path, limits: ArchiveLimits = LIMITS) -> ArchiveRejected:
    with pytest.raises(ArchiveRejected) as caught:
        Archive(path, limits)
    return caught.value


def test_members_are_listed_without_folders_or_os_litter(tmp_path: Path) -> None:
    data = zip_bytes(
        [
            ("CD/DICOMDIR", b"x"),
            ("CD/IMAGES/IM1", CT_SMALL.read_bytes()),
            ("__MACOSX/CD/._IM1", b"junk"),
            ("CD/.DS_Store", b"junk"),
            ("CD/README.TXT", b"hello"),
        ]
    )
    with Archive(write(tmp_path / "cd.zip", data), LIMITS) as archive:
        names = [member.name for member in archive.listing.members]
        assert names == ["DICOMDIR", "IM1", "README.TXT"]
        assert archive.listing.members[0].is_dicomdir
        assert archive.head(archive.listing.members[1], 132)[128:] == b"DICM"
        size = archive.extract(archive.listing.members[1], tmp_path / "out", budget=10**9)
    assert (tmp_path / "out").read_bytes() == CT_SMALL.read_bytes()
    assert size == CT_SMALL.stat().st_size


def test_a_bomb_is_refused_by_its_ratio(tmp_path: Path) -> None:
    path = write(tmp_path / "bomb.zip", zip_of_zeros(32 * 1024 * 1024))
    assert rejection(path).problem is ArchiveProblem.RATIO


def test_a_bomb_is_refused_by_its_expanded_size(tmp_path: Path) -> None:
    path = write(
        tmp_path / "big.zip",
        zip_bytes(
            [("a", b"\x01" * 4096)] * 0 + [(f"f{i}", bytes(range(256)) * 64) for i in range(8)],
            compression=zipfile.ZIP_STORED,
        ),
    )
    rejected = rejection(path, ArchiveLimits(max_expanded_bytes=100_000, max_ratio=100))
    assert rejected.problem is ArchiveProblem.TOO_LARGE
    assert "100,000" not in rejected.message  # sizes are written for people
    assert "97.7 KB" in rejected.message


def test_many_small_members_add_up_to_the_ratio(tmp_path: Path) -> None:
    path = write(tmp_path / "many.zip", zip_bytes((f"f{i}", b"\x00" * 200_000) for i in range(50)))
    assert rejection(path).problem is ArchiveProblem.RATIO


def test_encrypted_archives_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "secret.zip", mark_encrypted(zip_bytes([("IM1", CT_SMALL.read_bytes())])))
    rejected = rejection(path)
    assert rejected.problem is ArchiveProblem.ENCRYPTED
    assert "password" in rejected.message


def test_too_many_members_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "many.zip", zip_bytes((f"f{i}", b"x") for i in range(30)))
    assert rejection(path, ArchiveLimits(10**9, 100, max_members=20)).problem is ArchiveProblem.TOO_MANY_FILES


def test_an_unsupported_method_is_named(tmp_path: Path) -> None:
    data = bytearray(zip_bytes([("IM1", CT_SMALL.read_bytes())], compression=zipfile.ZIP_STORED))
    for signature, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        at = data.find(signature)
        data[at + offset] = 9  # Deflate64, which Windows uses for big archives
    rejected = rejection(write(tmp_path / "d64.zip", bytes(data)))
    assert rejected.problem is ArchiveProblem.UNSUPPORTED
    assert "Deflate64" in rejected.message


def test_garbage_is_a_corrupt_archive(tmp_path: Path) -> None:
    assert rejection(write(tmp_path / "x.zip", b"PK\x03\x04 not really")).problem is ArchiveProblem.CORRUPT


def test_a_member_that_expands_past_its_declared_size_is_stopped(tmp_path: Path) -> None:
    with Archive(write(tmp_path / "a.zip", zip_bytes([("IM1", CT_SMALL.read_bytes())])), LIMITS) as archive:
        member = archive.listing.members[0]
        with pytest.raises(ArchiveRejected):
            archive.extract(member, tmp_path / "out", budget=1000)
    assert not (tmp_path / "out").exists()


def test_a_damaged_member_is_reported_not_raised_raw(tmp_path: Path) -> None:
    data = bytearray(zip_bytes([("IM1", CT_SMALL.read_bytes())], compression=zipfile.ZIP_STORED))
    data[4000] ^= 0xFF  # inside the stored member: its CRC no longer matches
    with (
        Archive(write(tmp_path / "a.zip", bytes(data)), LIMITS) as archive,
        pytest.raises(ArchiveRejected) as caught,
    ):
        archive.extract(archive.listing.members[0], tmp_path / "out", budget=10**9)
    assert caught.value.problem is ArchiveProblem.CORRUPT


# Stored members are read where they lie: their region, once the CRC is checked.


def test_a_stored_member_is_a_checked_region_of_the_archive(tmp_path: Path) -> None:
    image = CT_SMALL.read_bytes()
    path = write(
        tmp_path / "a.zip",
        zip_bytes([("A/IM1", image), ("A/IM2", b"x" * 10)], compression=zipfile.ZIP_STORED),
    )
    with Archive(path, LIMITS) as archive:
        region = archive.region(archive.listing.members[0])
    assert region is not None
    assert region.path == path
    assert path.read_bytes()[region.offset : region.offset + region.size] == image


def test_a_compressed_member_has_no_region(tmp_path: Path) -> None:
    path = write(tmp_path / "a.zip", zip_bytes([("IM1", CT_SMALL.read_bytes())]))
    with Archive(path, LIMITS) as archive:
        assert archive.region(archive.listing.members[0]) is None


def corrupt_region(tmp_path: Path, damage: Callable[[bytearray], None]) -> ArchiveRejected:
    data = bytearray(zip_bytes([("IM1", CT_SMALL.read_bytes())], compression=zipfile.ZIP_STORED))
    damage(data)
    with (
        Archive(write(tmp_path / "a.zip", bytes(data)), LIMITS) as archive,
        pytest.raises(ArchiveRejected) as caught,
    ):
        archive.region(archive.listing.members[0])
    return caught.value


def test_a_stored_member_with_a_wrong_crc_is_damaged(tmp_path: Path) -> None:
    def flip(data: bytearray) -> None:
        data[4000] ^= 0xFF

    assert corrupt_region(tmp_path, flip).problem is ArchiveProblem.CORRUPT


def test_a_local_header_naming_another_file_is_damaged(tmp_path: Path) -> None:
    # The central directory and the local header must describe one archive, not two.
    def rename(data: bytearray) -> None:
        data[30:33] = b"IX1"

    assert corrupt_region(tmp_path, rename).problem is ArchiveProblem.CORRUPT


def test_a_local_header_pointing_nowhere_is_damaged(tmp_path: Path) -> None:
    def wipe(data: bytearray) -> None:
        data[0:4] = b"XXXX"

    assert corrupt_region(tmp_path, wipe).problem is ArchiveProblem.CORRUPT


# Local headers, read ahead while an archive downloads.


def test_local_entries_are_read_one_after_another_as_bytes_arrive(tmp_path: Path) -> None:
    image = CT_SMALL.read_bytes()
    data = zip_bytes([("A/IM1", image), ("A/IM2", b"x" * 10)], compression=zipfile.ZIP_STORED)
    path = write(tmp_path / "a.zip", data)
    assert read_local_entry(path, 0, 10) == 30  # not even the fixed header yet
    assert read_local_entry(path, 0, 31) == 30 + len("A/IM1")  # the name is still to come
    first = read_local_entry(path, 0, len(data))
    assert isinstance(first, LocalEntry)
    assert (first.name, first.stored, first.size) == ("A/IM1", True, len(image))
    assert data[first.data_offset : first.end] == image
    second = read_local_entry(path, first.end, len(data))
    assert isinstance(second, LocalEntry)
    assert second.name == "A/IM2"
    assert read_local_entry(path, second.end, len(data)) is None  # the central directory


def test_a_local_header_that_does_not_give_its_end_stops_the_reading_ahead(tmp_path: Path) -> None:
    data = bytearray(zip_bytes([("IM1", CT_SMALL.read_bytes())], compression=zipfile.ZIP_STORED))
    data[6] |= 0x08  # sizes in a data descriptor after the data, as streaming zippers write
    assert read_local_entry(write(tmp_path / "a.zip", bytes(data)), 0, len(data)) is None
    encrypted = mark_encrypted(zip_bytes([("IM1", CT_SMALL.read_bytes())]))
    assert read_local_entry(write(tmp_path / "e.zip", encrypted), 0, len(encrypted)) is None


def test_a_stored_entry_is_a_region_only_when_its_crc_matches(tmp_path: Path) -> None:
    image = CT_SMALL.read_bytes()
    data = bytearray(zip_bytes([("IM1", image)], compression=zipfile.ZIP_STORED))
    path = write(tmp_path / "a.zip", bytes(data))
    entry = read_local_entry(path, 0, len(data))
    assert isinstance(entry, LocalEntry)
    region = stored_region(path, entry)
    assert region is not None
    assert path.read_bytes()[region.offset : region.offset + region.size] == image
    data[entry.data_offset + 100] ^= 0xFF
    assert stored_region(write(tmp_path / "a.zip", bytes(data)), entry) is None
