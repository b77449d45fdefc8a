"""Assign menus with PostDICOM users and groups that have no name: Slack refuses an option without text."""

from __future__ import annotations

from bot.sandbox.postdicom import PostDicomEmulator
from bot.sandbox.postdicom.state import User, UserGroup
from bot.ui.assignments import ASSIGN_CHOICE_ACTION
from bot.ui.orders import ASSIGN_ACTION
from tests.app.harness import Scenario
from tests.app.order_steps import rendered, search_card

NAMELESS_USER = "0a0a0a0a-1111-4111-8111-000000000001"
NAMELESS_GROUP = "0b0b0b0b-2222-4222-8222-000000000002"


async def test_the_assign_menu_offers_unnamed_users_and_groups_by_a_stand_in_name(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    account = emulator.state.account(emulator.account_key)
    assert account is not None
    institutions = sorted(account.institutions)
    account.add_user(User(NAMELESS_USER, "", "", "nameless@example.org", institutions))
    account.add_user_group(UserGroup(NAMELESS_GROUP, "  ", []))
    card = await search_card(pacs, pacs.demo.member)
    await pacs.click(pacs.demo.member, ASSIGN_ACTION, message=card)
    # The chooser replaces the card in place; the strict stub refuses an empty option, as Slack does.
    await pacs.ephemeral(pacs.demo.member, ASSIGN_CHOICE_ACTION)
    text = rendered(card)
    assert "Unnamed user (0a0a0a0a)" in text
    assert "Unnamed group (0b0b0b0b)" in text
    assert not [call for call in pacs.slack.calls if call.error == "invalid_blocks"]
