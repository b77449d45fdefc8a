"""Downloads kept between the ask prompt and the job: taken once, bounded in bytes and time, removed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.jobs import Downloaded, KeptDownloads, KeptPolicy
from tests.app.harness import eventually

_WORKSPACE = "T0001"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def kept(tmp_path: Path, clock: Clock) -> AsyncIterator[KeptDownloads]:
    store = KeptDownloads(KeptPolicy(max_bytes=1000, max_seconds=60), tmp_path / "scratch", clock=clock)
    (tmp_path / "scratch").mkdir()
    await store.start()
    yield store
    await store.stop()


def downloaded(tmp_path: Path, name: str, size: int) -> Downloaded:
    path = tmp_path / name
    path.write_bytes(bytes([len(name)]) * size)
    return Downloaded(path, size, "00" * 32, path.read_bytes()[:16], "application/dicom")


def files_under(directory: Path) -> list[Path]:
    return sorted(path for path in directory.rglob("*") if path.is_file())


def files_and_directories(directory: Path) -> list[Path]:
    return list(directory.rglob("*"))


async def test_a_kept_copy_is_taken_once_with_its_bytes(kept: KeptDownloads, tmp_path: Path) -> None:
    original = downloaded(tmp_path, "a.dcm", 300)
    assert await kept.keep((_WORKSPACE, "F1"), original)
    assert not original.path.exists()  # moved, not copied
    assert kept.bytes_kept == 300

    taken = await kept.take((_WORKSPACE, "F1"), tmp_path / "job-download")
    assert taken is not None
    assert taken.path == tmp_path / "job-download"
    assert taken.path.read_bytes() == bytes([5]) * 300
    assert (taken.size, taken.sha256, taken.head) == (original.size, original.sha256, original.head)
    assert await kept.take((_WORKSPACE, "F1"), tmp_path / "again") is None
    assert kept.bytes_kept == 0


async def test_copies_are_per_workspace(kept: KeptDownloads, tmp_path: Path) -> None:
    await kept.keep((_WORKSPACE, "F1"), downloaded(tmp_path, "a.dcm", 10))
    assert await kept.take(("T0002", "F1"), tmp_path / "other") is None
    assert (_WORKSPACE, "F1") in kept


async def test_the_oldest_copies_make_room_within_the_byte_budget(
    kept: KeptDownloads, tmp_path: Path
) -> None:
    for index in range(3):
        assert await kept.keep((_WORKSPACE, f"F{index}"), downloaded(tmp_path, f"f{index}.dcm", 400))
    assert (_WORKSPACE, "F0") not in kept
    assert kept.bytes_kept == 800
    assert len(files_under(tmp_path / "scratch")) == 2


async def test_a_copy_larger_than_the_budget_stays_where_it_was(kept: KeptDownloads, tmp_path: Path) -> None:
    big = downloaded(tmp_path, "big.dcm", 1001)
    assert not await kept.keep((_WORKSPACE, "F1"), big)
    assert big.path.exists()
    assert kept.bytes_kept == 0


async def test_keeping_a_file_again_replaces_the_older_copy(kept: KeptDownloads, tmp_path: Path) -> None:
    await kept.keep((_WORKSPACE, "F1"), downloaded(tmp_path, "first.dcm", 100))
    await kept.keep((_WORKSPACE, "F1"), downloaded(tmp_path, "second.dcm", 200))
    assert kept.bytes_kept == 200
    assert len(files_under(tmp_path / "scratch")) == 1
    taken = await kept.take((_WORKSPACE, "F1"), tmp_path / "job-download")
    assert taken is not None
    assert taken.path.read_bytes() == bytes([10]) * 200


async def test_an_expired_copy_is_gone(kept: KeptDownloads, tmp_path: Path, clock: Clock) -> None:
    await kept.keep((_WORKSPACE, "F1"), downloaded(tmp_path, "a.dcm", 100))
    clock.now += 61
    assert await kept.take((_WORKSPACE, "F1"), tmp_path / "job-download") is None
    await kept.stop()
    assert not (tmp_path / "job-download").exists()
    assert files_under(tmp_path / "scratch") == []


async def test_copies_expire_by_themselves(tmp_path: Path) -> None:
    store = KeptDownloads(KeptPolicy(max_bytes=1000, max_seconds=0.05), tmp_path)
    await store.keep((_WORKSPACE, "F1"), downloaded(tmp_path, "a.dcm", 100))
    await eventually(lambda: not files_under(tmp_path) or None, within=10, what="the copy to expire")
    assert store.bytes_kept == 0
    await store.stop()
    assert files_and_directories(tmp_path) == []


async def test_dropped_copies_are_removed_at_once(kept: KeptDownloads, tmp_path: Path) -> None:
    await kept.keep((_WORKSPACE, "F1"), downloaded(tmp_path, "a.dcm", 100))
    await kept.drop((_WORKSPACE, "F1"))
    assert files_under(tmp_path / "scratch") == []
    await kept.drop((_WORKSPACE, "F1"))  # twice is harmless


async def test_stop_removes_every_copy_and_the_directory(kept: KeptDownloads, tmp_path: Path) -> None:
    await kept.keep((_WORKSPACE, "F1"), downloaded(tmp_path, "a.dcm", 100))
    await kept.keep((_WORKSPACE, "F2"), downloaded(tmp_path, "b.dcm", 100))
    await kept.stop()
    assert list((tmp_path / "scratch").iterdir()) == []
    assert kept.bytes_kept == 0


@pytest.mark.parametrize("policy", [KeptPolicy(max_bytes=0), KeptPolicy(max_seconds=0)])
async def test_nothing_is_kept_when_switched_off(tmp_path: Path, policy: KeptPolicy) -> None:
    store = KeptDownloads(policy, tmp_path)
    file = downloaded(tmp_path, "a.dcm", 10)
    assert not await store.keep((_WORKSPACE, "F1"), file)
    assert file.path.exists()
    await store.stop()


async def test_a_copy_that_cannot_be_moved_is_reported_missing(kept: KeptDownloads, tmp_path: Path) -> None:
    await kept.keep((_WORKSPACE, "F1"), downloaded(tmp_path, "a.dcm", 100))
    # The job's work directory is gone (the job ended meanwhile): no copy, and none left behind.
    assert await kept.take((_WORKSPACE, "F1"), tmp_path / "gone" / "download") is None
    await kept.stop()
    assert files_under(tmp_path / "scratch") == []


async def test_nothing_is_kept_once_stopped(kept: KeptDownloads, tmp_path: Path) -> None:
    # A prompt's checks may still finish while the app stops: their copies are not kept.
    await kept.stop()
    file = downloaded(tmp_path, "late.dcm", 10)
    assert not await kept.keep((_WORKSPACE, "F1"), file)
    assert file.path.exists()
    assert files_and_directories(tmp_path / "scratch") == []
