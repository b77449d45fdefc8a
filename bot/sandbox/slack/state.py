"""Everything the local Slack knows: workspaces, people, conversations, messages, views, files, tokens.

The state performs no I/O. The Web API, the file host, the ``response_url`` host and Socket Mode
all read and change it through the methods here, and so will the browser console; a method that
Slack can refuse raises :class:`SlackRejection` with Slack's error code.
"""

from __future__ import annotations

import itertools
import math
import re
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

from bot.sandbox.slack.blockkit import check_response_body, with_generated_ids
from bot.sandbox.slack.model import (
    Channel,
    Enterprise,
    EphemeralMessage,
    Installation,
    JsonObject,
    Message,
    MessageRef,
    MessageSource,
    OAuthCode,
    ResponseUrl,
    SlackAppConfig,
    SlackFile,
    SlackUrls,
    Team,
    TokenGrant,
    Trigger,
    User,
    UserGroup,
    View,
)

# Slack's figures: trigger_id ~3 s (slack.md §3.1); response_url 5 uses in 30 min; rotated tokens 12 h.
# chat.update is Tier 3 ("Rate limits" page: 50+ per minute, bursts tolerated): a bucket of 50
# edits per workspace that refills at 50 a minute.
DEFAULT_CHAT_UPDATE_PER_MINUTE = 50.0
DEFAULT_CHAT_UPDATE_BURST = 50.0
DEFAULT_TRIGGER_TTL_SECONDS = 3.0
DEFAULT_RESPONSE_URL_MAX_USES = 5
DEFAULT_RESPONSE_URL_TTL_SECONDS = 30 * 60.0
ROTATED_TOKEN_TTL_SECONDS = 12 * 60 * 60
MODAL_STACK_LIMIT = 3

_FILETYPES_BY_EXTENSION: dict[str, tuple[str, str]] = {
    "zip": ("zip", "application/zip"),
    "png": ("png", "image/png"),
    "jpg": ("jpg", "image/jpeg"),
    "jpeg": ("jpg", "image/jpeg"),
    "pdf": ("pdf", "application/pdf"),
    "txt": ("text", "text/plain"),
}


class RateLimited(Exception):
    """Slack answered HTTP 429: the method's rate tier is used up for ``retry_after_seconds``."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(f"ratelimited, retry after {retry_after_seconds} s")
        self.retry_after_seconds = retry_after_seconds


class SlackRejection(Exception):
    """Slack refused an operation; ``error`` is the code Slack puts in ``{"ok": false, "error": ...}``."""

    def __init__(self, error: str, **details: Any) -> None:
        super().__init__(error)
        self.error = error
        self.details = details


class SlackState:
    """The whole local Slack world, for one app installed in any number of workspaces."""

    def __init__(
        self,
        *,
        app: SlackAppConfig | None = None,
        clock: Callable[[], float] = time.time,
        trigger_ttl_seconds: float = DEFAULT_TRIGGER_TTL_SECONDS,
        response_url_max_uses: int = DEFAULT_RESPONSE_URL_MAX_USES,
        response_url_ttl_seconds: float = DEFAULT_RESPONSE_URL_TTL_SECONDS,
        base_url: str = "http://slack.invalid",
    ) -> None:
        self.app = app or SlackAppConfig()
        self.clock = clock
        self.trigger_ttl_seconds = trigger_ttl_seconds
        self.response_url_max_uses = response_url_max_uses
        self.response_url_ttl_seconds = response_url_ttl_seconds
        self.urls = SlackUrls(base_url)
        self.enterprises: dict[str, Enterprise] = {}
        self.teams: dict[str, Team] = {}
        self.users: dict[str, User] = {}
        self.usergroups: dict[str, UserGroup] = {}
        self.channels: dict[str, Channel] = {}
        self.messages: list[Message] = []
        self.ephemeral_messages: list[EphemeralMessage] = []
        self.views: dict[str, View] = {}
        self.files: dict[str, SlackFile] = {}
        self.installations: dict[str, Installation] = {}
        self.tokens: dict[str, TokenGrant] = {}
        self.triggers: dict[str, Trigger] = {}
        self.response_urls: dict[str, ResponseUrl] = {}
        self.oauth_codes: dict[str, OAuthCode] = {}
        self.socket_tickets: set[str] = set()
        self.chat_update_per_minute = DEFAULT_CHAT_UPDATE_PER_MINUTE
        self.chat_update_burst = DEFAULT_CHAT_UPDATE_BURST
        self._edit_buckets: dict[str, tuple[float, float]] = {}
        self._modal_stacks: dict[tuple[str, str], list[str]] = {}
        self._counters: dict[str, itertools.count[int]] = {}
        self._last_ts_micros = 0
        self.tokens[self.app.app_token] = TokenGrant(
            token=self.app.app_token,
            kind="app",
            team_id=None,
            user_id=None,
            scopes=frozenset({"connections:write"}),
            app_id=self.app.app_id,
        )

    # -- identifiers and time ------------------------------------------------------------------

    def new_id(self, prefix: str) -> str:
        """Return the next Slack-style identifier with ``prefix`` (``T``, ``U``, ``C``, ``F``, ``V``...)."""
        counter = self._counters.setdefault(prefix, itertools.count(1))
        return f"{prefix}{next(counter):09X}"

    def next_ts(self) -> str:
        """Return a message timestamp, unique and increasing like Slack's ``ts``."""
        micros = max(int(self.clock() * 1_000_000), self._last_ts_micros + 1)
        self._last_ts_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def now(self) -> int:
        """Return the current Unix time in whole seconds, from the state's clock."""
        return int(self.clock())

    # -- building the world ----------------------------------------------------------------------

    def add_enterprise(self, name: str) -> Enterprise:
        """Create an Enterprise Grid organisation."""
        enterprise = Enterprise(id=self.new_id("E"), name=name)
        self.enterprises[enterprise.id] = enterprise
        return enterprise

    def add_team(self, name: str, *, domain: str | None = None, enterprise: Enterprise | None = None) -> Team:
        """Create a workspace."""
        team = Team(
            id=self.new_id("T"),
            name=name,
            domain=domain or re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-"),
            enterprise_id=enterprise.id if enterprise else None,
        )
        self.teams[team.id] = team
        return team

    def add_user(
        self,
        team: Team,
        name: str,
        *,
        real_name: str | None = None,
        email: str | None = None,
        is_admin: bool = False,
        is_owner: bool = False,
        is_primary_owner: bool = False,
        is_restricted: bool = False,
    ) -> User:
        """Create a person in a workspace."""
        user = User(
            id=self.new_id("U"),
            team_id=team.id,
            name=name,
            real_name=real_name or name,
            email=email,
            is_admin=is_admin or is_owner,
            is_owner=is_owner or is_primary_owner,
            is_primary_owner=is_primary_owner,
            is_restricted=is_restricted,
        )
        self.users[user.id] = user
        return user

    def add_channel(
        self,
        team: Team,
        name: str,
        *,
        members: Iterable[User] = (),
        is_private: bool = False,
        connected_teams: Iterable[Team] = (),
    ) -> Channel:
        """Create a channel; ``connected_teams`` makes it a Slack Connect channel shared with them."""
        member_ids = {user.id for user in members}
        channel = Channel(
            id=self.new_id("C"),
            team_id=team.id,
            name=name,
            created=self.now(),
            creator=next(iter(sorted(member_ids)), None),
            is_private=is_private,
            members=member_ids,
            connected_team_ids={other.id for other in connected_teams},
        )
        self.channels[channel.id] = channel
        return channel

    def join(self, channel: Channel, *users: User) -> None:
        """Add users (people or bot users) to a channel."""
        channel.members.update(user.id for user in users)

    def im_channel(self, first: User, second: User) -> Channel:
        """Return the direct-message conversation between two users, creating it on first use."""
        pair = {first.id, second.id}
        for channel in self.channels.values():
            if channel.is_im and channel.members == pair:
                return channel
        other = second if first.is_bot else first
        channel = Channel(
            id=self.new_id("D"),
            team_id=first.team_id,
            name=other.id,
            created=self.now(),
            is_im=True,
            im_user_id=other.id,
            members=pair,
        )
        self.channels[channel.id] = channel
        return channel

    def install_app(
        self,
        team: Team,
        *,
        installer: User | None = None,
        scopes: Iterable[str] | None = None,
        channels: Iterable[Channel] = (),
    ) -> Installation:
        """Install the app in a workspace (what a completed OAuth flow does) and add its bot to channels."""
        granted = tuple(scopes) if scopes is not None else self.app.bot_scopes
        installer = installer or self.default_installer(team)
        existing = self.installations.get(team.id)
        if existing is not None and not self.app.token_rotation:
            # Re-installing keeps the bot token and only changes what it may do.
            self.tokens[existing.bot_token].scopes = frozenset(granted)
            existing.scopes, existing.installer_user_id = granted, installer.id
            self._join_all(channels, self.users[existing.bot_user_id])
            return existing
        if existing is not None:
            self.tokens.pop(existing.bot_token, None)
        bot_user = self._bot_user(team)
        bot_token, refresh_token = self._issue_bot_token(team, bot_user, granted)
        installation = Installation(
            team_id=team.id,
            enterprise_id=team.enterprise_id,
            app_id=self.app.app_id,
            bot_user_id=bot_user.id,
            bot_id=str(bot_user.bot_id),
            bot_token=bot_token,
            scopes=granted,
            installer_user_id=installer.id,
            refresh_token=refresh_token,
        )
        self.installations[team.id] = installation
        self._join_all(channels, bot_user)
        return installation

    def uninstall_app(self, team: Team) -> None:
        """Remove the app from a workspace and revoke its tokens (``app_uninstalled``)."""
        installation = self.installations.pop(team.id, None)
        if installation is None:
            return
        for grant in self.tokens.values():
            if grant.kind == "bot" and grant.team_id == team.id:
                grant.revoked = True

    def _join_all(self, channels: Iterable[Channel], user: User) -> None:
        for channel in channels:
            self.join(channel, user)

    def _bot_user(self, team: Team) -> User:
        for user in self.users.values():
            if user.team_id == team.id and user.is_bot and user.name == self.app.bot_name:
                return user
        bot_user = User(
            id=self.new_id("U"),
            team_id=team.id,
            name=self.app.bot_name,
            real_name=self.app.bot_name,
            is_bot=True,
            bot_id=self.new_id("B"),
        )
        self.users[bot_user.id] = bot_user
        return bot_user

    def default_installer(self, team: Team) -> User:
        """Return who installs the app when nobody is named: the first admin, else the first person."""
        people = [user for user in self.users.values() if user.team_id == team.id and not user.is_bot]
        admins = [user for user in people if user.is_admin]
        if not (admins or people):
            raise ValueError(f"workspace {team.id} has nobody to install the app")
        return (admins or people)[0]

    def _issue_bot_token(self, team: Team, bot_user: User, scopes: tuple[str, ...]) -> tuple[str, str | None]:
        number = self.new_id("")
        if self.app.token_rotation:
            token = f"xoxe.xoxb-1-{number}-{secrets.token_hex(16)}"
            refresh_token: str | None = f"xoxe-1-{secrets.token_hex(24)}"
            expires_at: float | None = self.clock() + ROTATED_TOKEN_TTL_SECONDS
        else:
            token, refresh_token, expires_at = f"xoxb-{number}-{secrets.token_hex(12)}", None, None
        self.tokens[token] = TokenGrant(
            token=token,
            kind="bot",
            team_id=team.id,
            user_id=bot_user.id,
            scopes=frozenset(scopes),
            bot_id=bot_user.bot_id,
            app_id=self.app.app_id,
            expires_at=expires_at,
        )
        return token, refresh_token

    # -- OAuth -------------------------------------------------------------------------------------

    def issue_oauth_code(self, team: Team, installer: User, *, redirect_uri: str | None = None) -> str:
        """Issue the code Slack appends to the redirect after the installer approves the app."""
        code = f"{self.new_id('')}.{secrets.token_hex(16)}"
        self.oauth_codes[code] = OAuthCode(
            code=code,
            team_id=team.id,
            user_id=installer.id,
            redirect_uri=redirect_uri,
            issued_at=self.clock(),
        )
        return code

    def redeem_oauth_code(self, code: str, *, redirect_uri: str | None) -> tuple[Installation, str]:
        """Exchange an OAuth code for an installation; return it and the installing user's id."""
        issued = self.oauth_codes.get(code)
        if issued is None or issued.redeemed:
            raise SlackRejection("invalid_code")
        if redirect_uri is not None and issued.redirect_uri not in (None, redirect_uri):
            raise SlackRejection("bad_redirect_uri")
        issued.redeemed = True
        team = self.teams[issued.team_id]
        return self.install_app(team, installer=self.users[issued.user_id]), issued.user_id

    def rotate_bot_token(self, refresh_token: str) -> Installation:
        """Swap a refresh token for a fresh access token and refresh token (token rotation)."""
        for installation in self.installations.values():
            if installation.refresh_token == refresh_token:
                return self.install_app(
                    self.teams[installation.team_id],
                    installer=self.users[installation.installer_user_id],
                    scopes=installation.scopes,
                )
        raise SlackRejection("invalid_refresh_token")

    # -- lookups -----------------------------------------------------------------------------------

    def add_usergroup(self, team: Team, handle: str, name: str, *members: User) -> UserGroup:
        """Create a user group of a workspace with some members."""
        group = UserGroup(self.new_id("S"), team.id, handle, name, [member.id for member in members])
        self.usergroups[group.id] = group
        return group

    def user_by_email(self, team_id: str, email: str) -> User | None:
        """Find a person of a workspace by e-mail, case-insensitively."""
        for user in self.users.values():
            if user.team_id == team_id and user.email and user.email.lower() == email.lower():
                return user
        return None

    def find_message(self, channel_id: str, ts: str) -> Message | None:
        """Find a channel message by channel and ``ts``."""
        return next((m for m in self.messages if m.channel_id == channel_id and m.ts == ts), None)

    def find_ephemeral(self, channel_id: str, ts: str) -> EphemeralMessage | None:
        """Find an ephemeral message by channel and ``ts``."""
        return next((m for m in self.ephemeral_messages if m.channel_id == channel_id and m.ts == ts), None)

    def channel_history(self, channel: Channel, *, thread_ts: str | None = None) -> list[Message]:
        """List a channel's top-level messages, or the replies of one thread, oldest first."""
        if thread_ts is None:
            return [m for m in self.messages if m.channel_id == channel.id and m.thread_ts in (None, m.ts)]
        return [m for m in self.messages if m.channel_id == channel.id and m.thread_ts == thread_ts != m.ts]

    def ephemeral_for(self, user: User, *, channel: Channel | None = None) -> list[EphemeralMessage]:
        """List the ephemeral messages a user can still see, oldest first."""
        return [
            m
            for m in self.ephemeral_messages
            if m.user_id == user.id and not m.deleted and (channel is None or m.channel_id == channel.id)
        ]

    def open_views(self, user: User) -> list[View]:
        """Return the user's modal stack, bottom first."""
        return [self.views[view_id] for view_id in self._modal_stacks.get((user.team_id, user.id), [])]

    def file_visible_to_team(self, file: SlackFile, team_id: str) -> bool:
        """Tell whether a workspace can see a file: its own, or shared into a channel it is in."""
        if file.team_id == team_id:
            return True
        return any(self.channels[channel_id].visible_to_team(team_id) for channel_id in file.channel_ids)

    # -- messages ----------------------------------------------------------------------------------

    def post_message(
        self,
        channel: Channel,
        *,
        text: str,
        blocks: Iterable[Mapping[str, Any]] = (),
        author: User,
        thread_ts: str | None = None,
        subtype: str | None = None,
        file_ids: Iterable[str] = (),
        metadata: JsonObject | None = None,
        source: MessageSource = "web_api",
    ) -> Message:
        """Post a message to a channel (or a thread), as a person or as a bot user."""
        message = Message(
            channel_id=channel.id,
            team_id=author.team_id,
            ts=self.next_ts(),
            text=text,
            blocks=with_generated_ids(blocks),
            user_id=author.id,
            bot_id=author.bot_id,
            app_id=self.app.app_id if author.is_bot else None,
            thread_ts=thread_ts,
            subtype=subtype,
            file_ids=list(file_ids),
            metadata=metadata,
            source=source,
        )
        parent = self.find_message(channel.id, thread_ts) if thread_ts else None
        if parent is not None:
            parent.thread_ts = parent.ts
            parent.reply_count += 1
            parent.latest_reply = message.ts
        self.messages.append(message)
        return message

    def post_ephemeral(
        self,
        channel: Channel,
        recipient: User,
        *,
        text: str,
        blocks: Iterable[Mapping[str, Any]] = (),
        bot_id: str | None,
        thread_ts: str | None = None,
        source: MessageSource = "web_api",
    ) -> EphemeralMessage:
        """Show a message to one user in a channel."""
        message = EphemeralMessage(
            channel_id=channel.id,
            team_id=recipient.team_id,
            user_id=recipient.id,
            ts=self.next_ts(),
            text=text,
            blocks=with_generated_ids(blocks),
            bot_id=bot_id,
            thread_ts=thread_ts,
            source=source,
        )
        self.ephemeral_messages.append(message)
        return message

    def edit_message(
        self,
        message: Message | EphemeralMessage,
        *,
        text: str | None,
        blocks: Iterable[Mapping[str, Any]] | None,
    ) -> None:
        """Replace a message's text and/or blocks; what is not given is kept (as ``chat.update`` does)."""
        if text is not None:
            message.text = text
        if blocks is not None:
            message.blocks = with_generated_ids(blocks)
        if isinstance(message, Message):
            message.edited_ts = self.next_ts()

    def take_edit_allowance(self, channel: Channel) -> None:
        """Spend one ``chat.update`` of the workspace's Tier 3 allowance, or raise RateLimited."""
        rate = self.chat_update_per_minute / 60.0
        now = self.clock()
        tokens, last = self._edit_buckets.get(channel.team_id, (self.chat_update_burst, now))
        tokens = min(self.chat_update_burst, tokens + (now - last) * rate)
        if tokens < 1.0:
            self._edit_buckets[channel.team_id] = (tokens, now)
            raise RateLimited(max(1, math.ceil((1.0 - tokens) / rate)))
        self._edit_buckets[channel.team_id] = (tokens - 1.0, now)

    def delete_message(self, message: Message | EphemeralMessage) -> None:
        """Delete a channel message, or hide an ephemeral one."""
        if isinstance(message, EphemeralMessage):
            message.deleted = True
        else:
            self.messages.remove(message)

    # -- triggers and modals -------------------------------------------------------------------

    def issue_trigger(self, team_id: str, user_id: str) -> str:
        """Issue a ``trigger_id`` for a user action, valid for ``trigger_ttl_seconds``."""
        trigger_id = f"{self.new_id('')}.{self.now()}.{secrets.token_hex(16)}"
        self.triggers[trigger_id] = Trigger(
            id=trigger_id, team_id=team_id, user_id=user_id, issued_at=self.clock()
        )
        return trigger_id

    def exchange_trigger(self, trigger_id: str, team_id: str) -> Trigger:
        """Use up a ``trigger_id``: it works once, for its own workspace, within its lifetime."""
        trigger = self.triggers.get(trigger_id)
        if trigger is None or trigger.team_id != team_id:
            raise SlackRejection("invalid_trigger_id")
        if trigger.exchanged:
            raise SlackRejection("exchanged_trigger_id")
        if self.clock() - trigger.issued_at > self.trigger_ttl_seconds:
            raise SlackRejection("expired_trigger_id")
        trigger.exchanged = True
        return trigger

    def open_modal(self, trigger: Trigger, definition: JsonObject, installation: Installation) -> View:
        """Open a modal for the trigger's user, replacing any modal stack they had."""
        for view in self.open_views(self.users[trigger.user_id]):
            view.closed = True
        view = self._new_view(trigger.team_id, trigger.user_id, definition, installation, root_view_id=None)
        self._modal_stacks[(trigger.team_id, trigger.user_id)] = [view.id]
        return view

    def push_modal(self, trigger: Trigger, definition: JsonObject, installation: Installation) -> View:
        """Push a modal onto the user's stack (Slack allows three views deep)."""
        stack = self._modal_stacks.get((trigger.team_id, trigger.user_id), [])
        if not stack:
            raise SlackRejection("not_found")
        if len(stack) >= MODAL_STACK_LIMIT:
            raise SlackRejection("push_limit_reached")
        previous = self.views[stack[-1]]
        view = self._new_view(
            trigger.team_id, trigger.user_id, definition, installation, root_view_id=previous.root_view_id
        )
        view.previous_view_id = previous.id
        stack.append(view.id)
        return view

    def update_view(self, view: View, definition: JsonObject, *, expected_hash: str | None) -> View:
        """Replace a view's content; a stale ``hash`` means someone else updated it first."""
        if expected_hash is not None and expected_hash != view.hash:
            raise SlackRejection("hash_conflict")
        self._check_external_id(definition, view.team_id, except_view=view)
        external_id = definition.get("external_id", view.definition.get("external_id"))
        view.definition = dict(definition, blocks=with_generated_ids(definition.get("blocks", [])))
        if external_id:
            view.definition["external_id"] = external_id
        view.hash = self._view_hash()
        return view

    def publish_home(self, user: User, definition: JsonObject, installation: Installation) -> View:
        """Publish the user's App Home view, replacing the previous one."""
        for view in self.views.values():
            if view.type == "home" and view.user_id == user.id and not view.closed:
                return self.update_view(view, definition, expected_hash=None)
        return self._new_view(user.team_id, user.id, definition, installation, root_view_id=None)

    def find_view(self, *, team_id: str, view_id: str | None, external_id: str | None) -> View:
        """Find a live view by id or by the app's ``external_id``."""
        for view in self.views.values():
            if view.team_id != team_id or view.closed:
                continue
            if view.id == view_id or (external_id and view.definition.get("external_id") == external_id):
                return view
        raise SlackRejection("not_found")

    def close_modal(self, user: User, *, all_views: bool = False) -> None:
        """Close the user's top modal, or the whole stack."""
        stack = self._modal_stacks.get((user.team_id, user.id), [])
        closing = list(stack) if all_views else stack[-1:]
        for view_id in closing:
            self.views[view_id].closed = True
            stack.remove(view_id)

    def _new_view(
        self,
        team_id: str,
        user_id: str,
        definition: JsonObject,
        installation: Installation,
        *,
        root_view_id: str | None,
    ) -> View:
        self._check_external_id(definition, team_id, except_view=None)
        view_id = self.new_id("V")
        view = View(
            id=view_id,
            team_id=team_id,
            user_id=user_id,
            app_id=installation.app_id,
            bot_id=installation.bot_id,
            definition=dict(definition, blocks=with_generated_ids(definition.get("blocks", []))),
            hash=self._view_hash(),
            root_view_id=root_view_id or view_id,
        )
        self.views[view.id] = view
        return view

    def _check_external_id(self, definition: JsonObject, team_id: str, *, except_view: View | None) -> None:
        external_id = definition.get("external_id")
        if not external_id:
            return
        for view in self.views.values():
            same = view.team_id == team_id and view.definition.get("external_id") == external_id
            if same and view is not except_view and not view.closed:
                raise SlackRejection("duplicate_external_id")

    def _view_hash(self) -> str:
        return f"{self.now()}.{secrets.token_hex(4)}"

    # -- response_url and acknowledgements ------------------------------------------------------

    def issue_response_url(
        self,
        kind: Literal["commands", "actions"],
        *,
        team_id: str,
        channel_id: str,
        user_id: str,
        original: MessageRef | None = None,
    ) -> str:
        """Issue a ``response_url`` bound to a channel, a user and (for actions) the source message."""
        key = f"{self.new_id('')}/{secrets.token_urlsafe(18)}"
        url = self.urls.response_url(kind, team_id, key)
        self.response_urls[key] = ResponseUrl(
            key=key,
            url=url,
            team_id=team_id,
            channel_id=channel_id,
            user_id=user_id,
            issued_at=self.clock(),
            original=original,
        )
        return url

    def respond(self, key: str, body: Mapping[str, Any]) -> None:
        """Apply a POST to a ``response_url``: reply, replace or delete, within its use limits."""
        response_url = self.response_urls.get(key)
        if response_url is None:
            raise SlackRejection("invalid_url")
        if self.clock() - response_url.issued_at > self.response_url_ttl_seconds:
            raise SlackRejection("expired_url")
        if response_url.uses >= self.response_url_max_uses:
            raise SlackRejection("used_url")
        response_url.uses += 1
        response_url.answered_at = self.clock()
        placed = self.deliver_reply(
            team_id=response_url.team_id,
            channel_id=response_url.channel_id,
            user_id=response_url.user_id,
            body=body,
            original=response_url.original,
            source="response_url",
        )
        if response_url.original is None:
            response_url.original = placed

    def deliver_reply(
        self,
        *,
        team_id: str,
        channel_id: str,
        user_id: str,
        body: Mapping[str, Any],
        original: MessageRef | None,
        source: MessageSource,
    ) -> MessageRef | None:
        """Show an app's reply to a user's command or action, as Slack does for acks and response_urls."""
        original_message = self._resolve(original)
        if body.get("delete_original"):
            if original_message is not None:
                self.delete_message(original_message)
            return None
        problems = check_response_body(body)
        if problems:
            raise SlackRejection("invalid_blocks", errors=problems)
        text = str(body.get("text") or "")
        blocks: list[JsonObject] = list(body.get("blocks") or [])
        if not text and not blocks:
            raise SlackRejection("no_text")
        if body.get("replace_original") and original_message is not None and original is not None:
            self.edit_message(original_message, text=text, blocks=blocks)
            return original
        channel = self.channels[channel_id]
        thread_ts = body.get("thread_ts")
        installation = self.installations.get(team_id)
        bot_user = self.users[installation.bot_user_id] if installation else None
        if body.get("response_type") == "in_channel":
            author = bot_user or self.users[user_id]
            message = self.post_message(
                channel, text=text, blocks=blocks, author=author, thread_ts=thread_ts, source=source
            )
            return MessageRef(channel_id=channel.id, ts=message.ts, ephemeral=False)
        ephemeral = self.post_ephemeral(
            channel,
            self.users[user_id],
            text=text,
            blocks=blocks,
            bot_id=bot_user.bot_id if bot_user else None,
            thread_ts=thread_ts,
            source=source,
        )
        return MessageRef(channel_id=channel.id, ts=ephemeral.ts, ephemeral=True)

    def _resolve(self, ref: MessageRef | None) -> Message | EphemeralMessage | None:
        if ref is None:
            return None
        if ref.ephemeral:
            return self.find_ephemeral(ref.channel_id, ref.ts)
        return self.find_message(ref.channel_id, ref.ts)

    def apply_view_submission_ack(self, view: View, ack_body: Mapping[str, Any]) -> None:
        """Do to the modal stack what the app's ``view_submission`` ack asks (slack.md §3.2)."""
        user = self.users[view.user_id]
        action = ack_body.get("response_action")
        installation = self.installations[view.team_id]
        if action == "errors":
            view.definition["errors"] = dict(ack_body.get("errors") or {})
        elif action == "update":
            self.update_view(view, dict(ack_body["view"]), expected_hash=None)
        elif action == "push":
            stack = self._modal_stacks.setdefault((view.team_id, user.id), [])
            pushed = self._new_view(
                view.team_id, user.id, dict(ack_body["view"]), installation, root_view_id=view.root_view_id
            )
            pushed.previous_view_id = view.id
            stack.append(pushed.id)
        else:
            self.close_modal(user, all_views=action == "clear")

    # -- files -------------------------------------------------------------------------------------

    def add_file(
        self,
        uploader: User,
        *,
        name: str,
        content: bytes,
        mimetype: str | None = None,
        title: str | None = None,
    ) -> SlackFile:
        """Store an uploaded file; unknown types become ``binary`` as Slack does (slack.md §2.5)."""
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        filetype, guessed_mimetype = _FILETYPES_BY_EXTENSION.get(
            extension, ("binary", "application/octet-stream")
        )
        file = SlackFile(
            id=self.new_id("F"),
            team_id=uploader.team_id,
            user_id=uploader.id,
            name=name,
            title=title or name,
            mimetype=mimetype or guessed_mimetype,
            filetype=filetype,
            content=content,
            created=self.now(),
        )
        self.files[file.id] = file
        return file

    def share_file(
        self, file: SlackFile, channel: Channel, *, comment: str = "", thread_ts: str | None = None
    ) -> Message:
        """Share a file into a channel: the ``file_share`` message its uploader posts."""
        file.channel_ids.append(channel.id)
        return self.post_message(
            channel,
            text=comment,
            author=self.users[file.user_id],
            thread_ts=thread_ts,
            subtype="file_share",
            file_ids=[file.id],
            source="upload",
        )

    # -- Socket Mode ---------------------------------------------------------------------------------

    def issue_socket_ticket(self) -> str:
        """Issue a one-time ticket for the Socket Mode WebSocket URL."""
        ticket = secrets.token_urlsafe(16)
        self.socket_tickets.add(ticket)
        return ticket

    def redeem_socket_ticket(self, ticket: str) -> bool:
        """Use up a Socket Mode ticket; tell whether it was valid."""
        if ticket in self.socket_tickets:
            self.socket_tickets.remove(ticket)
            return True
        return False
