"""``PacsRequest``: one user's request, whatever Slack surface it came from, with what handlers need.

Handlers get the workspace, the user, where to answer, and lazy access to PostDICOM. Nothing here
talks to PostDICOM until a handler asks, which is always after ``ack()``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.app.accounts import PostDicomHandle as PostDicomHandle
from bot.app.channels import ChannelFacts
from bot.app.delivery import Answer, blocks_list, delete_through_response_url, deliver
from bot.app.errors import NotAllowed
from bot.app.services import Services
from bot.store.audit import AuditOutcome
from bot.store.connections import PostDicomConnection
from bot.store.settings import PhiDisplay, WorkspaceSettings
from bot.store.workspace import WorkspaceRef

logger = logging.getLogger(__name__)


def workspace_of(context: AsyncBoltContext) -> WorkspaceRef:
    """Return the workspace a Bolt request belongs to."""
    return WorkspaceRef(context.enterprise_id, context.team_id, bool(context.is_enterprise_install))


@dataclass(frozen=True, slots=True)
class SourceMessage:
    """The message a button or menu was used in; Slack echoes text and blocks for channel messages only."""

    channel_id: str
    ts: str
    ephemeral: bool
    text: str = ""
    blocks: tuple[dict[str, Any], ...] = ()


def source_of(body: Mapping[str, Any]) -> SourceMessage | None:
    """Return the message an interaction came from, if it came from a message."""
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    if container.get("type") != "message" or not channel or not container.get("message_ts"):
        return None
    message = body.get("message") or {}
    return SourceMessage(
        channel_id=str(channel),
        ts=str(container["message_ts"]),
        ephemeral=bool(container.get("is_ephemeral")),
        text=str(message.get("text") or ""),
        blocks=tuple(block for block in message.get("blocks") or () if isinstance(block, dict)),
    )


@dataclass
class PacsRequest:
    """One request from Slack, and the ways to act on it."""

    services: Services
    workspace: WorkspaceRef
    user_id: str
    client: AsyncWebClient
    channel_id: str | None = None
    trigger_id: str | None = None
    respond: AsyncRespond | None = None
    text: str = ""
    thread_ts: str | None = None
    source: SourceMessage | None = None
    # The page of search results (page, encrypted query) a button was pressed in, to redraw it.
    results_page: tuple[int, str] | None = None
    bot_user_id: str | None = None
    # Who sent it, as the payload says, and the installation whose credentials verified it.
    team_id: str | None = None
    user_team_id: str | None = None
    installation_team_id: str | None = None
    enterprise_id: str | None = None
    installation_enterprise_id: str | None = None
    # Set by the channel guard when the channel is shared with another organisation (and allowed).
    external_channel: ChannelFacts | None = None

    @classmethod
    def from_bolt(
        cls,
        services: Services,
        context: AsyncBoltContext,
        body: Mapping[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond | None,
    ) -> PacsRequest:
        """Build a request from any Bolt listener's arguments."""
        channel = body.get("channel_id") or (body.get("channel") or {}).get("id") or context.channel_id
        user = body.get("user_id") or (body.get("user") or {}).get("id") or context.user_id or ""
        user_team = (body.get("user") or {}).get("team_id") if isinstance(body.get("user"), Mapping) else None
        installed = context.authorize_result
        return cls(
            services=services,
            workspace=workspace_of(context),
            user_id=user,
            client=client,
            channel_id=channel,
            trigger_id=body.get("trigger_id"),
            respond=respond if body.get("response_url") or (respond and respond.response_url) else None,
            text=str(body.get("text") or ""),
            source=source_of(body),
            bot_user_id=context.bot_user_id,
            team_id=context.team_id,
            user_team_id=user_team or body.get("user_team"),
            installation_team_id=installed.team_id if installed is not None else None,
            enterprise_id=context.enterprise_id,
            installation_enterprise_id=installed.enterprise_id if installed is not None else None,
        )

    # --- PostDICOM ---------------------------------------------------------------------------

    async def connection(self) -> PostDicomConnection:
        """Return the workspace's PostDICOM connection, or raise NotConnected."""
        return await self.services.accounts.connection(self.workspace)

    async def postdicom(self) -> PostDicomHandle:
        """Return the workspace's ready PostDICOM client and acting user (connects on first use)."""
        return await self.services.accounts.handle(self.workspace)

    async def settings(self) -> WorkspaceSettings:
        """Return the workspace's settings; in a channel shared with another organisation, names are hidden."""
        settings = await self.services.store.workspace_settings.get(self.workspace)
        if self.external_channel is not None:
            return settings.model_copy(update={"phi_display": PhiDisplay.HIDDEN})
        return settings

    # --- permissions --------------------------------------------------------------------------

    async def is_admin(self) -> bool:
        """Tell whether the requesting user is a workspace admin or owner."""
        return await self.services.admins.is_admin(self.client, self.workspace.key, self.user_id)

    async def require_admin(self, what: str) -> None:
        """Raise NotAllowed unless the requesting user is a workspace admin or owner."""
        if not await self.is_admin():
            raise NotAllowed(
                f"Only workspace admins and owners can {what}.",
                # No setting opens this to others: only an admin can do it.
                hint="Ask one of them to do it.",
            )

    # --- answering ----------------------------------------------------------------------------

    async def reply(
        self,
        text: str,
        blocks: Sequence[Mapping[str, Any]] | None = None,
        *,
        in_channel: bool = False,
        replace_original: bool = False,
    ) -> bool:
        """Answer the user (ephemerally unless asked), falling back until a surface takes it; tell whether one did."""
        answer = Answer(text, blocks_list(blocks), in_channel=in_channel, replace_original=replace_original)
        return await deliver(
            answer,
            client=self.client,
            respond=self.respond,
            channel_id=self.channel_id,
            user_id=self.user_id,
            workspace=self.workspace.key,
            bot_user_id=self.bot_user_id,
        )

    async def delete_source(self) -> bool:
        """Delete the message the interaction came from (through its response_url); tell whether it went."""
        if self.respond is None:
            return False
        return await delete_through_response_url(self.respond, workspace=self.workspace.key) is None

    async def audit(
        self,
        action: str,
        outcome: AuditOutcome,
        *,
        order_uuids: Sequence[str] = (),
        folder_uuids: Sequence[str] = (),
        error_code: str | None = None,
    ) -> None:
        """Write an audit entry for this user's action (identifiers only, never patient data)."""
        await self.services.store.audit.record(
            self.workspace,
            action=action,
            outcome=outcome,
            slack_user_id=self.user_id or None,
            channel_id=self.channel_id,
            order_uuids=[uuid.lower() for uuid in order_uuids],
            folder_uuids=[uuid.lower() for uuid in folder_uuids],
            error_code=error_code,
        )
