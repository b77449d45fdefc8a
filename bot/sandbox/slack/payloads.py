"""What Slack sends the app: slash commands, interactions and events, signed or wrapped for Socket Mode.

:class:`PayloadFactory` builds payloads from the stub's state, issuing ``trigger_id``s and
``response_url``s the stub will honour. An :class:`InboundPayload` then becomes either a signed
HTTP request (:meth:`InboundPayload.signed`, posted with :func:`deliver`) or a Socket Mode
envelope (:meth:`InboundPayload.envelope`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit

import aiohttp
from multidict import CIMultiDictProxy

from bot.sandbox.slack.blockkit import find_element
from bot.sandbox.slack.model import (
    Channel,
    EphemeralMessage,
    JsonObject,
    Message,
    MessageRef,
    SlackFile,
    Team,
    User,
    View,
)
from bot.sandbox.slack.state import SlackState

EnvelopeType = Literal["slash_commands", "interactive", "events_api"]

# Slack rejects requests whose timestamp is more than five minutes off (slack.md §4.1).
SIGNATURE_MAX_AGE_SECONDS = 5 * 60
STALE_TIMESTAMP_AGE_SECONDS = SIGNATURE_MAX_AGE_SECONDS + 60

_TEXT_VALUE_ELEMENTS = frozenset({"plain_text_input", "email_text_input", "url_text_input", "number_input"})
_SINGLE_OPTION_ELEMENTS = frozenset({"static_select", "external_select", "radio_buttons", "overflow"})
_MULTI_OPTION_ELEMENTS = frozenset({"multi_static_select", "multi_external_select", "checkboxes"})
_SELECTED_FIELD_BY_ELEMENT = {
    "users_select": "selected_user",
    "multi_users_select": "selected_users",
    "conversations_select": "selected_conversation",
    "multi_conversations_select": "selected_conversations",
    "channels_select": "selected_channel",
    "multi_channels_select": "selected_channels",
    "datepicker": "selected_date",
    "timepicker": "selected_time",
}


def compute_signature(signing_secret: str, timestamp: str, body: bytes) -> str:
    """Compute Slack's ``X-Slack-Signature``: ``v0=`` + HMAC-SHA256 of ``v0:<timestamp>:<body>``."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class SignedRequest:
    """An HTTP request as Slack would POST it to the app's request URL."""

    body: bytes
    headers: Mapping[str, str]


@dataclass(frozen=True)
class InboundPayload:
    """Something Slack delivers to the app, before it is put on the wire."""

    envelope_type: EnvelopeType
    payload: JsonObject

    @property
    def content_type(self) -> str:
        """Return the Content-Type Slack uses for this kind of request."""
        if self.envelope_type == "events_api":
            return "application/json"
        return "application/x-www-form-urlencoded"

    def body(self) -> bytes:
        """Encode the request body: form fields, a ``payload=`` form field, or JSON."""
        if self.envelope_type == "slash_commands":
            return urlencode(self.payload).encode()
        if self.envelope_type == "interactive":
            return urlencode({"payload": json.dumps(self.payload)}).encode()
        return json.dumps(self.payload).encode()

    def signed(
        self,
        signing_secret: str,
        *,
        stale: bool = False,
        bad_signature: bool = False,
        retry_num: int | None = None,
        retry_reason: str | None = None,
        now: float | None = None,
    ) -> SignedRequest:
        """Sign the body as Slack does; ``stale``/``bad_signature`` produce requests the app must reject."""
        body = self.body()
        moment = time.time() if now is None else now
        timestamp = str(int(moment - (STALE_TIMESTAMP_AGE_SECONDS if stale else 0)))
        signature = compute_signature(signing_secret, timestamp, body)
        if bad_signature:
            signature = compute_signature(signing_secret + "-wrong", timestamp, body)
        headers = {
            "Content-Type": self.content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        }
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
        return SignedRequest(body=body, headers=headers)

    def envelope(
        self, *, envelope_id: str | None = None, retry_attempt: int = 0, retry_reason: str = ""
    ) -> JsonObject:
        """Wrap the payload in a Socket Mode envelope (slack.md §1.4)."""
        return {
            "envelope_id": envelope_id or secrets.token_hex(16),
            "type": self.envelope_type,
            "payload": self.payload,
            "accepts_response_payload": self.envelope_type != "events_api",
            "retry_attempt": retry_attempt,
            "retry_reason": retry_reason,
        }


@dataclass(frozen=True)
class FileUpload:
    """A file a user shared into a channel, and the two events Slack sends for it (slack.md §2.1)."""

    file: SlackFile
    message: Message
    message_event: InboundPayload
    file_shared_event: InboundPayload

    @property
    def events(self) -> tuple[InboundPayload, InboundPayload]:
        """Return both events, in the order Slack usually sends them."""
        return self.message_event, self.file_shared_event


@dataclass(frozen=True)
class DeliveryResult:
    """What the app answered to a request delivered by :func:`deliver`."""

    status: int
    headers: CIMultiDictProxy[str]
    body: bytes

    def json(self) -> Any:
        """Decode the answer as JSON."""
        return json.loads(self.body)


async def deliver(
    url: str,
    request: SignedRequest,
    *,
    session: aiohttp.ClientSession | None = None,
    timeout_seconds: float = 10.0,
) -> DeliveryResult:
    """POST a signed request to the app, as Slack does, and return its answer."""
    timeout = aiohttp.ClientTimeout(total=timeout_seconds)
    own_session = session is None
    active = session or aiohttp.ClientSession(timeout=timeout)
    try:
        async with active.post(
            url, data=request.body, headers=dict(request.headers), timeout=timeout
        ) as response:
            return DeliveryResult(
                status=response.status, headers=response.headers, body=await response.read()
            )
    finally:
        if own_session:
            await active.close()


class PayloadFactory:
    """Build what Slack sends the app, with ``trigger_id``s and ``response_url``s the stub honours."""

    def __init__(self, state: SlackState) -> None:
        self.state = state

    # -- slash commands and interactions ---------------------------------------------------------

    def slash_command(
        self, *, user: User, channel: Channel, command: str = "/pacs", text: str = ""
    ) -> InboundPayload:
        """Build a slash command invocation (form fields, slack.md §3.1)."""
        team = self.state.teams[user.team_id]
        payload: JsonObject = {
            "token": self.state.app.verification_token,
            "team_id": team.id,
            "team_domain": team.domain,
            "channel_id": channel.id,
            "channel_name": "directmessage" if channel.is_im else channel.name,
            "user_id": user.id,
            "user_name": user.name,
            "command": command,
            "text": text,
            "api_app_id": self.state.app.app_id,
            "is_enterprise_install": "false",
            "response_url": self.state.issue_response_url(
                "commands", team_id=team.id, channel_id=channel.id, user_id=user.id
            ),
            "trigger_id": self.state.issue_trigger(team.id, user.id),
        }
        enterprise = self.state.enterprises.get(team.enterprise_id or "")
        if enterprise is not None:
            payload.update({"enterprise_id": enterprise.id, "enterprise_name": enterprise.name})
        return InboundPayload("slash_commands", payload)

    def block_actions(
        self,
        *,
        user: User,
        action_id: str,
        message: Message | EphemeralMessage | None = None,
        view: View | None = None,
        value: str | None = None,
        state_values: JsonObject | None = None,
    ) -> InboundPayload:
        """Build the click/selection of an element in a message or view (the element must exist there).

        ``value`` overrides a button's value; for selects and overflow menus it picks the option.
        """
        source_blocks = message.blocks if message is not None else view.blocks if view is not None else []
        block_id, element = find_element(source_blocks, action_id)
        action: JsonObject = {
            "type": element["type"],
            "action_id": action_id,
            "block_id": block_id,
            "action_ts": self.state.next_ts(),
        }
        if element["type"] == "button":
            action["text"] = element.get("text")
            action["value"] = value if value is not None else element.get("value", "")
        elif value is not None:
            action.update(_state_value(element, value))
        payload = self._interaction("block_actions", user)
        payload.update({"actions": [action], "state": {"values": state_values or {}}})
        payload["trigger_id"] = self.state.issue_trigger(user.team_id, user.id)
        if message is not None:
            payload.update(self._message_context(user, message, kind="actions"))
        if view is not None:
            payload["container"] = {"type": "view", "view_id": view.id}
            payload["view"] = view.to_api()
        return InboundPayload("interactive", payload)

    def view_submission(
        self, *, view: View, user: User | None = None, values: Mapping[str, Mapping[str, Any]] | None = None
    ) -> InboundPayload:
        """Build the submission of a modal; ``values`` is ``{block_id: {action_id: value}}``.

        A value is rendered according to the input element it belongs to (text, select option,
        user id...); a dict is taken as Slack's state object as is.
        """
        submitter = user or self.state.users[view.user_id]
        view.state_values = self._state_values(view, values or {})
        payload = self._interaction("view_submission", submitter)
        payload.update(
            {
                "trigger_id": self.state.issue_trigger(submitter.team_id, submitter.id),
                "view": view.to_api(),
                "response_urls": [],
            }
        )
        return InboundPayload("interactive", payload)

    def view_closed(
        self, *, view: View, user: User | None = None, is_cleared: bool = False
    ) -> InboundPayload:
        """Build the notice that the user closed a modal (sent only with ``notify_on_close``)."""
        closer = user or self.state.users[view.user_id]
        payload = self._interaction("view_closed", closer)
        payload.update({"view": view.to_api(), "is_cleared": is_cleared})
        return InboundPayload("interactive", payload)

    def block_suggestion(
        self,
        *,
        user: User,
        action_id: str,
        value: str,
        message: Message | EphemeralMessage | None = None,
        view: View | None = None,
    ) -> InboundPayload:
        """Build the options request of an ``external_select`` as the user types ``value``."""
        source_blocks = message.blocks if message is not None else view.blocks if view is not None else []
        block_id, _ = find_element(source_blocks, action_id)
        payload = self._interaction("block_suggestion", user)
        payload.update({"action_id": action_id, "block_id": block_id, "value": value})
        if view is not None:
            payload["container"] = {"type": "view", "view_id": view.id}
            payload["view"] = view.to_api()
        if message is not None:
            payload.update(self._message_context(user, message, kind=None))
        return InboundPayload("interactive", payload)

    def message_shortcut(self, *, user: User, message: Message, callback_id: str) -> InboundPayload:
        """Build a message shortcut (``message_action``) run on a channel message."""
        payload = self._interaction("message_action", user)
        payload.update(
            {
                "callback_id": callback_id,
                "trigger_id": self.state.issue_trigger(user.team_id, user.id),
                "action_ts": self.state.next_ts(),
                "message_ts": message.ts,
                "message": self._message_json(message),
            }
        )
        payload.update(self._message_context(user, message, kind="actions"))
        del payload["container"]
        return InboundPayload("interactive", payload)

    def global_shortcut(self, *, user: User, callback_id: str) -> InboundPayload:
        """Build a global shortcut (``shortcut``), run from the composer's shortcut menu: no channel."""
        payload = self._interaction("shortcut", user)
        payload.update(
            {
                "callback_id": callback_id,
                "trigger_id": self.state.issue_trigger(user.team_id, user.id),
                "action_ts": self.state.next_ts(),
            }
        )
        return InboundPayload("interactive", payload)

    # -- Events API ------------------------------------------------------------------------------

    def event_callback(self, team: Team, event: JsonObject, *, event_id: str | None = None) -> InboundPayload:
        """Wrap an event for one workspace's installation (slack.md §4.2)."""
        installation = self.state.installations.get(team.id)
        authorizations = []
        if installation is not None:
            authorizations.append(
                {
                    "enterprise_id": team.enterprise_id,
                    "team_id": team.id,
                    "user_id": installation.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            )
        channel = self.state.channels.get(str(event.get("channel") or event.get("channel_id") or ""))
        payload: JsonObject = {
            "token": self.state.app.verification_token,
            "team_id": team.id,
            "context_team_id": team.id,
            "context_enterprise_id": team.enterprise_id,
            "api_app_id": self.state.app.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or self.state.new_id("Ev"),
            "event_time": self.state.now(),
            "authorizations": authorizations,
            "is_ext_shared_channel": bool(channel and channel.is_ext_shared),
            "event_context": f"4-{secrets.token_urlsafe(24)}",
        }
        if team.enterprise_id is not None:
            payload["enterprise_id"] = team.enterprise_id
        return InboundPayload("events_api", payload)

    def message_event(self, message: Message, *, team: Team | None = None) -> InboundPayload:
        """Build the ``message`` event for a channel message (``file_share`` ones carry ``files``)."""
        channel = self.state.channels[message.channel_id]
        receiver = team or self.state.teams[channel.team_id]
        event = self._message_json(message)
        event.update({"channel": channel.id, "channel_type": channel.channel_type, "event_ts": message.ts})
        if message.subtype == "file_share":
            event.update({"upload": True, "display_as_bot": False})
        return self.event_callback(receiver, event)

    def file_shared_event(
        self, file: SlackFile, channel: Channel, *, team: Team | None = None
    ) -> InboundPayload:
        """Build the ``file_shared`` event, which carries only the file id."""
        receiver = team or self.state.teams[channel.team_id]
        event: JsonObject = {
            "type": "file_shared",
            "channel_id": channel.id,
            "file_id": file.id,
            "user_id": file.user_id,
            "file": {"id": file.id},
            "event_ts": self.state.next_ts(),
        }
        return self.event_callback(receiver, event)

    def link_shared_event(self, message: Message, urls: Sequence[str]) -> InboundPayload:
        """Build the ``link_shared`` event Slack sends when a message has links in the app's unfurl domains."""
        channel = self.state.channels[message.channel_id]
        event = {
            "type": "link_shared",
            "channel": channel.id,
            "user": message.user_id,
            "message_ts": message.ts,
            "unfurl_id": f"{message.user_id}-{secrets.token_hex(8)}",
            "source": "conversations_history",
            "event_ts": message.ts,
            "links": [{"url": url, "domain": urlsplit(url).hostname or ""} for url in urls],
        }
        return self.event_callback(self.state.teams[channel.team_id], event)

    def url_verification(self, challenge: str | None = None) -> InboundPayload:
        """Build the challenge Slack sends when the Events request URL is configured."""
        payload: JsonObject = {
            "token": self.state.app.verification_token,
            "challenge": challenge or secrets.token_urlsafe(32),
            "type": "url_verification",
        }
        return InboundPayload("events_api", payload)

    # -- pieces ----------------------------------------------------------------------------------

    def _team_json(self, team_id: str) -> JsonObject:
        team = self.state.teams[team_id]
        rendered: JsonObject = {"id": team.id, "domain": team.domain}
        enterprise = self.state.enterprises.get(team.enterprise_id or "")
        if enterprise is not None:
            rendered.update({"enterprise_id": enterprise.id, "enterprise_name": enterprise.name})
        return rendered

    def _interaction(self, kind: str, user: User) -> JsonObject:
        team = self.state.teams[user.team_id]
        enterprise = self.state.enterprises.get(team.enterprise_id or "")
        return {
            "type": kind,
            "token": self.state.app.verification_token,
            "api_app_id": self.state.app.app_id,
            "team": self._team_json(user.team_id),
            "enterprise": {"id": enterprise.id, "name": enterprise.name} if enterprise else None,
            "is_enterprise_install": False,
            "user": {"id": user.id, "username": user.name, "name": user.name, "team_id": user.team_id},
        }

    def _message_context(
        self, user: User, message: Message | EphemeralMessage, *, kind: Literal["actions"] | None
    ) -> JsonObject:
        channel = self.state.channels[message.channel_id]
        ephemeral = isinstance(message, EphemeralMessage)
        context: JsonObject = {
            "container": {
                "type": "message",
                "message_ts": message.ts,
                "channel_id": channel.id,
                "is_ephemeral": ephemeral,
            },
            "channel": {"id": channel.id, "name": "directmessage" if channel.is_im else channel.name},
        }
        # Slack does not echo ephemeral messages back; only the container says where it came from.
        if isinstance(message, Message):
            context["message"] = self._message_json(message)
        if kind is not None:
            context["response_url"] = self.state.issue_response_url(
                kind,
                team_id=user.team_id,
                channel_id=channel.id,
                user_id=user.id,
                original=MessageRef(channel_id=channel.id, ts=message.ts, ephemeral=ephemeral),
            )
        return context

    def _message_json(self, message: Message) -> JsonObject:
        rendered = message.to_api()
        if message.file_ids:
            rendered["files"] = [self._file_json(self.state.files[file_id]) for file_id in message.file_ids]
        return rendered

    def _file_json(self, file: SlackFile) -> JsonObject:
        channels = [self.state.channels[channel_id] for channel_id in file.channel_ids]
        if any(channel.is_ext_shared for channel in channels):
            # Slack Connect: events carry a stub; the app must call files.info (slack.md §2.1).
            return file.to_connect_stub()
        return file.to_api(self.state.urls, self.state.teams[file.team_id])

    def _state_values(self, view: View, values: Mapping[str, Mapping[str, Any]]) -> JsonObject:
        # Slack reports every input of the view, an untouched one with a null (or empty) value.
        rendered: JsonObject = {
            str(block["block_id"]): {
                str(block["element"]["action_id"]): {
                    "type": block["element"]["type"],
                    **_untouched_state(block["element"]),
                }
            }
            for block in view.blocks
            if block.get("type") == "input" and isinstance(block.get("element"), Mapping)
        }
        for block_id, by_action in values.items():
            block = next((b for b in view.blocks if b.get("block_id") == block_id), None)
            if block is None:
                raise LookupError(f"view {view.id} has no block {block_id!r}")
            rendered[block_id] = {}
            for action_id, value in by_action.items():
                _, element = find_element([block], action_id)
                rendered[block_id][action_id] = {"type": element["type"], **_state_value(element, value)}
        return rendered


def _untouched_state(element: Mapping[str, Any]) -> JsonObject:
    """Render an input the user left alone, as view_submission payloads in Slack's SDK fixtures show it."""
    kind = element["type"]
    if kind in _SINGLE_OPTION_ELEMENTS:
        return {"selected_option": None}
    if kind in _MULTI_OPTION_ELEMENTS:
        return {"selected_options": []}
    if kind in _SELECTED_FIELD_BY_ELEMENT:
        field_name = _SELECTED_FIELD_BY_ELEMENT[kind]
        return {field_name: [] if kind.startswith("multi_") else None}
    return {"value": None}


def _state_value(element: Mapping[str, Any], value: Any) -> JsonObject:
    """Render a user's input for an element the way Slack reports it in ``state.values``."""
    kind = element["type"]
    if isinstance(value, Mapping):
        return dict(value)
    if kind in _TEXT_VALUE_ELEMENTS:
        return {"value": value}
    if kind in _SINGLE_OPTION_ELEMENTS:
        return {"selected_option": _option(element, str(value))}
    if kind in _MULTI_OPTION_ELEMENTS:
        return {"selected_options": [_option(element, str(item)) for item in value]}
    if kind in _SELECTED_FIELD_BY_ELEMENT:
        return {_SELECTED_FIELD_BY_ELEMENT[kind]: value}
    return {"value": value}


def _option(element: Mapping[str, Any], value: str) -> JsonObject:
    options: list[JsonObject] = list(element.get("options", []))
    for group in element.get("option_groups", []):
        options += group.get("options", [])
    for option in options:
        if option.get("value") == value:
            return option
    if element["type"].endswith("external_select"):
        # External selects have no options in the view; Slack echoes what the app offered.
        return {"text": {"type": "plain_text", "text": value}, "value": value}
    raise LookupError(f"element {element.get('action_id')!r} has no option {value!r}")
