"""De-identify DICOM files to PS3.15 Annex E, the Basic Application Level Confidentiality Profile.

The attributes and their actions come from :data:`~bot.dicom.confidentiality_profile.TABLE_E_1_1`
(PS3.15 2024b), applied wherever an attribute occurs, inside sequence items too. Private attributes,
curves and overlays are removed. Options offered: Retain Longitudinal Temporal Information with
Modified Dates (every date of a patient moves by one offset) and Retain Patient Characteristics.
Clean Descriptors, Clean Structured Content, Clean Graphics and Clean Pixel Data are not offered:
their attributes get the Basic Profile's action (removal, mostly), and pixels are never touched,
so an image whose pixels may show text is refused unless its caller confirms it (:class:`PixelRisk`).

How the profile's compound actions are chosen: ``X/Z`` → Z, ``X/D``, ``Z/D`` and ``X/Z/D`` → D (a
dummy carries no information, and it keeps Type 1 and 2 attributes present, so the result stays a
valid instance of its IOD), ``X/Z/U*`` → keep the sequence with the UIDs inside replaced. A ``D`` or
``X/Z/U*`` sequence keeps its items, cleaned by the same table; a ``Z`` sequence is emptied.

UIDs are replaced by ``2.25.`` and a UUID made from a keyed hash (HMAC-SHA256) of the original, so
the same original becomes the same new UID in every file de-identified with the same key, on any
run, and nobody without the key can confirm a guess. Dates move by a whole number of days derived
the same way from the patient's original ID, so one patient's studies keep their intervals.

The pixel data, and whatever lies after the header, are copied byte for byte from the source in
chunks: memory holds the header, never the image (deflated files, whose dataset is one compressed
stream, are the exception and are read whole). Everything here blocks; call it from a thread.
"""

from __future__ import annotations

import datetime
import enum
import hashlib
import hmac
import io
import os
import struct
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

import pydicom
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.filebase import DicomFileLike
from pydicom.filereader import read_dataset
from pydicom.filewriter import write_dataset, write_file_meta_info
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag
from pydicom.uid import UID
from pydicom.valuerep import EXPLICIT_VR_LENGTH_32

from bot.dicom.confidentiality_profile import EDITION, TABLE_E_1_1, ProfileRow
from bot.dicom.instances import (
    EXPLICIT_VR_BIG_ENDIAN,
    EXPLICIT_VR_LITTLE_ENDIAN,
    IMPLICIT_VR_LITTLE_ENDIAN,
    FileRegion,
    dataset_encoding,
    quiet_pydicom,
    region_stream,
)

_PREAMBLE: Final = b"\x00" * 128
_PIXEL_TAGS: Final = frozenset({0x7FE00008, 0x7FE00009, 0x7FE00010})
_UNDEFINED: Final = 0xFFFFFFFF
_ITEM_TAG: Final = 0xFFFEE000
_SEQUENCE_END_TAG: Final = 0xFFFEE0DD
_LONG_VRS: Final = frozenset(vr.encode() for vr in EXPLICIT_VR_LENGTH_32)
_COPY_CHUNK: Final = 1024 * 1024
_MAX_DATE_SHIFT_DAYS: Final = 3650
# Sequences with a compound action that an IOD requires (Type 2): Acquisition Context (waveforms,
# DX, MG and others). Their X/Z is Z; other compound sequences are Type 3 and removed.
_TYPE_2_SEQUENCES: Final = frozenset({0x00400555})
# (0028,0301) is not in Table E.1-1: it describes the pixels, which the profile leaves to E.3.1.
_BURNED_IN_ANNOTATION: Final = "BurnedInAnnotation"
_ULTRASOUND_MODALITIES: Final = frozenset({"US", "IVUS"})
_SECONDARY_CAPTURE_PREFIX: Final = "1.2.840.10008.5.1.4.1.1.7"
_ENCAPSULATED_DOCUMENT_PREFIX: Final = "1.2.840.10008.5.1.4.1.1.104."
_STRUCTURED_REPORT_PREFIX: Final = "1.2.840.10008.5.1.4.1.1.88."

# CID 7050 De-identification Method (PS3.16), coding scheme DCM.
_BASIC_PROFILE_CODE: Final = ("113100", "Basic Application Confidentiality Profile")
_MODIFIED_DATES_CODE: Final = ("113107", "Retain Longitudinal Temporal Information Modified Dates Option")
_PATIENT_CHARACTERISTICS_CODE: Final = ("113108", "Retain Patient Characteristics Option")

# Dummies for D, one per VR; each is a valid value of its VR and says nothing about anyone.
_DUMMY_TEXT: Final = "ANONYMIZED"
_DUMMIES: Final[dict[str, object]] = {
    "AE": "ANONYMIZED",
    "AS": "000D",
    "CS": "ANONYMIZED",
    "DA": "19000101",
    "DS": "0",
    "DT": "19000101000000",
    "IS": "0",
    "LO": _DUMMY_TEXT,
    "LT": _DUMMY_TEXT,
    "PN": "ANONYMIZED",
    "SH": _DUMMY_TEXT,
    "ST": _DUMMY_TEXT,
    "TM": "000000",
    "UC": _DUMMY_TEXT,
    "UR": "urn:anonymized",
    "UT": _DUMMY_TEXT,
    "US": 0,
    "SS": 0,
    "UL": 0,
    "SL": 0,
    "FL": 0.0,
    "FD": 0.0,
    "OB": b"\x00\x00",
    "OW": b"\x00\x00",
    "UN": b"\x00\x00",
}


class Action(enum.StrEnum):
    """What happens to one attribute (PS3.15 Table E.1-1a), after compound actions are chosen."""

    DUMMY = "D"
    EMPTY = "Z"
    REMOVE = "X"
    KEEP = "K"
    SHIFT_DATE = "C"
    NEW_UID = "U"


class PixelRisk(enum.StrEnum):
    """Why an image's pixels (or a document inside it) may show who the patient is."""

    BURNED_IN_ANNOTATION = "burned_in_annotation"
    """BurnedInAnnotation is YES."""
    ULTRASOUND = "ultrasound"
    """An ultrasound image that does not say NO: scanners write the name on the image."""
    SECONDARY_CAPTURE = "secondary_capture"
    """A screenshot-like image that does not say NO."""
    ENCAPSULATED_DOCUMENT = "encapsulated_document"
    """A PDF or other document inside DICOM: its content is not cleaned."""
    STRUCTURED_CONTENT = "structured_content"
    """A structured report: its text items are not cleaned."""

    @property
    def words(self) -> str:
        """Say in words why a person must look at the file first."""
        return {
            PixelRisk.BURNED_IN_ANNOTATION: "its pixels carry burned-in text (Burned In Annotation is YES)",
            PixelRisk.ULTRASOUND: "it is an ultrasound image, where the name is often burned into the pixels",
            PixelRisk.SECONDARY_CAPTURE: "it is a captured screen, which may show the name in its pixels",
            PixelRisk.ENCAPSULATED_DOCUMENT: "it holds a document whose content is not de-identified",
            PixelRisk.STRUCTURED_CONTENT: "it is a report whose free text is not de-identified",
        }[self]


class DeidentificationRefused(Exception):
    """A file this module will not de-identify; ``risk`` is set when a confirmation would allow it."""

    def __init__(self, message: str, *, risk: PixelRisk | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.risk = risk


@dataclass(frozen=True, slots=True)
class DeidentificationOptions:
    """The profile's options in force; everything off is the plain Basic Profile."""

    retain_modified_dates: bool = False
    retain_patient_characteristics: bool = False


@dataclass(frozen=True, slots=True)
class Deidentified:
    """One de-identified file: where it is, its size and its new identifiers."""

    path: Path
    size: int
    sop_instance_uid: str
    study_instance_uid: str
    series_instance_uid: str
    risk: PixelRisk | None


def _parse_tag(text: str) -> int | None:
    """Return the tag of a row like ``(0008,0050)``; None for the rows that name tag patterns."""
    digits = text.strip("()").replace(",", "")
    try:
        return int(digits, 16)
    except ValueError:
        return None


def _chosen(tag: int, action: str, vr: str) -> Action:
    """Return the action taken for a table entry, compound ones resolved as the module says."""
    if action == "X/Z/U*":
        return Action.KEEP
    if vr == "SQ" and action.startswith("X/"):
        # An empty sequence is invalid where the attribute is Type 3, and a dummy item means
        # nothing: such sequences are removed, bar those that IODs make Type 2.
        return Action.EMPTY if tag in _TYPE_2_SEQUENCES else Action.REMOVE
    return Action(action.split("/")[-1])


def _resolve(row: ProfileRow, tag: int, vr: str, options: DeidentificationOptions) -> Action:
    action = _chosen(tag, row.basic, vr)
    if options.retain_modified_dates and row.retain_modified_dates == "C":
        return Action.SHIFT_DATE
    if options.retain_patient_characteristics and row.retain_patient_characteristics == "K":
        return Action.KEEP
    # The option's C rows (allergies, special needs, ...) would need a human to clean them.
    return action


def profile_actions(options: DeidentificationOptions) -> dict[int, Action]:
    """Return the action for every attribute Table E.1-1 names by tag, under ``options``."""
    actions: dict[int, Action] = {}
    for row in TABLE_E_1_1:
        tag = _parse_tag(row.tag)
        if tag is not None:
            actions[tag] = _resolve(row, tag, _dictionary_vr(tag), options)
    return actions


def _dictionary_vr(tag: int) -> str:
    try:
        return dictionary_VR(tag)
    except KeyError:
        return "UN"


def _removed_group(tag: BaseTag) -> bool:
    """Return True for curve (50xx) and overlay (60xx) repeating groups, removed whole."""
    # Table E.1-1 removes Curve Data and Overlay Data/Comments; the rest of an overlay without
    # its data is an invalid Overlay Plane module, so the whole group goes.
    return tag.group & 0xFF01 in (0x5000, 0x6000)


def uid_under_2_25(key: bytes, original: str) -> str:
    """Return the UID that replaces ``original`` under ``key``: ``2.25.`` and a UUID as an integer."""
    digest = bytearray(
        hmac.new(key, b"uid\x00" + original.encode("ascii", "replace"), hashlib.sha256).digest()
    )
    # An RFC 9562 version 8 (custom) UUID, as PS3.5 B.2 asks of a 2.25 UID.
    digest[6] = (digest[6] & 0x0F) | 0x80
    digest[8] = (digest[8] & 0x3F) | 0x80
    return "2.25." + str(int.from_bytes(digest[:16], "big"))


def date_shift_days(key: bytes, patient: str) -> int:
    """Return how many days (1 to 3650, backwards) every date of ``patient`` moves under ``key``."""
    digest = hmac.new(key, b"date\x00" + patient.encode("utf-8", "replace"), hashlib.sha256).digest()
    return -(1 + int.from_bytes(digest[:8], "big") % _MAX_DATE_SHIFT_DAYS)


class Deidentifier:
    """De-identify files with one key: the same key gives the same UIDs and date shifts every time."""

    def __init__(
        self,
        key: bytes,
        options: DeidentificationOptions | None = None,
        overrides: Mapping[str, str] | None = None,
    ) -> None:
        if len(key) < 16:
            raise ValueError("the de-identification key must be at least 16 bytes")
        self.key = key
        self.options = options or DeidentificationOptions()
        self._actions = profile_actions(self.options)
        self.overrides = dict(overrides or {})
        for keyword in self.overrides:
            if tag_for_keyword(keyword) is None:
                raise ValueError(f"{keyword!r} is not a DICOM keyword")

    def new_uid(self, original: str) -> str:
        """Return the UID that replaces ``original``."""
        return uid_under_2_25(self.key, original.strip().rstrip("\x00"))

    def deidentify_file(
        self,
        source: str | os.PathLike[str] | FileRegion,
        out_dir: str | os.PathLike[str],
        *,
        allow_pixel_risk: bool = False,
    ) -> Deidentified:
        """Write a de-identified copy of ``source`` into ``out_dir`` as ``<new SOP Instance UID>.dcm``.

        Raises :class:`DeidentificationRefused` for a file that is not a whole DICOM instance, and
        for one whose pixels may show the patient (:class:`PixelRisk`) unless ``allow_pixel_risk``.
        """
        directory = Path(out_dir)
        with region_stream(source) as (stream, part10), quiet_pydicom():
            try:
                dataset = pydicom.dcmread(stream, stop_before_pixels=True, force=not part10)
            except (InvalidDicomError, EOFError, OSError, ValueError, KeyError, TypeError, struct.error):
                raise DeidentificationRefused("its DICOM header cannot be read") from None
            except RecursionError:
                raise DeidentificationRefused("its sequences nest too deeply to be read") from None
            pixels_at = stream.tell()
            risk = pixel_risk(dataset)
            if risk is not None and not allow_pixel_risk:
                raise DeidentificationRefused(f"it needs a person's confirmation: {risk.words}", risk=risk)
            meta = dataset.file_meta if isinstance(getattr(dataset, "file_meta", None), Dataset) else None
            transfer_syntax = _transfer_syntax(dataset, meta)
            if UID(transfer_syntax).is_deflated:
                stream.seek(0)
                dataset = pydicom.dcmread(stream, force=not part10)
                pixels_at = -1
            ids = self._clean_instance(dataset)
            new_meta = FileMetaDataset()
            new_meta.MediaStorageSOPClassUID = UID(ids[0])
            new_meta.MediaStorageSOPInstanceUID = UID(ids[1])
            new_meta.TransferSyntaxUID = UID(transfer_syntax)
            directory.mkdir(parents=True, exist_ok=True)
            destination = directory / f"{ids[1]}.dcm"
            temporary = _temporary_beside(destination)
            try:
                with temporary.open("wb") as output:
                    _write(
                        output, new_meta, dataset, transfer_syntax, stream, pixels_at, self._clean_trailing
                    )
                temporary.replace(destination)
            except BaseException:
                temporary.unlink(missing_ok=True)
                raise
        return Deidentified(
            path=destination,
            size=destination.stat().st_size,
            sop_instance_uid=ids[1],
            study_instance_uid=ids[2],
            series_instance_uid=ids[3],
            risk=risk,
        )

    # --- the dataset ------------------------------------------------------------------------

    def _clean_instance(self, dataset: Dataset) -> tuple[str, str, str, str]:
        """De-identify a whole instance in place; return its SOP Class and new SOP Instance, Study, Series UIDs."""
        missing = [
            keyword
            for keyword in ("SOPClassUID", "SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID")
            if not str(dataset.get(keyword, "") or "").strip()
        ]
        if missing:
            raise DeidentificationRefused("it has no " + ", ".join(missing))
        shift = date_shift_days(self.key, _patient_key(dataset)) if self.options.retain_modified_dates else 0
        try:
            self._clean(dataset, shift)
        except (ValueError, TypeError, KeyError, OverflowError) as error:
            raise DeidentificationRefused(
                f"an attribute cannot be de-identified ({type(error).__name__})"
            ) from None
        self._apply_overrides(dataset)
        self._mark(dataset)
        return (
            str(dataset.SOPClassUID),
            str(dataset.SOPInstanceUID),
            str(dataset.StudyInstanceUID),
            str(dataset.SeriesInstanceUID),
        )

    def _clean_trailing(self, dataset: Dataset) -> None:
        self._clean(dataset, 0)

    def _clean(self, dataset: Dataset, shift: int) -> None:
        """Apply the table to every element of ``dataset`` and of the items of its sequences."""
        for tag in list(dataset.keys()):
            if tag.is_private or _removed_group(tag) or (tag.element == 0 and tag.group > 2):
                # Group lengths would be stale once values change; PS3.5 7.2 retired them anyway.
                del dataset[tag]
                continue
            action = self._actions.get(int(tag))
            element = dataset[tag]
            if action is None or action is Action.KEEP:
                if element.VR == "SQ":
                    for item in element.value:
                        self._clean(item, shift)
                continue
            self._act(dataset, element, action, shift)

    def _act(self, dataset: Dataset, element: DataElement, action: Action, shift: int) -> None:
        if action is Action.REMOVE:
            del dataset[element.tag]
        elif element.VR == "SQ":
            if action is Action.EMPTY:
                element.value = Sequence()
            else:
                for item in element.value:
                    self._clean(item, shift)
        elif action is Action.EMPTY:
            element.value = None
        elif action is Action.NEW_UID:
            element.value = _mapped(element.value, self.new_uid)
        elif action is Action.SHIFT_DATE:
            self._shift(dataset, element, shift)
        elif action is Action.DUMMY:
            self._dummy(dataset, element)

    def _dummy(self, dataset: Dataset, element: DataElement) -> None:
        if element.VR == "UI":
            element.value = _mapped(element.value, self.new_uid) if element.value else None
            return
        dummy = _DUMMIES.get(element.VR)
        if dummy is None:
            del dataset[element.tag]
        else:
            element.value = dummy

    def _shift(self, dataset: Dataset, element: DataElement, shift: int) -> None:
        if element.VR == "DA":
            element.value = _mapped(element.value, lambda value: _shifted_date(value, shift))
        elif element.VR == "DT":
            element.value = _mapped(element.value, lambda value: _shifted_datetime(value, shift))
        elif element.VR != "TM":
            # Times of day stay as they are; anything else that is no date is removed.
            del dataset[element.tag]

    def _apply_overrides(self, dataset: Dataset) -> None:
        for keyword, value in self.overrides.items():
            if value == "":
                continue  # an empty field leaves the profile's result
            if not value.isascii() and str(dataset.get("SpecificCharacterSet", "")) != "ISO_IR 192":
                # pydicom re-encodes every text element when the character set changes.
                dataset.SpecificCharacterSet = "ISO_IR 192"
            setattr(dataset, keyword, value)

    def _mark(self, dataset: Dataset) -> None:
        options = self.options
        codes = [_BASIC_PROFILE_CODE]
        methods = [f"DICOM PS3.15 {EDITION} Basic Profile"]
        if options.retain_modified_dates:
            codes.append(_MODIFIED_DATES_CODE)
            methods.append("Retain Long. Temporal Info. Modified Dates")
        if options.retain_patient_characteristics:
            codes.append(_PATIENT_CHARACTERISTICS_CODE)
            methods.append("Retain Patient Characteristics")
        dataset.PatientIdentityRemoved = "YES"
        dataset.DeidentificationMethod = methods if len(methods) > 1 else methods[0]
        items = []
        for value, meaning in codes:
            item = Dataset()
            item.CodeValue = value
            item.CodingSchemeDesignator = "DCM"
            item.CodeMeaning = meaning
            items.append(item)
        dataset.DeidentificationMethodCodeSequence = Sequence(items)
        dataset.LongitudinalTemporalInformationModified = (
            "MODIFIED" if options.retain_modified_dates else "REMOVED"
        )


def pixel_risk(dataset: Dataset) -> PixelRisk | None:
    """Return why the pixels (or content) of ``dataset`` may identify the patient, or None."""
    sop_class = str(dataset.get("SOPClassUID", "") or "")
    burned_in = str(dataset.get(_BURNED_IN_ANNOTATION, "") or "").strip().upper()
    if sop_class.startswith(_ENCAPSULATED_DOCUMENT_PREFIX):
        return PixelRisk.ENCAPSULATED_DOCUMENT
    if sop_class.startswith(_STRUCTURED_REPORT_PREFIX):
        return PixelRisk.STRUCTURED_CONTENT
    if burned_in == "YES":
        return PixelRisk.BURNED_IN_ANNOTATION
    if burned_in == "NO":
        return None
    if str(dataset.get("Modality", "") or "").strip().upper() in _ULTRASOUND_MODALITIES:
        return PixelRisk.ULTRASOUND
    if sop_class.startswith(_SECONDARY_CAPTURE_PREFIX):
        return PixelRisk.SECONDARY_CAPTURE
    return None


def _patient_key(dataset: Dataset) -> str:
    """Return what identifies the patient for the date shift: issuer and ID, else the name."""
    patient_id = str(dataset.get("PatientID", "") or "").strip()
    if patient_id:
        return str(dataset.get("IssuerOfPatientID", "") or "").strip() + "\x00" + patient_id
    return "\x01" + str(dataset.get("PatientName", "") or "").strip()


def _mapped(value: object, change: Callable[[str], str]) -> object:
    if value is None or value == "":
        return value
    if isinstance(value, MultiValue | list | tuple):
        return [change(str(item)) for item in value]
    return change(str(value))


def _shifted_date(value: str, shift: int) -> str:
    text = value.strip()
    try:
        date = datetime.date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return ""
    return (date + datetime.timedelta(days=shift)).strftime("%Y%m%d") if len(text) >= 8 else ""


def _shifted_datetime(value: str, shift: int) -> str:
    text = value.strip()
    if len(text) < 8:
        return ""  # a year or a month alone cannot move by days
    moved = _shifted_date(text[:8], shift)
    return moved + text[8:] if moved else ""


def _transfer_syntax(dataset: Dataset, meta: Dataset | None) -> str:
    declared = str(meta.get("TransferSyntaxUID", "") or "").strip() if meta is not None else ""
    if declared:
        return declared
    implicit, little = dataset.original_encoding
    if implicit:
        return IMPLICIT_VR_LITTLE_ENDIAN
    return EXPLICIT_VR_LITTLE_ENDIAN if little else EXPLICIT_VR_BIG_ENDIAN


def _temporary_beside(destination: Path) -> Path:
    descriptor, name = tempfile.mkstemp(
        prefix=f".{destination.name}.", suffix=".partial", dir=destination.parent
    )
    os.close(descriptor)
    return Path(name)


# --- writing ---------------------------------------------------------------------------------


def _write(
    output: BinaryIO,
    meta: FileMetaDataset,
    dataset: Dataset,
    transfer_syntax: str,
    source: BinaryIO,
    pixels_at: int,
    clean_trailing: Callable[[Dataset], None],
) -> None:
    """Write a Part 10 file: the new meta, the cleaned header, then the source's pixels as they are."""
    if pixels_at < 0:
        # A deflated dataset was read whole; pydicom deflates it again as it writes.
        dataset.file_meta = meta
        pydicom.dcmwrite(output, dataset, enforce_file_format=True)
        return
    output.write(_PREAMBLE + b"DICM")
    writer = DicomFileLike(output)
    write_file_meta_info(writer, meta, enforce_standard=True)
    # The dataset is written as its pixel data element is encoded, which is not always as the meta
    # says (pydicom reads such files, and so must the copy): those bytes are copied as they are.
    implicit, little = _encoding_at(source, pixels_at) or dataset_encoding(dataset, transfer_syntax)
    writer.is_implicit_VR = implicit
    writer.is_little_endian = little
    write_dataset(writer, dataset)
    source.seek(pixels_at)
    end = _copy_pixel_elements(source, output, implicit=implicit, little=little)
    source.seek(end)
    trailing = read_dataset(source, implicit, little)
    if len(trailing):
        clean_trailing(trailing)
        write_dataset(writer, trailing)


def _encoding_at(source: BinaryIO, position: int) -> tuple[bool, bool] | None:
    """Return (implicit VR, little endian) of the pixel data element at ``position``, if one is there."""
    source.seek(position)
    header = source.read(6)
    if len(header) < 6:
        return None
    for little in (True, False):
        group, element = struct.unpack(("<" if little else ">") + "HH", header[:4])
        if (group << 16 | element) in _PIXEL_TAGS:
            return header[4:6] not in _LONG_VRS, little
    return None


def _copy_pixel_elements(source: BinaryIO, output: BinaryIO, *, implicit: bool, little: bool) -> int:
    """Copy the pixel data element(s) at the source's position unchanged; return where they end."""
    endian = "<" if little else ">"
    while True:
        start = source.tell()
        header = source.read(8)
        if len(header) < 8:
            return start
        group, element = struct.unpack(endian + "HH", header[:4])
        if (group << 16 | element) not in _PIXEL_TAGS:
            return start
        if implicit:
            length = struct.unpack(endian + "I", header[4:])[0]
            value_at = start + 8
        elif header[4:6] in _LONG_VRS:
            length = struct.unpack(endian + "I", _read_exactly(source, 4))[0]
            value_at = start + 12
        else:
            length = struct.unpack(endian + "H", header[6:])[0]
            value_at = start + 8
        end = value_at + length if length != _UNDEFINED else _fragments_end(source, value_at, endian)
        _copy(source, output, start, end)
        source.seek(end)


def _fragments_end(source: BinaryIO, position: int, endian: str) -> int:
    """Return where encapsulated pixel data ends: after its sequence delimiter."""
    source.seek(position)
    while True:
        group, element, length = struct.unpack(endian + "HHI", _read_exactly(source, 8))
        tag = group << 16 | element
        if tag == _SEQUENCE_END_TAG:
            return source.tell()
        if tag != _ITEM_TAG or length == _UNDEFINED:
            raise DeidentificationRefused("its encapsulated pixel data is malformed")
        source.seek(length, io.SEEK_CUR)


def _read_exactly(source: BinaryIO, count: int) -> bytes:
    data = source.read(count)
    if len(data) < count:
        raise DeidentificationRefused("it is truncated inside its pixel data")
    return data


def _copy(source: BinaryIO, output: BinaryIO, start: int, end: int) -> None:
    source.seek(start)
    left = end - start
    while left > 0:
        chunk = source.read(min(left, _COPY_CHUNK))
        if not chunk:
            raise DeidentificationRefused("it is truncated inside its pixel data")
        output.write(chunk)
        left -= len(chunk)


__all__ = [
    "Action",
    "DeidentificationOptions",
    "DeidentificationRefused",
    "Deidentified",
    "Deidentifier",
    "PixelRisk",
    "date_shift_days",
    "pixel_risk",
    "profile_actions",
    "uid_under_2_25",
]
