"""Telling people of an assignment: the assignee by direct message, a user group in its channel.

The assignee's Slack user is the one linked with ``/pacs me``, else the one with the PostDICOM
user's e-mail address. A user group is told in the channel admins set with ``/pacs notify``. The
message is the order's card with its buttons, cut to the PHI setting; its notification text names
no patient. Whoever could not be told is named to the person who assigned.
"""

from __future__ import annotations

import logging
import re

from slack_sdk.errors import SlackApiError

from bot.app.grammar import UsageError
from bot.app.lookup import Lookup
from bot.app.matching import Candidate, match
from bot.app.pacs_app import PacsApp
from bot.app.request import PacsRequest
from bot.postdicom import AccountUser, PatientOrder, UserGroup
from bot.store.audit import AuditOutcome
from bot.ui.blocks import escape
from bot.ui.orders import order_card

logger = logging.getLogger(__name__)

NOTIFY_EXAMPLE = "/pacs notify Radiologists #reading-room"
_CHANNEL = re.compile(r"<#([CG][A-Z0-9]+)(?:\|[^>]*)?>")


def _slack_error(error: SlackApiError) -> str:
    return str(error.response.get("error") if error.response else "no_answer")


async def slack_users_of(request: PacsRequest, user: AccountUser) -> list[str]:
    """Find the Slack users a PostDICOM user is: linked with ``/pacs me``, else by e-mail address."""
    linked = await request.services.store.user_links.slack_users_for(request.workspace, user.user_uuid)
    if linked:
        return linked
    email = user.email.strip()
    if not email:
        return []
    try:
        found = await request.client.users_lookupByEmail(email=email)
    except SlackApiError as error:
        if _slack_error(error) != "users_not_found":
            logger.info(
                "users.lookupByEmail failed for team %s: %s", request.workspace.key, _slack_error(error)
            )
        return []
    slack_id = str((found.get("user") or {}).get("id") or "")
    return [slack_id] if slack_id else []


async def _post(
    request: PacsRequest, channel: str, order: PatientOrder, lookup: Lookup, note: str
) -> str | None:
    """Post the order's card; return Slack's error, or None when it was posted."""
    try:
        await request.client.chat_postMessage(
            channel=channel,
            # The notification's text shows on lock screens: no patient data in it.
            text=f"<@{request.user_id}> assigned an order",
            blocks=order_card(order, await lookup.phi(), await lookup.names(), note=note),
        )
    except SlackApiError as error:
        logger.info("assignment notice failed for team %s: %s", request.workspace.key, _slack_error(error))
        return _slack_error(error)
    return None


async def tell_user(request: PacsRequest, lookup: Lookup, order: PatientOrder, user: AccountUser) -> str:
    """Tell an assigned user by direct message; return what to tell the person who assigned."""
    name = escape(user.full_name or user.user_name)
    found = await slack_users_of(request, user)
    if not found:
        return (
            f":warning: I could not tell *{name}* in Slack: nobody here linked themselves to that "
            "PostDICOM user with `/pacs me`, and no Slack user has its e-mail address."
        )
    # Whoever assigned an order to themselves needs no message about it.
    recipients = [slack_id for slack_id in found if slack_id != request.user_id]
    told: list[str] = []
    failed: list[str] = []
    for slack_id in recipients:
        note = f":bust_in_silhouette: <@{request.user_id}> assigned this order to you."
        error = await _post(request, slack_id, order, lookup, note)
        (failed if error else told).append(slack_id)
    lines = (
        [f":incoming_envelope: Told {', '.join(f'<@{slack_id}>' for slack_id in told)} by direct message."]
        if told
        else []
    )
    lines += [f":warning: I could not send <@{slack_id}> a direct message." for slack_id in failed]
    return "\n".join(lines)


async def tell_group(request: PacsRequest, lookup: Lookup, order: PatientOrder, group: UserGroup) -> str:
    """Tell a user group in its channel, if admins set one; return what to tell the person who assigned."""
    settings = await request.settings()
    channel = settings.channel_for_group(group.user_group_uuid)
    name = escape(group.user_group_name)
    if channel is None:
        return ""
    if not settings.allows_channel(channel):
        return f":warning: I did not tell *{name}* in <#{channel}>: /pacs is not allowed there any more."
    facts = await request.services.channels.facts(
        request.client,
        request.workspace.key,
        request.installation_team_id or request.workspace.team_id,
        channel,
    )
    if not facts.known:
        return f":warning: I could not tell *{name}* in <#{channel}>: I am not in it. Invite me with `/invite @pacsbot`."
    if facts.external:
        # A notification asks nobody first: a card never goes to another organisation this way.
        return f":warning: I did not tell *{name}* in <#{channel}>: it is shared with {facts.partners}."
    note = f":bust_in_silhouette: <@{request.user_id}> assigned this order to *{name}*."
    error = await _post(request, channel, order, lookup, note)
    if error == "not_in_channel":
        return f":warning: I could not tell *{name}* in <#{channel}>: I am not in it. Invite me with `/invite @pacsbot`."
    if error:
        return f":warning: I could not tell *{name}* in <#{channel}> (Slack said `{error}`)."
    return f":loudspeaker: Told *{name}* in <#{channel}>."


def _typed_channel(text: str, here: str | None) -> tuple[str, str | None]:
    """Split ``<group name> <#C…>|here|off`` into the group's name and the channel (None for off)."""
    found = _CHANNEL.search(text)
    if found:
        return (text[: found.start()] + text[found.end() :]).strip(), found.group(1)
    words = text.split()
    if words and words[-1].lower() in ("here", "off"):
        return " ".join(words[:-1]), here if words[-1].lower() == "here" else None
    raise UsageError("which channel? Give a #channel, `here` or `off`", NOTIFY_EXAMPLE)


def register(app: PacsApp) -> None:
    """Add ``/pacs notify``: the channel that hears of a user group's assignments."""

    async def command(request: PacsRequest) -> None:
        await request.require_admin("choose where assignments are announced")
        text = request.text.strip()
        settings = await request.settings()
        lookup = await Lookup.start(request)
        groups = await request.services.dictionaries.user_groups(
            request.workspace.key, lookup.handle.client, lookup.user
        )
        if not text:
            by_uuid = {group.user_group_uuid.lower(): group.user_group_name for group in groups}
            lines = [
                f"*{escape(by_uuid.get(group, 'a group no longer in PostDICOM'))}* → <#{channel}>"
                for group, channel in settings.group_channels
            ]
            await request.reply(
                "\n".join(lines) or f"No user group has an assignment channel yet. Try `{NOTIFY_EXAMPLE}`."
            )
            return
        typed, channel = _typed_channel(text, request.channel_id)
        found = match(typed, [Candidate(group.user_group_name, group) for group in groups])
        if found.chosen is None:
            options = (
                found.ambiguous or found.closest or tuple(Candidate(g.user_group_name, g) for g in groups)
            )
            listed = ", ".join(f"*{escape(candidate.name)}*" for candidate in options[:10]) or "none"
            raise UsageError(
                f"no single PostDICOM user group is called '{typed}' (groups: {listed})", NOTIFY_EXAMPLE
            )
        group = found.chosen.value
        name = escape(group.user_group_name)
        if channel is not None:
            try:
                info = await request.client.conversations_info(channel=channel)
            except SlackApiError as error:
                raise UsageError(
                    f"I cannot see <#{channel}> (Slack said `{_slack_error(error)}`); invite me there first",
                    "/invite @pacsbot",
                ) from error
            if not (info.get("channel") or {}).get("is_member"):
                raise UsageError(f"I am not in <#{channel}>; invite me there first", "/invite @pacsbot")
        await request.services.store.workspace_settings.save(
            request.workspace, settings.with_group_channel(group.user_group_uuid, channel)
        )
        await request.audit("settings.group_channel", AuditOutcome.SUCCEEDED)
        if channel is None:
            await request.reply(f"Assignments to *{name}* are no longer announced in a channel.")
        else:
            await request.reply(f":loudspeaker: Assignments to *{name}* will be announced in <#{channel}>.")

    app.router.add(
        "notify",
        command,
        summary="Announce assignments to a PostDICOM user group in a channel (admins)",
        usage="notify [<user group> #channel|here|off]",
        examples=(NOTIFY_EXAMPLE, "/pacs notify Radiologists off"),
        admin_only=True,
    )
