"""Uploads end to end through the stateful PostDICOM emulator: files become instances, orders, documents."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file

from bot.postdicom import FileRange, PostDicomClient, SkipReason, UploadSourceError
from bot.sandbox.postdicom import (
    ADA_UUID,
    CASES_FOLDER_UUID,
    CT_ORDER_UUID,
    DEMO_ACCOUNT_KEY,
    MAIN_INSTITUTION_UUID,
    PostDicomEmulator,
)
from bot.sandbox.postdicom.state import Account
from tests.conftest import connected_client
from tests.postdicom.test_uploads import PART, write_dicom

CT_SMALL = Path(get_testdata_file("CT_small.dcm"))  # type: ignore[arg-type]
CT_STUDY = "1.3.6.1.4.1.5962.1.2.1.20040119072730.12322"
NEW_STUDY = "1.2.826.0.1.3680043.8.498.9001"


def demo_account(emulator: PostDicomEmulator) -> Account:
    account = emulator.state.account(DEMO_ACCOUNT_KEY)
    assert account is not None
    return account


@pytest.fixture
async def client(emulator: PostDicomEmulator) -> AsyncIterator[PostDicomClient]:
    async with connected_client(emulator, timeout=10, upload_sockets=4) as connected:
        yield connected


async def test_files_become_instances_and_a_second_upload_skips_them(
    emulator: PostDicomEmulator, client: PostDicomClient, tmp_path: Path
) -> None:
    # The demo account already holds CT_small.dcm, in the seeded CT order.
    first_image = write_dicom(tmp_path / "1.dcm", 3 * PART, study=NEW_STUDY, sop=f"{NEW_STUDY}.1")
    second_image = write_dicom(tmp_path / "2.dcm", 100, study=NEW_STUDY, sop=f"{NEW_STUDY}.2")
    junk = tmp_path / "readme.txt"
    junk.write_text("not DICOM")
    files = [CT_SMALL, junk, first_image, second_image]

    first = await client.upload_dicom_files(ADA_UUID, MAIN_INSTITUTION_UUID, files)

    assert first.files_sent == (2, 3)
    assert [(skip.file_index, skip.reason) for skip in first.files_skipped] == [
        (0, SkipReason.ALREADY_EXISTS),
        (1, SkipReason.NOT_DICOM),
    ]
    new_order = demo_account(emulator).order_by_study(NEW_STUDY)
    assert new_order is not None
    assert set(new_order.instances) == {f"{NEW_STUDY}.1", f"{NEW_STUDY}.2"}
    assert [order.patient_order_uuid for order in first.orders] == [CT_ORDER_UUID, new_order.uuid]

    second = await client.upload_dicom_files(ADA_UUID, MAIN_INSTITUTION_UUID, files)

    assert second.files_sent == ()
    assert [(skip.file_index, skip.reason) for skip in second.files_skipped] == [
        (0, SkipReason.ALREADY_EXISTS),
        (1, SkipReason.NOT_DICOM),
        (2, SkipReason.ALREADY_EXISTS),
        (3, SkipReason.ALREADY_EXISTS),
    ]
    assert second.bytes_sent == 0
    assert emulator.uploads.counters.files_completed == 2


async def test_anonymized_upload_into_a_folder_files_the_rewritten_instance(
    emulator: PostDicomEmulator, client: PostDicomClient, tmp_path: Path
) -> None:
    image = write_dicom(
        tmp_path / "x.dcm", 2 * PART, study=NEW_STUDY, sop=f"{NEW_STUDY}.1", patient="REAL^NAME"
    )

    result = await client.upload_dicom_files_into_folder_with_anonymization(
        ADA_UUID,
        MAIN_INSTITUTION_UUID,
        CASES_FOLDER_UUID,
        [image],
        [{"Tag": "x00100010", "Value": "ANON^PATIENT"}, {"Tag": "x00100020", "Value": "ANON-1"}],
    )

    (order,) = result.orders
    stored = demo_account(emulator).order_by_study(NEW_STUDY)
    assert stored is not None
    assert stored.uuid == order.patient_order_uuid
    assert (order.patient_name, order.patient_id) == ("ANON^PATIENT", "ANON-1")
    assert CASES_FOLDER_UUID in order.folder_uuid_list


async def test_documents_are_attached_to_the_order(
    emulator: PostDicomEmulator, client: PostDicomClient, tmp_path: Path
) -> None:
    order = demo_account(emulator).order_by_study(CT_STUDY)
    assert order is not None
    before = len(order.documents)
    report = tmp_path / "report.pdf"
    report.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * (PART // 128))
    scan = tmp_path / "scan.jpg"
    scan.write_bytes(b"\xff\xd8\xff\xe0 small jpeg")

    result = await client.upload_document_files(
        ADA_UUID, MAIN_INSTITUTION_UUID, CT_ORDER_UUID, [report, scan]
    )

    assert result.files_sent == (0, 1)
    assert len(order.documents) == before + 2


async def test_ranges_of_a_file_upload_as_the_files_they_hold(
    emulator: PostDicomEmulator, client: PostDicomClient, tmp_path: Path
) -> None:
    # As a zip stores members: files one after another inside a bigger one, each read where it lies.
    images = [
        write_dicom(
            tmp_path / f"{number}.dcm",
            size,
            study=NEW_STUDY,
            sop=f"{NEW_STUDY}.{number}",
            patient="RANGE^ONE",
        )
        for number, size in ((1, 2 * PART + 7), (2, 100))
    ]
    holder = tmp_path / "holder"
    contents = [image.read_bytes() for image in images]
    holder.write_bytes(b"head" + contents[0] + b"gap" + contents[1] + b"tail")
    ranges = [
        FileRange(holder, 4, len(contents[0]), "IM1"),
        FileRange(holder, 4 + len(contents[0]) + 3, len(contents[1]), "IM2"),
    ]

    result = await client.upload_dicom_files(ADA_UUID, MAIN_INSTITUTION_UUID, ranges)

    assert result.files_sent == (0, 1)
    order = demo_account(emulator).order_by_study(NEW_STUDY)
    assert order is not None
    assert [order.instances[f"{NEW_STUDY}.{number}"].data for number in (1, 2)] == contents
    assert order.patient_name == "RANGE^ONE"


async def test_a_range_is_anonymized_from_a_copy_leaving_its_holder_untouched(
    emulator: PostDicomEmulator, client: PostDicomClient, tmp_path: Path
) -> None:
    content = write_dicom(
        tmp_path / "1.dcm", PART + 1, study=NEW_STUDY, sop=f"{NEW_STUDY}.1", patient="REAL^NAME"
    ).read_bytes()
    holder = tmp_path / "holder"
    holder.write_bytes(b"head" + content + b"tail")

    result = await client.upload_dicom_files_with_anonymization(
        ADA_UUID,
        MAIN_INSTITUTION_UUID,
        [FileRange(holder, 4, len(content), "IM1")],
        [{"Tag": "x00100010", "Value": "ANON^RANGE"}],
    )

    assert result.files_sent == (0,)
    order = demo_account(emulator).order_by_study(NEW_STUDY)
    assert order is not None
    stored = order.instances[f"{NEW_STUDY}.1"].data
    assert stored is not None
    assert pydicom.dcmread(io.BytesIO(stored)).PatientName == "ANON^RANGE"
    assert holder.read_bytes() == b"head" + content + b"tail"


async def test_a_range_beyond_the_end_of_its_file_is_refused_before_anything_is_sent(
    emulator: PostDicomEmulator, client: PostDicomClient, tmp_path: Path
) -> None:
    image = write_dicom(tmp_path / "1.dcm", 100, study=NEW_STUDY, sop=f"{NEW_STUDY}.1")
    size = image.stat().st_size
    with pytest.raises(UploadSourceError, match="beyond the end"):
        await client.upload_dicom_files(ADA_UUID, MAIN_INSTITUTION_UUID, [FileRange(image, 1, size, "IM1")])
    assert demo_account(emulator).order_by_study(NEW_STUDY) is None


async def test_files_arriving_during_the_upload_complete_only_when_released(
    emulator: PostDicomEmulator, client: PostDicomClient, tmp_path: Path
) -> None:
    images = [
        write_dicom(tmp_path / f"{number}.dcm", size, study=NEW_STUDY, sop=f"{NEW_STUDY}.{number}")
        for number, size in ((1, 3 * PART), (2, 100), (3, PART + 1))
    ]
    filed_at_release: list[int] = []

    async def arriving() -> AsyncIterator[Path]:
        for image in images:
            await asyncio.sleep(0)
            yield image

    async def release() -> set[int]:
        # Every file has been checked and all but its last part queued; PostDICOM has filed nothing.
        filed_at_release.append(emulator.uploads.counters.files_completed)
        return {2}

    result = await client.upload_dicom_files(
        ADA_UUID, MAIN_INSTITUTION_UUID, arriving(), expected_bytes=4 * PART, release=release
    )

    assert filed_at_release == [0]
    assert result.files_sent == (0, 1)
    assert [(skip.file_index, skip.reason) for skip in result.files_skipped] == [(2, SkipReason.WITHDRAWN)]
    order = demo_account(emulator).order_by_study(NEW_STUDY)
    assert order is not None
    assert set(order.instances) == {f"{NEW_STUDY}.1", f"{NEW_STUDY}.2"}


async def test_a_release_that_fails_files_nothing_and_the_next_upload_starts_clean(
    emulator: PostDicomEmulator, client: PostDicomClient, tmp_path: Path
) -> None:
    images = [
        write_dicom(tmp_path / f"{number}.dcm", 2 * PART, study=NEW_STUDY, sop=f"{NEW_STUDY}.{number}")
        for number in (1, 2)
    ]

    async def refuse() -> set[int]:
        raise RuntimeError("the archive turned out to be broken")

    with pytest.raises(RuntimeError, match="broken"):
        await client.upload_dicom_files(ADA_UUID, MAIN_INSTITUTION_UUID, images, release=refuse)
    assert demo_account(emulator).order_by_study(NEW_STUDY) is None
    assert emulator.uploads.counters.files_completed == 0

    # The parts left unfinished are abandoned by the next upload, which files whole instances.
    again = await client.upload_dicom_files(ADA_UUID, MAIN_INSTITUTION_UUID, list(reversed(images)))
    assert again.files_sent == (0, 1)
    order = demo_account(emulator).order_by_study(NEW_STUDY)
    assert order is not None
    assert [order.instances[f"{NEW_STUDY}.{number}"].data for number in (1, 2)] == [
        image.read_bytes() for image in images
    ]


async def test_an_anonymized_file_withdrawn_while_its_parts_are_queued_is_not_read_after_removal(
    emulator: PostDicomEmulator, client: PostDicomClient, tmp_path: Path
) -> None:
    images = [
        write_dicom(tmp_path / f"{number}.dcm", 3 * PART, study=NEW_STUDY, sop=f"{NEW_STUDY}.{number}")
        for number in range(6)
    ]

    async def withdraw_last() -> set[int]:
        return {5}

    # Slow replies keep the senders behind, so the last file's parts are still queued at release.
    emulator.faults.set(emulator.account_key, latency=0.05)

    result = await client.upload_dicom_files(
        ADA_UUID,
        MAIN_INSTITUTION_UUID,
        images,
        anonymize=[{"Tag": "x00100010", "Value": "ANON^WITHDRAWN"}],
        release=withdraw_last,
    )

    assert result.files_sent == (0, 1, 2, 3, 4)
    assert [(skip.file_index, skip.reason) for skip in result.files_skipped] == [(5, SkipReason.WITHDRAWN)]
    order = demo_account(emulator).order_by_study(NEW_STUDY)
    assert order is not None
    assert f"{NEW_STUDY}.5" not in order.instances
