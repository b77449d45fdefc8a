"""Uploads end to end: a file shared in Slack → the app → the PostDICOM emulator, with a thread message."""

from __future__ import annotations

import asyncio
import zipfile

from bot.sandbox.postdicom import PostDicomEmulator
from bot.sandbox.slack import deliver
from bot.store import AuditOutcome, PhiDisplay, UploadMode, UploadState, WorkspaceSettings
from tests.app.harness import Scenario
from tests.app.uploads_support import (
    audited,
    bot_replies,
    order_of,
    rendered,
    set_channel,
    share,
    share_many,
    thread_says,
    until,
    workers_idle,
)
from tests.dicom.samples import ct_image, new_uid, pydicom_file, zip_bytes


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
    assert emulator.stats.frames["23:PROCESS_FILE"] >= 1
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


async def test_several_files_of_one_study_become_one_order(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    await set_channel(pacs, UploadMode.AUTO)
    study = new_uid()
    files = [(f"IM{index}.dcm", ct_image(study=study)) for index in range(3)]
    message = share_many(pacs, files)
    await pacs.send(pacs.slack.payloads.message_event(message))

    for index in range(3):
        await thread_says(pacs, message.ts, f"`IM{index}.dcm` is in PostDICOM")
    order = order_of(emulator, study)
    assert order is not None
    assert len(order.instances) == 3
    assert emulator.uploads.counters.instances_deduplicated == 0
    await workers_idle(pacs)
    # One share, one message: every file's line, the study's card and its share link once.
    [reply] = bot_replies(pacs, message.ts)
    assert rendered(reply).count("Open the study") == 1
    links = [share for share in emulator.state.shares_of(emulator.account_key) if share.kind == "order-link"]
    assert len(links) == 1


async def test_a_share_with_a_broken_file_shows_both_outcomes_in_one_message(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    await set_channel(pacs, UploadMode.AUTO)
    study = new_uid()
    message = share_many(pacs, [("good.dcm", ct_image(study=study)), ("cut.dcm", ct_image()[:-300])])
    await pacs.send(pacs.slack.payloads.message_event(message))

    await thread_says(pacs, message.ts, "`good.dcm` is in PostDICOM")
    reply = await thread_says(pacs, message.ts, "`cut.dcm` was not uploaded")
    await workers_idle(pacs)
    assert bot_replies(pacs, message.ts) == [reply]
    text = rendered(reply)
    assert "`good.dcm` is in PostDICOM" in text
    assert text.count("Open the study") == 1
    assert order_of(emulator, study) is not None


async def test_a_cd_export_zip_uploads_two_studies_without_its_dicomdir(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    await set_channel(pacs, UploadMode.AUTO)
    await pacs.app.services.store.workspace_settings.save(
        pacs.workspace, WorkspaceSettings(phi_display=PhiDisplay.FULL)
    )
    ct_study, mr_study = new_uid(), new_uid()
    members = [
        ("CD/DICOMDIR", pydicom_file("dicomdirtests/DICOMDIR").read_bytes()),
        *((f"CD/DICOM/CT/IM{index}", ct_image(study=ct_study)) for index in range(2)),
        *((f"CD/DICOM/MR/IM{index}", ct_image(study=mr_study, modality="MR")) for index in range(3)),
        ("CD/README.TXT", b"Open the viewer on this CD to see the images."),
        ("CD/VIEWER/viewer.exe", b"MZ\x90\x00" + bytes(4096)),
    ]
    upload = await share(pacs, "cd-export.zip", zip_bytes(members))

    done = await thread_says(pacs, upload.message.ts, ":white_check_mark:")
    text = rendered(done)
    assert "5 images uploaded" in text
    assert "DICOMDIR index was left out" in text
    assert "2 files that are not DICOM skipped" in text
    assert "README.TXT" in text  # names show with full PHI display only
    ct, mr = order_of(emulator, ct_study), order_of(emulator, mr_study)
    assert ct is not None
    assert mr is not None
    assert (len(ct.instances), len(mr.instances)) == (2, 3)
    assert text.count("Open the study") == 2
    # The DICOMDIR is in no order: every stored instance is one of the five images.
    assert all(
        instance.sop_class_uid != "1.2.840.10008.1.3.10"
        for instance in [*ct.instances.values(), *mr.instances.values()]
    )


async def test_a_retried_event_makes_one_upload(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    await set_channel(pacs, UploadMode.AUTO)
    study = new_uid()
    upload = await share(pacs, "chest.dcm", ct_image(study=study))
    if pacs.transport == "http":
        await deliver(
            pacs.app.events_url,
            upload.message_event.signed(pacs.signing_secret, retry_num=1, retry_reason="http_timeout"),
        )
    else:
        await pacs.slack.socket_mode.send(upload.message_event, retry_attempt=1, retry_reason="timeout")
    await pacs.send(upload.message_event)

    await thread_says(pacs, upload.message.ts, ":white_check_mark:")
    await workers_idle(pacs)
    assert len(bot_replies(pacs, upload.message.ts)) == 1
    order = order_of(emulator, study)
    assert order is not None
    assert len(order.instances) == 1
    assert emulator.uploads.counters.files_completed == 1


async def test_a_slack_connect_file_is_looked_up_with_files_info(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    channel = pacs.demo.partner_channel
    # An admin allowed this Slack Connect channel; the file is a member's of this workspace.
    await set_channel(pacs, UploadMode.AUTO, channel=channel, external_allowed=True)
    study = new_uid()
    upload = await share(pacs, "partner.dcm", ct_image(study=study), channel=channel)
    assert upload.message_event.payload["event"]["files"][0]["file_access"] == "check_file_info"

    await thread_says(pacs, upload.message.ts, ":white_check_mark:", channel=channel)
    assert order_of(emulator, study) is not None
    assert any(call.method == "files.info" for call in pacs.slack.calls)


async def test_other_files_in_an_auto_channel_are_left_alone(pacs: Scenario) -> None:
    await set_channel(pacs, UploadMode.AUTO)
    upload = await share(pacs, "screenshot.png", b"\x89PNG\r\n\x1a\n" + bytes(200))
    jobs = pacs.app.services.store.upload_jobs

    async def finished() -> bool:
        job = await jobs.find(pacs.workspace, upload.file.id)
        return job is not None and job.state is UploadState.DONE

    await until(finished, what="the screenshot's job to finish")
    assert bot_replies(pacs, upload.message.ts) == []
    assert not any(call.method == "chat.postMessage" for call in pacs.slack.calls)


async def test_nothing_happens_in_a_channel_set_to_off(pacs: Scenario) -> None:
    await set_channel(pacs, UploadMode.OFF)
    upload = await share(pacs, "chest.dcm", ct_image())
    await asyncio.sleep(0.3)
    assert await pacs.app.services.store.upload_jobs.find(pacs.workspace, upload.file.id) is None
    assert pacs.slack.state.ephemeral_for(pacs.demo.member) == []


async def test_a_stored_zip_lands_whole_while_read_where_it_lies(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    await set_channel(pacs, UploadMode.AUTO)
    study = new_uid()
    images = [ct_image(study=study, rows=256, columns=256) for _ in range(6)]
    members = [("DICOMDIR", pydicom_file("dicomdirtests/DICOMDIR").read_bytes())]
    members += [(f"DICOM/IM{index}", image) for index, image in enumerate(images)]
    upload = await share(pacs, "cd.zip", zip_bytes(members, compression=zipfile.ZIP_STORED))

    done = await thread_says(pacs, upload.message.ts, ":white_check_mark:")
    assert "6 images uploaded" in rendered(done)
    order = order_of(emulator, study)
    assert order is not None
    assert sorted(instance.data for instance in order.instances.values()) == sorted(images)
