"""An anonymized upload's files, de-identified to PS3.15 Annex E before any byte leaves the server.

The Slack upload's "anonymized" path and ``pacsbot deidentify`` run the same code,
:class:`bot.dicom.deidentify.Deidentifier`. The job's key (one per share, stored encrypted with
the job) makes every retry produce the same UIDs, so PostDICOM's CheckFileExist finds what an
earlier attempt sent; the person's values from the modal override the profile's blanks.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from pydicom.datadict import keyword_for_tag

from bot.dicom import FileRegion
from bot.dicom.deidentify import DeidentificationRefused, Deidentifier, PixelRisk
from bot.jobs.errors import Rejected
from bot.jobs.prepare import DicomFile
from bot.postdicom.dicomfiles import InvalidReplacementError, parse_dicom_tag
from bot.store import UploadJob

Tick = Callable[[int, int], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class DeidentifiedFiles:
    """The copies to upload (each keeps its original instance, by which the job records it) and the refused."""

    files: tuple[DicomFile, ...]
    refused_names: tuple[str, ...]


def overrides_from(replacements: Mapping[str, str]) -> dict[str, str]:
    """Turn the job's replacements (keyed by the library's tag names) into DICOM keywords and values."""
    overrides: dict[str, str] = {}
    for key, value in replacements.items():
        try:
            tag = parse_dicom_tag(key).tag
        except InvalidReplacementError:
            raise Rejected(
                "An anonymization value names a field I do not know.", code="anonymize.invalid"
            ) from None
        overrides[keyword_for_tag(tag)] = value
    return overrides


def deidentifier_for(job: UploadJob) -> Deidentifier:
    """Return the job's de-identifier: its share's key, the person's values, the plain Basic Profile."""
    key = bytes.fromhex(job.options.deidentification_key) if job.options.deidentification_key else b""
    if not key:
        # A job stored before keys were: its id keeps its retries consistent with each other.
        key = hashlib.sha256(b"pacsbot de-identification\x00" + job.id.encode()).digest()
    return Deidentifier(key, overrides=overrides_from(job.options.replacements))


async def deidentify_files(
    deidentifier: Deidentifier,
    files: Sequence[DicomFile],
    out_dir: Path,
    *,
    pixel_risk_confirmed: bool,
    tick: Tick | None = None,
) -> DeidentifiedFiles:
    """De-identify every file into ``out_dir``; refuse the job if pixels may show a name unconfirmed."""
    done: list[DicomFile] = []
    refused: list[str] = []
    risky: dict[PixelRisk, int] = {}
    for index, file in enumerate(files):
        source = file.path if file.offset == 0 else FileRegion(file.path, file.offset, file.size)
        try:
            copy = await asyncio.to_thread(
                deidentifier.deidentify_file, source, out_dir, allow_pixel_risk=pixel_risk_confirmed
            )
        except DeidentificationRefused as refusal:
            if refusal.risk is not None:
                risky[refusal.risk] = risky.get(refusal.risk, 0) + 1
            else:
                refused.append(file.name)
            continue
        finally:
            if tick is not None:
                await tick(index + 1, len(files))
        done.append(replace(file, path=copy.path, size=copy.size, offset=0))
    if risky:
        raise _held_back(risky)
    return DeidentifiedFiles(tuple(done), tuple(refused))


def _held_back(risky: Mapping[PixelRisk, int]) -> Rejected:
    count = sum(risky.values())
    first = next(iter(risky))
    return Rejected(
        f"Nothing was uploaded: {count} image(s) may show the patient's name in the pixels, which "
        f"de-identification does not change (for one, {first.words}). Look at them, then share the "
        "files again, choose *Upload anonymized…* and tick the burned-in text box.",
        code="anonymize.pixel_risk",
    )
