"""Scenario harness: the real app between the Slack stub and a PostDICOM server, over real protocols.

A scenario starts the Slack stub with a demo workspace, a PostDICOM server (the golden stand-in
by default, the emulator when a test passes its router URL), a database (SQLite file or a
throwaway PostgreSQL database) and the app itself in HTTP or Socket Mode. Commands and
interactions are delivered as Slack delivers them: signed HTTP POSTs, or Socket Mode envelopes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from cryptography.fernet import Fernet

from bot.app.server import RunningApp, running
from bot.sandbox.postdicom import PostDicomEmulator
from bot.sandbox.slack import SlackStub
from bot.sandbox.slack.demo import DemoWorkspace, seed_demo_workspace
from bot.sandbox.slack.model import Channel, EphemeralMessage, User, View
from bot.sandbox.slack.payloads import DeliveryResult, InboundPayload, deliver
from bot.settings import load_settings
from bot.store import WorkspaceRef
from tests.store.databases import temporary_database_url

Transport = Literal["http", "socket"]
T = TypeVar("T")


async def eventually(probe: Callable[[], T | None], *, within: float = 5.0, what: str = "condition") -> T:
    """Poll until the probe returns something truthy, failing the test after ``within`` seconds."""
    async with asyncio.timeout(within):
        while True:
            value = probe()
            if value:
                return value
            await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")  # pragma: no cover


@dataclass
class Scenario:
    """A running app wired to the Slack stub, with helpers to act as Slack users."""

    slack: SlackStub
    demo: DemoWorkspace
    app: RunningApp
    transport: Transport
    signing_secret: str

    @property
    def workspace(self) -> WorkspaceRef:
        """Return the demo workspace as the store names it."""
        return WorkspaceRef(None, self.demo.team.id)

    async def send(self, payload: InboundPayload, **signing: Any) -> DeliveryResult | dict[str, Any] | None:
        """Deliver a payload the way this scenario's transport does; return the app's answer."""
        if self.transport == "http":
            result = await deliver(self.app.events_url, payload.signed(self.signing_secret, **signing))
            return result
        ack = await self.slack.socket_mode.send(payload)
        return ack.payload

    async def command(self, user: User, text: str, channel: Channel | None = None) -> None:
        """Run ``/pacs <text>`` as a user in a channel (``#general`` by default)."""
        payload = self.slack.payloads.slash_command(
            user=user, channel=channel or self.demo.general, text=text
        )
        answer = await self.send(payload)
        if isinstance(answer, DeliveryResult):
            assert answer.status == 200, answer.body

    async def submit(
        self, view: View, values: Mapping[str, Mapping[str, Any]], user: User | None = None
    ) -> None:
        """Submit a modal with values; over HTTP, apply the app's ack to the modal stack as Slack does."""
        payload = self.slack.payloads.view_submission(view=view, user=user, values=values)
        answer = await self.send(payload)
        if isinstance(answer, DeliveryResult):
            assert answer.status == 200, answer.body
            ack = json.loads(answer.body) if answer.body else {}
            self.slack.state.apply_view_submission_ack(view, ack)

    async def click(
        self, user: User, action_id: str, *, message: Any = None, view: View | None = None, value: Any = None
    ) -> None:
        """Press a button or pick from a menu in a message or view."""
        payload = self.slack.payloads.block_actions(
            user=user, action_id=action_id, message=message, view=view, value=value
        )
        answer = await self.send(payload)
        if isinstance(answer, DeliveryResult):
            assert answer.status == 200, answer.body

    async def event(self, event: dict[str, Any]) -> None:
        """Deliver an Events API callback for the demo workspace."""
        answer = await self.send(self.slack.payloads.event_callback(self.demo.team, event))
        if isinstance(answer, DeliveryResult):
            assert answer.status == 200, answer.body

    async def ephemeral(self, user: User, containing: str, *, within: float = 5.0) -> EphemeralMessage:
        """Wait for an ephemeral message to the user whose text or blocks contain a phrase."""

        def find() -> EphemeralMessage | None:
            for message in reversed(self.slack.state.ephemeral_for(user)):
                if containing in message.text or containing in json.dumps(message.blocks):
                    return message
            return None

        return await eventually(find, within=within, what=f"an ephemeral message containing {containing!r}")

    async def modal(self, user: User, callback_id: str, *, containing: str = "", within: float = 5.0) -> View:
        """Wait until the user's top modal has a callback id (and, optionally, some text)."""

        def top() -> View | None:
            views = self.slack.state.open_views(user)
            if (
                views
                and views[-1].callback_id == callback_id
                and containing in json.dumps(views[-1].definition)
            ):
                return views[-1]
            return None

        return await eventually(top, within=within, what=f"modal {callback_id} {containing!r}")


@contextlib.asynccontextmanager
async def scenario(
    tmp_path: Path,
    *,
    transport: Transport = "http",
    backend: str = "sqlite",
    postdicom_router_url: str = "http://127.0.0.1:9/wssShellService/",
    extra_settings: Mapping[str, str] | None = None,
) -> AsyncIterator[Scenario]:
    """Start the stub, a database and the app; yield the scenario; stop everything."""
    async with SlackStub() as slack, temporary_database_url(backend, tmp_path) as database_url:
        demo = seed_demo_workspace(slack.state)
        values = {
            "SLACK_BOT_TOKEN": demo.installation.bot_token,
            "SLACK_SIGNING_SECRET": slack.app.signing_secret,
            "PACSBOT_SLACK_API_URL": slack.api_url,
            "PACSBOT_DATABASE_URL": database_url,
            "PACSBOT_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "PACSBOT_POSTDICOM_ROUTER_URL": postdicom_router_url,
            "PACSBOT_POSTDICOM_TIMEOUT": "5",
            **({"SLACK_APP_TOKEN": slack.app.app_token} if transport == "socket" else {}),
            **(extra_settings or {}),
        }
        settings = load_settings(**values)
        async with running(settings, host="127.0.0.1", port=0) as app:
            if transport == "socket":
                await slack.socket_mode.wait_for_connection()
            yield Scenario(slack, demo, app, transport, slack.app.signing_secret)


def connected_scenario(
    tmp_path: Path,
    emulator: PostDicomEmulator,
    *,
    transport: Transport = "http",
    backend: str = "sqlite",
    **settings: str,
) -> contextlib.AbstractAsyncContextManager[Scenario]:
    """Start a scenario whose workspace the app connects, at start-up, to the emulator's demo account."""
    return scenario(
        tmp_path,
        transport=transport,
        backend=backend,
        postdicom_router_url=emulator.router_url,
        extra_settings={
            "PACSBOT_POSTDICOM_API_KEY": emulator.api_key,
            "PACSBOT_POSTDICOM_ACCOUNT_KEY": emulator.account_key,
            **settings,
        },
    )
