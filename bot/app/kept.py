"""Things a handler keeps for a while in this replica's memory, under a key: a bounded, expiring map.

Used for what Slack cannot carry and the database need not: an answer no surface took (to offer
again), and modal context too big for a view's 3,000-character ``private_metadata``. A replica
that restarts, or a request that lands on another replica, finds nothing and says so.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass
class Kept(Generic[T]):
    """A map from key to value whose entries expire after ``ttl_seconds``; the oldest go first when full."""

    ttl_seconds: float = 30 * 60.0
    max_entries: int = 1000
    clock: Callable[[], float] = field(default=time.monotonic)
    _entries: dict[str, tuple[T, float]] = field(default_factory=dict)

    def keep(self, key: str, value: T) -> None:
        """Keep a value under a key."""
        self._drop_expired()
        self._entries.pop(key, None)
        if len(self._entries) >= self.max_entries:
            self._entries.pop(next(iter(self._entries)))
        self._entries[key] = (value, self.clock() + self.ttl_seconds)

    def add(self, value: T) -> str:
        """Keep a value under a new random key, and return the key."""
        key = secrets.token_urlsafe(12)
        self.keep(key, value)
        return key

    def peek(self, key: str) -> T | None:
        """Return the value kept under a key, unless it expired."""
        self._drop_expired()
        entry = self._entries.get(key)
        return entry[0] if entry is not None else None

    def forget(self, key: str) -> None:
        """Drop the value kept under a key."""
        self._entries.pop(key, None)

    def __len__(self) -> int:
        self._drop_expired()
        return len(self._entries)

    def _drop_expired(self) -> None:
        now = self.clock()
        for key in [key for key, (_, until) in self._entries.items() if until <= now]:
            del self._entries[key]
