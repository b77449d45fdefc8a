"""The entities of the local Slack: plain records that render themselves as Slack's JSON shapes."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any, Literal

JsonObject = dict[str, Any]

TokenKind = Literal["bot", "user", "app"]

# What the stub grants at install time: exactly the bot scopes of manifest.yml (a test keeps them
# in step), so a call needing any other scope fails with missing_scope as in a real install.
DEFAULT_BOT_SCOPES: tuple[str, ...] = (
    "commands",
    "chat:write",
    "users:read",
    "users:read.email",
    "channels:read",
    "groups:read",
    "usergroups:read",
    "files:read",
    "channels:history",
    "groups:history",
    "links:read",
    "links:write",
    "team:read",
)


@dataclass(frozen=True)
class SlackAppConfig:
    """The Slack app as registered at api.slack.com: its ids, secrets and requested scopes."""

    app_id: str = "A0PACSBOT1"
    client_id: str = "1000000001.2000000002"
    client_secret: str = field(default_factory=lambda: secrets.token_hex(16))
    signing_secret: str = field(default_factory=lambda: secrets.token_hex(16))
    verification_token: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    app_token: str = field(default_factory=lambda: f"xapp-1-A0PACSBOT1-{secrets.token_hex(20)}")
    bot_name: str = "pacsbot"
    # The redirect URL configured for the app; used when the install link does not name one.
    redirect_uri: str | None = None
    bot_scopes: tuple[str, ...] = DEFAULT_BOT_SCOPES
    token_rotation: bool = False


@dataclass(frozen=True)
class SlackUrls:
    """Where each Slack host (API, files, hooks, Socket Mode, workspace pages) lives on the stub."""

    base_url: str

    @property
    def api(self) -> str:
        """Return the Web API base URL, as ``AsyncWebClient(base_url=...)`` expects it."""
        return f"{self.base_url}/api/"

    @property
    def authorize(self) -> str:
        """Return the OAuth consent URL (stands in for ``https://slack.com/oauth/v2/authorize``)."""
        return f"{self.base_url}/oauth/v2/authorize"

    def team(self, team: Team) -> str:
        """Return the workspace URL (stands in for ``https://<domain>.slack.com/``)."""
        return f"{self.base_url}/{team.domain}/"

    def message_permalink(self, team: Team, channel_id: str, ts: str) -> str:
        """Return a message permalink in Slack's ``/archives/<channel>/p<ts digits>`` form."""
        return f"{self.team(team)}archives/{channel_id}/p{ts.replace('.', '')}"

    def file_private(self, file: SlackFile) -> str:
        """Return ``url_private`` for a file (stands in for ``https://files.slack.com/files-pri/...``)."""
        return f"{self.base_url}/files-pri/{file.team_id}-{file.id}/{file.name}"

    def file_download(self, file: SlackFile) -> str:
        """Return ``url_private_download`` for a file."""
        return f"{self.base_url}/files-pri/{file.team_id}-{file.id}/download/{file.name}"

    def file_permalink(self, team: Team, file: SlackFile) -> str:
        """Return the file's permalink page URL."""
        return f"{self.team(team)}files/{file.user_id}/{file.id}/{file.name}"

    def response_url(self, kind: Literal["commands", "actions"], team_id: str, key: str) -> str:
        """Return a ``response_url`` (stands in for ``https://hooks.slack.com/commands/...``)."""
        return f"{self.base_url}/{kind}/{team_id}/{key}"

    def socket_mode(self, ticket: str, app_id: str) -> str:
        """Return the Socket Mode WebSocket URL handed out by ``apps.connections.open``."""
        ws_base = self.base_url.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
        return f"{ws_base}/link/?ticket={ticket}&app_id={app_id}"


@dataclass
class Enterprise:
    """An Enterprise Grid organisation that owns several workspaces."""

    id: str
    name: str


@dataclass
class Team:
    """A workspace."""

    id: str
    name: str
    domain: str
    enterprise_id: str | None = None


@dataclass
class UserGroup:
    """A Slack user group (``@radiologists``) of one workspace, with its members."""

    id: str
    team_id: str
    handle: str
    name: str
    members: list[str]


@dataclass
class User:
    """A workspace member (a person or a bot user)."""

    id: str
    team_id: str
    name: str
    real_name: str
    email: str | None = None
    is_admin: bool = False
    is_owner: bool = False
    is_primary_owner: bool = False
    is_restricted: bool = False
    is_bot: bool = False
    bot_id: str | None = None
    deleted: bool = False
    tz: str = "Europe/Berlin"

    def to_api(self, *, include_email: bool) -> JsonObject:
        """Render the ``users.info`` user object; Slack drops the e-mail without ``users:read.email``."""
        profile: JsonObject = {
            "real_name": self.real_name,
            "real_name_normalized": self.real_name,
            "display_name": self.name,
            "display_name_normalized": self.name,
            "team": self.team_id,
        }
        if include_email and self.email is not None:
            profile["email"] = self.email
        if self.bot_id is not None:
            profile["bot_id"] = self.bot_id
        return {
            "id": self.id,
            "team_id": self.team_id,
            "name": self.name,
            "deleted": self.deleted,
            "real_name": self.real_name,
            "tz": self.tz,
            "profile": profile,
            "is_admin": self.is_admin,
            "is_owner": self.is_owner,
            "is_primary_owner": self.is_primary_owner,
            "is_restricted": self.is_restricted,
            "is_ultra_restricted": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
        }


@dataclass
class Channel:
    """A conversation: public or private channel, or a direct message (``im``)."""

    id: str
    team_id: str
    name: str
    created: int
    creator: str | None = None
    is_private: bool = False
    is_im: bool = False
    im_user_id: str | None = None
    members: set[str] = field(default_factory=set)
    # Teams other than the host that share the channel (Slack Connect).
    connected_team_ids: set[str] = field(default_factory=set)
    is_archived: bool = False

    @property
    def is_ext_shared(self) -> bool:
        """Tell whether the channel is shared with another organisation (Slack Connect)."""
        return bool(self.connected_team_ids)

    @property
    def channel_type(self) -> Literal["channel", "group", "im"]:
        """Return the ``channel_type`` field that message events carry."""
        if self.is_im:
            return "im"
        return "group" if self.is_private else "channel"

    def visible_to_team(self, team_id: str) -> bool:
        """Tell whether members of ``team_id`` can see the channel at all."""
        return team_id == self.team_id or team_id in self.connected_team_ids

    def to_api(self, *, viewer_id: str | None) -> JsonObject:
        """Render the ``conversations.info`` channel object as seen by ``viewer_id``."""
        rendered: JsonObject = {
            "id": self.id,
            "created": self.created,
            "is_archived": self.is_archived,
            "is_im": self.is_im,
            "context_team_id": self.team_id,
        }
        if self.is_im:
            rendered.update({"user": self.im_user_id, "is_user_deleted": False})
            return rendered
        rendered.update(
            {
                "name": self.name,
                "name_normalized": self.name,
                "is_channel": not self.is_private,
                "is_group": self.is_private,
                "is_private": self.is_private,
                "is_mpim": False,
                "is_general": self.name == "general",
                "is_shared": self.is_ext_shared,
                "is_ext_shared": self.is_ext_shared,
                "is_org_shared": False,
                "is_pending_ext_shared": False,
                "is_member": viewer_id in self.members,
                "creator": self.creator,
                "shared_team_ids": sorted({self.team_id, *self.connected_team_ids}),
                "topic": {"value": "", "creator": "", "last_set": 0},
                "purpose": {"value": "", "creator": "", "last_set": 0},
            }
        )
        return rendered


MessageSource = Literal["web_api", "response_url", "ack", "upload", "console"]


@dataclass
class Message:
    """A message visible to everyone in a channel."""

    channel_id: str
    team_id: str
    ts: str
    text: str
    blocks: list[JsonObject] = field(default_factory=list)
    user_id: str | None = None
    bot_id: str | None = None
    app_id: str | None = None
    thread_ts: str | None = None
    subtype: str | None = None
    file_ids: list[str] = field(default_factory=list)
    metadata: JsonObject | None = None
    edited_ts: str | None = None
    reply_count: int = 0
    latest_reply: str | None = None
    source: MessageSource = "web_api"
    # What apps attached with chat.unfurl, by URL (shown under the message).
    unfurls: dict[str, JsonObject] = field(default_factory=dict)

    def to_api(self) -> JsonObject:
        """Render the message object that ``chat.*`` responses and message events carry."""
        rendered: JsonObject = {"type": "message", "ts": self.ts, "text": self.text, "team": self.team_id}
        optional: JsonObject = {
            "user": self.user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "thread_ts": self.thread_ts,
            "subtype": self.subtype,
            "metadata": self.metadata,
            "latest_reply": self.latest_reply,
        }
        rendered.update({key: value for key, value in optional.items() if value is not None})
        if self.blocks:
            rendered["blocks"] = self.blocks
        if self.edited_ts is not None:
            rendered["edited"] = {"user": self.user_id or self.bot_id, "ts": self.edited_ts}
        if self.reply_count:
            rendered["reply_count"] = self.reply_count
        return rendered


@dataclass
class EphemeralMessage:
    """A message only one user sees (``chat.postEphemeral``, ephemeral ``response_url`` replies)."""

    channel_id: str
    team_id: str
    user_id: str
    ts: str
    text: str
    blocks: list[JsonObject] = field(default_factory=list)
    bot_id: str | None = None
    thread_ts: str | None = None
    deleted: bool = False
    source: MessageSource = "web_api"

    def to_api(self) -> JsonObject:
        """Render the message object an interaction payload carries for an ephemeral message."""
        rendered: JsonObject = {"type": "message", "ts": self.ts, "text": self.text, "is_ephemeral": True}
        if self.bot_id is not None:
            rendered["bot_id"] = self.bot_id
        if self.blocks:
            rendered["blocks"] = self.blocks
        if self.thread_ts is not None:
            rendered["thread_ts"] = self.thread_ts
        return rendered


@dataclass
class View:
    """A modal or App Home view opened by the app."""

    id: str
    team_id: str
    user_id: str
    app_id: str
    bot_id: str
    definition: JsonObject
    hash: str
    root_view_id: str
    previous_view_id: str | None = None
    state_values: JsonObject = field(default_factory=dict)
    closed: bool = False

    @property
    def type(self) -> str:
        """Return ``modal`` or ``home``."""
        return str(self.definition.get("type", "modal"))

    @property
    def callback_id(self) -> str:
        """Return the ``callback_id`` the app gave the view (empty when none)."""
        return str(self.definition.get("callback_id", ""))

    @property
    def blocks(self) -> list[JsonObject]:
        """Return the view's blocks."""
        blocks: list[JsonObject] = self.definition.get("blocks", [])
        return blocks

    def to_api(self) -> JsonObject:
        """Render the view object that ``views.*`` responses and view payloads carry."""
        defaults: JsonObject = {
            "callback_id": "",
            "private_metadata": "",
            "external_id": "",
            "clear_on_close": False,
            "notify_on_close": False,
            "submit": None,
            "close": None,
        }
        return {
            **defaults,
            **self.definition,
            "id": self.id,
            "team_id": self.team_id,
            "type": self.type,
            "blocks": self.blocks,
            "state": {"values": self.state_values},
            "hash": self.hash,
            "root_view_id": self.root_view_id,
            "previous_view_id": self.previous_view_id,
            "app_id": self.app_id,
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }


@dataclass
class SlackFile:
    """An uploaded file and its bytes."""

    id: str
    team_id: str
    user_id: str
    name: str
    title: str
    mimetype: str
    filetype: str
    content: bytes
    created: int
    channel_ids: list[str] = field(default_factory=list)
    deleted: bool = False

    @property
    def size(self) -> int:
        """Return the size in bytes."""
        return len(self.content)

    def to_api(self, urls: SlackUrls, team: Team) -> JsonObject:
        """Render the full file object (``files.info``, ``file_share`` events)."""
        return {
            "id": self.id,
            "created": self.created,
            "timestamp": self.created,
            "name": self.name,
            "title": self.title,
            "mimetype": self.mimetype,
            "filetype": self.filetype,
            "pretty_type": self.filetype.upper() if self.filetype != "binary" else "Binary",
            "user": self.user_id,
            "user_team": self.team_id,
            "editable": False,
            "size": self.size,
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": False,
            "public_url_shared": False,
            "display_as_bot": False,
            "url_private": urls.file_private(self),
            "url_private_download": urls.file_download(self),
            "permalink": urls.file_permalink(team, self),
            "has_rich_preview": False,
        }

    def to_connect_stub(self) -> JsonObject:
        """Render the stub Slack sends in Slack Connect channels instead of the full object."""
        return {
            "id": self.id,
            "file_access": "check_file_info",
            "created": self.created,
            "timestamp": self.created,
            "user": self.user_id,
        }


@dataclass
class TokenGrant:
    """What a token stands for: whose it is, which scopes it carries, whether it still works."""

    token: str
    kind: TokenKind
    team_id: str | None
    user_id: str | None
    scopes: frozenset[str]
    bot_id: str | None = None
    app_id: str | None = None
    expires_at: float | None = None
    revoked: bool = False


@dataclass
class Installation:
    """The app installed in one workspace: its bot user and bot token."""

    team_id: str
    enterprise_id: str | None
    app_id: str
    bot_user_id: str
    bot_id: str
    bot_token: str
    scopes: tuple[str, ...]
    installer_user_id: str
    refresh_token: str | None = None


@dataclass
class Trigger:
    """A ``trigger_id``: lets the app open one modal for one user, for a few seconds."""

    id: str
    team_id: str
    user_id: str
    issued_at: float
    exchanged: bool = False


@dataclass(frozen=True)
class MessageRef:
    """Points at a channel message or an ephemeral message (by ``ts``)."""

    channel_id: str
    ts: str
    ephemeral: bool


@dataclass
class ResponseUrl:
    """A ``response_url`` handed to the app with a slash command or interaction."""

    key: str
    url: str
    team_id: str
    channel_id: str
    user_id: str
    issued_at: float
    uses: int = 0
    original: MessageRef | None = None
    # When the app last answered through it (benchmarks time answers by it).
    answered_at: float | None = None


@dataclass
class OAuthCode:
    """A code from the OAuth consent redirect, exchangeable once at ``oauth.v2.access``."""

    code: str
    team_id: str
    user_id: str
    redirect_uri: str | None
    issued_at: float
    redeemed: bool = False
