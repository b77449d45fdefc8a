"""The PostDICOM client's observer hook: answered requests with their time, failures with their kind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydicom.data import get_testdata_file

from bot.postdicom import ApiError, PostDicomClient, PostDicomError, RequestTimeout
from bot.postdicom.transport import set_default_observer
from bot.sandbox.postdicom import DEMO_ACCOUNT_KEY, DEMO_API_KEY, PostDicomEmulator
from bot.sandbox.postdicom.seed import ADA_UUID, MAIN_INSTITUTION_UUID


class Observer:
    def __init__(self) -> None:
        self.answers: list[tuple[str, float]] = []
        self.failures: list[tuple[str, str]] = []
        self.uploads: list[int] = []

    def answered(self, operation: str, seconds: float) -> None:
        self.answers.append((operation, seconds))

    def failed(self, operation: str, error: PostDicomError) -> None:
        self.failures.append((operation, type(error).__name__))

    def uploaded(self, byte_count: int) -> None:
        self.uploads.append(byte_count)


@pytest.fixture
def default_observer() -> Iterator[Observer]:
    observer = Observer()
    set_default_observer(observer)
    yield observer
    set_default_observer(None)


async def test_a_client_reports_its_answers_and_refusals(emulator: PostDicomEmulator) -> None:
    observer = Observer()
    async with PostDicomClient(
        DEMO_API_KEY, DEMO_ACCOUNT_KEY, router_url=emulator.router_url, timeout=0.5, observer=observer
    ) as client:
        await client.initialize()
        await client.get_user_list(ADA_UUID)
        emulator.faults.set(DEMO_ACCOUNT_KEY, error_rate=1.0)
        with pytest.raises(ApiError):
            await client.get_user_list(ADA_UUID)
        emulator.faults.set(DEMO_ACCOUNT_KEY, error_rate=0.0, latency=2.0)
        with pytest.raises(RequestTimeout):
            await client.get_user_list(ADA_UUID)
    assert [operation for operation, _ in observer.answers] == ["Initialize", "GetUserList", "GetUserList"]
    assert all(seconds >= 0 for _, seconds in observer.answers)
    assert observer.failures == [("GetUserList", "ApiError"), ("GetUserList", "RequestTimeout")]


async def test_clients_without_their_own_observer_report_to_the_default(
    emulator: PostDicomEmulator, default_observer: Observer
) -> None:
    async with PostDicomClient("not-a-guid", DEMO_ACCOUNT_KEY, router_url=emulator.router_url) as client:
        with pytest.raises(PostDicomError):
            await client.initialize()
    async with PostDicomClient(
        DEMO_API_KEY.replace("0f0f", "1e1e"), DEMO_ACCOUNT_KEY, router_url=emulator.router_url
    ) as client:
        with pytest.raises(PostDicomError):
            await client.initialize()
    async with PostDicomClient(DEMO_API_KEY, DEMO_ACCOUNT_KEY, router_url=emulator.router_url) as client:
        await client.initialize()
    assert [operation for operation, _ in default_observer.answers] == ["Initialize"]
    # The malformed key never left the client: only the refused one is a failed request.
    assert [kind for _, kind in default_observer.failures] == ["AuthenticationError"]


async def test_bytes_sent_on_upload_sockets_are_reported(emulator: PostDicomEmulator) -> None:
    dicom = Path(get_testdata_file("rtplan.dcm"))  # type: ignore[arg-type]
    size = len(dicom.read_bytes())  # noqa: ASYNC240 - a small test file
    observer = Observer()
    async with PostDicomClient(
        DEMO_API_KEY, DEMO_ACCOUNT_KEY, router_url=emulator.router_url, observer=observer
    ) as client:
        await client.initialize()
        result = await client.upload_dicom_files(ADA_UUID, MAIN_INSTITUTION_UUID, [dicom])
    assert result.files_sent == (0,)
    # Every byte of the file left, plus the frames' own headers.
    assert size <= sum(observer.uploads) < size + 64 * 1024
