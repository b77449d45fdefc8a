"""Steps the share, view, flag and assign scenarios share: the CT order, messages, modals, audit."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

from bot.sandbox.postdicom import CT_ORDER_UUID, MAIN_INSTITUTION_UUID, Order, PostDicomEmulator
from bot.sandbox.slack.model import EphemeralMessage, Message, User, View
from bot.sandbox.slack.payloads import DeliveryResult
from bot.store import AuditEntry
from bot.ui.cards import CHOICE_MARK
from bot.ui.values import OrderRef
from tests.app.harness import Scenario, eventually

CT_REF = OrderRef(CT_ORDER_UUID, MAIN_INSTITUTION_UUID)


def ct_order(emulator: PostDicomEmulator) -> Order:
    """Return the CT_small order as the emulator holds it now."""
    account = emulator.state.account(emulator.account_key)
    assert account is not None
    return account.orders[CT_ORDER_UUID]


def ct_value(verb: str, code: str | None = None, options: str | None = None) -> str:
    """Return the value a button or menu option for the CT order carries."""
    value = CT_REF.encode(verb)
    if code is not None:
        value += f"|{CHOICE_MARK}{code}"
    elif options is not None:
        value += f"|{options}"
    return value


def rendered(message: Message | EphemeralMessage | View | None) -> str:
    """Return a message's or view's text and blocks as one string to search."""
    if message is None:
        return ""
    if isinstance(message, View):
        return json.dumps(message.definition, ensure_ascii=False)
    return message.text + json.dumps(message.blocks, ensure_ascii=False)


async def channel_message(pacs: Scenario, containing: str, *, within: float = 5.0) -> Message:
    """Wait for a message in #general whose text or blocks contain a phrase."""

    def find() -> Message | None:
        for message in reversed(pacs.slack.state.channel_history(pacs.demo.general)):
            if containing in rendered(message):
                return message
        return None

    return await eventually(find, within=within, what=f"a #general message containing {containing!r}")


async def search_card(pacs: Scenario, user: User, text: str = "search id:1CT1") -> EphemeralMessage:
    """Search and return the ephemeral results (the CT order's card, by default)."""
    await pacs.command(user, text)
    return await pacs.ephemeral(user, "Search results")


async def audit_entries(pacs: Scenario, action: str) -> list[AuditEntry]:
    """Return the workspace's audit entries for one action, newest first."""
    entries = await pacs.app.services.store.audit.recent(pacs.workspace, limit=100)
    return [entry for entry in entries if entry.action == action]


async def audited(pacs: Scenario, action: str) -> AuditEntry:
    """Wait for the newest audit entry of an action."""
    async with asyncio.timeout(5):
        while True:
            entries = await audit_entries(pacs, action)
            if entries:
                return entries[0]
            await asyncio.sleep(0.02)


async def save_settings(pacs: Scenario, **changes: Any) -> None:
    """Change the workspace's settings."""
    store = pacs.app.services.store.workspace_settings
    current = await store.get(pacs.workspace)
    await store.save(pacs.workspace, current.model_copy(update=changes))


async def submit(pacs: Scenario, view: View, values: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Submit a modal over either transport; apply the ack to the modal stack and return it."""
    answer = await pacs.send(pacs.slack.payloads.view_submission(view=view, values=values))
    if isinstance(answer, DeliveryResult):
        assert answer.status == 200, answer.body
        ack: dict[str, Any] = json.loads(answer.body) if answer.body else {}
    else:
        ack = dict(answer or {})
    pacs.slack.state.apply_view_submission_ack(view, ack)
    return ack
