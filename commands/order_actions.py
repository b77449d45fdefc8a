"""One way into every action on an order, whether it came from a command, a button or a picker.

Modules register verbs (``share``, ``flag``, ``view``…) with :func:`on_order`. A command resolves
what the user typed to one order, or shows a picker; a button carries the verb and the order's
UUIDs. Either way the order is fetched with the workspace's own PostDICOM account first, which is
also the check that it belongs to this workspace.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.app.lookup import Lookup
from bot.app.pacs_app import PacsApp
from bot.app.request import PacsRequest
from bot.postdicom import PatientOrder
from bot.ui.orders import (
    ASSIGN_ACTION,
    FLAG_ACTION,
    MORE_ACTION,
    PICK_ACTION,
    SHARE_ACTION,
    picker_blocks,
    results_page_of,
)
from bot.ui.values import BadActionValue, OrderRef

OrderVerbHandler = Callable[[PacsRequest, Lookup, PatientOrder, str], Awaitable[None]]
MAX_OPTIONS_IN_VALUE = 1500


@dataclass(frozen=True, slots=True)
class OrderVerb:
    """An action on one order: what to call it in a picker, and its handler."""

    name: str
    question: str
    handler: OrderVerbHandler


_VERBS_KEY = "order_verbs"


def _verbs(app: PacsApp) -> dict[str, OrderVerb]:
    verbs: dict[str, OrderVerb] = app.extensions.setdefault(_VERBS_KEY, {})
    return verbs


def on_order(app: PacsApp, verb: str, handler: OrderVerbHandler, *, question: str) -> None:
    """Register what a verb does to one order; ``question`` heads the picker when a reference is ambiguous."""
    verbs = _verbs(app)
    if verb in verbs:
        raise ValueError(f"order verb {verb} is registered twice")
    verbs[verb] = OrderVerb(verb, question, handler)


async def act_on_reference(
    app: PacsApp, request: PacsRequest, verb: str, reference: str, options: str = ""
) -> None:
    """Resolve typed text to one order and run the verb, or ask which order was meant."""
    lookup = await Lookup.start(request)
    orders = await lookup.resolve(reference, datetime.now(UTC).date())
    chosen = _verbs(app)[verb]
    if not orders:
        await request.reply(f"No order matches `{reference}`. Try `/pacs search {reference}` to look around.")
        return
    if len(orders) == 1:
        await chosen.handler(request, lookup, orders[0], options)
        return
    if len(options) > MAX_OPTIONS_IN_VALUE:
        options = ""
    blocks = picker_blocks(
        orders, await lookup.phi(), await lookup.names(), verb=verb, question=chosen.question, options=options
    )
    await request.reply(chosen.question, blocks)


async def _on_button(app: PacsApp, request: PacsRequest, action: dict[str, Any]) -> None:
    raw = str((action.get("selected_option") or {}).get("value") or action.get("value") or "")
    encoded, _, options = raw.partition("|")
    try:
        verb, ref = OrderRef.decode(encoded)
    except BadActionValue:
        await request.reply("That button is not one of mine, so I did nothing.")
        return
    chosen = _verbs(app).get(verb)
    if chosen is None:
        await request.reply("That action is no longer available.")
        return
    if request.source is not None and request.source.ephemeral:
        request.results_page = results_page_of(str(action.get("block_id") or ""))
    lookup = await Lookup.start(request)
    order = await lookup.order(ref)
    await chosen.handler(request, lookup, order, options)


def listen(app: PacsApp, *action_ids: str, single_click: bool = False) -> None:
    """Send more buttons or menus to the order verbs; their values are ``OrderRef.encode(verb)[|options]``."""

    async def on_button(request: PacsRequest, action: dict[str, Any]) -> None:
        await _on_button(app, request, action)

    for action_id in action_ids:
        app.action(action_id, on_button, single_click=single_click)


def register(app: PacsApp) -> None:
    """Listen to every order button, overflow menu and picker."""
    # Share makes a link in PostDICOM: a double click must make one.
    listen(app, SHARE_ACTION, single_click=True)
    listen(app, FLAG_ACTION, ASSIGN_ACTION, MORE_ACTION, PICK_ACTION)
