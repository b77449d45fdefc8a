"""``pacsbot deidentify``: files, folders and zips in, one file per instance out, one line per input."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pydicom
import pytest

from bot.cli import main
from bot.dicom.cli import KEY_FILE_NAME
from bot.dicom.deidentify import Deidentifier
from tests.dicom.samples import CT_SMALL, MR_SMALL, ct_image, new_uid, pydicom_file


def outputs(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.glob("*.dcm"))


def test_files_folders_and_zips_become_one_file_per_instance(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "study"
    (folder / "series").mkdir(parents=True)
    study = new_uid()
    for number in range(2):
        (folder / "series" / f"IM{number}").write_bytes(ct_image(study=study))
    archive = tmp_path / "cd.zip"
    with zipfile.ZipFile(archive, "w") as writer:
        writer.write(MR_SMALL, "DICOM/MR1")  # deflated: unpacked first
        writer.writestr(zipfile.ZipInfo("DICOM/CT1"), CT_SMALL.read_bytes())  # stored: read in place
        writer.writestr("DICOMDIR", b"not looked at")
    out = tmp_path / "out"

    code = main(["deidentify", str(folder), str(archive), str(pydicom_file("rtplan.dcm")), "--out", str(out)])

    assert code == 0
    printed = capsys.readouterr().out
    key = bytes.fromhex((out / KEY_FILE_NAME).read_text())
    assert stat.S_IMODE((out / KEY_FILE_NAME).stat().st_mode) == 0o600
    expected = {
        Deidentifier(key).new_uid(str(pydicom.dcmread(path).SOPInstanceUID)) + ".dcm"
        for path in (*sorted((folder / "series").iterdir()), MR_SMALL, CT_SMALL, pydicom_file("rtplan.dcm"))
    }
    assert set(outputs(out)) == expected
    for name in expected:
        assert f"written as {name}" in printed
    assert f"{archive}!DICOMDIR: skipped" in printed
    assert "5 written, 0 refused, 1 skipped" in printed
    written = pydicom.dcmread(out / sorted(expected)[0])
    assert written.PatientIdentityRemoved == "YES"


def test_a_refused_input_is_named_with_its_reason_and_makes_the_exit_code_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    no_study = tmp_path / "no-study.dcm"
    no_study.write_bytes(ct_image(omit=("StudyInstanceUID",)))
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    out = tmp_path / "out"

    code = main(
        [
            "deidentify",
            str(CT_SMALL),
            str(no_study),
            str(text),
            str(pydicom_file("ExplVR_BigEnd.dcm")),
            "--out",
            str(out),
        ]
    )

    assert code == 1
    printed = capsys.readouterr().out
    assert f"{no_study}: refused (missing_uids)" in printed
    assert f"{text}: refused (not_dicom)" in printed
    assert "ultrasound" in printed
    assert "--allow-burned-in" in printed
    assert "1 written, 3 refused" in printed
    assert len(outputs(out)) == 1

    assert (
        main(["deidentify", str(pydicom_file("ExplVR_BigEnd.dcm")), "--out", str(out), "--allow-burned-in"])
        == 0
    )


def test_running_again_gives_the_same_uids_and_dates_move_with_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "ct.dcm"
    source.write_bytes(ct_image(study_date="20200315", patient_id="PID-9"))
    out = tmp_path / "out"
    assert main(["deidentify", str(source), "--out", str(out), "--retain-dates"]) == 0
    first = outputs(out)
    assert main(["deidentify", str(source), "--out", str(out), "--retain-dates"]) == 0
    assert outputs(out) == first
    dated = pydicom.dcmread(out / first[0])
    assert dated.StudyDate not in ("", "20200315")
    assert dated.LongitudinalTemporalInformationModified == "MODIFIED"
    plain_out = tmp_path / "plain"
    assert main(["deidentify", str(source), "--out", str(plain_out), "--retain-patient-characteristics"]) == 0
    plain = pydicom.dcmread(plain_out / outputs(plain_out)[0])
    assert plain.StudyDate == ""
    assert outputs(plain_out) != first  # a new output folder gets a key of its own
    capsys.readouterr()
