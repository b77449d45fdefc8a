"""DICOM and archive samples for tests: pydicom's bundled files (offline) and files made on the spot."""

from __future__ import annotations

import io
import random
import struct
import zipfile
from collections.abc import Iterable
from pathlib import Path

from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian

from bot.sandbox.slack.server import SLACK_LOGIN_PAGE


def pydicom_file(name: str) -> Path:
    """Return a file bundled with pydicom (only names that ship with it: no download is tried)."""
    found = get_testdata_file(name, download=False)
    assert found is not None, name
    return Path(str(found))


CT_SMALL = pydicom_file("CT_small.dcm")
MR_SMALL = pydicom_file("MR_small.dcm")
LOGIN_PAGE = SLACK_LOGIN_PAGE.encode()


def new_uid() -> str:
    """Return a fresh UID short enough to take suffixes (``.1``) within the 64-character limit."""
    return "1.2.826.0.1.3680043.8.498." + str(random.randrange(10**19, 10**20))


def ct_image(
    *,
    study: str | None = None,
    sop: str | None = None,
    series: str | None = None,
    patient: str = "TEST^PATIENT",
    patient_id: str = "PID-1",
    modality: str = "CT",
    study_date: str = "20261102",
    rows: int = 64,
    columns: int = 64,
    frames: int = 1,
    institution: str = "General Hospital",
    accession: str = "ACC-1",
    omit: Iterable[str] = (),
) -> bytes:
    """Build a small, valid CT image (16-bit native pixels) as Part 10 bytes."""
    study = study or new_uid()
    sop = sop or new_uid()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = sop
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset = Dataset()
    dataset.file_meta = meta
    dataset.SpecificCharacterSet = "ISO_IR 100"
    dataset.SOPClassUID = CTImageStorage
    dataset.SOPInstanceUID = sop
    dataset.StudyInstanceUID = study
    dataset.SeriesInstanceUID = series or study + ".1"
    dataset.Modality = modality
    dataset.StudyDate = study_date
    dataset.StudyTime = "101500"
    dataset.PatientName = patient
    dataset.PatientID = patient_id
    dataset.PatientBirthDate = "19700101"
    dataset.PatientSex = "O"
    dataset.AccessionNumber = accession
    dataset.InstitutionName = institution
    dataset.ReferringPhysicianName = "REFERRER^RITA"
    dataset.StudyDescription = "CT CHEST"
    dataset.StudyID = "1"
    dataset.SeriesNumber = 1
    dataset.InstanceNumber = 1
    dataset.Rows = rows
    dataset.Columns = columns
    dataset.SamplesPerPixel = 1
    dataset.PhotometricInterpretation = "MONOCHROME2"
    dataset.BitsAllocated = 16
    dataset.BitsStored = 12
    dataset.HighBit = 11
    dataset.PixelRepresentation = 0
    dataset.RescaleIntercept = 0
    dataset.RescaleSlope = 1
    dataset.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    dataset.ImagePositionPatient = [0, 0, 0]
    dataset.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    dataset.PixelSpacing = [1, 1]
    dataset.SliceThickness = 1
    dataset.KVP = 120
    dataset.FrameOfReferenceUID = study + ".9"
    dataset.PositionReferenceIndicator = ""
    dataset.StudyTime = "101500"
    if frames > 1:
        dataset.NumberOfFrames = frames
    dataset.PixelData = bytes(range(256)) * (rows * columns * 2 * frames // 256)
    for keyword in omit:
        delattr(dataset, keyword)
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def write(path: Path, data: bytes) -> Path:
    """Write bytes to a path and return the path."""
    path.write_bytes(data)
    return path


def zip_bytes(members: Iterable[tuple[str, bytes]], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """Build a zip archive in memory."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def zip_of_zeros(size: int) -> bytes:
    """Build a classic zip bomb: one member of ``size`` zero bytes, deflated to almost nothing."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open("IMAGES/IM0001", "w", force_zip64=True) as member,
    ):
        chunk = b"\x00" * (1 << 20)
        left = size
        while left:
            member.write(chunk[: min(left, len(chunk))])
            left -= min(left, len(chunk))
    return buffer.getvalue()


def mark_encrypted(data: bytes) -> bytes:
    """Set the "encrypted" flag on every member of a zip, in local and central headers."""
    patched = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (found := patched.find(signature, start)) != -1:
            flags = struct.unpack_from("<H", patched, found + offset)[0]
            struct.pack_into("<H", patched, found + offset, flags | 0x1)
            start = found + 4
    return bytes(patched)


def dicomdir_for(members: Iterable[str]) -> bytes:
    """Return pydicom's sample DICOMDIR (a real one; which files it names does not matter here)."""
    del members
    return pydicom_file("dicomdirtests/DICOMDIR").read_bytes()


def deeply_nested(depth: int) -> bytes:
    """Build a Part 10 file with its four UIDs and a sequence nested ``depth`` items deep."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.88.11"
    meta.MediaStorageSOPInstanceUID = new_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset = Dataset()
    dataset.file_meta = meta
    dataset.SOPClassUID = meta.MediaStorageSOPClassUID
    dataset.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    dataset.StudyInstanceUID = new_uid()
    dataset.SeriesInstanceUID = new_uid()
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    # (0040,A730) SQ, undefined length, one undefined-length item holding the next level.
    opening = struct.pack("<HH2sHI", 0x0040, 0xA730, b"SQ", 0, 0xFFFFFFFF) + struct.pack(
        "<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF
    )
    closing = struct.pack("<HHI", 0xFFFE, 0xE00D, 0) + struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
    return buffer.getvalue() + opening * depth + closing * depth
