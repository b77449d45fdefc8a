"""Where patient data may go: the channel guard every entry point passes, and what Slack says of a channel.

A channel shared with another organisation (Slack Connect) is external. By default nothing that
shows patient data is done in an external channel; an admin may allow a named external channel
with ``/pacs channel external allow``, and then cards there hide the patient's name and a link is
posted only after a confirmation that names the other organisation. Whether a channel is external
is asked of Slack (``conversations.info``) and remembered for a few minutes; a payload that says so
itself (an event's ``is_ext_shared_channel``, a user of another team) is believed at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from cachetools import TTLCache
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

logger = logging.getLogger(__name__)

FACTS_TTL_SECONDS = 300.0
TEAM_NAME_TTL_SECONDS = 3600.0
MAX_CHANNELS = 20_000
# Direct messages and group DMs: the user's own conversation with the app (im:read is not asked for).
_DIRECT_PREFIXES = ("D",)


@dataclass(frozen=True, slots=True)
class ChannelFacts:
    """What Slack says about a channel: whether other organisations share it, and which."""

    channel_id: str
    external: bool
    partner_team_ids: tuple[str, ...] = ()
    partner_names: tuple[str, ...] = ()
    # False when Slack would not describe the channel (a private channel the app is not in).
    known: bool = True

    @property
    def partners(self) -> str:
        """Name the other organisations for a sentence ("Partner Imaging Center")."""
        names = self.partner_names or self.partner_team_ids
        return ", ".join(names) if names else "another organisation"


class ChannelDirectory:
    """Answer whether a channel is shared with another organisation, remembering answers a few minutes."""

    def __init__(
        self,
        *,
        ttl_seconds: float = FACTS_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._facts: TTLCache[tuple[str, str], ChannelFacts] = TTLCache(
            maxsize=MAX_CHANNELS, ttl=ttl_seconds, timer=clock
        )
        self._team_names: TTLCache[str, str] = TTLCache(
            maxsize=MAX_CHANNELS, ttl=TEAM_NAME_TTL_SECONDS, timer=clock
        )

    async def facts(
        self, client: AsyncWebClient, workspace_key: str, own_team_id: str | None, channel_id: str
    ) -> ChannelFacts:
        """Return what Slack says about a channel (cached); a channel Slack will not describe is unknown."""
        key = (workspace_key, channel_id)
        cached = self._facts.get(key)
        if cached is not None:
            return cached
        if channel_id.startswith(_DIRECT_PREFIXES):
            facts = ChannelFacts(channel_id, external=False)
        else:
            facts = await self._ask(client, own_team_id, channel_id)
        if facts.known:
            self._facts[key] = facts
        return facts

    def mark_external(self, workspace_key: str, channel_id: str) -> None:
        """Believe a payload that says a channel is shared with another organisation, until Slack is asked."""
        cached = self._facts.get((workspace_key, channel_id))
        if cached is None or not cached.external:
            self._facts.pop((workspace_key, channel_id), None)

    def forget(self, workspace_key: str, channel_id: str) -> None:
        """Drop what is remembered of a channel (it was shared or unshared)."""
        self._facts.pop((workspace_key, channel_id), None)

    async def _ask(self, client: AsyncWebClient, own_team_id: str | None, channel_id: str) -> ChannelFacts:
        try:
            response = await client.conversations_info(channel=channel_id)
        except SlackApiError as error:
            reason = error.response.get("error") if error.response is not None else "no answer"
            logger.info("conversations.info failed for channel %s: %s", channel_id, reason)
            return ChannelFacts(channel_id, external=True, known=False)
        channel = response.get("channel") or {}
        external = bool(channel.get("is_ext_shared") or channel.get("is_pending_ext_shared"))
        teams = [str(team) for team in channel.get("shared_team_ids") or () if team != own_team_id]
        host = channel.get("context_team_id") or channel.get("conversation_host_id")
        if external and host and host != own_team_id and host not in teams:
            teams.insert(0, str(host))
        names = tuple([await self._team_name(client, team) for team in teams]) if external else ()
        return ChannelFacts(channel_id, external=external, partner_team_ids=tuple(teams), partner_names=names)

    async def _team_name(self, client: AsyncWebClient, team_id: str) -> str:
        cached = self._team_names.get(team_id)
        if cached is not None:
            return cached
        try:
            response = await client.team_info(team=team_id)
            name = str((response.get("team") or {}).get("name") or team_id)
        except SlackApiError as error:
            reason = error.response.get("error") if error.response is not None else "no answer"
            logger.info("team.info failed for team %s: %s", team_id, reason)
            return team_id
        self._team_names[team_id] = name
        return name
