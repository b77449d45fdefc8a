"""Block Kit limits Slack enforces server-side (slack.md §3.3), checked the way Slack reports them.

Each problem is a string like Slack's own: ``must be less than 3001 characters
[json-pointer:/blocks/0/text/text]``. Only limits that are cheap to check and that the app can
actually hit are covered; an empty list means "Slack would probably accept this".
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Surface = Literal["message", "modal", "home"]

MESSAGE_BLOCK_LIMIT = 50
VIEW_BLOCK_LIMIT = 100
MESSAGE_TEXT_LIMIT = 40_000
VIEW_SIZE_LIMIT_BYTES = 250_000

_KNOWN_BLOCK_TYPES = frozenset(
    {"actions", "context", "divider", "file", "header", "image", "input", "markdown", "rich_text", "section"}
)
_TEXT_INPUT_TYPES = frozenset({"plain_text_input", "email_text_input", "url_text_input", "number_input"})
_SELECT_WITH_OPTIONS = frozenset({"static_select", "multi_static_select"})


@dataclass
class _Checker:
    problems: list[str] = field(default_factory=list)

    def fail(self, pointer: str, message: str) -> None:
        self.problems.append(f"{message} [json-pointer:{pointer}]")

    def short_string(self, value: object, pointer: str, max_length: int) -> None:
        if not isinstance(value, str):
            self.fail(pointer, "must be a string")
        elif len(value) > max_length:
            self.fail(pointer, f"must be less than {max_length + 1} characters")

    def text_object(
        self, value: object, pointer: str, *, max_length: int, plain_only: bool = False, required: bool = True
    ) -> None:
        if value is None:
            if required:
                self.fail(pointer, "must provide an object")
            return
        if not isinstance(value, Mapping):
            self.fail(pointer, "must provide an object")
            return
        allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
        if value.get("type") not in allowed:
            self.fail(f"{pointer}/type", f"must be one of {', '.join(allowed)}")
        text = value.get("text")
        if not isinstance(text, str):
            self.fail(f"{pointer}/text", "must be a string")
        elif not text:
            self.fail(f"{pointer}/text", "must be more than 0 characters")
        elif len(text) > max_length:
            self.fail(f"{pointer}/text", f"must be less than {max_length + 1} characters")

    def item_count(self, value: object, pointer: str, *, minimum: int, maximum: int) -> list[object]:
        if not isinstance(value, list):
            self.fail(pointer, "must provide an array")
            return []
        if len(value) > maximum:
            self.fail(pointer, f"no more than {maximum} items allowed")
        elif len(value) < minimum:
            self.fail(pointer, f"must provide at least {minimum} items")
        return value

    def options(self, value: object, pointer: str, *, minimum: int, maximum: int) -> None:
        for index, option in enumerate(self.item_count(value, pointer, minimum=minimum, maximum=maximum)):
            option_pointer = f"{pointer}/{index}"
            if not isinstance(option, Mapping):
                self.fail(option_pointer, "must provide an object")
                continue
            self.text_object(option.get("text"), f"{option_pointer}/text", max_length=75)
            self.short_string(option.get("value"), f"{option_pointer}/value", 150)
            if "description" in option:
                self.text_object(option["description"], f"{option_pointer}/description", max_length=75)

    def element(self, element: object, pointer: str) -> None:
        if not isinstance(element, Mapping):
            self.fail(pointer, "must provide an object")
            return
        kind = element.get("type")
        if "action_id" in element:
            self.short_string(element["action_id"], f"{pointer}/action_id", 255)
        if "placeholder" in element:
            self.text_object(
                element["placeholder"], f"{pointer}/placeholder", max_length=150, plain_only=True
            )
        if kind == "button":
            self.text_object(element.get("text"), f"{pointer}/text", max_length=75, plain_only=True)
            if "value" in element:
                self.short_string(element["value"], f"{pointer}/value", 2000)
            if "url" in element:
                self.short_string(element["url"], f"{pointer}/url", 3000)
            if element.get("style", "primary") not in ("primary", "danger"):
                self.fail(f"{pointer}/style", "must be one of primary, danger")
        elif kind in _SELECT_WITH_OPTIONS:
            if "option_groups" in element:
                groups = self.item_count(
                    element["option_groups"], f"{pointer}/option_groups", minimum=1, maximum=100
                )
                for index, group in enumerate(groups):
                    if isinstance(group, Mapping):
                        group_pointer = f"{pointer}/option_groups/{index}/options"
                        self.options(group.get("options"), group_pointer, minimum=1, maximum=100)
            else:
                self.options(element.get("options"), f"{pointer}/options", minimum=1, maximum=100)
        elif kind == "overflow":
            # slack.md §3.3: older docs say 2..5, slack-sdk accepts 1..5; reject only what both reject.
            self.options(element.get("options"), f"{pointer}/options", minimum=1, maximum=5)
        elif kind in ("radio_buttons", "checkboxes"):
            self.options(element.get("options"), f"{pointer}/options", minimum=1, maximum=10)
        elif kind in _TEXT_INPUT_TYPES:
            if "max_length" in element and not (
                isinstance(element["max_length"], int) and 0 < element["max_length"] <= 3000
            ):
                self.fail(f"{pointer}/max_length", "must be between 1 and 3000")
        elif not isinstance(kind, str):
            self.fail(f"{pointer}/type", "must provide a string")

    def block(self, block: object, pointer: str, surface: Surface) -> None:
        if not isinstance(block, Mapping):
            self.fail(pointer, "must provide an object")
            return
        kind = block.get("type")
        if kind not in _KNOWN_BLOCK_TYPES:
            self.fail(f"{pointer}/type", f"unsupported block type: {kind}")
            return
        if "block_id" in block:
            self.short_string(block["block_id"], f"{pointer}/block_id", 255)
        if kind == "section":
            self._section(block, pointer)
        elif kind == "header":
            self.text_object(block.get("text"), f"{pointer}/text", max_length=150, plain_only=True)
        elif kind == "actions":
            elements = self.item_count(block.get("elements"), f"{pointer}/elements", minimum=1, maximum=25)
            for index, element in enumerate(elements):
                self.element(element, f"{pointer}/elements/{index}")
        elif kind == "context":
            elements = self.item_count(block.get("elements"), f"{pointer}/elements", minimum=1, maximum=10)
            for index, element in enumerate(elements):
                if isinstance(element, Mapping) and element.get("type") != "image":
                    self.text_object(element, f"{pointer}/elements/{index}", max_length=3000)
        elif kind == "input":
            if surface == "message":
                self.fail(pointer, "input blocks are only allowed in modals and the Home tab")
            self.text_object(block.get("label"), f"{pointer}/label", max_length=2000, plain_only=True)
            self.element(block.get("element"), f"{pointer}/element")
            if "hint" in block:
                self.text_object(block["hint"], f"{pointer}/hint", max_length=2000, plain_only=True)
        elif kind == "image":
            if "image_url" in block:
                self.short_string(block["image_url"], f"{pointer}/image_url", 3000)
            self.short_string(block.get("alt_text"), f"{pointer}/alt_text", 2000)

    def _section(self, block: Mapping[str, Any], pointer: str) -> None:
        if "text" not in block and "fields" not in block:
            self.fail(pointer, "must define either `text` or `fields`")
        if "text" in block:
            self.text_object(block["text"], f"{pointer}/text", max_length=3000)
        if "fields" in block:
            fields = self.item_count(block["fields"], f"{pointer}/fields", minimum=1, maximum=10)
            for index, field_object in enumerate(fields):
                self.text_object(field_object, f"{pointer}/fields/{index}", max_length=2000)
        if "accessory" in block:
            self.element(block["accessory"], f"{pointer}/accessory")

    def blocks(self, blocks: object, pointer: str, surface: Surface) -> None:
        limit = MESSAGE_BLOCK_LIMIT if surface == "message" else VIEW_BLOCK_LIMIT
        for index, block in enumerate(self.item_count(blocks, pointer, minimum=0, maximum=limit)):
            self.block(block, f"{pointer}/{index}", surface)


def check_message_blocks(blocks: object) -> list[str]:
    """List what Slack would reject in the ``blocks`` of a message."""
    checker = _Checker()
    checker.blocks(blocks, "/blocks", "message")
    return checker.problems


def check_view(view: object) -> list[str]:
    """List what Slack would reject in a modal or Home tab view."""
    checker = _Checker()
    if not isinstance(view, Mapping):
        checker.fail("/view", "must provide an object")
        return checker.problems
    surface = view.get("type")
    if surface not in ("modal", "home"):
        checker.fail("/view/type", "must be one of modal, home")
        return checker.problems
    if surface == "modal":
        checker.text_object(view.get("title"), "/view/title", max_length=24, plain_only=True)
    for button in ("submit", "close"):
        if view.get(button) is not None:
            checker.text_object(view[button], f"/view/{button}", max_length=24, plain_only=True)
    for name, limit in (("callback_id", 255), ("private_metadata", 3000), ("external_id", 255)):
        if name in view:
            checker.short_string(view[name], f"/view/{name}", limit)
    blocks = view.get("blocks")
    checker.blocks(blocks, "/view/blocks", "modal" if surface == "modal" else "home")
    if surface == "modal" and view.get("submit") is None and _has_input_block(blocks):
        checker.fail("/view", "must provide a `submit` property when using an input block")
    return checker.problems


def view_is_too_large(view: Mapping[str, Any]) -> bool:
    """Tell whether the serialised view exceeds Slack's 250 kB cap (``view_too_large``)."""
    return len(json.dumps(view).encode()) > VIEW_SIZE_LIMIT_BYTES


def _has_input_block(blocks: object) -> bool:
    return isinstance(blocks, list) and any(
        isinstance(block, Mapping) and block.get("type") == "input" for block in blocks
    )


def find_element(blocks: Iterable[Mapping[str, Any]], action_id: str) -> tuple[str, Mapping[str, Any]]:
    """Find the interactive element with ``action_id`` and return its block's ``block_id`` and the element."""
    for block in blocks:
        block_id = str(block.get("block_id", ""))
        candidates: list[Any] = list(block.get("elements", []))
        candidates += [block[key] for key in ("accessory", "element") if key in block]
        for element in candidates:
            if isinstance(element, Mapping) and element.get("action_id") == action_id:
                return block_id, element
    raise LookupError(f"no element with action_id {action_id!r} in these blocks")


def with_generated_ids(blocks: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Copy blocks, giving each block a ``block_id`` and each element an ``action_id`` as Slack does."""
    filled: list[dict[str, Any]] = json.loads(json.dumps(list(blocks)))
    for block in filled:
        block.setdefault("block_id", secrets.token_urlsafe(3))
        elements = [element for element in block.get("elements", []) if isinstance(element, dict)]
        elements += [block[key] for key in ("accessory", "element") if isinstance(block.get(key), dict)]
        for element in elements:
            if element.get("type") not in (None, "image", "plain_text", "mrkdwn"):
                element.setdefault("action_id", secrets.token_urlsafe(3))
    return filled
