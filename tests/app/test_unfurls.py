"""Unfurls: a pasted share link the app created becomes the study card; other links are left alone."""

from __future__ import annotations

import json
from pathlib import Path

from bot.sandbox.postdicom import PostDicomEmulator
from bot.sandbox.slack.model import Channel, Message
from bot.store import PhiDisplay
from tests.app.harness import Scenario, connected_scenario, eventually
from tests.app.pacs_world import posted, save_settings
from tests.app.test_subscriptions import EXPLICIT_POLLS
from tests.security.test_channels import allow_external


async def share_url(world: Scenario, emulator: PostDicomEmulator) -> str:
    """Share 1CT1 from #general and return the link PostDICOM made."""
    await world.command(world.demo.member, "share 1CT1", world.demo.general)
    await posted(world, world.demo.general, "shared a study")
    [share] = [item for item in emulator.state.shares_of(emulator.account_key) if item.kind == "order-link"]
    return share.url


async def paste(world: Scenario, channel: Channel, url: str) -> Message:
    """Post a person's message with the link, and deliver the link_shared event Slack sends for it."""
    message = world.slack.state.post_message(channel, text=f"have a look <{url}>", author=world.demo.member)
    await world.send(world.slack.payloads.link_shared_event(message, [url]))
    return message


async def test_a_pasted_share_link_unfurls_into_the_card(tmp_path: Path, emulator: PostDicomEmulator) -> None:
    async with connected_scenario(tmp_path, emulator, **EXPLICIT_POLLS) as world:
        await save_settings(world, phi_display=PhiDisplay.FULL)
        url = await share_url(world, emulator)
        message = await paste(world, world.demo.general, url)
        unfurl = await eventually(lambda: message.unfurls.get(url), what="the unfurl")
        shown = json.dumps(unfurl)
        assert "CompressedSamples" in shown
        assert "1CT1" in shown
        assert "PostDICOM share link" in shown


async def test_in_an_external_channel_nothing_unfurls_until_an_admin_allows_it(
    tmp_path: Path, emulator: PostDicomEmulator
) -> None:
    async with connected_scenario(tmp_path, emulator, **EXPLICIT_POLLS) as world:
        await save_settings(world, phi_display=PhiDisplay.FULL)
        url = await share_url(world, emulator)
        refused = await paste(world, world.demo.partner_channel, url)
        # A later link in #general proves the first event was handled (events run in order).
        known = await paste(world, world.demo.general, url)
        await eventually(lambda: known.unfurls.get(url), what="the #general unfurl")
        assert refused.unfurls == {}


async def test_in_an_allowed_external_channel_the_unfurl_hides_the_patient(
    tmp_path: Path, emulator: PostDicomEmulator
) -> None:
    async with connected_scenario(tmp_path, emulator, **EXPLICIT_POLLS) as world:
        await save_settings(world, phi_display=PhiDisplay.FULL)
        await allow_external(world)
        url = await share_url(world, emulator)
        message = await paste(world, world.demo.partner_channel, url)
        unfurl = await eventually(lambda: message.unfurls.get(url), what="the unfurl")
        shown = json.dumps(unfurl)
        assert "name hidden" in shown
        assert "CompressedSamples" not in shown
        assert "1CT1" not in shown


async def test_a_link_the_app_did_not_create_is_left_alone(
    tmp_path: Path, emulator: PostDicomEmulator
) -> None:
    async with connected_scenario(tmp_path, emulator, **EXPLICIT_POLLS) as world:
        url = await share_url(world, emulator)
        foreign = url[:-4] + "abcd"
        message = await paste(world, world.demo.general, foreign)
        # A second, known link in a later message proves the first event was handled (events run in order).
        known = await paste(world, world.demo.general, url)
        await eventually(lambda: known.unfurls.get(url), what="the known link's unfurl")
        assert message.unfurls == {}
