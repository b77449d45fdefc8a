"""``/pacs help``: every subcommand with an example."""

from __future__ import annotations

from bot.app.pacs_app import PacsApp
from bot.app.request import PacsRequest
from bot.ui.help import help_blocks


def register(app: PacsApp) -> None:
    """Add ``/pacs help``."""

    async def show_help(request: PacsRequest) -> None:
        topic = request.text.strip().lower()
        subcommands = app.router.subcommands()
        chosen = (
            [item for item in subcommands if topic in (item.name, *item.aliases)] if topic else subcommands
        )
        await request.reply(
            "pacsbot help", help_blocks(chosen or subcommands, unknown_topic=topic if not chosen else "")
        )

    app.router.add(
        "help",
        show_help,
        summary="Show what /pacs can do",
        usage="help [subcommand]",
        examples=("/pacs help", "/pacs help share"),
        aliases=("?", "commands"),
    )
