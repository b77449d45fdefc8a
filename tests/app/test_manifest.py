"""manifest.yml: valid against Slack's published schema, and in step with the app's listeners and scopes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from cryptography.fernet import Fernet
from slack_bolt.async_app import AsyncApp

from bot.app.factory import BOT_SCOPES, build_app
from bot.app.services import Services
from bot.sandbox.slack.model import DEFAULT_BOT_SCOPES
from bot.settings import load_settings
from bot.store import Cipher
from tests.paths import SLACK_MANIFEST_SCHEMA

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = yaml.safe_load((ROOT / "manifest.yml").read_text())


def test_the_manifest_is_valid_against_slacks_schema() -> None:
    schema = json.loads(SLACK_MANIFEST_SCHEMA.read_text())
    errors = sorted(
        jsonschema.Draft7Validator(schema).iter_errors(MANIFEST), key=lambda error: list(error.path)
    )
    assert [error.message for error in errors] == []


def test_the_manifest_asks_for_exactly_the_scopes_the_app_uses() -> None:
    assert sorted(MANIFEST["oauth_config"]["scopes"]["bot"]) == sorted(BOT_SCOPES)


def test_the_slack_stub_grants_exactly_the_manifests_scopes() -> None:
    assert sorted(DEFAULT_BOT_SCOPES) == sorted(MANIFEST["oauth_config"]["scopes"]["bot"])


def test_socket_mode_is_on_and_no_request_url_is_needed() -> None:
    assert MANIFEST["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in MANIFEST["settings"]["event_subscriptions"]


@pytest.fixture
async def listeners(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, set[str]]:
    """Build the real app and record every event and command it listens to."""
    seen: dict[str, set[str]] = {"event": set(), "command": set()}

    def recording(kind: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(self: AsyncApp, name: Any, *args: Any, **kwargs: Any) -> Any:
            seen[kind].add(name if isinstance(name, str) else json.dumps(name, sort_keys=True))
            return original(self, name, *args, **kwargs)

        return wrapper

    monkeypatch.setattr(AsyncApp, "event", recording("event", AsyncApp.event))
    monkeypatch.setattr(AsyncApp, "command", recording("command", AsyncApp.command))
    settings = load_settings(
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET="secret",
        PACSBOT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'manifest.db'}",
        PACSBOT_ENCRYPTION_KEY=Fernet.generate_key().decode(),
    )
    services = await Services.create(
        settings, cipher=Cipher(settings.encryption_keys()), upgrade_database=False
    )
    try:
        build_app(settings, services)
    finally:
        await services.close()
    return seen


def event_type(manifest_event: str) -> str:
    """Return the event type a manifest subscription delivers (``message.channels`` is a ``message``)."""
    return manifest_event.split(".")[0]


async def test_every_manifest_event_has_a_listener_and_every_listener_is_subscribed(
    listeners: dict[str, set[str]],
) -> None:
    subscribed = {event_type(name) for name in MANIFEST["settings"]["event_subscriptions"]["bot_events"]}
    assert subscribed == listeners["event"]


async def test_every_manifest_command_has_a_listener_and_back(listeners: dict[str, set[str]]) -> None:
    declared = {command["command"] for command in MANIFEST["features"]["slash_commands"]}
    assert declared == listeners["command"]
