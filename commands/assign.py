"""``/pacs assign|unassign <order> @user|<group>`` and ``/pacs location <order> <institution>``.

A Slack user is matched to a PostDICOM user by their ``/pacs me`` link, else by their Slack
e-mail address against PostDICOM's user list. Names are matched against the cached users and
user groups, and institutions against the account's; a name that fits several, or none, is
never guessed: the closest are offered in a menu instead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from slack_sdk.errors import SlackApiError

from bot.app.grammar import UsageError, split_words
from bot.app.guards import audited
from bot.app.lookup import Lookup, split_reference
from bot.app.matching import Candidate, match
from bot.app.pacs_app import PacsApp
from bot.app.request import PacsRequest
from bot.postdicom import AccountUser, PatientOrder, UserGroup
from bot.ui.assignments import (
    ASSIGN_BLOCK,
    ASSIGN_CHOICE_ACTION,
    ASSIGN_MODAL,
    ASSIGNEE_INPUT,
    LOCATION_CHOICE_ACTION,
    UNASSIGN_BLOCK,
    UNASSIGN_CHOICE_ACTION,
    Assignee,
    Place,
    assign_chooser_blocks,
    assign_modal,
    location_chooser_blocks,
)
from bot.ui.blocks import escape, plain_state
from bot.ui.cards import chosen_code
from bot.ui.orders import order_ref
from bot.ui.values import OrderRef
from commands.notify import tell_group, tell_user
from commands.order_actions import act_on_reference, listen, on_order
from commands.order_changes import (
    ModalOrigin,
    StateValues,
    asks_in_a_modal,
    from_own_message,
    on_submit,
    open_modal,
    show_change,
)

logger = logging.getLogger(__name__)

Verb = Literal["assign", "unassign"]
ASSIGN_EXAMPLE = "/pacs assign 1CT1 @rita"
UNASSIGN_EXAMPLE = "/pacs unassign 1CT1 Radiologists"
LOCATION_EXAMPLE = "/pacs location 1CT1 Branch Clinic"


@dataclass(frozen=True, slots=True)
class Directory:
    """The account's users and user groups, as assignees."""

    users: tuple[AccountUser, ...]
    groups: tuple[UserGroup, ...]

    def assignees(self) -> list[Assignee]:
        """List every user, then every group."""
        people = [Assignee("user", user.user_uuid, user.full_name or user.user_name) for user in self.users]
        return people + [
            Assignee("group", group.user_group_uuid, group.user_group_name) for group in self.groups
        ]

    def find(self, code: str) -> Assignee | None:
        """Return the assignee a menu code names, if the account still has it."""
        return next((item for item in self.assignees() if item.code == code.lower()), None)

    def user(self, user_uuid: str) -> Assignee | None:
        """Return a user by UUID."""
        return self.find(f"u:{user_uuid}")

    def assigned(self, order: PatientOrder) -> list[Assignee]:
        """List who is assigned to an order now (by name where the account still knows them)."""
        assigned = [
            self.find(f"u:{uuid}") or Assignee("user", uuid, "a user")
            for uuid in order.assigned_user_uuid_list
        ]
        return assigned + [
            self.find(f"g:{uuid}") or Assignee("group", uuid, "a group")
            for uuid in order.assigned_user_group_uuid_list
        ]


@dataclass(frozen=True, slots=True)
class Offer:
    """No single assignee was meant: say why and offer these."""

    question: str
    candidates: tuple[Assignee, ...]


async def load_directory(request: PacsRequest, lookup: Lookup) -> Directory:
    """Return the account's users and groups from the workspace's cache."""
    settings = await request.settings()
    dictionaries, key, client = request.services.dictionaries, request.workspace.key, lookup.handle.client
    users, groups = await asyncio.gather(
        dictionaries.users(key, client, lookup.user, ttl=settings.cache_ttl_seconds),
        dictionaries.user_groups(key, client, lookup.user, ttl=settings.cache_ttl_seconds),
    )
    return Directory(tuple(users), tuple(groups))


async def postdicom_user_for(
    request: PacsRequest, directory: Directory, slack_user_id: str
) -> Assignee | None:
    """Find a Slack user's PostDICOM user: their ``/pacs me`` link, else the same e-mail address."""
    link = await request.services.store.user_links.get(request.workspace, slack_user_id)
    if link is not None:
        linked = directory.user(link.postdicom_user_uuid)
        if linked is not None:
            return linked
    try:
        info = await request.client.users_info(user=slack_user_id)
    except SlackApiError as error:
        logger.info(
            "users.info failed for team %s: %s",
            request.workspace.key,
            error.response.get("error") if error.response else "no answer",
        )
        return None
    email = str(((info.get("user") or {}).get("profile") or {}).get("email") or "").strip().casefold()
    same = [user for user in directory.users if email and user.email.strip().casefold() == email]
    return directory.user(same[0].user_uuid) if len(same) == 1 else None


def _unique(candidates: Sequence[Candidate[Assignee]]) -> tuple[Assignee, ...]:
    seen: dict[str, Assignee] = {}
    for candidate in candidates:
        seen.setdefault(candidate.value.code, candidate.value)
    return tuple(seen.values())


def match_assignee(typed: str, pool: Sequence[Assignee], directory: Directory) -> Assignee | Offer:
    """Pick the user or group a name means (full name, user name or group name), or what to offer."""
    user_names = {user.user_uuid.lower(): user.user_name for user in directory.users if user.user_name}
    candidates: list[Candidate[Assignee]] = []
    for item in pool:
        candidates.append(Candidate(item.name, item))
        if item.kind == "user" and item.uuid.lower() in user_names:
            candidates.append(Candidate(user_names[item.uuid.lower()], item))
    found = match(typed, candidates)
    if found.chosen is not None:
        return found.chosen.value
    ambiguous = _unique(found.ambiguous)
    if len(ambiguous) == 1:
        return ambiguous[0]
    shown = escape(typed)
    if ambiguous:
        return Offer(f"More than one person or group fits “{shown}”. Which one did you mean?", ambiguous)
    closest = _unique(found.closest)
    if closest:
        return Offer(f"Nobody here is called exactly “{shown}”. The closest:", closest)
    return Offer(f"Nobody here is called “{shown}”. Choose from the list:", tuple(pool))


async def resolve_assignee(
    request: PacsRequest, directory: Directory, typed: str, pool: Sequence[Assignee], *, example: str
) -> Assignee | Offer:
    """Turn what was typed or chosen (a mention, a name, a menu code) into one assignee, or an offer."""
    code = chosen_code(typed)
    if code is not None:
        found = directory.find(code)
        if found is not None:
            return found
        return Offer("That person or group is no longer in PostDICOM. Choose again:", tuple(pool))
    words = split_words(typed, ())
    if len(words.mentions) > 1 or (words.mentions and words.words):
        raise UsageError("name one person or group at a time", example)
    if words.mentions:
        slack_user = words.mentions[0].user_id
        found = await postdicom_user_for(request, directory, slack_user)
        if found is not None:
            return found
        return Offer(
            f"I don't know which PostDICOM user <@{slack_user}> is: they have not linked themselves with "
            "`/pacs me`, and no PostDICOM user has their Slack e-mail address. Choose the right one:",
            tuple(pool),
        )
    name = " ".join(words.words).lstrip("@").strip()
    if not name:
        return Offer("Whom should I choose?", tuple(pool))
    return match_assignee(name, pool, directory)


async def change_assignee(
    request: PacsRequest, lookup: Lookup, order: PatientOrder, target: Assignee, verb: Verb
) -> str:
    """Assign or take off one user or group, audited; return what to tell the user."""
    order_uuid, client, user = order.patient_order_uuid, lookup.handle.client, lookup.user
    listed = order.assigned_user_uuid_list if target.kind == "user" else order.assigned_user_group_uuid_list
    already = target.uuid.lower() in {uuid.lower() for uuid in listed}
    name = escape(target.label)
    if verb == "assign" and already:
        return f"*{name}* was already assigned to this order."
    if verb == "unassign" and not already:
        return f"*{name}* was not assigned to this order."
    async with audited(request, f"order.{verb}", order_uuids=[order_uuid]):
        if verb == "assign" and target.kind == "user":
            await client.assign_patient_order_to_user(user, order_uuid, target.uuid)
        elif verb == "assign":
            await client.assign_patient_order_to_user_group(user, order_uuid, target.uuid)
        elif target.kind == "user":
            await client.unassign_patient_order_from_user(user, order_uuid, target.uuid)
        else:
            await client.unassign_patient_order_from_user_group(user, order_uuid, target.uuid)
    logger.info("%s %s on order %s for team %s", verb, target.kind, order_uuid, request.workspace.key)
    if verb == "assign":
        told = await tell_assignee(request, lookup, order, target)
        return "\n".join(
            line
            for line in (f":bust_in_silhouette: <@{request.user_id}> assigned this order to *{name}*.", told)
            if line
        )
    return f":bust_in_silhouette: <@{request.user_id}> took *{name}* off this order."


async def tell_assignee(request: PacsRequest, lookup: Lookup, order: PatientOrder, target: Assignee) -> str:
    """Tell the new assignee (a user by DM, a group in its channel); return what to tell the assigner."""
    directory = await load_directory(request, lookup)
    updated = await lookup.order(order_ref(order))
    if target.kind == "user":
        user = next((item for item in directory.users if item.user_uuid.lower() == target.uuid.lower()), None)
        return await tell_user(request, lookup, updated, user) if user is not None else ""
    group = next(
        (item for item in directory.groups if item.user_group_uuid.lower() == target.uuid.lower()), None
    )
    return await tell_group(request, lookup, updated, group) if group is not None else ""


async def offer_assignees(
    request: PacsRequest,
    lookup: Lookup,
    order: PatientOrder,
    directory: Directory,
    *,
    question: str,
    candidates: Sequence[Assignee],
    verb: Verb,
) -> None:
    """Ask whom to choose: a modal for a channel's card, else menus in the user's own message."""
    phi, names = await lookup.phi(), await lookup.names()
    assigned = directory.assigned(order)
    if asks_in_a_modal(request):
        origin = ModalOrigin.of(request, order, with_card=True)
        view = assign_modal(
            order,
            phi,
            names,
            candidates=directory.assignees(),
            assigned=assigned,
            metadata=origin.encode(request.services.modal_context),
        )
        await open_modal(request, view)
        return
    blocks = assign_chooser_blocks(
        order, phi, names, question=question, candidates=candidates, assigned=assigned, verb=verb
    )
    await request.reply(question, blocks, replace_original=from_own_message(request))


async def assign_or_unassign(
    request: PacsRequest, lookup: Lookup, order: PatientOrder, options: str, verb: Verb
) -> None:
    """Assign (or take off) the user or group the options name, or ask whom."""
    directory = await load_directory(request, lookup)
    if verb == "assign":
        pool, example = directory.assignees(), ASSIGN_EXAMPLE
    else:
        pool, example = directory.assigned(order), UNASSIGN_EXAMPLE
        if not pool:
            await show_change(request, lookup, order, "Nobody is assigned to this order.")
            return
    typed = options.strip()
    if not typed:
        question = (
            "Whom should this order go to?" if verb == "assign" else "Whom should I take off this order?"
        )
        await offer_assignees(
            request, lookup, order, directory, question=question, candidates=pool, verb=verb
        )
        return
    target = await resolve_assignee(request, directory, typed, pool, example=example)
    if isinstance(target, Offer):
        await offer_assignees(
            request,
            lookup,
            order,
            directory,
            question=target.question,
            candidates=target.candidates,
            verb=verb,
        )
        return
    note = await change_assignee(request, lookup, order, target, verb)
    await show_change(request, lookup, await lookup.order(order_ref(order)), note)


async def submit_assignment(
    request: PacsRequest, lookup: Lookup, order: PatientOrder, values: StateValues, origin: ModalOrigin
) -> None:
    """Apply the modal's choices (assign someone, take someone off) and redraw the channel's card."""
    directory = await load_directory(request, lookup)
    notes = []
    changes: tuple[tuple[str, Verb], ...] = ((ASSIGN_BLOCK, "assign"), (UNASSIGN_BLOCK, "unassign"))
    for block_id, verb in changes:
        code = plain_state(values, block_id, ASSIGNEE_INPUT)
        if not code:
            continue
        target = directory.find(code)
        if target is None:
            notes.append("Someone you chose is no longer in PostDICOM.")
            continue
        notes.append(await change_assignee(request, lookup, order, target, verb))
        order = await lookup.order(order_ref(order))
    await show_change(request, lookup, order, "\n".join(notes), place=origin.place)


def need_a_choice(values: StateValues) -> dict[str, str]:
    """Refuse an assignment modal submitted with nothing chosen."""
    if plain_state(values, ASSIGN_BLOCK, ASSIGNEE_INPUT) or plain_state(
        values, UNASSIGN_BLOCK, ASSIGNEE_INPUT
    ):
        return {}
    return {ASSIGN_BLOCK: "Choose someone to assign, or someone to take off."}


def places_of(lookup: Lookup) -> list[Place]:
    """List the account's institutions."""
    account = lookup.handle.client.account
    institutions = account.institutions() if account is not None else []
    return [
        Place(item.institution_uuid, item.institution_name or item.institution_uuid) for item in institutions
    ]


async def move_order(request: PacsRequest, lookup: Lookup, order: PatientOrder, options: str) -> None:
    """Move an order to the institution the options name (typed, or chosen from a menu), or ask which."""
    current = (order.institution_uuid or "").lower()
    places = places_of(lookup)
    elsewhere = [place for place in places if place.uuid.lower() != current]
    typed = options.strip()
    code = chosen_code(typed)
    question = "Which institution should this order move to?"
    target: Place | None = None
    offered: Sequence[Place] = elsewhere
    if code is not None:
        target = next((place for place in places if place.uuid.lower() == code.lower()), None)
        if target is None:
            question = "That institution is no longer in the account. Choose another:"
    elif typed:
        found = match(typed, [Candidate(place.name, place) for place in places])
        target = found.chosen.value if found.chosen is not None else None
        shown = escape(typed)
        if found.ambiguous:
            question, offered = (
                f"More than one institution fits “{shown}”. Which one did you mean?",
                [candidate.value for candidate in found.ambiguous],
            )
        elif found.closest:
            question, offered = (
                f"No institution is called exactly “{shown}”. The closest:",
                [candidate.value for candidate in found.closest],
            )
        elif target is None:
            question = f"No institution of this account is called “{shown}”. Choose one:"
    if target is None:
        phi, names = await lookup.phi(), await lookup.names()
        blocks = location_chooser_blocks(order, phi, names, question=question, places=offered)
        await request.reply(question, blocks, replace_original=from_own_message(request))
        return
    name = escape(target.name)
    if target.uuid.lower() == current:
        await show_change(request, lookup, order, f"This order is already at *{name}*.")
        return
    order_uuid = order.patient_order_uuid
    async with audited(request, "order.location", order_uuids=[order_uuid]):
        await lookup.handle.client.assign_patient_order_to_location(lookup.user, order_uuid, target.uuid)
    logger.info(
        "order %s moved to institution %s for team %s", order_uuid, target.uuid, request.workspace.key
    )
    moved = await lookup.order(OrderRef(order_uuid.lower(), target.uuid.lower()))
    await show_change(
        request, lookup, moved, f":hospital: <@{request.user_id}> moved this order to *{name}*."
    )


def register(app: PacsApp) -> None:
    """Add ``/pacs assign``, ``unassign`` and ``location``, the Assign button's verb, menus and modal."""

    def command(verb: str, example: str, what: str) -> Callable[[PacsRequest], Awaitable[None]]:
        async def run(request: PacsRequest) -> None:
            words = split_words(request.text, ())
            reference, rest = split_reference(words.words)
            if not reference:
                raise UsageError(f"which order, and {what}?", example)
            options = " ".join([*rest, *(f"<@{mention.user_id}>" for mention in words.mentions)])
            await act_on_reference(app, request, verb, reference, options)

        return run

    async def assign(request: PacsRequest, lookup: Lookup, order: PatientOrder, options: str) -> None:
        await assign_or_unassign(request, lookup, order, options, "assign")

    async def unassign(request: PacsRequest, lookup: Lookup, order: PatientOrder, options: str) -> None:
        await assign_or_unassign(request, lookup, order, options, "unassign")

    on_order(app, "assign", assign, question="Which order should I assign?")
    on_order(app, "unassign", unassign, question="Which order should I take them off?")
    on_order(app, "location", move_order, question="Which order should I move?")
    listen(app, ASSIGN_CHOICE_ACTION, UNASSIGN_CHOICE_ACTION, LOCATION_CHOICE_ACTION)
    on_submit(app, ASSIGN_MODAL, submit_assignment, validate=need_a_choice)
    app.router.add(
        "assign",
        command("assign", ASSIGN_EXAMPLE, "to whom"),
        summary="Assign an order to a Slack user (their PostDICOM user), a PostDICOM user or a user group",
        usage="assign <order> @user|<user or group name>",
        examples=(ASSIGN_EXAMPLE, "/pacs assign ACC0000001 Radiologists"),
    )
    app.router.add(
        "unassign",
        command("unassign", UNASSIGN_EXAMPLE, "whom to take off"),
        summary="Take a user or user group off an order",
        usage="unassign <order> @user|<user or group name>",
        examples=(UNASSIGN_EXAMPLE, "/pacs unassign ACC0000001 @rita"),
    )
    app.router.add(
        "location",
        command("location", LOCATION_EXAMPLE, "to which institution"),
        summary="Move an order to another institution of the PostDICOM account",
        usage="location <order> <institution>",
        examples=(LOCATION_EXAMPLE,),
    )
