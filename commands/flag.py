"""``/pacs flag <order> [flag]``: set a flag by (fuzzy) name, or pick one from the account's flags.

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
from bot.app.matching import Candidate, Matched, match
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
    find_flag,
    flag_choices,
    flag_chooser_blocks,
    flag_modal,
)
from bot.ui.orders import order_ref
from commands.order_actions import act_on_reference, listen, on_order
from commands.order_changes import (
    CardPlace,
    ModalOrigin,
    StateValues,
    from_channel_message,
    from_own_message,
    on_submit,
    open_modal,
    show_change,
)

logger = logging.getLogger(__name__)

EXAMPLE = "/pacs flag 1CT1 urgent"


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
    """Set a flag on an order, audit it and show the order with its flags."""
    client, order_uuid = lookup.handle.client, order.patient_order_uuid
    async with audited(request, "order.flag", order_uuids=[order_uuid]):
        await client.set_flag_to_patient_order(lookup.user, order_uuid, choice.group_id, choice.flag_id)
    logger.info("flag %s set on order %s for team %s", choice.code, order_uuid, request.workspace.key)
    updated = await lookup.order(order_ref(order))
    note = f":triangular_flag_on_post: <@{request.user_id}> set the flag *{escape(choice.label)}*."
    await show_change(request, lookup, updated, note, place=place)


async def offer_flags(
    request: PacsRequest, lookup: Lookup, order: PatientOrder, choices: list[FlagChoice], *, question: str
) -> None:
    """Ask which flag to set: a modal for a channel's card, else a menu in the user's own message."""
    phi, names = await lookup.phi(), await lookup.names()
    if from_channel_message(request):
        origin = ModalOrigin.of(request, order, with_card=True)
        await open_modal(request, flag_modal(order, phi, names, choices, metadata=origin.encode()))
        return
    blocks = flag_chooser_blocks(order, phi, names, choices, question=question)
    await request.reply(question, blocks, replace_original=from_own_message(request))


async def flag_order(request: PacsRequest, lookup: Lookup, order: PatientOrder, options: str) -> None:
    """Set the flag the options name (typed, or chosen from a menu), or ask which one."""
    groups = await flag_groups(request, lookup)
    typed = options.strip()
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

    on_order(app, "flag", flag_order, question="Which order should I flag?")
    listen(app, FLAG_CHOICE_ACTION)
    on_submit(app, FLAG_MODAL, submit_flag)
    app.router.add(
        "flag",
        command,
        summary="Flag an order (e.g. urgent, read); without a flag name, choose from a menu",
        usage="flag <order> [flag]",
        examples=(EXAMPLE, "/pacs flag ACC0000001 reading:read", "/pacs flag 1CT1"),
    )
