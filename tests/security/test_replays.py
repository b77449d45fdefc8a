"""A click replayed within Slack's five minutes, or clicked twice in a second, acts once.

Slack's signature has no nonce, so the same signed Share click posted again verifies again; the
app claims each interaction (user, action_ts, container) in the database and ignores a repeat.
"""

from __future__ import annotations

import asyncio
import json

from bot.sandbox.postdicom import PostDicomEmulator
from bot.sandbox.slack import deliver
from bot.store import PhiDisplay, WorkspaceSettings
from bot.ui.orders import SHARE_ACTION
from tests.app.harness import Scenario, eventually


async def a_card(world: Scenario, emulator: PostDicomEmulator) -> object:
    account = emulator.state.account(emulator.account_key)
    assert account is not None
    order = next(order for order in account.live_orders() if order.accession_number)
    await world.app.services.store.workspace_settings.save(
        world.workspace, WorkspaceSettings(phi_display=PhiDisplay.INITIALS)
    )
    await world.command(world.demo.member, f"search acc:{order.accession_number}")
    return await world.ephemeral(world.demo.member, "Search results")


def links_posted(world: Scenario) -> int:
    return sum(
        "shared a study" in message.text + json.dumps(message.blocks)
        for message in world.slack.state.channel_history(world.demo.general)
    )


async def test_a_share_click_replayed_three_times_makes_one_link(
    world: Scenario, emulator: PostDicomEmulator
) -> None:
    card = await a_card(world, emulator)
    payload = world.slack.payloads.block_actions(user=world.demo.member, action_id=SHARE_ACTION, message=card)
    signed = payload.signed(world.signing_secret)
    for _ in range(4):
        assert (await deliver(world.app.events_url, signed)).status == 200
    await eventually(lambda: emulator.state.shares, what="the first share")
    await eventually(lambda: links_posted(world) >= 1, what="the link in the channel")
    await asyncio.sleep(0.5)
    assert len(emulator.state.shares) == 1
    assert links_posted(world) == 1


async def test_a_double_click_on_share_makes_one_link(world: Scenario, emulator: PostDicomEmulator) -> None:
    card = await a_card(world, emulator)
    # Two clicks: two payloads with their own action_ts, a few milliseconds apart, sent together.
    first = world.slack.payloads.block_actions(user=world.demo.member, action_id=SHARE_ACTION, message=card)
    second = world.slack.payloads.block_actions(user=world.demo.member, action_id=SHARE_ACTION, message=card)
    assert first.payload["actions"][0]["action_ts"] != second.payload["actions"][0]["action_ts"]
    answers = await asyncio.gather(
        deliver(world.app.events_url, first.signed(world.signing_secret)),
        deliver(world.app.events_url, second.signed(world.signing_secret)),
    )
    assert [answer.status for answer in answers] == [200, 200]
    await eventually(lambda: links_posted(world) >= 1, what="the link in the channel")
    await asyncio.sleep(0.5)
    assert len(emulator.state.shares) == 1
    assert links_posted(world) == 1


async def test_two_clicks_seconds_apart_are_two_actions(world: Scenario, emulator: PostDicomEmulator) -> None:
    card = await a_card(world, emulator)
    clock = world.slack.state.clock
    await world.click(world.demo.member, SHARE_ACTION, message=card)
    await eventually(lambda: links_posted(world) == 1, what="the first link")
    # The stub's clock moves on: the user clicks again, on purpose, three seconds later.
    world.slack.state.clock = lambda: clock() + 3
    try:
        await world.click(world.demo.member, SHARE_ACTION, message=card)
        await eventually(lambda: links_posted(world) == 2, what="the second link")
    finally:
        world.slack.state.clock = clock
    assert len(emulator.state.shares) == 2
