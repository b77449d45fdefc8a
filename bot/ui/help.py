"""The ``/pacs help`` message."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from slack_sdk.models.blocks import Block

from bot.ui.blocks import JsonBlock, context, escape, header, section, to_json

MAX_SUBCOMMANDS_SHOWN = 45


class Described(Protocol):
    """What help needs to know of a subcommand."""

    @property
    def name(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def usage(self) -> str: ...
    @property
    def examples(self) -> tuple[str, ...]: ...
    @property
    def admin_only(self) -> bool: ...


def help_blocks(subcommands: Sequence[Described], *, unknown_topic: str = "") -> list[JsonBlock]:
    """List subcommands with their usage and examples."""
    blocks: list[Block] = [header("pacsbot: PostDICOM in Slack")]
    if unknown_topic:
        blocks.append(section(f"There is no `/pacs {escape(unknown_topic)}`. Here is everything there is:"))
    for item in subcommands[:MAX_SUBCOMMANDS_SHOWN]:
        admin = " _(admins)_" if item.admin_only else ""
        examples = "  ".join(f"`{escape(example)}`" for example in item.examples)
        blocks.append(section(f"*`/pacs {escape(item.usage)}`*{admin}\n{escape(item.summary)}\n{examples}"))
    blocks.append(context("Anything that is not a subcommand is a search: `/pacs doe john mod:CT from:7d`."))
    return to_json(blocks)
