"""Every file pydicom ships for its own tests: accepted as pydicom decides, uploaded byte for byte.

The verdict each file should get is worked out here from pydicom alone (what it reads, what it
says about lengths, what pixel data it expects); the app's checker must agree, with the same
reason as a value, and every file it accepts must land in the emulator unchanged.
"""

from __future__ import annotations

import shutil
import warnings
from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path

import pydicom
import pytest
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.encaps import generate_fragments
from pydicom.errors import InvalidDicomError
from pydicom.pixels.utils import get_expected_length

from bot.dicom import SNIFF_BYTES, ArchiveLimits, DicomDirectory, DicomRejected, Kind, Problem, inspect_dicom
from bot.jobs import Rejected, prepare
from bot.postdicom import FileRange, PostDicomClient
from bot.sandbox.postdicom import ADA_UUID, DEMO_ACCOUNT_KEY, MAIN_INSTITUTION_UUID, PostDicomEmulator
from bot.sandbox.postdicom.state import Account

LIMITS = ArchiveLimits(max_expanded_bytes=1 << 30, max_ratio=1000)
UIDS = ("SOPClassUID", "SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID")
UNDEFINED_LENGTH = 0xFFFFFFFF
ACCEPTED = "accepted"
DICOMDIR = "dicomdir"


def corpus() -> list[Path]:
    """Return every file bundled with pydicom (its test files and character-set files)."""
    from pydicom.data import get_testdata_files

    return sorted(Path(name) for name in get_testdata_files() if Path(name).is_file())


def _read(path: Path) -> Dataset | None:
    """Read as pydicom would: as Part 10, else forced; None when pydicom finds nothing of DICOM."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return pydicom.dcmread(path)
        except InvalidDicomError:
            forced = pydicom.dcmread(path, force=True)
    # Forced, any bytes "parse"; only a dataset with an instance's UIDs is DICOM.
    return forced if any(str(forced.get(keyword) or "").strip() for keyword in UIDS) else None


def pydicom_verdict(path: Path) -> str | Problem:
    """Decide from pydicom alone what the checker must say about a file."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom warns about odd values it reads all the same
        return _verdict(path)


def _verdict(path: Path) -> str | Problem:
    dataset = _read(path)
    if dataset is None:
        return Problem.NOT_DICOM
    if "DirectoryRecordSequence" in dataset:
        return DICOMDIR
    for tag in dataset.keys():  # noqa: SIM118 - the keys leave values raw
        raw = dataset.get_item(tag, keep_deferred=True)
        if (
            isinstance(raw, RawDataElement)
            and raw.value is not None
            and raw.length != UNDEFINED_LENGTH
            and len(raw.value) < raw.length
        ):
            return Problem.TRUNCATED  # pydicom read fewer bytes than the element declares
    if not all(str(dataset.get(keyword) or "").strip() for keyword in UIDS):
        return Problem.MISSING_UIDS
    if "PixelData" not in dataset:
        return Problem.NO_PIXEL_DATA if "Rows" in dataset and "Columns" in dataset else ACCEPTED
    syntax = dataset.file_meta.get("TransferSyntaxUID") if hasattr(dataset, "file_meta") else None
    if syntax is not None and syntax.is_encapsulated:
        try:
            for _ in generate_fragments(dataset.PixelData):
                pass
        except ValueError:
            return Problem.TRUNCATED
        return ACCEPTED
    try:
        expected = get_expected_length(dataset, unit="bytes")
    except (AttributeError, TypeError, ValueError):
        return ACCEPTED  # pydicom cannot size it; it reads it all the same
    if not isinstance(expected, int):
        return ACCEPTED  # badVR.dcm's NumberOfFrames "1A" makes pydicom's product a string
    return Problem.TRUNCATED if len(dataset.PixelData) < expected else ACCEPTED


def checker_verdict(path: Path) -> str | Problem:
    try:
        found = inspect_dicom(path)
    except DicomRejected as refused:
        return refused.problem
    return DICOMDIR if isinstance(found, DicomDirectory) else ACCEPTED


CORPUS = corpus()


def test_the_corpus_is_the_one_pydicom_ships() -> None:
    assert len(CORPUS) > 150


@pytest.mark.parametrize("path", CORPUS, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_the_checker_decides_like_pydicom_with_the_right_reason(path: Path) -> None:
    assert checker_verdict(path) == pydicom_verdict(path)


def test_the_cases_the_old_checker_got_wrong() -> None:
    # 4:2:2 subsampled YCbCr holds two thirds of the bytes 3 samples a pixel would need.
    assert checker_verdict(_file("SC_ybr_full_422_uncompressed.dcm")) == ACCEPTED
    # The dataset is implicit VR although the meta says explicit; pydicom adapts, so do we.
    assert checker_verdict(_file("SC_rgb_jpeg.dcm")) == ACCEPTED
    # A complete file without UIDs lacks them; it is not truncated.
    assert checker_verdict(_file("no_meta_group_length.dcm")) is Problem.MISSING_UIDS
    assert checker_verdict(_file("MR_truncated.dcm")) is Problem.TRUNCATED
    assert checker_verdict(_file("rtplan_truncated.dcm")) is Problem.TRUNCATED


def _file(name: str) -> Path:
    (found,) = [path for path in CORPUS if path.name == name]
    return found


@pytest.fixture
async def emulator() -> AsyncIterator[PostDicomEmulator]:
    async with PostDicomEmulator(seed="empty") as running:
        yield running


def demo_account(emulator: PostDicomEmulator) -> Account:
    account = emulator.state.account(DEMO_ACCOUNT_KEY)
    assert account is not None
    return account


async def test_every_accepted_file_lands_byte_for_byte(emulator: PostDicomEmulator, tmp_path: Path) -> None:
    # The app's own path: sniff, check, wrap what is not Part 10, upload.
    accepted: list[tuple[Path, FileRange, str]] = []
    for number, path in enumerate(CORPUS):
        workdir = tmp_path / str(number)
        workdir.mkdir()
        # prepare() takes the download as its own (it wraps or moves it): it gets a copy.
        download = workdir / "download"
        shutil.copyfile(path, download)
        head = download.read_bytes()[:SNIFF_BYTES]
        try:
            prepared = await prepare(download, path.name, head, workdir, LIMITS)
        except Rejected as refusal:
            refused_as = refusal.code
        else:
            refused_as = ""
        if refused_as:
            assert refused_as == f"dicom.{pydicom_verdict(path)}", path.name
            continue
        if not prepared.dicom:
            assert prepared.kind in (Kind.OTHER, Kind.ZIP) or prepared.directory_only, path.name
            continue
        (file,) = prepared.dicom
        accepted.append(
            (path, FileRange(file.path, file.offset, file.size, file.name), file.instance.sop_instance_uid)
        )
    assert len(accepted) == sum(1 for path in CORPUS if pydicom_verdict(path) == ACCEPTED)

    # pydicom's samples share SOP Instance UIDs (MR_small in eight encodings): one upload each,
    # into an emptied emulator, so none is taken for a copy of another.
    rounds: dict[int, list[tuple[Path, FileRange, str]]] = defaultdict(list)
    seen: dict[str, int] = defaultdict(int)
    for item in accepted:
        rounds[seen[item[2]]].append(item)
        seen[item[2]] += 1
    for batch in rounds.values():
        await emulator.reset()
        async with PostDicomClient(
            emulator.api_key, emulator.account_key, router_url=emulator.router_url, timeout=10
        ) as client:
            await client.initialize()
            result = await client.upload_dicom_files(
                ADA_UUID, MAIN_INSTITUTION_UUID, [item[1] for item in batch]
            )
        assert result.files_skipped == ()
        stored = {
            sop: instance.data
            for order in demo_account(emulator).orders.values()
            for sop, instance in order.instances.items()
        }
        for original, sent, sop in batch:
            with sent.path.open("rb") as handle:
                handle.seek(sent.offset)
                expected = handle.read(sent.size)
            assert stored[sop] == expected, original.name
            # Wrapped or not, the original's bytes are all there, unchanged, at the end.
            assert expected.endswith(original.read_bytes()), original.name
