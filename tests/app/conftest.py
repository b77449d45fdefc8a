"""Fixtures for scenario tests: every scenario runs over HTTP and Socket Mode, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.sandbox.postdicom import DEMO_ACCOUNT_KEY, DEMO_API_KEY, PostDicomEmulator
from tests.app.harness import Scenario, connected_scenario, scenario
from tests.postdicom.standin import GoldenStandIn

COMBINATIONS = [("http", "sqlite"), ("socket", "sqlite"), ("http", "postgresql"), ("socket", "postgresql")]


@pytest.fixture
async def standin() -> AsyncIterator[GoldenStandIn]:
    async with GoldenStandIn() as server:
        yield server


@pytest.fixture(params=COMBINATIONS, ids=["-".join(pair) for pair in COMBINATIONS])
async def world(
    request: pytest.FixtureRequest, tmp_path: Path, standin: GoldenStandIn
) -> AsyncIterator[Scenario]:
    transport, backend = request.param
    async with scenario(
        tmp_path, transport=transport, backend=backend, postdicom_router_url=standin.router_url
    ) as running:
        yield running


PRECONNECT = {"PACSBOT_POSTDICOM_API_KEY": DEMO_API_KEY, "PACSBOT_POSTDICOM_ACCOUNT_KEY": DEMO_ACCOUNT_KEY}


@pytest.fixture(
    params=[("http", "sqlite"), ("socket", "postgresql")], ids=["http-sqlite", "socket-postgresql"]
)
async def pacs(
    request: pytest.FixtureRequest, tmp_path: Path, emulator: PostDicomEmulator
) -> AsyncIterator[Scenario]:
    """A workspace connected (from the environment) to the demo PostDICOM emulator."""
    transport, backend = request.param
    async with connected_scenario(tmp_path, emulator, transport=transport, backend=backend) as running:
        yield running
