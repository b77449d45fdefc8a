"""The PostDICOM client registry against the emulator: idle clients close, uploads keep theirs, LRU bound.

The registry runs on a clock the test moves, and looks for idle clients when the test asks; the
clients are real ones, over WebSocket to the emulator.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from prometheus_client import generate_latest
from pydantic import SecretStr

from bot.app import metrics
from bot.app.accounts import access_of
from bot.app.postdicom_clients import PostDicomAccess, PostDicomClients
from bot.postdicom import ClientClosed, PostDicomClient
from bot.sandbox.postdicom import ADA_UUID, MAIN_INSTITUTION_UUID, PostDicomEmulator
from tests.app.harness import Scenario, connected_scenario, eventually
from tests.postdicom.test_uploads import PART, write_dicom

IDLE = 600.0
NEW_STUDY = "1.2.826.0.1.3680043.8.498.9101"


class Clock:
    """A monotonic clock that moves only when the test says."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def emulator() -> AsyncIterator[PostDicomEmulator]:
    async with PostDicomEmulator(seed="demo") as server:
        yield server


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http


def access(emulator: PostDicomEmulator) -> PostDicomAccess:
    return PostDicomAccess(
        api_key=SecretStr(emulator.api_key),
        account_key=SecretStr(emulator.account_key),
        router_url=emulator.router_url,
        revision="1",
    )


def registry(session: aiohttp.ClientSession, clock: Clock, *, max_clients: int = 10) -> PostDicomClients:
    return PostDicomClients(session, timeout=10, idle_seconds=IDLE, max_clients=max_clients, clock=clock)


async def closed(client: PostDicomClient) -> bool:
    """Tell whether a client refuses requests because it was closed."""
    try:
        await client.get_user_list(ADA_UUID)
    except ClientClosed:
        return True
    return False


async def test_an_idle_client_is_closed_and_the_next_request_reopens_it(
    emulator: PostDicomEmulator, session: aiohttp.ClientSession
) -> None:
    clock = Clock()
    clients = registry(session, clock)
    try:
        first = await clients.get("T1", access(emulator))
        await first.get_user_list(ADA_UUID)
        # A look notices the call (calls are seen by the look after them, not timed one by one).
        assert await clients.sweep() == 0
        clock.now += IDLE - 1
        assert await clients.sweep() == 0
        assert "T1" in clients

        clock.now += 1
        assert await clients.sweep() == 1
        assert "T1" not in clients
        await eventually(lambda: not clients.clients_closing, what="the idle client to close")
        assert await closed(first)

        again = await clients.get("T1", access(emulator))
        assert again is not first
        assert [user.user_uuid for user in await again.get_user_list(ADA_UUID)]
    finally:
        await clients.close_all()


async def test_a_client_used_since_the_last_look_is_not_idle(
    emulator: PostDicomEmulator, session: aiohttp.ClientSession
) -> None:
    clock = Clock()
    clients = registry(session, clock)
    try:
        # A holder that got the client long ago and still calls it keeps it open.
        client = await clients.get("T1", access(emulator))
        clock.now += IDLE + 1
        await client.get_user_list(ADA_UUID)
        assert await clients.sweep() == 0
        clock.now += IDLE - 1
        assert await clients.sweep() == 0
        assert not await closed(client)
    finally:
        await clients.close_all()


async def test_an_upload_in_flight_keeps_its_client_until_it_ends(
    emulator: PostDicomEmulator, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    clock = Clock()
    clients = registry(session, clock, max_clients=1)
    images = [
        write_dicom(tmp_path / f"{number}.dcm", PART, study=NEW_STUDY, sop=f"{NEW_STUDY}.{number}")
        for number in (1, 2)
    ]
    first_sent, more = asyncio.Event(), asyncio.Event()

    async def arriving() -> AsyncIterator[Path]:
        yield images[0]
        first_sent.set()
        await more.wait()
        yield images[1]

    try:
        uploading = await clients.get("T1", access(emulator))
        upload = asyncio.create_task(
            uploading.upload_dicom_files(ADA_UUID, MAIN_INSTITUTION_UUID, arriving(), expected_bytes=2 * PART)
        )
        await first_sent.wait()
        assert await clients.sweep() == 0
        # Idle by the clock, and no call started since the last look, but uploading: it stays.
        clock.now += 10 * IDLE
        assert await clients.sweep() == 0
        assert "T1" in clients
        # The bound makes room for another workspace: T1 leaves the registry but keeps its socket.
        await clients.get("T2", access(emulator))
        assert "T1" not in clients
        assert clients.clients_closing == 1
        more.set()
        result = await upload
        assert result.files_sent == (0, 1)
        account = emulator.state.account(emulator.account_key)
        assert account is not None
        assert account.order_by_study(NEW_STUDY) is not None
        await eventually(lambda: not clients.clients_closing, what="the evicted client to close")
        assert await closed(uploading)
    finally:
        more.set()
        await clients.close_all()


async def test_the_bound_evicts_the_least_recently_used(
    emulator: PostDicomEmulator, session: aiohttp.ClientSession
) -> None:
    clock = Clock()
    clients = registry(session, clock, max_clients=2)
    try:
        first = await clients.get("T1", access(emulator))
        clock.now += 1
        second = await clients.get("T2", access(emulator))
        clock.now += 1
        assert await clients.get("T1", access(emulator)) is first
        clock.now += 1
        await clients.get("T3", access(emulator))
        assert clients.workspaces() == ["T1", "T3"]
        await eventually(lambda: not clients.clients_closing, what="the evicted client to close")
        assert await closed(second)
        assert not await closed(first)
    finally:
        await clients.close_all()


async def test_a_dictionary_leaves_with_its_client(tmp_path: Path, emulator: PostDicomEmulator) -> None:
    async with connected_scenario(tmp_path, emulator, PACSBOT_POSTDICOM_MAX_CLIENTS="1") as world:
        services = world.app.services
        handle = await services.accounts.handle(world.workspace)
        await services.accounts.names(world.workspace, handle)
        assert len(services.dictionaries.cache) == 3
        await services.postdicom.get("another", access_of(handle.connection))
        assert services.postdicom.workspaces() == ["another"]
        assert len(services.dictionaries.cache) == 0


async def test_the_next_command_reopens_an_idle_client_transparently(
    tmp_path: Path, emulator: PostDicomEmulator
) -> None:
    async with connected_scenario(tmp_path, emulator, PACSBOT_POSTDICOM_IDLE_SECONDS="0.5") as world:
        clients = world.app.services.postdicom
        await search(world, "search compressedsamples ct1")
        await eventually(lambda: len(clients) == 0, what="the idle client to close")
        page = generate_latest(metrics.REGISTRY).decode()
        assert 'pacsbot_postdicom_client_evictions_total{reason="idle"}' in page
        assert 'pacsbot_postdicom_clients{state="open"} 0.0' in page

        # Reopened as the command needs it; whether it is still open by now depends on the clock.
        await search(world, "search compressedsamples ct1")
        page = generate_latest(metrics.REGISTRY).decode()
        assert 'pacsbot_postdicom_client_open_seconds_count{kind="reopen"}' in page


async def search(world: Scenario, text: str) -> None:
    before = len(world.slack.state.ephemeral_for(world.demo.member))
    await world.command(world.demo.member, text)
    await eventually(
        lambda: len(world.slack.state.ephemeral_for(world.demo.member)) > before, what="the search's answer"
    )
    assert "1 order found" in world.slack.state.ephemeral_for(world.demo.member)[-1].text
