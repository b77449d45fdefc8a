"""Durable upload jobs: one per Slack file, claimed with a lease, retried with backoff.

A job moves ``queued → downloading → uploading → done``; a failure either puts it back in
``queued`` for a later attempt or ends it in ``failed``. Only the lease owner may move an active
job, so a worker that lost its lease (it stalled, and the job was requeued and claimed elsewhere)
learns so from a ``False`` and must stop.

Claiming is one UPDATE whose target row comes from a ``SELECT … FOR UPDATE SKIP LOCKED``
subquery: on PostgreSQL concurrent claimers skip each other's rows; SQLite ignores the locking
clause, and there the single statement runs under the database's write lock, so one claimer wins.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import SecretStr
from sqlalchemy import ColumnElement, and_, case, delete, func, select, update

from bot.store._sql import affected_rows, insert_or_ignore
from bot.store.clock import Clock, utc_now
from bot.store.crypto import Cipher
from bot.store.database import Database
from bot.store.schema import SentInstanceRow, UploadJobRow
from bot.store.workspace import WorkspaceRef

MAX_ERROR_LENGTH = 500
_SENT_INSERT_BATCH = 500


class UploadState(StrEnum):
    """Where a job is in its life."""

    QUEUED = "queued"
    DOWNLOADING = "downloading"
    UPLOADING = "uploading"
    DONE = "done"
    FAILED = "failed"


ACTIVE_STATES = frozenset({UploadState.DOWNLOADING, UploadState.UPLOADING})
FINISHED_STATES = frozenset({UploadState.DONE, UploadState.FAILED})


# The encrypted anonymization column holds these three as one JSON object.
_STORED_REPLACEMENTS = "replacements"
_STORED_KEY = "deidentification_key"
_STORED_CONFIRMED = "pixel_risk_confirmed"


@dataclass(frozen=True, slots=True)
class UploadOptions:
    """Where and how to upload; the anonymization's values and key are stored encrypted.

    ``replacements`` (DICOM keyword → new value) override the de-identification's dummies;
    ``deidentification_key`` (hex) keys its UIDs and date shifts, one per share, so every retry
    gives the same ones; ``pixel_risk_confirmed`` says a person accepted images whose pixels may
    show text.
    """

    anonymize: bool = False
    folder_uuid: str | None = None
    folder_path: str | None = None
    replacements: Mapping[str, str] = field(default_factory=dict, repr=False)
    deidentification_key: str = field(default="", repr=False)
    pixel_risk_confirmed: bool = False


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """How long to wait before attempt ``n + 1`` after attempt ``n`` failed, and when to give up."""

    base_seconds: float = 30.0
    max_seconds: float = 3600.0
    max_attempts: int = 6

    def delay(self, attempts: int) -> timedelta:
        """Return the wait after ``attempts`` failed attempts: doubling from the base, capped."""
        exponent = max(attempts - 1, 0)
        return timedelta(seconds=min(self.base_seconds * 2.0 ** min(exponent, 32), self.max_seconds))


@dataclass(frozen=True, slots=True)
class UploadJob:
    """A job as stored: state, lease, retry bookkeeping, where to report progress, options, result."""

    id: str
    workspace: WorkspaceRef
    slack_file_id: str
    state: UploadState
    attempts: int
    last_error: str | None
    lease_owner: str | None
    lease_expires_at: datetime | None
    next_attempt_at: datetime
    channel_id: str
    thread_ts: str | None
    progress_message_ts: str | None
    requested_by: str | None
    options: UploadOptions
    order_uuids: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    share_id: str | None = None
    share_index: int = 0
    has_display: bool = False

    @property
    def is_shown(self) -> bool:
        """Tell whether the job shows in Slack (its own message, or its part of its share's)."""
        return self.has_display if self.share_id is not None else self.progress_message_ts is not None

    @property
    def is_finished(self) -> bool:
        """Return whether the job is done or has failed for good."""
        return self.state in FINISHED_STATES


@dataclass(frozen=True, slots=True)
class EnqueueResult:
    """The job for a file, and whether this call created it (False: the file was seen before)."""

    job: UploadJob
    created: bool


class UploadJobRepository:
    """Create, claim and move upload jobs."""

    def __init__(
        self,
        database: Database,
        cipher: Cipher,
        *,
        clock: Clock = utc_now,
        backoff: BackoffPolicy | None = None,
    ) -> None:
        self._database = database
        self._cipher = cipher
        self._clock = clock
        self._backoff = backoff or BackoffPolicy()

    @property
    def backoff(self) -> BackoffPolicy:
        """Return the retry policy in force."""
        return self._backoff

    async def enqueue(
        self,
        workspace: WorkspaceRef,
        slack_file_id: str,
        *,
        channel_id: str,
        thread_ts: str | None = None,
        requested_by: str | None = None,
        options: UploadOptions | None = None,
        share_id: str | None = None,
        share_index: int = 0,
    ) -> EnqueueResult:
        """Create the file's job, or return the existing one: however often a file arrives, one job.

        Jobs given the same ``share_id`` (the files of one share) show in one Slack message, in
        ``share_index`` order.
        """
        options = options or UploadOptions()
        now = self._clock()
        values: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "workspace_key": workspace.key,
            "enterprise_id": workspace.enterprise_id,
            "team_id": workspace.team_id,
            "is_enterprise_install": workspace.is_enterprise_install,
            "slack_file_id": slack_file_id,
            "state": UploadState.QUEUED.value,
            "attempts": 0,
            "next_attempt_at": now,
            "channel_id": channel_id,
            "thread_ts": thread_ts,
            "requested_by": requested_by,
            "anonymize": options.anonymize,
            "folder_uuid": options.folder_uuid,
            "folder_path": options.folder_path,
            "replacements_encrypted": self._encrypt_anonymization(options),
            "order_uuids": [],
            "created_at": now,
            "updated_at": now,
            "share_id": share_id,
            "share_index": share_index,
        }
        # A concurrent insert of the same file waits on the unique key and then does nothing, so
        # the SELECT that follows sees whichever row won.
        statement = insert_or_ignore(
            self._database.dialect, UploadJobRow, values, key=["workspace_key", "slack_file_id"]
        ).returning(UploadJobRow.id)
        async with self._database.transaction() as session:
            created = (await session.scalar(statement)) is not None
            row = (
                await session.scalars(
                    select(UploadJobRow).where(
                        UploadJobRow.workspace_key == workspace.key,
                        UploadJobRow.slack_file_id == slack_file_id,
                    )
                )
            ).one()
            return EnqueueResult(self._to_value(row), created)

    async def get(self, job_id: str) -> UploadJob | None:
        """Return the job, or None if there is no such job."""
        async with self._database.transaction() as session:
            row = await session.get(UploadJobRow, job_id)
            return None if row is None else self._to_value(row)

    async def existing(self, job_ids: Iterable[str]) -> set[str]:
        """Return which of these jobs still exist (a workspace that uninstalls takes its jobs along)."""
        wanted = sorted(set(job_ids))
        if not wanted:
            return set()
        async with self._database.transaction() as session:
            return set(await session.scalars(select(UploadJobRow.id).where(UploadJobRow.id.in_(wanted))))

    async def find(self, workspace: WorkspaceRef, slack_file_id: str) -> UploadJob | None:
        """Return the job of a Slack file, or None if the file has none."""
        async with self._database.transaction() as session:
            row = (
                await session.scalars(
                    select(UploadJobRow).where(
                        UploadJobRow.workspace_key == workspace.key,
                        UploadJobRow.slack_file_id == slack_file_id,
                    )
                )
            ).one_or_none()
            return None if row is None else self._to_value(row)

    async def claim_next(
        self, owner: str, lease_seconds: float, *, exclude: Collection[WorkspaceRef] = ()
    ) -> UploadJob | None:
        """Claim the most overdue queued job outside ``exclude`` for ``owner``; None if none is due."""
        # ``exclude`` lets a worker at its per-workspace concurrency limit take other workspaces' jobs.
        now = self._clock()
        conditions: list[ColumnElement[bool]] = [
            UploadJobRow.state == UploadState.QUEUED.value,
            UploadJobRow.next_attempt_at <= now,
        ]
        if exclude:
            conditions.append(UploadJobRow.workspace_key.not_in([workspace.key for workspace in exclude]))
        candidate = (
            select(UploadJobRow.id)
            .where(*conditions)
            .order_by(UploadJobRow.next_attempt_at, UploadJobRow.created_at)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        statement = (
            update(UploadJobRow)
            .where(UploadJobRow.id == candidate, UploadJobRow.state == UploadState.QUEUED.value)
            .values(
                state=UploadState.DOWNLOADING.value,
                attempts=UploadJobRow.attempts + 1,
                lease_owner=owner,
                lease_expires_at=now + timedelta(seconds=lease_seconds),
                updated_at=now,
            )
            .returning(UploadJobRow)
            .execution_options(synchronize_session=False)
        )
        async with self._database.transaction() as session:
            row = (await session.scalars(statement)).one_or_none()
            return None if row is None else self._to_value(row)

    async def renew_lease(self, job_id: str, owner: str, lease_seconds: float) -> bool:
        """Extend the owner's lease; False means the lease was lost and the worker must stop."""
        now = self._clock()
        return await self._update_owned(
            job_id, owner, lease_expires_at=now + timedelta(seconds=lease_seconds), updated_at=now
        )

    async def advance(self, job_id: str, owner: str, state: UploadState) -> bool:
        """Move an owned job to ``downloading`` or ``uploading``; False if the lease was lost."""
        if state not in ACTIVE_STATES:
            raise ValueError("advance() moves between active states; use finish() or fail() to end a job")
        return await self._update_owned(job_id, owner, state=state.value, updated_at=self._clock())

    async def finish(self, job_id: str, owner: str, *, order_uuids: Iterable[str] = ()) -> bool:
        """Mark an owned job done, with the PostDICOM orders it produced; False if the lease was lost."""
        now = self._clock()
        return await self._update_owned(
            job_id,
            owner,
            state=UploadState.DONE.value,
            order_uuids=list(order_uuids),
            last_error=None,
            lease_owner=None,
            lease_expires_at=None,
            finished_at=now,
            updated_at=now,
        )

    async def fail(self, job_id: str, owner: str, *, error: str, retryable: bool) -> UploadJob | None:
        """Record a failed attempt, requeued with backoff or failed for good; None if the lease was lost."""
        # ``error`` is shown to users and kept in the database: it says what failed, never patient data.
        now = self._clock()
        async with self._database.transaction() as session:
            row = (
                await session.scalars(
                    select(UploadJobRow)
                    .where(_owned(job_id, owner))
                    .with_for_update()
                    .execution_options(populate_existing=True)
                )
            ).one_or_none()
            if row is None:
                return None
            row.last_error = error[:MAX_ERROR_LENGTH]
            row.lease_owner = None
            row.lease_expires_at = None
            row.updated_at = now
            if retryable and row.attempts < self._backoff.max_attempts:
                row.state = UploadState.QUEUED.value
                row.next_attempt_at = now + self._backoff.delay(row.attempts)
            else:
                row.state = UploadState.FAILED.value
                row.finished_at = now
            await session.flush()
            return self._to_value(row)

    async def release(self, job_id: str, owner: str) -> bool:
        """Queue an owned job again at once, its attempt not counted (a graceful shutdown stopped it).

        False if the job is not this owner's any more (its lease was lost meanwhile).
        """
        now = self._clock()
        statement = (
            update(UploadJobRow)
            .where(_owned(job_id, owner))
            .values(
                state=UploadState.QUEUED.value,
                # The claim counted an attempt; a deploy that stopped it did not use one up.
                attempts=case((UploadJobRow.attempts > 0, UploadJobRow.attempts - 1), else_=0),
                lease_owner=None,
                lease_expires_at=None,
                next_attempt_at=now,
                last_error="paused by a restart; resuming",
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        async with self._database.transaction() as session:
            result = await session.execute(statement)
            return bool(affected_rows(result))

    async def retry_failed(self, workspace: WorkspaceRef, job_id: str) -> UploadJob | None:
        """Queue a failed job of this workspace again, from a fresh attempt count (the Retry button)."""
        now = self._clock()
        statement = (
            update(UploadJobRow)
            .where(
                UploadJobRow.id == job_id,
                UploadJobRow.workspace_key == workspace.key,
                UploadJobRow.state == UploadState.FAILED.value,
            )
            .values(
                state=UploadState.QUEUED.value,
                attempts=0,
                next_attempt_at=now,
                finished_at=None,
                updated_at=now,
            )
            .returning(UploadJobRow)
            .execution_options(synchronize_session=False)
        )
        async with self._database.transaction() as session:
            row = (await session.scalars(statement)).one_or_none()
            return None if row is None else self._to_value(row)

    async def requeue_expired_leases(self) -> list[UploadJob]:
        """Release jobs whose worker died: requeue them now, or fail those out of attempts."""
        now = self._clock()
        expired = and_(
            UploadJobRow.state.in_([state.value for state in ACTIVE_STATES]),
            UploadJobRow.lease_expires_at < now,
        )
        released = {"lease_owner": None, "lease_expires_at": None, "updated_at": now}
        exhausted = (
            update(UploadJobRow)
            .where(expired, UploadJobRow.attempts >= self._backoff.max_attempts)
            .values(
                state=UploadState.FAILED.value,
                last_error="the worker stopped responding on every attempt",
                finished_at=now,
                **released,
            )
            .returning(UploadJobRow)
            .execution_options(synchronize_session=False)
        )
        requeued = (
            update(UploadJobRow)
            .where(expired)
            .values(
                state=UploadState.QUEUED.value,
                last_error="the worker stopped responding; resuming",
                next_attempt_at=now,
                **released,
            )
            .returning(UploadJobRow)
            .execution_options(synchronize_session=False)
        )
        async with self._database.transaction() as session:
            rows = [*(await session.scalars(exhausted)).all(), *(await session.scalars(requeued)).all()]
            return [self._to_value(row) for row in rows]

    async def set_progress_message(self, job_id: str, message_ts: str) -> bool:
        """Remember the Slack message that shows the job's progress; False if there is no such job."""
        statement = (
            update(UploadJobRow)
            .where(UploadJobRow.id == job_id)
            .values(progress_message_ts=message_ts, updated_at=self._clock())
        )
        async with self._database.transaction() as session:
            result = await session.execute(statement)
            return bool(affected_rows(result))

    async def claim_share_message(self, share_id: str, message_ts: str) -> str:
        """Make a message the one of a share unless it has one; return the share's message."""
        statement = (
            update(UploadJobRow)
            .where(UploadJobRow.share_id == share_id, UploadJobRow.progress_message_ts.is_(None))
            .values(progress_message_ts=message_ts)
        )
        current = select(UploadJobRow.progress_message_ts).where(
            UploadJobRow.share_id == share_id, UploadJobRow.progress_message_ts.is_not(None)
        )
        async with self._database.transaction() as session:
            await session.execute(statement)
            return (await session.scalars(current.limit(1))).one_or_none() or message_ts

    async def replace_share_message(self, share_id: str, message_ts: str) -> None:
        """Point a share at a new message (its old one was deleted)."""
        statement = (
            update(UploadJobRow)
            .where(UploadJobRow.share_id == share_id)
            .values(progress_message_ts=message_ts)
        )
        async with self._database.transaction() as session:
            await session.execute(statement)

    async def set_display(self, job_id: str, display: Mapping[str, Any] | None) -> None:
        """Keep the job's part of its share's message (None: it shows nothing)."""
        encrypted = (
            None if display is None else self._cipher.encrypt(SecretStr(json.dumps(display, sort_keys=True)))
        )
        statement = update(UploadJobRow).where(UploadJobRow.id == job_id).values(display_encrypted=encrypted)
        async with self._database.transaction() as session:
            await session.execute(statement)

    async def share_displays(self, share_id: str) -> list[tuple[UploadJob, dict[str, Any] | None]]:
        """Return the jobs of a share in order, each with its part of the message (None: not yet)."""
        statement = (
            select(UploadJobRow)
            .where(UploadJobRow.share_id == share_id)
            .order_by(UploadJobRow.share_index, UploadJobRow.created_at)
        )
        async with self._database.transaction() as session:
            rows = (await session.scalars(statement)).all()
            return [
                (
                    self._to_value(row),
                    None
                    if row.display_encrypted is None
                    else json.loads(self._cipher.decrypt(row.display_encrypted).get_secret_value()),
                )
                for row in rows
            ]

    async def record_sent(self, job_id: str, sop_instance_uids: Iterable[str]) -> None:
        """Remember SOP Instance UIDs the job has sent; recording one twice is harmless."""
        now = self._clock()
        rows = [
            {"job_id": job_id, "sop_instance_uid": uid, "sent_at": now}
            for uid in dict.fromkeys(sop_instance_uids)
        ]
        async with self._database.transaction() as session:
            for start in range(0, len(rows), _SENT_INSERT_BATCH):
                await session.execute(
                    insert_or_ignore(
                        self._database.dialect,
                        SentInstanceRow,
                        rows[start : start + _SENT_INSERT_BATCH],
                        key=["job_id", "sop_instance_uid"],
                    )
                )

    async def sent_instances(self, job_id: str) -> frozenset[str]:
        """Return the SOP Instance UIDs the job has already sent."""
        async with self._database.transaction() as session:
            uids = await session.scalars(
                select(SentInstanceRow.sop_instance_uid).where(SentInstanceRow.job_id == job_id)
            )
            return frozenset(uids)

    async def counts_by_state(self, workspace: WorkspaceRef | None = None) -> dict[UploadState, int]:
        """Return how many jobs are in each state, for one workspace or all of them."""
        statement = select(UploadJobRow.state, func.count()).group_by(UploadJobRow.state)
        if workspace is not None:
            statement = statement.where(UploadJobRow.workspace_key == workspace.key)
        counts = dict.fromkeys(UploadState, 0)
        async with self._database.transaction() as session:
            for state, count in await session.execute(statement):
                counts[UploadState(state)] = count
        return counts

    async def delete_finished(self, before: datetime) -> int:
        """Delete jobs that finished before ``before``; return how many were deleted."""
        statement = delete(UploadJobRow).where(
            UploadJobRow.state.in_([state.value for state in FINISHED_STATES]),
            UploadJobRow.finished_at < before,
        )
        async with self._database.transaction() as session:
            result = await session.execute(statement)
            return affected_rows(result)

    async def _update_owned(self, job_id: str, owner: str, **values: Any) -> bool:
        statement = update(UploadJobRow).where(_owned(job_id, owner)).values(**values)
        async with self._database.transaction() as session:
            result = await session.execute(statement)
            return bool(affected_rows(result))

    def _encrypt_anonymization(self, options: UploadOptions) -> bytes | None:
        if not (options.replacements or options.deidentification_key or options.pixel_risk_confirmed):
            return None
        stored = {
            _STORED_REPLACEMENTS: dict(options.replacements),
            _STORED_KEY: options.deidentification_key,
            _STORED_CONFIRMED: options.pixel_risk_confirmed,
        }
        return self._cipher.encrypt(SecretStr(json.dumps(stored, sort_keys=True)))

    def _to_value(self, row: UploadJobRow) -> UploadJob:
        stored: dict[str, Any] = {}
        if row.replacements_encrypted is not None:
            stored = json.loads(self._cipher.decrypt(row.replacements_encrypted).get_secret_value())
        if not isinstance(stored.get(_STORED_REPLACEMENTS), dict):
            # Written before the key was stored: the replacements alone.
            stored = {_STORED_REPLACEMENTS: stored}
        replacements: dict[str, str] = stored[_STORED_REPLACEMENTS]
        return UploadJob(
            id=row.id,
            workspace=WorkspaceRef(row.enterprise_id, row.team_id, row.is_enterprise_install),
            slack_file_id=row.slack_file_id,
            state=UploadState(row.state),
            attempts=row.attempts,
            last_error=row.last_error,
            lease_owner=row.lease_owner,
            lease_expires_at=row.lease_expires_at,
            next_attempt_at=row.next_attempt_at,
            channel_id=row.channel_id,
            thread_ts=row.thread_ts,
            progress_message_ts=row.progress_message_ts,
            requested_by=row.requested_by,
            options=UploadOptions(
                anonymize=row.anonymize,
                folder_uuid=row.folder_uuid,
                folder_path=row.folder_path,
                replacements=replacements,
                deidentification_key=str(stored.get(_STORED_KEY) or ""),
                pixel_risk_confirmed=bool(stored.get(_STORED_CONFIRMED)),
            ),
            order_uuids=tuple(row.order_uuids),
            created_at=row.created_at,
            updated_at=row.updated_at,
            finished_at=row.finished_at,
            share_id=row.share_id,
            share_index=row.share_index or 0,
            has_display=row.display_encrypted is not None,
        )


def _owned(job_id: str, owner: str) -> ColumnElement[bool]:
    return and_(
        UploadJobRow.id == job_id,
        UploadJobRow.lease_owner == owner,
        UploadJobRow.state.in_([state.value for state in ACTIVE_STATES]),
    )
