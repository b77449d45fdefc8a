"""Acks first: work that follows an ack waits, briefly, until every request Slack is waiting on is answered.

Slack retries what is not acked within three seconds, and a burst of commands arrives together:
if each handler went straight on to its database reads and PostDICOM calls after its own ack, the
acks of the requests behind it would queue behind that work on the one event loop. Work instead
waits until no request is left unanswered, or ``at_most`` seconds under a steady stream.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

ACKS_FIRST_SECONDS = 0.25
"""The longest that work waits for other requests' acks (under a steady stream of requests)."""


class PendingAcks:
    """Count the Slack requests being answered; let work wait until there are none."""

    def __init__(self) -> None:
        self._pending = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def pending(self) -> int:
        """Return how many requests are still waiting for their answer."""
        return self._pending

    @contextlib.contextmanager
    def answering(self) -> Iterator[None]:
        """Count one request from its arrival until its answer is handed back."""
        self._pending += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._pending -= 1
            if self._pending == 0:
                self._idle.set()

    async def settled(self, at_most: float = ACKS_FIRST_SECONDS) -> None:
        """Wait until no request is waiting for its answer, or ``at_most`` seconds."""
        if self._pending == 0:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(at_most):
                await self._idle.wait()
