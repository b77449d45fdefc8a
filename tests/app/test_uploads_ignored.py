"""Files the app leaves alone are never left in silence: why, once per channel, and how to fix it."""

from __future__ import annotations

from bot.sandbox.postdicom import PostDicomEmulator
from bot.store import UploadMode
from tests.app.harness import Scenario, eventually
from tests.app.pacs_world import save_settings
from tests.app.uploads_support import rendered, set_channel, share
from tests.dicom.samples import ct_image, new_uid

PDF = b"%PDF-1.4\n" + bytes(100)


async def handled(pacs: Scenario) -> None:
    """Wait until every handler the app started has finished."""
    await eventually(lambda: not pacs.app.services.in_flight, what="the handlers to finish")


def said(pacs: Scenario, phrase: str) -> int:
    """Count the member's ephemeral messages that contain a phrase."""
    return sum(phrase in rendered(message) for message in pacs.slack.state.ephemeral_for(pacs.demo.member))


async def test_channel_auto_where_the_bot_is_not_says_it_will_not_see_files(pacs: Scenario) -> None:
    await pacs.command(pacs.demo.admin, "channel auto", channel=pacs.demo.lounge)
    reply = await pacs.ephemeral(pacs.demo.admin, "Saved.")
    assert "I am not in this channel" in rendered(reply)
    assert "/invite @pacsbot" in rendered(reply)
    await pacs.command(pacs.demo.admin, "channel auto")
    saved = await eventually(
        lambda: [m for m in pacs.slack.state.ephemeral_for(pacs.demo.admin) if "Saved." in rendered(m)][1:],
        what="the second answer",
    )
    assert "I am not in this channel" not in rendered(saved[0])


async def test_files_in_a_channel_left_out_of_the_allowed_list_are_explained_once(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    await save_settings(pacs, allowed_channels=(pacs.demo.reading_room.id,))
    await share(pacs, "chest.dcm", ct_image(study=new_uid()))
    await pacs.ephemeral(pacs.demo.member, "/pacs is not allowed here")
    await share(pacs, "again.dcm", ct_image(study=new_uid()))
    await share(pacs, "report.pdf", PDF)
    await handled(pacs)
    assert said(pacs, "/pacs is not allowed here") == 1, "once per channel"
    assert emulator.stats.frames["23:PROCESS_FILE"] == 0


async def test_a_pdf_at_a_channels_root_is_explained_once(pacs: Scenario) -> None:
    await share(pacs, "report.pdf", PDF)
    message = await pacs.ephemeral(pacs.demo.member, "only when they are shared in the thread")
    assert "/pacs search" in rendered(message)
    await share(pacs, "notes.pdf", PDF)
    await set_channel(pacs, UploadMode.AUTO)
    await share(pacs, "more.pdf", PDF)
    await handled(pacs)
    assert said(pacs, "only when they are shared in the thread") == 1


async def test_a_file_of_a_kind_never_uploaded_is_explained_once(pacs: Scenario) -> None:
    await share(pacs, "notes.txt", b"just some words\n" * 20)
    message = await pacs.ephemeral(pacs.demo.member, "unless they are DICOM")
    assert "/pacs help" in rendered(message)
    await share(pacs, "more.txt", b"other words\n" * 20)
    await handled(pacs)
    assert said(pacs, "unless they are DICOM") == 1
