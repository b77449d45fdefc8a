"""Orders as Slack sees them: patient data cut to the workspace's PHI setting, and their buttons.

Every function is pure: orders and dictionaries in, Block Kit JSON out. Names and patient IDs pass
through :func:`patient_name` and :func:`patient_id` and nowhere else, so the PHI setting holds
in every message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    OverflowMenuElement,
    SectionBlock,
)

from bot.postdicom import AccountUser, FlagGroup, PatientOrder, UserGroup
from bot.store import PhiDisplay
from bot.ui.blocks import (
    JsonBlock,
    button,
    context,
    divider,
    escape,
    header,
    option,
    section,
    to_json,
    truncate,
)
from bot.ui.values import OrderRef

SHARE_ACTION = "order.share"
FLAG_ACTION = "order.flag"
ASSIGN_ACTION = "order.assign"
MORE_ACTION = "order.more"
PICK_ACTION = "order.pick"
# Slack refuses two elements with one action_id in a block: each paging button has its own.
PREVIOUS_PAGE_ACTION = "search.page.previous"
NEXT_PAGE_ACTION = "search.page.next"
ORDERS_PER_PAGE = 10
MORE_CHOICES = (
    ("view", "Open viewer (just me)"),
    ("properties", "Properties"),
    ("folder", "Add to folder"),
    ("email", "Share by e-mail"),
    ("delete", "Delete"),
)


def patient_name(order: PatientOrder, phi: PhiDisplay) -> str:
    """Show the patient's name as the PHI setting allows: full, initials, or not at all."""
    raw = order.patient_name.strip()
    if phi is PhiDisplay.HIDDEN or not raw:
        return "Patient (name hidden)" if raw else "Patient (no name)"
    components = [part.strip() for part in raw.split("=")[0].split("^")]
    family, given = [*components, "", ""][:2]
    if phi is PhiDisplay.INITIALS:
        initials = [name[0].upper() + "." for name in (given, family) if name]
        return " ".join(initials) or "Patient"
    if raw.isupper():
        # DICOM names are often all capitals; mixed case is kept as the sender wrote it.
        family, given = family.title(), given.title()
    return f"{family}, {given}" if given else family


def patient_id(order: PatientOrder, phi: PhiDisplay) -> str:
    """Show the patient ID as the PHI setting allows: whole, its last three characters, or nothing."""
    value = order.patient_id.strip()
    if not value or phi is PhiDisplay.HIDDEN:
        return ""
    if phi is PhiDisplay.INITIALS:
        return "•••" + value[-3:] if len(value) > 3 else "•••"
    return value


def study_date(order: PatientOrder) -> str:
    """Return the study date as YYYY-MM-DD (and time when there is one)."""
    text = order.performed_datetime.strip()
    if len(text) >= 8 and text[:8].isdigit():
        text = f"{text[:4]}-{text[4:6]}-{text[6:8]}{text[8:]}"
    return text[:16]


@dataclass(frozen=True, slots=True)
class Names:
    """Dictionary names for flags, users and groups, to show instead of their ids."""

    flags: Mapping[tuple[int, int], str]
    users: Mapping[str, str]
    groups: Mapping[str, str]

    @classmethod
    def of(
        cls, flag_groups: Sequence[FlagGroup], users: Sequence[AccountUser], groups: Sequence[UserGroup]
    ) -> Names:
        """Index the dictionaries by id."""
        return cls(
            flags={
                (group.group_id, flag.flag_id): flag.flag_name
                for group in flag_groups
                for flag in group.flag_list
            },
            users={user.user_uuid.lower(): user.full_name or user.user_name for user in users},
            groups={group.user_group_uuid.lower(): group.user_group_name for group in groups},
        )

    @classmethod
    def empty(cls) -> Names:
        """Return names that know nothing (ids are shown as they are)."""
        return cls({}, {}, {})


def order_summary(order: PatientOrder, phi: PhiDisplay, names: Names) -> str:
    """Write an order as two or three mrkdwn lines."""
    identity = [f"*{escape(patient_name(order, phi))}*"]
    shown_id = patient_id(order, phi)
    if shown_id:
        identity.append(f"ID {escape(shown_id)}")
    if order.accession_number:
        identity.append(f"acc `{escape(order.accession_number)}`")
    study = [
        part for part in (order.order_modality, study_date(order), escape(order.study_description)) if part
    ]
    study.append(f"{order.images_count} image{'s' if order.images_count != 1 else ''}")
    lines = [" · ".join(identity), " · ".join(study)]
    extras = []
    flags = [names.flags.get((ref.group_id, ref.flag_id), f"flag {ref.flag_id}") for ref in order.flag_list]
    if flags:
        extras.append(":triangular_flag_on_post: " + ", ".join(escape(flag) for flag in flags))
    assignees = [names.users.get(uuid.lower(), "a user") for uuid in order.assigned_user_uuid_list]
    assignees += [names.groups.get(uuid.lower(), "a group") for uuid in order.assigned_user_group_uuid_list]
    if assignees:
        extras.append(":bust_in_silhouette: " + ", ".join(escape(name) for name in assignees))
    if extras:
        lines.append("  ".join(extras))
    return "\n".join(lines)


def order_ref(order: PatientOrder) -> OrderRef:
    """Return the reference buttons carry for an order."""
    return OrderRef(order.patient_order_uuid.lower(), (order.institution_uuid or "").lower() or None)


MAX_BLOCK_ID = 255
_RESULT_BLOCK = re.compile(r"r\d+[sa]:(\d{1,4}):(.+)", re.DOTALL)


def result_block_ids(index: int, page: int, page_token: str | None) -> tuple[str, str] | None:
    """Name a result's blocks so that its buttons say which page of which search they are on."""
    if not page_token:
        return None
    ids = (f"r{index}s:{page}:{page_token}", f"r{index}a:{page}:{page_token}")
    return ids if len(ids[0]) <= MAX_BLOCK_ID else None


def results_page_of(block_id: str) -> tuple[int, str] | None:
    """Read the page and encrypted query a result's block id carries, if it is one."""
    found = _RESULT_BLOCK.fullmatch(block_id)
    return (int(found.group(1)), found.group(2)) if found else None


def order_blocks(
    order: PatientOrder,
    phi: PhiDisplay,
    names: Names,
    *,
    with_actions: bool = True,
    block_ids: tuple[str, str] | None = None,
) -> list[Block]:
    """Render one order: its summary with an overflow menu, and Share / Flag / Assign buttons."""
    ref = order_ref(order)
    overflow = OverflowMenuElement(
        action_id=MORE_ACTION, options=[option(label, ref.encode(verb)) for verb, label in MORE_CHOICES]
    )
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(text=truncate(order_summary(order, phi, names), 3000)),
            accessory=overflow,
            block_id=block_ids[0] if block_ids else None,
        )
    ]
    if with_actions:
        blocks.append(
            ActionsBlock(
                block_id=block_ids[1] if block_ids else None,
                elements=[
                    button("Share link", SHARE_ACTION, ref.encode("share"), style="primary"),
                    button("Flag", FLAG_ACTION, ref.encode("flag")),
                    button("Assign", ASSIGN_ACTION, ref.encode("assign")),
                ],
            )
        )
    return blocks


def results_blocks(
    orders: Sequence[PatientOrder],
    phi: PhiDisplay,
    names: Names,
    *,
    page: int,
    page_token: str | None,
    what: str = "Search results",
    note: str = "",
) -> list[JsonBlock]:
    """Render one page of orders with paging buttons (the token stands for the query, encrypted)."""
    total = len(orders)
    pages = max(1, -(-total // ORDERS_PER_PAGE))
    page = min(max(page, 1), pages)
    shown = orders[(page - 1) * ORDERS_PER_PAGE : page * ORDERS_PER_PAGE]
    blocks: list[Block] = [header(what)]
    if note:
        blocks.append(context(truncate(note, 2000)))
    if not shown:
        blocks.append(section("No orders match. Try fewer words, `mod:` or a wider `from:`."))
        return to_json(blocks)
    for index, order in enumerate(shown):
        if index:
            blocks.append(divider())
        # One result may give way to its chooser; one of several must leave the others in place.
        ids = result_block_ids(index, page, page_token) if len(shown) > 1 else None
        blocks += order_blocks(order, phi, names, block_ids=ids)
    first = (page - 1) * ORDERS_PER_PAGE + 1
    blocks.append(context(f"Orders {first} to {first + len(shown) - 1} of {total} · only you can see this"))
    if pages > 1 and page_token:
        paging: list[ButtonElement] = []
        if page > 1:
            paging.append(button("◀ Previous", PREVIOUS_PAGE_ACTION, f"{page - 1}:{page_token}"))
        if page < pages:
            paging.append(button("Next ▶", NEXT_PAGE_ACTION, f"{page + 1}:{page_token}"))
        blocks.append(ActionsBlock(elements=paging))
    return to_json(blocks)


def picker_blocks(
    orders: Sequence[PatientOrder],
    phi: PhiDisplay,
    names: Names,
    *,
    verb: str,
    question: str,
    options: str = "",
) -> list[JsonBlock]:
    """Ask which of several orders was meant; each button carries the verb and the order."""
    blocks: list[Block] = [section(question)]
    for order in orders[:ORDERS_PER_PAGE]:
        ref = order_ref(order)
        value = ref.encode(verb) + (f"|{options}" if options else "")
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(text=truncate(order_summary(order, phi, names), 3000)),
                accessory=ButtonElement(text="This one", action_id=PICK_ACTION, value=truncate(value, 2000)),
            )
        )
    if len(orders) > ORDERS_PER_PAGE:
        blocks.append(context(f"{len(orders) - ORDERS_PER_PAGE} more match; add words to narrow it down."))
    return to_json(blocks)


def order_card(order: PatientOrder, phi: PhiDisplay, names: Names, *, note: str = "") -> list[JsonBlock]:
    """Render one order as a card (after a change, or as a share's companion)."""
    blocks: list[Block] = order_blocks(order, phi, names)
    if note:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=truncate(note, 2000))]))
    return to_json(blocks)
