"""Where a job is, as a person watching its message sees it, and updates throttled to one a second."""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)

MIN_UPDATE_INTERVAL = 1.0
"""Seconds between two progress updates of one message (Slack allows about one edit a second)."""


class Phase(enum.StrEnum):
    """The stages a person sees."""

    QUEUED = "queued"
    DOWNLOADING = "downloading"
    CHECKING = "checking"
    UPLOADING = "uploading"
    RETRYING = "retrying"


@dataclass(frozen=True, slots=True)
class Progress:
    """A snapshot of a job's progress; counts are zero until known."""

    phase: Phase
    bytes_done: int = 0
    bytes_total: int = 0
    files_done: int = 0
    files_total: int = 0
    note: str = ""

    @property
    def percent(self) -> int | None:
        """Return the byte progress in percent, or None when the total is unknown."""
        if self.bytes_total <= 0:
            return None
        return max(0, min(100, int(100 * self.bytes_done / self.bytes_total)))


class Throttle:
    """Pass progress on at most once per interval, always ending with the latest one.

    ``push`` never waits for a slow update: while one is in flight or too recent, the newest
    progress waits and replaces older ones. ``close`` cancels what is waiting and waits for an
    update in flight, so a final message sent afterwards cannot be overwritten by a stale one.
    """

    def __init__(
        self,
        send: Callable[[Progress], Awaitable[None]],
        *,
        interval: float = MIN_UPDATE_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._send = send
        self._interval = interval
        self._clock = clock
        self._pending: Progress | None = None
        self._last_sent = float("-inf")
        self._task: asyncio.Task[None] | None = None
        self._sending = False
        self._closed = False

    def push(self, progress: Progress) -> None:
        """Offer the latest progress; it is sent now, or as soon as the interval allows."""
        if self._closed:
            return
        self._pending = progress
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._flush(), name="progress-update")

    async def _flush(self) -> None:
        while self._pending is not None:
            wait = self._last_sent + self._interval - self._clock()
            if wait > 0:
                await asyncio.sleep(wait)
            progress, self._pending = self._pending, None
            if progress is None:
                return
            self._last_sent = self._clock()
            self._sending = True
            try:
                await self._send(progress)
            except Exception as error:
                # Progress is a courtesy: a failed edit must not fail the upload it describes.
                logger.warning("a progress update failed (%s)", type(error).__name__)
            finally:
                self._sending = False

    async def close(self) -> None:
        """Stop: drop what waits, and let an update already being sent finish."""
        self._closed = True
        self._pending = None
        task, self._task = self._task, None
        if task is None or task.done():
            return
        if not self._sending:
            task.cancel()
        await asyncio.wait([task])
