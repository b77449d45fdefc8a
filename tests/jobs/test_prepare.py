"""From a downloaded file to what is uploaded: instances (wrapped into Part 10 when needed), a
document, or nothing; a broken archive member rejects the whole archive."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pydicom
import pytest

from bot.dicom import ArchiveLimits, DocumentType, Kind
from bot.jobs import Prepared, Rejected, prepare
from tests.dicom.samples import CT_SMALL, ct_image, new_uid, pydicom_file, write, zip_bytes

LIMITS = ArchiveLimits(max_expanded_bytes=256 * 1024 * 1024, max_ratio=100)


async def prepared(tmp_path: Path, name: str, data: bytes) -> Prepared:
    source = write(tmp_path / "download", data)
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return await prepare(source, name, data[:1024], work, LIMITS)


async def test_a_plain_dicom_file_is_one_instance(tmp_path: Path) -> None:
    result = await prepared(tmp_path, "ct.dcm", CT_SMALL.read_bytes())
    assert result.kind is Kind.DICOM
    (file,) = result.dicom
    assert file.instance.modality == "CT"
    assert file.path.read_bytes() == CT_SMALL.read_bytes()


async def test_a_raw_dataset_is_wrapped_into_part10(tmp_path: Path) -> None:
    result = await prepared(tmp_path, "plan", pydicom_file("ExplVR_LitEndNoMeta.dcm").read_bytes())
    (file,) = result.dicom
    assert file.path.read_bytes()[128:132] == b"DICM"
    assert pydicom.dcmread(file.path).SOPInstanceUID == file.instance.sop_instance_uid


async def test_a_zip_is_unpacked_skipping_its_index_litter_and_repeats(tmp_path: Path) -> None:
    study = new_uid()
    image = ct_image(study=study)
    data = zip_bytes(
        [
            ("DICOMDIR", pydicom_file("dicomdirtests/DICOMDIR").read_bytes()),
            ("A/IM1", image),
            ("A/IM1-copy", image),
            ("A/IM2", ct_image(study=study)),
            ("B/RAW", pydicom_file("rtstruct.dcm").read_bytes()),
            ("README.TXT", b"hello"),
            ("__MACOSX/._IM1", b"junk"),
        ]
    )
    result = await prepared(tmp_path, "cd.zip", data)
    assert result.kind is Kind.ZIP
    assert len(result.dicom) == 3
    assert (result.dicomdirs, result.duplicates, result.skipped) == (1, 1, ("README.TXT",))
    assert {group.instances for group in result.studies} == {2, 1}
    assert all(file.path.read_bytes()[128:132] == b"DICM" for file in result.dicom)
    assert not (tmp_path / "download").exists()  # the archive's space is given back once unpacked


async def test_one_broken_member_rejects_the_archive(tmp_path: Path) -> None:
    data = zip_bytes([("IM1", ct_image()), ("IM2", ct_image(omit=["StudyInstanceUID"]))])
    with pytest.raises(Rejected) as caught:
        await prepared(tmp_path, "study.zip", data)
    assert caught.value.code == "dicom.missing_uids"
    assert "file 2 of 2" in caught.value.message


async def test_a_document_gets_a_safe_name_with_its_extension(tmp_path: Path) -> None:
    result = await prepared(tmp_path, "../report v2", b"%PDF-1.4\n" + bytes(100))
    assert result.document is not None
    assert result.document.type is DocumentType.PDF
    assert result.document.name == "_report v2.pdf"
    assert result.document.path.parent == tmp_path / "work"


async def test_anything_else_is_nothing_to_upload(tmp_path: Path) -> None:
    assert (await prepared(tmp_path, "notes.txt", b"just some text")).kind is Kind.OTHER
    assert not (await prepared(tmp_path, "a.zip", zip_bytes([("a.txt", b"x")]))).dicom


async def test_members_stored_without_compression_are_read_where_they_lie(tmp_path: Path) -> None:
    study = new_uid()
    images = [ct_image(study=study), ct_image(study=study)]
    data = zip_bytes(
        [
            ("IM1", images[0]),
            ("IM1-copy", images[0]),
            ("IM2", images[1]),
            ("RAW", CT_SMALL.read_bytes()[128:]),
        ],
        compression=zipfile.ZIP_STORED,
    )
    result = await prepared(tmp_path, "cd.zip", data)
    archive = tmp_path / "download"
    stored, wrapped = result.dicom[:2], result.dicom[2]
    # No copy: each instance is a range of the archive, which stays until the job ends.
    assert [file.path for file in stored] == [archive, archive]
    assert [archive.read_bytes()[file.offset : file.offset + file.size] for file in stored] == images
    assert result.duplicates == 1
    # A member without its preamble is rewritten as Part 10, into a file of its own.
    assert wrapped.path != archive
    assert wrapped.offset == 0
    assert wrapped.path.read_bytes() == b"\x00" * 128 + CT_SMALL.read_bytes()[128:]
    assert sorted(path.name for path in (tmp_path / "work").iterdir()) == [wrapped.path.name]
