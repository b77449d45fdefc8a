"""The App Home tab."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block
from slack_sdk.models.views import View

from bot.postdicom import PatientOrder
from bot.store import PhiDisplay
from bot.ui.blocks import button, context, divider, escape, header, section, to_json, truncate
from bot.ui.orders import Names, order_blocks


def home_view(connected: bool) -> dict[str, Any]:
    """Build the Home tab: whether PostDICOM is connected and how to start."""
    state = (
        ":white_check_mark: This workspace is connected to PostDICOM."
        if connected
        else ":warning: This workspace is not connected to PostDICOM yet. A workspace admin can run `/pacs connect`."
    )
    return View(
        type="home",
        blocks=[
            header("pacsbot"),
            section(state),
            divider(),
            section(
                "*Find a study:* `/pacs doe john mod:CT from:7d`\n"
                "*Share it:* `/pacs share <accession>`\n"
                "*Everything else:* `/pacs help`"
            ),
            context(
                "Search results are shown only to you. Sharing in a channel is always your explicit choice."
            ),
        ],
    ).to_dict()


HOME_REFRESH_ACTION = "home.refresh"
# Slack's limit on a view's blocks.
MAX_VIEW_BLOCKS = 100
# Orders per list: two blocks each, so both lists and the rest stay well inside the limit.
MAX_ROWS = 15


@dataclass(frozen=True, slots=True)
class Worklist:
    """One person's Home tab: orders assigned to them, urgent unread orders, their subscriptions."""

    linked: bool
    assigned: Sequence[PatientOrder]
    urgent_unread: Sequence[PatientOrder]
    subscriptions: Sequence[tuple[str, str]]  # (channel id, query)
    window_days: int


def _order_rows(orders: Sequence[PatientOrder], phi: PhiDisplay, names: Names, empty: str) -> list[Block]:
    if not orders:
        return [context(empty)]
    rows: list[Block] = []
    for order in orders[:MAX_ROWS]:
        rows += order_blocks(order, phi, names)
    if len(orders) > MAX_ROWS:
        rows.append(context(f"…and {len(orders) - MAX_ROWS} more. `/pacs search` finds them all."))
    return rows


def worklist_view(worklist: Worklist, phi: PhiDisplay, names: Names) -> dict[str, Any]:
    """Build the Home tab as a personal worklist, with a Refresh button, within Slack's 100 blocks."""
    blocks: list[Block] = [
        header("My worklist"),
        context(":white_check_mark: This workspace is connected to PostDICOM. `/pacs help` lists what I do."),
        ActionsBlock(elements=[button("Refresh", HOME_REFRESH_ACTION, "refresh")]),
        section(f"*Assigned to me* (studies of the last {worklist.window_days} days)"),
    ]
    if worklist.linked:
        blocks += _order_rows(worklist.assigned, phi, names, "Nothing assigned to you. :tada:")
    else:
        blocks.append(
            context(
                "Tell me which PostDICOM user you are with `/pacs me`, and your assigned orders show here."
            )
        )
    blocks += [divider(), section("*Urgent and unread*")]
    blocks += _order_rows(worklist.urgent_unread, phi, names, "No urgent order is waiting to be read.")
    blocks += [divider(), section("*My subscriptions*")]
    if worklist.subscriptions:
        lines = [
            f"• <#{channel}> `{escape(truncate(query, 200))}`" for channel, query in worklist.subscriptions
        ]
        blocks.append(section(truncate("\n".join(lines), 3000)))
    else:
        blocks.append(context("You subscribed no channel. Try `/pacs subscribe mod:CT` in a channel."))
    json_blocks = to_json(blocks)
    if len(json_blocks) > MAX_VIEW_BLOCKS:  # pragma: no cover - MAX_ROWS keeps it inside
        json_blocks = json_blocks[: MAX_VIEW_BLOCKS - 1] + to_json([context("The list was cut short.")])
    return View(type="home", blocks=json_blocks).to_dict()
