"""Asking first (the default): the prompt, Upload, Ignore, the anonymization modal, and documents
shared in an order's thread."""

from __future__ import annotations

import io
from pathlib import Path

import pydicom
import pytest

from bot.jobs.anonymize import deidentifier_for
from bot.sandbox.postdicom import PostDicomEmulator
from bot.sandbox.slack import FILE_DOWNLOAD
from bot.store import UploadMode, UploadState
from bot.ui.uploads import (
    ANONYMIZE_ACTION,
    ANONYMIZE_MODAL,
    ATTACH_ACTION,
    FIELD_ACTION,
    IGNORE_ACTION,
    PIXEL_RISK_BLOCK,
    PIXEL_RISK_CONFIRMED,
    UPLOAD_ACTION,
)
from tests.app.harness import Scenario, connected_scenario, eventually
from tests.app.uploads_support import (
    account,
    order_of,
    rendered,
    set_channel,
    share,
    share_many,
    thread_says,
    until,
    workers_idle,
)
from tests.dicom.samples import ct_image, new_uid, zip_bytes
from tests.postdicom.test_dicomfiles import error_lines, run_tool, tool


async def test_the_prompt_describes_the_study_and_upload_sends_it(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    study = new_uid()
    message = share_many(pacs, [(f"IM{index}.dcm", ct_image(study=study)) for index in range(2)])
    await pacs.send(pacs.slack.payloads.message_event(message))

    prompt = await pacs.ephemeral(pacs.demo.member, "2 DICOM files, 1 study (CT, 2026-11-02)")
    assert order_of(emulator, study) is None  # nothing leaves before the person says so
    await pacs.click(pacs.demo.member, UPLOAD_ACTION, message=prompt)

    await pacs.ephemeral(pacs.demo.member, "Uploading 2 files to PostDICOM")
    # One job per file, run side by side: either may finish first.
    for name in ("IM0.dcm", "IM1.dcm"):
        await thread_says(pacs, message.ts, f"`{name}` is in PostDICOM")
    order = order_of(emulator, study)
    assert order is not None
    assert len(order.instances) == 2


async def test_ignore_uploads_nothing(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    study = new_uid()
    upload = await share(pacs, "chest.dcm", ct_image(study=study))
    prompt = await pacs.ephemeral(pacs.demo.member, "1 DICOM file, 1 study")
    await pacs.click(pacs.demo.member, IGNORE_ACTION, message=prompt)
    await pacs.ephemeral(pacs.demo.member, "nothing was uploaded")
    assert await pacs.app.services.store.upload_jobs.find(pacs.workspace, upload.file.id) is None
    assert order_of(emulator, study) is None


async def test_a_broken_file_is_explained_to_the_sharer_only(pacs: Scenario) -> None:
    upload = await share(pacs, "cut.dcm", ct_image()[:-300])
    notice = await pacs.ephemeral(pacs.demo.member, "truncated")
    assert "cut.dcm" in rendered_ephemeral(notice)
    assert pacs.slack.state.channel_history(pacs.demo.general, thread_ts=upload.message.ts) == []


def rendered_ephemeral(message: object) -> str:
    return str(getattr(message, "text", "")) + str(getattr(message, "blocks", ""))


async def test_an_anonymized_upload_stores_the_new_values_and_stays_valid(
    pacs: Scenario, emulator: PostDicomEmulator, tmp_path: Path
) -> None:
    study = new_uid()
    original = ct_image(study=study, patient="REAL^PERSON", patient_id="MRN-778899")
    upload = await share(pacs, "chest.dcm", original)
    prompt = await pacs.ephemeral(pacs.demo.member, "1 DICOM file")
    await pacs.click(pacs.demo.member, ANONYMIZE_ACTION, message=prompt)

    modal = await pacs.modal(pacs.demo.member, ANONYMIZE_MODAL)
    initial = {
        block["block_id"]: block["element"].get("initial_value", "")
        for block in modal.blocks
        if block["type"] == "input"
    }
    assert initial["patient_name"] == "ANONYMOUS^PATIENT"
    assert initial["patient_id"].startswith("ANON-")
    assert initial["study_date"] == "2026-01-01"  # the year is kept, the day is not
    assert initial["study_description"] == "CT study"
    chosen = {**initial, "patient_name": "DOE^ANON", "patient_id": "TRIAL-0042", "institution": ""}
    await pacs.submit(modal, {block: {FIELD_ACTION: value} for block, value in chosen.items()})

    await thread_says(pacs, upload.message.ts, "anonymized")
    job = await pacs.app.services.store.upload_jobs.find(pacs.workspace, upload.file.id)
    assert job is not None
    assert order_of(emulator, study) is None  # the study's UID is not the original's any more
    order = order_of(emulator, deidentifier_for(job).new_uid(study))
    assert order is not None
    (instance,) = order.instances.values()
    assert instance.data is not None
    stored = pydicom.dcmread(io.BytesIO(instance.data))
    # The person's values, over the Basic Profile's blanks.
    assert str(stored.PatientName) == "DOE^ANON"
    assert stored.PatientID == "TRIAL-0042"
    assert stored.InstitutionName == "ANONYMIZED"  # X/Z/D: a dummy, the field left empty
    assert stored.StudyDate == "20260101"
    assert stored.AccessionNumber == ""
    assert stored.PatientIdentityRemoved == "YES"
    assert stored.DeidentificationMethodCodeSequence[0].CodeValue == "113100"
    assert stored.StudyInstanceUID.startswith("2.25.")
    assert stored.SOPInstanceUID.startswith("2.25.")
    assert not [element for element in stored if element.tag.is_private]
    assert original.find(b"General Hospital") > 0
    assert b"General Hospital" not in instance.data
    assert len(stored.PixelData) == 64 * 64 * 2
    assert b"REAL^PERSON" not in instance.data
    assert b"MRN-778899" not in instance.data
    dciodvfy = tool("dciodvfy")
    (tmp_path / "original.dcm").write_bytes(original)
    (tmp_path / "stored.dcm").write_bytes(instance.data)
    before = error_lines(run_tool(dciodvfy, str(tmp_path / "original.dcm")).stderr)
    after = error_lines(run_tool(dciodvfy, str(tmp_path / "stored.dcm")).stderr)
    assert after - before == set()


async def test_an_ultrasound_goes_anonymized_once_its_pixels_are_confirmed(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    study = new_uid()
    upload = await share(pacs, "echo.dcm", ct_image(study=study, modality="US"))
    prompt = await pacs.ephemeral(pacs.demo.member, "1 DICOM file")
    await pacs.click(pacs.demo.member, ANONYMIZE_ACTION, message=prompt)
    modal = await pacs.modal(pacs.demo.member, ANONYMIZE_MODAL)
    ticked = {
        "type": "checkboxes",
        "selected_options": [
            {"text": {"type": "plain_text", "text": "checked"}, "value": PIXEL_RISK_CONFIRMED}
        ],
    }
    await pacs.submit(modal, {PIXEL_RISK_BLOCK: {FIELD_ACTION: ticked}})
    await thread_says(pacs, upload.message.ts, "anonymized")
    job = await pacs.app.services.store.upload_jobs.find(pacs.workspace, upload.file.id)
    assert job is not None
    assert job.options.pixel_risk_confirmed
    order = order_of(emulator, deidentifier_for(job).new_uid(study))
    assert order is not None


async def test_the_modal_refuses_values_dicom_cannot_hold(pacs: Scenario) -> None:
    await share(pacs, "chest.dcm", ct_image())
    prompt = await pacs.ephemeral(pacs.demo.member, "1 DICOM file")
    await pacs.click(pacs.demo.member, ANONYMIZE_ACTION, message=prompt)
    modal = await pacs.modal(pacs.demo.member, ANONYMIZE_MODAL)
    await pacs.submit(
        modal, {"study_date": {FIELD_ACTION: "02/11/2026"}, "patient_id": {FIELD_ACTION: "A\\B"}}
    )
    errors = pacs.slack.state.open_views(pacs.demo.member)[-1].definition.get("errors") or {}
    if pacs.transport == "http":
        assert set(errors) == {"study_date", "patient_id"}
    assert await pacs.app.services.store.upload_jobs.counts_by_state() == dict.fromkeys(
        await pacs.app.services.store.upload_jobs.counts_by_state(), 0
    )


async def test_a_document_in_an_order_thread_is_attached_to_that_order(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    await set_channel(pacs, UploadMode.AUTO)
    study = new_uid()
    upload = await share(pacs, "chest.dcm", ct_image(study=study))
    await thread_says(pacs, upload.message.ts, ":white_check_mark:")
    order = order_of(emulator, study)
    assert order is not None
    assert order.documents == []

    report = b"%PDF-1.4\n" + bytes(range(256)) * 40
    document = await share(pacs, "report.pdf", report, thread_ts=upload.message.ts)

    done = await thread_says(pacs, upload.message.ts, "attached to the order")
    assert "report.pdf" in rendered(done)
    assert [item.data for item in order.documents] == [report]
    assert document.message.thread_ts == upload.message.ts


async def test_in_an_ask_channel_a_document_is_attached_after_asking(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    study = new_uid()
    upload = await share(pacs, "chest.dcm", ct_image(study=study))
    prompt = await pacs.ephemeral(pacs.demo.member, "1 DICOM file")
    await pacs.click(pacs.demo.member, UPLOAD_ACTION, message=prompt)
    await thread_says(pacs, upload.message.ts, ":white_check_mark:")

    await share(
        pacs, "photo.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(500), thread_ts=upload.message.ts
    )
    question = await pacs.ephemeral(pacs.demo.member, "Attach")
    await pacs.click(pacs.demo.member, ATTACH_ACTION, message=question)
    await thread_says(pacs, upload.message.ts, "attached to the order")
    order = order_of(emulator, study)
    assert order is not None
    assert len(order.documents) == 1


async def test_a_document_outside_an_order_thread_is_left_alone(pacs: Scenario) -> None:
    await set_channel(pacs, UploadMode.AUTO)
    first = await share(pacs, "report.pdf", b"%PDF-1.4\n" + bytes(100))
    second = await share(pacs, "notes.pdf", b"%PDF-1.4\n" + bytes(100), thread_ts=first.message.ts)
    jobs = pacs.app.services.store.upload_jobs

    async def both_done() -> bool:
        found = [await jobs.find(pacs.workspace, upload.file.id) for upload in (first, second)]
        return all(job is not None and job.state is UploadState.DONE for job in found)

    await until(both_done, what="both documents' jobs to finish")
    assert [message for message in pacs.slack.state.messages if message.bot_id] == []


# --- the copy downloaded for the prompt is the one uploaded -------------------------------------


@pytest.mark.parametrize("keep", [True, False], ids=["kept", "not-kept"])
async def test_upload_after_the_prompt_uses_the_copy_downloaded_for_it(
    tmp_path: Path, emulator: PostDicomEmulator, keep: bool
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    async with connected_scenario(
        tmp_path,
        emulator,
        PACSBOT_UPLOAD_TEMP_DIR=str(scratch),
        PACSBOT_UPLOAD_KEEP_CHECKED_MINUTES="30" if keep else "0",
    ) as world:
        study = new_uid()
        upload = await share(world, "chest.dcm", ct_image(study=study))
        prompt = await world.ephemeral(world.demo.member, "1 DICOM file, 1 study")
        assert len(files_under(scratch)) == (1 if keep else 0)

        await world.click(world.demo.member, UPLOAD_ACTION, message=prompt)
        await thread_says(world, upload.message.ts, "`chest.dcm` is in PostDICOM")
        await workers_idle(world)
        assert world.slack.calls.count(FILE_DOWNLOAD) == (1 if keep else 2)
        order = order_of(emulator, study)
        assert order is not None
        assert len(order.instances) == 1
        assert files_under(scratch) == []


async def test_ignore_removes_the_copy_kept_for_the_upload(
    tmp_path: Path, emulator: PostDicomEmulator
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    async with connected_scenario(tmp_path, emulator, PACSBOT_UPLOAD_TEMP_DIR=str(scratch)) as world:
        await share(world, "chest.dcm", ct_image())
        prompt = await world.ephemeral(world.demo.member, "1 DICOM file, 1 study")
        assert len(files_under(scratch)) == 1
        await world.click(world.demo.member, IGNORE_ACTION, message=prompt)
        await world.ephemeral(world.demo.member, "nothing was uploaded")
        await eventually(lambda: files_under(scratch) == [] or None, what="the kept copy to be removed")
    assert list(scratch.iterdir()) == []  # and its directory goes when the app stops


def files_under(directory: Path) -> list[Path]:
    return [path for path in directory.rglob("*") if path.is_file()]


async def test_the_attach_prompt_names_the_orders_flags(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    study = new_uid()
    upload = await share(pacs, "chest.dcm", ct_image(study=study))
    prompt = await pacs.ephemeral(pacs.demo.member, "1 DICOM file")
    await pacs.click(pacs.demo.member, UPLOAD_ACTION, message=prompt)
    await thread_says(pacs, upload.message.ts, ":white_check_mark:")
    order = order_of(emulator, study)
    assert order is not None
    account(emulator).update_order(order, lambda item: item.flags.update({1: 1}))  # Priority: Urgent
    await share(pacs, "report.pdf", b"%PDF-1.4\n" + bytes(100), thread_ts=upload.message.ts)
    question = await pacs.ephemeral(pacs.demo.member, "Attach")
    assert "Urgent" in rendered(question)
    assert "flag 1" not in rendered(question)


async def test_starting_a_zip_of_three_says_three_images(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    study = new_uid()
    archive = zip_bytes((f"slice{number}.dcm", ct_image(study=study)) for number in range(3))
    await share(pacs, "series.zip", archive)
    prompt = await pacs.ephemeral(pacs.demo.member, "3 DICOM")
    await pacs.click(pacs.demo.member, UPLOAD_ACTION, message=prompt)
    await eventually(lambda: "Uploading" in prompt.text, what="the prompt answered")
    assert prompt.text.startswith("Uploading 3 DICOM images from 1 file"), prompt.text
