"""The Slack download: streamed and hashed, the token kept to its origin, HTML and oversize refused,
rate limits and server errors retried."""

from __future__ import annotations

import contextlib
import hashlib
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.jobs import DownloadPolicy, JobError, Rejected, download
from tests.dicom.samples import CT_SMALL, LOGIN_PAGE

TOKEN = "xoxb-test-token"
POLICY = DownloadPolicy(max_bytes=10 * 1024 * 1024, attempts=3, backoff_seconds=0.01)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Host:
    """A file host whose answers each test scripts; it records the Authorization header it saw."""

    def __init__(self) -> None:
        self.handlers: list[Handler] = []
        self.seen: list[str | None] = []
        self.server: TestServer | None = None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append(request.headers.get("Authorization"))
        handler = self.handlers.pop(0) if len(self.handlers) > 1 else self.handlers[0]
        return await handler(request)

    def url(self, path: str = "/file") -> str:
        assert self.server is not None
        return str(self.server.make_url(path))


@contextlib.asynccontextmanager
async def scripted_host() -> AsyncIterator[Host]:
    scripted = Host()
    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", scripted.handle)
    async with TestServer(app) as server:
        scripted.server = server
        yield scripted


@pytest.fixture
async def host() -> AsyncIterator[Host]:
    async with scripted_host() as scripted:
        yield scripted


@pytest.fixture
async def other_host() -> AsyncIterator[Host]:
    async with scripted_host() as scripted:
        yield scripted


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def serve(body: bytes, content_type: str = "application/octet-stream", status: int = 200) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        del request
        return web.Response(body=body, content_type=content_type, status=status)

    return handler


def stream_without_length(chunk: bytes, *, times: int) -> Handler:
    """Serve ``chunk`` ``times`` over, with no Content-Length: the size is known only by reading."""

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        for _ in range(times):
            await response.write(chunk)
        return response

    return handler


async def test_a_file_streams_to_disk_with_its_hash_and_head(
    host: Host, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    data = CT_SMALL.read_bytes()
    host.handlers = [serve(data)]
    ticks: list[tuple[int, int]] = []

    got = await download(
        session,
        host.url(),
        TOKEN,
        tmp_path / "f",
        policy=POLICY,
        progress=lambda done, total: ticks.append((done, total)),
    )

    assert (tmp_path / "f").read_bytes() == data
    assert got.sha256 == hashlib.sha256(data).hexdigest()
    assert got.head[128:132] == b"DICM"
    assert host.seen == [f"Bearer {TOKEN}"]
    assert ticks[-1] == (len(data), len(data))


async def test_a_redirect_on_the_same_host_keeps_the_token(
    host: Host, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    async def moved(request: web.Request) -> web.StreamResponse:
        del request
        raise web.HTTPFound("/elsewhere")

    host.handlers = [moved, serve(b"payload")]
    await download(session, host.url(), TOKEN, tmp_path / "f", policy=POLICY)
    assert host.seen == [f"Bearer {TOKEN}", f"Bearer {TOKEN}"]


async def test_a_redirect_to_another_host_never_carries_the_token(
    host: Host, other_host: Host, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    async def away(request: web.Request) -> web.StreamResponse:
        del request
        raise web.HTTPFound(other_host.url("/signed"))

    host.handlers = [away]
    other_host.handlers = [serve(b"from the cdn")]
    await download(session, host.url(), TOKEN, tmp_path / "f", policy=POLICY)
    assert host.seen == [f"Bearer {TOKEN}"]
    assert other_host.seen == [None]
    assert (tmp_path / "f").read_bytes() == b"from the cdn"


@pytest.mark.parametrize("content_type", ["text/html", "application/octet-stream"])
async def test_slacks_sign_in_page_is_refused(
    host: Host, session: aiohttp.ClientSession, tmp_path: Path, content_type: str
) -> None:
    host.handlers = [serve(LOGIN_PAGE, content_type)]
    with pytest.raises(Rejected) as caught:
        await download(session, host.url(), TOKEN, tmp_path / "f", policy=POLICY)
    assert caught.value.code == "download.html"


async def test_an_html_file_is_fine_when_slack_says_it_is_html(
    host: Host, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    host.handlers = [serve(LOGIN_PAGE, "text/html")]
    got = await download(session, host.url(), TOKEN, tmp_path / "f", policy=POLICY, html_expected=True)
    assert got.size == len(LOGIN_PAGE)


async def test_a_declared_size_over_the_limit_is_refused_before_reading(
    host: Host, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    host.handlers = [serve(b"x" * 2048)]
    small = DownloadPolicy(max_bytes=1024)
    with pytest.raises(Rejected) as caught:
        await download(session, host.url(), TOKEN, tmp_path / "f", policy=small)
    assert caught.value.code == "download.too_large"
    with pytest.raises(Rejected):
        await download(session, host.url(), TOKEN, tmp_path / "f", policy=small, expected_size=4096)


async def test_a_streamed_body_over_the_limit_is_cut_off(
    host: Host, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    host.handlers = [stream_without_length(b"\x00" * 65536, times=64)]
    with pytest.raises(Rejected) as caught:
        await download(
            session, host.url(), TOKEN, tmp_path / "f", policy=DownloadPolicy(max_bytes=1024 * 1024)
        )
    assert caught.value.code == "download.too_large"


async def test_rate_limits_and_server_errors_are_retried(
    host: Host, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    async def limited(request: web.Request) -> web.StreamResponse:
        del request
        return web.Response(status=429, headers={"Retry-After": "0"})

    host.handlers = [limited, serve(b"", status=503), serve(b"finally")]
    got = await download(session, host.url(), TOKEN, tmp_path / "f", policy=POLICY)
    assert got.size == len(b"finally")
    assert len(host.seen) == 3


async def test_a_host_that_keeps_failing_is_a_retryable_error(
    host: Host, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    host.handlers = [serve(b"", status=502)]
    with pytest.raises(JobError) as caught:
        await download(session, host.url(), TOKEN, tmp_path / "f", policy=POLICY)
    assert caught.value.retryable
    assert len(host.seen) == POLICY.attempts


async def test_a_missing_file_is_not_retried(
    host: Host, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    host.handlers = [serve(b"", status=404)]
    with pytest.raises(JobError) as caught:
        await download(session, host.url(), TOKEN, tmp_path / "f", policy=POLICY)
    assert not caught.value.retryable
    assert len(host.seen) == 1


async def test_a_connection_cut_mid_body_is_retried(
    host: Host, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    async def cut(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": "100000"})
        await response.prepare(request)
        await response.write(b"\x01" * 1000)
        assert request.transport is not None
        request.transport.close()
        return response

    host.handlers = [cut, serve(b"\x01" * 5000)]
    got = await download(session, host.url(), TOKEN, tmp_path / "f", policy=POLICY)
    assert got.size == 5000


async def test_a_file_of_many_write_batches_lands_whole_and_in_order(
    host: Host, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    # Batches are written while the next ones arrive; the file and its hash must not notice.
    data = random.Random(6).randbytes(21 * 1024 * 1024 + 123)
    host.handlers = [serve(data)]

    policy = DownloadPolicy(max_bytes=len(data))
    got = await download(session, host.url(), TOKEN, tmp_path / "f", policy=policy)

    assert (tmp_path / "f").read_bytes() == data
    assert (got.size, got.sha256) == (len(data), hashlib.sha256(data).hexdigest())


async def test_a_body_cut_off_while_a_batch_is_being_written_leaves_no_write_behind(
    host: Host, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    host.handlers = [stream_without_length(b"\x01" * 262144, times=96)]
    limit = 9 * 1024 * 1024
    with pytest.raises(Rejected):
        await download(session, host.url(), TOKEN, tmp_path / "f", policy=DownloadPolicy(max_bytes=limit))
    # Whatever was written was written before the file closed, and nothing beyond the limit.
    assert (tmp_path / "f").stat().st_size <= limit


async def test_whoever_follows_the_file_hears_what_is_on_disk_and_when_it_starts_again(
    host: Host, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    data = random.Random(7).randbytes(9 * 1024 * 1024 + 5)

    async def cut(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": str(len(data))})
        await response.prepare(request)
        await response.write(data[: 6 * 1024 * 1024])
        assert request.transport is not None
        request.transport.close()
        return response

    host.handlers = [cut, serve(data)]
    reports: list[int] = []
    on_disk: list[int] = []

    def written(size: int) -> None:
        reports.append(size)
        # Every byte reported is on disk already, readable by another handle.
        on_disk.append(len((tmp_path / "f").read_bytes()))

    await download(
        session,
        host.url(),
        TOKEN,
        tmp_path / "f",
        policy=DownloadPolicy(max_bytes=len(data)),
        written=written,
    )

    restarts = [index for index, size in enumerate(reports) if size == 0]
    assert len(restarts) == 2  # once per attempt
    assert reports[-1] == len(data)
    assert all(size <= disk for size, disk in zip(reports, on_disk, strict=True))
    second = reports[restarts[1] :]
    assert second == sorted(second)
