"""De-identification to DICOM PS3.15 Annex E: Table E.1-1 attribute by attribute, UIDs, dates, pixels."""

from __future__ import annotations

import datetime
import re
import shutil
import subprocess
import warnings
from pathlib import Path

import pydicom
import pytest
from pydicom.datadict import dictionary_VR, keyword_for_tag
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian

from bot.dicom.confidentiality_profile import EDITION, TABLE_E_1_1
from bot.dicom.deidentify import (
    Action,
    DeidentificationOptions,
    DeidentificationRefused,
    Deidentifier,
    PixelRisk,
    date_shift_days,
    profile_actions,
)
from tests.dicom.samples import CT_SMALL, MR_SMALL, ct_image, new_uid, pydicom_file

KEY = b"a key of thirty-two bytes, fixed"
# A sequence Table E.1-1 does not name: kept, with every item cleaned by the table.
KEPT_SEQUENCE = "DerivationCodeSequence"


def read(path: Path) -> Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(path)


def sample_value(tag: int, vr: str, index: int) -> object:
    """Return an identifying-looking value of ``vr`` that differs from every dummy."""
    values: dict[str, object] = {
        "AE": "SECRETAE",
        "AS": "045Y",
        "CS": "SECRET",
        "DA": "20200315",
        "DS": "1.5",
        "DT": "20200315101112",
        "IS": "7",
        "LO": "SECRET LO",
        "LT": "SECRET LT",
        "PN": "DOE^JOHN",
        "SH": "SECRET SH",
        "ST": "SECRET ST",
        "TM": "101112",
        "UC": "SECRET UC",
        "UR": "http://hospital.example/patient",
        "UT": "SECRET UT",
        "UI": f"1.2.826.0.1.3680043.8.498.{tag}.{index}",
        "US": 5,
        "SS": 5,
        "UL": 5,
        "SL": 5,
        "FL": 1.5,
        "FD": 1.5,
        "OB": b"\x01\x02",
        "OW": b"\x01\x02",
        "UN": b"\x01\x02",
    }
    return values[vr]


def table_rows() -> list[tuple[int, str, str]]:
    """Return (tag, VR, keyword) of each Table E.1-1 row pydicom's dictionary knows, bar file meta."""
    rows = []
    for row in TABLE_E_1_1:
        digits = row.tag.strip("()").replace(",", "")
        if not re.fullmatch(r"[0-9A-F]{8}", digits):
            continue
        tag = int(digits, 16)
        if tag >> 16 in (0x0000, 0x0002):
            continue  # command elements never sit in a file; the file meta is rebuilt, tested apart
        try:
            vr = dictionary_VR(tag).split(" or ")[0]
        except KeyError:
            continue
        rows.append((tag, vr, keyword_for_tag(tag)))
    return rows


def fill(dataset: Dataset, rows: list[tuple[int, str, str]]) -> None:
    for index, (tag, vr, _) in enumerate(rows):
        if vr == "SQ":
            item = Dataset()
            item.PatientName = "DOE^JOHN"
            item.CodeValue = "KEPT"
            dataset.add_new(tag, vr, Sequence([item]))
        else:
            dataset.add_new(tag, vr, sample_value(tag, vr, index))


def full_table_instance(path: Path) -> Path:
    """Write a CT instance holding every attribute of the table, at the top and inside a kept sequence."""
    rows = table_rows()
    dataset = read(CT_SMALL)
    fill(dataset, rows)
    nested = Dataset()
    fill(nested, rows)
    dataset[KEPT_SEQUENCE] = pydicom.DataElement(0x00089215, "SQ", Sequence([nested]))
    # The instance's own UIDs stay real ones.
    dataset.SOPInstanceUID = new_uid()
    dataset.StudyInstanceUID = new_uid()
    dataset.SeriesInstanceUID = new_uid()
    dataset.file_meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
    dataset.BurnedInAnnotation = "NO"
    block = dataset.private_block(0x0099, "HOSPITAL PRIVATE", create=True)
    block.add_new(0x01, "LO", "PRIVATE PATIENT NOTE")
    nested_block = nested.private_block(0x0099, "HOSPITAL PRIVATE", create=True)
    nested_block.add_new(0x01, "LO", "PRIVATE NESTED NOTE")
    dataset.save_as(path, enforce_file_format=True)
    return path


def check_row(original: Dataset, result: Dataset, tag: int, vr: str, action: Action, where: str) -> None:
    name = f"{keyword_for_tag(tag)} {where}"
    before = original[tag]
    if action is Action.REMOVE:
        assert tag not in result, name
        return
    assert tag in result, name
    after = result[tag]
    if vr == "SQ":
        if action is Action.EMPTY:
            assert len(after.value) == 0, name
        else:
            # Kept or dummied sequences keep their items, cleaned: PatientName (Z) empty inside.
            assert len(after.value) == 1, name
            assert not after.value[0].PatientName, name
            assert after.value[0].CodeValue == "KEPT", name
        return
    if action is Action.EMPTY:
        assert after.value in (None, "", b""), name
    elif action is Action.DUMMY:
        assert after.value not in (None, "", b""), name
        assert after.value != before.value, name
    elif action is Action.NEW_UID:
        assert str(after.value).startswith("2.25."), name
        assert after.value == Deidentifier(KEY).new_uid(str(before.value)), name
    elif action is Action.KEEP:
        assert after.value == before.value, name


def test_every_attribute_of_table_e_1_1_gets_its_action_at_the_top_and_inside_a_sequence(
    tmp_path: Path,
) -> None:
    source = full_table_instance(tmp_path / "full.dcm")
    done = Deidentifier(KEY).deidentify_file(source, tmp_path / "out")
    original, result = read(source), read(done.path)
    actions = profile_actions(DeidentificationOptions())
    rows = table_rows()
    assert len(rows) > 550  # nearly all 621 rows name one tag pydicom knows
    nested_before = original[KEPT_SEQUENCE].value[0]
    nested_after = result[KEPT_SEQUENCE].value[0]
    for tag, vr, _ in rows:
        if tag in (0x00080018, 0x0020000D, 0x0020000E):
            continue  # the instance's own UIDs: checked below
        check_row(original, result, tag, vr, actions[tag], "at the top")
        check_row(nested_before, nested_after, tag, vr, actions[tag], f"in {KEPT_SEQUENCE}")
    assert result.SOPInstanceUID == Deidentifier(KEY).new_uid(original.SOPInstanceUID)
    assert done.path.name == f"{result.SOPInstanceUID}.dcm"
    assert result.file_meta.MediaStorageSOPInstanceUID == result.SOPInstanceUID


def test_the_table_is_the_standards_with_its_actions(tmp_path: Path) -> None:
    assert EDITION == "2024b"
    assert len(TABLE_E_1_1) == 621
    actions = profile_actions(DeidentificationOptions())
    assert actions[0x00100010] is Action.EMPTY  # PatientName: Z
    assert actions[0x00100030] is Action.EMPTY  # PatientBirthDate: Z
    assert actions[0x00101040] is Action.REMOVE  # PatientAddress: X
    assert actions[0x00081070] is Action.DUMMY  # OperatorsName: X/Z/D
    assert actions[0x00101010] is Action.REMOVE  # PatientAge: X
    assert actions[0x0020000D] is Action.NEW_UID  # StudyInstanceUID: U
    assert actions[0x00081140] is Action.KEEP  # ReferencedImageSequence: X/Z/U*
    assert 0x00080060 not in actions  # Modality is not in the table: kept


def test_private_attributes_go_everywhere_and_ct_small_keeps_no_phi(tmp_path: Path) -> None:
    source = full_table_instance(tmp_path / "full.dcm")
    result = read(Deidentifier(KEY).deidentify_file(source, tmp_path / "out").path)
    assert not [element for element in result if element.tag.is_private]
    assert not [element for element in result[KEPT_SEQUENCE].value[0] if element.tag.is_private]

    ct = read(Deidentifier(KEY).deidentify_file(CT_SMALL, tmp_path / "ct").path)
    original = read(CT_SMALL)
    assert sum(1 for element in original if element.tag.is_private) > 100
    assert not [element for element in ct if element.tag.is_private]
    assert "OtherPatientIDsSequence" in original
    assert "OtherPatientIDsSequence" not in ct
    assert not ct.PatientName
    assert not ct.PatientBirthDate
    assert "PatientAge" not in ct
    assert ct.PatientIdentityRemoved == "YES"
    assert ct.LongitudinalTemporalInformationModified == "REMOVED"
    assert [item.CodeValue for item in ct.DeidentificationMethodCodeSequence] == ["113100"]
    assert "2024b" in str(ct.DeidentificationMethod)
    assert b"CompressedSamples" in CT_SMALL.read_bytes()  # CT_small's PatientName
    assert b"CompressedSamples" not in (tmp_path / "ct" / f"{ct.SOPInstanceUID}.dcm").read_bytes()


def study_of_two_series(directory: Path) -> tuple[list[Path], dict[str, str]]:
    """Write four instances, two per series, the fourth referring to the first."""
    directory.mkdir()
    uids = {"study": new_uid(), "series1": new_uid(), "series2": new_uid()}
    paths = []
    for number, series in enumerate(("series1", "series1", "series2", "series2"), start=1):
        uids[f"sop{number}"] = new_uid()
        path = directory / f"{number}.dcm"
        path.write_bytes(ct_image(study=uids["study"], series=uids[series], sop=uids[f"sop{number}"]))
        paths.append(path)
    fourth = read(paths[3])
    reference = Dataset()
    reference.ReferencedSOPClassUID = CTImageStorage
    reference.ReferencedSOPInstanceUID = uids["sop1"]
    fourth.ReferencedImageSequence = Sequence([reference])
    fourth.save_as(paths[3], enforce_file_format=True)
    return paths, uids


def test_uids_stay_consistent_across_a_multi_series_study_and_across_a_retry(tmp_path: Path) -> None:
    paths, uids = study_of_two_series(tmp_path / "study")
    first = [Deidentifier(KEY).deidentify_file(path, tmp_path / "first") for path in paths]
    retry = [Deidentifier(KEY).deidentify_file(path, tmp_path / "retry") for path in paths]
    other_key = Deidentifier(b"another key, also 32 bytes long!").deidentify_file(
        paths[0], tmp_path / "other"
    )
    results = [read(done.path) for done in first]
    assert len({result.StudyInstanceUID for result in results}) == 1
    assert results[0].StudyInstanceUID != uids["study"]
    assert results[0].SeriesInstanceUID == results[1].SeriesInstanceUID
    assert results[2].SeriesInstanceUID == results[3].SeriesInstanceUID
    assert results[0].SeriesInstanceUID != results[2].SeriesInstanceUID
    assert len({result.SOPInstanceUID for result in results}) == 4
    assert results[3].ReferencedImageSequence[0].ReferencedSOPInstanceUID == results[0].SOPInstanceUID
    assert [done.sop_instance_uid for done in retry] == [done.sop_instance_uid for done in first]
    assert [done.path.read_bytes() for done in retry] == [done.path.read_bytes() for done in first]
    assert other_key.sop_instance_uid != first[0].sop_instance_uid
    assert all(len(done.sop_instance_uid) <= 64 for done in first)


def test_modified_dates_move_one_patients_dates_by_one_offset(tmp_path: Path) -> None:
    options = DeidentificationOptions(retain_modified_dates=True)
    study_a = tmp_path / "a.dcm"
    study_b = tmp_path / "b.dcm"
    other = tmp_path / "other.dcm"
    study_a.write_bytes(ct_image(patient_id="PID-7", study_date="20200315"))
    study_b.write_bytes(ct_image(patient_id="PID-7", study_date="20210101"))
    other.write_bytes(ct_image(patient_id="PID-8", study_date="20200315"))
    dataset = read(study_a)
    dataset.SeriesDate = "20200315"
    dataset.AcquisitionDateTime = "20200315101112.5+0100"
    dataset.StudyTime = "101112"
    dataset.save_as(study_a, enforce_file_format=True)
    deidentifier = Deidentifier(KEY, options)
    a = read(deidentifier.deidentify_file(study_a, tmp_path / "out").path)
    b = read(deidentifier.deidentify_file(study_b, tmp_path / "out").path)
    c = read(deidentifier.deidentify_file(other, tmp_path / "out").path)
    shift = date_shift_days(KEY, "\x00PID-7")
    assert -3650 <= shift < 0

    def day(text: str) -> datetime.date:
        return datetime.date(int(text[:4]), int(text[4:6]), int(text[6:8]))

    assert (day(a.StudyDate) - day("20200315")).days == shift
    assert a.SeriesDate == a.StudyDate
    assert a.AcquisitionDateTime == a.StudyDate + "101112.5+0100"
    assert a.StudyTime == "101112"
    assert (day(b.StudyDate) - day(a.StudyDate)).days == (day("20210101") - day("20200315")).days
    assert c.StudyDate != a.StudyDate
    assert a.LongitudinalTemporalInformationModified == "MODIFIED"
    assert [item.CodeValue for item in a.DeidentificationMethodCodeSequence] == ["113100", "113107"]
    plain = read(Deidentifier(KEY).deidentify_file(study_a, tmp_path / "plain").path)
    assert not plain.StudyDate  # Z
    assert plain.SeriesDate == "19000101"  # X/D: a dummy keeps the attribute where an IOD needs it


def test_patient_characteristics_are_kept_only_with_their_option(tmp_path: Path) -> None:
    source = tmp_path / "ct.dcm"
    dataset = read(CT_SMALL)
    dataset.PatientSex = "F"
    dataset.PatientAge = "045Y"
    dataset.PatientWeight = "70"
    dataset.PatientSize = "1.7"
    dataset.save_as(source, enforce_file_format=True)
    kept = read(
        Deidentifier(KEY, DeidentificationOptions(retain_patient_characteristics=True))
        .deidentify_file(source, tmp_path / "kept")
        .path
    )
    assert (kept.PatientSex, kept.PatientAge, kept.PatientWeight, kept.PatientSize) == ("F", "045Y", 70, 1.7)
    assert "113108" in [item.CodeValue for item in kept.DeidentificationMethodCodeSequence]
    plain = read(Deidentifier(KEY).deidentify_file(source, tmp_path / "plain").path)
    assert not plain.PatientSex
    assert "PatientAge" not in plain
    assert "PatientWeight" not in plain
    assert "PatientSize" not in plain


def test_the_users_values_win_over_the_profiles_dummies(tmp_path: Path) -> None:
    overrides = {
        "PatientName": "TEACHING^CASE",
        "PatientID": "TC-1",
        "InstitutionName": "",
        "StudyDate": "20200101",
    }
    result = read(Deidentifier(KEY, overrides=overrides).deidentify_file(CT_SMALL, tmp_path / "out").path)
    assert result.PatientName == "TEACHING^CASE"
    assert result.PatientID == "TC-1"
    assert result.StudyDate == "20200101"
    assert "InstitutionName" not in result or result.InstitutionName in ("", "ANONYMIZED")
    named = read(
        Deidentifier(KEY, overrides={"PatientName": "Müller^Jürgen=山田^太郎"})
        .deidentify_file(MR_SMALL, tmp_path / "named")
        .path
    )
    assert named.SpecificCharacterSet == "ISO_IR 192"
    assert str(named.PatientName) == "Müller^Jürgen=山田^太郎"
    with pytest.raises(ValueError, match="keyword"):
        Deidentifier(KEY, overrides={"NotAKeyword": "x"})


PIXEL_SAMPLES = (
    "CT_small.dcm",  # native, explicit little endian
    "MR_small_bigendian.dcm",  # explicit big endian
    "MR_small_implicit.dcm",
    "JPEG2000.dcm",  # encapsulated
    "MR_small_RLE.dcm",
    "image_dfl.dcm",  # deflated: read whole, written deflated again
    "SC_rgb_jpeg.dcm",  # the dataset is implicit VR although its meta says explicit
    "rtdose.dcm",
)


@pytest.mark.parametrize("name", PIXEL_SAMPLES)
def test_pixel_data_comes_through_byte_identical(tmp_path: Path, name: str) -> None:
    source = pydicom_file(name)
    done = Deidentifier(KEY).deidentify_file(source, tmp_path / "out", allow_pixel_risk=True)
    original, result = read(source), read(done.path)
    assert result.PixelData == original.PixelData
    assert result.file_meta.TransferSyntaxUID == original.file_meta.TransferSyntaxUID
    assert result.Rows == original.Rows
    assert result.SOPClassUID == original.SOPClassUID


def dciodvfy_errors(path: Path) -> set[str]:
    finished = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, check=False)  # noqa: S603, S607
    lines = (finished.stdout + finished.stderr).splitlines()
    # Values differ between the original and the copy (UIDs, dates); the error itself must not.
    return {re.sub(r"<[^>]*>|\b[0-9.]{8,}\b", "<value>", line) for line in lines if line.startswith("Error")}


@pytest.mark.skipif(shutil.which("dciodvfy") is None, reason="dicom3tools' dciodvfy is not installed")
@pytest.mark.parametrize(
    "name", ["CT_small.dcm", "MR_small.dcm", "rtplan.dcm", "rtdose.dcm", "JPEG2000.dcm", "waveform_ecg.dcm"]
)
def test_dciodvfy_finds_no_new_error(tmp_path: Path, name: str) -> None:
    source = pydicom_file(name)
    done = Deidentifier(KEY, DeidentificationOptions(retain_modified_dates=True)).deidentify_file(
        source, tmp_path / "out", allow_pixel_risk=True
    )
    assert dciodvfy_errors(done.path) <= dciodvfy_errors(source)


@pytest.mark.skipif(shutil.which("dciodvfy") is None, reason="dicom3tools' dciodvfy is not installed")
def test_dciodvfy_finds_no_new_error_in_the_full_table_instance(tmp_path: Path) -> None:
    source = full_table_instance(tmp_path / "full.dcm")
    done = Deidentifier(KEY).deidentify_file(source, tmp_path / "out")
    # The table itself dummies the Ethics Committee Name (D, for its Type 1C) and removes the
    # Approval Number (X) whose presence that condition names: the one error the profile causes.
    caused_by_the_table = {
        "Error - Attribute present when condition unsatisfied (which may not be present otherwise) "
        "Type 1C Conditional Element=<value> Module=<value>"
    }
    assert dciodvfy_errors(done.path) <= dciodvfy_errors(source) | caused_by_the_table


def test_pixels_that_may_show_the_patient_need_a_confirmation(tmp_path: Path) -> None:
    burned = tmp_path / "burned.dcm"
    dataset = read(CT_SMALL)
    dataset.BurnedInAnnotation = "YES"
    dataset.save_as(burned, enforce_file_format=True)
    cases = {
        burned: PixelRisk.BURNED_IN_ANNOTATION,
        pydicom_file("ExplVR_BigEnd.dcm"): PixelRisk.ULTRASOUND,
        pydicom_file("SC_rgb_small_odd.dcm"): PixelRisk.SECONDARY_CAPTURE,
        pydicom_file("reportsi.dcm"): PixelRisk.STRUCTURED_CONTENT,
    }
    for path, risk in cases.items():
        with pytest.raises(DeidentificationRefused) as caught:
            Deidentifier(KEY).deidentify_file(path, tmp_path / "refused")
        assert caught.value.risk is risk, path.name
        done = Deidentifier(KEY).deidentify_file(path, tmp_path / "confirmed", allow_pixel_risk=True)
        assert done.risk is risk
    assert not (tmp_path / "refused").exists() or not list((tmp_path / "refused").iterdir())
    assert Deidentifier(KEY).deidentify_file(CT_SMALL, tmp_path / "ct").risk is None


def test_files_without_their_uids_are_refused(tmp_path: Path) -> None:
    source = tmp_path / "no-study.dcm"
    source.write_bytes(ct_image(omit=("StudyInstanceUID",)))
    with pytest.raises(DeidentificationRefused, match="StudyInstanceUID"):
        Deidentifier(KEY).deidentify_file(source, tmp_path / "out")
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        Deidentifier(b"short")


def test_file_meta_is_rebuilt_for_a_raw_dataset(tmp_path: Path) -> None:
    source = pydicom_file("ExplVR_LitEndNoMeta.dcm")
    done = Deidentifier(KEY).deidentify_file(source, tmp_path / "out", allow_pixel_risk=True)
    result = read(done.path)
    assert isinstance(result.file_meta, FileMetaDataset)
    assert result.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert result.file_meta.MediaStorageSOPInstanceUID == result.SOPInstanceUID == done.sop_instance_uid
