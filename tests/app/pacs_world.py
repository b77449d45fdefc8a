"""Helpers for scenario tests that look into the emulator, the store and the Slack stub."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from bot.sandbox.postdicom import DEMO_ACCOUNT_KEY, PostDicomEmulator
from bot.sandbox.postdicom.state import Account, Order
from bot.sandbox.slack.model import Channel, EphemeralMessage, Message
from bot.store.audit import AuditOutcome
from tests.app.harness import Scenario, eventually


def account(emulator: PostDicomEmulator) -> Account:
    """Return the demo account inside the emulator."""
    found = emulator.state.account(DEMO_ACCOUNT_KEY)
    assert found is not None
    return found


def order_where(emulator: PostDicomEmulator, test: Callable[[Order], bool]) -> Order:
    """Return the first live order (by accession) that passes a test."""
    orders = sorted(account(emulator).live_orders(), key=lambda order: order.accession_number)
    return next(order for order in orders if order.accession_number and test(order))


def folder_named(emulator: PostDicomEmulator, path: str) -> Any:
    """Return the emulator's folder at a path like ``Cases/2025``, or None."""
    state = account(emulator)
    parent = "00000000-0000-0000-0000-000000000000"
    folder = None
    for name in path.split("/"):
        folder = state.child_named(parent, name)
        if folder is None:
            return None
        parent = folder.uuid
    return folder


async def save_settings(world: Scenario, **changes: Any) -> None:
    """Change some of the workspace's settings in the store."""
    store = world.app.services.store.workspace_settings
    current = await store.get(world.workspace)
    await store.save(world.workspace, current.model_copy(update=changes))


async def audit_entries(world: Scenario) -> list[tuple[str, AuditOutcome, tuple[str, ...], tuple[str, ...]]]:
    """Return the audit log, oldest first: action, outcome, order UUIDs and folder UUIDs."""
    entries = await world.app.services.store.audit.recent(world.workspace, limit=100)
    return [
        (entry.action, entry.outcome, entry.order_uuids, entry.folder_uuids) for entry in reversed(entries)
    ]


async def audit_has(
    world: Scenario, action: str, outcome: AuditOutcome
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Return the order and folder UUIDs of the newest audit entry with this action and outcome.

    The audit row may be written just after Slack has its answer, so this waits a few seconds.
    """
    try:
        async with asyncio.timeout(5):
            while True:
                for name, result, orders, folders in reversed(await audit_entries(world)):
                    if name == action and result is outcome:
                        return orders, folders
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"no audit entry {action} {outcome.value}") from None


def rendered(message: EphemeralMessage | Message) -> str:
    """Return a message's text and blocks as one searchable string."""
    return message.text + json.dumps(message.blocks)


async def posted(world: Scenario, channel: Channel, containing: str) -> Message:
    """Wait for a message in a channel whose text or blocks contain a phrase."""

    def find() -> Message | None:
        for message in reversed(world.slack.state.channel_history(channel)):
            if containing in rendered(message):
                return message
        return None

    return await eventually(find, what=f"a channel message containing {containing!r}")


def option_value(message: EphemeralMessage | Message, action_id: str, containing: str) -> str:
    """Return the value of the option of a select or overflow whose value or text contains a phrase."""
    for block in message.blocks:
        elements = [block.get("accessory")] if block.get("accessory") else block.get("elements", [])
        for element in elements:
            if element and element.get("action_id") == action_id:
                for choice in element.get("options", []):
                    if containing in choice["value"] or containing in choice["text"]["text"]:
                        return str(choice["value"])
    raise AssertionError(f"no {action_id} option containing {containing!r}")
