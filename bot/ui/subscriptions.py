"""Subscription messages: one card per event, one summary for a burst, and a channel's list."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from slack_sdk.models.blocks import ActionsBlock, Block

from bot.postdicom import PatientOrder
from bot.store import PhiDisplay
from bot.ui.blocks import JsonBlock, button, context, escape, section, to_json, truncate
from bot.ui.orders import Names, order_blocks, order_summary

UNSUBSCRIBE_ACTION = "subscription.unsubscribe"
# What each event kind says above its card.
EVENT_TITLES = {
    "new": ":new: New order",
    "urgent": ":rotating_light: Flagged urgent",
    "assigned": ":bust_in_silhouette: Assigned",
    "images": ":frame_with_picture: New images",
}
# A message holds 50 blocks: a heading, two blocks per subscription, and a line for the rest.
MAX_LISTED = 24
# A summary names at most this many orders; the rest are counted.
SUMMARY_LINES = 10


def event_blocks(
    kind: str, order: PatientOrder, phi: PhiDisplay, names: Names, *, query: str
) -> list[JsonBlock]:
    """Render one event: what happened, the order card with its buttons, and the subscription it is for."""
    blocks: list[Block] = [section(f"*{EVENT_TITLES.get(kind, kind)}*")]
    blocks += order_blocks(order, phi, names)
    blocks.append(context(f"Subscription `{escape(truncate(query, 200))}` · `/pacs subscriptions` to manage"))
    return to_json(blocks)


def event_text(kind: str, order: PatientOrder) -> str:
    """Return the notification text of an event (no patient data: notifications leave Slack's blocks)."""
    modality = f" {order.order_modality}" if order.order_modality else ""
    return f"{EVENT_TITLES.get(kind, kind).split(' ', 1)[1]}:{modality} order"


def summary_blocks(
    events: Sequence[tuple[str, PatientOrder]], phi: PhiDisplay, names: Names, *, query: str
) -> list[JsonBlock]:
    """Render many events of one poll as one message: counts by kind and the first few orders."""
    counts = Counter(kind for kind, _ in events)
    tally = ", ".join(
        f"{count} {EVENT_TITLES.get(kind, kind).split(' ', 1)[1].lower()}" for kind, count in counts.items()
    )
    blocks: list[Block] = [section(f"*{len(events)} updates* for `{escape(truncate(query, 200))}`: {tally}")]
    lines = [
        f"• {EVENT_TITLES.get(kind, kind).split(' ', 1)[0]} {order_summary(order, phi, names).splitlines()[0]}"
        for kind, order in events[:SUMMARY_LINES]
    ]
    blocks.append(section(truncate("\n".join(lines), 3000)))
    if len(events) > SUMMARY_LINES:
        blocks.append(
            context(f"…and {len(events) - SUMMARY_LINES} more. Search with `/pacs search` to see them all.")
        )
    return to_json(blocks)


def summary_text(count: int) -> str:
    """Return the notification text of a summary."""
    return f"{count} updates for a subscription"


def subscriptions_blocks(entries: Sequence[tuple[int, str, Sequence[str]]]) -> list[JsonBlock]:
    """List a channel's subscriptions, numbered, each with an Unsubscribe button (value: its id)."""
    if not entries:
        return to_json(
            [section('This channel follows no search. Try `/pacs subscribe mod:CT inst:"Main Hospital"`.')]
        )
    blocks: list[Block] = [
        section(f"*This channel follows {len(entries)} search{'es' if len(entries) != 1 else ''}*")
    ]
    for number, (subscription_id, query, events) in enumerate(entries[:MAX_LISTED], start=1):
        blocks.append(section(f"*{number}.* `{escape(truncate(query, 500))}` · {', '.join(events)}"))
        blocks.append(
            ActionsBlock(
                elements=[button("Unsubscribe", UNSUBSCRIBE_ACTION, str(subscription_id), style="danger")]
            )
        )
    if len(entries) > MAX_LISTED:
        blocks.append(
            context(f"…and {len(entries) - MAX_LISTED} more: `/pacs unsubscribe <n>` takes any number.")
        )
    return to_json(blocks)
