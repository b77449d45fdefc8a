"""Fixtures for the operations tests: the demo PostDICOM emulator, and logging put back as it was."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator

import pytest

from bot.logs import APP_LOGGERS
from bot.sandbox.postdicom import PostDicomEmulator

_TOUCHED_LOGGERS = ("", *APP_LOGGERS, "slack_sdk", "slack_bolt", "aiohttp.access")


@pytest.fixture
async def emulator() -> AsyncIterator[PostDicomEmulator]:
    async with PostDicomEmulator(seed="demo") as server:
        yield server


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
