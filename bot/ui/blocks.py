"""Small Block Kit builders shared by every message and view, checked by slack_sdk's models."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    SectionBlock,
)

JsonBlock = dict[str, Any]
RETRY_ACTION = "pacs.retry"


def escape(text: str) -> str:
    """Escape text for mrkdwn, so user or PACS data cannot become links or mentions."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    """Cut text to a length Slack accepts, marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def to_json(blocks: Iterable[Block]) -> list[JsonBlock]:
    """Serialize blocks, letting slack_sdk check Slack's element limits."""
    return [block.to_dict() for block in blocks]


def section(text: str, *, fields: Sequence[str] = (), block_id: str | None = None) -> SectionBlock:
    """Build a mrkdwn section, trimming text and fields to Slack's limits."""
    return SectionBlock(
        block_id=block_id,
        text=MarkdownTextObject(text=truncate(text, 3000)) if text else None,
        fields=[MarkdownTextObject(text=truncate(field, 2000)) for field in fields[:10]] or None,
    )


def header(text: str) -> HeaderBlock:
    """Build a header block."""
    return HeaderBlock(text=truncate(text, 150))


def context(*texts: str) -> ContextBlock:
    """Build a context line of mrkdwn snippets."""
    return ContextBlock(elements=[MarkdownTextObject(text=truncate(text, 2000)) for text in texts[:10]])


def divider() -> DividerBlock:
    """Build a divider."""
    return DividerBlock()


def button(text: str, action_id: str, value: str, *, style: str | None = None) -> ButtonElement:
    """Build a button carrying an opaque value."""
    return ButtonElement(text=truncate(text, 75), action_id=action_id, value=value, style=style)


def option(text: str, value: str) -> Option:
    """Build a select option; Slack refuses an option whose text is empty or only spaces."""
    return Option(text=truncate(text.strip() or "(no name)", 75), value=value)


def message(text: str, *, hint: str = "") -> list[JsonBlock]:
    """Build a one-section message with an optional context hint."""
    blocks: list[Block] = [section(text)]
    if hint:
        blocks.append(context(hint))
    return to_json(blocks)


def retry_message(text: str, retry_token: str) -> list[JsonBlock]:
    """Build an error message with a Retry button."""
    return to_json([section(text), ActionsBlock(elements=[button("Retry", RETRY_ACTION, retry_token)])])


def plain_state(values: Mapping[str, Any], block_id: str, action_id: str) -> str:
    """Read a text input or select's value from a view's ``state.values``."""
    element = (values.get(block_id) or {}).get(action_id) or {}
    if "selected_option" in element:
        return str((element["selected_option"] or {}).get("value") or "")
    if "selected_date" in element:
        return str(element["selected_date"] or "")
    if "selected_user" in element:
        return str(element["selected_user"] or "")
    return str(element.get("value") or "").strip()
