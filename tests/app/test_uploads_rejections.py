"""What is refused, says why in the file's thread, and uploads nothing."""

from __future__ import annotations

import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.sandbox.postdicom import PostDicomEmulator
from bot.sandbox.slack import FILE_DOWNLOAD
from bot.store import UploadMode, UploadState
from tests.app.conftest import PRECONNECT
from tests.app.harness import Scenario, scenario
from tests.app.uploads_support import order_of, rendered, set_channel, share, thread_says, until
from tests.dicom.samples import (
    CT_SMALL,
    LOGIN_PAGE,
    ct_image,
    mark_encrypted,
    new_uid,
    zip_bytes,
    zip_of_zeros,
)


async def refused(
    world: Scenario,
    emulator: PostDicomEmulator,
    name: str,
    content: bytes,
    phrase: str,
    *,
    parts_may_leave: bool = False,
) -> str:
    """Share a file that must be refused; return the thread's message once it says why.

    Nothing is filed in PostDICOM; unless ``parts_may_leave`` (a stored zip uploads while it
    downloads, holding back each file's last part), not a single part is even sent.
    """
    await set_channel(world, UploadMode.AUTO)
    upload = await share(world, name, content)
    message = await thread_says(world, upload.message.ts, ":x:")
    text = rendered(message)
    assert phrase in text, text
    jobs = world.app.services.store.upload_jobs

    async def failed() -> bool:
        job = await jobs.find(world.workspace, upload.file.id)
        return job is not None and job.state is UploadState.FAILED

    await until(failed, what="the job to fail for good")
    assert emulator.uploads.counters.files_completed == 0
    if not parts_may_leave:
        assert emulator.stats.frames["23:PROCESS_FILE"] == 0  # not a single part was sent
    return text


async def test_slacks_sign_in_page_is_refused_clearly(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    text = await refused(pacs, emulator, "scan.dcm", LOGIN_PAGE, "sign-in page")
    assert "files:read" in text


async def test_a_truncated_file_is_refused(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    await refused(pacs, emulator, "cut.dcm", CT_SMALL.read_bytes()[:-1000], "truncated")


async def test_a_file_without_the_key_uids_is_refused(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    text = await refused(
        pacs, emulator, "x.dcm", ct_image(omit=["SOPInstanceUID"]), "has no SOP Instance UID"
    )
    assert "Retry" not in text  # retrying a broken file would not help


async def test_a_zip_bomb_is_refused_by_its_ratio(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    await refused(pacs, emulator, "bomb.zip", zip_of_zeros(64 * 1024 * 1024), "zip bomb")


async def test_an_encrypted_zip_is_refused(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    data = mark_encrypted(zip_bytes([("IM1", ct_image())]))
    await refused(pacs, emulator, "secret.zip", data, "encrypted")


async def test_a_zip_with_one_broken_image_uploads_none_of_it(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    study = new_uid()
    members = [("IM1", ct_image(study=study)), ("IM2", ct_image(study=study)[:-500])]
    text = await refused(pacs, emulator, "study.zip", zip_bytes(members), "file 2 of 2")
    assert "truncated" in text
    assert "IM2" not in text  # member names may name the patient


@pytest.fixture
async def small_limits(tmp_path: Path, emulator: PostDicomEmulator) -> AsyncIterator[Scenario]:
    async with scenario(
        tmp_path,
        postdicom_router_url=emulator.router_url,
        extra_settings={
            **PRECONNECT,
            "PACSBOT_UPLOAD_MAX_EXPANDED_BYTES": str(512 * 1024),
            "PACSBOT_UPLOAD_MAX_FILE_BYTES": str(2 * 1024 * 1024),
        },
    ) as world:
        yield world


async def test_a_zip_bomb_is_refused_by_its_expanded_size(
    small_limits: Scenario, emulator: PostDicomEmulator
) -> None:
    study = new_uid()
    members = [(f"IM{index}", ct_image(study=study, rows=128, columns=128)) for index in range(30)]
    text = await refused(small_limits, emulator, "big.zip", zip_bytes(members), "would expand to")
    assert "512.0 KB allowed" in text


async def test_a_file_over_the_download_limit_is_refused_before_downloading(
    small_limits: Scenario, emulator: PostDicomEmulator
) -> None:
    text = await refused(small_limits, emulator, "huge.dcm", ct_image(rows=1024, columns=1024), "limit")
    assert "upload it to PostDICOM directly" in text
    assert not any(call.method == FILE_DOWNLOAD for call in small_limits.slack.calls)


@pytest.fixture
async def own_temp_dir(tmp_path: Path, emulator: PostDicomEmulator) -> AsyncIterator[tuple[Scenario, Path]]:
    directory = tmp_path / "upload-scratch"
    directory.mkdir()
    async with scenario(
        tmp_path,
        postdicom_router_url=emulator.router_url,
        extra_settings={**PRECONNECT, "PACSBOT_UPLOAD_TEMP_DIR": str(directory)},
    ) as world:
        yield world, directory


async def test_temporary_files_are_gone_whatever_the_outcome(
    own_temp_dir: tuple[Scenario, Path], emulator: PostDicomEmulator
) -> None:
    world, directory = own_temp_dir
    await set_channel(world, UploadMode.AUTO)
    good = await share(world, "good.zip", zip_bytes([(f"IM{index}", ct_image()) for index in range(3)]))
    bad = await share(world, "bad.dcm", ct_image()[:-100])
    await thread_says(world, good.message.ts, ":white_check_mark:")
    await thread_says(world, bad.message.ts, ":x:")
    jobs = world.app.services.store.upload_jobs

    async def both_finished() -> bool:
        found = [await jobs.find(world.workspace, upload.file.id) for upload in (good, bad)]
        return all(job is not None and job.is_finished for job in found)

    await until(both_finished, what="both jobs to finish")
    assert list(directory.iterdir()) == []


async def test_a_stored_zip_with_one_broken_image_files_none_of_it(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    # Uncompressed members go out while the zip downloads, each holding back its last part: the
    # broken one at the end must still leave PostDICOM with nothing filed.
    study = new_uid()
    members = [(f"IM{index}", ct_image(study=study, rows=256, columns=256)) for index in range(4)]
    members.append(("IM9", ct_image(study=study)[:-500]))
    data = zip_bytes(members, compression=zipfile.ZIP_STORED)
    await refused(pacs, emulator, "study.zip", data, "file 5 of 5", parts_may_leave=True)
    assert order_of(emulator, study) is None
    # The abandoned upload leaves nothing behind: the next share uploads whole.
    clean = new_uid()
    upload = await share(
        pacs, "clean.zip", zip_bytes([("IM1", ct_image(study=clean))], compression=zipfile.ZIP_STORED)
    )
    await thread_says(pacs, upload.message.ts, ":white_check_mark:")
    order = order_of(emulator, clean)
    assert order is not None
    assert len(order.instances) == 1
