"""The client against the emulator: expired API sessions and uploads started at the same time."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file

from bot.postdicom import ApiError, PostDicomClient
from bot.sandbox.postdicom import (
    ADA_UUID,
    CT_ORDER_UUID,
    DEMO_ACCOUNT_KEY,
    MAIN_INSTITUTION_UUID,
    PostDicomEmulator,
)
from tests.paths import GOLDEN_BIG

# Files the demo seed does not hold.
FIRST_STUDY = [Path(get_testdata_file(name, download=False)) for name in ("rtplan.dcm", "reportsi.dcm")]  # type: ignore[arg-type]


async def test_an_expired_session_is_renewed_and_a_read_goes_through(
    emulator: PostDicomEmulator, client: PostDicomClient
) -> None:
    emulator.faults.set(DEMO_ACCOUNT_KEY, session_ttl=0.3)
    await asyncio.sleep(0.4)
    users = await client.get_user_list(ADA_UUID)
    assert len(users) == 3
    assert client.transport.reconnects == 1


async def test_a_change_refused_by_an_expired_session_is_not_resent_but_the_next_request_works(
    emulator: PostDicomEmulator, client: PostDicomClient
) -> None:
    emulator.faults.set(DEMO_ACCOUNT_KEY, session_ttl=0.3)
    await asyncio.sleep(0.4)
    with pytest.raises(ApiError, match="expired"):
        await client.create_quick_share_link(ADA_UUID, [CT_ORDER_UUID], False)
    emulator.faults.clear(DEMO_ACCOUNT_KEY)
    link = await client.create_quick_share_link(ADA_UUID, [CT_ORDER_UUID], False)
    assert link.url.startswith("http")


def big_variants(tmp_path: Path, count: int) -> list[Path]:
    """Write copies of the golden 800 KB file (two parts each) as new instances of a new study."""
    paths = []
    for number in range(count):
        dataset = pydicom.dcmread(GOLDEN_BIG)
        dataset.SOPInstanceUID = dataset.file_meta.MediaStorageSOPInstanceUID = f"2.25.{4242000 + number}"
        dataset.StudyInstanceUID = "2.25.4242999"
        path = tmp_path / f"big-{number}.dcm"
        dataset.save_as(path)
        paths.append(path)
    return paths


async def test_two_uploads_at_once_on_one_client_both_arrive_whole(
    emulator: PostDicomEmulator, client: PostDicomClient, tmp_path: Path
) -> None:
    # Parts of multi-part files are filed by FileIndex under the API session: two uploads that
    # ran at once would interleave their file 0 and file 1 parts.
    files = await asyncio.to_thread(big_variants, tmp_path, 4)
    first, second = await asyncio.gather(
        client.upload_dicom_files(ADA_UUID, MAIN_INSTITUTION_UUID, files[:2]),
        client.upload_dicom_files(ADA_UUID, MAIN_INSTITUTION_UUID, files[2:]),
    )
    assert first.files_sent == (0, 1)
    assert second.files_sent == (0, 1)
    assert emulator.uploads.pending_parts() == 0
    again = await client.upload_dicom_files(ADA_UUID, MAIN_INSTITUTION_UUID, [*files, *FIRST_STUDY])
    assert again.files_sent == (4, 5)
    assert len(again.files_skipped) == 4
