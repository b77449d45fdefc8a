"""``pacsbot deidentify``: de-identify files, folders and zips locally, as the Slack upload does.

One output file per input instance, named by its new SOP Instance UID, in ``--out``. The key that
derives the new UIDs and date shifts is kept in the output directory (``.deidentification-key``,
readable by its owner only), so running again over the same files, or over more files of the same
study, gives the same UIDs. Each input gets one line: what became of it and why. The exit code is
1 when any input was refused.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from bot.dicom.archives import Archive, ArchiveLimits, ArchiveRejected
from bot.dicom.deidentify import DeidentificationOptions, DeidentificationRefused, Deidentifier
from bot.dicom.instances import DicomDirectory, DicomRejected, FileRegion, inspect_dicom
from bot.dicom.sniff import SNIFF_BYTES, Kind, sniff

KEY_FILE_NAME = ".deidentification-key"
_KEY_BYTES = 32
# A local tool over files the operator chose; the limits only stop a zip bomb.
_ZIP_LIMITS = ArchiveLimits(max_expanded_bytes=64 * 1024**3, max_ratio=1000, max_members=200_000)


def register(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Attach the ``deidentify`` subcommand to the ``pacsbot`` parser."""
    parser = subcommands.add_parser(
        "deidentify",
        help="de-identify DICOM files (DICOM PS3.15 Basic Profile) into a folder",
        description=(
            "De-identify DICOM files, folders and zips with the DICOM PS3.15 Annex E Basic Application "
            "Level Confidentiality Profile, as the Slack upload's 'anonymized' path does."
        ),
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="a DICOM file, a folder or a zip")
    parser.add_argument("--out", required=True, type=Path, help="folder for the de-identified files")
    parser.add_argument(
        "--retain-dates",
        action="store_true",
        help="Retain Longitudinal Temporal Information, Modified Dates: shift each patient's dates",
    )
    parser.add_argument(
        "--retain-patient-characteristics",
        action="store_true",
        help="Retain Patient Characteristics: keep sex, age, size, weight and the like",
    )
    parser.add_argument(
        "--allow-burned-in",
        action="store_true",
        help="also de-identify images whose pixels may show a name (ultrasound, screen captures, "
        "BurnedInAnnotation YES); their pixels are not changed",
    )
    parser.add_argument(
        "--key-file",
        type=Path,
        help=f"the key for UIDs and date shifts (default: OUT/{KEY_FILE_NAME}, made if missing)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """De-identify every input; print one line per input; return 1 if any was refused."""
    out_dir: Path = args.out
    out_dir.mkdir(parents=True, exist_ok=True)
    key = load_or_make_key(args.key_file or out_dir / KEY_FILE_NAME)
    deidentifier = Deidentifier(
        key,
        DeidentificationOptions(
            retain_modified_dates=args.retain_dates,
            retain_patient_characteristics=args.retain_patient_characteristics,
        ),
    )
    job = _Run(deidentifier, out_dir, allow_pixel_risk=args.allow_burned_in, output=sys.stdout)
    for given in args.inputs:
        job.input(Path(given))
    sys.stdout.write(f"{job.written} written, {job.refused} refused, {job.skipped} skipped\n")
    return 1 if job.refused else 0


def load_or_make_key(path: Path) -> bytes:
    """Return the key in ``path``, making a new random one (owner-only) if the file is missing."""
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        pass
    key = secrets.token_bytes(_KEY_BYTES)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key.hex() + "\n")
    return key


class _Run:
    def __init__(self, deidentifier: Deidentifier, out_dir: Path, *, allow_pixel_risk: bool, output: TextIO):
        self.deidentifier = deidentifier
        self.out_dir = out_dir
        self.allow_pixel_risk = allow_pixel_risk
        self.output = output
        self.written = self.refused = self.skipped = 0

    def say(self, name: str, outcome: str) -> None:
        self.output.write(f"{name}: {outcome}\n")

    def input(self, path: Path) -> None:
        if path.is_dir():
            for child in sorted(item for item in path.rglob("*") if item.is_file()):
                if child.resolve().parent != self.out_dir.resolve():
                    self.file(child)
            return
        self.file(path)

    def file(self, path: Path) -> None:
        try:
            with path.open("rb") as handle:
                head = handle.read(SNIFF_BYTES)
        except OSError as error:
            self.refuse(str(path), f"cannot be read ({error.strerror or type(error).__name__})")
            return
        if sniff(head).kind is Kind.ZIP:
            self.archive(path)
            return
        self.instance(str(path), path)

    def archive(self, path: Path) -> None:
        try:
            with Archive(path, _ZIP_LIMITS) as archive, _scratch() as scratch:
                for member in archive.listing.members:
                    name = f"{path}!{member.name}"
                    if member.is_dicomdir:
                        self.skip(name, "a DICOMDIR (an index, not an image)")
                        continue
                    region = archive.region(member)
                    if region is None:
                        extracted = scratch / f"member-{member.index}"
                        archive.extract(member, extracted, member.size)
                        self.instance(name, extracted)
                        extracted.unlink()
                    else:
                        self.instance(name, region)
        except ArchiveRejected as error:
            self.refuse(str(path), f"refused ({error.problem.value}): {error.message}")

    def instance(self, name: str, source: Path | FileRegion) -> None:
        try:
            inspection = inspect_dicom(source)
        except DicomRejected as error:
            self.refuse(name, f"refused ({error.problem.value}): {error.message}")
            return
        except OSError as error:
            self.refuse(name, f"cannot be read ({error.strerror or type(error).__name__})")
            return
        if isinstance(inspection, DicomDirectory):
            self.skip(name, "a DICOMDIR (an index, not an image)")
            return
        try:
            done = self.deidentifier.deidentify_file(
                source, self.out_dir, allow_pixel_risk=self.allow_pixel_risk
            )
        except DeidentificationRefused as refusal:
            hint = " (--allow-burned-in accepts it)" if refusal.risk is not None else ""
            self.refuse(name, f"refused: {refusal.message}{hint}")
            return
        self.written += 1
        self.say(name, f"written as {done.path.name}")

    def refuse(self, name: str, outcome: str) -> None:
        self.refused += 1
        self.say(name, outcome)

    def skip(self, name: str, why: str) -> None:
        self.skipped += 1
        self.say(name, f"skipped: {why}")


@contextlib.contextmanager
def _scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="pacsbot-deidentify-") as directory:
        yield Path(directory)
