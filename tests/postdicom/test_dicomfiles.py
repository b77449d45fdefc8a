"""The client's DICOM layer against pydicom's bundled files, the golden vectors, dcmtk and dicom3tools."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import struct
import subprocess
import tracemalloc
import zlib
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import pydicom
import pydicom.data
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRLittleEndian, generate_uid
from pydicom.valuerep import EXPLICIT_VR_LENGTH_32

from bot.postdicom.dicomfiles import (
    DUPLICATE_SOP_INSTANCE_MESSAGE,
    DicomFileError,
    DicomReadProblemKind,
    DicomTag,
    InvalidReplacementError,
    UploadIdentifiers,
    anonymize_file,
    looks_like_dicom,
    parse_dicom_tag,
    read_dicom_files,
    read_upload_identifiers,
    read_upload_identifiers_from_bytes,
)
from tests.paths import GOLDEN, GOLDEN_BIG
from tests.system_tools import require_tool

LIBRARY_ANONYMIZATION = {DicomTag.PatientName: "ANON^PATIENT", DicomTag.PatientId: "ANON-1"}
IDENTIFIER_KEYS = ("StudyInstanceUid", "PatientName", "PatientId", "SeriesInstanceUid", "SopInstanceUid")
ANONYMIZED_SESSION = "0babe000-0000-4000-8000-000000000002"


def bundled(name: str) -> Path:
    """Return one of pydicom's own test files; never one it would have to download."""
    if name.startswith("charset_files/"):
        found = pydicom.data.get_charset_files(name.removeprefix("charset_files/"))
        path = Path(found[0] if found else "")
    else:
        path = Path(pydicom.data.get_testdata_file(name, download=False) or "")
    assert path.is_file(), f"{name} is not bundled with pydicom"
    return path


def golden_check_file_exist_fields() -> list[tuple[bool, dict[str, str]]]:
    """Return (anonymized?, identifier fields) of every CheckFileExist frame in uploads.jsonl."""
    frames = []
    for line in (GOLDEN / "uploads.jsonl").read_text().splitlines():
        entry = json.loads(line)
        if entry.get("message_type") == 23 and entry.get("management_type") == 2:
            sent = json.loads(entry["json"])
            fields = {key: sent[key] for key in IDENTIFIER_KEYS if key in sent}
            frames.append((sent["SessionUniqueUuid"] == ANONYMIZED_SESSION, fields))
    return frames


def full_read(path: Path) -> pydicom.FileDataset:
    data = path.read_bytes()
    if data.startswith(b"DICM"):
        # pydicom cannot read a Part 10 file whose preamble was cut off; give it one back.
        return pydicom.dcmread(BytesIO(bytes(128) + data))
    # force: the preamble-less fixtures have no DICM signature to satisfy dcmread.
    return pydicom.dcmread(path, force=True)


def raw_elements(dataset: Dataset) -> dict[int, DataElement | RawDataElement]:
    tags = list(dataset.keys())
    return {int(tag): dataset.get_item(tag) for tag in tags}


def comparable(element: DataElement | RawDataElement) -> tuple[Any, ...]:
    """Return what must stay identical: VR, length and value bytes (sequences compare by items)."""
    if isinstance(element, RawDataElement):
        return element.VR, element.length, element.value
    return element.VR, element.value


def encoded_length(dataset: Dataset, tag: int) -> int:
    element = dataset.get_item(tag)
    if isinstance(element, RawDataElement):
        return element.length
    assert element.is_empty  # pydicom converts empty values on reading
    return 0


def decoded(dataset: Dataset, tag: int) -> str:
    return str(dataset[tag].value)


def element_start(element: DataElement | RawDataElement, implicit: bool) -> int:
    value_offset = element.value_tell if isinstance(element, RawDataElement) else element.file_tell
    assert value_offset is not None
    return value_offset - (8 if implicit or element.VR not in EXPLICIT_VR_LENGTH_32 else 12)


def group_byte_length(path: Path, group: int) -> int:
    """Measure a group's encoded length from where pydicom found its neighbours in the file."""
    dataset = full_read(path)
    implicit, _ = dataset.original_encoding
    elements = raw_elements(dataset)
    group_length = elements[group << 16]
    assert isinstance(group_length, RawDataElement)
    next_group = min(tag for tag in elements if tag >> 16 > group)
    return element_start(elements[next_group], bool(implicit)) - (group_length.value_tell + 4)


def assert_only_replaced_changed(original: Path, anonymized: Path, replaced: set[int]) -> None:
    """Compare two files element by element: only ``replaced`` tags and their group lengths differ."""
    before, after = full_read(original), full_read(anonymized)
    assert raw_elements(before.file_meta).keys() == raw_elements(after.file_meta).keys()
    for tag, element in raw_elements(before.file_meta).items():
        assert comparable(element) == comparable(after.file_meta.get_item(tag)), hex(tag)
    old, new = raw_elements(before), raw_elements(after)
    assert old.keys() == new.keys(), "tags were added or removed"
    touched_groups = {tag >> 16 for tag in replaced}
    for tag, element in old.items():
        if tag in replaced:
            continue
        if tag & 0xFFFF == 0 and tag >> 16 in touched_groups:
            # Some fixtures carry wrong group lengths; the change must match the change in size.
            group = tag >> 16
            growth = group_byte_length(anonymized, group) - group_byte_length(original, group)
            assert after[tag].value - before[tag].value == growth, f"group {group:04X} length"
            continue
        assert comparable(element) == comparable(new[tag]), f"({tag >> 16:04X},{tag & 0xFFFF:04X}) changed"
    for tag in replaced & old.keys():
        assert encoded_length(after, tag) % 2 == 0, f"odd length for {tag:08X}"
    if "PixelData" in before:
        assert after.PixelData == before.PixelData


@pytest.fixture
def ct_small() -> Path:
    return bundled("CT_small.dcm")


# --------------------------------------------------------------------------------------------------
# DicomTag


@pytest.mark.parametrize(
    ("member", "keyword"),
    [
        (DicomTag.PatientName, "PatientName"),
        (DicomTag.PatientId, "PatientID"),
        (DicomTag.OtherPatientId, "OtherPatientIDs"),
        (DicomTag.OtherPatientName, "OtherPatientNames"),
        (DicomTag.StudyDescription, "StudyDescription"),
        (DicomTag.ReferringPhysicianName, "ReferringPhysicianName"),
        (DicomTag.InstitutionName, "InstitutionName"),
        (DicomTag.InstitutionAddress, "InstitutionAddress"),
        (DicomTag.AccessionNumber, "AccessionNumber"),
        (DicomTag.StudyDate, "StudyDate"),
    ],
)
def test_each_dicom_tag_maps_to_the_pydicom_tag_of_its_attribute(member: DicomTag, keyword: str) -> None:
    assert member.tag == pydicom.tag.Tag(keyword)
    assert member.value == f"x{member.tag.group:04x}{member.tag.element:04x}"


def test_dicom_tag_has_the_librarys_nine_keys_plus_study_date() -> None:
    library = {
        "PatientName": "x00100010",
        "PatientId": "x00100020",
        "OtherPatientId": "x00101000",
        "OtherPatientName": "x00101001",
        "StudyDescription": "x00081030",
        "ReferringPhysicianName": "x00080090",
        "InstitutionName": "x00080080",
        "InstitutionAddress": "x00080081",
        "AccessionNumber": "x00080050",
    }
    assert {member.name: member.value for member in DicomTag} == {**library, "StudyDate": "x00080020"}


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("x00100010", DicomTag.PatientName),
        ("X00100010", DicomTag.PatientName),
        ("x00081030", DicomTag.StudyDescription),
        (" x00080020 ", DicomTag.StudyDate),
        ("X00080081", DicomTag.InstitutionAddress),
        ("PatientId", DicomTag.PatientId),
        ("accessionnumber", DicomTag.AccessionNumber),
        (DicomTag.OtherPatientName, DicomTag.OtherPatientName),
    ],
)
def test_parse_dicom_tag_accepts_library_keys_in_any_case_and_member_names(
    key: str | DicomTag, expected: DicomTag
) -> None:
    assert parse_dicom_tag(key) is expected


@pytest.mark.parametrize("key", ["x00100030", "x0010001", "00100010", "PatientBirthDate", ""])
def test_parse_dicom_tag_rejects_keys_outside_the_enum(key: str) -> None:
    with pytest.raises(InvalidReplacementError, match="unknown anonymization tag key"):
        parse_dicom_tag(key)


def test_errors_are_value_errors_so_callers_may_catch_either() -> None:
    assert issubclass(DicomFileError, ValueError)
    assert issubclass(InvalidReplacementError, DicomFileError)


# --------------------------------------------------------------------------------------------------
# CheckFileExist identifiers against the golden vectors


def test_identifiers_match_the_golden_check_file_exist_frames(ct_small: Path, tmp_path: Path) -> None:
    frames = golden_check_file_exist_fields()
    plain = [fields for anonymized, fields in frames if not anonymized]
    anonymized = [fields for was_anonymized, fields in frames if was_anonymized]
    # Upload, upload into folder (same files again), then the anonymized upload.
    assert len(plain) == 4
    assert len(anonymized) == 2

    expected_plain = [read_upload_identifiers(path) for path in (ct_small, GOLDEN_BIG)]
    assert [ids.library_fields() for ids in expected_plain if ids] == plain[:2] == plain[2:]

    outputs = []
    for path in (ct_small, GOLDEN_BIG):
        output = tmp_path / f"anon-{path.name}"
        anonymize_file(path, output, LIBRARY_ANONYMIZATION)
        outputs.append(read_upload_identifiers(output))
    assert [ids.library_fields() for ids in outputs if ids] == anonymized


def test_identifiers_are_trimmed_strings_with_none_for_missing_or_empty(ct_small: Path) -> None:
    identifiers = read_upload_identifiers(ct_small)
    assert identifiers == UploadIdentifiers(
        study_instance_uid="1.3.6.1.4.1.5962.1.2.1.20040119072730.12322",
        patient_name="CompressedSamples^CT1",
        patient_id="1CT1",
        series_instance_uid="1.3.6.1.4.1.5962.1.3.1.1.20040119072730.12322",
        sop_instance_uid="1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322",
    )
    without_patient_id = read_upload_identifiers(bundled("image_dfl.dcm"))
    assert without_patient_id is not None
    assert without_patient_id.patient_id is None
    assert "PatientId" not in without_patient_id.library_fields()
    # dicomParser returns a person name in its raw form, empty components and all.
    assert without_patient_id.patient_name == "^^^^"


def test_identifiers_keep_multiple_values_joined_by_backslashes(tmp_path: Path) -> None:
    dataset = minimal_dataset()
    dataset.PatientName = ["Doe^John", "Roe^Richard"]
    dataset.PatientID = ["ID-1", "ID-2 "]
    path = write_dataset(tmp_path / "multi.dcm", dataset)
    identifiers = read_upload_identifiers(path)
    assert identifiers is not None
    assert identifiers.patient_name == "Doe^John\\Roe^Richard"
    assert identifiers.patient_id == "ID-1\\ID-2"


def test_identifiers_decode_the_files_character_set() -> None:
    identifiers = read_upload_identifiers(bundled("charset_files/chrH31.dcm"))
    assert identifiers is not None
    assert identifiers.patient_name == "Yamada^Tarou=山田^太郎=やまだ^たろう"
    greek = read_upload_identifiers(bundled("charset_files/chrGreek.dcm"))
    assert greek is not None
    assert greek.patient_name == "Διονυσιος"


def test_identifiers_from_bytes_accept_a_whole_file_or_just_its_beginning(ct_small: Path) -> None:
    for path in (ct_small, GOLDEN_BIG):
        data = path.read_bytes()
        expected = read_upload_identifiers(path)
        assert read_upload_identifiers_from_bytes(data) == expected
        assert read_upload_identifiers_from_bytes(data[: 64 * 1024]) == expected


def test_identifiers_from_a_short_prefix_count_cut_off_elements_as_missing(ct_small: Path) -> None:
    identifiers = read_upload_identifiers_from_bytes(ct_small.read_bytes()[:1000])
    assert identifiers is not None
    assert identifiers.patient_name == "CompressedSamples^CT1"
    assert identifiers.study_instance_uid is None


@pytest.mark.parametrize(
    "name", ["dicomdirtests/DICOMDIR", "dicomdirtests/DICOMDIR-bigEnd", "dicomdirtests/DICOMDIR-empty.dcm"]
)
def test_a_dicomdir_has_no_upload_identifiers(name: str) -> None:
    assert read_upload_identifiers(bundled(name)) is None


# --------------------------------------------------------------------------------------------------
# Non-DICOM, broken and truncated input

NOT_DICOM = {
    "empty": b"",
    "html login page": b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>x</body></html>" * 3,
    "text": b"patient list\nnothing to see here\n" * 10,
    "png": b"\x89PNG\r\n\x1a\n" + bytes(200),
    "zip": b"PK\x03\x04" + bytes(300),
    "gzip": b"\x1f\x8b\x08\x00" + bytes(300),
    "100 zero bytes": bytes(100),
    "300 zero bytes": bytes(300),
    "json": b'{"PatientName": "Doe^John"}',
}


@pytest.mark.parametrize("content", NOT_DICOM.values(), ids=NOT_DICOM.keys())
def test_non_dicom_input_is_recognized_as_such_everywhere(content: bytes, tmp_path: Path) -> None:
    path = tmp_path / "upload.dcm"
    path.write_bytes(content)
    assert looks_like_dicom(path) is False
    assert looks_like_dicom(content) is False
    assert read_upload_identifiers(path) is None
    assert read_upload_identifiers_from_bytes(content) is None
    with pytest.raises(DicomFileError, match=r"upload\.dcm: not a DICOM file"):
        anonymize_file(path, tmp_path / "out.dcm", LIBRARY_ANONYMIZATION)
    assert not (tmp_path / "out.dcm").exists()
    result = read_dicom_files([path])
    assert [problem.message for problem in result.problems] == ["Unsupported file! FileName: upload.dcm"]


def test_pydicoms_no_meta_file_with_a_stray_leading_byte_is_not_dicom() -> None:
    assert looks_like_dicom(bundled("no_meta.dcm")) is False
    assert read_upload_identifiers(bundled("no_meta.dcm")) is None


@pytest.mark.parametrize("cut", [135, 140, 200, 300, 600, 1000, 2000])
def test_a_file_cut_inside_the_header_raises_a_typed_error_naming_the_file(
    cut: int, ct_small: Path, tmp_path: Path
) -> None:
    path = tmp_path / "cut.dcm"
    path.write_bytes(ct_small.read_bytes()[:cut])
    with pytest.raises(DicomFileError, match=r"^cut\.dcm: the file ends inside") as raised:
        read_upload_identifiers(path)
    assert "CompressedSamples" not in str(raised.value)
    assert looks_like_dicom(path) is True  # the signature is intact; only reading fails
    result = read_dicom_files([path])
    assert result.problems[0].kind is DicomReadProblemKind.UNSUPPORTED


@pytest.mark.parametrize("cut", [135, 300, 600])
def test_anonymizing_a_file_cut_inside_its_header_raises(cut: int, ct_small: Path, tmp_path: Path) -> None:
    path = tmp_path / "cut.dcm"
    path.write_bytes(ct_small.read_bytes()[:cut])
    with pytest.raises(DicomFileError, match=r"^cut\.dcm: the file ends inside"):
        anonymize_file(path, tmp_path / "out.dcm", LIBRARY_ANONYMIZATION)
    assert sorted(tmp_path.iterdir()) == [path]


def test_a_part10_signature_with_nothing_after_it_is_dicom_without_identifiers(tmp_path: Path) -> None:
    path = tmp_path / "empty-part10.dcm"
    path.write_bytes(bytes(128) + b"DICM")
    assert looks_like_dicom(path) is True
    assert read_upload_identifiers(path) == UploadIdentifiers(None, None, None, None, None)
    assert read_dicom_files([path]).problems[0].kind is DicomReadProblemKind.UNSUPPORTED


def test_a_missing_file_raises_os_error_but_is_only_reported_by_read_dicom_files(tmp_path: Path) -> None:
    missing = tmp_path / "missing.dcm"
    with pytest.raises(FileNotFoundError):
        read_upload_identifiers(missing)
    assert read_dicom_files([missing]).problems[0].message == "Unsupported file! FileName: missing.dcm"


def test_a_deflated_file_cut_inside_its_header_raises_a_typed_error(tmp_path: Path) -> None:
    original = bundled("image_dfl.dcm").read_bytes()
    path = tmp_path / "cut_deflate.dcm"
    path.write_bytes(original[: meta_end(original) + 120])
    with pytest.raises(DicomFileError, match=r"^cut_deflate\.dcm: the file ends inside"):
        read_upload_identifiers(path)
    with pytest.raises(DicomFileError, match=r"^cut_deflate\.dcm: the file ends inside"):
        anonymize_file(path, tmp_path / "out.dcm", LIBRARY_ANONYMIZATION)


def test_a_corrupt_deflated_dataset_raises_a_typed_error(tmp_path: Path) -> None:
    original = bundled("image_dfl.dcm").read_bytes()
    dataset_start = meta_end(original)
    # Overwrite the deflate stream right after the meta group with bytes zlib rejects.
    path = tmp_path / "bad_deflate.dcm"
    path.write_bytes(original[:dataset_start] + b"\xff" * 64 + original[dataset_start + 64 :])
    with pytest.raises(DicomFileError, match=r"^bad_deflate\.dcm: the DICOM header cannot be parsed"):
        read_upload_identifiers(path)


# --------------------------------------------------------------------------------------------------
# looks_like_dicom


@pytest.mark.parametrize(
    "name",
    ["CT_small.dcm", "MR_small_implicit.dcm", "image_dfl.dcm", "ExplVR_BigEndNoMeta.dcm", "rtstruct.dcm"],
)
def test_looks_like_dicom_accepts_part10_files_and_raw_datasets_with_their_uids(name: str) -> None:
    path = bundled(name)
    assert looks_like_dicom(path) is True
    assert looks_like_dicom(path.read_bytes()) is True


def test_looks_like_dicom_accepts_a_file_whose_preamble_was_cut_off(ct_small: Path, tmp_path: Path) -> None:
    path = tmp_path / "no_preamble.dcm"
    path.write_bytes(ct_small.read_bytes()[128:])
    assert looks_like_dicom(path) is True
    assert read_upload_identifiers(path) == read_upload_identifiers(ct_small)


def test_looks_like_dicom_rejects_a_raw_dataset_without_its_uids(tmp_path: Path) -> None:
    dataset = minimal_dataset()
    del dataset.SeriesInstanceUID
    path = tmp_path / "raw.dcm"
    dataset.save_as(path, implicit_vr=True, little_endian=True)
    assert looks_like_dicom(path) is False
    dataset.SeriesInstanceUID = generate_uid()
    dataset.save_as(path, implicit_vr=True, little_endian=True)
    assert looks_like_dicom(path) is True


def test_looks_like_dicom_needs_only_the_first_bytes_of_a_part10_file(ct_small: Path) -> None:
    assert looks_like_dicom(ct_small.read_bytes()[:132]) is True
    assert looks_like_dicom(ct_small.read_bytes()[:131]) is False


# --------------------------------------------------------------------------------------------------
# Anonymization: every transfer syntax and file shape

WIDE_REPLACEMENTS = {
    DicomTag.PatientName: "ANON^PATIENT",
    DicomTag.PatientId: "ANON-1",
    DicomTag.OtherPatientId: "OTHER-1",
    DicomTag.OtherPatientName: "Other^Name^X",
    DicomTag.InstitutionName: "I" * 300,
    DicomTag.InstitutionAddress: "Street 1",
    DicomTag.AccessionNumber: "ACC",
    DicomTag.StudyDescription: "undefined",
    DicomTag.ReferringPhysicianName: "Dr^Who",
    DicomTag.StudyDate: "20200229",
}
WIDE_EXPECTED = {
    DicomTag.PatientName: "ANON^PATIENT",
    DicomTag.PatientId: "ANON-1",
    DicomTag.OtherPatientId: "OTHER-1",
    DicomTag.OtherPatientName: "Other^Name^X",
    DicomTag.InstitutionName: "I" * 64,
    DicomTag.InstitutionAddress: "Street 1",
    DicomTag.AccessionNumber: "ACC",
    DicomTag.StudyDescription: "",
    DicomTag.ReferringPhysicianName: "Dr^Who",
    DicomTag.StudyDate: "20200229",
}


def no_preamble_copy(source: Path, directory: Path) -> Path:
    path = directory / f"no-preamble-{source.name}"
    path.write_bytes(source.read_bytes()[128:])
    return path


SHAPES = {
    "explicit little endian": "CT_small.dcm",
    "implicit little endian": "MR_small_implicit.dcm",
    "explicit big endian": "MR_small_bigendian.dcm",
    "big endian with group lengths": "ExplVR_BigEnd.dcm",
    "deflated": "image_dfl.dcm",
    "jpeg 2000 with group lengths": "693_J2KI.dcm",
    "jpeg 2000": "JPEG2000.dcm",
    "rle": "MR_small_RLE.dcm",
    "multi-frame jpeg baseline": "examples_ybr_color.dcm",
    "jpeg lossless, utf-8": "SC_rgb_jpeg_gdcm.dcm",
    "odd-sized big endian, utf-8": "SC_rgb_small_odd_big_endian.dcm",
    "no preamble or meta, little endian": "ExplVR_LitEndNoMeta.dcm",
    "no preamble or meta, big endian": "ExplVR_BigEndNoMeta.dcm",
    "no preamble or meta, implicit": "rtstruct.dcm",
    "implicit with private sequences": "rtplan.dcm",
    "waveform": "waveform_ecg.dcm",
}


@pytest.fixture(params=[*SHAPES.values(), "no-preamble"], ids=[*SHAPES.keys(), "preamble cut off"])
def any_shape(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    if request.param == "no-preamble":
        return no_preamble_copy(bundled("CT_small.dcm"), tmp_path)
    return bundled(str(request.param))


def test_anonymization_changes_only_present_tags_and_keeps_everything_else_byte_identical(
    any_shape: Path, tmp_path: Path
) -> None:
    output = tmp_path / "anonymized.dcm"
    present = {member for member in DicomTag if member.tag in full_read(any_shape)}

    size = anonymize_file(any_shape, output, WIDE_REPLACEMENTS)

    assert size == output.stat().st_size
    after = full_read(output)
    for member in DicomTag:
        if member in present:
            assert decoded(after, member.tag) == WIDE_EXPECTED[member], member.name
        else:
            assert member.tag not in after, f"{member.name} was added"
    assert_only_replaced_changed(any_shape, output, {member.tag for member in present})
    assert read_upload_identifiers(output) is not None


def test_anonymization_keeps_the_file_shape_and_transfer_syntax(any_shape: Path, tmp_path: Path) -> None:
    output = tmp_path / "anonymized.dcm"
    anonymize_file(any_shape, output, LIBRARY_ANONYMIZATION)
    original, anonymized = any_shape.read_bytes(), output.read_bytes()
    assert (original[128:132] == b"DICM") == (anonymized[128:132] == b"DICM")
    assert original[:4] == anonymized[:4]
    before, after = full_read(any_shape), full_read(output)
    assert before.file_meta.get("TransferSyntaxUID") == after.file_meta.get("TransferSyntaxUID")
    assert before.original_encoding == after.original_encoding


def test_anonymization_without_replacements_copies_the_file_exactly(any_shape: Path, tmp_path: Path) -> None:
    output = tmp_path / "copy.dcm"
    anonymize_file(any_shape, output, {})
    if any_shape.name == "image_dfl.dcm":
        # The deflated stream is re-compressed, so compare what it inflates to.
        assert inflated_dataset(output) == inflated_dataset(any_shape)
    else:
        assert output.read_bytes() == any_shape.read_bytes()


def meta_end(data: bytes) -> int:
    """Return where the dataset starts: after (0002,0000) and the group length it gives."""
    assert data[128:136] == b"DICM\x02\x00\x00\x00"
    return 128 + 4 + 12 + int(struct.unpack_from("<L", data, 128 + 4 + 8)[0])


def inflated_dataset(path: Path) -> bytes:
    data = path.read_bytes()
    return zlib.decompress(data[meta_end(data) :], -zlib.MAX_WBITS)


def test_deflated_output_stays_deflated_and_inflates_to_the_patched_dataset(tmp_path: Path) -> None:
    source = bundled("image_dfl.dcm")
    output = tmp_path / "anonymized.dcm"
    anonymize_file(source, output, LIBRARY_ANONYMIZATION)
    assert full_read(output).file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1.99"
    inflated = inflated_dataset(output)
    assert b"ANON^PATIENT" in inflated
    assert b"ANON-1" in inflated
    # PatientName "^^^^" (4 bytes) -> "ANON^PATIENT" (12); PatientID "" -> "ANON-1" (6).
    assert len(inflated) == len(inflated_dataset(source)) + 8 + 6


def test_the_library_anonymization_of_ct_small_changes_exactly_two_elements(
    ct_small: Path, tmp_path: Path
) -> None:
    output = tmp_path / "anonymized.dcm"
    size = anonymize_file(ct_small, output, LIBRARY_ANONYMIZATION)
    # "CompressedSamples^CT1 " (22) -> "ANON^PATIENT" (12); "1CT1" (4) -> "ANON-1" (6).
    assert size == ct_small.stat().st_size - 10 + 2
    original, anonymized = ct_small.read_bytes(), output.read_bytes()
    name_at = original.index(b"\x10\x00\x10\x00PN")
    assert anonymized[:name_at] == original[:name_at]
    assert anonymized[name_at : name_at + 8 + 12 + 8 + 6] == (
        b"\x10\x00\x10\x00PN\x0c\x00ANON^PATIENT" + b"\x10\x00\x20\x00LO\x06\x00ANON-1"
    )
    assert anonymized[name_at + 34 :] == original[name_at + 8 + 22 + 8 + 4 :]


def test_group_lengths_covering_replaced_elements_are_adjusted(tmp_path: Path) -> None:
    source = bundled("ExplVR_BigEnd.dcm")
    before = full_read(source)
    assert before[0x00100000].value == group_byte_length(source, 0x0010)
    output = tmp_path / "anonymized.dcm"
    anonymize_file(source, output, {DicomTag.PatientName: "A much longer replacement^Name"})
    after = full_read(output)
    assert after[0x00100000].value == group_byte_length(output, 0x0010)
    assert after[0x00100000].value != before[0x00100000].value
    assert after[0x00080000].value == before[0x00080000].value


def test_anonymization_overwrites_the_source_atomically_when_asked_to(ct_small: Path, tmp_path: Path) -> None:
    path = tmp_path / "in-place.dcm"
    shutil.copyfile(ct_small, path)
    anonymize_file(path, path, LIBRARY_ANONYMIZATION)
    assert_only_replaced_changed(ct_small, path, {tag.tag for tag in LIBRARY_ANONYMIZATION})
    assert sorted(tmp_path.iterdir()) == [path]


def test_anonymization_accepts_str_paths_and_library_keys(ct_small: Path, tmp_path: Path) -> None:
    output = tmp_path / "out.dcm"
    replacements = {parse_dicom_tag("x00100010"): "ANON^PATIENT"}
    anonymize_file(str(ct_small), str(output), replacements)
    assert full_read(output).PatientName == "ANON^PATIENT"


def test_a_dicomdir_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DicomFileError, match="DICOMDIR: a DICOMDIR cannot be anonymized"):
        anonymize_file(bundled("dicomdirtests/DICOMDIR"), tmp_path / "out", LIBRARY_ANONYMIZATION)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------------------------
# Anonymization: value rules


def anonymized_value(source: Path, tmp_path: Path, member: DicomTag, value: str) -> tuple[bytes, str]:
    """Return the raw bytes written for ``member`` and what pydicom decodes them to."""
    output = tmp_path / "value.dcm"
    anonymize_file(source, output, {member: value})
    dataset = full_read(output)
    raw = dataset.get_item(member.tag)
    assert isinstance(raw, RawDataElement)
    assert raw.value is not None
    return raw.value, str(dataset[member.tag].value)


def test_odd_length_values_are_padded_with_a_space(ct_small: Path, tmp_path: Path) -> None:
    raw, text = anonymized_value(ct_small, tmp_path, DicomTag.PatientName, "ABC")
    assert raw == b"ABC "
    assert text == "ABC"


def test_overlong_values_are_truncated_to_the_vrs_maximum(ct_small: Path, tmp_path: Path) -> None:
    raw, _ = anonymized_value(ct_small, tmp_path, DicomTag.InstitutionName, "Very Long Institution " * 14)
    assert len(raw) == 64
    raw, _ = anonymized_value(ct_small, tmp_path, DicomTag.AccessionNumber, "A" * 17)  # SH: 16
    assert raw == b"A" * 16
    raw, _ = anonymized_value(bundled("JPEG2000.dcm"), tmp_path, DicomTag.OtherPatientId, "1" * 65 + "\\2")
    assert raw == b"1" * 64 + b"\\2"  # per value


def test_person_names_are_truncated_per_component_group(ct_small: Path, tmp_path: Path) -> None:
    raw, text = anonymized_value(
        ct_small, tmp_path, DicomTag.PatientName, "A" * 70 + "^B=" + "C" * 70 + "=D=E"
    )
    assert text == "A" * 64 + "=" + "C" * 64 + "=D"
    assert len(raw) % 2 == 0


def test_person_names_keep_at_most_five_components(ct_small: Path, tmp_path: Path) -> None:
    _, text = anonymized_value(ct_small, tmp_path, DicomTag.PatientName, "a^b^c^d^e^f^g")
    assert text == "a^b^c^d^e f g"


def test_the_string_undefined_becomes_an_empty_value(ct_small: Path, tmp_path: Path) -> None:
    raw, text = anonymized_value(ct_small, tmp_path, DicomTag.PatientId, "undefined")
    assert (raw, text) == (b"", "")
    raw, _ = anonymized_value(ct_small, tmp_path, DicomTag.PatientId, "Undefined")
    assert raw == b"Undefined "


def test_a_backslash_cannot_start_a_second_value_of_a_single_valued_element(
    ct_small: Path, tmp_path: Path
) -> None:
    _, text = anonymized_value(ct_small, tmp_path, DicomTag.PatientName, "Doe\\John")
    assert text == "Doe John"
    output = tmp_path / "names.dcm"
    anonymize_file(bundled("JPEG2000.dcm"), output, {DicomTag.OtherPatientName: "A^B\\C^D"})
    assert [str(name) for name in full_read(output).OtherPatientNames] == ["A^B", "C^D"]


def test_control_characters_become_spaces_except_line_breaks_in_text(ct_small: Path, tmp_path: Path) -> None:
    _, text = anonymized_value(ct_small, tmp_path, DicomTag.PatientName, "A\x00B\x1bC\nD\x7f")
    assert text == "A B C D"
    dataset = minimal_dataset()
    dataset.InstitutionAddress = "Old Street 2"
    source = write_dataset(tmp_path / "with-address.dcm", dataset)
    _, text = anonymized_value(source, tmp_path, DicomTag.InstitutionAddress, "Street 1\r\nTown\\X\t\x01")
    assert text == "Street 1\r\nTown\\X\t"


@pytest.mark.parametrize("value", ["2020-01-01", "20201301", "2020010", "yesterday", "20200230"])
def test_a_study_date_must_be_a_real_date(value: str, ct_small: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidReplacementError, match=r"StudyDate \(0008,0020\) is not a date") as raised:
        anonymize_file(ct_small, tmp_path / "out.dcm", {DicomTag.StudyDate: value})
    assert value not in str(raised.value)
    assert list(tmp_path.iterdir()) == []


def test_a_bad_study_date_is_refused_even_for_a_file_without_one(tmp_path: Path) -> None:
    dataset = minimal_dataset()
    del dataset.StudyDate
    source = write_dataset(tmp_path / "no-date.dcm", dataset)
    with pytest.raises(InvalidReplacementError, match="StudyDate"):
        anonymize_file(source, tmp_path / "out.dcm", {DicomTag.StudyDate: "01/02/2020"})


@pytest.mark.parametrize(("value", "raw"), [("20240101", b"20240101"), ("", b""), ("undefined", b"")])
def test_a_study_date_may_be_replaced_or_emptied(
    value: str, raw: bytes, ct_small: Path, tmp_path: Path
) -> None:
    assert anonymized_value(ct_small, tmp_path, DicomTag.StudyDate, value)[0] == raw


def test_a_value_too_long_for_a_two_byte_length_is_refused_without_echoing_it(
    ct_small: Path, tmp_path: Path
) -> None:
    huge = "\\".join(["1" * 64] * 1100)
    with pytest.raises(InvalidReplacementError, match=r"OtherPatientId \(0010,1000\) is too long") as raised:
        anonymize_file(bundled("JPEG2000.dcm"), tmp_path / "out.dcm", {DicomTag.OtherPatientId: huge})
    assert "1111" not in str(raised.value)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("CT_small.dcm", "Müller^Jürgen", "Müller^Jürgen"),  # ISO_IR 100
        ("CT_small.dcm", "山田^太郎", "??^??"),  # not in Latin-1
        ("MR_small.dcm", "Müller", "M?ller"),  # no Specific Character Set: ASCII only
        ("SC_rgb_small_odd_big_endian.dcm", "山田^太郎=やまだ", "山田^太郎=やまだ"),  # ISO_IR 192
        ("charset_files/chrH31.dcm", "Yamada^Tarou=山田^太郎", "Yamada^Tarou=山田^太郎"),  # ISO 2022 IR 87
        ("charset_files/chrH31.dcm", "Müller", "M?ller"),
        ("charset_files/chrX2.dcm", "Wang^XiaoDong=王^小东", "Wang^XiaoDong=王^小东"),  # GB18030
        ("charset_files/chrRuss.dcm", "Иванов", "Иванов"),  # ISO_IR 144
        ("charset_files/chrGreek.dcm", "Ωμέγα", "Ωμέγα"),  # ISO_IR 126
    ],
)
def test_replacements_are_encoded_in_the_files_character_set(
    name: str, value: str, expected: str, tmp_path: Path
) -> None:
    source = bundled(name)
    _, text = anonymized_value(source, tmp_path, DicomTag.PatientName, value)
    assert text == expected
    identifiers = read_upload_identifiers(tmp_path / "value.dcm")
    assert identifiers is not None
    assert identifiers.patient_name == expected
    # The character set itself is never changed.
    assert full_read(tmp_path / "value.dcm").get("SpecificCharacterSet") == full_read(source).get(
        "SpecificCharacterSet"
    )


def test_nested_occurrences_are_left_alone_like_the_library_does(ct_small: Path, tmp_path: Path) -> None:
    output = tmp_path / "out.dcm"
    anonymize_file(ct_small, output, LIBRARY_ANONYMIZATION)
    nested = [item.PatientID for item in full_read(output).OtherPatientIDsSequence]
    assert nested == ["ABCD1234", "1234ABCD"]


# Any text Python can encode (no lone surrogates): controls, delimiters and every script included.
any_text = st.text(max_size=90)


@pytest.fixture(scope="module")
def hypothesis_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hypothesis")


HYPOTHESIS_SOURCES = [
    "CT_small.dcm",
    "MR_small.dcm",
    "MR_small_implicit.dcm",
    "SC_rgb_small_odd_big_endian.dcm",
    "charset_files/chrH31.dcm",
    "charset_files/chrH32.dcm",
    "charset_files/chrX2.dcm",
    "charset_files/chrI2.dcm",
    "JPEG2000.dcm",
    "image_dfl.dcm",
]
TEXT_TAGS = [member for member in DicomTag if member is not DicomTag.StudyDate]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    source_name=st.sampled_from(HYPOTHESIS_SOURCES),
    replacements=st.dictionaries(st.sampled_from(TEXT_TAGS), any_text | st.just("\\"), max_size=4),
)
# A value at the SH limit in an ISO 2022 file: the pad after the closing escape reads as a 17th character.
@example(
    source_name="charset_files/chrH32.dcm",
    replacements={DicomTag.AccessionNumber: "00000000000000\u00b0\u00b4"},
)
def test_any_replacement_text_yields_a_file_pydicom_reads_back(
    hypothesis_directory: Path, source_name: str, replacements: dict[DicomTag, str]
) -> None:
    source = bundled(source_name)
    output = hypothesis_directory / "out.dcm"
    anonymize_file(source, output, replacements)
    before, after = full_read(source), full_read(output)
    for member in replacements:
        if member.tag not in before:
            assert member.tag not in after
            continue
        assert encoded_length(after, member.tag) % 2 == 0
        str(after[member.tag].value)  # decodes without a warning (warnings are errors here)
    assert read_upload_identifiers(output) == _with_replaced_names(read_upload_identifiers(source), output)
    if "PixelData" in before:
        assert after.PixelData == before.PixelData


def _with_replaced_names(original: UploadIdentifiers | None, output: Path) -> UploadIdentifiers | None:
    """The UIDs must survive; names and IDs are whatever was written."""
    anonymized = read_upload_identifiers(output)
    assert original is not None
    assert anonymized is not None
    return UploadIdentifiers(
        study_instance_uid=original.study_instance_uid,
        patient_name=anonymized.patient_name,
        patient_id=anonymized.patient_id,
        series_instance_uid=original.series_instance_uid,
        sop_instance_uid=original.sop_instance_uid,
    )


# --------------------------------------------------------------------------------------------------
# Memory: a large file is streamed, never held


def minimal_dataset() -> Dataset:
    dataset = Dataset()
    dataset.SpecificCharacterSet = "ISO_IR 100"
    dataset.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    dataset.SOPInstanceUID = generate_uid()
    dataset.StudyDate = "20240101"
    dataset.AccessionNumber = "ACC-1"
    dataset.Modality = "CT"
    dataset.InstitutionName = "Big Hospital"
    dataset.PatientName = "Big^File"
    dataset.PatientID = "BIG-2"
    dataset.StudyInstanceUID = generate_uid()
    dataset.SeriesInstanceUID = generate_uid()
    return dataset


def write_dataset(path: Path, dataset: Dataset) -> Path:
    dataset.file_meta = FileMetaDataset()
    dataset.file_meta.MediaStorageSOPClassUID = dataset.SOPClassUID
    dataset.file_meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
    dataset.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset.save_as(path, enforce_file_format=True)
    return path


PIXEL_BYTES = 10240 * 10240 * 2  # 200 MiB
TRAILING_PADDING = b"\xfc\xff\xfc\xffOB\x00\x00" + struct.pack("<L", 16) + bytes(16)


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A 200 MiB CT written in chunks: header, pixel data, then trailing padding after it."""
    path = tmp_path_factory.mktemp("big") / "big.dcm"
    dataset = minimal_dataset()
    dataset.Rows = dataset.Columns = 10240
    dataset.BitsAllocated, dataset.BitsStored, dataset.HighBit = 16, 12, 11
    dataset.SamplesPerPixel, dataset.PixelRepresentation = 1, 0
    dataset.PhotometricInterpretation = "MONOCHROME2"
    write_dataset(path, dataset)
    chunk = bytes(range(256)) * 4096  # 1 MiB with a pattern, so misplaced bytes would show
    with path.open("ab") as output:
        output.write(b"\xe0\x7f\x10\x00OW\x00\x00" + struct.pack("<L", PIXEL_BYTES))
        for _ in range(PIXEL_BYTES // len(chunk)):
            output.write(chunk)
        output.write(TRAILING_PADDING)
    yield path
    path.unlink()


def test_anonymizing_a_200_mib_file_keeps_python_allocations_flat(big_file: Path, tmp_path: Path) -> None:
    output = tmp_path / "big-anonymized.dcm"
    tracemalloc.start()
    try:
        size = anonymize_file(big_file, output, LIBRARY_ANONYMIZATION)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # "Big^File" (8 bytes) -> "ANON^PATIENT" (12); "BIG-2 " (6) -> "ANON-1" (6).
    assert size == big_file.stat().st_size + 4
    assert peak < 8 * 1024 * 1024, f"peak Python allocation {peak} bytes"
    with output.open("rb") as anonymized, big_file.open("rb") as original:
        anonymized.seek(-len(TRAILING_PADDING) - 4096, os.SEEK_END)
        original.seek(-len(TRAILING_PADDING) - 4096, os.SEEK_END)
        assert anonymized.read() == original.read()
    header = pydicom.dcmread(output, stop_before_pixels=True)
    assert (header.PatientName, header.PatientID) == ("ANON^PATIENT", "ANON-1")


def test_reading_identifiers_of_a_200_mib_file_reads_only_its_header(big_file: Path) -> None:
    tracemalloc.start()
    try:
        identifiers = read_upload_identifiers(big_file)
        assert looks_like_dicom(big_file)
        read_dicom_files([big_file])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert identifiers is not None
    assert identifiers.patient_name == "Big^File"
    assert peak < 1024 * 1024, f"peak Python allocation {peak} bytes"


def test_a_large_deflated_file_is_inflated_and_deflated_in_bounded_memory(tmp_path: Path) -> None:
    dataset = minimal_dataset()
    dataset.Rows, dataset.Columns = 4096, 4096
    dataset.BitsAllocated, dataset.BitsStored, dataset.HighBit = 16, 16, 15
    dataset.SamplesPerPixel, dataset.PixelRepresentation = 1, 0
    dataset.PhotometricInterpretation = "MONOCHROME2"
    dataset.PixelData = bytes(range(256)) * (4096 * 4096 * 2 // 256)  # 32 MiB
    dataset.file_meta = FileMetaDataset()
    dataset.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    source = tmp_path / "deflated.dcm"
    dataset.save_as(source, enforce_file_format=True)
    del dataset

    output = tmp_path / "deflated-anonymized.dcm"
    tracemalloc.start()
    try:
        anonymize_file(source, output, LIBRARY_ANONYMIZATION)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024, f"peak Python allocation {peak} bytes"
    assert_only_replaced_changed(source, output, {tag.tag for tag in LIBRARY_ANONYMIZATION})


# --------------------------------------------------------------------------------------------------
# ReadDicomFiles


def dicomdir_tree() -> Path:
    return bundled("dicomdirtests/DICOMDIR").parent


def test_read_dicom_files_groups_by_study_and_series_and_reports_what_it_leaves_out(
    ct_small: Path, tmp_path: Path
) -> None:
    tree = dicomdir_tree()
    mr_study = sorted(path for path in (tree / "98892003").rglob("*") if path.is_file())
    duplicate = tmp_path / "copy-of-ct.dcm"
    shutil.copyfile(ct_small, duplicate)
    readme = bundled("README.txt")
    paths = [ct_small, *mr_study, duplicate, readme, tree / "DICOMDIR", GOLDEN_BIG]

    result = read_dicom_files(paths)

    assert result.message == "Completed"
    assert result.progress == 100
    assert [study.study_instance_uid for study in result.study_list] == [
        "1.3.6.1.4.1.5962.1.2.1.20040119072730.12322",
        "1.3.6.1.4.1.5962.1.1.0.0.0.1196533885.18148.0.427",
        "1.3.6.1.4.1.5962.1.1.0.0.0.1196533885.18148.0.133",
        "1.3.6.1.4.1.5962.1.1.0.0.0.1196533885.18148.0.1",
        "1.2.826.0.1.3680043.8.498.2001",
    ]
    ct, *mr_studies, big = result.study_list
    assert ct.file_list == (ct_small,)
    assert (ct.patient_name, ct.patient_id, ct.modality, ct.study_date) == (
        "CompressedSamples^CT1",
        "1CT1",
        "CT",
        "20040119",
    )
    assert ct.transfer_syntax_uid == "1.2.840.10008.1.2.1"
    assert ct.accession_number is None  # present but empty
    assert ct.institution_name == "JFK IMAGING CENTER"
    assert ct.series_list[0].series_date == "19970430"
    assert sum(len(study.file_list) for study in mr_studies) == len(mr_study)
    for study in mr_studies:
        assert study.patient_name == "Doe^Peter"
        in_series = {image for series in study.series_list for image in series.image_list}
        assert set(study.image_list) == in_series
        assert len(study.image_list) == len(study.file_list)
    assert [len(series.image_list) for series in mr_studies[2].series_list] == [1, 3, 7]
    assert big.accession_number == "AN-BIG"
    assert [(problem.kind, problem.file_name, problem.message) for problem in result.problems] == [
        (DicomReadProblemKind.DUPLICATE_SOP_INSTANCE, "copy-of-ct.dcm", DUPLICATE_SOP_INSTANCE_MESSAGE),
        (DicomReadProblemKind.UNSUPPORTED, "README.txt", "Unsupported file! FileName: README.txt"),
        (DicomReadProblemKind.DICOMDIR, "DICOMDIR", "DICOMDIR skipped! FileName: DICOMDIR"),
    ]


def test_read_dicom_files_dumps_with_the_librarys_field_names(ct_small: Path) -> None:
    dumped = read_dicom_files([ct_small]).model_dump(mode="json", by_alias=True)
    assert list(dumped) == ["Message", "Progress", "StudyList", "Problems"]
    study = dumped["StudyList"][0]
    assert list(study) == [
        "PatientName",
        "OtherPatientName",
        "PatientId",
        "OtherPatientId",
        "AccessionNumber",
        "Modality",
        "StudyDate",
        "StudyInstanceUid",
        "StudyDescription",
        "ReferringPhysicianName",
        "InstitutionName",
        "InstitutionAddress",
        "TransferSyntaxUid",
        "SeriesList",
        "FileList",
        "ImageList",
    ]
    assert study["SeriesList"] == [
        {
            "SeriesDate": "19970430",
            "SeriesInstanceUid": "1.3.6.1.4.1.5962.1.3.1.1.20040119072730.12322",
            "ImageList": [{"SopInstanceUid": "1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322"}],
        }
    ]
    assert study["FileList"] == [str(ct_small)]
    assert study["ImageList"] == study["SeriesList"][0]["ImageList"]


@pytest.mark.parametrize(
    "name",
    [
        "dicomdirtests/DICOMDIR",
        "dicomdirtests/DICOMDIR-bigEnd",
        "dicomdirtests/DICOMDIR-implicit",
        "dicomdirtests/DICOMDIR-empty.dcm",
        "dicomdirtests/DICOMDIR-reordered",
        "dicomdirtests/TINY_ALPHA/DICOMDIR",
    ],
)
def test_every_dicomdir_variant_is_skipped_and_reported(name: str, ct_small: Path) -> None:
    result = read_dicom_files([bundled(name), ct_small])
    assert [problem.kind for problem in result.problems] == [DicomReadProblemKind.DICOMDIR]
    assert len(result.study_list) == 1


def test_a_dicomdir_renamed_to_something_else_is_still_recognized(tmp_path: Path) -> None:
    renamed = tmp_path / "index.dcm"
    shutil.copyfile(bundled("dicomdirtests/DICOMDIR"), renamed)
    assert read_dicom_files([renamed]).problems[0].kind is DicomReadProblemKind.DICOMDIR


def test_read_dicom_files_reads_gzip_only_as_unsupported(tmp_path: Path, ct_small: Path) -> None:
    packed = tmp_path / "ct.dcm.gz"
    packed.write_bytes(gzip.compress(ct_small.read_bytes()))
    assert read_dicom_files([packed]).problems[0].kind is DicomReadProblemKind.UNSUPPORTED


def test_read_dicom_files_of_nothing_is_an_empty_completed_result() -> None:
    result = read_dicom_files([])
    assert (result.message, result.progress, result.study_list, result.problems) == ("Completed", 100, (), ())


# --------------------------------------------------------------------------------------------------
# Independent parsers: dcmtk's dcmdump and dicom3tools' dciodvfy


def tool(name: str) -> str:
    """Return the path of a Debian DICOM tool; under CI its absence is a failure, not a skip."""
    return require_tool(name)


def run_tool(*command: str) -> subprocess.CompletedProcess[str]:
    # The command is a fixed tool path and a test file path: nothing comes from outside the test.
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)  # noqa: S603


def error_lines(output: str) -> set[str]:
    return {line.strip() for line in output.splitlines() if "Error" in line}


def test_dcmdump_parses_every_anonymized_shape_cleanly(any_shape: Path, tmp_path: Path) -> None:
    dcmdump = tool("dcmdump")
    output = tmp_path / "anonymized.dcm"
    anonymize_file(any_shape, output, WIDE_REPLACEMENTS)
    before = run_tool(dcmdump, "-q", str(any_shape))
    after = run_tool(dcmdump, "-q", str(output))
    assert after.returncode == before.returncode
    if before.returncode == 0:
        assert after.returncode == 0, after.stderr
        assert "ANON^PATIENT" in after.stdout or "PatientName" not in before.stdout
        assert after.stderr == before.stderr


@pytest.mark.parametrize(
    "name",
    [name for name in SHAPES.values() if name != "image_dfl.dcm"],  # dciodvfy cannot read deflate
)
def test_dciodvfy_finds_no_new_errors_after_anonymization(name: str, tmp_path: Path) -> None:
    dciodvfy = tool("dciodvfy")
    source = bundled(name)
    output = tmp_path / "anonymized.dcm"
    anonymize_file(source, output, WIDE_REPLACEMENTS)
    before = error_lines(run_tool(dciodvfy, str(source)).stderr)
    after = error_lines(run_tool(dciodvfy, str(output)).stderr)
    assert after - before == set()
