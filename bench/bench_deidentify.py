"""De-identification memory: peak RSS de-identifying a study of a gigabyte, in a process of its own.

The study is written to disk first (multi-frame CT instances of 128 MiB of native pixels each,
their pixel data streamed to the file), then a fresh process de-identifies every file with
:class:`bot.dicom.deidentify.Deidentifier` and reports its peak resident set size. The pixel data
is copied in chunks, so the peak should not grow with the study.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import shutil
import struct
import tempfile
import time
from pathlib import Path

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

from bench.processes import peak_rss_mb
from bench.report import Claim, Table

_FILE_BYTES = 128 * 1024 * 1024
_SIDE = 512
_CHUNK = 8 * 1024 * 1024
TARGET_MIB = 200


def write_large_instance(path: Path, study: str, series: str, pixel_bytes: int) -> None:
    """Write a multi-frame CT instance whose ``pixel_bytes`` of pixels are streamed, never held."""
    frames = max(1, pixel_bytes // (_SIDE * _SIDE * 2))
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset = Dataset()
    dataset.file_meta = meta
    dataset.SOPClassUID = CTImageStorage
    dataset.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    dataset.StudyInstanceUID = study
    dataset.SeriesInstanceUID = series
    dataset.PatientName = "BENCH^PATIENT"
    dataset.PatientID = "BENCH-1"
    dataset.PatientBirthDate = "19700101"
    dataset.StudyDate = "20260101"
    dataset.Modality = "CT"
    dataset.Rows = dataset.Columns = _SIDE
    dataset.NumberOfFrames = frames
    dataset.SamplesPerPixel = 1
    dataset.PhotometricInterpretation = "MONOCHROME2"
    dataset.BitsAllocated = dataset.BitsStored = 16
    dataset.HighBit = 15
    dataset.PixelRepresentation = 0
    dataset.BurnedInAnnotation = "NO"
    dataset.save_as(path, enforce_file_format=True)
    length = frames * _SIDE * _SIDE * 2
    with path.open("ab") as handle:
        handle.write(struct.pack("<HH2sHI", 0x7FE0, 0x0010, b"OW", 0, length))
        chunk = os.urandom(_CHUNK)
        left = length
        while left > 0:
            handle.write(chunk[: min(left, _CHUNK)])
            left -= min(left, _CHUNK)


def _deidentify_all(
    paths: list[str], out_dir: str, queue: multiprocessing.Queue[tuple[float, float, float]]
) -> None:
    from bot.dicom.deidentify import Deidentifier

    baseline = peak_rss_mb()
    deidentifier = Deidentifier(b"bench key, thirty-two bytes long")
    started = time.perf_counter()
    for path in paths:
        deidentifier.deidentify_file(path, out_dir)
    queue.put((baseline, peak_rss_mb(), time.perf_counter() - started))


def _measure(paths: list[Path], out_dir: Path) -> tuple[float, float, float]:
    context = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue[tuple[float, float, float]] = context.Queue()
    process = context.Process(
        target=_deidentify_all, args=([str(path) for path in paths], str(out_dir), queue)
    )
    process.start()
    result = queue.get(timeout=1800)
    process.join(60)
    return result


async def deidentify_memory(gigabytes: float = 1.0) -> Table:
    """Measure the peak RSS and time of de-identifying ``gigabytes`` of CT instances."""
    total = int(gigabytes * 1024**3)
    files = max(1, total // _FILE_BYTES)
    per_file = total // files
    table = Table(
        f"De-identification (PS3.15 Basic Profile) of a {gigabytes:g} GiB study, one process",
        ("files", "study MiB", "baseline RSS MiB", "peak RSS MiB", "seconds", "MiB/s"),
    )
    directory = Path(tempfile.mkdtemp(prefix="pacsbot-bench-deid-"))
    try:
        study, series = generate_uid(), generate_uid()
        paths = [directory / f"IM{index:03d}.dcm" for index in range(files)]
        for path in paths:
            await asyncio.to_thread(write_large_instance, path, study, series, per_file)
        size = sum(path.stat().st_size for path in paths) / 1024**2
        baseline, peak, seconds = await asyncio.to_thread(_measure, paths, directory / "out")
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    table.add(
        files, f"{size:.0f}", f"{baseline:.0f}", f"{peak:.0f}", f"{seconds:.1f}", f"{size / seconds:.0f}"
    )
    table.notes.append(
        "Peak RSS of the de-identifying process, pydicom imported (baseline: before the first file)."
    )
    table.claims.append(
        Claim(
            f"peak RSS de-identifying a {gigabytes:g} GiB study",
            f"{peak:.0f} MiB",
            target=f"under {TARGET_MIB} MiB",
            met=peak < TARGET_MIB,
        )
    )
    return table
