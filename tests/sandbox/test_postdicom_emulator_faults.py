"""Misbehaviour on demand: each fault produces the client error we expect, and nothing else breaks."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from pydicom.data import get_testdata_file

from bot.postdicom import (
    ApiError,
    AuthenticationError,
    ConnectionLost,
    PostDicomClient,
    RequestTimeout,
    UploadInterrupted,
)
from bot.postdicom.frames import MessageType
from bot.sandbox.postdicom import (
    ADA_UUID,
    DEMO_ACCOUNT_KEY,
    DEMO_API_KEY,
    MAIN_INSTITUTION_UUID,
    FaultConfigError,
    FaultPlan,
    FaultRegistry,
    PostDicomEmulator,
)
from bot.sandbox.postdicom.faults import INJECTED_ERROR_MESSAGE, parse_target
from bot.sandbox.postdicom.rawclient import RawClientError, RawSession
from bot.sandbox.postdicom.seed import demo_account
from tests.paths import GOLDEN_BIG

OTHER_ACCOUNT_KEY = "0e0e0e0e-5678-4abc-9def-0123456789ab"
OTHER_API_KEY = "0d0d0d0d-1234-4abc-8def-0123456789ab"


def client_for(emulator: PostDicomEmulator, timeout: float = 10.0) -> PostDicomClient:
    return PostDicomClient(
        emulator.api_key,
        emulator.account_key,
        router_url=emulator.router_url,
        timeout=timeout,
        upload_sockets=2,
    )


# --- latency -------------------------------------------------------------------------------------


async def test_small_latency_still_answers(emulator: PostDicomEmulator) -> None:
    emulator.faults.set(DEMO_ACCOUNT_KEY, latency=0.01, latency_jitter=0.02)
    async with client_for(emulator) as client:
        await client.initialize()
        assert len(await client.get_user_list(ADA_UUID)) == 3


async def test_latency_beyond_the_client_timeout_is_a_request_timeout(emulator: PostDicomEmulator) -> None:
    async with client_for(emulator, timeout=0.3) as client:
        await client.initialize()
        emulator.faults.set(DEMO_ACCOUNT_KEY, latency=2.0)
        with pytest.raises(RequestTimeout):
            await client.get_user_list(ADA_UUID)


def test_latency_jitter_stays_in_its_range_and_repeats_with_the_seed() -> None:
    first, second = FaultRegistry(seed=4), FaultRegistry(seed=4)
    for registry in (first, second):
        registry.set(DEMO_ACCOUNT_KEY, latency=0.1, latency_jitter=0.5)
    delays = [first.delay(DEMO_ACCOUNT_KEY) for _ in range(50)]
    assert delays == [second.delay(DEMO_ACCOUNT_KEY) for _ in range(50)]
    assert all(0.1 <= delay <= 0.6 for delay in delays)
    assert len(set(delays)) > 1
    assert first.delay(OTHER_ACCOUNT_KEY) == 0


# --- error replies -------------------------------------------------------------------------------


async def test_errors_for_chosen_management_types(emulator: PostDicomEmulator) -> None:
    async with client_for(emulator) as client:
        await client.initialize()
        emulator.faults.set(DEMO_ACCOUNT_KEY, error_rate=1.0, error_targets=["SEARCH_PATIENT_ORDER"])
        with pytest.raises(ApiError) as refused:
            await client.get_patient_order_list(ADA_UUID, [])
        assert refused.value.server_message == INJECTED_ERROR_MESSAGE
        assert refused.value.response_code == 0
        assert len(await client.get_user_list(ADA_UUID)) == 3
    assert emulator.faults.injected_errors == 1


async def test_errors_through_the_admin_api(emulator: PostDicomEmulator) -> None:
    async with client_for(emulator) as client, aiohttp.ClientSession() as http:
        await client.initialize()
        body = {"error_rate": 1, "error_targets": [34], "error_message": "Try later."}
        async with http.put(f"{emulator.base_url}/_emulator/faults/{DEMO_ACCOUNT_KEY}", json=body) as reply:
            assert reply.status == 200
        with pytest.raises(ApiError, match="Try later"):
            await client.get_user_list(ADA_UUID)
        async with http.delete(f"{emulator.base_url}/_emulator/faults/{DEMO_ACCOUNT_KEY}") as reply:
            assert reply.status == 200
        assert len(await client.get_user_list(ADA_UUID)) == 3


async def test_an_error_rate_fails_some_requests_and_not_others(emulator: PostDicomEmulator) -> None:
    async with client_for(emulator) as client:
        await client.initialize()
        emulator.faults.set(DEMO_ACCOUNT_KEY, error_rate=0.5)
        outcomes = []
        for _ in range(40):
            try:
                await client.get_user_list(ADA_UUID)
                outcomes.append(True)
            except ApiError:
                outcomes.append(False)
    assert 0 < outcomes.count(False) < 40
    assert emulator.faults.injected_errors == outcomes.count(False)


async def test_errors_on_upload_parts_fail_the_upload(emulator: PostDicomEmulator) -> None:
    path = get_testdata_file("rtplan.dcm", download=False)
    assert isinstance(path, str)
    async with client_for(emulator) as client:
        await client.initialize()
        emulator.faults.set(DEMO_ACCOUNT_KEY, error_rate=1.0, error_targets=["23:PROCESS_FILE"])
        with pytest.raises(ApiError, match="injected"):
            await client.upload_dicom_files(ADA_UUID, MAIN_INSTITUTION_UUID, [path])


# --- dropped sockets -----------------------------------------------------------------------------


async def test_dropping_after_n_frames_loses_unsafe_requests_and_reconnects_for_reads(
    emulator: PostDicomEmulator,
) -> None:
    emulator.faults.set(DEMO_ACCOUNT_KEY, drop_after_frames=2)
    async with client_for(emulator) as client:
        await client.initialize()
        assert len(await client.get_user_list(ADA_UUID)) == 3
        assert len(await client.get_user_list(ADA_UUID)) == 3
        assert client.transport.reconnects == 1
        with pytest.raises(ConnectionLost):
            await client.create_folder(ADA_UUID, "", "Never")
    assert emulator.faults.dropped_sockets == 2
    account = emulator.state.account(DEMO_ACCOUNT_KEY)
    assert account is not None
    assert all(folder.name != "Never" for folder in account.folders.values())


async def test_a_raw_socket_closes_unanswered(emulator: PostDicomEmulator) -> None:
    emulator.faults.set(DEMO_ACCOUNT_KEY, drop_after_frames=1)
    async with aiohttp.ClientSession() as http:
        raw = await RawSession.open(http, emulator.router_url, DEMO_API_KEY, DEMO_ACCOUNT_KEY)
        try:
            with pytest.raises(RawClientError, match="CLOSE"):
                await raw.general_json(34, b"{}")
        finally:
            await raw.close()


async def test_dropping_mid_upload_interrupts_it_once(emulator: PostDicomEmulator) -> None:
    files = [str(GOLDEN_BIG)]
    async with client_for(emulator) as client:
        await client.initialize()
        emulator.faults.set(DEMO_ACCOUNT_KEY, drop_upload_after_parts=1)
        with pytest.raises(UploadInterrupted) as interrupted:
            await client.upload_dicom_files(ADA_UUID, MAIN_INSTITUTION_UUID, files)
        assert interrupted.value.completed_files == ()
        assert emulator.faults.plan(DEMO_ACCOUNT_KEY).drop_upload_after_parts is None
        result = await client.upload_dicom_files(ADA_UUID, MAIN_INSTITUTION_UUID, files)
    assert result.files_sent == (0,)
    account = emulator.state.account(DEMO_ACCOUNT_KEY)
    assert account is not None
    order = account.order_by_study("1.2.826.0.1.3680043.8.498.2001")
    assert order is not None
    assert next(iter(order.instances.values())).data == await asyncio.to_thread(GOLDEN_BIG.read_bytes)
    assert emulator.uploads.pending_parts() == 0


# --- session expiry ------------------------------------------------------------------------------


async def test_expired_sessions_are_refused(emulator: PostDicomEmulator) -> None:
    async with client_for(emulator) as client:
        await client.initialize()
        emulator.faults.set(DEMO_ACCOUNT_KEY, session_ttl=0)
        with pytest.raises(ApiError, match="expired"):
            await client.get_user_list(ADA_UUID)
        emulator.faults.clear(DEMO_ACCOUNT_KEY)
        assert len(await client.get_user_list(ADA_UUID)) == 3


async def test_expiry_that_closes_the_socket_makes_the_client_initialize_again(
    emulator: PostDicomEmulator,
) -> None:
    async with client_for(emulator) as client:
        await client.initialize()
        emulator.faults.set(DEMO_ACCOUNT_KEY, session_ttl=0, expiry_closes_socket=True)
        with pytest.raises(AuthenticationError, match="expired"):
            await client.get_user_list(ADA_UUID)
        emulator.faults.set(DEMO_ACCOUNT_KEY, session_ttl=3600)
        assert len(await client.get_user_list(ADA_UUID)) == 3
    assert len(emulator.state.sessions) >= 3


# --- bandwidth -----------------------------------------------------------------------------------


async def test_a_bandwidth_cap_slows_big_answers_past_the_timeout(emulator: PostDicomEmulator) -> None:
    async with client_for(emulator, timeout=0.5) as client:
        await client.initialize()
        emulator.faults.set(DEMO_ACCOUNT_KEY, bandwidth=20_000)
        with pytest.raises(RequestTimeout):
            await client.get_patient_order_list(ADA_UUID, [])


async def test_throttle_accounts_for_every_byte() -> None:
    registry = FaultRegistry()
    await registry.throttle(DEMO_ACCOUNT_KEY, 10_000)
    registry.set(DEMO_ACCOUNT_KEY, bandwidth=1e9)
    await registry.throttle(DEMO_ACCOUNT_KEY, 1_000)
    await registry.throttle(DEMO_ACCOUNT_KEY, 1_000)
    entry = registry._accounts[DEMO_ACCOUNT_KEY]
    assert entry.bandwidth_free_at > 0


# --- per account ---------------------------------------------------------------------------------


async def test_faults_touch_only_their_account(emulator: PostDicomEmulator) -> None:
    other = demo_account(orders=False)
    other.key, other.api_key = OTHER_ACCOUNT_KEY, OTHER_API_KEY
    emulator.state.add_account(other)
    emulator.faults.set(OTHER_ACCOUNT_KEY, error_rate=1.0)
    async with (
        client_for(emulator) as demo,
        PostDicomClient(
            OTHER_API_KEY, OTHER_ACCOUNT_KEY, router_url=emulator.router_url, timeout=10
        ) as victim,
    ):
        await demo.initialize()
        await victim.initialize()
        assert len(await demo.get_user_list(ADA_UUID)) == 3
        with pytest.raises(ApiError, match="injected"):
            await victim.get_user_list(ADA_UUID)


# --- plans ---------------------------------------------------------------------------------------


def test_fault_targets_read_numbers_names_and_pairs() -> None:
    assert parse_target(31) == (17, 31)
    assert parse_target("31") == (17, 31)
    assert parse_target("set_flag_to_patient_order") == (17, 31)
    assert parse_target("23:3") == (23, 3)
    assert parse_target("23:PROCESS_DOCUMENTS") == (23, 4)
    assert parse_target("3:CREATE_API_SESSION") == (3, 4)
    assert parse_target([23, 2]) == (23, 2)
    for bad in ("NOPE", True, 1.5, "23:NOPE"):
        with pytest.raises(FaultConfigError):
            parse_target(bad)


def test_fault_plans_refuse_impossible_settings() -> None:
    for settings in (
        {"latency": -1},
        {"error_rate": 1.5},
        {"drop_after_frames": -1},
        {"session_ttl": -2},
        {"bandwidth": 0},
    ):
        with pytest.raises(FaultConfigError):
            FaultPlan.from_json(settings)
    with pytest.raises(FaultConfigError, match="unknown"):
        FaultPlan.from_json({"speed": 1})
    with pytest.raises(FaultConfigError):
        FaultPlan.from_json({"error_targets": "1"})
    plan = FaultPlan.from_json({"error_rate": 0.25, "error_targets": ["1", "23:3"]})
    assert plan.error_targets == frozenset({(17, 1), (23, 3)})
    assert FaultPlan.from_json(plan.as_json()) == plan
    assert not FaultPlan().active
    assert plan.active


def test_session_frames_fail_only_when_named() -> None:
    registry = FaultRegistry()
    registry.set(DEMO_ACCOUNT_KEY, error_rate=1.0)
    assert not registry.should_fail(DEMO_ACCOUNT_KEY, MessageType.SESSION_MANAGEMENT_REQUEST, 4)
    assert registry.should_fail(DEMO_ACCOUNT_KEY, MessageType.GENERAL_REQUEST, 1)
    registry.set(DEMO_ACCOUNT_KEY, error_targets=["3:CREATE_API_SESSION"])
    assert registry.should_fail(DEMO_ACCOUNT_KEY, MessageType.SESSION_MANAGEMENT_REQUEST, 4)
    assert not registry.should_fail(DEMO_ACCOUNT_KEY, MessageType.GENERAL_REQUEST, 1)
