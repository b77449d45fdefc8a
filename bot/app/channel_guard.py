"""The check every entry point passes before it acts: who sent the request, and where it acts.

Commands, buttons, menus, modal submissions and the Retry button all run through
:func:`bot.app.router.run_answering_errors`, which calls :func:`check_request` at the moment of the
action (not when a card was drawn). In order:

1. Tenancy: the payload's team (and enterprise) must be the installation's that verified it, and
   the user's own team the payload's; otherwise the request is refused, logged and audited.
2. Allowed channels (``/pacs settings``), unless the subcommand is an admin's.
3. External channels: a channel shared with another organisation is refused unless an admin
   allowed it; in an allowed one the request carries the channel's facts, which hide names.
"""

from __future__ import annotations

import logging
from enum import StrEnum

from bot.app.errors import NotAllowed
from bot.app.request import PacsRequest
from bot.store.audit import AuditOutcome
from bot.store.workspace import WorkspaceRef

logger = logging.getLogger(__name__)

EXTERNAL_ALLOW_COMMAND = "/pacs channel external allow"


class ChannelCheck(StrEnum):
    """How much of the guard applies to an entry point."""

    # Everything that can show patient data: tenancy, allowed channels, external channels.
    FULL = "full"
    # Admin subcommands show no patient data and must stay reachable anywhere: tenancy only.
    ADMIN = "admin"


def foreign_team(request: PacsRequest) -> str | None:
    """Return how the payload's teams disagree (a forged or foreign request), or None when they agree."""
    if (
        request.installation_enterprise_id
        and request.enterprise_id
        and request.installation_enterprise_id != request.enterprise_id
    ):
        return "enterprise_mismatch"
    if request.workspace.is_enterprise_install:
        # One install for the whole organization: its users' teams differ and all belong.
        return None
    if request.installation_team_id and request.team_id and request.installation_team_id != request.team_id:
        return "installation_team_mismatch"
    if request.user_team_id and request.team_id and request.user_team_id != request.team_id:
        return "user_team_mismatch"
    return None


async def check_request(request: PacsRequest, check: ChannelCheck = ChannelCheck.FULL) -> None:
    """Raise NotAllowed (logged and audited) unless this request may act where it was made."""
    mismatch = foreign_team(request)
    if mismatch is not None:
        logger.warning(
            "refused a request for team %s: %s (user team %s, installation team %s)",
            request.team_id,
            mismatch,
            request.user_team_id,
            request.installation_team_id,
        )
        # Filed under the installation that verified the request: the payload's team is the doubtful part.
        installed = (
            WorkspaceRef(request.installation_enterprise_id, request.installation_team_id)
            if request.installation_team_id
            else request.workspace
        )
        await request.services.store.audit.record(
            installed,
            action="request.refused",
            outcome=AuditOutcome.DENIED,
            slack_user_id=request.user_id or None,
            channel_id=request.channel_id,
            error_code=mismatch,
        )
        raise NotAllowed(
            "This request did not come from a member of the workspace that installed me, so I did nothing.",
            hint="Members of other organisations cannot use this workspace's PACS.",
        )
    channel = request.channel_id
    if check is ChannelCheck.ADMIN or not channel:
        return
    settings = await request.services.store.workspace_settings.get(request.workspace)
    if not settings.allows_channel(channel):
        await request.audit("pacs.channel_not_allowed", AuditOutcome.DENIED, error_code="channel_not_allowed")
        allowed = ", ".join(f"<#{allowed}>" for allowed in settings.allowed_channels[:10])
        raise NotAllowed("/pacs is not enabled in this channel.", hint=f"An admin allowed it in {allowed}.")
    facts = await request.services.channels.facts(
        request.client,
        request.workspace.key,
        request.installation_team_id or request.workspace.team_id,
        channel,
    )
    if not facts.known:
        await request.audit("pacs.channel_unknown", AuditOutcome.DENIED, error_code="channel_unknown")
        raise NotAllowed(
            "I am not in this channel, so I cannot tell who else can read it and will not show patient data here.",
            hint="Invite me with `/invite @pacsbot`, or use one of the channels I am in.",
        )
    if not facts.external:
        return
    channel_settings = await request.services.store.channel_settings.get(request.workspace, channel)
    if not channel_settings.external_allowed:
        await request.audit("pacs.channel_external", AuditOutcome.DENIED, error_code="external_channel")
        raise NotAllowed(
            f"This channel is shared with {facts.partners}, outside this workspace, "
            "so I keep patient data out of it.",
            hint=f"Use one of this workspace's own channels, or ask an admin to run `{EXTERNAL_ALLOW_COMMAND}` here.",
        )
    request.external_channel = facts
