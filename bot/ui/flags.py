"""Choosing a flag for an order: a menu in the user's own message, or a modal for a channel's card.

A flag group whose flag is set on the order also offers "Clear": PostDICOM's SetFlagToPatientOrder
takes a group and a flag, and flag 0 leaves the group without a flag.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, InputBlock, Option, OptionGroup, StaticSelectElement
from slack_sdk.models.views import View

from bot.postdicom import FlagGroup, PatientOrder
from bot.store import PhiDisplay
from bot.ui.blocks import JsonBlock, context, option, section, to_json, truncate
from bot.ui.cards import brief, choice_value
from bot.ui.orders import Names

FLAG_CHOICE_ACTION = "flag.choose"
FLAG_MODAL = "flag.modal"
FLAG_BLOCK, FLAG_INPUT = "flag", "choice"
MAX_OPTIONS = 100


@dataclass(frozen=True, slots=True)
class FlagChoice:
    """One flag of the account's dictionary: its group, its id, and how to name it."""

    group_id: int
    flag_id: int
    group_name: str
    flag_name: str

    @property
    def code(self) -> str:
        """Return the short code a menu carries (``group.flag``)."""
        return f"{self.group_id}.{self.flag_id}"

    @property
    def clears(self) -> bool:
        """Tell whether this choice takes the group's flag off rather than setting one."""
        return self.flag_id == CLEAR_FLAG_ID

    @property
    def group_label(self) -> str:
        """Return the group's name, or its number when it has none."""
        return self.group_name or f"Group {self.group_id}"

    @property
    def label(self) -> str:
        """Return the flag's name with its group's (``Priority: Urgent``), or ``Clear Priority``."""
        if self.clears:
            return f"Clear {self.group_label}"
        return f"{self.group_name}: {self.flag_name}" if self.group_name else self.flag_name


CLEAR_FLAG_ID = 0


def clear_choice(group: FlagGroup) -> FlagChoice:
    """Return the choice that leaves a flag group without a flag on the order."""
    return FlagChoice(group.group_id, CLEAR_FLAG_ID, group.group_name, "")


def flag_choices(groups: Sequence[FlagGroup]) -> list[FlagChoice]:
    """List every flag of the dictionary."""
    return [
        FlagChoice(group.group_id, flag.flag_id, group.group_name, flag.flag_name or f"Flag {flag.flag_id}")
        for group in groups
        for flag in group.flag_list
    ]


def find_flag(groups: Sequence[FlagGroup], code: str) -> FlagChoice | None:
    """Return the flag (or the clearing of a group) a menu code names, if the dictionary still has it."""
    every = [*flag_choices(groups), *(clear_choice(group) for group in groups)]
    return next((choice for choice in every if choice.code == code), None)


def flag_is_set(order: PatientOrder, choice: FlagChoice) -> bool:
    """Tell whether the order carries this flag (for a Clear choice: any flag of its group)."""
    return any(
        ref.group_id == choice.group_id and (choice.clears or ref.flag_id == choice.flag_id)
        for ref in order.flag_list
    )


def _with_clear(order: PatientOrder, members: Sequence[FlagChoice]) -> list[FlagChoice]:
    """Add a Clear choice after a group's flags when the order carries one of them."""
    first = members[0]
    group = FlagChoice(first.group_id, CLEAR_FLAG_ID, first.group_name, "")
    return [*members, group] if flag_is_set(order, group) else list(members)


def _option_groups(
    order: PatientOrder, choices: Sequence[FlagChoice], value: Callable[[FlagChoice], str]
) -> list[OptionGroup]:
    current = {(ref.group_id, ref.flag_id) for ref in order.flag_list}
    by_group: dict[int, list[FlagChoice]] = {}
    for choice in choices:
        by_group.setdefault(choice.group_id, []).append(choice)
    groups = []
    for members in list(by_group.values())[:MAX_OPTIONS]:
        options = [
            option(
                "Clear (no flag)"
                if choice.clears
                else choice.flag_name + (" (set)" if (choice.group_id, choice.flag_id) in current else ""),
                value(choice),
            )
            for choice in _with_clear(order, members[: MAX_OPTIONS - 1])
        ]
        groups.append(OptionGroup(label=truncate(members[0].group_label, 75), options=options))
    return groups


def _select(
    order: PatientOrder, choices: Sequence[FlagChoice], action_id: str, value: Callable[[FlagChoice], str]
) -> StaticSelectElement:
    if len({choice.group_id for choice in choices}) > 1:
        return StaticSelectElement(
            action_id=action_id,
            placeholder="Choose a flag",
            option_groups=_option_groups(order, choices, value),
        )
    shown = _with_clear(order, choices[: MAX_OPTIONS - 1]) if choices else []
    options: list[Option] = [option(choice.label, value(choice)) for choice in shown]
    return StaticSelectElement(action_id=action_id, placeholder="Choose a flag", options=options)


def flag_chooser_blocks(
    order: PatientOrder, phi: PhiDisplay, names: Names, choices: Sequence[FlagChoice], *, question: str
) -> list[JsonBlock]:
    """Ask which flag to set, with a menu whose options set it at once."""
    blocks: list[Block] = [section(question), brief(order, phi, names)]
    if not choices:
        blocks.append(
            context("This PostDICOM account has no flags. An account admin can add them in PostDICOM.")
        )
        return to_json(blocks)
    blocks.append(
        ActionsBlock(
            elements=[
                _select(
                    order,
                    choices,
                    FLAG_CHOICE_ACTION,
                    lambda choice: choice_value(order, "flag", choice.code),
                )
            ]
        )
    )
    return to_json(blocks)


def flag_modal(
    order: PatientOrder, phi: PhiDisplay, names: Names, choices: Sequence[FlagChoice], *, metadata: str
) -> dict[str, Any]:
    """Build the modal that sets a flag on a card shown in a channel."""
    blocks: list[Block] = [brief(order, phi, names)]
    if choices:
        blocks.append(
            InputBlock(
                block_id=FLAG_BLOCK,
                label="Flag",
                element=_select(order, choices, FLAG_INPUT, lambda choice: choice.code),
            )
        )
    else:
        blocks.append(
            section("This PostDICOM account has no flags. An account admin can add them in PostDICOM.")
        )
    return View(
        type="modal",
        callback_id=FLAG_MODAL,
        title="Flag order",
        submit="Set flag" if choices else None,
        close="Cancel",
        private_metadata=metadata,
        blocks=blocks,
    ).to_dict()
