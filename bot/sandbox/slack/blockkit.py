"""Slack's Block Kit and surface rules, checked the way Slack reports them: the one validator of the stub.

Every surface the stub accepts goes through here: ``chat.postMessage``, ``chat.postEphemeral`` and
``chat.update`` (:func:`check_message_blocks`), ``views.open/update/push/publish``
(:func:`check_view`) and ``response_url`` bodies (:func:`check_response_body`). Each problem is a
string like Slack's own, ``must be less than 3001 characters [json-pointer:/blocks/0/text/text]``;
an empty list means Slack would accept the surface.

The figures and the Slack documentation page each comes from (api.slack.com / docs.slack.dev,
checked for slack-rules.md; where slack_sdk's models disagree, the docs win):

- "Reference: Layout blocks" (block-kit/blocks): 50 blocks per message, 100 per modal or Home tab;
  ``block_id`` at most 255 and unique within a message or view; section ``text`` 1-3,000,
  ``fields`` at most 10 of at most 2,000; context at most 10 elements; actions at most 25
  elements; header text at most 150; input label and hint at most 2,000; image alt text 2,000.
- "Reference: Block elements" (block-kit/block-elements): ``action_id`` at most 255 and unique
  among the action_ids of its block; button text 75, value 2,000, url 3,000; static select at
  most 100 options or option groups; overflow menu 2-5 options; checkboxes and radio buttons at
  most 10 options; placeholder 150; plain text input ``max_length`` at most 3,000.
- "Reference: Composition objects" (block-kit/composition-objects): text object 1-3,000
  characters; option text 1-75, value 1-150, description 75; option group label 75 with at most
  100 options; confirmation dialog title 100, text 300, confirm and deny 30.
- "Reference: View objects" (reference/surfaces/views) and "Modals": modal title, submit and close
  at most 24; ``private_metadata`` at most 3,000; ``callback_id`` and ``external_id`` at most 255;
  ``submit`` required when the view has an input block; a view at most 250 kB.
- "chat.postMessage" (methods/chat.postMessage): ``text`` beyond 40,000 characters is refused
  (``msg_too_long``); "Handling user interaction" (response_url): the same message rules hold.
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
TEXT_OBJECT_LIMIT = 3000
ID_LIMIT = 255

_KNOWN_BLOCK_TYPES = frozenset(
    {"actions", "context", "divider", "file", "header", "image", "input", "markdown", "rich_text", "section"}
)
_TEXT_INPUT_TYPES = frozenset({"plain_text_input", "email_text_input", "url_text_input", "number_input"})
_SELECT_WITH_OPTIONS = frozenset({"static_select", "multi_static_select"})
_OTHER_ELEMENTS = frozenset(
    {
        "external_select",
        "multi_external_select",
        "users_select",
        "multi_users_select",
        "conversations_select",
        "multi_conversations_select",
        "channels_select",
        "multi_channels_select",
        "datepicker",
        "timepicker",
        "datetimepicker",
        "image",
        "file_input",
        "rich_text_input",
    }
)


@dataclass
class _Checker:
    problems: list[str] = field(default_factory=list)
    block_ids: set[str] = field(default_factory=set)

    def fail(self, pointer: str, message: str) -> None:
        self.problems.append(f"{message} [json-pointer:{pointer}]")

    def short_string(self, value: object, pointer: str, max_length: int, *, minimum: int = 0) -> None:
        if not isinstance(value, str):
            self.fail(pointer, "must be a string")
        elif len(value) > max_length:
            self.fail(pointer, f"must be less than {max_length + 1} characters")
        elif len(value) < minimum:
            self.fail(pointer, f"must be more than {minimum - 1} characters")

    def text_object(
        self,
        value: object,
        pointer: str,
        *,
        max_length: int = TEXT_OBJECT_LIMIT,
        plain_only: bool = False,
        required: bool = True,
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
            self.short_string(option.get("value"), f"{option_pointer}/value", 150, minimum=1)
            if "description" in option:
                self.text_object(option["description"], f"{option_pointer}/description", max_length=75)
            if "url" in option:
                self.short_string(option["url"], f"{option_pointer}/url", 3000)

    def confirm(self, value: object, pointer: str) -> None:
        if not isinstance(value, Mapping):
            self.fail(pointer, "must provide an object")
            return
        self.text_object(value.get("title"), f"{pointer}/title", max_length=100, plain_only=True)
        self.text_object(value.get("text"), f"{pointer}/text", max_length=300)
        self.text_object(value.get("confirm"), f"{pointer}/confirm", max_length=30, plain_only=True)
        self.text_object(value.get("deny"), f"{pointer}/deny", max_length=30, plain_only=True)
        if value.get("style", "primary") not in ("primary", "danger"):
            self.fail(f"{pointer}/style", "must be one of primary, danger")

    def element(self, element: object, pointer: str) -> None:
        if not isinstance(element, Mapping):
            self.fail(pointer, "must provide an object")
            return
        kind = element.get("type")
        if "action_id" in element:
            self.short_string(element["action_id"], f"{pointer}/action_id", ID_LIMIT, minimum=1)
        if "placeholder" in element:
            self.text_object(
                element["placeholder"], f"{pointer}/placeholder", max_length=150, plain_only=True
            )
        if "confirm" in element:
            self.confirm(element["confirm"], f"{pointer}/confirm")
        if kind == "button":
            self.text_object(element.get("text"), f"{pointer}/text", max_length=75, plain_only=True)
            if "value" in element:
                self.short_string(element["value"], f"{pointer}/value", 2000)
            if "url" in element:
                self.short_string(element["url"], f"{pointer}/url", 3000)
            if "accessibility_label" in element:
                self.short_string(element["accessibility_label"], f"{pointer}/accessibility_label", 75)
            if element.get("style", "primary") not in ("primary", "danger"):
                self.fail(f"{pointer}/style", "must be one of primary, danger")
        elif kind in _SELECT_WITH_OPTIONS:
            self._static_select(element, pointer)
        elif kind == "overflow":
            # Block elements reference: "overflow ... between 2 and 5 options" (slack_sdk allows 1).
            self.options(element.get("options"), f"{pointer}/options", minimum=2, maximum=5)
        elif kind in ("radio_buttons", "checkboxes"):
            self.options(element.get("options"), f"{pointer}/options", minimum=1, maximum=10)
        elif kind in _TEXT_INPUT_TYPES:
            if "max_length" in element and not (
                isinstance(element["max_length"], int) and 0 < element["max_length"] <= 3000
            ):
                self.fail(f"{pointer}/max_length", "must be between 1 and 3000")
        elif kind not in _OTHER_ELEMENTS:
            self.fail(f"{pointer}/type", f"unsupported element type: {kind}")

    def _static_select(self, element: Mapping[str, Any], pointer: str) -> None:
        if "option_groups" in element and "options" in element:
            self.fail(pointer, "must provide either `options` or `option_groups`, not both")
        if "option_groups" in element:
            groups = self.item_count(
                element["option_groups"], f"{pointer}/option_groups", minimum=1, maximum=100
            )
            for index, group in enumerate(groups):
                group_pointer = f"{pointer}/option_groups/{index}"
                if not isinstance(group, Mapping):
                    self.fail(group_pointer, "must provide an object")
                    continue
                self.text_object(group.get("label"), f"{group_pointer}/label", max_length=75, plain_only=True)
                self.options(group.get("options"), f"{group_pointer}/options", minimum=1, maximum=100)
        else:
            self.options(element.get("options"), f"{pointer}/options", minimum=1, maximum=100)

    def unique_action_ids(self, elements: Iterable[object], pointer: str, key: str = "elements") -> None:
        """Slack refuses two elements with one ``action_id`` in a block ("... already exists")."""
        seen: set[str] = set()
        for index, element in enumerate(elements):
            if not isinstance(element, Mapping) or not isinstance(element.get("action_id"), str):
                continue
            action_id = element["action_id"]
            if action_id in seen:
                self.fail(f"{pointer}/{key}/{index}/action_id", f'action_id "{action_id}" already exists')
            seen.add(action_id)

    def block(self, block: object, pointer: str, surface: Surface) -> None:
        if not isinstance(block, Mapping):
            self.fail(pointer, "must provide an object")
            return
        kind = block.get("type")
        if kind not in _KNOWN_BLOCK_TYPES:
            self.fail(f"{pointer}/type", f"unsupported block type: {kind}")
            return
        if "block_id" in block:
            block_id = block["block_id"]
            self.short_string(block_id, f"{pointer}/block_id", ID_LIMIT, minimum=1)
            if isinstance(block_id, str):
                if block_id in self.block_ids:
                    self.fail(f"{pointer}/block_id", f'block_id "{block_id}" already exists')
                self.block_ids.add(block_id)
        if kind == "section":
            self._section(block, pointer)
        elif kind == "header":
            self.text_object(block.get("text"), f"{pointer}/text", max_length=150, plain_only=True)
        elif kind == "actions":
            elements = self.item_count(block.get("elements"), f"{pointer}/elements", minimum=1, maximum=25)
            for index, element in enumerate(elements):
                self.element(element, f"{pointer}/elements/{index}")
            self.unique_action_ids(elements, pointer)
        elif kind == "context":
            elements = self.item_count(block.get("elements"), f"{pointer}/elements", minimum=1, maximum=10)
            for index, element in enumerate(elements):
                if isinstance(element, Mapping) and element.get("type") == "image":
                    self.short_string(element.get("alt_text"), f"{pointer}/elements/{index}/alt_text", 2000)
                else:
                    self.text_object(element, f"{pointer}/elements/{index}")
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
            if "title" in block:
                self.text_object(block["title"], f"{pointer}/title", max_length=2000, plain_only=True)

    def _section(self, block: Mapping[str, Any], pointer: str) -> None:
        if "text" not in block and "fields" not in block:
            self.fail(pointer, "must define either `text` or `fields`")
        if "text" in block:
            self.text_object(block["text"], f"{pointer}/text")
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
    """List what Slack would reject in the ``blocks`` of a message (post, ephemeral, update, response_url)."""
    checker = _Checker()
    checker.blocks(blocks, "/blocks", "message")
    return checker.problems


def check_response_body(body: Mapping[str, Any]) -> list[str]:
    """List what Slack would reject in a ``response_url`` body: its message rules, plus a text or blocks."""
    if body.get("delete_original"):
        return []
    checker = _Checker()
    text, blocks = body.get("text"), body.get("blocks")
    if text is not None and not isinstance(text, str):
        checker.fail("/text", "must be a string")
    elif isinstance(text, str) and len(text) > MESSAGE_TEXT_LIMIT:
        checker.fail("/text", f"must be less than {MESSAGE_TEXT_LIMIT + 1} characters")
    if blocks is not None:
        checker.blocks(blocks, "/blocks", "message")
    if body.get("response_type", "ephemeral") not in ("ephemeral", "in_channel"):
        checker.fail("/response_type", "must be one of ephemeral, in_channel")
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
    for name, limit in (("callback_id", ID_LIMIT), ("private_metadata", 3000), ("external_id", ID_LIMIT)):
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
