"""The upload worker pool: claim jobs with a lease, keep the lease alive, run them, settle them.

Each app process runs one pool. It claims due jobs atomically (PostgreSQL's ``FOR UPDATE SKIP
LOCKED`` lets several replicas share the queue; on SQLite the single claiming statement holds the
write lock), runs at most ``concurrency`` jobs at once and at most ``per_workspace`` of any one
workspace, renews each lease while its job runs, and gives up a job whose lease it lost. Jobs
left behind by a process that died are requeued once their lease expires, by whichever process
looks first. Stopping releases the pool's jobs at once so another process can resume them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from bot.jobs.errors import LeaseLost
from bot.jobs.ports import Failure, JobHost, JobReporter, Outcome
from bot.jobs.progress import Phase, Progress, Throttle
from bot.store import UploadJob, UploadJobRepository, UploadState, WorkspaceRef

logger = logging.getLogger(__name__)
T = TypeVar("T")

_RELEASE_ATTEMPTS = 3
_PAUSE_NOTICE_SECONDS = 2.0
_LOOP_STOP_SECONDS = 10.0
_PAUSED = "Paused while the app restarts; it carries on by itself."


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    """How much the pool runs at once and how it keeps its claims."""

    concurrency: int = 4
    per_workspace: int = 2
    lease_seconds: float = 60.0
    poll_seconds: float = 2.0
    progress_interval: float = 1.0


def worker_identity() -> str:
    """Return a lease owner name unique to this process (host, pid and a random suffix)."""
    return f"{socket.gethostname()[:120]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class JobControl:
    """What a running job may do to its own row; every change checks the lease is still ours.

    Database calls run shielded (see :meth:`UploadWorkers._guard`): a job interrupted while one
    is in flight lets it finish rather than leaving the driver mid-statement.
    """

    def __init__(
        self,
        jobs: UploadJobRepository,
        job: UploadJob,
        owner: str,
        guard: Callable[[Awaitable[T]], Awaitable[T]] | None = None,
    ) -> None:
        self.jobs = jobs
        self.job = job
        self.owner = owner
        self._guard: Callable[[Awaitable[Any]], Awaitable[Any]] = guard or _unguarded

    async def advance(self, state: UploadState) -> None:
        """Move the job to another active state; raise LeaseLost if it is no longer ours."""
        if not await self._guard(self.jobs.advance(self.job.id, self.owner, state)):
            raise LeaseLost()

    async def record_sent(self, sop_instance_uids: Iterable[str]) -> None:
        """Remember instances that reached PostDICOM, so no later attempt sends them again."""
        await self._guard(self.jobs.record_sent(self.job.id, list(sop_instance_uids)))

    async def sent(self) -> frozenset[str]:
        """Return the instances earlier attempts (and this one) already delivered."""
        sent: frozenset[str] = await self._guard(self.jobs.sent_instances(self.job.id))
        return sent

    async def guarded(self, awaitable: Awaitable[T]) -> T:
        """Run a call that reaches the database as the job's own calls run: shielded, waited for."""
        result: T = await self._guard(awaitable)
        return result

    async def shown(self) -> bool:
        """Tell whether the job has a message in Slack yet (someone expects to hear from it)."""
        current = await self._guard(self.jobs.get(self.job.id))
        return current is not None and current.is_shown


async def _unguarded(awaitable: Awaitable[T]) -> T:
    return await awaitable


class JobRunner(Protocol):
    """Does one attempt of a job (the pipeline)."""

    async def run(self, control: JobControl, report: Callable[[Progress], None]) -> Outcome:
        """Run the job; return what it did or raise why it failed."""


class UploadWorkers:
    """The pool of upload workers of one app process."""

    def __init__(
        self,
        jobs: UploadJobRepository,
        runner: JobRunner,
        host: JobHost,
        config: WorkerConfig,
        *,
        owner: str | None = None,
    ) -> None:
        self.jobs = jobs
        self.runner = runner
        self.host = host
        self.config = config
        self.owner = owner or worker_identity()
        self._wake = asyncio.Event()
        self._main: asyncio.Task[None] | None = None
        self._running: dict[str, asyncio.Task[None]] = {}
        self._job_workspaces: dict[str, str] = {}
        self._workspaces: Counter[WorkspaceRef] = Counter()
        self._lost: set[str] = set()
        self._critical: set[asyncio.Future[Any]] = set()
        self._stopping = False
        self._graceful = False
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def running_jobs(self) -> list[str]:
        """Return the ids of the jobs this pool is running now."""
        return list(self._running)

    async def start(self) -> None:
        """Start claiming jobs (resuming any a dead process left behind)."""
        if self._main is None:
            self._stopping = self._graceful = False
            self._main = asyncio.create_task(self._loop(), name="upload-workers")

    def kick(self) -> None:
        """Look for new jobs now rather than at the next poll."""
        self._wake.set()

    async def idle(self) -> None:
        """Wait until no job runs here (for tests and orderly shutdowns)."""
        await self._idle.wait()

    async def stop(self) -> None:
        """Stop claiming, interrupt running jobs and release them so any process resumes them at once."""
        self._graceful = True
        released = await self._halt()
        if released:
            await self._release(released)
        logger.info("upload workers stopped; %d job(s) released", len(released))

    def workspaces(self) -> set[str]:
        """Return the workspaces whose jobs run here."""
        return {workspace.key for workspace in self._workspaces}

    async def drop_vanished(self) -> None:
        """Stop the jobs whose rows are gone (another replica deleted their workspace)."""
        if not self._running:
            return
        try:
            existing = await self.jobs.existing(list(self._running))
        except Exception as error:
            logger.warning("could not check the running upload jobs (%s)", type(error).__name__)
            return
        for job_id, task in list(self._running.items()):
            if job_id not in existing:
                logger.info("upload job %s: its workspace left; stopping it", job_id)
                self._lost.add(job_id)
                task.cancel()

    async def _release(self, job_ids: list[str]) -> None:
        # An interrupted job may still hold the database briefly (SQLite's write lock), so a failed
        # release is tried again; if it never works, the lease simply expires as after a crash.
        for attempt in range(1, _RELEASE_ATTEMPTS + 1):
            try:
                for job_id in job_ids:
                    # Queued again at once, and the attempt the claim counted is given back: a
                    # rolling deploy must not use up a job's attempts.
                    await self.jobs.release(job_id, self.owner)
                return
            except Exception as error:
                logger.warning("releasing upload jobs failed (%s), attempt %d", type(error).__name__, attempt)
                await asyncio.sleep(0.2 * attempt)

    async def abandon(self) -> None:
        """Stop as a crash would: interrupt everything and leave the jobs' rows as they are."""
        await self._halt()

    async def _guard(self, awaitable: Awaitable[T]) -> T:
        """Run a database call shielded from the job's cancellation; stopping waits for it."""
        future = asyncio.ensure_future(awaitable)
        self._critical.add(future)
        future.add_done_callback(self._critical.discard)
        return await asyncio.shield(future)

    async def _halt(self) -> list[str]:
        self._stopping = True
        self._wake.set()
        main, self._main = self._main, None
        if main is not None:
            # The loop stops at its next turn; cancelling it inside a database call would leave the
            # driver's thread finishing a query for an event loop that may be gone by then.
            _, late = await asyncio.wait([main], timeout=_LOOP_STOP_SECONDS)
            for task in late:
                task.cancel()
                await asyncio.wait([task])
        tasks = dict(self._running)
        for task in tasks.values():
            task.cancel()
        if tasks:
            await asyncio.wait(tasks.values())
        while self._critical:
            await asyncio.wait(set(self._critical))
        return list(tasks)

    # --- the claiming loop -----------------------------------------------------------------------

    async def _loop(self) -> None:
        requeue_every = max(self.config.poll_seconds, self.config.lease_seconds / 2)
        next_requeue = 0.0
        while not self._stopping:
            self._wake.clear()
            if time.monotonic() >= next_requeue:
                await self._requeue()
                next_requeue = time.monotonic() + requeue_every
            await self.drop_vanished()
            await self._claim_what_fits()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.config.poll_seconds):
                    await self._wake.wait()

    async def _requeue(self) -> None:
        try:
            requeued = await self.jobs.requeue_expired_leases()
        except Exception as error:
            logger.warning("could not requeue expired upload jobs (%s)", type(error).__name__)
            return
        if requeued:
            logger.info("requeued %d upload job(s) whose worker stopped responding", len(requeued))

    async def _claim_what_fits(self) -> None:
        while not self._stopping and len(self._running) < self.config.concurrency:
            busy = [
                workspace
                for workspace, count in self._workspaces.items()
                if count >= self.config.per_workspace
            ]
            try:
                job = await self.jobs.claim_next(self.owner, self.config.lease_seconds, exclude=busy)
            except Exception as error:
                logger.warning("could not claim an upload job (%s)", type(error).__name__)
                return
            if job is None:
                return
            self._begin(job)

    def _begin(self, job: UploadJob) -> None:
        self._workspaces[job.workspace] += 1
        self._idle.clear()
        task = asyncio.create_task(self._process(job), name=f"upload-job-{job.id}")
        self._running[job.id] = task
        self._job_workspaces[job.id] = job.workspace.key

        def finished(_: asyncio.Task[None]) -> None:
            self._running.pop(job.id, None)
            self._job_workspaces.pop(job.id, None)
            self._lost.discard(job.id)
            self._workspaces[job.workspace] -= 1
            if self._workspaces[job.workspace] <= 0:
                del self._workspaces[job.workspace]
            if not self._running:
                self._idle.set()
            self._wake.set()

        task.add_done_callback(finished)

    # --- one job ---------------------------------------------------------------------------------

    async def _process(self, job: UploadJob) -> None:
        control = JobControl(self.jobs, job, self.owner, self._guard)
        reporter = self.host.reporter(job)
        throttle = Throttle(reporter.progress, interval=self.config.progress_interval)
        current = asyncio.current_task()
        assert current is not None  # noqa: S101 - always inside a task
        keeper = asyncio.create_task(self._keep_lease(job, current), name=f"upload-lease-{job.id}")
        try:
            outcome = await self.runner.run(control, throttle.push)
        except LeaseLost:
            logger.warning("upload job %s: the lease was lost; another worker has it", job.id)
            return
        except asyncio.CancelledError:
            if job.id in self._lost and not self._stopping:
                logger.warning("upload job %s: stopped, the lease was lost", job.id)
                return
            if self._graceful:
                await throttle.close()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(_PAUSE_NOTICE_SECONDS):
                        await self._guard(_quietly(reporter.progress(Progress(Phase.QUEUED, note=_PAUSED))))
            raise
        except Exception as error:
            await throttle.close()
            await self._guard(self._settle_failure(job, reporter, self.host.explain(error), error))
            return
        finally:
            keeper.cancel()
            await asyncio.wait([keeper])
            await throttle.close()
        await self._guard(self._settle_success(job, reporter, outcome))

    async def _settle_failure(
        self, job: UploadJob, reporter: JobReporter, failure: Failure, error: Exception
    ) -> None:
        if failure.code.startswith("internal"):
            logger.error("upload job %s failed", job.id, exc_info=error)
        else:
            logger.info("upload job %s attempt %d failed: %s", job.id, job.attempts, failure.code)
        updated = await self.jobs.fail(job.id, self.owner, error=failure.message, retryable=failure.retryable)
        if updated is None:
            return
        final = updated.state is UploadState.FAILED
        await _quietly(
            reporter.failed(failure, final=final, retry_at=None if final else updated.next_attempt_at)
        )
        if final:
            await _quietly(self.host.audit(updated, None, failure))

    async def _settle_success(self, job: UploadJob, reporter: JobReporter, outcome: Outcome) -> None:
        if outcome.kind == "ignored":
            if await self.jobs.finish(job.id, self.owner):
                await _quietly(reporter.dropped())
            return
        # The message is finished before the row: a crash in between reruns the job, which finds
        # everything already there and edits the same message again, instead of leaving it stale.
        await _quietly(reporter.done(outcome))
        order_uuids = [order.patient_order_uuid.lower() for order in outcome.orders]
        if await self.jobs.finish(job.id, self.owner, order_uuids=order_uuids):
            await _quietly(self.host.audit(job, outcome, None))

    async def _keep_lease(self, job: UploadJob, task: asyncio.Task[None]) -> None:
        interval = max(self.config.lease_seconds / 3, 0.05)
        failures = 0
        while True:
            await asyncio.sleep(interval)
            try:
                kept = await self._guard(self.jobs.renew_lease(job.id, self.owner, self.config.lease_seconds))
            except Exception as error:
                failures += 1
                logger.warning("upload job %s: could not renew its lease (%s)", job.id, type(error).__name__)
                if failures * interval < self.config.lease_seconds:
                    continue
                kept = False
            if not kept:
                self._lost.add(job.id)
                task.cancel()
                return
            failures = 0


async def _quietly(call: Awaitable[None]) -> None:
    """Await a reporting or audit call; its failure is logged, never allowed to undo the job."""
    try:
        await call
    except Exception as error:
        logger.warning("reporting an upload job failed (%s)", type(error).__name__, exc_info=error)
