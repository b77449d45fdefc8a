"""What every change to one order shares: showing the result where it was asked for, and modals.

A change asked for in the user's own (ephemeral) message replaces that message; one asked for on
a card in a channel redraws the card in place with ``chat.update``; one asked for by command is
answered with a new message. A channel card's menus open a modal instead of changing the message
everyone sees, and the modal remembers (in its private metadata) which card to redraw.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.app.errors import UserFacingError
from bot.app.kept import Kept
from bot.app.lookup import Lookup
from bot.app.pacs_app import PacsApp
from bot.app.replays import repeated_submission
from bot.app.request import PacsRequest, SourceMessage
from bot.app.router import run_answering_errors
from bot.postdicom import PatientOrder
from bot.ui.cards import card, split_around_card
from bot.ui.orders import order_card
from bot.ui.values import BadActionValue, OrderRef
from commands.search import redraw_results

logger = logging.getLogger(__name__)

MAX_PRIVATE_METADATA = 3000
_TRIGGER_ERRORS = frozenset({"expired_trigger_id", "exchanged_trigger_id", "invalid_trigger_id"})

StateValues = Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class CardPlace:
    """A channel message holding an order's card: where it is and the blocks around the card."""

    channel_id: str
    ts: str
    text: str
    before: tuple[dict[str, Any], ...]
    after: tuple[dict[str, Any], ...]


def card_place(source: SourceMessage | None, order_uuid: str) -> CardPlace | None:
    """Find an order's card in the channel message an interaction came from."""
    if source is None or source.ephemeral:
        return None
    around = split_around_card(source.blocks, order_uuid)
    if around is None:
        return None
    before, after = around
    return CardPlace(source.channel_id, source.ts, source.text, tuple(before), tuple(after))


def from_channel_message(request: PacsRequest) -> bool:
    """Tell whether the request came from a message everyone in the channel sees."""
    return request.source is not None and not request.source.ephemeral


def from_own_message(request: PacsRequest) -> bool:
    """Tell whether the request came from a message only the requester sees."""
    return request.source is not None and request.source.ephemeral


def asks_in_a_modal(request: PacsRequest) -> bool:
    """Tell whether a chooser should open as a modal: over a channel's card, or over a list of results."""
    return from_channel_message(request) or request.results_page is not None


async def show_change(
    request: PacsRequest, lookup: Lookup, order: PatientOrder, note: str, *, place: CardPlace | None = None
) -> None:
    """Show an order after a change: redrawn where the change was asked for, else in a new message."""
    if await redraw_results(request, lookup, note):
        return
    phi, names = await lookup.phi(), await lookup.names()
    place = place or card_place(request.source, order.patient_order_uuid)
    if place is not None:
        try:
            await request.client.chat_update(
                channel=place.channel_id,
                ts=place.ts,
                text=place.text or note,
                blocks=[*place.before, *card(order, phi, names), *place.after],
            )
        except SlackApiError as error:
            # The card stays stale (counted in /metrics by the client's observer); the requester
            # still sees the result below.
            logger.warning(
                "chat.update of a card failed for team %s: %s",
                request.workspace.key,
                error.response.get("error") if error.response else "no answer",
            )
        else:
            return
    await request.reply(
        note, order_card(order, phi, names, note=note), replace_original=from_own_message(request)
    )


@dataclass(frozen=True, slots=True)
class ModalOrigin:
    """What a modal remembers of where it was opened: the order, the channel, how to answer, which card."""

    ref: OrderRef
    channel_id: str | None = None
    response_url: str | None = None
    place: CardPlace | None = None
    results_page: tuple[int, str] | None = None

    @classmethod
    def of(cls, request: PacsRequest, order: PatientOrder, *, with_card: bool = False) -> ModalOrigin:
        """Describe where a request about an order came from."""
        ref = OrderRef(order.patient_order_uuid.lower(), (order.institution_uuid or "").lower() or None)
        return cls(
            ref,
            request.channel_id,
            request.respond.response_url if request.respond is not None else None,
            card_place(request.source, order.patient_order_uuid) if with_card else None,
            request.results_page,
        )

    def encode(self, kept: Kept[str]) -> str:
        """Encode as private metadata; a card too big for it is kept server-side and named by a key."""
        data: dict[str, Any] = {
            "ref": self.ref.encode(),
            "channel": self.channel_id,
            "url": self.response_url,
        }
        if self.results_page is not None:
            data["list"] = list(self.results_page)
        if self.place is not None:
            data["card"] = {
                "channel": self.place.channel_id,
                "ts": self.place.ts,
                "text": self.place.text,
                "before": list(self.place.before),
                "after": list(self.place.after),
            }
        text = json.dumps(data, separators=(",", ":"))
        if len(text) > MAX_PRIVATE_METADATA:
            # Slack refuses private_metadata over 3,000 characters; the blocks around a card in an
            # upload message with several studies outgrow it.
            data["card_key"] = kept.add(json.dumps(data.pop("card"), separators=(",", ":")))
            text = json.dumps(data, separators=(",", ":"))
        return text

    @classmethod
    def decode(cls, text: str, kept: Kept[str]) -> ModalOrigin:
        """Read private metadata written by :meth:`encode`; anything else is refused."""
        try:
            data = json.loads(text)
            _, ref = OrderRef.decode(str(data["ref"]))
            place = None
            if data.get("card_key"):
                held_text = kept.peek(str(data["card_key"]))
                if held_text is None:
                    logger.warning("a modal's card is no longer kept here; the card stays as it was")
                else:
                    data["card"] = json.loads(held_text)
            if isinstance(data.get("card"), dict):
                held = data["card"]
                place = CardPlace(
                    str(held["channel"]),
                    str(held["ts"]),
                    str(held.get("text") or ""),
                    tuple(dict(block) for block in held["before"]),
                    tuple(dict(block) for block in held["after"]),
                )
            listed = data.get("list")
            results = (
                (int(listed[0]), str(listed[1])) if isinstance(listed, list) and len(listed) == 2 else None
            )
            return cls(ref, data.get("channel") or None, data.get("url") or None, place, results)
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            raise BadActionValue("not a modal of mine") from error


async def open_modal(request: PacsRequest, view: Mapping[str, Any]) -> None:
    """Open a modal on the request's trigger; a trigger Slack no longer takes becomes a plain answer."""
    if not request.trigger_id:
        raise UserFacingError("Slack did not give me a way to open a form here.", hint="Please click again.")
    try:
        await request.client.views_open(trigger_id=request.trigger_id, view=dict(view))
    except SlackApiError as error:
        if error.response is not None and error.response.get("error") in _TRIGGER_ERRORS:
            raise UserFacingError(
                "Slack stopped waiting for the form before PostDICOM answered.",
                hint="Please click again; it is quicker the second time.",
            ) from error
        raise


SubmitHandler = Callable[[PacsRequest, Lookup, PatientOrder, StateValues, ModalOrigin], Awaitable[None]]
Validator = Callable[[StateValues], dict[str, str]]


def on_submit(
    app: PacsApp, callback_id: str, handler: SubmitHandler, *, validate: Validator | None = None
) -> None:
    """Listen to a modal about one order: check its fields in the ack, then act with errors answered."""

    async def listener(
        ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        view = body.get("view") or {}
        values: StateValues = (view.get("state") or {}).get("values") or {}
        errors = validate(values) if validate is not None else {}
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        request = app.request(context, body, client)
        if await repeated_submission(app.services.store.claims, request.workspace.key, body):
            return
        try:
            origin = ModalOrigin.decode(str(view.get("private_metadata") or ""), app.services.modal_context)
        except BadActionValue:
            await request.reply("That form is not one of mine, so I did nothing.")
            return
        request.channel_id = origin.channel_id
        request.results_page = origin.results_page
        if origin.response_url:
            request.respond = AsyncRespond(
                response_url=origin.response_url, proxy=client.proxy, ssl=client.ssl
            )

        async def run(request: PacsRequest) -> None:
            lookup = await Lookup.start(request)
            order = await lookup.order(origin.ref)
            await handler(request, lookup, order, values, origin)

        await run_answering_errors(request, run, name=callback_id)

    app.bolt.view(callback_id)(listener)
