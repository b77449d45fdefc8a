"""One DICOM file: identifiers, truncation anywhere, missing UIDs, DICOMDIRs, Part 10 wrapping."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest

from bot.dicom import (
    DicomDirectory,
    DicomInstance,
    DicomRejected,
    FileRegion,
    Problem,
    inspect_dicom,
    write_part10,
)
from tests.dicom.samples import CT_SMALL, LOGIN_PAGE, ct_image, deeply_nested, pydicom_file, write


def instance(path: Path) -> DicomInstance:
    found = inspect_dicom(path)
    assert isinstance(found, DicomInstance)
    return found


def problem(path: Path) -> Problem:
    with pytest.raises(DicomRejected) as caught:
        inspect_dicom(path)
    return caught.value.problem


def test_a_whole_file_gives_its_identifiers_and_study() -> None:
    found = instance(CT_SMALL)
    assert found.sop_instance_uid == "1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322"
    assert found.study_instance_uid == "1.3.6.1.4.1.5962.1.2.1.20040119072730.12322"
    assert (found.modality, found.study_date) == ("CT", "2004-01-19")
    assert not found.needs_wrapping


@pytest.mark.parametrize(
    "name",
    [
        "MR_small_implicit.dcm",
        "MR_small_bigendian.dcm",
        "JPEG2000.dcm",
        "image_dfl.dcm",
        "reportsi.dcm",
        "examples_ybr_color.dcm",
        "waveform_ecg.dcm",
        "MR_small_RLE.dcm",
        "rtdose.dcm",
    ],
)
def test_other_transfer_syntaxes_and_objects_pass(name: str) -> None:
    assert instance(pydicom_file(name)).sop_instance_uid


@pytest.mark.parametrize(
    ("cut", "expected"),
    [
        # Cut between two elements, a file cannot be told from one written without the rest:
        # it is refused for what it lacks.
        (600, Problem.MISSING_UIDS),
        (2000, Problem.MISSING_UIDS),
        (6290, Problem.NO_PIXEL_DATA),
        # Cut inside a value, it is truncated.
        (5000, Problem.TRUNCATED),
        (7000, Problem.TRUNCATED),
        (38206, Problem.TRUNCATED),
        (39205, Problem.TRUNCATED),
    ],
)
def test_a_file_cut_short_anywhere_is_refused(tmp_path: Path, cut: int, expected: Problem) -> None:
    path = write(tmp_path / "cut.dcm", CT_SMALL.read_bytes()[:cut])
    assert problem(path) is expected


@pytest.mark.parametrize("name", ["MR_truncated.dcm", "rtplan_truncated.dcm"])
def test_pydicoms_truncated_samples_are_truncated(name: str) -> None:
    assert problem(pydicom_file(name)) is Problem.TRUNCATED


def test_pixel_data_shorter_than_the_image_needs_is_truncated(tmp_path: Path) -> None:
    data = ct_image(rows=64, columns=64)
    dataset = pydicom.dcmread(pydicom.filebase.DicomBytesIO(data))
    dataset.PixelData = dataset.PixelData[:4096]
    dataset.save_as(tmp_path / "short.dcm", enforce_file_format=True)
    with pytest.raises(DicomRejected) as caught:
        inspect_dicom(tmp_path / "short.dcm")
    assert caught.value.problem is Problem.TRUNCATED
    assert "4096 of the 8192 bytes" in caught.value.message


def test_encapsulated_pixel_data_cut_inside_a_fragment_is_truncated(tmp_path: Path) -> None:
    data = pydicom_file("JPEG2000.dcm").read_bytes()
    assert problem(write(tmp_path / "j2k.dcm", data[:-200])) is Problem.TRUNCATED


def test_files_without_the_key_uids_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "x.dcm", ct_image(omit=["SeriesInstanceUID"]))
    with pytest.raises(DicomRejected) as caught:
        inspect_dicom(path)
    assert caught.value.problem is Problem.MISSING_UIDS
    assert caught.value.message == "it has no Series Instance UID"


def test_web_pages_and_junk_are_not_dicom(tmp_path: Path) -> None:
    assert problem(write(tmp_path / "page.dcm", LOGIN_PAGE)) is Problem.NOT_DICOM
    assert problem(write(tmp_path / "empty.dcm", b"")) is Problem.NOT_DICOM
    assert problem(pydicom_file("no_meta.dcm")) is Problem.NOT_DICOM


def test_a_dicomdir_is_recognised_and_not_an_instance() -> None:
    assert isinstance(inspect_dicom(pydicom_file("dicomdirtests/DICOMDIR")), DicomDirectory)


def test_messages_never_quote_values_from_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "x.dcm", ct_image(patient="SECRET^NAME", omit=["StudyInstanceUID"]))
    with pytest.raises(DicomRejected) as caught:
        inspect_dicom(path)
    assert "SECRET" not in str(caught.value)


def test_a_file_missing_its_preamble_is_wrapped_back_into_part10(tmp_path: Path) -> None:
    source = write(tmp_path / "bare.dcm", CT_SMALL.read_bytes()[128:])
    found = instance(source)
    assert found.needs_wrapping
    size = write_part10(source, tmp_path / "fixed.dcm", found)
    fixed = (tmp_path / "fixed.dcm").read_bytes()
    assert fixed[:128] == b"\x00" * 128
    assert fixed[128:] == CT_SMALL.read_bytes()[128:]
    assert size == CT_SMALL.stat().st_size


@pytest.mark.parametrize("name", ["ExplVR_LitEndNoMeta.dcm", "rtstruct.dcm"])
def test_a_raw_dataset_gets_file_meta_and_reads_as_part10(tmp_path: Path, name: str) -> None:
    found = instance(pydicom_file(name))
    assert found.needs_wrapping
    write_part10(pydicom_file(name), tmp_path / "wrapped.dcm", found)
    rewrapped = instance(tmp_path / "wrapped.dcm")
    assert not rewrapped.needs_wrapping
    assert rewrapped.sop_instance_uid == found.sop_instance_uid
    dataset = pydicom.dcmread(tmp_path / "wrapped.dcm")
    assert dataset.file_meta.TransferSyntaxUID == found.layout.transfer_syntax_uid


# A region of a file (a member stored in a zip) reads as a file of its own: never a byte beyond it.

FILLER = b"PK\x03\x04" + bytes(range(256)) * 64


def region_of(tmp_path: Path, data: bytes) -> FileRegion:
    path = write(tmp_path / "holder", FILLER + data + FILLER)
    return FileRegion(path, len(FILLER), len(data))


def test_a_region_is_inspected_as_the_file_it_holds(tmp_path: Path) -> None:
    found = inspect_dicom(region_of(tmp_path, CT_SMALL.read_bytes()))
    assert found == instance(CT_SMALL)


@pytest.mark.parametrize(
    ("cut", "expected"),
    [
        (600, Problem.MISSING_UIDS),
        (6290, Problem.NO_PIXEL_DATA),
        (38206, Problem.TRUNCATED),
        (39205, Problem.TRUNCATED),
    ],
)
def test_a_region_cut_short_is_refused_whatever_follows_it(
    tmp_path: Path, cut: int, expected: Problem
) -> None:
    # The bytes after the region would complete the pixel data if the view let them be read.
    with pytest.raises(DicomRejected) as caught:
        inspect_dicom(region_of(tmp_path, CT_SMALL.read_bytes()[:cut]))
    assert caught.value.problem is expected


def test_a_region_missing_its_preamble_is_wrapped_from_where_it_lies(tmp_path: Path) -> None:
    region = region_of(tmp_path, CT_SMALL.read_bytes()[128:])
    found = inspect_dicom(region)
    assert isinstance(found, DicomInstance)
    assert found.needs_wrapping
    size = write_part10(region, tmp_path / "fixed.dcm", found)
    assert (tmp_path / "fixed.dcm").read_bytes() == b"\x00" * 128 + CT_SMALL.read_bytes()[128:]
    assert size == CT_SMALL.stat().st_size


def test_a_sequence_nested_500_deep_is_refused_as_too_deep(tmp_path: Path) -> None:
    shallow = write(tmp_path / "shallow.dcm", deeply_nested(10))
    assert isinstance(inspect_dicom(shallow), DicomInstance)
    deep = write(tmp_path / "deep.dcm", deeply_nested(500))
    assert problem(deep) is Problem.TOO_DEEP


def test_an_image_without_pixel_data_says_so(tmp_path: Path) -> None:
    dataset = pydicom.dcmread(pydicom.filebase.DicomBytesIO(ct_image()))
    del dataset.PixelData
    dataset.save_as(tmp_path / "header-only.dcm", enforce_file_format=True)
    with pytest.raises(DicomRejected) as caught:
        inspect_dicom(tmp_path / "header-only.dcm")
    assert caught.value.problem is Problem.NO_PIXEL_DATA
    assert caught.value.message == "it is an image without pixel data"


def test_a_complete_file_without_its_study_says_which_uid_it_lacks(tmp_path: Path) -> None:
    path = write(tmp_path / "x.dcm", ct_image(omit=["StudyInstanceUID"]))
    with pytest.raises(DicomRejected) as caught:
        inspect_dicom(path)
    assert caught.value.problem is Problem.MISSING_UIDS
    assert caught.value.message == "it has no Study Instance UID"
