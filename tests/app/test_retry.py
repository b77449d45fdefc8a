"""A command that fails for a passing reason offers Retry; the button carries the command encrypted."""

from __future__ import annotations

import json
from pathlib import Path

from bot.sandbox.postdicom import PostDicomEmulator
from bot.ui.blocks import RETRY_ACTION
from tests.app.harness import connected_scenario, scenario


async def test_a_timed_out_search_offers_retry_and_retry_runs_it_again(tmp_path: Path) -> None:
    async with (
        PostDicomEmulator(seed="demo") as emulator,
        connected_scenario(
            tmp_path, emulator, PACSBOT_POSTDICOM_TIMEOUT="1", PACSBOT_SHUTDOWN_GRACE_SECONDS="0.5"
        ) as world,
    ):
        member = world.demo.member
        await world.command(member, "search compressedsamples ct1")
        await world.ephemeral(member, "Search results")
        emulator.faults.set(emulator.account_key, latency=2.0)
        await world.command(member, "search id:1CT1")
        failed = await world.ephemeral(member, "did not answer in time")
        rendered = json.dumps(failed.blocks)
        assert RETRY_ACTION in rendered
        # The command is in the button only encrypted.
        assert "1CT1" not in rendered
        emulator.faults.clear(emulator.account_key)
        await world.click(member, RETRY_ACTION, message=failed)
        again = await world.ephemeral(member, "1 order found")
        assert again is not failed


async def test_a_retry_button_this_app_did_not_make_does_nothing(tmp_path: Path) -> None:
    async with scenario(tmp_path) as world:
        general = world.demo.general
        message = world.slack.state.post_message(
            general,
            text="forged",
            blocks=[
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "action_id": RETRY_ACTION,
                            "text": {"type": "plain_text", "text": "Retry"},
                            "value": "search everything",
                        }
                    ],
                }
            ],
            author=world.demo.bot,
        )
        await world.click(world.demo.member, RETRY_ACTION, message=message)
        await world.ephemeral(world.demo.member, "not one I can read")
