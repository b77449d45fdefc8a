"""Install lifecycle: uninstall and token revocation delete the workspace's keys (Home: commands/home.py)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncBoltContext

from bot.app.pacs_app import PacsApp
from bot.app.request import workspace_of

logger = logging.getLogger(__name__)


def register(app: PacsApp) -> None:
    """Listen to app_uninstalled, tokens_revoked and Slack Connect sharing changes."""
    services = app.services

    async def forget_workspace(context: AsyncBoltContext) -> None:
        workspace = workspace_of(context)
        await services.forget_workspace(workspace)
        logger.info("workspace %s uninstalled the app; its keys and settings were deleted", workspace.key)

    async def on_uninstalled(context: AsyncBoltContext) -> None:
        await forget_workspace(context)

    async def on_tokens_revoked(event: dict[str, Any], context: AsyncBoltContext) -> None:
        # Revoking only user tokens leaves the bot working; losing the bot token ends the install.
        if (event.get("tokens") or {}).get("bot"):
            await forget_workspace(context)

    async def on_sharing_changed(event: dict[str, Any], context: AsyncBoltContext) -> None:
        # Slack Connect: a channel was shared with, or unshared from, another organisation.
        channel = str(event.get("channel") or "")
        if channel:
            services.channels.forget(workspace_of(context).key, channel)
            logger.info("channel %s of team %s changed who shares it", channel, context.team_id)

    app.bolt.event("channel_shared")(on_sharing_changed)
    app.bolt.event("channel_unshared")(on_sharing_changed)
    app.bolt.event("app_uninstalled")(on_uninstalled)
    app.bolt.event("tokens_revoked")(on_tokens_revoked)
