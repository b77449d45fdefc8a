"""``PacsApp``: the Bolt app with our services and ``/pacs`` router, as commands modules see it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.app.replays import repeated_click
from bot.app.request import PacsRequest
from bot.app.router import CommandRouter, run_answering_errors
from bot.app.services import Services

ActionHandler = Callable[[PacsRequest, dict[str, Any]], Awaitable[None]]


@dataclass
class PacsApp:
    """What ``register(app)`` receives: the Bolt app, the services and the subcommand router."""

    bolt: AsyncApp
    services: Services
    router: CommandRouter
    # Registries that command modules share with each other (e.g. the order verbs).
    extensions: dict[str, Any] = field(default_factory=dict)

    def request(
        self,
        context: AsyncBoltContext,
        body: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond | None = None,
    ) -> PacsRequest:
        """Build a request from a Bolt listener's arguments."""
        return PacsRequest.from_bolt(self.services, context, body, client, respond)

    def action(self, action_id: str, handler: ActionHandler, *, single_click: bool = False) -> None:
        """Listen to a button or menu: ack at once, then run the handler with errors answered.

        A replayed click does nothing; with ``single_click`` (buttons that create something), nor
        does a double click.
        """

        async def listener(
            ack: AsyncAck,
            body: dict[str, Any],
            context: AsyncBoltContext,
            client: AsyncWebClient,
            respond: AsyncRespond,
        ) -> None:
            await ack()
            request = self.request(context, body, client, respond)
            if await repeated_click(
                self.services.store.claims, request.workspace.key, body, single_click=single_click
            ):
                return
            action = (body.get("actions") or [{}])[0]

            async def run(pacs_request: PacsRequest) -> None:
                await handler(pacs_request, action)

            await run_answering_errors(request, run, name=action_id)

        self.bolt.action(action_id)(listener)
