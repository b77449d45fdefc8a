"""Cards in channel messages stay editable: Flag or Assign on one study card of five in an upload thread.

The upload's thread message holds five study cards, more than a modal's 3,000-character
``private_metadata`` can carry around the card: the app keeps that context server-side.
"""

from __future__ import annotations

import json

from bot.sandbox.postdicom import PostDicomEmulator
from bot.sandbox.postdicom.seed import RADIOLOGISTS_GROUP_UUID
from bot.sandbox.slack import Message
from bot.store import UploadMode
from bot.ui.assignments import ASSIGN_BLOCK, ASSIGN_MODAL, ASSIGNEE_INPUT
from bot.ui.flags import FLAG_BLOCK, FLAG_INPUT, FLAG_MODAL
from bot.ui.orders import ASSIGN_ACTION, FLAG_ACTION
from tests.app.harness import Scenario, eventually
from tests.app.order_steps import submit
from tests.app.uploads_support import bot_replies, order_of, rendered, set_channel, share_many, workers_idle
from tests.dicom.samples import ct_image, new_uid

PRIORITY, URGENT = 1, 1


def button_values(blocks: list[dict[str, object]], action_id: str = FLAG_ACTION) -> list[str]:
    return [
        str(element["value"])
        for block in blocks
        if block.get("type") == "actions"
        for element in block.get("elements", [])  # type: ignore[attr-defined]
        if element.get("action_id") == action_id
    ]


async def five_study_cards(pacs: Scenario) -> tuple[Message, list[str]]:
    """Share five studies in one message; return the thread message with their five cards, and the studies."""
    await set_channel(pacs, UploadMode.AUTO)
    studies = [new_uid() for _ in range(5)]
    files = [(f"study{index}.dcm", ct_image(study=study)) for index, study in enumerate(studies)]
    message = share_many(pacs, files)
    await pacs.send(pacs.slack.payloads.message_event(message))
    await workers_idle(pacs, within=60)

    def five_cards() -> bool:
        replies = bot_replies(pacs, message.ts)
        return len(replies) == 1 and len(button_values(replies[0].blocks)) == 5

    await eventually(five_cards, within=60, what="one thread message with five study cards")
    [reply] = bot_replies(pacs, message.ts)
    return reply, studies


async def test_flag_on_the_fifth_study_card_of_an_upload_thread_redraws_that_card(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    reply, studies = await five_study_cards(pacs)
    before = json.dumps(reply.blocks)
    last = button_values(reply.blocks)[-1]
    await pacs.click(pacs.demo.admin, FLAG_ACTION, message=reply, value=last)
    view = await pacs.modal(pacs.demo.admin, FLAG_MODAL)
    assert len(str(view.definition.get("private_metadata", ""))) <= 3000
    await submit(pacs, view, {FLAG_BLOCK: {FLAG_INPUT: f"{PRIORITY}.{URGENT}"}})
    await eventually(
        lambda: ":triangular_flag_on_post: Urgent" in rendered(reply), within=15, what="the card redrawn"
    )
    flagged = order_of(emulator, studies[-1])
    assert flagged is not None
    assert flagged.flags == {PRIORITY: URGENT}
    assert rendered(reply).count(":triangular_flag_on_post: Urgent") == 1
    assert ":triangular_flag_on_post: Urgent" not in before
    # The other four cards and the file lines are as they were.
    assert button_values(reply.blocks) == button_values(json.loads(before))


async def test_assign_on_the_third_study_card_of_an_upload_thread_redraws_that_card(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    reply, studies = await five_study_cards(pacs)
    third = button_values(reply.blocks, ASSIGN_ACTION)[2]
    await pacs.click(pacs.demo.member, ASSIGN_ACTION, message=reply, value=third)
    view = await pacs.modal(pacs.demo.member, ASSIGN_MODAL)
    await submit(pacs, view, {ASSIGN_BLOCK: {ASSIGNEE_INPUT: f"g:{RADIOLOGISTS_GROUP_UUID}"}})
    await eventually(
        lambda: ":bust_in_silhouette: Radiologists" in rendered(reply), within=15, what="the card redrawn"
    )
    assigned = order_of(emulator, studies[2])
    assert assigned is not None
    assert assigned.assigned_groups == [RADIOLOGISTS_GROUP_UUID]
    assert rendered(reply).count(":bust_in_silhouette: Radiologists") == 1
