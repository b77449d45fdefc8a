"""``/pacs view <order>``: a viewer link for the requester alone.

PostDICOM binds a viewer link to the IP address that asked for it, so the link is shown only to
the person who asked, with a word on why share links are the way to show a study to colleagues.
"""

from __future__ import annotations

import logging

from bot.app.grammar import UsageError, split_words
from bot.app.guards import audited
from bot.app.lookup import Lookup
from bot.app.pacs_app import PacsApp
from bot.app.request import PacsRequest
from bot.postdicom import PatientOrder
from bot.ui.shares import view_link_blocks
from commands.order_actions import act_on_reference, on_order

logger = logging.getLogger(__name__)

EXAMPLE = "/pacs view 1CT1"


async def view_order(request: PacsRequest, lookup: Lookup, order: PatientOrder, options: str) -> None:
    """Give the requester a viewer link, privately."""
    order_uuid = order.patient_order_uuid
    async with audited(request, "order.view", order_uuids=[order_uuid]):
        link = await lookup.handle.client.get_view_url(lookup.user, order_uuid)
    logger.info("viewer link for order %s given in team %s", order_uuid, request.workspace.key)
    blocks = view_link_blocks(order, await lookup.phi(), await lookup.names(), url=link.url)
    await request.reply("Your viewer link (only you can see it)", blocks)


def register(app: PacsApp) -> None:
    """Add ``/pacs view`` and the overflow menu's View entry."""

    async def command(request: PacsRequest) -> None:
        reference = " ".join(split_words(request.text, ()).words)
        if not reference:
            raise UsageError("which order should I open?", EXAMPLE)
        await act_on_reference(app, request, "view", reference)

    on_order(app, "view", view_order, question="Which order do you want to open?")
    app.router.add(
        "view",
        command,
        summary="Get a viewer link for yourself (share links are for colleagues)",
        usage="view <order>",
        examples=(EXAMPLE, "/pacs view ACC0000001"),
    )
