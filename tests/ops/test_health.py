"""``/healthz`` and ``/readyz``: liveness, the database, and each workspace's PostDICOM, checked and cached."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr

from bot.app.health import Readiness, connected_workspaces
from bot.sandbox.postdicom import DEMO_ACCOUNT_KEY, DEMO_API_KEY, PostDicomEmulator
from bot.store import WorkspaceRef
from tests.app.harness import Scenario, scenario

OTHER_TEAM = WorkspaceRef(None, "T0OTHER01")


async def get(world: Scenario, path: str) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(world.app.base_url + path, timeout=aiohttp.ClientTimeout(total=10)) as response,
    ):
        return response.status, await response.json()


@pytest.fixture
async def world(tmp_path: Path, emulator: PostDicomEmulator) -> AsyncIterator[Scenario]:
    async with scenario(
        tmp_path,
        postdicom_router_url=emulator.router_url,
        extra_settings={
            "PACSBOT_POSTDICOM_API_KEY": DEMO_API_KEY,
            "PACSBOT_POSTDICOM_ACCOUNT_KEY": DEMO_ACCOUNT_KEY,
        },
    ) as running:
        yield running


async def connect_a_second_workspace(world: Scenario, router_url: str, api_key: str) -> None:
    await world.app.services.store.connections.save(
        OTHER_TEAM,
        api_key=SecretStr(api_key),
        account_key=SecretStr(DEMO_ACCOUNT_KEY),
        router_url=router_url,
        connected_by="U0ADMIN01",
        acting_user_uuid=None,
        default_institution_uuid=None,
    )


async def test_healthz_answers_while_the_process_runs(world: Scenario) -> None:
    assert await get(world, "/healthz") == (200, {"status": "ok"})


async def test_readyz_checks_the_database_and_each_workspace_postdicom(world: Scenario) -> None:
    status, body = await get(world, "/readyz")
    assert status == 200
    assert body["status"] == "ok"
    assert body["database"] is True
    assert body["postdicom"]["workspaces"] == 1
    assert body["postdicom"]["reachable"] == 1
    assert body["postdicom"]["unreachable"] == []
    assert body["postdicom"]["checked_at"]


async def test_a_workspace_whose_postdicom_refuses_makes_the_replica_degraded_not_unready(
    world: Scenario, emulator: PostDicomEmulator
) -> None:
    await connect_a_second_workspace(world, emulator.router_url, DEMO_API_KEY.replace("0f0f0f0f", "1e1e1e1e"))
    readiness = Readiness(world.app.services)
    status, body = await readiness.report()
    assert status == 200
    assert body["status"] == "degraded"
    assert body["postdicom"]["reachable"] == 1
    assert body["postdicom"]["unreachable"] == [{"workspace": OTHER_TEAM.key, "error": "AuthenticationError"}]
    # Keys and URLs stay out of the answer.
    assert DEMO_ACCOUNT_KEY not in str(body)
    assert emulator.router_url not in str(body)


async def test_postdicom_checks_are_cached_for_the_ttl(world: Scenario) -> None:
    readiness = Readiness(world.app.services, ttl_seconds=60)
    await readiness.report()
    await readiness.report()
    await readiness.report()
    assert readiness.probes == 1
    expiring = Readiness(world.app.services, ttl_seconds=0)
    await expiring.report()
    await expiring.report()
    assert expiring.probes == 2


async def test_a_slow_postdicom_does_not_hold_up_the_probe(
    world: Scenario, emulator: PostDicomEmulator
) -> None:
    emulator.faults.set(DEMO_ACCOUNT_KEY, latency=1.5)
    readiness = Readiness(world.app.services, wait_seconds=0.1)
    started = asyncio.get_running_loop().time()
    status, body = await readiness.report()
    assert asyncio.get_running_loop().time() - started < 1.0
    assert status == 200
    # Nothing is known yet; the check goes on in the background and the next probe has it.
    assert body["postdicom"]["workspaces"] == 0
    await asyncio.sleep(2)
    status, body = await readiness.report()
    assert body["postdicom"]["reachable"] == 1
    await readiness.close()


async def test_readyz_is_unavailable_without_the_database(
    world: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unreachable() -> bool:
        return False

    monkeypatch.setattr(world.app.services.store.database, "ping", unreachable)
    assert await get(world, "/readyz") == (503, {"status": "unavailable", "database": False})


async def test_connected_workspaces_lists_every_connection(
    world: Scenario, emulator: PostDicomEmulator
) -> None:
    await connect_a_second_workspace(world, emulator.router_url, DEMO_API_KEY)
    connections = await connected_workspaces(world.app.services.store)
    assert sorted(connection.workspace.key for connection in connections) == sorted(
        [world.workspace.key, OTHER_TEAM.key]
    )
    assert all(connection.api_key.get_secret_value() == DEMO_API_KEY for connection in connections)
