"""Shortcuts: "Upload to PostDICOM" on a message with files, and the global "New order"."""

from __future__ import annotations

import json
from pathlib import Path

from bot.sandbox.postdicom import PostDicomEmulator
from bot.store import UploadMode
from bot.ui import order_forms as forms
from bot.ui import uploads as uploads_ui
from commands.orders import NEW_ORDER_SHORTCUT
from commands.uploads import ATTACH_SHORTCUT, UPLOAD_SHORTCUT
from tests.app.harness import connected_scenario
from tests.app.pacs_world import order_where
from tests.app.test_subscriptions import EXPLICIT_POLLS
from tests.app.uploads_support import bot_replies, order_of, set_channel, share, thread_says
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


async def test_attach_to_order_puts_a_document_on_the_order_named(
    tmp_path: Path, emulator: PostDicomEmulator
) -> None:
    async with connected_scenario(tmp_path, emulator, **EXPLICIT_POLLS) as world:
        await set_channel(world, UploadMode.OFF)
        target = order_where(emulator, lambda order: order.accession_number.startswith("ACC"))
        before = len(target.documents)
        report = b"%PDF-1.4\n" + bytes(range(256)) * 8
        document = await share(world, "report.pdf", report)
        payload = world.slack.payloads.message_shortcut(
            user=world.demo.member, message=document.message, callback_id=ATTACH_SHORTCUT
        )
        await world.send(payload)
        modal = await world.modal(world.demo.member, uploads_ui.ATTACH_MODAL)
        await world.submit(
            modal, {uploads_ui.ATTACH_ORDER_BLOCK: {uploads_ui.FIELD_ACTION: target.accession_number}}
        )
        await thread_says(world, document.message.ts, "attached to the order")
        assert len(target.documents) == before + 1
        assert target.documents[-1].data == report


async def test_an_attach_submission_delivered_twice_attaches_once(
    tmp_path: Path, emulator: PostDicomEmulator
) -> None:
    async with connected_scenario(tmp_path, emulator, **EXPLICIT_POLLS) as world:
        await set_channel(world, UploadMode.OFF)
        target = order_where(emulator, lambda order: order.accession_number.startswith("ACC"))
        before = len(target.documents)
        document = await share(world, "report.pdf", b"%PDF-1.4\n" + bytes(range(256)) * 8)
        await world.send(
            world.slack.payloads.message_shortcut(
                user=world.demo.member, message=document.message, callback_id=ATTACH_SHORTCUT
            )
        )
        modal = await world.modal(world.demo.member, uploads_ui.ATTACH_MODAL)
        values = {uploads_ui.ATTACH_ORDER_BLOCK: {uploads_ui.FIELD_ACTION: target.accession_number}}
        # The same submission twice, as Slack resends one whose answer it did not see in time.
        payload = world.slack.payloads.view_submission(view=modal, user=world.demo.member, values=values)
        await world.send(payload)
        await world.send(payload)
        await thread_says(world, document.message.ts, "attached to the order")
        replies = bot_replies(world, document.message.ts)
        attaching = [reply for reply in replies if "is attaching this thread" in json.dumps(reply.blocks)]
        assert len(attaching) == 1
        assert len(target.documents) == before + 1
