"""Exactly once, whatever happens: two app processes on one database, a process killed mid-upload,
PostDICOM dropping its socket, Slack rate-limiting and failing, and a failure retried by a person."""

from __future__ import annotations

import asyncio
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.jobs import UploadWorkers
from bot.sandbox.postdicom import PostDicomEmulator
from bot.sandbox.slack import FILE_DOWNLOAD, DemoWorkspace, SlackStub, deliver, seed_demo_workspace
from bot.store import UploadJob, UploadMode, UploadState
from bot.ui.uploads import RETRY_UPLOAD_ACTION
from commands.uploads import UPLOADS_KEY, Uploads
from tests.app.harness import Scenario, eventually
from tests.app.uploads_support import (
    app_process,
    bot_replies,
    order_of,
    rendered,
    set_channel,
    share,
    thread_says,
    until,
)
from tests.dicom.samples import ct_image, new_uid, zip_bytes
from tests.store.databases import require_postgres, temporary_database_url

FAST = {"PACSBOT_UPLOAD_LEASE_SECONDS": "2", "PACSBOT_UPLOAD_POLL_SECONDS": "0.2"}


@dataclass
class Shared:
    """A Slack stub and a database that several app processes use."""

    slack: SlackStub
    demo: DemoWorkspace
    database_url: str
    key: str


async def shared(tmp_path: Path, backend: str) -> AsyncIterator[Shared]:
    if backend == "postgresql":
        require_postgres()
    async with SlackStub() as slack, temporary_database_url(backend, tmp_path) as database_url:
        yield Shared(slack, seed_demo_workspace(slack.state), database_url, Fernet.generate_key().decode())


@pytest.fixture
async def on_postgres(tmp_path: Path) -> AsyncIterator[Shared]:
    async for world in shared(tmp_path, "postgresql"):
        yield world


@pytest.fixture(params=["sqlite", "postgresql"])
async def on_any(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Shared]:
    async for world in shared(tmp_path, request.param):
        yield world


def workers(world: Scenario) -> UploadWorkers:
    uploads = world.app.app.extensions[UPLOADS_KEY]
    assert isinstance(uploads, Uploads)
    return uploads.workers


def study_zip(study: str, count: int) -> bytes:
    return zip_bytes((f"DICOM/IM{index:04d}", ct_image(study=study)) for index in range(count))


async def test_one_event_delivered_to_two_processes_on_postgresql_uploads_once(
    on_postgres: Shared, emulator: PostDicomEmulator
) -> None:
    world = on_postgres
    async with (
        app_process(world.slack, world.demo, world.database_url, emulator, world.key, FAST) as first,
        app_process(world.slack, world.demo, world.database_url, emulator, world.key, FAST) as second,
    ):
        await set_channel(first, UploadMode.AUTO)
        study = new_uid()
        upload = await share(first, "study.zip", study_zip(study, 4), events=False)
        signed = upload.message_event.signed(world.slack.app.signing_secret)
        answers = await asyncio.gather(
            deliver(first.app.events_url, signed),
            deliver(second.app.events_url, signed),
            deliver(
                second.app.events_url,
                upload.message_event.signed(world.slack.app.signing_secret, retry_num=1),
            ),
        )
        assert [answer.status for answer in answers] == [200, 200, 200]

        await thread_says(first, upload.message.ts, ":white_check_mark:")
        await asyncio.sleep(0.5)
        order = order_of(emulator, study)
        assert order is not None
        assert len(order.instances) == 4
        assert emulator.uploads.counters.files_completed == 4
        assert emulator.uploads.counters.instances_deduplicated == 0
        assert len(bot_replies(first, upload.message.ts)) == 1
        counts = await first.app.services.store.upload_jobs.counts_by_state()
        assert counts[UploadState.DONE] == 1
        assert sum(counts.values()) == 1


async def test_a_process_killed_mid_upload_is_resumed_by_the_next_without_duplicates(
    on_any: Shared, emulator: PostDicomEmulator
) -> None:
    world = on_any
    study = new_uid()
    count = 12
    emulator.faults.set(emulator.account_key, latency=0.15)
    async with app_process(world.slack, world.demo, world.database_url, emulator, world.key, FAST) as doomed:
        await set_channel(doomed, UploadMode.AUTO)
        upload = await share(doomed, "study.zip", study_zip(study, count))

        def some_landed() -> bool:
            order = order_of(emulator, study)
            return order is not None and 3 <= len(order.instances) < count

        await eventually(some_landed, within=30, what="a few instances to land")
        # As a crash would: the worker stops mid-upload and its job row keeps the dead lease.
        await workers(doomed).abandon()
        crashed = order_of(emulator, study)
        assert crashed is not None
        landed_before_crash = len(crashed.instances)
        job = await doomed.app.services.store.upload_jobs.find(doomed.workspace, upload.file.id)
        assert job is not None
        assert job.state is UploadState.UPLOADING
    assert landed_before_crash < count

    emulator.faults.clear(emulator.account_key)
    async with app_process(world.slack, world.demo, world.database_url, emulator, world.key, FAST) as revived:
        done = await thread_says(revived, upload.message.ts, ":white_check_mark:", within=60)
        order = order_of(emulator, study)
        assert order is not None
        assert len(order.instances) == count
        assert emulator.uploads.counters.instances_deduplicated == 0
        assert emulator.uploads.counters.files_completed == count
        assert f"{count} images uploaded" in rendered(done) or "already there" in rendered(done)
        jobs = revived.app.services.store.upload_jobs

        async def finished() -> UploadJob | None:
            job = await jobs.find(revived.workspace, upload.file.id)
            return job if job is not None and job.state is UploadState.DONE else None

        # The message is finished before the job's row, so the row may lag a moment behind.
        assert (await until(finished, what="the resumed job to finish")).attempts == 2


async def test_a_socket_dropped_mid_upload_is_retried_and_completes(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    await set_channel(pacs, UploadMode.AUTO)
    study = new_uid()
    emulator.faults.set(emulator.account_key, drop_upload_after_parts=3)
    upload = await share(pacs, "study.zip", study_zip(study, 8))

    done = await thread_says(pacs, upload.message.ts, ":white_check_mark:")
    order = order_of(emulator, study)
    assert order is not None
    assert len(order.instances) == 8
    assert emulator.uploads.counters.instances_deduplicated == 0
    assert "8 images uploaded" in rendered(done) or "already there" in rendered(done)
    job = await pacs.app.services.store.upload_jobs.find(pacs.workspace, upload.file.id)
    assert job is not None
    assert job.attempts == 1  # survived in place, not by a later attempt


async def test_a_download_cut_while_its_images_go_out_starts_over_and_lands_each_once(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    # Stored members go out while the zip downloads; the connection drops halfway, the download
    # starts over, and what was read ahead is withdrawn and sent again from the vetted archive.
    await set_channel(pacs, UploadMode.AUTO)
    study = new_uid()
    members = [(f"DICOM/IM{index:04d}", ct_image(study=study, rows=512, columns=512)) for index in range(24)]
    data = zip_bytes(members, compression=zipfile.ZIP_STORED)
    pacs.slack.faults.cut_download(after_bytes=len(data) * 2 // 3)
    upload = await share(pacs, "study.zip", data)

    done = await thread_says(pacs, upload.message.ts, ":white_check_mark:", within=60)
    assert "24 images uploaded" in rendered(done)
    order = order_of(emulator, study)
    assert order is not None
    assert len(order.instances) == 24
    assert emulator.uploads.counters.instances_deduplicated == 0
    assert [call.error for call in pacs.slack.calls.of(FILE_DOWNLOAD)] == ["cut", None]
    job = await pacs.app.services.store.upload_jobs.find(pacs.workspace, upload.file.id)
    assert job is not None
    assert job.attempts == 1  # the download started over within the attempt


async def test_slack_rate_limits_and_server_errors_are_ridden_out(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    await set_channel(pacs, UploadMode.AUTO)
    faults = pacs.slack.faults
    faults.rate_limit("files.info", times=1, retry_after_seconds=1)
    faults.server_error(FILE_DOWNLOAD, times=2, status=503)
    faults.rate_limit(FILE_DOWNLOAD, times=1, retry_after_seconds=1)
    faults.server_error("chat.update", times=2, status=503)
    study = new_uid()
    upload = await share(pacs, "chest.dcm", ct_image(study=study))

    await thread_says(pacs, upload.message.ts, ":white_check_mark:", within=60)
    assert order_of(emulator, study) is not None
    statuses = [call.status for call in pacs.slack.calls.of(FILE_DOWNLOAD)]
    assert statuses[:3] == [503, 503, 429]
    assert statuses[3] == 200


async def test_a_failed_upload_offers_retry_and_retry_completes_it(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    await set_channel(pacs, UploadMode.AUTO)
    # Slack says the file is gone: a failure for good, until someone presses Retry.
    pacs.slack.faults.api_error("files.info", "file_not_found", times=1)
    study = new_uid()
    upload = await share(pacs, "chest.dcm", ct_image(study=study))

    failed = await thread_says(pacs, upload.message.ts, ":x:")
    assert "Slack no longer has the file" in rendered(failed)
    assert RETRY_UPLOAD_ACTION in rendered(failed)
    assert order_of(emulator, study) is None
    await pacs.click(pacs.demo.admin, RETRY_UPLOAD_ACTION, message=failed)

    await thread_says(pacs, upload.message.ts, ":white_check_mark:")
    assert order_of(emulator, study) is not None
    assert len(bot_replies(pacs, upload.message.ts)) == 1  # the same message, edited in place


async def test_ten_graceful_restarts_during_a_large_upload_neither_use_it_up_nor_send_twice(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    await set_channel(pacs, UploadMode.AUTO)
    study = new_uid()
    count = 150
    emulator.faults.set(emulator.account_key, latency=0.05)
    upload = await share(pacs, "study.zip", study_zip(study, count))
    pool = workers(pacs)
    jobs = pacs.app.services.store.upload_jobs

    def landed() -> int:
        order = order_of(emulator, study)
        return 0 if order is None else len(order.instances)

    def checks() -> int:
        return sum(
            number for frame, number in emulator.stats.frames.items() if frame.endswith(":CHECK_FILE_EXIST")
        )

    checks_per_attempt: list[tuple[int, int]] = []
    recorded = 0
    for restart in range(10):
        before, checked_before = landed(), checks()
        await eventually(
            lambda before=before: landed() >= before + 3,
            within=60,
            what=f"progress before restart {restart + 1}",
        )
        assert landed() < count, f"the upload finished before restart {restart + 1}"
        # As a rolling deploy does (SIGTERM): stop gracefully, releasing the job, and start again.
        await pool.stop()
        # What the attempt asked PostDICOM about: at most what the job had not recorded as sent.
        checks_per_attempt.append((checks() - checked_before, count - recorded))
        job = await jobs.find(pacs.workspace, upload.file.id)
        assert job is not None
        assert job.state is UploadState.QUEUED
        assert job.attempts == 0  # the released attempt was given back
        recorded = len(await jobs.sent_instances(job.id))
        assert recorded >= landed() - 4  # at most one last part in flight per upload socket
        await pool.start()
    emulator.faults.clear(emulator.account_key)

    done = await thread_says(pacs, upload.message.ts, ":white_check_mark:", within=120)
    assert landed() == count
    assert emulator.uploads.counters.files_completed == count
    assert emulator.uploads.counters.instances_deduplicated == 0
    assert f"{count} images" in rendered(done) or "already there" in rendered(done)
    assert all(asked <= unrecorded for asked, unrecorded in checks_per_attempt), checks_per_attempt

    async def finished() -> UploadJob | None:
        job = await jobs.find(pacs.workspace, upload.file.id)
        return job if job is not None and job.state is UploadState.DONE else None

    assert (await until(finished, what="the job to finish")).attempts == 1
