"""The emulator's own pydicom reading and writing: the header fields an order is made of.

The emulator parses what it receives itself rather than trusting the client's helpers: it plays
the server, and a server must not share the client's bugs. Everything here blocks; callers on the
event loop run it in a thread when the file is big.
"""

from __future__ import annotations

import io
import re
import threading
import warnings
from dataclasses import dataclass

import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

# warnings.catch_warnings swaps process-wide state, so threads parsing at once must take turns.
_WARNINGS_LOCK = threading.Lock()
_DIGITS = re.compile(r"\D")


class NotDicom(Exception):
    """The bytes are not a DICOM Part 10 file the emulator can file."""


@dataclass(frozen=True, slots=True)
class DicomHeader:
    """The header fields the emulator files an instance and builds an order from."""

    study_instance_uid: str
    series_instance_uid: str
    sop_instance_uid: str
    sop_class_uid: str
    modality: str
    patient_name: str
    patient_id: str
    other_patient_id: str
    birthdate: str
    sex: str
    accession_number: str
    study_description: str
    performed: str
    referring_physician: str
    institution_name: str


def dicom_date(value: str) -> str:
    """Turn a DICOM DA value (``YYYYMMDD``, or a legacy ``YYYY.MM.DD``) into ``YYYY-MM-DD``, or ""."""
    digits = _DIGITS.sub("", value)[:8]
    if len(digits) != 8:
        return ""
    formatted = f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"
    month, day = int(digits[4:6]), int(digits[6:])
    return formatted if 1 <= month <= 12 and 1 <= day <= 31 else ""


def dicom_time(value: str) -> str:
    """Turn a DICOM TM value into ``HH:MM``, or ""."""
    digits = _DIGITS.sub("", value.split(".")[0])
    if len(digits) < 4:
        return ""
    hours, minutes = int(digits[:2]), int(digits[2:4])
    return f"{digits[:2]}:{digits[2:4]}" if hours < 24 and minutes < 60 else ""


def _text(dataset: Dataset, keyword: str) -> str:
    value = dataset.get(keyword)
    if value is None:
        return ""
    if isinstance(value, pydicom.multival.MultiValue):
        return "\\".join(str(item) for item in value).strip()
    return str(value).strip()


def read_header(data: bytes) -> DicomHeader:
    """Parse a DICOM Part 10 file's header; raise NotDicom for anything else."""
    with _WARNINGS_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            dataset = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True)
            header = _header(dataset)
        except NotDicom:
            raise
        except Exception as error:
            # pydicom raises many types for broken input; to a server they all mean "not DICOM".
            raise NotDicom(f"not a readable DICOM file ({type(error).__name__})") from None
    return header


def _header(dataset: Dataset) -> DicomHeader:
    study = _text(dataset, "StudyInstanceUID")
    sop = _text(dataset, "SOPInstanceUID")
    if not study or not sop:
        raise NotDicom("the file has no StudyInstanceUID or SOPInstanceUID")
    study_date = dicom_date(_text(dataset, "StudyDate")) or dicom_date(_text(dataset, "SeriesDate"))
    study_time = dicom_time(_text(dataset, "StudyTime")) or "00:00"
    return DicomHeader(
        study_instance_uid=study,
        series_instance_uid=_text(dataset, "SeriesInstanceUID") or study,
        sop_instance_uid=sop,
        sop_class_uid=_text(dataset, "SOPClassUID"),
        modality=_text(dataset, "Modality").upper(),
        patient_name=_text(dataset, "PatientName"),
        patient_id=_text(dataset, "PatientID"),
        other_patient_id=_text(dataset, "OtherPatientIDs"),
        birthdate=dicom_date(_text(dataset, "PatientBirthDate")),
        sex=_text(dataset, "PatientSex").upper()[:1],
        accession_number=_text(dataset, "AccessionNumber"),
        study_description=_text(dataset, "StudyDescription"),
        performed=f"{study_date} {study_time}" if study_date else "",
        referring_physician=_text(dataset, "ReferringPhysicianName"),
        institution_name=_text(dataset, "InstitutionName"),
    )


@dataclass(frozen=True, slots=True)
class SyntheticImage:
    """What a made-up seed instance should say about itself when someone downloads it."""

    patient_name: str
    patient_id: str
    birthdate: str
    sex: str
    accession_number: str
    modality: str
    study_description: str
    performed: str
    study_instance_uid: str
    series_instance_uid: str
    sop_instance_uid: str


def synthetic_dicom(image: SyntheticImage) -> bytes:
    """Write a small, valid Secondary Capture file for a seed instance that has no real bytes."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = UID(image.sop_instance_uid)
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = generate_uid(entropy_srcs=["pacsbot-emulator"])
    dataset = Dataset()
    dataset.file_meta = meta
    dataset.SOPClassUID = SecondaryCaptureImageStorage
    dataset.SOPInstanceUID = image.sop_instance_uid
    dataset.StudyInstanceUID = image.study_instance_uid
    dataset.SeriesInstanceUID = image.series_instance_uid
    dataset.PatientName = image.patient_name
    dataset.PatientID = image.patient_id
    dataset.PatientBirthDate = image.birthdate.replace("-", "")
    dataset.PatientSex = image.sex
    dataset.AccessionNumber = image.accession_number
    dataset.Modality = image.modality or "OT"
    dataset.StudyDescription = image.study_description
    dataset.StudyDate = image.performed[:10].replace("-", "")
    dataset.StudyTime = image.performed[11:16].replace(":", "") + "00"
    dataset.ConversionType = "WSD"
    dataset.SamplesPerPixel = 1
    dataset.PhotometricInterpretation = "MONOCHROME2"
    dataset.Rows = 8
    dataset.Columns = 8
    dataset.BitsAllocated = 8
    dataset.BitsStored = 8
    dataset.HighBit = 7
    dataset.PixelRepresentation = 0
    dataset.PixelData = bytes(range(64))
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()
