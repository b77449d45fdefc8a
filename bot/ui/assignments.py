"""Choosing who reads an order (PostDICOM users and user groups) and where it lives (institutions)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from slack_sdk.models.blocks import ActionsBlock, Block, InputBlock, Option, OptionGroup, StaticSelectElement
from slack_sdk.models.views import View

from bot.postdicom import PatientOrder
from bot.store import PhiDisplay
from bot.ui.blocks import JsonBlock, context, escape, option, section, to_json
from bot.ui.cards import brief, choice_value
from bot.ui.orders import Names

ASSIGN_CHOICE_ACTION = "assign.choose"
UNASSIGN_CHOICE_ACTION = "unassign.choose"
LOCATION_CHOICE_ACTION = "location.choose"
ASSIGN_MODAL = "assign.modal"
ASSIGN_BLOCK, UNASSIGN_BLOCK, ASSIGNEE_INPUT = "assign_to", "take_off", "choice"
MAX_OPTIONS = 100


@dataclass(frozen=True, slots=True)
class Assignee:
    """A PostDICOM user or user group an order can be assigned to."""

    kind: Literal["user", "group"]
    uuid: str
    name: str

    @property
    def code(self) -> str:
        """Return the short code a menu carries (``u:<uuid>`` or ``g:<uuid>``)."""
        return f"{self.kind[0]}:{self.uuid.lower()}"

    @property
    def shown_name(self) -> str:
        """Return the name, or a stand-in when PostDICOM has none (Slack refuses an empty option)."""
        return self.name.strip() or f"Unnamed {self.kind} ({self.uuid[:8].lower()})"

    @property
    def label(self) -> str:
        """Return the name, marking groups as groups."""
        return f"{self.shown_name} (group)" if self.kind == "group" else self.shown_name


@dataclass(frozen=True, slots=True)
class Place:
    """An institution of the account."""

    uuid: str
    name: str


def _assignee_select(
    order: PatientOrder, assignees: Sequence[Assignee], action_id: str, verb: str | None, placeholder: str
) -> StaticSelectElement:
    def value(assignee: Assignee) -> str:
        return choice_value(order, verb, assignee.code) if verb else assignee.code

    users = [option(item.shown_name, value(item)) for item in assignees if item.kind == "user"][:MAX_OPTIONS]
    groups = [option(item.shown_name, value(item)) for item in assignees if item.kind == "group"][
        :MAX_OPTIONS
    ]
    if users and groups:
        return StaticSelectElement(
            action_id=action_id,
            placeholder=placeholder,
            option_groups=[
                OptionGroup(label="People", options=users),
                OptionGroup(label="Groups", options=groups),
            ],
        )
    options: list[Option] = users or groups
    return StaticSelectElement(action_id=action_id, placeholder=placeholder, options=options)


def _too_many_hint(assignees: Sequence[Assignee]) -> str:
    kinds = [item.kind for item in assignees]
    if kinds.count("user") > MAX_OPTIONS or kinds.count("group") > MAX_OPTIONS:
        return "Only the first 100 are listed; type `/pacs assign <order> <name>` for anyone else."
    return ""


def assign_chooser_blocks(
    order: PatientOrder,
    phi: PhiDisplay,
    names: Names,
    *,
    question: str,
    candidates: Sequence[Assignee],
    assigned: Sequence[Assignee] = (),
    verb: Literal["assign", "unassign"] = "assign",
) -> list[JsonBlock]:
    """Ask whom to assign (and, when someone is, whom to take off), with menus that act at once."""
    blocks: list[Block] = [section(question), brief(order, phi, names)]
    elements = []
    if candidates and verb == "assign":
        elements.append(_assignee_select(order, candidates, ASSIGN_CHOICE_ACTION, "assign", "Assign to…"))
    offboard = candidates if verb == "unassign" else assigned
    if offboard:
        elements.append(_assignee_select(order, offboard, UNASSIGN_CHOICE_ACTION, "unassign", "Take off…"))
    if not elements:
        blocks.append(context("There is nobody to choose from."))
        return to_json(blocks)
    blocks.append(ActionsBlock(elements=elements))
    hint = _too_many_hint(candidates)
    if hint:
        blocks.append(context(hint))
    return to_json(blocks)


def assign_modal(
    order: PatientOrder,
    phi: PhiDisplay,
    names: Names,
    *,
    candidates: Sequence[Assignee],
    assigned: Sequence[Assignee],
    metadata: str,
) -> dict[str, Any]:
    """Build the modal that assigns (or takes off) readers of a card shown in a channel."""
    blocks: list[Block] = [brief(order, phi, names)]
    if candidates:
        blocks.append(
            InputBlock(
                block_id=ASSIGN_BLOCK,
                label="Assign to",
                optional=True,
                element=_assignee_select(order, candidates, ASSIGNEE_INPUT, None, "A person or a group"),
            )
        )
    if assigned:
        blocks.append(
            InputBlock(
                block_id=UNASSIGN_BLOCK,
                label="Take off",
                optional=True,
                element=_assignee_select(order, assigned, ASSIGNEE_INPUT, None, "Someone assigned now"),
            )
        )
    hint = _too_many_hint(candidates)
    if hint:
        blocks.append(context(hint))
    return View(
        type="modal",
        callback_id=ASSIGN_MODAL,
        title="Assign order",
        submit="Save",
        close="Cancel",
        private_metadata=metadata,
        blocks=blocks,
    ).to_dict()


def location_chooser_blocks(
    order: PatientOrder, phi: PhiDisplay, names: Names, *, question: str, places: Sequence[Place]
) -> list[JsonBlock]:
    """Ask which institution to move an order to, with a menu that moves it at once."""
    blocks: list[Block] = [section(question), brief(order, phi, names)]
    if not places:
        blocks.append(context("This PostDICOM account has no other institution to move it to."))
        return to_json(blocks)
    options = [option(place.name, choice_value(order, "location", place.uuid.lower())) for place in places]
    blocks.append(
        ActionsBlock(
            elements=[
                StaticSelectElement(
                    action_id=LOCATION_CHOICE_ACTION, placeholder="Move to…", options=options[:MAX_OPTIONS]
                )
            ]
        )
    )
    return to_json(blocks)


def names_list(items: Sequence[str]) -> str:
    """Join names for a sentence, escaped for mrkdwn."""
    return ", ".join(f"*{escape(item)}*" for item in items)
