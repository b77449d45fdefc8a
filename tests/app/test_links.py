"""Order group scenarios: /pacs link and /pacs unlink."""

from __future__ import annotations

from bot.sandbox.postdicom import BRANCH_INSTITUTION_UUID, MAIN_INSTITUTION_UUID, PostDicomEmulator
from bot.sandbox.postdicom.state import NO_GROUP, Order
from bot.store import PhiDisplay
from bot.store.audit import AuditOutcome
from bot.ui.order_details import LINK_CONFIRM_ACTION
from tests.app.harness import Scenario, eventually
from tests.app.pacs_world import account, audit_has, rendered, save_settings


def synthetic(emulator: PostDicomEmulator, institution: str, count: int) -> list[Order]:
    orders = sorted(
        (
            order
            for order in account(emulator).live_orders()
            if order.accession_number.startswith("ACC") and order.institution_uuid == institution
        ),
        key=lambda order: order.accession_number,
    )
    return orders[:count]


def one_patient(emulator: PostDicomEmulator, institution: str, count: int) -> list[Order]:
    """Return synthetic orders made into the same patient's (the seed gives each its own patient)."""
    orders = synthetic(emulator, institution, count)

    def same(order: Order) -> None:
        order.patient_id, order.patient_name = orders[0].patient_id, orders[0].patient_name

    for order in orders[1:]:
        account(emulator).update_order(order, same)
    return orders


async def test_link_groups_orders_and_unlink_takes_them_out(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    first, second = one_patient(emulator, MAIN_INSTITUTION_UUID, 2)
    await pacs.command(pacs.demo.member, f"link {first.accession_number} {second.accession_number}")
    message = await pacs.ephemeral(pacs.demo.member, "Linked 2 orders")
    assert first.accession_number in rendered(message)
    assert first.connected_group_uuid != NO_GROUP
    assert first.connected_group_uuid == second.connected_group_uuid
    orders, _ = await audit_has(pacs, "order.link", AuditOutcome.SUCCEEDED)
    assert set(orders) == {first.uuid, second.uuid}
    await pacs.command(pacs.demo.member, f"unlink {first.accession_number} {second.accession_number}")
    await pacs.ephemeral(pacs.demo.member, "Unlinked 2 orders")
    assert first.connected_group_uuid == second.connected_group_uuid == NO_GROUP
    await audit_has(pacs, "order.unlink", AuditOutcome.SUCCEEDED)


async def test_linking_to_a_grouped_order_joins_its_group(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    first, second, third = one_patient(emulator, MAIN_INSTITUTION_UUID, 3)
    await pacs.command(pacs.demo.member, f"link {first.accession_number} {second.accession_number}")
    await pacs.ephemeral(pacs.demo.member, "Linked 2 orders")
    group = first.connected_group_uuid
    await pacs.command(pacs.demo.member, f"group {third.accession_number} {second.accession_number}")
    await eventually(lambda: third.connected_group_uuid == group, what="the third order in the group")
    assert {order.connected_group_uuid for order in (first, second, third)} == {group}


async def test_unlinking_an_order_that_is_not_linked_says_so(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    [order] = synthetic(emulator, MAIN_INSTITUTION_UUID, 1)
    await pacs.command(pacs.demo.member, f"unlink {order.accession_number}")
    await pacs.ephemeral(pacs.demo.member, "nothing to undo")


async def test_an_ambiguous_reference_lists_its_orders(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    [order] = synthetic(emulator, MAIN_INSTITUTION_UUID, 1)
    await pacs.command(pacs.demo.member, f'link {order.accession_number} "nakamura nils"')
    message = await pacs.ephemeral(pacs.demo.member, "matches 3 orders")
    assert "Give their accession numbers" in rendered(message)
    assert "Nakamura" not in rendered(message), "initials by default"
    assert order.connected_group_uuid == NO_GROUP


async def test_orders_of_different_institutions_cannot_be_linked(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    [main] = synthetic(emulator, MAIN_INSTITUTION_UUID, 1)
    [branch] = synthetic(emulator, BRANCH_INSTITUTION_UUID, 1)
    await pacs.command(pacs.demo.member, f"link {main.accession_number} {branch.accession_number}")
    await pacs.ephemeral(pacs.demo.member, "same institution")
    assert main.connected_group_uuid == branch.connected_group_uuid == NO_GROUP


async def test_link_needs_two_known_orders(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    [order] = synthetic(emulator, MAIN_INSTITUTION_UUID, 1)
    await pacs.command(pacs.demo.member, f"link {order.accession_number}")
    await pacs.ephemeral(pacs.demo.member, "at least two orders")
    await pacs.command(pacs.demo.member, f"link {order.accession_number} {order.accession_number}")
    await pacs.ephemeral(pacs.demo.member, "all name the same order")
    await pacs.command(pacs.demo.member, f"link {order.accession_number} NOSUCHACC")
    await pacs.ephemeral(pacs.demo.member, "No order matches `NOSUCHACC`")


async def test_postdicom_refusing_the_group_is_said_and_audited(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    first, second = one_patient(emulator, MAIN_INSTITUTION_UUID, 2)
    emulator.faults.set(emulator.account_key, error_rate=1.0, error_targets=["CREATE_ORDER_GROUP"])
    await pacs.command(pacs.demo.member, f"link {first.accession_number} {second.accession_number}")
    await pacs.ephemeral(pacs.demo.member, ":x:")
    assert first.connected_group_uuid == NO_GROUP
    await audit_has(pacs, "order.link", AuditOutcome.FAILED)


async def test_orders_of_different_patients_are_linked_only_once_confirmed(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    first, second = synthetic(emulator, MAIN_INSTITUTION_UUID, 2)
    assert first.patient_id != second.patient_id
    assert first.patient_name != second.patient_name
    await save_settings(pacs, phi_display=PhiDisplay.FULL)
    await pacs.command(pacs.demo.member, f"link {first.accession_number} {second.accession_number}")
    question = await pacs.ephemeral(pacs.demo.member, "different patients")
    assert first.connected_group_uuid == second.connected_group_uuid == NO_GROUP
    [button] = [
        element
        for block in question.blocks
        for element in block.get("elements", [])
        if element.get("action_id") == LINK_CONFIRM_ACTION
    ]
    dialog = button["confirm"]["text"]["text"]
    for order in (first, second):
        assert order.patient_id in dialog, "the dialog names each patient"
        assert order.patient_name.split("^")[0].title() in dialog
    await pacs.click(pacs.demo.member, LINK_CONFIRM_ACTION, message=question)
    await pacs.ephemeral(pacs.demo.member, "Linked 2 orders")
    assert first.connected_group_uuid != NO_GROUP
    assert first.connected_group_uuid == second.connected_group_uuid


async def test_the_link_dialog_keeps_to_the_phi_setting(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    first, second = synthetic(emulator, MAIN_INSTITUTION_UUID, 2)
    await save_settings(pacs, phi_display=PhiDisplay.HIDDEN)
    await pacs.command(pacs.demo.member, f"link {first.accession_number} {second.accession_number}")
    question = await pacs.ephemeral(pacs.demo.member, "different patients")
    shown = rendered(question)
    for order in (first, second):
        assert order.patient_id not in shown
        assert order.patient_name.split("^")[0].title() not in shown
        assert order.accession_number in shown


async def test_a_forged_link_confirmation_links_nothing(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    first, second = synthetic(emulator, MAIN_INSTITUTION_UUID, 2)
    await pacs.command(pacs.demo.member, f"link {first.accession_number} {second.accession_number}")
    question = await pacs.ephemeral(pacs.demo.member, "different patients")
    await pacs.click(pacs.demo.member, LINK_CONFIRM_ACTION, message=question, value=f"link:{first.uuid}:")
    await pacs.ephemeral(pacs.demo.member, "not one of mine")
    assert first.connected_group_uuid == NO_GROUP


async def test_unlinking_one_of_two_orders_unlinks_the_other_too(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    first, second, third = one_patient(emulator, MAIN_INSTITUTION_UUID, 3)
    await pacs.command(pacs.demo.member, f"link {first.accession_number} {second.accession_number}")
    await pacs.ephemeral(pacs.demo.member, "Linked 2 orders")
    await pacs.command(pacs.demo.member, f"unlink {first.accession_number}")
    message = await pacs.ephemeral(pacs.demo.member, "Unlinked 1 order")
    assert second.accession_number in rendered(message), "the message says the other one went too"
    assert first.connected_group_uuid == second.connected_group_uuid == NO_GROUP
    assert third.connected_group_uuid == NO_GROUP


async def test_unlinking_one_of_three_keeps_the_other_two_linked(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    first, second, third = one_patient(emulator, MAIN_INSTITUTION_UUID, 3)
    await pacs.command(
        pacs.demo.member, f"link {first.accession_number} {second.accession_number} {third.accession_number}"
    )
    await pacs.ephemeral(pacs.demo.member, "Linked 3 orders")
    group = second.connected_group_uuid
    await pacs.command(pacs.demo.member, f"unlink {first.accession_number}")
    await pacs.ephemeral(pacs.demo.member, "Unlinked 1 order")
    assert first.connected_group_uuid == NO_GROUP
    assert second.connected_group_uuid == third.connected_group_uuid == group != NO_GROUP
