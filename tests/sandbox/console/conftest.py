"""Fixtures: a running sandbox, and a client of its console API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.sandbox.run import Sandbox
from tests.sandbox.console.support import ConsoleClient


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(port=0) as running:
        yield running


@pytest.fixture
async def console(sandbox: Sandbox) -> AsyncIterator[ConsoleClient]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        yield ConsoleClient(sandbox, http)
