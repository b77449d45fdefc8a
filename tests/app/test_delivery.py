"""No answer is lost without a trace: response_url failures are retried, then answered elsewhere, logged and counted."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import metrics
from bot.sandbox.postdicom import PostDicomEmulator, ShareRecord
from bot.sandbox.slack import RESPONSE_URL, Message, User
from bot.ui import settings as settings_ui
from tests.app.harness import Scenario, connected_scenario, eventually
from tests.app.order_steps import channel_message, rendered
from tests.app.test_settings import chosen


@pytest.fixture
async def world(tmp_path: Path, emulator: PostDicomEmulator) -> AsyncIterator[Scenario]:
    """One transport is enough here: delivery happens after the ack, the same way for both."""
    async with connected_scenario(tmp_path, emulator) as running:
        yield running


def links(emulator: PostDicomEmulator) -> list[ShareRecord]:
    return [share for share in emulator.state.shares_of(emulator.account_key) if share.kind == "order-link"]


def sample(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def undelivered(surface: str, reason: str) -> float:
    return sample("pacsbot_slack_undelivered_total", surface=surface, reason=reason)


async def test_a_response_url_answering_503_then_200_delivers_the_answer_once(world: Scenario) -> None:
    world.slack.faults.server_error(RESPONSE_URL, times=1, status=503)
    await world.command(world.demo.member, "search mod:CT")
    await world.ephemeral(world.demo.member, "Search results")
    await eventually(lambda: world.slack.calls.count(RESPONSE_URL) == 2, what="the retried post")
    answers = [m for m in world.slack.state.ephemeral_for(world.demo.member) if "found" in m.text]
    assert len(answers) == 1
    assert [call.status for call in world.slack.calls.of(RESPONSE_URL)] == [503, 200]


async def test_a_share_in_a_channel_without_the_bot_and_a_dead_response_url_reaches_the_user_by_dm(
    world: Scenario, emulator: PostDicomEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    lounge = world.demo.lounge  # the bot is not a member
    world.slack.faults.server_error(RESPONSE_URL, times=10, status=503)
    before = undelivered("response_url", "http_503")
    with caplog.at_level(logging.ERROR, logger="bot.app.delivery"):
        await world.command(world.demo.member, "share 1CT1", channel=lounge)
        direct = await channel_message_to(world, "I am not a member of")
    [link] = links(emulator)
    assert link.url in rendered(direct)
    assert f"<#{lounge.id}>" in direct.text
    assert "/invite" in direct.text
    assert world.slack.calls.count(RESPONSE_URL) == 4
    assert undelivered("response_url", "http_503") == before + 1
    assert any(
        record.levelno == logging.ERROR and "response_url" in record.getMessage() for record in caplog.records
    )


async def test_a_link_shown_nowhere_is_offered_again_and_not_created_twice(
    world: Scenario, emulator: PostDicomEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    # Slack takes the link on no surface: not the channel, not the response_url, not a DM.
    world.slack.faults.api_error("chat.postMessage", "fatal_error", times=2)
    world.slack.faults.server_error(RESPONSE_URL, times=4, status=503)
    lost_before = sample("pacsbot_slack_answers_lost_total")
    with caplog.at_level(logging.ERROR, logger="bot.app.delivery"):
        await world.command(world.demo.member, "share 1CT1")
        await eventually(
            lambda: sample("pacsbot_slack_answers_lost_total") == lost_before + 1,
            what="the lost answer counted",
        )
    assert any("no surface" in record.getMessage() for record in caplog.records)
    [link] = links(emulator)
    assert not [m for m in world.slack.state.channel_history(world.demo.general) if link.url in rendered(m)]
    # Asked again, the same link is posted; PostDICOM is not asked for a second one.
    await world.command(world.demo.member, "share 1CT1")
    message = await channel_message(world, "shared a study")
    assert link.url in rendered(message)
    assert links(emulator) == [link]


async def test_settings_saved_from_a_channel_without_the_bot_are_confirmed_there(world: Scenario) -> None:
    lounge = world.demo.lounge
    await world.command(world.demo.admin, "settings", channel=lounge)
    modal = await world.modal(world.demo.admin, settings_ui.SETTINGS_CALLBACK)
    await world.submit(modal, chosen())
    confirmed = await world.ephemeral(world.demo.admin, "Settings saved")
    assert confirmed.channel_id == lounge.id
    assert not [call for call in world.slack.calls if call.error == "not_in_channel"]


async def test_settings_confirmation_whose_response_url_expired_says_how_to_add_the_bot(
    world: Scenario,
) -> None:
    lounge = world.demo.lounge
    await world.command(world.demo.admin, "settings", channel=lounge)
    modal = await world.modal(world.demo.admin, settings_ui.SETTINGS_CALLBACK)
    world.slack.state.response_url_ttl_seconds = 0  # the admin took more than 30 minutes
    await world.submit(modal, chosen())
    direct = await channel_message_to(world, "Settings saved", user=world.demo.admin)
    assert "/invite" in direct.text
    assert f"<#{lounge.id}>" in direct.text


async def channel_message_to(world: Scenario, containing: str, *, user: User | None = None) -> Message:
    """Wait for a direct message from the bot to a user (the member by default) containing a phrase."""
    person = user or world.demo.member
    state = world.slack.state

    def find() -> Message | None:
        for channel in list(state.channels.values()):
            if channel.is_im and person.id in channel.members:
                for message in reversed(state.channel_history(channel)):
                    if containing in message.text or containing in rendered(message):
                        return message
        return None

    return await eventually(find, within=15, what=f"a direct message containing {containing!r}")
