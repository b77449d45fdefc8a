"""Fixtures for driving the local Slack with the real slack_sdk clients."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.slack import DemoWorkspace, SlackStub, seed_demo_workspace


class FakeClock:
    """A clock the test moves by hand, so expiry is tested without sleeping."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


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
