"""Unfurls: a pasted PostDICOM share link the app created becomes the study card (``link_shared``).

Only links the app remembers creating (``commands/share.py``) are unfurled; any other link is left
to Slack. The card follows the channel's patient-data rules (Hidden in a Slack Connect channel).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from slack_bolt.async_app import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.app.channel_policy import card_phi_for_channel
from bot.app.lookup import Lookup
from bot.app.pacs_app import PacsApp
from bot.app.request import PacsRequest, workspace_of
from bot.errors import UserFacingError
from bot.postdicom import ApiError
from bot.ui.shares import unfurl_blocks
from bot.ui.values import OrderRef

logger = logging.getLogger(__name__)

# Slack sends at most a handful of links per message; more are not worth a PostDICOM call each.
MAX_LINKS = 5


async def unfurl(request: PacsRequest, channel_id: str, message_ts: str, urls: list[str]) -> None:
    """Answer a link_shared event: unfurl the links the app created, leave the others alone."""
    store = request.services.store
    known = [(url, await store.created_links.find(request.workspace, url)) for url in urls[:MAX_LINKS]]
    known_links = [(url, link) for url, link in known if link is not None]
    if not known_links:
        return
    settings = await request.settings()
    phi = await card_phi_for_channel(
        request.services, request.client, request.workspace, channel_id, settings
    )
    if phi is None:
        return
    lookup = await Lookup.start(request)
    names = await lookup.names()
    today = datetime.now(UTC).date()
    unfurls: dict[str, Any] = {}
    for url, link in known_links:
        try:
            order = await lookup.order(OrderRef(link.order_uuid, link.institution_uuid))
        except ApiError:
            logger.info("not unfurling a link in team %s: its order is gone", request.workspace.key)
            continue
        blocks = unfurl_blocks(
            order,
            phi,
            names,
            expires=link.expires_on,
            can_download=link.can_download,
            expired=link.expires_on < today,
        )
        unfurls[url] = {"blocks": blocks}
    if unfurls:
        await request.client.chat_unfurl(channel=channel_id, ts=message_ts, unfurls=unfurls)


def register(app: PacsApp) -> None:
    """Listen to link_shared."""

    async def on_link_shared(
        event: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        urls = [str(item.get("url") or "") for item in event.get("links") or [] if item.get("url")]
        channel, ts = str(event.get("channel") or ""), str(event.get("message_ts") or "")
        if not urls or not channel or not ts:
            return
        request = PacsRequest(
            app.services, workspace_of(context), user_id=str(event.get("user") or ""), client=client
        )
        with app.services.handling():
            try:
                await unfurl(request, channel, ts, urls)
            except (UserFacingError, SlackApiError) as error:
                # Nobody asked for the unfurl: there is no one to tell, so it is logged.
                logger.warning("could not unfurl in team %s: %s", request.workspace.key, type(error).__name__)

    app.bolt.event("link_shared")(on_link_shared)
