"""What the browser console shows one person: their workspace, channels, messages, thread, modal.

Everything here is pure: the local Slack's state in, plain JSON out. The JSON holds what a Slack
client would show its user and nothing more: no tokens, no ``response_url``s, no view
``private_metadata`` (the app may keep a ``response_url`` there).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import quote

from bot.sandbox.slack.model import (
    Channel,
    EphemeralMessage,
    JsonObject,
    Message,
    SlackFile,
    Team,
    User,
    View,
)
from bot.sandbox.slack.state import SlackState

FILES_PREFIX = "/console/files"
SLACKBOT_NAME = "Slackbot"

_VIEW_KEYS = ("callback_id", "title", "submit", "close", "notify_on_close", "external_id")


def role_of(user: User) -> str:
    """Name the person's role in the workspace: owner, admin or member."""
    if user.is_owner:
        return "owner"
    if user.is_admin:
        return "admin"
    return "member"


def person_json(user: User) -> JsonObject:
    """Render a workspace member for the user switcher, mentions and user pickers."""
    return {
        "id": user.id,
        "name": user.name,
        "real_name": user.real_name,
        "role": role_of(user),
        "is_bot": user.is_bot,
    }


def people(state: SlackState, team: Team) -> list[User]:
    """List the workspace's people (no bots), owners and admins first."""
    members = [u for u in state.users.values() if u.team_id == team.id and not u.is_bot and not u.deleted]
    order = {"owner": 0, "admin": 1, "member": 2}
    return sorted(members, key=lambda user: (order[role_of(user)], user.real_name))


def channels_for(state: SlackState, user: User) -> list[Channel]:
    """List the conversations a person is in: channels by name, then direct messages."""
    mine = [c for c in state.channels.values() if user.id in c.members and not c.is_archived]
    return sorted(mine, key=lambda channel: (channel.is_im, channel.name))


def channel_json(state: SlackState, channel: Channel, viewer: User) -> JsonObject:
    """Render a conversation for the sidebar and the channel header."""
    if channel.is_im:
        other_id = next((m for m in channel.members if m != viewer.id), viewer.id)
        other = state.users.get(other_id)
        label = other.real_name if other is not None else other_id
    else:
        label = channel.name
    return {
        "id": channel.id,
        "name": label,
        "is_private": channel.is_private,
        "is_im": channel.is_im,
        "is_ext_shared": channel.is_ext_shared,
        "member_count": len(channel.members),
    }


def author_json(state: SlackState, user_id: str | None, bot_id: str | None) -> JsonObject:
    """Render who wrote a message; a reply with no bot and no person is Slackbot's."""
    user = state.users.get(user_id or "")
    if user is None and bot_id is not None:
        user = next((u for u in state.users.values() if u.bot_id == bot_id), None)
    if user is None:
        return {"id": "USLACKBOT", "name": SLACKBOT_NAME, "is_bot": True}
    return {"id": user.id, "name": user.real_name, "is_bot": user.is_bot}


def file_json(file: SlackFile) -> JsonObject:
    """Render a shared file as a card with a download link served by the console."""
    return {
        "id": file.id,
        "name": file.name,
        "title": file.title,
        "size": file.size,
        "mimetype": file.mimetype,
        "filetype": file.filetype,
        "url": f"{FILES_PREFIX}/{file.id}/{quote(file.name)}",
    }


def message_json(state: SlackState, message: Message | EphemeralMessage) -> JsonObject:
    """Render a channel or ephemeral message as the console draws it."""
    ephemeral = isinstance(message, EphemeralMessage)
    rendered: JsonObject = {
        "key": ("e:" if ephemeral else "m:") + message.ts,
        "ts": message.ts,
        "ephemeral": ephemeral,
        "text": message.text,
        "blocks": message.blocks,
        "thread_ts": message.thread_ts,
    }
    if isinstance(message, EphemeralMessage):
        rendered["author"] = author_json(state, None, message.bot_id)
        return rendered
    rendered.update(
        {
            "author": author_json(state, message.user_id, message.bot_id),
            "subtype": message.subtype,
            "edited": message.edited_ts is not None,
            "reply_count": message.reply_count,
            "files": [file_json(state.files[f]) for f in message.file_ids if f in state.files],
        }
    )
    return rendered


def _by_ts(item: Message | EphemeralMessage) -> tuple[int, int]:
    seconds, _, micros = item.ts.partition(".")
    return int(seconds), int(micros or 0)


def timeline(state: SlackState, channel: Channel, viewer: User) -> list[JsonObject]:
    """List a channel's top-level messages and the viewer's ephemeral ones, oldest first."""
    items: list[Message | EphemeralMessage] = list(state.channel_history(channel))
    items += [m for m in state.ephemeral_for(viewer, channel=channel) if m.thread_ts is None]
    return [message_json(state, item) for item in sorted(items, key=_by_ts)]


def thread(state: SlackState, channel: Channel, viewer: User, thread_ts: str) -> JsonObject | None:
    """Render a thread: its parent and replies, with the viewer's ephemeral replies among them."""
    parent = state.find_message(channel.id, thread_ts)
    if parent is None:
        return None
    items: list[Message | EphemeralMessage] = list(state.channel_history(channel, thread_ts=thread_ts))
    items += [m for m in state.ephemeral_for(viewer, channel=channel) if m.thread_ts == thread_ts]
    return {
        "ts": thread_ts,
        "parent": message_json(state, parent),
        "replies": [message_json(state, item) for item in sorted(items, key=_by_ts)],
    }


def view_json(view: View) -> JsonObject:
    """Render a modal or Home view without its ``private_metadata``."""
    rendered: JsonObject = {key: view.definition[key] for key in _VIEW_KEYS if key in view.definition}
    rendered.update(
        {
            "id": view.id,
            "type": view.type,
            "hash": view.hash,
            "blocks": view.blocks,
            "errors": dict(view.definition.get("errors") or {}),
        }
    )
    return rendered


def home_view(state: SlackState, viewer: User) -> View | None:
    """Return the App Home view the app published for the viewer, if any."""
    return next(
        (v for v in state.views.values() if v.type == "home" and v.user_id == viewer.id and not v.closed),
        None,
    )


def snapshot(
    state: SlackState,
    team: Team,
    viewer: User,
    *,
    channel_id: str | None,
    thread_ts: str | None,
    home: bool = False,
) -> JsonObject:
    """Build everything one browser tab shows, with a version that changes whenever any of it does."""
    mine = channels_for(state, viewer)
    channel = next((c for c in mine if c.id == channel_id), None)
    if channel is None and not home:
        channel = next((c for c in mine if c.name == "general"), mine[0] if mine else None)
    modal_stack = state.open_views(viewer)
    home_definition = home_view(state, viewer) if home else None
    body: JsonObject = {
        "team": {"id": team.id, "name": team.name},
        "me": person_json(viewer),
        "people": [person_json(user) for user in people(state, team)],
        "channels": [channel_json(state, c, viewer) for c in mine],
        "channel": channel_json(state, channel, viewer) if channel is not None and not home else None,
        "messages": timeline(state, channel, viewer) if channel is not None and not home else [],
        "thread": thread(state, channel, viewer, thread_ts) if channel and thread_ts and not home else None,
        "modal": view_json(modal_stack[-1]) if modal_stack else None,
        "modal_depth": len(modal_stack),
        "home": view_json(home_definition) if home_definition is not None else None,
    }
    body["version"] = version_of(body)
    return body


def version_of(body: Any) -> str:
    """Fingerprint a snapshot so the browser's long poll can tell whether anything changed."""
    encoded = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(encoded).hexdigest()[:20]
