"""The Slack Web API methods pacsbot calls, answered from :class:`SlackState` without any I/O.

The aiohttp layer turns an HTTP request into an :class:`ApiCall` and the :class:`ApiReply` back
into a response; everything Slack decides (auth, scopes, membership, limits) happens here.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.slack.blockkit import MESSAGE_TEXT_LIMIT, check_message_blocks, check_view, view_is_too_large
from bot.sandbox.slack.model import Channel, Installation, JsonObject, TokenGrant, TokenKind, User
from bot.sandbox.slack.state import RateLimited, SlackRejection, SlackState

_BOT_OR_USER: frozenset[TokenKind] = frozenset({"bot", "user"})
_APP_ONLY: frozenset[TokenKind] = frozenset({"app"})


@dataclass(frozen=True)
class ApiCall:
    """One Web API request: the method, its merged parameters and the credentials it carried."""

    method: str
    params: Mapping[str, Any]
    token: str | None = None
    client_credentials: tuple[str, str] | None = None


@dataclass(frozen=True)
class ApiReply:
    """The JSON body, headers and HTTP status Slack answers with (200 for API-level errors, 429 for rate limits)."""

    body: JsonObject
    headers: Mapping[str, str] = field(default_factory=dict)
    status: int = 200

    @property
    def error(self) -> str | None:
        """Return Slack's error code, or None when ``ok`` is true."""
        return None if self.body.get("ok") else str(self.body.get("error"))


class _Params:
    """Typed access to parameters that arrive as query strings, form fields or JSON values."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = values

    def text(self, name: str) -> str | None:
        value = self._values.get(name)
        return None if value is None or value == "" else str(value)

    def required(self, name: str, error: str) -> str:
        value = self.text(name)
        if value is None:
            raise SlackRejection(error)
        return value

    def flag(self, name: str) -> bool:
        return self._values.get(name) in (True, 1, "1", "true", "True")

    def json_value(self, name: str, error: str) -> Any:
        value = self._values.get(name)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise SlackRejection(error) from None


_AuthenticatedHandler = Callable[[TokenGrant, _Params], JsonObject]


@dataclass(frozen=True)
class _Method:
    handler: _AuthenticatedHandler
    token_kinds: frozenset[TokenKind]
    # Any one of these scopes is enough (conversations.info accepts channels:read or groups:read...).
    scopes: tuple[str, ...] = ()


_MAX_PAGE = 1000  # Slack's largest page for cursor-paginated methods


def _page_limit(params: _Params) -> int:
    raw = params.text("limit")
    if not raw:
        return _MAX_PAGE
    try:
        limit = int(raw)
    except ValueError:
        raise SlackRejection("invalid_limit") from None
    return min(max(limit, 1), _MAX_PAGE)


def _cursor(offset: int) -> str:
    # Slack's cursors are opaque base64; this one only has to come back unchanged.
    return base64.b64encode(f"next:{offset}".encode()).decode()


def _cursor_offset(params: _Params, total: int) -> int:
    raw = params.text("cursor")
    if not raw:
        return 0
    try:
        prefix, _, number = base64.b64decode(raw, validate=True).decode().partition(":")
        offset = int(number)
    except ValueError:
        raise SlackRejection("invalid_cursor") from None
    if prefix != "next" or not 0 < offset <= total:
        raise SlackRejection("invalid_cursor")
    return offset


def _invalid_blocks(problems: list[str], error: str) -> SlackRejection:
    return SlackRejection(
        error, errors=problems, response_metadata={"messages": [f"[ERROR] {problem}" for problem in problems]}
    )


class WebApi:
    """Answer Web API calls the way Slack does, from and onto a :class:`SlackState`."""

    def __init__(self, state: SlackState) -> None:
        self.state = state
        self._unauthenticated: dict[str, Callable[[ApiCall], JsonObject]] = {
            "api.test": self._api_test,
            "oauth.v2.access": self._oauth_v2_access,
        }
        self._methods: dict[str, _Method] = {
            "auth.test": _Method(self._auth_test, _BOT_OR_USER),
            "apps.connections.open": _Method(self._apps_connections_open, _APP_ONLY, ("connections:write",)),
            "chat.postMessage": _Method(self._chat_post_message, _BOT_OR_USER, ("chat:write",)),
            "chat.postEphemeral": _Method(self._chat_post_ephemeral, _BOT_OR_USER, ("chat:write",)),
            "chat.update": _Method(self._chat_update, _BOT_OR_USER, ("chat:write",)),
            "chat.delete": _Method(self._chat_delete, _BOT_OR_USER, ("chat:write",)),
            "chat.getPermalink": _Method(self._chat_get_permalink, _BOT_OR_USER),
            "chat.unfurl": _Method(self._chat_unfurl, _BOT_OR_USER, ("links:write",)),
            "views.open": _Method(self._views_open, _BOT_OR_USER),
            "views.push": _Method(self._views_push, _BOT_OR_USER),
            "views.update": _Method(self._views_update, _BOT_OR_USER),
            "views.publish": _Method(self._views_publish, _BOT_OR_USER),
            "files.info": _Method(self._files_info, _BOT_OR_USER, ("files:read",)),
            "users.info": _Method(self._users_info, _BOT_OR_USER, ("users:read",)),
            "team.info": _Method(self._team_info, _BOT_OR_USER, ("team:read",)),
            "users.lookupByEmail": _Method(self._users_lookup_by_email, _BOT_OR_USER, ("users:read.email",)),
            "usergroups.users.list": _Method(self._usergroups_users_list, _BOT_OR_USER, ("usergroups:read",)),
            "conversations.info": _Method(
                self._conversations_info,
                _BOT_OR_USER,
                ("channels:read", "groups:read", "im:read", "mpim:read"),
            ),
            "conversations.replies": _Method(
                self._conversations_replies,
                _BOT_OR_USER,
                ("channels:history", "groups:history", "im:history", "mpim:history"),
            ),
        }

    def handle(self, call: ApiCall) -> ApiReply:
        """Answer one Web API call."""
        headers: dict[str, str] = {}
        try:
            unauthenticated = self._unauthenticated.get(call.method)
            if unauthenticated is not None:
                return ApiReply({"ok": True, **unauthenticated(call)})
            method = self._methods.get(call.method)
            if method is None:
                raise SlackRejection("unknown_method")
            grant = self.authenticate(call.token, method.token_kinds)
            headers["x-oauth-scopes"] = ",".join(sorted(grant.scopes))
            headers["x-accepted-oauth-scopes"] = ",".join(method.scopes)
            if method.scopes and not grant.scopes.intersection(method.scopes):
                raise SlackRejection(
                    "missing_scope", needed=method.scopes[0], provided=",".join(sorted(grant.scopes))
                )
            return ApiReply({"ok": True, **method.handler(grant, _Params(call.params))}, headers)
        except RateLimited as limited:
            headers["Retry-After"] = str(limited.retry_after_seconds)
            return ApiReply({"ok": False, "error": "ratelimited"}, headers, status=429)
        except SlackRejection as rejection:
            return ApiReply({"ok": False, "error": rejection.error, **rejection.details}, headers)

    def authenticate(self, token: str | None, kinds: frozenset[TokenKind]) -> TokenGrant:
        """Resolve a token to its grant, or raise the error Slack gives for it."""
        if not token:
            raise SlackRejection("not_authed")
        grant = self.state.tokens.get(token)
        if grant is None:
            raise SlackRejection("invalid_auth")
        if grant.revoked:
            raise SlackRejection("token_revoked")
        if grant.expires_at is not None and self.state.clock() >= grant.expires_at:
            raise SlackRejection("token_expired")
        if grant.kind not in kinds:
            raise SlackRejection("not_allowed_token_type")
        return grant

    # -- helpers -----------------------------------------------------------------------------------

    def _installation(self, grant: TokenGrant) -> Installation:
        installation = self.state.installations.get(str(grant.team_id))
        if installation is None:
            raise SlackRejection("invalid_auth")
        return installation

    def _token_user(self, grant: TokenGrant) -> User:
        return self.state.users[str(grant.user_id)]

    def _visible_user(self, grant: TokenGrant, user_id: str | None) -> User:
        user = self.state.users.get(user_id or "")
        if user is None:
            raise SlackRejection("user_not_found")
        if user.team_id != grant.team_id and not any(
            user.id in channel.members and channel.visible_to_team(str(grant.team_id))
            for channel in self.state.channels.values()
        ):
            raise SlackRejection("user_not_found")
        return user

    def _channel(self, grant: TokenGrant, reference: str | None) -> Channel:
        """Find a conversation the token can see, by id, by ``#name`` or (for DMs) by user id."""
        if not reference:
            raise SlackRejection("channel_not_found")
        if reference[0] in "UW" and reference in self.state.users:
            return self.state.im_channel(self._token_user(grant), self._visible_user(grant, reference))
        channel = self.state.channels.get(reference)
        if channel is None:
            name = reference.removeprefix("#")
            channel = next(
                (c for c in self.state.channels.values() if c.name == name and c.team_id == grant.team_id),
                None,
            )
        if channel is None or not channel.visible_to_team(str(grant.team_id)):
            raise SlackRejection("channel_not_found")
        if (channel.is_private or channel.is_im) and grant.user_id not in channel.members:
            raise SlackRejection("channel_not_found")
        return channel

    def _writable_channel(self, grant: TokenGrant, reference: str | None) -> Channel:
        channel = self._channel(grant, reference)
        if grant.user_id not in channel.members and "chat:write.public" not in grant.scopes:
            raise SlackRejection("not_in_channel")
        return channel

    def _message_content(
        self, params: _Params, *, required: bool
    ) -> tuple[str | None, list[JsonObject] | None]:
        text = params.text("text")
        blocks = params.json_value("blocks", "invalid_blocks_format")
        if blocks is not None and not isinstance(blocks, list):
            raise SlackRejection("invalid_blocks_format")
        if required and not text and not blocks and params.text("attachments") is None:
            raise SlackRejection("no_text")
        if text is not None and len(text) > MESSAGE_TEXT_LIMIT:
            raise SlackRejection("msg_too_long")
        problems = check_message_blocks(blocks) if blocks else []
        if problems:
            raise _invalid_blocks(problems, "invalid_blocks")
        return text, blocks

    def _view_definition(self, params: _Params) -> JsonObject:
        view = params.json_value("view", "invalid_arguments")
        if view is None:
            raise _invalid_blocks(["missing required field: view"], "invalid_arguments")
        problems = check_view(view)
        if problems:
            # Slack reports bad view blocks as invalid_arguments, not invalid_blocks.
            raise _invalid_blocks(problems, "invalid_arguments")
        if view_is_too_large(view):
            raise SlackRejection("view_too_large")
        definition: JsonObject = view
        return definition

    # -- methods without a token ---------------------------------------------------------------

    def _api_test(self, call: ApiCall) -> JsonObject:
        error = call.params.get("error")
        if error:
            raise SlackRejection(str(error))
        return {"args": dict(call.params)}

    def _oauth_v2_access(self, call: ApiCall) -> JsonObject:
        params = _Params(call.params)
        client_id, client_secret = call.client_credentials or (
            params.text("client_id"),
            params.text("client_secret"),
        )
        if client_id != self.state.app.client_id:
            raise SlackRejection("invalid_client_id")
        if client_secret != self.state.app.client_secret:
            raise SlackRejection("bad_client_secret")
        if params.text("grant_type") == "refresh_token":
            installation = self.state.rotate_bot_token(
                params.required("refresh_token", "invalid_refresh_token")
            )
            installer_id = installation.installer_user_id
        else:
            code = params.required("code", "invalid_code")
            installation, installer_id = self.state.redeem_oauth_code(
                code, redirect_uri=params.text("redirect_uri")
            )
        team = self.state.teams[installation.team_id]
        enterprise = self.state.enterprises.get(team.enterprise_id or "")
        body: JsonObject = {
            "access_token": installation.bot_token,
            "token_type": "bot",
            "scope": ",".join(installation.scopes),
            "bot_user_id": installation.bot_user_id,
            "app_id": installation.app_id,
            "team": {"id": team.id, "name": team.name},
            "enterprise": {"id": enterprise.id, "name": enterprise.name} if enterprise else None,
            "is_enterprise_install": False,
            "authed_user": {"id": installer_id},
        }
        expires_at = self.state.tokens[installation.bot_token].expires_at
        if installation.refresh_token is not None and expires_at is not None:
            body["refresh_token"] = installation.refresh_token
            body["expires_in"] = int(expires_at - self.state.clock())
        return body

    # -- auth and Socket Mode ------------------------------------------------------------------

    def _auth_test(self, grant: TokenGrant, params: _Params) -> JsonObject:
        team = self.state.teams[str(grant.team_id)]
        body: JsonObject = {
            "url": self.state.urls.team(team),
            "team": team.name,
            "user": self._token_user(grant).name,
            "team_id": team.id,
            "user_id": grant.user_id,
            "is_enterprise_install": False,
        }
        if grant.bot_id is not None:
            body["bot_id"] = grant.bot_id
        if team.enterprise_id is not None:
            body["enterprise_id"] = team.enterprise_id
        return body

    def _apps_connections_open(self, grant: TokenGrant, params: _Params) -> JsonObject:
        ticket = self.state.issue_socket_ticket()
        return {"url": self.state.urls.socket_mode(ticket, str(grant.app_id))}

    # -- chat ---------------------------------------------------------------------------------------

    def _chat_post_message(self, grant: TokenGrant, params: _Params) -> JsonObject:
        channel = self._writable_channel(grant, params.text("channel"))
        text, blocks = self._message_content(params, required=True)
        metadata = params.json_value("metadata", "invalid_metadata_format")
        message = self.state.post_message(
            channel,
            text=text or "",
            blocks=blocks or [],
            author=self._token_user(grant),
            thread_ts=params.text("thread_ts"),
            metadata=metadata if isinstance(metadata, dict) else None,
        )
        return {"channel": channel.id, "ts": message.ts, "message": message.to_api()}

    def _chat_post_ephemeral(self, grant: TokenGrant, params: _Params) -> JsonObject:
        channel = self._writable_channel(grant, params.text("channel"))
        recipient = self._visible_user(grant, params.text("user"))
        if recipient.id not in channel.members:
            raise SlackRejection("user_not_in_channel")
        text, blocks = self._message_content(params, required=True)
        ephemeral = self.state.post_ephemeral(
            channel,
            recipient,
            text=text or "",
            blocks=blocks or [],
            bot_id=grant.bot_id,
            thread_ts=params.text("thread_ts"),
        )
        return {"message_ts": ephemeral.ts}

    def _chat_update(self, grant: TokenGrant, params: _Params) -> JsonObject:
        channel = self._channel(grant, params.text("channel"))
        ts = params.required("ts", "message_not_found")
        message = self.state.find_message(channel.id, ts)
        if message is None and self.state.find_ephemeral(channel.id, ts) is not None:
            # "chat.update": ephemeral messages cannot be updated with this method.
            raise SlackRejection("cant_update_message")
        if message is None:
            raise SlackRejection("message_not_found")
        if message.user_id != grant.user_id or message.source == "response_url":
            # A reply posted through a response_url belongs to the interaction, not to the bot:
            # Bolt and the Java SDK report chat.update refusing it (slack-rules.md).
            raise SlackRejection("cant_update_message")
        text, blocks = self._message_content(params, required=True)
        self.state.take_edit_allowance(channel)
        self.state.edit_message(message, text=text, blocks=blocks)
        return {"channel": channel.id, "ts": message.ts, "text": message.text, "message": message.to_api()}

    def _chat_delete(self, grant: TokenGrant, params: _Params) -> JsonObject:
        channel = self._channel(grant, params.text("channel"))
        message = self.state.find_message(channel.id, params.required("ts", "message_not_found"))
        if message is None:
            raise SlackRejection("message_not_found")
        if message.user_id != grant.user_id:
            raise SlackRejection("cant_delete_message")
        self.state.delete_message(message)
        return {"channel": channel.id, "ts": message.ts}

    def _chat_unfurl(self, grant: TokenGrant, params: _Params) -> JsonObject:
        # Slack attaches unfurls only to URLs the message contains, and checks their blocks.
        try:
            channel = self._channel(grant, params.text("channel"))
        except SlackRejection:
            raise SlackRejection("cannot_find_channel") from None
        message = self.state.find_message(channel.id, params.required("ts", "cannot_find_message"))
        if message is None:
            raise SlackRejection("cannot_find_message")
        unfurls = params.json_value("unfurls", "invalid_unfurls_format")
        if not unfurls:
            raise SlackRejection("missing_unfurls")
        if not isinstance(unfurls, dict):
            raise SlackRejection("invalid_unfurls_format")
        for url, unfurl in unfurls.items():
            if url not in message.text:
                raise SlackRejection("cannot_unfurl_message")
            if not isinstance(unfurl, dict):
                raise SlackRejection("invalid_unfurls_format")
            blocks = unfurl.get("blocks")
            problems = check_message_blocks(blocks) if isinstance(blocks, list) else []
            if problems:
                raise _invalid_blocks(problems, "invalid_unfurls_format")
        message.unfurls.update({str(url): dict(unfurl) for url, unfurl in unfurls.items()})
        return {}

    def _chat_get_permalink(self, grant: TokenGrant, params: _Params) -> JsonObject:
        channel = self._channel(grant, params.text("channel"))
        message = self.state.find_message(channel.id, params.required("message_ts", "message_not_found"))
        if message is None:
            raise SlackRejection("message_not_found")
        team = self.state.teams[channel.team_id]
        return {
            "channel": channel.id,
            "permalink": self.state.urls.message_permalink(team, channel.id, message.ts),
        }

    # -- views --------------------------------------------------------------------------------------

    def _views_open(self, grant: TokenGrant, params: _Params) -> JsonObject:
        definition = self._view_definition(params)
        trigger = self.state.exchange_trigger(
            params.required("trigger_id", "invalid_trigger_id"), str(grant.team_id)
        )
        view = self.state.open_modal(trigger, definition, self._installation(grant))
        return {"view": view.to_api()}

    def _views_push(self, grant: TokenGrant, params: _Params) -> JsonObject:
        definition = self._view_definition(params)
        trigger = self.state.exchange_trigger(
            params.required("trigger_id", "invalid_trigger_id"), str(grant.team_id)
        )
        view = self.state.push_modal(trigger, definition, self._installation(grant))
        return {"view": view.to_api()}

    def _views_update(self, grant: TokenGrant, params: _Params) -> JsonObject:
        definition = self._view_definition(params)
        view_id, external_id = params.text("view_id"), params.text("external_id")
        if view_id is None and external_id is None:
            raise SlackRejection("invalid_arguments")
        view = self.state.find_view(team_id=str(grant.team_id), view_id=view_id, external_id=external_id)
        self.state.update_view(view, definition, expected_hash=params.text("hash"))
        return {"view": view.to_api()}

    def _views_publish(self, grant: TokenGrant, params: _Params) -> JsonObject:
        user = self._visible_user(grant, params.text("user_id"))
        definition = self._view_definition(params)
        if definition.get("type") != "home":
            raise _invalid_blocks(["must be home [json-pointer:/view/type]"], "invalid_arguments")
        view = self.state.publish_home(user, definition, self._installation(grant))
        return {"view": view.to_api()}

    # -- files, users, conversations -------------------------------------------------------------

    def _files_info(self, grant: TokenGrant, params: _Params) -> JsonObject:
        file = self.state.files.get(params.text("file") or "")
        if file is None or not self.state.file_visible_to_team(file, str(grant.team_id)):
            raise SlackRejection("file_not_found")
        if file.deleted:
            raise SlackRejection("file_deleted")
        team = self.state.teams[file.team_id]
        return {
            "file": file.to_api(self.state.urls, team),
            "comments": [],
            "response_metadata": {"next_cursor": ""},
        }

    def _users_info(self, grant: TokenGrant, params: _Params) -> JsonObject:
        user = self._visible_user(grant, params.text("user"))
        return {"user": user.to_api(include_email="users:read.email" in grant.scopes)}

    def _team_info(self, grant: TokenGrant, params: _Params) -> JsonObject:
        """Describe the token's team, or a team it shares a Slack Connect channel with."""
        own = str(grant.team_id)
        wanted = params.text("team") or own
        team = self.state.teams.get(wanted)
        shares_a_channel = any(
            {channel.team_id, *channel.connected_team_ids} >= {own, wanted}
            for channel in self.state.channels.values()
        )
        if team is None or (wanted != own and not shares_a_channel):
            raise SlackRejection("team_not_found")
        return {"team": {"id": team.id, "name": team.name, "domain": team.domain}}

    def _users_lookup_by_email(self, grant: TokenGrant, params: _Params) -> JsonObject:
        user = self.state.user_by_email(str(grant.team_id), params.required("email", "users_not_found"))
        if user is None:
            raise SlackRejection("users_not_found")
        return {"user": user.to_api(include_email=True)}

    def _usergroups_users_list(self, grant: TokenGrant, params: _Params) -> JsonObject:
        group = self.state.usergroups.get(params.required("usergroup", "invalid_arguments"))
        if group is None or group.team_id != grant.team_id:
            raise SlackRejection("no_such_subteam")
        return {"users": list(group.members)}

    def _conversations_info(self, grant: TokenGrant, params: _Params) -> JsonObject:
        channel = self._channel(grant, params.text("channel"))
        needed = "im:read" if channel.is_im else "groups:read" if channel.is_private else "channels:read"
        if needed not in grant.scopes:
            raise SlackRejection("missing_scope", needed=needed, provided=",".join(sorted(grant.scopes)))
        rendered = channel.to_api(viewer_id=grant.user_id)
        if params.flag("include_num_members"):
            rendered["num_members"] = len(channel.members)
        return {"channel": rendered}

    def _conversations_replies(self, grant: TokenGrant, params: _Params) -> JsonObject:
        """Answer with a thread, parent first, a page at a time (``oldest``/``latest`` are not filtered)."""
        channel = self._channel(grant, params.text("channel"))
        kind = "im" if channel.is_im else "groups" if channel.is_private else "channels"
        if f"{kind}:history" not in grant.scopes:
            raise SlackRejection(
                "missing_scope", needed=f"{kind}:history", provided=",".join(sorted(grant.scopes))
            )
        if grant.user_id not in channel.members:
            raise SlackRejection("not_in_channel")
        message = self.state.find_message(channel.id, params.text("ts") or "")
        if message is None:
            raise SlackRejection("thread_not_found")
        parent = self.state.find_message(channel.id, message.thread_ts or message.ts) or message
        thread = [parent, *self.state.channel_history(channel, thread_ts=parent.ts)]
        limit = _page_limit(params)
        start = _cursor_offset(params, len(thread))
        page = thread[start : start + limit]
        more = start + limit < len(thread)
        return {
            "messages": [message.to_api() for message in page],
            "has_more": more,
            "response_metadata": {"next_cursor": _cursor(start + limit) if more else ""},
        }
