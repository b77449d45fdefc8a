"""The App Home tab."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.views import View

from bot.ui.blocks import context, divider, header, section


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
