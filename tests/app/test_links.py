"""Order group scenarios: /pacs link and /pacs unlink."""

from __future__ import annotations

from bot.sandbox.postdicom import BRANCH_INSTITUTION_UUID, MAIN_INSTITUTION_UUID, PostDicomEmulator
from bot.sandbox.postdicom.state import NO_GROUP, Order
from bot.store.audit import AuditOutcome
from tests.app.harness import Scenario, eventually
from tests.app.pacs_world import account, audit_has, rendered


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


async def test_link_groups_orders_and_unlink_takes_them_out(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    first, second = synthetic(emulator, MAIN_INSTITUTION_UUID, 2)
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
    first, second, third = synthetic(emulator, MAIN_INSTITUTION_UUID, 3)
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
    first, second = synthetic(emulator, MAIN_INSTITUTION_UUID, 2)
    emulator.faults.set(emulator.account_key, error_rate=1.0, error_targets=["CREATE_ORDER_GROUP"])
    await pacs.command(pacs.demo.member, f"link {first.accession_number} {second.accession_number}")
    await pacs.ephemeral(pacs.demo.member, ":x:")
    assert first.connected_group_uuid == NO_GROUP
    await audit_has(pacs, "order.link", AuditOutcome.FAILED)
