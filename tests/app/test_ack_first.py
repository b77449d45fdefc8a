"""Every /pacs subcommand acks before it asks PostDICOM anything.

The emulator answers only after five seconds. A handler that waited on PostDICOM before acking
would hold Slack's HTTP request that long; Slack gives up after three.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.sandbox.postdicom import CT_ORDER_UUID, MR_ORDER_UUID, PostDicomEmulator
from bot.sandbox.slack.payloads import DeliveryResult
from tests.app.harness import Scenario, connected_scenario, eventually

POSTDICOM_DELAY_SECONDS = 5.0

# One realistic command per subcommand; a new subcommand must be added here to be tested.
SAMPLES = {
    "search": "search mod:CT from:30d",
    "help": "help",
    "connect": "connect",
    "disconnect": "disconnect",
    "status": "status",
    "share": "share id:1CT1 expires:30d",
    "view": "view id:1CT1",
    "flag": "flag id:1CT1 urgent",
    "unflag": "unflag id:1CT1 urgent",
    "notify": "notify Radiologists here",
    "assign": "assign id:1CT1 Radiologists",
    "unassign": "unassign id:1CT1 Radiologists",
    "location": "location id:1CT1 Branch",
    "nodes": "nodes",
    "users": "users",
    "me": "me ada",
    "folder": "folder list",
    "order": "order id:1CT1",
    "delete": "delete id:1CT1",
    "link": f"link {CT_ORDER_UUID} {MR_ORDER_UUID}",
    "unlink": f"unlink {CT_ORDER_UUID}",
    "settings": "settings",
    "channel": "channel auto",
    "subscribe": "subscribe mod:CT",
    "subscriptions": "subscriptions",
    "unsubscribe": "unsubscribe 1",
}


@pytest.fixture
async def slow_world(tmp_path: Path) -> AsyncIterator[tuple[Scenario, PostDicomEmulator]]:
    async with (
        PostDicomEmulator(seed="demo") as emulator,
        connected_scenario(
            tmp_path,
            emulator,
            PACSBOT_POSTDICOM_TIMEOUT="30",
            # The handlers left waiting on the slow emulator are stopped when the test ends.
            PACSBOT_SHUTDOWN_GRACE_SECONDS="0.5",
        ) as world,
    ):
        emulator.faults.set(emulator.account_key, latency=POSTDICOM_DELAY_SECONDS)
        yield world, emulator


async def test_every_subcommand_has_a_sample(slow_world: tuple[Scenario, PostDicomEmulator]) -> None:
    world, _ = slow_world
    registered = {subcommand.name for subcommand in world.app.app.router.subcommands()}
    assert registered == set(SAMPLES)


async def test_every_subcommand_acks_before_postdicom_answers(
    slow_world: tuple[Scenario, PostDicomEmulator],
) -> None:
    world, emulator = slow_world
    frames_before = frames_received(emulator)
    slow = []
    for name, text in SAMPLES.items():
        payload = world.slack.payloads.slash_command(
            user=world.demo.admin, channel=world.demo.general, text=text
        )
        started = time.monotonic()
        answer = await world.send(payload)
        waited = time.monotonic() - started
        assert isinstance(answer, DeliveryResult)
        assert answer.status == 200, (name, answer.body)
        if waited >= POSTDICOM_DELAY_SECONDS:
            slow.append((name, round(waited, 1)))
    assert slow == []
    # The handlers did go on to ask PostDICOM, after their acks.
    await eventually(
        lambda: frames_received(emulator) > frames_before, what="PostDICOM requests after the acks"
    )


def frames_received(emulator: PostDicomEmulator) -> int:
    frames = emulator.stats_snapshot()["frames"]
    return sum(frames.values()) if isinstance(frames, dict) else int(frames)
