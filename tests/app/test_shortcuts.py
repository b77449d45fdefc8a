"""Shortcuts: "Upload to PostDICOM" on a message with files, and the global "New order"."""

from __future__ import annotations

from pathlib import Path

from bot.sandbox.postdicom import PostDicomEmulator
from bot.store import UploadMode
from bot.ui import order_forms as forms
from commands.orders import NEW_ORDER_SHORTCUT
from commands.uploads import UPLOAD_SHORTCUT
from tests.app.harness import connected_scenario
from tests.app.test_subscriptions import EXPLICIT_POLLS
from tests.app.uploads_support import order_of, set_channel, share, thread_says
from tests.dicom.samples import ct_image, new_uid


async def test_upload_to_postdicom_uploads_a_message_the_channel_did_not(
    tmp_path: Path, emulator: PostDicomEmulator
) -> None:
    async with connected_scenario(tmp_path, emulator, **EXPLICIT_POLLS) as world:
        await set_channel(world, UploadMode.OFF)
        study = new_uid()
        upload = await share(world, "head.dcm", ct_image(study=study))
        assert order_of(emulator, study) is None
        payload = world.slack.payloads.message_shortcut(
            user=world.demo.member, message=upload.message, callback_id=UPLOAD_SHORTCUT
        )
        await world.send(payload)
        await thread_says(world, upload.message.ts, ":white_check_mark:")
        assert order_of(emulator, study) is not None


async def test_upload_to_postdicom_on_a_message_without_files_says_so(
    tmp_path: Path, emulator: PostDicomEmulator
) -> None:
    async with connected_scenario(tmp_path, emulator, **EXPLICIT_POLLS) as world:
        message = world.slack.state.post_message(
            world.demo.general, text="no files", author=world.demo.member
        )
        payload = world.slack.payloads.message_shortcut(
            user=world.demo.member, message=message, callback_id=UPLOAD_SHORTCUT
        )
        await world.send(payload)
        await world.ephemeral(world.demo.member, "no files to upload")


async def test_the_new_order_shortcut_opens_the_order_form(
    tmp_path: Path, emulator: PostDicomEmulator
) -> None:
    async with connected_scenario(tmp_path, emulator, **EXPLICIT_POLLS) as world:
        await world.send(
            world.slack.payloads.global_shortcut(user=world.demo.member, callback_id=NEW_ORDER_SHORTCUT)
        )
        await world.modal(world.demo.member, forms.NEW_ORDER_CALLBACK, containing=forms.PATIENT_NAME)
