"""``/pacs channel``: admins choose auto, ask or off, a folder (made once confirmed) and anonymization."""

from __future__ import annotations

import io

import pydicom

from bot.jobs.anonymize import deidentifier_for
from bot.sandbox.postdicom import PostDicomEmulator
from bot.store import UploadMode, UploadState
from bot.ui.uploads import CREATE_FOLDERS_ACTION
from tests.app.harness import Scenario
from tests.app.uploads_support import account, order_of, rendered, share, thread_says
from tests.dicom.samples import ct_image, new_uid


async def test_an_admin_sets_auto_with_a_new_folder_and_uploads_land_in_it(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    await pacs.command(pacs.demo.admin, 'channel auto folder:"Inbox/From Slack"')
    question = await pacs.ephemeral(pacs.demo.admin, "does not exist in PostDICOM")
    assert "`Inbox`, `Inbox/From Slack`" in question.text + str(question.blocks)
    await pacs.click(pacs.demo.admin, CREATE_FOLDERS_ACTION, message=question)
    reply = await pacs.ephemeral(pacs.demo.admin, "Saved.")
    assert "*auto*" in reply.text + str(reply.blocks)
    settings = await pacs.app.services.store.channel_settings.get(pacs.workspace, pacs.demo.general.id)
    assert settings.upload_mode is UploadMode.AUTO
    assert settings.target_folder_path == "Inbox/From Slack"
    folder = settings.target_folder_uuid
    assert folder is not None
    assert account(emulator).folders[folder].name == "From Slack"

    study = new_uid()
    upload = await share(pacs, "chest.dcm", ct_image(study=study))
    done = await thread_says(pacs, upload.message.ts, ":white_check_mark:")
    assert "Inbox/From Slack" in rendered(done)
    order = order_of(emulator, study)
    assert order is not None
    assert folder in order.folder_uuids
    entries = await pacs.app.services.store.audit.recent(pacs.workspace)
    assert any(
        entry.action == "channel.settings" and entry.slack_user_id == pacs.demo.admin.id for entry in entries
    )


async def test_the_same_folder_is_reused_not_created_twice(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    await pacs.command(pacs.demo.admin, "channel auto folder:Teaching")
    question = await pacs.ephemeral(pacs.demo.admin, "does not exist in PostDICOM")
    await pacs.click(pacs.demo.admin, CREATE_FOLDERS_ACTION, message=question)
    await pacs.ephemeral(pacs.demo.admin, "Saved.")
    await pacs.command(pacs.demo.admin, "channel ask folder:teaching")
    await pacs.ephemeral(pacs.demo.admin, "*ask*")
    named = [folder for folder in account(emulator).folders.values() if folder.name.lower() == "teaching"]
    assert len(named) == 1


async def test_anonymize_by_default_rewrites_uploads_in_auto_mode(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    await pacs.command(pacs.demo.admin, "channel auto anonymize:on")
    await pacs.ephemeral(pacs.demo.admin, "anonymized by default")
    study = new_uid()
    upload = await share(pacs, "chest.dcm", ct_image(study=study, patient="REAL^PERSON"))
    await thread_says(pacs, upload.message.ts, "anonymized")
    job = await pacs.app.services.store.upload_jobs.find(pacs.workspace, upload.file.id)
    assert job is not None
    order = order_of(emulator, deidentifier_for(job).new_uid(study))
    assert order is not None
    (instance,) = order.instances.values()
    assert instance.data is not None
    stored = pydicom.dcmread(io.BytesIO(instance.data))
    assert str(stored.PatientName) == "ANONYMOUS^PATIENT"
    assert stored.PatientID.startswith("ANON-")
    assert stored.PatientIdentityRemoved == "YES"


async def test_an_ultrasound_is_held_back_until_someone_confirms_its_pixels(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    await pacs.command(pacs.demo.admin, "channel auto anonymize:on")
    await pacs.ephemeral(pacs.demo.admin, "anonymized by default")
    study = new_uid()
    upload = await share(pacs, "echo.dcm", ct_image(study=study, modality="US"))
    await thread_says(pacs, upload.message.ts, "burned-in text")
    job = await pacs.app.services.store.upload_jobs.find(pacs.workspace, upload.file.id)
    assert job is not None
    assert job.state is UploadState.FAILED
    assert order_of(emulator, study) is None
    assert order_of(emulator, deidentifier_for(job).new_uid(study)) is None


async def test_members_may_look_but_not_change(pacs: Scenario) -> None:
    await pacs.command(pacs.demo.member, "channel")
    shown = await pacs.ephemeral(pacs.demo.member, "Uploads in")
    assert "*ask*" in str(shown.blocks)
    await pacs.command(pacs.demo.member, "channel auto")
    await pacs.ephemeral(pacs.demo.member, "Only workspace admins")
    settings = await pacs.app.services.store.channel_settings.get(pacs.workspace, pacs.demo.general.id)
    assert settings.upload_mode is UploadMode.ASK


async def test_nonsense_gets_an_example(pacs: Scenario) -> None:
    await pacs.command(pacs.demo.admin, "channel sometimes")
    reply = await pacs.ephemeral(pacs.demo.admin, "Try:")
    assert "/pacs channel auto" in reply.text
    await pacs.command(pacs.demo.admin, "channel auto folder:Inbox/From Slack")
    await pacs.ephemeral(pacs.demo.admin, "in quotes")


async def test_missing_folders_are_created_only_once_confirmed(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    folders_before = len(account(emulator).folders)
    await pacs.command(pacs.demo.admin, "channel auto folder:Nope/Missing")
    question = await pacs.ephemeral(pacs.demo.admin, "does not exist in PostDICOM")
    assert "`Nope`, `Nope/Missing`" in question.text + str(question.blocks)
    assert len(account(emulator).folders) == folders_before, "nothing created before the answer"
    settings = await pacs.app.services.store.channel_settings.get(pacs.workspace, pacs.demo.general.id)
    assert settings.upload_mode is UploadMode.ASK, "nothing saved before the answer"
    await pacs.command(pacs.demo.admin, "channel auto folder:Cases")
    await pacs.ephemeral(pacs.demo.admin, "Saved.")
    assert len(account(emulator).folders) == folders_before, "an existing folder needs no question"
