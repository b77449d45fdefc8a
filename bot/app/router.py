"""The ``/pacs`` command: ack at once, pick the subcommand, run it, turn any failure into words.

Commands modules add their subcommands here through ``register(app)``; a text whose first word is
not a subcommand goes to the default one (search), so ``/pacs doe john`` just works.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import metrics
from bot.app.channel_guard import ChannelCheck, check_request
from bot.app.errors import describe
from bot.app.grammar import UsageError, near_word, split_command
from bot.app.replays import repeated_click
from bot.app.request import PacsRequest
from bot.app.services import Services
from bot.store import Purpose, TokenRefused
from bot.ui.blocks import RETRY_ACTION, retry_message

logger = logging.getLogger(__name__)
# Slack's limit on a button's value.
MAX_BUTTON_VALUE = 2000

Handler = Callable[[PacsRequest], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Subcommand:
    """One ``/pacs`` subcommand and how ``/pacs help`` describes it."""

    name: str
    handler: Handler
    summary: str
    usage: str
    examples: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    admin_only: bool = False


@dataclass
class CommandRouter:
    """Subcommands by name, and the listener that dispatches ``/pacs`` to them."""

    services: Services
    default: str = "search"
    command: str = "/pacs"
    _subcommands: dict[str, Subcommand] = field(default_factory=dict)
    _names: dict[str, str] = field(default_factory=dict)

    def add(
        self,
        name: str,
        handler: Handler,
        *,
        summary: str,
        usage: str,
        examples: tuple[str, ...],
        aliases: tuple[str, ...] = (),
        admin_only: bool = False,
    ) -> None:
        """Register a subcommand under its name and aliases."""
        subcommand = Subcommand(name, handler, summary, usage, examples, aliases, admin_only)
        for word in (name, *aliases):
            if word in self._names:
                raise ValueError(f"/pacs {word} is registered twice")
            self._names[word] = name
        self._subcommands[name] = subcommand

    def subcommands(self) -> list[Subcommand]:
        """Return the subcommands in the order they were registered."""
        return list(self._subcommands.values())

    def resolve(self, text: str) -> tuple[Subcommand | None, str]:
        """Pick the subcommand for a command text, and the text left for it."""
        line = split_command(text, self._names, self.default)
        name = self._names.get(line.name, line.name)
        first = text.strip().partition(" ")[0]
        near = near_word(first, self._names) if first.lower() not in self._names else None
        if near is not None:
            # A typo of a subcommand must not become a patient-name search that finds nothing.
            return self._typo(first, self._names[near]), line.rest
        return self._subcommands.get(name), line.rest

    def _typo(self, typed: str, meant: str) -> Subcommand:
        async def explain(request: PacsRequest) -> None:
            raise UsageError(
                f"`{typed}` is not a {self.command} command. Did you mean `{meant}`? "
                f"To search for a patient called {typed}: `{self.command} {self.default} {typed}`.",
                f"{self.command} {meant} {request.text}".strip(),
            )

        return Subcommand("typo", explain, "", "", ())

    def register(self, bolt: AsyncApp) -> None:
        """Attach the slash-command and Retry-button listeners to the Bolt app."""
        bolt.command(self.command)(self._on_command)
        bolt.action(RETRY_ACTION)(self._on_retry)

    async def _on_command(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        request = PacsRequest.from_bolt(self.services, context, body, client, respond)
        await self.dispatch(request, request.text)

    async def _on_retry(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        request = PacsRequest.from_bolt(self.services, context, body, client, respond)
        if await repeated_click(self.services.store.claims, request.workspace.key, body, single_click=True):
            return
        token = str((body.get("actions") or [{}])[0].get("value") or "")
        try:
            text: str | None = self.services.store.cipher.unseal(
                Purpose.RETRY_BUTTON, request.workspace.key, token
            )
        except TokenRefused:
            logger.info("a Retry button's token was refused for team %s", request.workspace.key)
            text = None
        if text is None:
            await request.reply(
                "That Retry button is not one I can read any more. Please run the command again."
            )
            return
        await self.dispatch(request, text)

    async def dispatch(self, request: PacsRequest, text: str) -> None:
        """Run the subcommand the text names, answering the user whatever happens."""
        subcommand, rest = self.resolve(text)
        if subcommand is None:
            subcommand, rest = self._subcommands.get("help"), ""
            if subcommand is None:  # pragma: no cover - help is always registered
                return
        request.text = rest
        # Admin-only subcommands (connect, settings…) show no patient data and must stay reachable,
        # or an admin could lock everyone out by allowing only a channel the bot has left.
        await run_answering_errors(
            request,
            subcommand.handler,
            name=subcommand.name,
            retry_text=text,
            kind="command",
            check=ChannelCheck.ADMIN if subcommand.admin_only else ChannelCheck.FULL,
        )


async def run_answering_errors(
    request: PacsRequest,
    handler: Handler,
    *,
    name: str,
    retry_text: str | None = None,
    kind: str = "action",
    check: ChannelCheck = ChannelCheck.FULL,
) -> None:
    """Check who asks and where (the channel guard), run a handler; a failure becomes a short message."""
    with request.services.handling():
        # Called after the ack: let the other requests of a burst be acked before working.
        await request.services.acks.settled()
        await _run_answering_errors(
            request, handler, name=name, retry_text=retry_text, kind=kind, check=check
        )


async def _run_answering_errors(
    request: PacsRequest,
    handler: Handler,
    *,
    name: str,
    retry_text: str | None,
    kind: str,
    check: ChannelCheck,
) -> None:
    try:
        await check_request(request, check)
        await handler(request)
    except UsageError as error:
        metrics.count_handled(kind, name, error)
        await request.reply(f":warning: {error.message}\nTry: `{error.example}`")
    except Exception as error:
        metrics.count_handled(kind, name, error)
        message = describe(error)
        if type(error).__module__.startswith("bot.") and message.text:
            logger.info("%s failed for team %s: %s", name, request.workspace.key, type(error).__name__)
        else:
            logger.exception("%s failed for team %s", name, request.workspace.key)
        blocks = None
        if message.retryable and retry_text is not None:
            # The button carries the command encrypted: it may name a patient, and any replica
            # may receive the click.
            token = request.services.store.cipher.seal(
                Purpose.RETRY_BUTTON, request.workspace.key, retry_text
            )
            if len(token) <= MAX_BUTTON_VALUE:
                blocks = retry_message(f":x: {message.text}", token)
        await request.reply(f":x: {message.text}", blocks)
    else:
        metrics.count_handled(kind, name, None)
