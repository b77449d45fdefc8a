"""Slack's half of every conversation with the app, driven by what a person does in the console.

A person's command, click, selection, submission or file drop becomes the payload Slack would
send, signed with the app's signing secret and POSTed to its request URL. The app's answer is then
shown as Slack shows it: a slash command's ack as a reply, a ``view_submission`` ack as a change
to the modal stack, a failed delivery as Slackbot's complaint. Events go only where Slack would
send them: the app's manifest subscriptions, in conversations its bot is a member of.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bot.sandbox.slack import DeliveryResult, InboundPayload, SlackStub, deliver
from bot.sandbox.slack.blockkit import find_element
from bot.sandbox.slack.model import Channel, EphemeralMessage, JsonObject, Message, SlackFile, User, View
from bot.sandbox.slack.state import SlackRejection

logger = logging.getLogger(__name__)

APP_COMMAND = "/pacs"
# Slack waits 3 s for an ack; the sandbox allows more so a busy laptop is not mistaken for a bug.
DELIVERY_TIMEOUT_SECONDS = 10.0
_MESSAGE_SUBSCRIPTIONS = {"channel": "message.channels", "group": "message.groups", "im": "message.im"}


# "@rita" after a space or at the start, but not inside an e-mail address.
_TYPED_MENTION = re.compile(r"(^|\s)@([A-Za-z][\w.-]*)")


class ConsoleError(Exception):
    """Something the person asked for cannot be done; the message says why, for the browser."""


@dataclass(frozen=True)
class Subscriptions:
    """The bot events the app subscribes to; ``None`` means all of them (no manifest found)."""

    bot_events: frozenset[str] | None

    def wants(self, event_type: str, channel: Channel | None) -> bool:
        """Tell whether Slack would send this event about this conversation to the app."""
        if self.bot_events is None:
            return True
        if event_type == "message":
            return channel is not None and _MESSAGE_SUBSCRIPTIONS[channel.channel_type] in self.bot_events
        return event_type in self.bot_events


def read_subscriptions(manifest: Path | None) -> Subscriptions:
    """Read ``settings.event_subscriptions.bot_events`` from the app manifest, if there is one."""
    if manifest is None or not manifest.is_file():
        return Subscriptions(None)
    events: set[str] = set()
    indent: int | None = None
    for line in manifest.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped.startswith("bot_events:"):
            indent = len(line) - len(line.lstrip())
            continue
        if indent is None or not stripped or stripped.startswith("#"):
            continue
        # The list ends at the first line that is not one of its items.
        if len(line) - len(line.lstrip()) < indent or not stripped.startswith("- "):
            break
        events.add(stripped[2:].strip().strip("'\""))
    return Subscriptions(frozenset(events))


def default_manifest() -> Path | None:
    """Find ``manifest.yml`` at the root of the source tree this package runs from."""
    candidate = Path(__file__).resolve().parents[3] / "manifest.yml"
    return candidate if candidate.is_file() else None


@dataclass(frozen=True)
class MessageSource:
    """Where a clicked element lives: a channel message, an ephemeral message or a view."""

    channel_id: str | None = None
    ts: str | None = None
    ephemeral: bool = False
    view_id: str | None = None

    @classmethod
    def parse(cls, raw: object) -> MessageSource:
        """Read the source the browser names for an action."""
        if not isinstance(raw, Mapping):
            raise ConsoleError("the action names no message or view")
        return cls(
            channel_id=_optional_text(raw.get("channel")),
            ts=_optional_text(raw.get("ts")),
            ephemeral=bool(raw.get("ephemeral")),
            view_id=_optional_text(raw.get("view_id")),
        )


def _optional_text(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


class AppLink:
    """Deliver what people do in the console to the app, and show its answers as Slack would."""

    def __init__(
        self,
        slack: SlackStub,
        *,
        events_url: str,
        signing_secret: str,
        subscriptions: Subscriptions,
        session: aiohttp.ClientSession,
    ) -> None:
        self.slack = slack
        self.state = slack.state
        self.events_url = events_url
        self._signing_secret = signing_secret
        self.subscriptions = subscriptions
        self._session = session
        self._background: set[asyncio.Task[None]] = set()

    async def close(self) -> None:
        """Wait briefly for events still being delivered, then give up on them."""
        pending = list(self._background)
        if pending:
            _, late = await asyncio.wait(pending, timeout=2.0)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    # -- delivering --------------------------------------------------------------------------------

    async def _deliver(self, payload: InboundPayload) -> DeliveryResult | None:
        """POST a signed payload to the app; ``None`` when it did not answer in time or at all."""
        try:
            return await deliver(
                self.events_url,
                payload.signed(self._signing_secret),
                session=self._session,
                timeout_seconds=DELIVERY_TIMEOUT_SECONDS,
            )
        except (TimeoutError, aiohttp.ClientError) as error:
            logger.warning("the app did not answer a %s: %s", payload.envelope_type, type(error).__name__)
            return None

    def _in_background(self, payloads: Sequence[InboundPayload]) -> None:
        async def send_all() -> None:
            for payload in payloads:
                result = await self._deliver(payload)
                if result is not None and result.status != 200:
                    logger.info("the app answered an event with HTTP %d", result.status)

        task = asyncio.create_task(send_all())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _complain(self, channel: Channel, user: User, text: str, thread_ts: str | None = None) -> None:
        """Show a Slackbot message only the person sees, as Slack does when an app fails."""
        self.state.post_ephemeral(
            channel, user, text=text, bot_id=None, thread_ts=thread_ts, source="console"
        )

    def _mentions(self, team_id: str, text: str) -> str:
        """Turn a typed ``@rita`` into ``<@U…|rita.radiologist>``, as Slack's composer does for a command."""

        def person(match: re.Match[str]) -> str:
            typed = match.group(2).casefold()
            found = [
                user
                for user in self.state.users.values()
                if user.team_id == team_id
                and not user.is_bot
                and typed
                in {
                    user.name.casefold(),
                    user.name.split(".")[0].casefold(),
                    (user.real_name or "").split(" ")[0].casefold(),
                }
            ]
            if len(found) != 1:
                return match.group(0)
            return f"{match.group(1)}<@{found[0].id}|{found[0].name}>"

        return _TYPED_MENTION.sub(person, text)

    def _bot_in(self, channel: Channel) -> bool:
        installation = self.state.installations.get(channel.team_id)
        return installation is not None and installation.bot_user_id in channel.members

    # -- what people do --------------------------------------------------------------------------

    async def send_message(self, user: User, channel: Channel, text: str, thread_ts: str | None) -> None:
        """Run a slash command, or post a message (and tell the app if it listens to the channel)."""
        if text.startswith("/"):
            command, _, arguments = text.partition(" ")
            await self._slash_command(user, channel, command, arguments.strip(), thread_ts)
            return
        self._require_member(user, channel)
        message = self.state.post_message(
            channel, text=text, author=user, thread_ts=thread_ts, source="console"
        )
        if self._bot_in(channel) and self.subscriptions.wants("message", channel):
            self._in_background([self.slack.payloads.message_event(message)])

    async def _slash_command(
        self, user: User, channel: Channel, command: str, arguments: str, thread_ts: str | None
    ) -> None:
        if command != APP_COMMAND:
            self._complain(
                channel, user, f"{command} is not a valid command. Try `{APP_COMMAND} help`.", thread_ts
            )
            return
        payload = self.slack.payloads.slash_command(
            user=user, channel=channel, command=command, text=self._mentions(user.team_id, arguments)
        )
        result = await self._deliver(payload)
        if result is None:
            self._complain(channel, user, f'{command} failed with the error "operation_timeout"', thread_ts)
            return
        if result.status != 200:
            self._complain(channel, user, f'{command} failed with the error "dispatch_failed"', thread_ts)
            return
        reply = _ack_body(result)
        if reply:
            try:
                self.state.deliver_reply(
                    team_id=user.team_id,
                    channel_id=channel.id,
                    user_id=user.id,
                    body=reply,
                    original=None,
                    source="ack",
                )
            except SlackRejection as rejection:
                self._complain(
                    channel, user, f'{command} failed with the error "{rejection.error}"', thread_ts
                )

    async def act(
        self,
        user: User,
        source: MessageSource,
        block_id: str,
        action_id: str,
        selection: Mapping[str, Any],
        state_values: JsonObject,
    ) -> None:
        """Send the ``block_actions`` of a click or a choice in a message or a view."""
        message, view = self._source(user, source)
        blocks = message.blocks if message is not None else view.blocks if view is not None else []
        element = _element_in_block(blocks, block_id, action_id)
        if view is not None:
            view.state_values = state_values
        payload = self.slack.payloads.block_actions(
            user=user,
            action_id=action_id,
            message=message,
            view=view,
            state_values=state_values,
        )
        # The factory finds the first element with this action_id, and several orders share one:
        # the clicked block decides, and the browser reports what was chosen in it.
        action = payload.payload["actions"][0]
        action.update(block_id=block_id, type=element["type"])
        if element["type"] == "button":
            action.update(text=element.get("text"), value=element.get("value", ""))
        else:
            action.pop("text", None)
            action.pop("value", None)
            action.update({key: value for key, value in selection.items() if key != "type"})
        result = await self._deliver(payload)
        if result is None or result.status != 200:
            channel = self.state.channels.get(source.channel_id or "")
            if channel is not None:
                self._complain(
                    channel, user, "The app did not respond to that action. Try again in a moment."
                )
            else:
                raise ConsoleError("the app did not respond to that action")

    async def suggest(self, user: User, source: MessageSource, action_id: str, typed: str) -> JsonObject:
        """Ask the app for an external select's options as the person types."""
        message, view = self._source(user, source)
        payload = self.slack.payloads.block_suggestion(
            user=user, action_id=action_id, value=typed, message=message, view=view
        )
        result = await self._deliver(payload)
        if result is None or result.status != 200 or not result.body:
            return {"options": []}
        try:
            answer = result.json()
        except ValueError:
            return {"options": []}
        if not isinstance(answer, dict):
            return {"options": []}
        return {key: answer[key] for key in ("options", "option_groups") if key in answer} or {"options": []}

    async def submit(self, user: User, view_id: str, values: Mapping[str, Mapping[str, Any]]) -> str | None:
        """Submit a modal and do what the app's ack asks; return an error to show, if any."""
        view = self._open_view(user, view_id)
        try:
            payload = self.slack.payloads.view_submission(view=view, user=user, values=values)
        except LookupError as error:
            raise ConsoleError("the form does not match the modal any more; reopen it") from error
        result = await self._deliver(payload)
        if result is None or result.status != 200:
            return "We had some trouble connecting. Try again?"
        view.definition.pop("errors", None)
        self.state.apply_view_submission_ack(view, _ack_body(result) or {})
        return None

    async def close_view(self, user: User, view_id: str) -> None:
        """Close the person's top modal, telling the app first when it asked to know."""
        view = self._open_view(user, view_id)
        if view.definition.get("notify_on_close"):
            await self._deliver(self.slack.payloads.view_closed(view=view, user=user))
        self.state.close_modal(user)

    def dismiss(self, user: User, channel_id: str, ts: str) -> None:
        """Hide one of the person's ephemeral messages, as its "Dismiss" link does."""
        message = self.state.find_ephemeral(channel_id, ts)
        if message is None or message.user_id != user.id:
            raise ConsoleError("no such message")
        self.state.delete_message(message)

    async def open_home(self, user: User) -> None:
        """Tell the app that the person opened its Home tab."""
        if not self.subscriptions.wants("app_home_opened", None):
            return
        team = self.state.teams[user.team_id]
        installation = self.state.installations.get(team.id)
        if installation is None:
            return
        event = {
            "type": "app_home_opened",
            "user": user.id,
            "channel": self.state.im_channel(user, self.state.users[installation.bot_user_id]).id,
            "tab": "home",
            "event_ts": self.state.next_ts(),
        }
        self._in_background([self.slack.payloads.event_callback(team, event)])

    def upload(
        self,
        user: User,
        channel: Channel,
        files: Sequence[tuple[str, bytes]],
        comment: str,
        thread_ts: str | None,
    ) -> Message:
        """Share files into a conversation as one message, and send the app the events Slack sends."""
        self._require_member(user, channel)
        if not files:
            raise ConsoleError("no files to share")
        # Browsers guess types from the name; Slack keeps its own guess, so the stub decides.
        shared: list[SlackFile] = [self.state.add_file(user, name=name, content=data) for name, data in files]
        for file in shared:
            file.channel_ids.append(channel.id)
        message = self.state.post_message(
            channel,
            text=comment,
            author=user,
            thread_ts=thread_ts,
            subtype="file_share",
            file_ids=[file.id for file in shared],
            source="upload",
        )
        if self._bot_in(channel):
            events: list[InboundPayload] = []
            if self.subscriptions.wants("message", channel):
                events.append(self.slack.payloads.message_event(message))
            if self.subscriptions.wants("file_shared", channel):
                events += [self.slack.payloads.file_shared_event(file, channel) for file in shared]
            if events:
                self._in_background(events)
        return message

    # -- lookups -----------------------------------------------------------------------------------

    def _require_member(self, user: User, channel: Channel) -> None:
        if user.id not in channel.members:
            raise ConsoleError(f"{user.real_name} is not in #{channel.name}")

    def _open_view(self, user: User, view_id: str) -> View:
        view = self.state.views.get(view_id)
        if view is None or view.closed or view.user_id != user.id:
            raise ConsoleError("that modal is closed")
        return view

    def _source(
        self, user: User, source: MessageSource
    ) -> tuple[Message | EphemeralMessage | None, View | None]:
        if source.view_id is not None:
            view = self.state.views.get(source.view_id)
            if view is None or view.closed or view.user_id != user.id:
                raise ConsoleError("that view is closed")
            return None, view
        if source.channel_id is None or source.ts is None:
            raise ConsoleError("the action names no message or view")
        message: Message | EphemeralMessage | None
        if source.ephemeral:
            message = self.state.find_ephemeral(source.channel_id, source.ts)
            if message is not None and (message.deleted or message.user_id != user.id):
                message = None
        else:
            message = self.state.find_message(source.channel_id, source.ts)
        if message is None:
            raise ConsoleError("that message is gone")
        return message, None


def _element_in_block(
    blocks: Sequence[Mapping[str, Any]], block_id: str, action_id: str
) -> Mapping[str, Any]:
    block = next((b for b in blocks if b.get("block_id") == block_id), None)
    try:
        return find_element([block] if block is not None else blocks, action_id)[1]
    except LookupError as error:
        raise ConsoleError("that element is not there any more") from error


def _ack_body(result: DeliveryResult) -> JsonObject | None:
    """Read what the app put in its ack: a JSON object, or plain text Slack shows as a reply."""
    if not result.body.strip():
        return None
    with contextlib.suppress(ValueError):
        decoded = json.loads(result.body)
        if isinstance(decoded, dict):
            return decoded
    text = result.body.decode("utf-8", "replace").strip()
    return {"text": text} if text else None
