"""Header reading: ``read_dicom_files`` on 1,000 files against Debian's ``dcmdump`` on the same files."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench.report import Claim, Table
from bench.studies import write_study
from bot.postdicom.dicomfiles import read_dicom_files

DCMDUMP = shutil.which("dcmdump")


def _dcmdump(paths: list[Path]) -> float:
    if DCMDUMP is None:
        return float("nan")
    started = time.perf_counter()
    # One process for every file, as read_dicom_files is one call for every file; -M leaves
    # long values (pixel data) unread, as read_dicom_files stops before them.
    subprocess.run(  # noqa: S603 - a fixed binary and our own generated file names
        [DCMDUMP, "-q", "-M", *map(str, paths)], check=True, stdout=subprocess.DEVNULL, timeout=300
    )
    return time.perf_counter() - started


def _ours(paths: list[Path]) -> tuple[float, int]:
    started = time.perf_counter()
    result = read_dicom_files(paths)
    elapsed = time.perf_counter() - started
    instances = sum(len(study.file_list) for study in result.study_list)
    return elapsed, instances


async def header_reading(files: int = 1000, rounds: int = 3) -> Table:
    """Time reading the headers of ``files`` generated CT instances, best of ``rounds``."""
    table = Table(
        f"Header reading: {files} CT instances (128x128), best of {rounds}",
        ("reader", "files", "seconds", "files/s", "relative"),
    )
    directory = Path(tempfile.mkdtemp(prefix="pacsbot-bench-headers-"))
    try:
        paths = await asyncio.to_thread(write_study, directory, files, frame_side=128, seed="headers")
        ours, dump = [], []
        instances = 0
        for _ in range(rounds):
            elapsed, instances = await asyncio.to_thread(_ours, paths)
            ours.append(elapsed)
            dump.append(await asyncio.to_thread(_dcmdump, paths))
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    best_ours, best_dump = min(ours), min(dump)
    table.add(
        "read_dicom_files (pydicom)", instances, f"{best_ours:.3f}", f"{files / best_ours:.0f}", "1.00x"
    )
    table.add(
        "dcmdump -q -M (dcmtk, one process)",
        files,
        f"{best_dump:.3f}",
        f"{files / best_dump:.0f}",
        f"{best_ours / best_dump:.2f}x faster"
        if best_dump < best_ours
        else f"{best_dump / best_ours:.2f}x slower",
    )
    table.notes.append(
        "read_dicom_files groups by study and series and checks every file's UIDs as well; dcmdump "
        "prints every element (to /dev/null). Both are single processes reading each file once."
    )
    table.claims.append(
        Claim(
            f"read_dicom_files on {files} files vs dcmdump",
            f"{files / best_ours:.0f} vs {files / best_dump:.0f} files/s ({best_ours / best_dump:.2f}x dcmdump's time)",
        )
    )
    return table
