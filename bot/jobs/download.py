"""Download a Slack file with the bot token, streamed to disk, hashed and sniffed on the way.

Slack answers a download it will not serve with its HTML sign-in page (status 200), so the first
bytes are sniffed and a page is refused at once. Redirects are followed by hand: the token goes
only to the origin it was meant for (aiohttp would also drop it, but an explicit rule is easier to
trust), and never over plain HTTP to another host. Rate limits, server errors and broken
connections are retried with backoff, each time from the start (Slack's file host promises no
ranges). Memory holds one chunk at a time whatever the file size.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import aiohttp
from yarl import URL

from bot.dicom import SNIFF_BYTES, looks_like_html
from bot.jobs.errors import JobError, Rejected

logger = logging.getLogger(__name__)

_CHUNK = 1024 * 1024
_WRITE_BATCH = 4 * 1024 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})

ProgressFn = Callable[[int, int], Awaitable[None] | None]
WrittenFn = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class DownloadPolicy:
    """Limits and patience for downloads."""

    max_bytes: int
    attempts: int = 4
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_redirects: int = 3
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 30.0


@dataclass(frozen=True, slots=True)
class Downloaded:
    """A file on disk, with what was learned while it came."""

    path: Path
    size: int
    sha256: str
    head: bytes
    content_type: str


class _Retry(Exception):
    def __init__(self, reason: str, delay: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.delay = delay


def too_large(size: int, limit: int) -> Rejected:
    """Return the rejection for a file over the download limit."""
    return Rejected(
        f"it is {size / 2**20:,.0f} MB, over this app's {limit / 2**20:,.0f} MB limit; "
        "upload it to PostDICOM directly",
        code="download.too_large",
    )


def sign_in_page() -> Rejected:
    """Return the rejection for an HTML page where a file was expected."""
    return Rejected(
        "Slack sent its sign-in page instead of the file: the app may lack the files:read permission "
        "or access to this conversation. An admin can reinstall the app to fix it.",
        code="download.html",
    )


async def download(
    session: aiohttp.ClientSession,
    url: str,
    token: str,
    destination: Path,
    *,
    policy: DownloadPolicy,
    expected_size: int | None = None,
    html_expected: bool = False,
    progress: ProgressFn | None = None,
    written: WrittenFn | None = None,
) -> Downloaded:
    """Download ``url`` to ``destination`` with the bot token; raise JobError on failure.

    ``progress`` hears of bytes received, ``written`` of how many are on disk, in order.
    """
    if expected_size is not None and expected_size > policy.max_bytes:
        raise too_large(expected_size, policy.max_bytes)
    attempt = 0
    while True:
        attempt += 1
        try:
            return await _attempt(
                session, url, token, destination, policy, expected_size, html_expected, progress, written
            )
        except _Retry as retry:
            if attempt >= policy.attempts:
                raise JobError(
                    f"Slack's file server kept failing ({retry.reason}); I will try again later.",
                    code="download.unavailable",
                    retryable=True,
                ) from None
            backoff = min(policy.backoff_seconds * 2 ** (attempt - 1), policy.max_backoff_seconds)
            delay = retry.delay if retry.delay is not None else backoff * (1 + random.random() / 4)  # noqa: S311 - jitter
            logger.info("download attempt %d failed (%s); retrying in %.1f s", attempt, retry.reason, delay)
            await asyncio.sleep(min(delay, policy.max_backoff_seconds * 2))


async def _attempt(
    session: aiohttp.ClientSession,
    url: str,
    token: str,
    destination: Path,
    policy: DownloadPolicy,
    expected_size: int | None,
    html_expected: bool,
    progress: ProgressFn | None,
    written: WrittenFn | None,
) -> Downloaded:
    timeout = aiohttp.ClientTimeout(
        total=None, sock_connect=policy.connect_timeout, sock_read=policy.read_timeout
    )
    target = URL(url)
    origin = target.origin()
    for _hop in range(policy.max_redirects + 1):
        if target.scheme not in ("https", "http"):
            raise JobError(
                "Slack gave a download link I cannot follow.", code="download.bad_url", retryable=False
            )
        # The token is Slack's: it goes to the origin the link named, never to a host a redirect picked.
        headers = {"Authorization": f"Bearer {token}"} if target.origin() == origin else {}
        try:
            async with session.get(
                target, headers=headers, allow_redirects=False, timeout=timeout
            ) as response:
                if response.status in _REDIRECTS:
                    location = response.headers.get("Location")
                    if not location:
                        raise _Retry(f"redirect without a location (HTTP {response.status})")
                    following = target.join(URL(location))
                    if following.scheme == "http" and target.scheme == "https":
                        raise JobError(
                            "Slack redirected the download to an insecure address; I did not follow it.",
                            code="download.insecure_redirect",
                            retryable=False,
                        )
                    target = following
                    continue
                return await _receive(
                    response, destination, policy, expected_size, html_expected, progress, written
                )
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, TimeoutError) as error:
            raise _Retry(type(error).__name__) from None
    raise JobError("Slack redirected the download too many times.", code="download.redirects", retryable=True)


async def _receive(
    response: aiohttp.ClientResponse,
    destination: Path,
    policy: DownloadPolicy,
    expected_size: int | None,
    html_expected: bool,
    progress: ProgressFn | None,
    written: WrittenFn | None,
) -> Downloaded:
    if response.status in _RETRYABLE_STATUS:
        raise _Retry(f"HTTP {response.status}", _retry_after(response))
    if response.status in (403, 404, 410):
        raise JobError(
            "Slack no longer gives this file out (it may have been deleted or made private).",
            code="download.gone",
            retryable=False,
        )
    if response.status != 200:
        raise _Retry(f"HTTP {response.status}")
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type == "text/html" and not html_expected:
        raise sign_in_page()
    declared = response.content_length
    if declared is not None and declared > policy.max_bytes:
        raise too_large(declared, policy.max_bytes)
    total = declared or expected_size or 0
    digest = hashlib.sha256()
    head = bytearray()
    size = 0
    batch: list[bytes] = []
    batch_size = 0
    # One batch is written (and hashed) in a worker thread while the next one arrives, so the
    # download goes at the pace of the slower of network and disk rather than of the two in turn.
    writing: asyncio.Future[None] | None = None
    handle = await asyncio.to_thread(destination.open, "wb")
    if written is not None:
        # The file starts again from nothing (on a retry too): whoever follows it must know.
        written(0)
    try:
        async for chunk in response.content.iter_chunked(_CHUNK):
            size += len(chunk)
            if size > policy.max_bytes:
                raise too_large(size, policy.max_bytes)
            if len(head) < SNIFF_BYTES:
                head += chunk[: SNIFF_BYTES - len(head)]
                if len(head) >= SNIFF_BYTES and not html_expected and looks_like_html(bytes(head)):
                    raise sign_in_page()
            batch.append(chunk)
            batch_size += len(chunk)
            if batch_size >= _WRITE_BATCH:
                if writing is not None:
                    await writing
                writing = asyncio.ensure_future(asyncio.to_thread(_write, handle, digest, batch))
                if written is not None:
                    writing.add_done_callback(_on_disk(written, size))
                batch, batch_size = [], 0
                if progress is not None:
                    await _call(progress, size, total)
        if writing is not None:
            await writing
        if batch:
            await asyncio.to_thread(_write, handle, digest, batch)
        if written is not None:
            written(size)
    finally:
        if writing is not None:
            # The handle must not close under a write in progress. When the download failed, the
            # write's own outcome no longer matters; it is retrieved so that nothing warns of it.
            await asyncio.wait([writing])
            if not writing.cancelled():
                writing.exception()
        await asyncio.to_thread(handle.close)
    if declared is not None and size != declared:
        raise _Retry("the download ended early")
    if not html_expected and looks_like_html(bytes(head)):
        raise sign_in_page()
    if progress is not None:
        await _call(progress, size, total or size)
    return Downloaded(destination, size, digest.hexdigest(), bytes(head), content_type)


def _on_disk(written: WrittenFn, size: int) -> Callable[[asyncio.Future[None]], None]:
    def done(write: asyncio.Future[None]) -> None:
        if not write.cancelled() and write.exception() is None:
            written(size)

    return done


def _write(handle: BinaryIO, digest: hashlib._Hash, chunks: list[bytes]) -> None:
    for chunk in chunks:
        digest.update(chunk)
        handle.write(chunk)
    # Whoever reads the file while it downloads must see every byte reported as written.
    handle.flush()


async def _call(progress: ProgressFn, done: int, total: int) -> None:
    outcome = progress(done, total)
    if outcome is not None:
        await outcome


def _retry_after(response: aiohttp.ClientResponse) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
