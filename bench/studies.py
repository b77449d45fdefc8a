"""Generated studies for the benchmarks: N instances of one study, of a chosen size, on disk.

Each instance is pydicom's CT_small header with fresh UIDs and pixel data of the asked size, so
the bytes are real DICOM that the client, the emulator and dcmdump all read.
"""

from __future__ import annotations

import copy
from pathlib import Path

from pydicom import dcmread
from pydicom.data import get_testdata_file
from pydicom.uid import generate_uid


def write_study(
    directory: Path, files: int, *, frame_side: int = 512, frames: int = 1, seed: str = ""
) -> list[Path]:
    """Write ``files`` instances of one new study; each holds ``frames`` frames of side² 16-bit pixels."""
    template_path = get_testdata_file("CT_small.dcm")
    if template_path is None:  # pragma: no cover - pydicom ships it
        raise RuntimeError("pydicom's CT_small.dcm is missing")
    template = dcmread(template_path)
    directory.mkdir(parents=True, exist_ok=True)
    study, series = generate_uid(), generate_uid()
    pixels = bytes(range(256)) * (frame_side * frame_side * 2 * frames // 256)
    paths = []
    for number in range(files):
        dataset = copy.deepcopy(template)
        dataset.StudyInstanceUID = study
        dataset.SeriesInstanceUID = series
        dataset.SOPInstanceUID = generate_uid()
        dataset.file_meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
        dataset.InstanceNumber = number + 1
        dataset.PatientName = f"Bench^Study{seed}"
        dataset.PatientID = f"BENCH-{seed or 'X'}"
        dataset.Rows = dataset.Columns = frame_side
        dataset.NumberOfFrames = frames
        dataset.BitsAllocated, dataset.BitsStored, dataset.HighBit = 16, 16, 15
        dataset.SamplesPerPixel = 1
        dataset.PixelData = pixels
        path = directory / f"IM{number:05d}.dcm"
        dataset.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths
