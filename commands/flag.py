"""``/pacs flag <order> [flag]``: set a flag by (fuzzy) name, or pick one from the account's flags.

``/pacs unflag <order> [flag]`` (or ``flag <order> -urgent``, or Clear in the menu) takes a flag off:
PostDICOM's SetFlagToPatientOrder takes a group and a flag, and flag 0 leaves the group empty.

Flags come from the cached dictionary, so a burst of flag commands asks PostDICOM for it once.
A name may carry its group (``reading:read``); one that fits several flags, or none, is never
guessed: the closest flags are offered in a menu instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.app.grammar import UsageError, split_words
from bot.app.guards import audited
from bot.app.lookup import Lookup, split_reference
from bot.app.matching import Candidate, Matched, fold, match
from bot.app.pacs_app import PacsApp
from bot.app.request import PacsRequest
from bot.postdicom import FlagGroup, PatientOrder
from bot.ui.blocks import escape
from bot.ui.cards import chosen_code
from bot.ui.flags import (
    FLAG_BLOCK,
    FLAG_CHOICE_ACTION,
    FLAG_INPUT,
    FLAG_MODAL,
    FlagChoice,
    clear_choice,
    find_flag,
    flag_choices,
    flag_chooser_blocks,
    flag_is_set,
    flag_modal,
)
from bot.ui.orders import order_ref
from commands.order_actions import act_on_reference, listen, on_order
from commands.order_changes import (
    CardPlace,
    ModalOrigin,
    StateValues,
    asks_in_a_modal,
    from_own_message,
    on_submit,
    open_modal,
    show_change,
)

logger = logging.getLogger(__name__)

EXAMPLE = "/pacs flag 1CT1 urgent"
UNFLAG_EXAMPLE = "/pacs unflag 1CT1 urgent"


@dataclass(frozen=True, slots=True)
class FlagMatch:
    """What a typed flag name means: one flag, or flags to offer (all of which fit, or merely come close)."""

    chosen: FlagChoice | None
    offered: tuple[FlagChoice, ...] = ()
    ambiguous: bool = False


def _offer(found: Matched[FlagChoice]) -> FlagMatch:
    if found.chosen is not None:
        return FlagMatch(found.chosen.value)
    if found.ambiguous:
        return FlagMatch(None, tuple(candidate.value for candidate in found.ambiguous), ambiguous=True)
    return FlagMatch(None, tuple(candidate.value for candidate in found.closest))


def match_flag(typed: str, groups: list[FlagGroup]) -> FlagMatch:
    """Pick the flag a name (``urgent``, ``reading:read``, ``reading read``) means, or what to offer."""
    choices = flag_choices(groups)
    group_text, colon, flag_text = typed.partition(":")
    if colon:
        group = match(group_text, [Candidate(item.group_name, item.group_id) for item in groups])
        if group.chosen is not None:
            in_group = [choice for choice in choices if choice.group_id == group.chosen.value]
            found = _offer(match(flag_text, [Candidate(choice.flag_name, choice) for choice in in_group]))
            return found if found.chosen or found.offered else FlagMatch(None, tuple(in_group))
    by_flag = _offer(match(typed, [Candidate(choice.flag_name, choice) for choice in choices]))
    if by_flag.chosen is not None or by_flag.ambiguous:
        return by_flag
    whole = _offer(
        match(typed.replace(":", " "), [Candidate(f"{c.group_name} {c.flag_name}", c) for c in choices])
    )
    return whole if whole.chosen or whole.offered else by_flag


async def flag_groups(request: PacsRequest, lookup: Lookup) -> list[FlagGroup]:
    """Return the account's flag dictionary from the workspace's cache."""
    settings = await request.settings()
    return await request.services.dictionaries.flags(
        request.workspace.key, lookup.handle.client, lookup.user, ttl=settings.cache_ttl_seconds
    )


async def set_flag(
    request: PacsRequest,
    lookup: Lookup,
    order: PatientOrder,
    choice: FlagChoice,
    *,
    place: CardPlace | None = None,
) -> None:
    """Set a flag on an order (or clear its group), audit it and show the order with its flags."""
    client, order_uuid = lookup.handle.client, order.patient_order_uuid
    if choice.clears and not flag_is_set(order, choice):
        await request.reply(
            f"This order has no *{escape(choice.group_label)}* flag, so there was nothing to clear."
        )
        return
    if not choice.clears and flag_is_set(order, choice):
        await request.reply(
            f"This order already has the flag *{escape(choice.label)}*; nothing changed. "
            "To take it off: Clear in the flag menu, or `/pacs unflag <order> <flag>`."
        )
        return
    action = "order.unflag" if choice.clears else "order.flag"
    async with audited(request, action, order_uuids=[order_uuid]):
        await client.set_flag_to_patient_order(lookup.user, order_uuid, choice.group_id, choice.flag_id)
    logger.info("flag %s set on order %s for team %s", choice.code, order_uuid, request.workspace.key)
    updated = await lookup.order(order_ref(order))
    if choice.clears:
        note = f":white_flag: <@{request.user_id}> cleared the *{escape(choice.group_label)}* flag."
    else:
        note = f":triangular_flag_on_post: <@{request.user_id}> set the flag *{escape(choice.label)}*."
    await show_change(request, lookup, updated, note, place=place)


async def offer_flags(
    request: PacsRequest, lookup: Lookup, order: PatientOrder, choices: list[FlagChoice], *, question: str
) -> None:
    """Ask which flag to set: a modal for a channel's card, else a menu in the user's own message."""
    phi, names = await lookup.phi(), await lookup.names()
    if asks_in_a_modal(request):
        origin = ModalOrigin.of(request, order, with_card=True)
        await open_modal(
            request,
            flag_modal(order, phi, names, choices, metadata=origin.encode(request.services.modal_context)),
        )
        return
    blocks = flag_chooser_blocks(order, phi, names, choices, question=question)
    await request.reply(question, blocks, replace_original=from_own_message(request))


async def flag_order(request: PacsRequest, lookup: Lookup, order: PatientOrder, options: str) -> None:
    """Set the flag the options name (typed, or chosen from a menu), or ask which one."""
    typed = options.strip()
    if typed.startswith("-"):
        await unflag_order(request, lookup, order, typed)
        return
    groups = await flag_groups(request, lookup)
    if not typed:
        await offer_flags(
            request, lookup, order, flag_choices(groups), question="Which flag should this order get?"
        )
        return
    code = chosen_code(typed)
    if code is not None:
        listed = find_flag(groups, code)
        if listed is None:
            question = "That flag is no longer in the account's dictionary. Pick another:"
            await offer_flags(request, lookup, order, flag_choices(groups), question=question)
            return
        await set_flag(request, lookup, order, listed)
        return
    found = match_flag(typed, groups)
    if found.chosen is not None:
        await set_flag(request, lookup, order, found.chosen)
        return
    shown = escape(typed)
    if found.ambiguous:
        question = f"More than one flag fits “{shown}”. Which one did you mean?"
    elif found.offered:
        question = f"No flag is called exactly “{shown}”. The closest:"
    else:
        question = f"No flag is called “{shown}”. These are the account's flags:"
    await offer_flags(request, lookup, order, list(found.offered) or flag_choices(groups), question=question)


async def unflag_order(request: PacsRequest, lookup: Lookup, order: PatientOrder, options: str) -> None:
    """Take the flag the options name off the order, or ask which one when it carries several."""
    groups = await flag_groups(request, lookup)
    carried = [choice for choice in flag_choices(groups) if flag_is_set(order, choice)]
    if not carried:
        await request.reply("This order has no flag, so there was nothing to clear.")
        return
    typed = options.strip().lstrip("-").strip()
    if not typed:
        if len(carried) == 1:
            await set_flag(request, lookup, order, _clearing(groups, carried[0]))
            return
        question = "This order has several flags. Which one should I take off?"
        await offer_flags(request, lookup, order, flag_choices(groups), question=question)
        return
    by_group = match(typed, [Candidate(group.group_name, group) for group in groups])
    if by_group.chosen is not None and fold_equal(typed, by_group.chosen.name):
        await set_flag(request, lookup, order, clear_choice(by_group.chosen.value))
        return
    found = match_flag(typed, groups)
    if found.chosen is None:
        shown = ", ".join(f"*{escape(choice.label)}*" for choice in carried)
        await request.reply(
            f"No flag of this order is called “{escape(typed)}”; nothing changed. It has {shown}."
        )
        return
    if not flag_is_set(order, found.chosen):
        same_group = [choice for choice in carried if choice.group_id == found.chosen.group_id]
        has = (
            f" Its *{escape(found.chosen.group_label)}* flag is *{escape(same_group[0].flag_name)}*."
            if same_group
            else ""
        )
        await request.reply(
            f"This order does not have the flag *{escape(found.chosen.label)}*, so nothing changed.{has}"
        )
        return
    await set_flag(request, lookup, order, _clearing(groups, found.chosen))


def _clearing(groups: list[FlagGroup], choice: FlagChoice) -> FlagChoice:
    group = next(group for group in groups if group.group_id == choice.group_id)
    return clear_choice(group)


def fold_equal(first: str, second: str) -> bool:
    """Tell whether two names are the same once case and accents are folded."""
    return fold(first) == fold(second)


async def submit_flag(
    request: PacsRequest, lookup: Lookup, order: PatientOrder, values: StateValues, origin: ModalOrigin
) -> None:
    """Set the flag chosen in the modal and redraw the channel's card."""
    selected = ((values.get(FLAG_BLOCK) or {}).get(FLAG_INPUT) or {}).get("selected_option") or {}
    found = find_flag(await flag_groups(request, lookup), str(selected.get("value") or ""))
    if found is None:
        await request.reply("That flag is no longer in the account's dictionary. Please choose again.")
        return
    await set_flag(request, lookup, order, found, place=origin.place)


def register(app: PacsApp) -> None:
    """Add ``/pacs flag``, the Flag button's verb, its menu and its modal."""

    async def command(request: PacsRequest) -> None:
        words = split_words(request.text, ())
        reference, rest = split_reference(words.words)
        if not reference:
            raise UsageError("which order should I flag?", EXAMPLE)
        await act_on_reference(app, request, "flag", reference, " ".join(rest))

    async def unflag_command(request: PacsRequest) -> None:
        words = split_words(request.text, ())
        reference, rest = split_reference(words.words)
        if not reference:
            raise UsageError("which order should I take a flag off?", UNFLAG_EXAMPLE)
        await act_on_reference(app, request, "unflag", reference, " ".join(rest))

    on_order(app, "flag", flag_order, question="Which order should I flag?")
    on_order(app, "unflag", unflag_order, question="Which order should I take the flag off?")
    listen(app, FLAG_CHOICE_ACTION)
    on_submit(app, FLAG_MODAL, submit_flag)
    app.router.add(
        "flag",
        command,
        summary="Flag an order (e.g. urgent, read); without a flag name, choose from a menu",
        usage="flag <order> [flag]",
        examples=(EXAMPLE, "/pacs flag ACC0000001 reading:read", "/pacs flag 1CT1"),
    )
    app.router.add(
        "unflag",
        unflag_command,
        summary="Take a flag off an order (by flag or group name); the flag menu's Clear does the same",
        usage="unflag <order> [flag]",
        examples=(UNFLAG_EXAMPLE, "/pacs unflag ACC0000001 priority"),
    )
