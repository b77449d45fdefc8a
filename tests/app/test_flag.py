"""Flag scenarios: by name, from menus and modals, cards redrawn in place, and one dictionary call."""

from __future__ import annotations

import asyncio

from bot.sandbox.postdicom import CT_ORDER_UUID, PostDicomEmulator
from bot.store import AuditOutcome
from bot.ui.flags import FLAG_BLOCK, FLAG_CHOICE_ACTION, FLAG_INPUT, FLAG_MODAL
from bot.ui.orders import FLAG_ACTION, PICK_ACTION
from bot.ui.values import OrderRef
from tests.app.harness import Scenario, eventually
from tests.app.order_steps import (
    audit_entries,
    audited,
    channel_message,
    ct_order,
    ct_value,
    rendered,
    search_card,
    submit,
)

PRIORITY, READING = 1, 2
URGENT, ROUTINE, UNREAD, READ, REPORTED = 1, 2, 3, 4, 5
DICTIONARY_FRAME = "17:GET_ACCOUNT_FLAG_DICTIONARY"


async def test_flag_by_name_sets_it_and_shows_the_card(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    await pacs.command(pacs.demo.member, "flag 1CT1 urgent")
    message = await pacs.ephemeral(pacs.demo.member, "set the flag")
    assert ct_order(emulator).flags == {PRIORITY: URGENT}
    text = rendered(message)
    assert "*Priority: Urgent*" in text
    assert ":triangular_flag_on_post: Urgent" in text
    entry = await audited(pacs, "order.flag")
    assert (entry.outcome, entry.order_uuids) == (AuditOutcome.SUCCEEDED, (CT_ORDER_UUID,))


async def test_flag_names_may_carry_their_group(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    await pacs.command(pacs.demo.member, "flag 1CT1 reading:read")
    await pacs.ephemeral(pacs.demo.member, "Reading: Read")
    assert ct_order(emulator).flags == {READING: READ}
    await pacs.command(pacs.demo.member, "flag 1CT1 REPORTED")
    await pacs.ephemeral(pacs.demo.member, "Reading: Reported")
    assert ct_order(emulator).flags == {READING: REPORTED}


async def test_without_a_name_a_menu_offers_the_flags(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    await pacs.command(pacs.demo.member, "flag 1CT1")
    chooser = await pacs.ephemeral(pacs.demo.member, "Which flag should this order get?")
    text = rendered(chooser)
    for name in ("Priority", "Urgent", "Routine", "Reading", "Unread", "Read", "Reported"):
        assert name in text
    await pacs.click(
        pacs.demo.member, FLAG_CHOICE_ACTION, message=chooser, value=ct_value("flag", f"{READING}.{UNREAD}")
    )
    await eventually(lambda: "set the flag" in rendered(chooser), what="the menu replaced by the card")
    assert ct_order(emulator).flags == {READING: UNREAD}
    assert FLAG_CHOICE_ACTION not in rendered(chooser)
    assert ":triangular_flag_on_post: Unread" in rendered(chooser)


async def test_an_ambiguous_flag_name_is_never_guessed(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    await pacs.command(pacs.demo.member, "flag 1CT1 re")
    chooser = await pacs.ephemeral(pacs.demo.member, "More than one flag fits")
    text = rendered(chooser)
    assert "Reading: Read" in text
    assert "Reading: Reported" in text
    assert "Urgent" not in text
    assert ct_order(emulator).flags == {}
    await pacs.click(
        pacs.demo.member, FLAG_CHOICE_ACTION, message=chooser, value=ct_value("flag", f"{READING}.{REPORTED}")
    )
    await eventually(lambda: "set the flag" in rendered(chooser), what="the flag set")
    assert ct_order(emulator).flags == {READING: REPORTED}


async def test_an_unknown_flag_name_offers_the_closest(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    await pacs.command(pacs.demo.member, "flag 1CT1 urgnet")
    chooser = await pacs.ephemeral(pacs.demo.member, "No flag is called exactly “urgnet”")
    assert "Urgent" in rendered(chooser)
    await pacs.command(pacs.demo.member, "flag 1CT1 xyzzy")
    chooser = await pacs.ephemeral(pacs.demo.member, "No flag is called “xyzzy”")
    assert "Reported" in rendered(chooser)
    assert ct_order(emulator).flags == {}


async def test_a_stale_menu_choice_is_offered_again(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    await pacs.command(pacs.demo.member, "flag compressedsamples")
    picker = await pacs.ephemeral(pacs.demo.member, "Which order should I flag?")
    # A value from a menu made before the dictionary lost that flag.
    await pacs.click(pacs.demo.member, PICK_ACTION, message=picker, value=ct_value("flag", "9.9"))
    await eventually(
        lambda: "no longer in the account's dictionary" in rendered(picker), what="the flags again"
    )
    assert FLAG_CHOICE_ACTION in rendered(picker)
    assert ct_order(emulator).flags == {}


async def test_an_ambiguous_order_gets_a_picker_then_the_flag(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    await pacs.command(pacs.demo.member, "flag compressedsamples urgent")
    picker = await pacs.ephemeral(pacs.demo.member, "Which order should I flag?")
    await pacs.click(pacs.demo.member, PICK_ACTION, message=picker, value=ct_value("flag", options="urgent"))
    await eventually(lambda: "set the flag" in rendered(picker), what="the picker replaced by the card")
    assert ct_order(emulator).flags == {PRIORITY: URGENT}


async def test_flag_of_an_unknown_order_says_so(pacs: Scenario) -> None:
    await pacs.command(pacs.demo.member, "flag NO-SUCH-ORDER urgent")
    await pacs.ephemeral(pacs.demo.member, "No order matches")


async def test_the_flag_button_turns_the_results_into_a_menu_then_the_card(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    results = await search_card(pacs, pacs.demo.member)
    await pacs.click(pacs.demo.member, FLAG_ACTION, message=results)
    await eventually(lambda: FLAG_CHOICE_ACTION in rendered(results), what="the menu in place")
    await pacs.click(
        pacs.demo.member, FLAG_CHOICE_ACTION, message=results, value=ct_value("flag", f"{PRIORITY}.{ROUTINE}")
    )
    await eventually(
        lambda: ":triangular_flag_on_post: Routine" in rendered(results), what="the card in place"
    )
    assert ct_order(emulator).flags == {PRIORITY: ROUTINE}


async def test_the_flag_button_on_a_channel_card_opens_a_modal_and_redraws_the_card(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    await pacs.command(pacs.demo.member, "share 1CT1")
    shared = await channel_message(pacs, "shared a study")
    link_before = shared.blocks[0]
    terms_before = shared.blocks[-1]
    await pacs.click(pacs.demo.admin, FLAG_ACTION, message=shared)
    view = await pacs.modal(pacs.demo.admin, FLAG_MODAL)
    assert not shared.edited_ts
    await submit(pacs, view, {FLAG_BLOCK: {FLAG_INPUT: f"{PRIORITY}.{URGENT}"}})
    await eventually(
        lambda: ":triangular_flag_on_post: Urgent" in rendered(shared), what="the channel card redrawn"
    )
    assert ct_order(emulator).flags == {PRIORITY: URGENT}
    assert shared.blocks[0] == link_before
    assert shared.blocks[-1] == terms_before
    assert shared.edited_ts
    entry = await audited(pacs, "order.flag")
    assert entry.slack_user_id == pacs.demo.admin.id


async def test_postdicom_refusing_a_flag_is_answered_and_audited(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    emulator.faults.set(emulator.account_key, error_rate=1.0, error_targets=["17:31"])
    await pacs.command(pacs.demo.member, "flag 1CT1 urgent")
    await pacs.ephemeral(pacs.demo.member, "PostDICOM refused to set that flag")
    assert ct_order(emulator).flags == {}
    entry = await audited(pacs, "order.flag")
    assert (entry.outcome, entry.error_code) == (AuditOutcome.FAILED, "postdicom_refused")


async def test_a_hundred_concurrent_flags_make_one_dictionary_call(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    pacs.app.services.dictionaries.invalidate(pacs.workspace.key)
    emulator.stats.reset()
    await asyncio.gather(*(pacs.command(pacs.demo.member, "flag 1CT1 urgent") for _ in range(100)))

    def answered() -> bool:
        # Those that read the order after another set the flag say it was set already.
        done = [
            m
            for m in pacs.slack.state.ephemeral_for(pacs.demo.member)
            if "set the flag" in m.text or "already has the flag" in m.text
        ]
        return len(done) == 100

    await eventually(answered, within=60, what="100 answers")
    assert emulator.stats.frames[DICTIONARY_FRAME] == 1
    assert ct_order(emulator).flags == {PRIORITY: URGENT}


async def test_a_channel_card_that_is_gone_gets_the_result_privately(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    await pacs.command(pacs.demo.member, "share 1CT1")
    shared = await channel_message(pacs, "shared a study")
    await pacs.click(pacs.demo.member, FLAG_ACTION, message=shared)
    view = await pacs.modal(pacs.demo.member, FLAG_MODAL)
    pacs.slack.state.delete_message(shared)
    await submit(pacs, view, {FLAG_BLOCK: {FLAG_INPUT: f"{READING}.{READ}"}})
    message = await pacs.ephemeral(pacs.demo.member, "set the flag")
    assert ":triangular_flag_on_post: Read" in rendered(message)
    assert ct_order(emulator).flags == {READING: READ}


async def test_a_button_for_an_order_of_another_account_does_nothing(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    results = await search_card(pacs, pacs.demo.member)
    foreign = OrderRef("0badc0de-0000-4000-8000-000000000000").encode("flag")
    await pacs.click(pacs.demo.member, FLAG_ACTION, message=results, value=foreign)
    await pacs.ephemeral(pacs.demo.member, "PostDICOM refused")
    assert FLAG_CHOICE_ACTION not in rendered(results)
    assert not await audit_entries(pacs, "order.flag")


async def test_unflag_takes_a_flag_off_and_keeps_the_others(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    await pacs.command(pacs.demo.member, "flag 1CT1 urgent")
    await pacs.ephemeral(pacs.demo.member, "Priority: Urgent")
    await pacs.command(pacs.demo.member, "flag 1CT1 reading:read")
    await pacs.ephemeral(pacs.demo.member, "Reading: Read")
    await pacs.command(pacs.demo.member, "unflag 1CT1 urgent")
    message = await pacs.ephemeral(pacs.demo.member, "cleared the *Priority* flag")
    assert ct_order(emulator).flags == {READING: READ}
    assert ":triangular_flag_on_post: Read" in rendered(message)
    entry = await audited(pacs, "order.unflag")
    assert (entry.outcome, entry.order_uuids) == (AuditOutcome.SUCCEEDED, (CT_ORDER_UUID,))


async def test_unflag_by_group_and_by_minus_sign(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    await pacs.command(pacs.demo.member, "flag 1CT1 reported")
    await pacs.ephemeral(pacs.demo.member, "Reading: Reported")
    await pacs.command(pacs.demo.member, "unflag 1CT1 reading")
    await pacs.ephemeral(pacs.demo.member, "cleared the *Reading* flag")
    assert ct_order(emulator).flags == {}
    await pacs.command(pacs.demo.member, "flag 1CT1 urgent")
    await pacs.ephemeral(pacs.demo.member, "Priority: Urgent")
    await pacs.command(pacs.demo.member, "flag 1CT1 -urgent")
    await pacs.ephemeral(pacs.demo.member, "cleared the *Priority* flag")
    assert ct_order(emulator).flags == {}


async def test_unflag_of_a_flag_the_order_lacks_changes_nothing(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    await pacs.command(pacs.demo.member, "unflag 1CT1 urgent")
    await pacs.ephemeral(pacs.demo.member, "no flag, so there was nothing to clear")
    await pacs.command(pacs.demo.member, "flag 1CT1 routine")
    await pacs.ephemeral(pacs.demo.member, "Priority: Routine")
    await pacs.command(pacs.demo.member, "unflag 1CT1 urgent")
    message = await pacs.ephemeral(pacs.demo.member, "does not have the flag")
    assert "Routine" in rendered(message)
    assert ct_order(emulator).flags == {PRIORITY: ROUTINE}


async def test_the_flag_menu_clears_a_set_group(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    await pacs.command(pacs.demo.member, "flag 1CT1 urgent")
    await pacs.ephemeral(pacs.demo.member, "Priority: Urgent")
    await pacs.command(pacs.demo.member, "flag 1CT1")
    chooser = await pacs.ephemeral(pacs.demo.member, "Which flag should this order get?")
    assert "Clear (no flag)" in rendered(chooser)
    assert f'"{ct_value("flag", f"{READING}.0")}"' not in rendered(chooser), "no Clear for an empty group"
    await pacs.click(
        pacs.demo.member, FLAG_CHOICE_ACTION, message=chooser, value=ct_value("flag", f"{PRIORITY}.0")
    )
    await eventually(lambda: "cleared the" in rendered(chooser), what="the flag cleared")
    assert ct_order(emulator).flags == {}


async def test_choosing_the_flag_already_set_says_so(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    await pacs.command(pacs.demo.member, "flag 1CT1 urgent")
    await pacs.ephemeral(pacs.demo.member, "Priority: Urgent")
    await pacs.command(pacs.demo.member, "flag 1CT1 urgent")
    await pacs.ephemeral(pacs.demo.member, "already has the flag")
    assert ct_order(emulator).flags == {PRIORITY: URGENT}
    assert emulator.stats.frames["17:SET_FLAG_TO_PATIENT_ORDER"] == 1, "set once, not again"
