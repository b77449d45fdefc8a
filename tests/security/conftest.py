"""Fixtures for the security tests: the demo emulator with a second, unrelated PostDICOM account,
and the app connected to the demo account over HTTP (where Slack's signatures apply)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.sandbox.postdicom import PostDicomEmulator, add_synthetic_orders
from bot.sandbox.postdicom.seed import _people
from bot.sandbox.postdicom.state import Account, Order
from tests.app.harness import Scenario, scenario

OTHER_ACCOUNT_KEY = "0cc0ffee-1111-4abc-9def-0123456789ab"
OTHER_API_KEY = "0a0a0a0a-2222-4abc-8def-0123456789ab"


@pytest.fixture
async def emulator() -> AsyncIterator[PostDicomEmulator]:
    """The demo PostDICOM, plus another clinic's account that this workspace must never reach."""
    async with PostDicomEmulator(seed="demo") as server:
        other = Account(OTHER_ACCOUNT_KEY, OTHER_API_KEY, "Another Clinic")
        _people(other)
        add_synthetic_orders(other, 5, seed=99)
        server.state.add_account(other)
        yield server


def foreign_order(emulator: PostDicomEmulator) -> Order:
    """Return an order of the other clinic's account."""
    other = emulator.state.account(OTHER_ACCOUNT_KEY)
    assert other is not None
    return next(other.live_orders())


@pytest.fixture
async def world(tmp_path: Path, emulator: PostDicomEmulator) -> AsyncIterator[Scenario]:
    """The app over HTTP on SQLite, connected (from the environment) to the demo account."""
    async with scenario(
        tmp_path,
        postdicom_router_url=emulator.router_url,
        extra_settings={
            "PACSBOT_POSTDICOM_API_KEY": emulator.api_key,
            "PACSBOT_POSTDICOM_ACCOUNT_KEY": emulator.account_key,
        },
    ) as running:
        yield running
