"""Whether a card the app posts on its own (a subscription event, an unfurl) may go to a channel, and how.

The same policy as the channel guard of commands and buttons (bot/app/channel_guard.py), for the
cards nobody asked for in that moment: a channel the workspace's admins left out of the allowed
list, or one Slack will not describe, gets nothing; a channel shared with another organisation
gets nothing unless an admin allowed it with `/pacs channel external allow`, and then only the
Hidden card.
"""

from __future__ import annotations

import logging

from slack_sdk.web.async_client import AsyncWebClient

from bot.app.services import Services
from bot.store import PhiDisplay, WorkspaceRef, WorkspaceSettings

logger = logging.getLogger(__name__)


async def card_phi_for_channel(
    services: Services,
    client: AsyncWebClient,
    workspace: WorkspaceRef,
    channel_id: str,
    settings: WorkspaceSettings,
) -> PhiDisplay | None:
    """Return how much patient data a card may show in a channel; None means post nothing there."""
    if not settings.allows_channel(channel_id):
        logger.info("not posting a card to %s of team %s: not an allowed channel", channel_id, workspace.key)
        return None
    facts = await services.channels.facts(client, workspace.key, workspace.team_id, channel_id)
    if not facts.known:
        logger.warning(
            "not posting a card to %s of team %s: Slack will not describe it", channel_id, workspace.key
        )
        return None
    if not facts.external:
        return settings.phi_display
    if not (await services.store.channel_settings.get(workspace, channel_id)).external_allowed:
        logger.info(
            "not posting a card to %s of team %s: shared with another organisation", channel_id, workspace.key
        )
        return None
    # Members of the other organisation read it: no patient name or ID, whatever the workspace shows.
    return PhiDisplay.HIDDEN
