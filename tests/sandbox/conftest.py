"""Fixtures for driving the local Slack with the real slack_sdk clients."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.slack import DemoWorkspace, SlackStub, seed_demo_workspace
from tests.sandbox.fakes import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def slack(clock: FakeClock) -> AsyncIterator[SlackStub]:
    async with SlackStub(host="127.0.0.1", port=0, clock=clock) as stub:
        yield stub


@pytest.fixture
def workspace(slack: SlackStub) -> DemoWorkspace:
    return seed_demo_workspace(slack.state)


@pytest.fixture
def bot_client(slack: SlackStub, workspace: DemoWorkspace) -> AsyncWebClient:
    return AsyncWebClient(token=workspace.installation.bot_token, base_url=slack.api_url, timeout=5)
