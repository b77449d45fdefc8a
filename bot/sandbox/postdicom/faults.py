"""Misbehaviour on demand, per account: latency, error replies, dropped sockets, expiry, bandwidth.

A :class:`FaultPlan` says what one account suffers; the :class:`FaultRegistry` holds the plans and
the little state they need (a seeded random generator, per-account counters and clocks). The
server asks the registry at fixed points of handling a frame; nothing here does I/O.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from bot.postdicom.frames import (
    FileUploadManagementType,
    GeneralManagementType,
    MessageType,
    SessionManagementType,
)

INJECTED_ERROR_MESSAGE = "Internal server error (injected by the emulator)."
UPLOAD_PARTS = frozenset({FileUploadManagementType.PROCESS_FILE, FileUploadManagementType.PROCESS_DOCUMENTS})


class FaultConfigError(ValueError):
    """A fault plan asked for something impossible (a negative delay, a rate above 1)."""


def parse_target(value: object) -> tuple[int, int]:
    """Read a management type to fail: ``31``, ``"SET_FLAG_TO_PATIENT_ORDER"``, ``"23:3"``, ``"23:PROCESS_FILE"``."""
    # A bare number or name is a general request (MessageType 17); "T:M" names the message type too.
    if isinstance(value, bool):
        raise FaultConfigError(f"not a management type: {value!r}")
    if isinstance(value, int):
        return MessageType.GENERAL_REQUEST, value
    if isinstance(value, list | tuple) and len(value) == 2:
        return parse_target(f"{value[0]}:{value[1]}")
    if not isinstance(value, str):
        raise FaultConfigError(f"not a management type: {value!r}")
    message_type, _, name = value.strip().rpartition(":")
    kind = int(message_type) if message_type else MessageType.GENERAL_REQUEST
    names: dict[int, type[GeneralManagementType | FileUploadManagementType | SessionManagementType]] = {
        MessageType.GENERAL_REQUEST: GeneralManagementType,
        MessageType.FILE_UPLOAD_REQUEST: FileUploadManagementType,
        MessageType.SESSION_MANAGEMENT_REQUEST: SessionManagementType,
    }
    enum_type = names.get(kind, GeneralManagementType)
    if name.lstrip("-").isdigit():
        return kind, int(name)
    try:
        return kind, int(enum_type[name.upper()])
    except KeyError:
        raise FaultConfigError(f"unknown management type {value!r}") from None


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """What one account suffers. The defaults are a well-behaved PostDICOM.

    * ``latency``: seconds added before every reply; ``latency_jitter`` adds a random 0..jitter more.
    * ``error_rate`` (0..1) of requests whose (MessageType, ManagementType) is in ``error_targets``
      (all general and upload requests when empty) get ``ResponseCode 0`` and ``error_message``.
    * ``drop_after_frames``: each socket is closed, unanswered, when it receives frame N+1.
    * ``drop_upload_after_parts``: once the account has had N upload parts answered, the socket
      carrying the next part is closed unanswered; the fault then disarms itself.
    * ``session_ttl``: API sessions older than this many seconds are refused (and, with
      ``expiry_closes_socket``, their socket is closed instead of answered).
    * ``bandwidth``: bytes per second shared by every socket of the account, both ways.
    """

    latency: float = 0.0
    latency_jitter: float = 0.0
    error_rate: float = 0.0
    error_targets: frozenset[tuple[int, int]] = frozenset()
    error_message: str = INJECTED_ERROR_MESSAGE
    drop_after_frames: int | None = None
    drop_upload_after_parts: int | None = None
    session_ttl: float | None = None
    expiry_closes_socket: bool = False
    bandwidth: float | None = None

    def __post_init__(self) -> None:
        if self.latency < 0 or self.latency_jitter < 0:
            raise FaultConfigError("latency cannot be negative")
        if not 0 <= self.error_rate <= 1:
            raise FaultConfigError("error_rate must lie between 0 and 1")
        for name in ("drop_after_frames", "drop_upload_after_parts"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise FaultConfigError(f"{name} cannot be negative")
        if self.session_ttl is not None and self.session_ttl < 0:
            raise FaultConfigError("session_ttl cannot be negative")
        if self.bandwidth is not None and self.bandwidth <= 0:
            raise FaultConfigError("bandwidth must be positive")

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FaultPlan:
        """Build a plan from the admin API's JSON (the field names above; targets as parse_target reads)."""
        known = {item.name for item in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise FaultConfigError(f"unknown fault settings: {', '.join(sorted(unknown))}")
        values = dict(data)
        if "error_targets" in values:
            targets = values["error_targets"] or []
            if not isinstance(targets, list):
                raise FaultConfigError("error_targets must be a list")
            values["error_targets"] = frozenset(parse_target(item) for item in targets)
        try:
            return cls(**values)
        except TypeError as error:
            raise FaultConfigError(str(error)) from None

    def as_json(self) -> dict[str, Any]:
        """Return the plan as the admin API shows it."""
        data = {item.name: getattr(self, item.name) for item in fields(self)}
        data["error_targets"] = [f"{kind}:{number}" for kind, number in sorted(self.error_targets)]
        return data

    @property
    def active(self) -> bool:
        """Tell whether the plan changes anything."""
        return self != FaultPlan()


@dataclass(slots=True)
class _AccountFaults:
    plan: FaultPlan
    parts_answered: int = 0
    bandwidth_free_at: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class FaultRegistry:
    """Fault plans by account key, with a seeded random generator so runs repeat."""

    def __init__(self, seed: int = 0) -> None:
        # Reproducible fault timing, not security: a seeded generator is the point.
        self._random = random.Random(seed)  # noqa: S311
        self._accounts: dict[str, _AccountFaults] = {}
        self.injected_errors = 0
        self.dropped_sockets = 0

    def set(self, account_key: str, plan: FaultPlan | None = None, **changes: Any) -> FaultPlan:
        """Give an account a plan, or change some fields of its current one; return the new plan."""
        key = account_key.lower()
        current = self._accounts.get(key)
        base = plan if plan is not None else (current.plan if current else FaultPlan())
        if "error_targets" in changes:
            changes["error_targets"] = frozenset(parse_target(item) for item in changes["error_targets"])
        new_plan = replace(base, **changes)
        if current is None:
            self._accounts[key] = _AccountFaults(new_plan)
        else:
            current.plan = new_plan
            current.parts_answered = 0
        return new_plan

    def clear(self, account_key: str | None = None) -> None:
        """Remove one account's plan, or every plan."""
        if account_key is None:
            self._accounts.clear()
        else:
            self._accounts.pop(account_key.lower(), None)

    def plan(self, account_key: str) -> FaultPlan:
        """Return an account's plan (the well-behaved default if none was set)."""
        entry = self._accounts.get(account_key.lower())
        return entry.plan if entry else FaultPlan()

    def plans(self) -> dict[str, FaultPlan]:
        """Return every plan that was set, by account key."""
        return {key: entry.plan for key, entry in self._accounts.items()}

    def delay(self, account_key: str) -> float:
        """Return the latency to add before this reply."""
        plan = self.plan(account_key)
        jitter = self._random.uniform(0, plan.latency_jitter) if plan.latency_jitter else 0.0
        return plan.latency + jitter

    def should_fail(self, account_key: str, message_type: int, management_type: int) -> bool:
        """Tell whether this request gets an injected error reply."""
        plan = self.plan(account_key)
        if plan.error_rate <= 0:
            return False
        if plan.error_targets:
            if (message_type, management_type) not in plan.error_targets:
                return False
        elif message_type == MessageType.SESSION_MANAGEMENT_REQUEST:
            return False
        if self._random.random() >= plan.error_rate:
            return False
        self.injected_errors += 1
        return True

    def drops_frame(self, account_key: str, frames_on_socket: int) -> bool:
        """Tell whether the socket must close rather than answer its ``frames_on_socket``-th frame."""
        limit = self.plan(account_key).drop_after_frames
        return limit is not None and frames_on_socket > limit

    def drops_upload_part(self, account_key: str, management_type: int) -> bool:
        """Tell whether this upload part's socket must close; firing disarms the fault."""
        entry = self._accounts.get(account_key.lower())
        if entry is None or management_type not in UPLOAD_PARTS:
            return False
        limit = entry.plan.drop_upload_after_parts
        if limit is None:
            return False
        if entry.parts_answered < limit:
            entry.parts_answered += 1
            return False
        entry.plan = replace(entry.plan, drop_upload_after_parts=None)
        return True

    def session_expired(self, account_key: str, created: float) -> bool:
        """Tell whether an API session made at ``created`` (monotonic) has outlived the account's TTL."""
        ttl = self.plan(account_key).session_ttl
        return ttl is not None and time.monotonic() - created >= ttl

    async def throttle(self, account_key: str, size: int) -> None:
        """Wait as long as moving ``size`` bytes takes at the account's bandwidth cap."""
        entry = self._accounts.get(account_key.lower())
        if entry is None or entry.plan.bandwidth is None or size <= 0:
            return
        async with entry.lock:
            now = time.monotonic()
            start = max(now, entry.bandwidth_free_at)
            entry.bandwidth_free_at = start + size / entry.plan.bandwidth
            wait = entry.bandwidth_free_at - now
        await asyncio.sleep(wait)

    def counted_drop(self) -> None:
        """Count a socket the faults closed."""
        self.dropped_sockets += 1


def targets(values: Iterable[object]) -> frozenset[tuple[int, int]]:
    """Read several management types to fail, as :func:`parse_target` reads one."""
    return frozenset(parse_target(value) for value in values)
