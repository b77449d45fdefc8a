"""An order's card inside a bigger message, and the menu values that act on one order with a choice.

A card is what :func:`bot.ui.orders.order_blocks` renders: a section whose overflow menu carries
the order's reference, then the actions block of its buttons. A message is matched to a card by
those values, so a card in a channel message can be redrawn without anyone remembering how the
rest of the message was built.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

from bot.postdicom import PatientOrder
from bot.store import PhiDisplay
from bot.ui.blocks import JsonBlock, to_json, truncate
from bot.ui.orders import Names, order_blocks, order_ref, order_summary
from bot.ui.values import BadActionValue, OrderRef

# Marks a menu option's choice (``=1.3``, ``=u:<uuid>``), so it is never read as typed text.
CHOICE_MARK = "="
MAX_OPTION_VALUE = 150


def card(order: PatientOrder, phi: PhiDisplay, names: Names) -> list[JsonBlock]:
    """Render an order's card (summary, overflow menu and buttons) as JSON blocks."""
    return to_json(order_blocks(order, phi, names))


def brief(order: PatientOrder, phi: PhiDisplay, names: Names) -> SectionBlock:
    """Render an order's summary without buttons, to head a chooser or a modal."""
    return SectionBlock(text=MarkdownTextObject(text=truncate(order_summary(order, phi, names), 3000)))


def choice_value(order: PatientOrder, verb: str, code: str) -> str:
    """Encode a menu option that runs a verb on an order with a chosen code (within Slack's 150)."""
    value = f"{order_ref(order).encode(verb)}|{CHOICE_MARK}{code}"
    if len(value) > MAX_OPTION_VALUE:
        raise ValueError("a choice value must fit Slack's 150 characters")
    return value


def chosen_code(options: str) -> str | None:
    """Return the code a menu option carried, or None when the options are typed text."""
    return options[len(CHOICE_MARK) :] if options.startswith(CHOICE_MARK) else None


def _element_values(block: Mapping[str, Any]) -> list[str]:
    elements = [*(block.get("elements") or []), block.get("accessory")]
    values: list[str] = []
    for element in elements:
        if not isinstance(element, Mapping):
            continue
        values.append(str(element.get("value") or ""))
        values += [
            str(item.get("value") or "") for item in element.get("options") or [] if isinstance(item, Mapping)
        ]
    return values


def _holds(block: Mapping[str, Any], order_uuid: str) -> bool:
    for value in _element_values(block):
        try:
            _, ref = OrderRef.decode(value.partition("|")[0])
        except BadActionValue:
            continue
        if ref.order_uuid == order_uuid.lower():
            return True
    return False


def split_around_card(
    blocks: Sequence[Mapping[str, Any]], order_uuid: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]] | None:
    """Split a message's blocks into those before and after one order's card (None if it has none)."""
    indexes = [index for index, block in enumerate(blocks) if _holds(block, order_uuid)]
    if not indexes or indexes != list(range(indexes[0], indexes[-1] + 1)):
        return None
    return [dict(block) for block in blocks[: indexes[0]]], [
        dict(block) for block in blocks[indexes[-1] + 1 :]
    ]
