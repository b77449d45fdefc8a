"""Uploads end to end: a file shared in Slack → the app → the PostDICOM emulator, with a thread message."""

from __future__ import annotations

from bot.sandbox.postdicom import PostDicomEmulator
from bot.store import AuditOutcome, UploadMode, UploadState
from tests.app.harness import Scenario
from tests.app.uploads_support import (
    audited,
    order_of,
    rendered,
    set_channel,
    share,
    thread_says,
    workers_idle,
)
from tests.dicom.samples import ct_image, new_uid


async def test_a_single_file_lands_in_postdicom_with_a_card_and_a_link(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    await set_channel(pacs, UploadMode.AUTO)
    study = new_uid()
    upload = await share(pacs, "chest.dcm", ct_image(study=study))

    done = await thread_says(pacs, upload.message.ts, ":white_check_mark:")
    order = order_of(emulator, study)
    assert order is not None
    assert len(order.instances) == 1
    text = rendered(done)
    assert "1 image uploaded" in text
    assert "Open the study" in text
    assert "order.share" in text  # the same buttons as a search result
    assert "TEST" not in text  # initials by default: the name never shows in full
    await workers_idle(pacs)
    job = await pacs.app.services.store.upload_jobs.find(pacs.workspace, upload.file.id)
    assert job is not None
    assert job.state is UploadState.DONE
    assert job.order_uuids == (order.uuid.lower(),)
    uploads = await audited(pacs, "upload.dicom")
    assert [(entry.outcome, entry.order_uuids) for entry in uploads] == [
        (AuditOutcome.SUCCEEDED, (order.uuid.lower(),))
    ]
