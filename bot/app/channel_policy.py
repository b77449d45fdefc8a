"""Whether a card the app posts on its own (a subscription event, an unfurl) may go to a channel, and how.

This is the single hook for the external-channel policy: the channel guard of the external-channel
work (issue 15) replaces the body of :func:`card_phi_for_channel`; every unasked card calls it.
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.store import PhiDisplay

logger = logging.getLogger(__name__)


async def card_phi_for_channel(
    client: AsyncWebClient, channel_id: str, workspace_phi: PhiDisplay
) -> PhiDisplay | None:
    """Return how much patient data a card may show in a channel; None means post nothing there."""
    try:
        response = await client.conversations_info(channel=channel_id)
    except SlackApiError as error:
        # Unknown channel: the card must not go anywhere we cannot vouch for.
        logger.warning(
            "not posting a card to %s: conversations.info said %s",
            channel_id,
            error.response.get("error") if error.response else "nothing",
        )
        return None
    channel = response.get("channel") or {}
    # A Slack Connect channel has members outside the hospital: they see no patient name or ID.
    if channel.get("is_ext_shared") or channel.get("is_shared") or channel.get("is_pending_ext_shared"):
        return PhiDisplay.HIDDEN
    return workspace_phi
