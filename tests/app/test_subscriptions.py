"""Subscription scenarios: a channel follows a search; orders created in the emulator show up as cards.

Polls are triggered explicitly (``poll_workspace(force=True)``) except in the first test, which
lets the background loop run at the minimum interval of two seconds.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app.server import RunningApp, running
from bot.app.subscriptions import SubscriptionPoller
from bot.sandbox.postdicom import PostDicomEmulator
from bot.sandbox.postdicom.seed import PRIORITY_GROUP_ID, URGENT_FLAG_ID
from bot.sandbox.postdicom.state import Order, OrderStatus, new_uuid
from bot.sandbox.slack.model import Channel, Message
from bot.store import Audience, Permission, PhiDisplay
from bot.ui.subscriptions import UNSUBSCRIBE_ACTION
from commands.subscriptions import POLLER_KEY
from tests.app.harness import Scenario, connected_scenario, eventually
from tests.app.pacs_world import account, order_where, posted, rendered, save_settings
from tests.security.test_channels import allow_external

EXPLICIT_POLLS = {"PACSBOT_SUBSCRIPTION_POLL_SECONDS": "3600"}


def poller_of(app: RunningApp) -> SubscriptionPoller:
    poller = app.app.extensions[POLLER_KEY]
    assert isinstance(poller, SubscriptionPoller)
    return poller


def new_ct_order(emulator: PostDicomEmulator, accession: str, *, urgent: bool = False) -> Order:
    """Create a CT order performed now in the demo account, as a modality would."""
    template = order_where(emulator, lambda order: order.modality == "CT")
    order = Order(
        uuid=new_uuid(),
        institution_uuid=template.institution_uuid,
        patient_name="Newcomer^Nora",
        patient_id=f"PID-{accession}",
        accession_number=accession,
        modality="CT",
        study_description="CT head without contrast",
        performed=datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
        status=OrderStatus.IMAGES_RECEIVED,
        flags={PRIORITY_GROUP_ID: URGENT_FLAG_ID} if urgent else {},
    )
    return account(emulator).add_order(order)


def messages_with(world: Scenario, channel: Channel, containing: str) -> list[Message]:
    return [
        message for message in world.slack.state.channel_history(channel) if containing in rendered(message)
    ]


async def subscribe(world: Scenario, text: str, channel: Channel | None = None) -> None:
    """Subscribe a channel as an admin and wait until the baseline poll is done."""
    channel = channel or world.demo.reading_room
    await world.command(world.demo.admin, f"subscribe {text}", channel)
    await posted(world, channel, f"subscribed this channel to `{text}`")
    # Waits for the baseline poll the subscription started (one poll of a workspace at a time).
    await poller_of(world.app).poll_workspace(world.workspace, force=True)


async def test_a_new_ct_order_shows_within_one_poll_interval_as_exactly_one_card(
    tmp_path: Path, emulator: PostDicomEmulator
) -> None:
    settings = {"PACSBOT_SUBSCRIPTION_POLL_SECONDS": "2"}
    async with connected_scenario(tmp_path, emulator, **settings) as world:
        await subscribe(world, "mod:CT")
        new_ct_order(emulator, "SUBNEW0001")
        # One interval, plus the poll itself and a loop tick of slack.
        await eventually(
            lambda: messages_with(world, world.demo.reading_room, "SUBNEW0001"), within=6, what="the card"
        )
        await poller_of(world.app).poll_workspace(world.workspace, force=True)
        cards = messages_with(world, world.demo.reading_room, "SUBNEW0001")
        assert len(cards) == 1
        assert "New order" in rendered(cards[0])
        # The workspace's PHI setting (initials by default) holds for subscription cards too.
        assert "Newcomer" not in rendered(cards[0])
        assert "N. N." in rendered(cards[0])


async def test_orders_already_there_and_orders_outside_the_filter_stay_silent(
    tmp_path: Path, emulator: PostDicomEmulator
) -> None:
    async with connected_scenario(tmp_path, emulator, **EXPLICIT_POLLS) as world:
        new_ct_order(emulator, "SUBOLD0001")
        await subscribe(world, "mod:CT")
        await subscribe(world, "mod:MR")
        before = len(world.slack.state.channel_history(world.demo.reading_room))
        new_ct_order(emulator, "SUBCT0002")
        await poller_of(world.app).poll_workspace(world.workspace, force=True)
        assert messages_with(world, world.demo.reading_room, "SUBOLD0001") == []
        # One card, from the CT subscription; the MR one says nothing.
        assert len(world.slack.state.channel_history(world.demo.reading_room)) == before + 1
        assert len(messages_with(world, world.demo.reading_room, "SUBCT0002")) == 1


async def test_a_restart_between_polls_repeats_nothing_and_misses_nothing(
    tmp_path: Path, emulator: PostDicomEmulator
) -> None:
    async with connected_scenario(tmp_path, emulator, **EXPLICIT_POLLS) as world:
        await subscribe(world, "mod:CT")
        new_ct_order(emulator, "SUBRESTART1")
        await poller_of(world.app).poll_workspace(world.workspace, force=True)
        assert len(messages_with(world, world.demo.reading_room, "SUBRESTART1")) == 1
        new_ct_order(emulator, "SUBRESTART2")
        # A new process on the same database, knowing nothing but what the database holds.
        async with running(world.app.services.settings, host="127.0.0.1", port=0) as restarted:
            await poller_of(restarted).poll_workspace(world.workspace, force=True)
        assert len(messages_with(world, world.demo.reading_room, "SUBRESTART1")) == 1
        assert len(messages_with(world, world.demo.reading_room, "SUBRESTART2")) == 1


async def test_two_app_processes_on_one_postgresql_post_once(
    tmp_path: Path, emulator: PostDicomEmulator
) -> None:
    async with connected_scenario(tmp_path, emulator, backend="postgresql", **EXPLICIT_POLLS) as world:
        await subscribe(world, "mod:CT")
        async with running(world.app.services.settings, host="127.0.0.1", port=0) as second:
            first_poller, second_poller = poller_of(world.app), poller_of(second)
            store = world.app.services.store.subscriptions
            # The lease: while one replica holds it, the other cannot poll.
            assert await store.take_lease(
                world.workspace, first_poller.owner, lease_seconds=60, interval_seconds=0
            )
            assert not await second_poller.poll_workspace(world.workspace, force=True)
            await store.release_lease(world.workspace, first_poller.owner)
            for number in range(3):
                new_ct_order(emulator, f"SUBTWICE{number}")
                await asyncio.gather(
                    first_poller.poll_workspace(world.workspace, force=True),
                    second_poller.poll_workspace(world.workspace, force=True),
                )
            for number in range(3):
                assert len(messages_with(world, world.demo.reading_room, f"SUBTWICE{number}")) == 1


async def test_fifty_new_orders_in_one_poll_give_one_summary(
    tmp_path: Path, emulator: PostDicomEmulator
) -> None:
    async with connected_scenario(tmp_path, emulator, **EXPLICIT_POLLS) as world:
        await subscribe(world, "mod:CT")
        before = len(world.slack.state.channel_history(world.demo.reading_room))
        for number in range(50):
            new_ct_order(emulator, f"SUBBURST{number:02d}")
        await poller_of(world.app).poll_workspace(world.workspace, force=True)
        after = world.slack.state.channel_history(world.demo.reading_room)
        assert len(after) == before + 1
        assert "50 updates" in rendered(after[-1])


async def test_unsubscribe_stops_the_cards(tmp_path: Path, emulator: PostDicomEmulator) -> None:
    async with connected_scenario(tmp_path, emulator, **EXPLICIT_POLLS) as world:
        await subscribe(world, "mod:CT")
        await world.command(world.demo.admin, "subscriptions", world.demo.reading_room)
        listing = await world.ephemeral(world.demo.admin, "This channel follows 1 search")
        assert UNSUBSCRIBE_ACTION in rendered(listing)
        await world.command(world.demo.admin, "unsubscribe 1", world.demo.reading_room)
        await posted(world, world.demo.reading_room, "removed a subscription")
        new_ct_order(emulator, "SUBGONE0001")
        await poller_of(world.app).poll_all(force=True)
        assert messages_with(world, world.demo.reading_room, "SUBGONE0001") == []


async def test_the_unsubscribe_button_removes_it(tmp_path: Path, emulator: PostDicomEmulator) -> None:
    async with connected_scenario(tmp_path, emulator, **EXPLICIT_POLLS) as world:
        await subscribe(world, "mod:CT")
        await world.command(world.demo.admin, "subscriptions", world.demo.reading_room)
        listing = await world.ephemeral(world.demo.admin, "This channel follows 1 search")
        await world.click(world.demo.admin, UNSUBSCRIBE_ACTION, message=listing)
        await posted(world, world.demo.reading_room, "removed a subscription")
        assert await world.app.services.store.subscriptions.of_workspace(world.workspace) == []


async def test_an_external_channel_subscribes_only_once_allowed_and_its_cards_hide_the_patient(
    tmp_path: Path, emulator: PostDicomEmulator
) -> None:
    async with connected_scenario(tmp_path, emulator, **EXPLICIT_POLLS) as world:
        await save_settings(world, phi_display=PhiDisplay.FULL)
        channel = world.demo.partner_channel
        await world.command(world.demo.member, "subscribe mod:CT events:urgent", channel)
        await world.ephemeral(world.demo.member, "shared with")
        assert await world.app.services.store.subscriptions.of_workspace(world.workspace) == []
        await allow_external(world)
        await world.command(world.demo.member, "subscribe mod:CT events:urgent", channel)
        await posted(world, channel, "subscribed this channel")
        await poller_of(world.app).poll_workspace(world.workspace, force=True)
        new_ct_order(emulator, "SUBROUTINE1")
        new_ct_order(emulator, "SUBURGENT01", urgent=True)
        await poller_of(world.app).poll_workspace(world.workspace, force=True)
        assert messages_with(world, channel, "SUBROUTINE1") == []
        (card,) = messages_with(world, channel, "SUBURGENT01")
        assert "Flagged urgent" in rendered(card)
        assert "Newcomer" not in rendered(card)
        assert "PID-SUBURGENT01" not in rendered(card)


async def test_who_may_subscribe_is_an_admin_setting(tmp_path: Path, emulator: PostDicomEmulator) -> None:
    async with connected_scenario(tmp_path, emulator, **EXPLICIT_POLLS) as world:
        await save_settings(world, subscribe=Permission(audience=Audience.ADMINS))
        await world.command(world.demo.member, "subscribe mod:CT", world.demo.reading_room)
        await world.ephemeral(world.demo.member, "Only workspace admins and owners may subscribe a channel")
        assert await world.app.services.store.subscriptions.of_workspace(world.workspace) == []


@pytest.mark.parametrize(
    ("text", "complaint"),
    [("mod:CT from:7d", "from: and to: do not apply"), ("mod:CT events:sometimes", "not an event I know")],
)
async def test_a_subscription_that_cannot_be_read_is_explained(
    tmp_path: Path, emulator: PostDicomEmulator, text: str, complaint: str
) -> None:
    async with connected_scenario(tmp_path, emulator, **EXPLICIT_POLLS) as world:
        await world.command(world.demo.admin, f"subscribe {text}", world.demo.reading_room)
        await world.ephemeral(world.demo.admin, complaint)
