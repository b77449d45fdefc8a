"""What the app asked of the local Slack (the call log), and the failures tests ask it to inject."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

# Calls to the file host and to response_urls are logged under these names beside Web API methods.
FILE_DOWNLOAD = "file_download"
RESPONSE_URL = "response_url"


@dataclass(frozen=True)
class CallRecord:
    """One request the stub answered."""

    method: str
    http_method: str
    params: Mapping[str, Any]
    token: str | None
    at: float
    status: int
    error: str | None

    @property
    def ok(self) -> bool:
        """Tell whether the call succeeded (HTTP 200 and no Slack error)."""
        return self.status == 200 and self.error is None


class CallLog:
    """Every call the stub answered, oldest first, with helpers for assertions."""

    def __init__(self) -> None:
        self._records: list[CallRecord] = []

    def __iter__(self) -> Iterator[CallRecord]:
        return iter(list(self._records))

    def __len__(self) -> int:
        return len(self._records)

    def append(self, record: CallRecord) -> None:
        """Record one answered call."""
        self._records.append(record)

    def of(self, method: str) -> list[CallRecord]:
        """List the calls to one method (or ``file_download`` / ``response_url``)."""
        return [record for record in self._records if record.method == method]

    def count(self, method: str) -> int:
        """Count the calls to one method."""
        return len(self.of(method))

    def counts(self) -> Counter[str]:
        """Count the calls per method."""
        return Counter(record.method for record in self._records)

    def last(self, method: str) -> CallRecord:
        """Return the latest call to one method; raise LookupError when there was none."""
        calls = self.of(method)
        if not calls:
            raise LookupError(f"{method} was never called")
        return calls[-1]

    def clear(self) -> None:
        """Forget every recorded call."""
        self._records.clear()


FaultKind = Literal["rate_limited", "server_error", "api_error", "cut"]


@dataclass
class Fault:
    """A failure to inject into the next ``remaining`` calls of one method."""

    kind: FaultKind
    remaining: int
    retry_after_seconds: int = 1
    status: int = 500
    error: str = ""
    after_bytes: int = 0


class FaultPlan:
    """Failures queued per method: 429 with ``Retry-After``, 5xx, a Slack error code, a cut download."""

    def __init__(self) -> None:
        self._faults: dict[str, list[Fault]] = {}

    def rate_limit(self, method: str, *, times: int = 1, retry_after_seconds: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with 429 and ``Retry-After``."""
        self._add(method, Fault("rate_limited", times, retry_after_seconds=retry_after_seconds))

    def server_error(self, method: str, *, times: int = 1, status: int = 500) -> None:
        """Answer the next ``times`` calls of ``method`` with an HTTP 5xx."""
        if not 500 <= status <= 599:
            raise ValueError(f"{status} is not a server error status")
        self._add(method, Fault("server_error", times, status=status))

    def api_error(self, method: str, error: str, *, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with ``{"ok": false, "error": error}``."""
        self._add(method, Fault("api_error", times, error=error))

    def cut_download(self, *, after_bytes: int, times: int = 1) -> None:
        """Drop the connection of the next ``times`` file downloads after ``after_bytes`` bytes of the body."""
        if after_bytes < 0:
            raise ValueError("after_bytes cannot be negative")
        self._add(FILE_DOWNLOAD, Fault("cut", times, after_bytes=after_bytes))

    def take(self, method: str) -> Fault | None:
        """Consume one injected failure for ``method``, if any is queued."""
        queue = self._faults.get(method, [])
        if not queue:
            return None
        fault = queue[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            queue.pop(0)
        return fault

    def clear(self) -> None:
        """Drop every queued failure."""
        self._faults.clear()

    def _add(self, method: str, fault: Fault) -> None:
        if fault.remaining < 1:
            raise ValueError("a fault must apply at least once")
        self._faults.setdefault(method, []).append(fault)
