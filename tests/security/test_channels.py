"""Where patient data may go: allowed channels and Slack Connect channels, at every entry point.

The demo workspace has ``#ext-partner-imaging``, shared (Slack Connect) with Partner Imaging
Center, whose member Pat Partner is in it. By default nothing that shows patient data is done
there; an admin may allow it by name, and then names are hidden and a link is posted only after a
confirmation naming the partner. Allowed channels are checked when a button is pressed, not only
when its card was drawn.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from bot.sandbox.postdicom import PostDicomEmulator
from bot.sandbox.postdicom.state import Order
from bot.sandbox.slack.model import Channel, EphemeralMessage, Message, User
from bot.store import ChannelSettings, PhiDisplay, UploadMode, WorkspaceSettings
from bot.ui.orders import MORE_ACTION, SHARE_ACTION
from bot.ui.shares import SHARE_EXTERNAL_ACTION
from bot.ui.uploads import UPLOAD_ACTION
from tests.app.harness import Scenario, eventually
from tests.app.uploads_support import share as share_file
from tests.dicom.samples import ct_image, new_uid

PARTNER_NAME = "Partner Imaging Center"


def an_order(emulator: PostDicomEmulator) -> Order:
    account = emulator.state.account(emulator.account_key)
    assert account is not None
    return next(
        order
        for order in account.live_orders()
        if order.accession_number and order.patient_id and len(order.patient_name) > 6
    )


def frames(emulator: PostDicomEmulator) -> int:
    return sum(emulator.stats.frames.values())


def patient_values(order: Order) -> list[str]:
    parts = [part for part in order.patient_name.split("^") if len(part) >= 4]
    return [order.patient_name, order.patient_id, *parts]


def shown_in(world: Scenario, channel: Channel) -> str:
    """Everything the channel's members can read: its messages and threads."""
    return json.dumps([message.to_api() for message in world.slack.state.channel_history(channel)])


async def full_names(world: Scenario) -> None:
    await world.app.services.store.workspace_settings.save(
        world.workspace, WorkspaceSettings(phi_display=PhiDisplay.FULL)
    )


async def allow_external(world: Scenario) -> None:
    demo = world.demo
    await world.command(demo.admin, "channel external allow", channel=demo.partner_channel)
    reply = await world.ephemeral(demo.admin, "Allowed here")
    assert PARTNER_NAME in reply.text


def replies_after(world: Scenario, user: User, before: int) -> list[EphemeralMessage]:
    return world.slack.state.ephemeral_for(user)[before:]


@pytest.mark.parametrize("text", ["share {acc}", "search id:{pid}", "view {acc}", "{pid}"])
async def test_by_default_nothing_about_a_patient_is_done_in_a_slack_connect_channel(
    world: Scenario, emulator: PostDicomEmulator, text: str
) -> None:
    demo = world.demo
    await full_names(world)
    order = an_order(emulator)
    before = frames(emulator)
    await world.command(
        demo.member, text.format(acc=order.accession_number, pid=order.patient_id), demo.partner_channel
    )

    refusal = await world.ephemeral(demo.member, "keep patient data out")
    assert PARTNER_NAME in refusal.text
    assert "/pacs channel external allow" in refusal.text
    assert frames(emulator) == before
    assert not emulator.state.shares
    assert not any(value in shown_in(world, demo.partner_channel) for value in patient_values(order))


async def test_an_older_card_in_a_channel_later_shared_with_a_partner_shows_nothing(
    world: Scenario, emulator: PostDicomEmulator
) -> None:
    demo = world.demo
    order = an_order(emulator)
    # The card was drawn while the channel was the workspace's own ...
    connect = demo.partner_channel.connected_team_ids.copy()
    demo.partner_channel.connected_team_ids.clear()
    await world.command(demo.member, f"search acc:{order.accession_number}", demo.partner_channel)
    card = await world.ephemeral(demo.member, "Search results")
    # ... then it was shared with another organisation (Slack tells the app with channel_shared).
    demo.partner_channel.connected_team_ids.update(connect)
    await world.event(
        {
            "type": "channel_shared",
            "channel": demo.partner_channel.id,
            "connected_team_id": demo.partner_team.id,
            "event_ts": world.slack.state.next_ts(),
        }
    )
    before, count = frames(emulator), len(world.slack.state.ephemeral_for(demo.member))

    await world.click(demo.member, SHARE_ACTION, message=card)

    refusal = await world.ephemeral(demo.member, "keep patient data out")
    assert PARTNER_NAME in refusal.text
    assert frames(emulator) == before
    assert not emulator.state.shares
    assert len(replies_after(world, demo.member, count)) == 1


def overflow_value(card: Message | EphemeralMessage, verb: str) -> str:
    for block in card.blocks:
        accessory: dict[str, Any] = block.get("accessory") or {}
        if accessory.get("action_id") == MORE_ACTION:
            for option in accessory["options"]:
                if str(option["value"]).startswith(f"{verb}:"):
                    return str(option["value"])
    raise AssertionError(f"no {verb} in the card's menu")


@pytest.mark.parametrize("verb", ["properties", "view"])
async def test_buttons_on_an_older_card_obey_the_allowed_channels_of_now(
    world: Scenario, emulator: PostDicomEmulator, verb: str
) -> None:
    demo = world.demo
    order = an_order(emulator)
    await world.command(demo.member, f"search acc:{order.accession_number}", demo.reading_room)
    card = await world.ephemeral(demo.member, "Search results")
    # An admin then allows /pacs in #general only.
    await world.app.services.store.workspace_settings.save(
        world.workspace, WorkspaceSettings(allowed_channels=(demo.general.id,))
    )
    before, count = frames(emulator), len(world.slack.state.ephemeral_for(demo.member))

    await world.click(demo.member, MORE_ACTION, message=card, value=overflow_value(card, verb))

    refusal = await world.ephemeral(demo.member, "/pacs is not enabled in this channel")
    assert f"<#{demo.general.id}>" in refusal.text
    replies = replies_after(world, demo.member, count)
    assert len(replies) == 1
    assert not any(
        value in json.dumps(replies[0].blocks) + replies[0].text for value in patient_values(order)
    )
    assert frames(emulator) == before


async def test_an_allowed_slack_connect_channel_hides_names_and_asks_before_posting_a_link(
    world: Scenario, emulator: PostDicomEmulator
) -> None:
    demo = world.demo
    await full_names(world)
    await allow_external(world)
    order = an_order(emulator)

    await world.command(demo.member, f"share {order.accession_number}", demo.partner_channel)
    confirmation = await world.ephemeral(demo.member, "Post the link here")
    assert PARTNER_NAME in confirmation.text
    assert not emulator.state.shares, "a link was made before the sharer confirmed"
    assert not any(value in json.dumps(confirmation.blocks) for value in patient_values(order))

    await world.click(demo.member, SHARE_EXTERNAL_ACTION, message=confirmation)
    await eventually(lambda: emulator.state.shares, what="the share link")
    posted = await eventually(
        lambda: [
            m
            for m in world.slack.state.channel_history(demo.partner_channel)
            if "shared a study" in m.text + json.dumps(m.blocks)
        ],
        what="the link in the channel",
    )
    assert len(posted) == 1
    assert len(emulator.state.shares) == 1
    assert not any(value in shown_in(world, demo.partner_channel) for value in patient_values(order))


async def test_a_partner_cannot_allow_their_channel_or_run_admin_commands(world: Scenario) -> None:
    demo = world.demo
    await world.send(
        world.slack.payloads.slash_command(
            user=demo.partner, channel=demo.partner_channel, text="channel external allow"
        )
    )
    await world.ephemeral(demo.partner, "did not come from a member of the workspace")
    settings = await world.app.services.store.channel_settings.get(world.workspace, demo.partner_channel.id)
    assert not settings.external_allowed


async def test_a_partners_file_in_an_auto_channel_is_never_uploaded_by_default(
    world: Scenario, emulator: PostDicomEmulator
) -> None:
    demo = world.demo
    store = world.app.services.store
    await store.channel_settings.save(
        world.workspace, demo.partner_channel.id, ChannelSettings(upload_mode=UploadMode.AUTO)
    )
    study = new_uid()
    upload = await share_file(
        world, "partner.dcm", ct_image(study=study), user=demo.partner, channel=demo.partner_channel
    )
    # A member's file in the same channel is not uploaded either: the channel is not allowed.
    mine = await share_file(world, "mine.dcm", ct_image(study=new_uid()), channel=demo.partner_channel)
    # Both events were answered; give any background work the time an upload would need to start.
    await asyncio.sleep(0.5)
    assert await store.upload_jobs.find(world.workspace, upload.file.id) is None
    assert await store.upload_jobs.find(world.workspace, mine.file.id) is None
    account = emulator.state.account(emulator.account_key)
    assert account is not None
    assert account.order_by_study(study) is None
    assert not world.slack.state.channel_history(demo.partner_channel, thread_ts=upload.message.ts)


async def test_in_an_allowed_channel_a_partners_file_waits_for_a_member_to_press_upload(
    world: Scenario, emulator: PostDicomEmulator
) -> None:
    demo = world.demo
    store = world.app.services.store
    await allow_external(world)
    current = await store.channel_settings.get(world.workspace, demo.partner_channel.id)
    await store.channel_settings.save(
        world.workspace, demo.partner_channel.id, current.model_copy(update={"upload_mode": UploadMode.AUTO})
    )
    study = new_uid()
    upload = await share_file(
        world, "partner.dcm", ct_image(study=study), user=demo.partner, channel=demo.partner_channel
    )

    def prompt() -> Message | None:
        thread = world.slack.state.channel_history(demo.partner_channel, thread_ts=upload.message.ts)
        return next((m for m in thread if "Nothing is uploaded" in json.dumps(m.blocks)), None)

    asked = await eventually(prompt, what="the question to the workspace's members")
    assert PARTNER_NAME in asked.text
    assert await store.upload_jobs.find(world.workspace, upload.file.id) is None

    # The partner pressing Upload is refused; a member pressing it uploads.
    await world.click(demo.partner, UPLOAD_ACTION, message=asked)
    await world.ephemeral(demo.partner, "did not come from a member of the workspace")
    assert await store.upload_jobs.find(world.workspace, upload.file.id) is None
    await world.click(demo.member, UPLOAD_ACTION, message=asked)

    def landed() -> bool:
        account = emulator.state.account(emulator.account_key)
        return account is not None and account.order_by_study(study) is not None

    await eventually(landed, within=30, what="the upload a member chose")
    job = await store.upload_jobs.find(world.workspace, upload.file.id)
    assert job is not None
    assert job.requested_by == demo.member.id


async def test_a_command_in_a_private_channel_the_app_is_not_in_gets_a_clear_answer(
    world: Scenario, emulator: PostDicomEmulator
) -> None:
    demo = world.demo
    hidden = world.slack.state.add_channel(demo.team, "secret-room", members=(demo.member,), is_private=True)
    before = frames(emulator)
    await world.command(demo.member, "search mod:CT", hidden)
    await world.ephemeral(demo.member, "I am not in this channel")
    assert frames(emulator) == before
