"""The audit log: who did what to which orders and folders, and how it went.

Entries hold identifiers only. There is deliberately no free-text field: order and folder
references must be UUIDs, actions and error codes must be short identifiers, so a patient's name
has nowhere to go.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select

from bot.store.clock import Clock, utc_now
from bot.store.database import Database
from bot.store.schema import AuditRow
from bot.store.workspace import WorkspaceRef

MAX_RECENT = 500
_IDENTIFIER = re.compile(r"[a-z][a-z0-9_.-]{0,63}")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
_SLACK_ID = re.compile(r"[A-Z0-9]{1,32}")


class AuditOutcome(StrEnum):
    """How an audited action ended."""

    SUCCEEDED = "succeeded"
    DENIED = "denied"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audited action."""

    id: int
    slack_user_id: str | None
    channel_id: str | None
    action: str
    order_uuids: tuple[str, ...]
    folder_uuids: tuple[str, ...]
    outcome: AuditOutcome
    error_code: str | None
    created_at: datetime


class AuditLog:
    """Append to and read the audit log."""

    def __init__(self, database: Database, *, clock: Clock = utc_now) -> None:
        self._database = database
        self._clock = clock

    async def record(
        self,
        workspace: WorkspaceRef,
        *,
        action: str,
        outcome: AuditOutcome,
        slack_user_id: str | None,
        channel_id: str | None = None,
        order_uuids: Sequence[str] = (),
        folder_uuids: Sequence[str] = (),
        error_code: str | None = None,
    ) -> AuditEntry:
        """Append an entry; ``action`` and ``error_code`` are identifiers such as ``order.share``."""
        _check(_IDENTIFIER, "action", [action])
        _check(_IDENTIFIER, "error_code", [] if error_code is None else [error_code])
        _check(_UUID, "order_uuids", order_uuids)
        _check(_UUID, "folder_uuids", folder_uuids)
        _check(_SLACK_ID, "slack_user_id", [] if slack_user_id is None else [slack_user_id])
        _check(_SLACK_ID, "channel_id", [] if channel_id is None else [channel_id])
        row = AuditRow(
            workspace_key=workspace.key,
            slack_user_id=slack_user_id,
            channel_id=channel_id,
            action=action,
            order_uuids=list(order_uuids),
            folder_uuids=list(folder_uuids),
            outcome=AuditOutcome(outcome).value,
            error_code=error_code,
            created_at=self._clock(),
        )
        async with self._database.transaction() as session:
            session.add(row)
            await session.flush()
            return _entry(row)

    async def recent(self, workspace: WorkspaceRef, *, limit: int = 50) -> list[AuditEntry]:
        """Return the workspace's newest entries, newest first."""
        if not 1 <= limit <= MAX_RECENT:
            raise ValueError(f"limit must be between 1 and {MAX_RECENT}")
        async with self._database.transaction() as session:
            rows = await session.scalars(
                select(AuditRow)
                .where(AuditRow.workspace_key == workspace.key)
                .order_by(AuditRow.id.desc())
                .limit(limit)
            )
            return [_entry(row) for row in rows]


def _check(pattern: re.Pattern[str], name: str, values: Sequence[str]) -> None:
    if isinstance(values, str):
        raise TypeError(f"{name} must be a sequence of strings, not one string")
    for value in values:
        if not pattern.fullmatch(value):
            # The value itself stays out of the message: it is exactly what must not be logged.
            raise ValueError(f"audit {name} must match {pattern.pattern}")


def _entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        slack_user_id=row.slack_user_id,
        channel_id=row.channel_id,
        action=row.action,
        order_uuids=tuple(row.order_uuids),
        folder_uuids=tuple(row.folder_uuids),
        outcome=AuditOutcome(row.outcome),
        error_code=row.error_code,
        created_at=row.created_at,
    )
