"""Fixtures every test folder shares: the demo PostDICOM emulator, a client connected to it, HTTP, and
logging put back as it was."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest

from bot.logs import APP_LOGGERS
from bot.postdicom import PostDicomClient
from bot.sandbox.postdicom import PostDicomEmulator

# Modules whose tests start processes of their own (the app, the sandbox, Chromium).
_STARTS_PROCESSES = {
    "tests/reliability/test_processes.py",
    "tests/sandbox/console/test_sandbox_cli.py",
    "tests/sandbox/console/test_console_browser.py",
}


# Tests that hold wall-clock leases, throttles and session lifetimes of a second or less: starved of
# CPU by other test workers they fail for the wrong reason, so ``make test`` runs them on their own.
# The ack test times acks against a slowed PostDICOM, and the browser test waits on Chromium.
_TIMED = (
    "tests/jobs/test_worker.py",
    "tests/reliability/",
    "tests/app/test_departures.py",
    "tests/app/test_ack_first.py",
    "tests/sandbox/console/test_console_browser.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the tests that need more than this process, and those that must run alone."""
    for item in items:
        module = item.path.relative_to(config.rootpath).as_posix()
        if module in _STARTS_PROCESSES or "postgresql" in item.name:
            item.add_marker(pytest.mark.external)
        if module.startswith(_TIMED):
            item.add_marker(pytest.mark.serial)


# Every logger that ``configure_logging`` touches.
_TOUCHED_LOGGERS = ("", *APP_LOGGERS, "slack_sdk", "slack_bolt", "aiohttp.access")


@pytest.fixture
async def emulator() -> AsyncIterator[PostDicomEmulator]:
    """The demo PostDICOM, fresh for each test, over its real HTTP and WebSocket."""
    async with PostDicomEmulator(seed="demo") as running:
        yield running


@asynccontextmanager
async def connected_client(emulator: PostDicomEmulator, **options: Any) -> AsyncIterator[PostDicomClient]:
    """Open a PostDICOM client on the emulator's demo account and initialize it."""
    options.setdefault("timeout", 10)
    async with PostDicomClient(
        emulator.api_key, emulator.account_key, router_url=emulator.router_url, **options
    ) as connected:
        await connected.initialize()
        yield connected


@pytest.fixture
async def client(emulator: PostDicomEmulator) -> AsyncIterator[PostDicomClient]:
    """A client initialized on the emulator's demo account."""
    async with connected_client(emulator) as connected:
        yield connected


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain HTTP session, closed after the test."""
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Undo what ``configure_logging`` does to the process's loggers when the test ends."""
    root = logging.getLogger()
    handlers = list(root.handlers)
    levels = {name: logging.getLogger(name).level for name in _TOUCHED_LOGGERS}
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
