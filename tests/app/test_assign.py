"""Assign, unassign and location scenarios: Slack users to PostDICOM users, groups, institutions."""

from __future__ import annotations

from bot.sandbox.postdicom import ADA_UUID, BRANCH_INSTITUTION_UUID, MAIN_INSTITUTION_UUID, PostDicomEmulator
from bot.sandbox.postdicom.seed import BEN_UUID, RADIOLOGISTS_GROUP_UUID, REFERRERS_GROUP_UUID
from bot.sandbox.slack.model import User
from bot.store import AuditOutcome
from bot.ui.assignments import (
    ASSIGN_BLOCK,
    ASSIGN_CHOICE_ACTION,
    ASSIGN_MODAL,
    ASSIGNEE_INPUT,
    LOCATION_CHOICE_ACTION,
    UNASSIGN_BLOCK,
    UNASSIGN_CHOICE_ACTION,
)
from bot.ui.orders import ASSIGN_ACTION, PICK_ACTION
from tests.app.harness import Scenario, eventually
from tests.app.order_steps import audited, channel_message, ct_order, ct_value, rendered, search_card, submit
from tests.app.pacs_world import posted


def mention(user: User) -> str:
    return f"<@{user.id}|{user.name}>"


async def test_assign_to_a_group_by_name(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    await pacs.command(pacs.demo.member, "assign 1CT1 radiologists")
    message = await pacs.ephemeral(pacs.demo.member, "assigned this order to")
    assert ct_order(emulator).assigned_groups == [RADIOLOGISTS_GROUP_UUID]
    text = rendered(message)
    assert "*Radiologists (group)*" in text
    assert ":bust_in_silhouette: Radiologists" in text
    entry = await audited(pacs, "order.assign")
    assert entry.outcome is AuditOutcome.SUCCEEDED


async def test_assign_to_a_postdicom_user_by_name(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    await pacs.command(pacs.demo.member, "assign 1CT1 ben")
    await pacs.ephemeral(pacs.demo.member, "*Ben Technologist*")
    assert ct_order(emulator).assigned_users == [BEN_UUID]


async def test_a_mention_uses_the_users_link(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    await pacs.app.services.store.user_links.link(pacs.workspace, pacs.demo.admin.id, BEN_UUID)
    await pacs.command(pacs.demo.member, f"assign 1CT1 {mention(pacs.demo.admin)}")
    await pacs.ephemeral(pacs.demo.member, "*Ben Technologist*")
    assert ct_order(emulator).assigned_users == [BEN_UUID]


async def test_a_mention_falls_back_to_the_same_email(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    ada = pacs.slack.state.add_user(pacs.demo.team, "ada.slack", real_name="Ada R", email="Ada@Example.org")
    await pacs.command(pacs.demo.member, f"assign 1CT1 {mention(ada)}")
    await pacs.ephemeral(pacs.demo.member, "*Ada Radiologist*")
    assert ct_order(emulator).assigned_users == [ADA_UUID]


async def test_an_unmatched_mention_offers_a_choice(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    await pacs.command(pacs.demo.member, f"assign 1CT1 {mention(pacs.demo.owner)}")
    chooser = await pacs.ephemeral(pacs.demo.member, "I don't know which PostDICOM user")
    assert "/pacs me" in rendered(chooser)
    assert ct_order(emulator).assigned_users == []
    await pacs.click(
        pacs.demo.member, ASSIGN_CHOICE_ACTION, message=chooser, value=ct_value("assign", f"u:{ADA_UUID}")
    )
    await eventually(lambda: "assigned this order to" in rendered(chooser), what="the card in place")
    assert ct_order(emulator).assigned_users == [ADA_UUID]


async def test_an_ambiguous_name_is_never_guessed(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    await pacs.command(pacs.demo.member, "assign 1CT1 r")
    chooser = await pacs.ephemeral(pacs.demo.member, "More than one person or group fits")
    text = rendered(chooser)
    assert "Radiologists" in text
    assert "Referrers" in text
    assert "Technologists" not in text
    assert ct_order(emulator).assigned_groups == []
    await pacs.click(
        pacs.demo.member,
        ASSIGN_CHOICE_ACTION,
        message=chooser,
        value=ct_value("assign", f"g:{REFERRERS_GROUP_UUID}"),
    )
    await eventually(lambda: "assigned this order to" in rendered(chooser), what="the card in place")
    assert ct_order(emulator).assigned_groups == [REFERRERS_GROUP_UUID]


async def test_an_unknown_name_offers_the_closest(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    await pacs.command(pacs.demo.member, "assign 1CT1 radiolgists")
    chooser = await pacs.ephemeral(pacs.demo.member, "Nobody here is called exactly")
    assert "Radiologists" in rendered(chooser)
    await pacs.command(pacs.demo.member, "assign 1CT1 zzzz")
    chooser = await pacs.ephemeral(pacs.demo.member, "Nobody here is called “zzzz”")
    assert "Chloe Referrer" in rendered(chooser)
    assert ct_order(emulator).assigned_groups == []


async def test_unassign_takes_them_off(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    await pacs.command(pacs.demo.member, "assign 1CT1 radiologists")
    await pacs.ephemeral(pacs.demo.member, "assigned this order to")
    await pacs.command(pacs.demo.member, "unassign 1CT1 radiologists")
    await pacs.ephemeral(pacs.demo.member, "took *Radiologists (group)* off this order")
    assert ct_order(emulator).assigned_groups == []
    assert (await audited(pacs, "order.unassign")).outcome is AuditOutcome.SUCCEEDED
    await pacs.command(pacs.demo.member, "unassign 1CT1 radiologists")
    await pacs.ephemeral(pacs.demo.member, "Nobody is assigned to this order.")


async def test_assigning_twice_changes_nothing(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    await pacs.command(pacs.demo.member, "assign 1CT1 ben")
    await pacs.ephemeral(pacs.demo.member, "assigned this order to")
    await pacs.command(pacs.demo.member, "assign 1CT1 ben")
    await pacs.ephemeral(pacs.demo.member, "was already assigned")
    assert ct_order(emulator).assigned_users == [BEN_UUID]


async def test_assign_needs_a_target_and_one_at_a_time(pacs: Scenario) -> None:
    await pacs.command(pacs.demo.member, "assign")
    await pacs.ephemeral(pacs.demo.member, "which order, and to whom?")
    await pacs.command(pacs.demo.member, f"assign 1CT1 {mention(pacs.demo.admin)} {mention(pacs.demo.owner)}")
    await pacs.ephemeral(pacs.demo.member, "name one person or group at a time")


async def test_the_assign_button_offers_menus_in_place(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    results = await search_card(pacs, pacs.demo.member)
    await pacs.click(pacs.demo.member, ASSIGN_ACTION, message=results)
    await eventually(lambda: ASSIGN_CHOICE_ACTION in rendered(results), what="the menu in place")
    assert "Ada Radiologist" in rendered(results)
    assert "Technologists" in rendered(results)
    await pacs.click(
        pacs.demo.member, ASSIGN_CHOICE_ACTION, message=results, value=ct_value("assign", f"u:{BEN_UUID}")
    )
    await eventually(lambda: ":bust_in_silhouette: Ben Technologist" in rendered(results), what="the card")
    assert ct_order(emulator).assigned_users == [BEN_UUID]
    # Now someone is assigned, the button also offers to take them off.
    await pacs.click(pacs.demo.member, ASSIGN_ACTION, message=results)
    await eventually(lambda: UNASSIGN_CHOICE_ACTION in rendered(results), what="the take-off menu")
    await pacs.click(
        pacs.demo.member, UNASSIGN_CHOICE_ACTION, message=results, value=ct_value("unassign", f"u:{BEN_UUID}")
    )
    await eventually(lambda: "took *Ben Technologist* off" in rendered(results), what="the card")
    assert ct_order(emulator).assigned_users == []


async def test_the_assign_button_on_a_channel_card_opens_a_modal(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    await pacs.command(pacs.demo.member, "assign 1CT1 ben")
    await pacs.ephemeral(pacs.demo.member, "assigned this order to")
    await pacs.command(pacs.demo.member, "share 1CT1")
    shared = await channel_message(pacs, "shared a study")
    assert ":bust_in_silhouette: Ben Technologist" in rendered(shared)
    await pacs.click(pacs.demo.member, ASSIGN_ACTION, message=shared)
    view = await pacs.modal(pacs.demo.member, ASSIGN_MODAL)
    empty = await submit(pacs, view, {})
    assert empty["response_action"] == "errors"
    await submit(
        pacs,
        view,
        {
            ASSIGN_BLOCK: {ASSIGNEE_INPUT: f"g:{RADIOLOGISTS_GROUP_UUID}"},
            UNASSIGN_BLOCK: {ASSIGNEE_INPUT: f"u:{BEN_UUID}"},
        },
    )
    await eventually(lambda: ":bust_in_silhouette: Radiologists" in rendered(shared), what="the card redrawn")
    assert "Ben Technologist" not in rendered(shared)
    assert "shared a study" in rendered(shared)
    order = ct_order(emulator)
    assert (order.assigned_users, order.assigned_groups) == ([], [RADIOLOGISTS_GROUP_UUID])


async def test_postdicom_refusing_an_assignment_is_answered(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    emulator.faults.set(
        emulator.account_key, error_rate=1.0, error_targets=["ASSIGN_PATIENT_ORDER_TO_USER_GROUP"]
    )
    await pacs.command(pacs.demo.member, "assign 1CT1 radiologists")
    await pacs.ephemeral(pacs.demo.member, "PostDICOM refused to assign the order")
    assert ct_order(emulator).assigned_groups == []
    assert (await audited(pacs, "order.assign")).outcome is AuditOutcome.FAILED


async def test_location_moves_the_order(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    await pacs.command(pacs.demo.member, "location 1CT1 branch")
    await pacs.ephemeral(pacs.demo.member, "moved this order to *Branch Clinic*")
    assert ct_order(emulator).institution_uuid == BRANCH_INSTITUTION_UUID
    assert (await audited(pacs, "order.location")).outcome is AuditOutcome.SUCCEEDED
    await pacs.command(pacs.demo.member, "location 1CT1 Branch Clinic")
    await pacs.ephemeral(pacs.demo.member, "already at *Branch Clinic*")


async def test_an_unknown_institution_offers_a_menu(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    await pacs.command(pacs.demo.member, "location 1CT1 brnach")
    chooser = await pacs.ephemeral(pacs.demo.member, "No institution is called exactly")
    assert "Branch Clinic" in rendered(chooser)
    await pacs.command(pacs.demo.member, "location 1CT1 qwxz")
    chooser = await pacs.ephemeral(pacs.demo.member, "No institution of this account is called “qwxz”")
    assert ct_order(emulator).institution_uuid == MAIN_INSTITUTION_UUID
    await pacs.click(
        pacs.demo.member,
        LOCATION_CHOICE_ACTION,
        message=chooser,
        value=ct_value("location", BRANCH_INSTITUTION_UUID),
    )
    await eventually(lambda: "moved this order to" in rendered(chooser), what="the card in place")
    assert ct_order(emulator).institution_uuid == BRANCH_INSTITUTION_UUID


async def test_an_ambiguous_order_gets_a_picker_then_the_move(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    await pacs.command(pacs.demo.member, "location compressedsamples Branch Clinic")
    picker = await pacs.ephemeral(pacs.demo.member, "Which order should I move?")
    await pacs.click(
        pacs.demo.member, PICK_ACTION, message=picker, value=ct_value("location", options="Branch Clinic")
    )
    await eventually(lambda: "moved this order to" in rendered(picker), what="the card in place")
    assert ct_order(emulator).institution_uuid == BRANCH_INSTITUTION_UUID


def direct_messages(world: Scenario, user: User) -> list[str]:
    """Return what the bot wrote to a user in their direct-message conversation."""
    channel = world.slack.state.im_channel(world.demo.bot, user)
    return [rendered(message) for message in world.slack.state.channel_history(channel)]


async def test_the_assigned_user_gets_the_card_by_direct_message(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    await pacs.app.services.store.user_links.link(pacs.workspace, pacs.demo.admin.id, BEN_UUID)
    await pacs.command(pacs.demo.member, f"assign 1CT1 {mention(pacs.demo.admin)}")
    confirmation = await pacs.ephemeral(pacs.demo.member, "by direct message")
    assert f"<@{pacs.demo.admin.id}>" in rendered(confirmation)
    [dm] = await eventually(lambda: direct_messages(pacs, pacs.demo.admin), what="a direct message")
    assert "assigned this order to you" in dm
    assert ASSIGN_ACTION in dm, "the card comes with its buttons"
    assert "C. C." in dm, "names as the PHI setting (initials) allows"
    assert "CompressedSamples" not in dm
    channel = pacs.slack.state.im_channel(pacs.demo.bot, pacs.demo.admin)
    [message] = pacs.slack.state.channel_history(channel)
    assert "C." not in message.text, "the notification text names no patient"
    assert direct_messages(pacs, pacs.demo.member) == [], "the assigner is not messaged"


async def test_an_assignee_without_a_slack_user_is_named_to_the_assigner(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    await pacs.command(pacs.demo.member, "assign 1CT1 ben")
    message = await pacs.ephemeral(pacs.demo.member, "I could not tell *Ben Technologist* in Slack")
    assert "/pacs me" in rendered(message)
    assert ct_order(emulator).assigned_users == [BEN_UUID]


async def test_a_group_is_told_in_the_channel_admins_chose(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    await pacs.command(pacs.demo.admin, "notify radiologists here", channel=pacs.demo.reading_room)
    await pacs.ephemeral(pacs.demo.admin, "will be announced in")
    await pacs.command(pacs.demo.member, "assign 1CT1 radiologists")
    confirmation = await pacs.ephemeral(pacs.demo.member, "assigned this order to")
    assert f"<#{pacs.demo.reading_room.id}>" in rendered(confirmation)
    announced = await posted(pacs, pacs.demo.reading_room, "assigned this order to *Radiologists*")
    assert ASSIGN_ACTION in rendered(announced)
    await pacs.command(pacs.demo.admin, "notify radiologists off")
    await pacs.ephemeral(pacs.demo.admin, "no longer announced")
    assert (await pacs.app.services.store.workspace_settings.get(pacs.workspace)).group_channels == ()


async def test_notify_refuses_a_channel_the_bot_is_not_in_and_non_admins(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    await pacs.command(pacs.demo.admin, "notify radiologists here", channel=pacs.demo.lounge)
    await pacs.ephemeral(pacs.demo.admin, "I am not in")
    await pacs.command(pacs.demo.member, "notify radiologists here")
    await pacs.ephemeral(pacs.demo.member, "Only workspace admins")
    await pacs.command(pacs.demo.admin, "notify nobodies here")
    await pacs.ephemeral(pacs.demo.admin, "no single PostDICOM user group")
    assert (await pacs.app.services.store.workspace_settings.get(pacs.workspace)).group_channels == ()
