"""Acting on one result of a search keeps the list: the chooser opens over it, its line is redrawn."""

from __future__ import annotations

import json

from bot.sandbox.postdicom import PostDicomEmulator
from bot.sandbox.postdicom.seed import RADIOLOGISTS_GROUP_UUID
from bot.sandbox.slack.model import EphemeralMessage
from bot.ui.assignments import ASSIGN_BLOCK, ASSIGN_MODAL, ASSIGNEE_INPUT
from bot.ui.flags import FLAG_BLOCK, FLAG_INPUT, FLAG_MODAL
from bot.ui.orders import ASSIGN_ACTION, FLAG_ACTION, MORE_ACTION, PICK_ACTION
from bot.ui.values import OrderRef
from tests.app.harness import Scenario, eventually
from tests.app.order_steps import submit
from tests.app.pacs_world import account, folder_named, option_value

PRIORITY, URGENT = 1, 1


def button_values(message: EphemeralMessage, action_id: str) -> list[str]:
    """Return the values of a list's buttons with this action id, in order."""
    return [
        element["value"]
        for block in message.blocks
        for element in block.get("elements", [])
        if element.get("action_id") == action_id
    ]


def result_count(message: EphemeralMessage) -> int:
    return len(button_values(message, FLAG_ACTION))


async def a_list(pacs: Scenario) -> EphemeralMessage:
    await pacs.command(pacs.demo.member, "search mod:CT")
    message = await pacs.ephemeral(pacs.demo.member, "Search results")
    assert result_count(message) == 10
    return message


async def test_flagging_the_third_result_keeps_the_list_and_redraws_its_line(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    listing = await a_list(pacs)
    third = button_values(listing, FLAG_ACTION)[2]
    _, ref = OrderRef.decode(third)
    order = account(emulator).orders[ref.order_uuid]
    order.flags.pop(PRIORITY, None)
    await pacs.click(pacs.demo.member, FLAG_ACTION, message=listing, value=third)
    modal = await pacs.modal(pacs.demo.member, FLAG_MODAL)
    assert result_count(listing) == 10, "the list is still there under the modal"
    await submit(
        pacs, modal, {FLAG_BLOCK: {FLAG_INPUT: {"selected_option": {"value": f"{PRIORITY}.{URGENT}"}}}}
    )
    await eventually(lambda: "set the flag" in json.dumps(listing.blocks), what="the list redrawn")
    assert order.flags[PRIORITY] == URGENT
    assert result_count(listing) == 10, "all ten results are still listed"
    assert button_values(listing, FLAG_ACTION)[2] == third, "in the same place"
    assert not [
        m
        for m in pacs.slack.state.ephemeral_for(pacs.demo.member)
        if m is not listing and "set the flag" in m.text + json.dumps(m.blocks)
    ]


async def test_assigning_a_result_keeps_the_list(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    listing = await a_list(pacs)
    fifth = button_values(listing, ASSIGN_ACTION)[4]
    _, ref = OrderRef.decode(fifth)
    order = account(emulator).orders[ref.order_uuid]
    order.assigned_groups.clear()
    await pacs.click(pacs.demo.member, ASSIGN_ACTION, message=listing, value=fifth)
    modal = await pacs.modal(pacs.demo.member, ASSIGN_MODAL)
    code = f"g:{RADIOLOGISTS_GROUP_UUID}"
    await submit(pacs, modal, {ASSIGN_BLOCK: {ASSIGNEE_INPUT: {"selected_option": {"value": code}}}})
    await eventually(lambda: "assigned this order to" in json.dumps(listing.blocks), what="the list redrawn")
    assert order.assigned_groups == [RADIOLOGISTS_GROUP_UUID]
    assert result_count(listing) == 10


async def test_adding_a_result_to_a_folder_keeps_the_list(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    listing = await a_list(pacs)
    # The stub clicks the first overflow menu of the list.
    _, ref = OrderRef.decode(button_values(listing, FLAG_ACTION)[0])
    await pacs.click(pacs.demo.member, MORE_ACTION, message=listing, value=ref.encode("folder"))
    picker = await pacs.ephemeral(pacs.demo.member, "Add this order to which folder?")
    assert picker is not listing
    chosen = option_value(picker, PICK_ACTION, "Follow-up")
    await pacs.click(pacs.demo.member, PICK_ACTION, message=picker, value=chosen)
    await eventually(lambda: "Added to" in picker.text, what="the picker answered")
    assert ref.order_uuid in folder_named(emulator, "Follow-up").order_uuids
    assert result_count(listing) == 10, "the list is untouched"
