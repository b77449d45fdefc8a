"""The worker pool: bounded concurrency, leases kept and lost, failures retried or final, crashes and
orderly stops resumed by another pool."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

import pytest

from bot.jobs import (
    Failure,
    JobControl,
    JobError,
    Outcome,
    Phase,
    Progress,
    UploadWorkers,
    WorkerConfig,
)
from bot.jobs.ports import OrderTarget, PostDicomTarget, SlackFile
from bot.store import Store, UploadJob, UploadState, WorkspaceRef

A = WorkspaceRef(None, "TA")
B = WorkspaceRef(None, "TB")
QUICK = WorkerConfig(
    concurrency=2, per_workspace=1, lease_seconds=1.0, poll_seconds=0.05, progress_interval=0.01
)

Behaviour = Callable[[JobControl, Callable[[Progress], None]], Awaitable[Outcome]]


@dataclass
class Recorder:
    """A reporter and host that remember what they were told."""

    events: list[tuple[str, str, object]] = field(default_factory=list)

    async def progress(self, progress: Progress) -> None:
        self.events.append(("progress", "", progress))

    async def done(self, outcome: Outcome) -> None:
        self.events.append(("done", "", outcome))

    async def failed(self, failure: Failure, *, final: bool, retry_at: datetime | None) -> None:
        self.events.append(("failed", "final" if final else "again", failure))

    async def dropped(self) -> None:
        self.events.append(("dropped", "", None))


class FakeHost:
    """Just enough of a JobHost for the pool (the runner is faked too)."""

    def __init__(self) -> None:
        self.recorder = Recorder()
        self.audits: list[tuple[str, str | None]] = []

    async def slack_file(self, job: UploadJob) -> SlackFile:
        raise NotImplementedError

    async def bot_token(self, job: UploadJob) -> str:
        raise NotImplementedError

    async def postdicom(self, job: UploadJob) -> PostDicomTarget:
        raise NotImplementedError

    async def order_of_thread(self, job: UploadJob) -> OrderTarget | None:
        raise NotImplementedError

    def reporter(self, job: UploadJob) -> Recorder:
        return self.recorder

    def explain(self, error: BaseException) -> Failure:
        if isinstance(error, JobError):
            return Failure(error.message, error.code, error.retryable)
        return Failure("oops", "internal.error", False)

    async def audit(self, job: UploadJob, outcome: Outcome | None, failure: Failure | None) -> None:
        self.audits.append((job.slack_file_id, failure.code if failure else None))


class Runner:
    """Runs each job with the behaviour a test gives its file id, and tracks concurrency."""

    def __init__(self, behaviours: dict[str, Behaviour] | None = None) -> None:
        self.behaviours = behaviours or {}
        self.running: dict[str, WorkspaceRef] = {}
        self.peak = 0
        self.peak_by_workspace: dict[WorkspaceRef, int] = {}
        self.runs: list[str] = []

    async def run(self, control: JobControl, report: Callable[[Progress], None]) -> Outcome:
        job = control.job
        self.runs.append(job.slack_file_id)
        self.running[job.id] = job.workspace
        self.peak = max(self.peak, len(self.running))
        same = sum(1 for workspace in self.running.values() if workspace == job.workspace)
        self.peak_by_workspace[job.workspace] = max(self.peak_by_workspace.get(job.workspace, 0), same)
        try:
            behaviour = self.behaviours.get(job.slack_file_id, _quick)
            return await behaviour(control, report)
        finally:
            self.running.pop(job.id, None)


async def _quick(control: JobControl, report: Callable[[Progress], None]) -> Outcome:
    del report
    await control.advance(UploadState.UPLOADING)
    await asyncio.sleep(0.1)
    return Outcome("dicom", files_total=1, files_sent=1)


def pool(
    store: Store, runner: Runner, host: FakeHost, config: WorkerConfig = QUICK, owner: str = "pool-a"
) -> UploadWorkers:
    return UploadWorkers(store.upload_jobs, runner, host, config, owner=owner)


async def enqueue(store: Store, workspace: WorkspaceRef, file_id: str) -> UploadJob:
    return (await store.upload_jobs.enqueue(workspace, file_id, channel_id="C1", thread_ts="1.0")).job


async def wait_for(
    store: Store, file_id: str, state: UploadState, workspace: WorkspaceRef = A, within: float = 15
) -> UploadJob:
    async with asyncio.timeout(within):
        while True:
            job = await store.upload_jobs.find(workspace, file_id)
            if job is not None and job.state is state:
                return job
            await asyncio.sleep(0.02)


async def test_concurrency_is_bounded_globally_and_per_workspace(store: Store) -> None:
    runner, host = Runner(), FakeHost()
    for index in range(4):
        await enqueue(store, A, f"FA{index}")
    await enqueue(store, B, "FB0")
    workers = pool(store, runner, host)
    await workers.start()
    try:
        for index in range(4):
            await wait_for(store, f"FA{index}", UploadState.DONE)
        await wait_for(store, "FB0", UploadState.DONE, workspace=B)
    finally:
        await workers.stop()
    assert runner.peak == 2
    assert runner.peak_by_workspace[A] == 1
    assert sorted(file_id for file_id, _ in host.audits) == ["FA0", "FA1", "FA2", "FA3", "FB0"]


async def test_a_long_job_keeps_its_lease_and_no_one_else_takes_it(store: Store, other_store: Store) -> None:
    started = asyncio.Event()

    async def slow(control: JobControl, report: Callable[[Progress], None]) -> Outcome:
        del report
        started.set()
        await asyncio.sleep(3 * QUICK.lease_seconds)
        return Outcome("dicom")

    first_runner, second_runner = Runner({"F1": slow}), Runner()
    await enqueue(store, A, "F1")
    first = pool(store, first_runner, FakeHost(), owner="pool-a")
    second = pool(other_store, second_runner, FakeHost(), owner="pool-b")
    await first.start()
    await started.wait()
    await second.start()
    try:
        done = await wait_for(store, "F1", UploadState.DONE)
    finally:
        await first.stop()
        await second.stop()
    assert done.attempts == 1
    assert second_runner.runs == []


async def test_a_job_whose_lease_was_taken_stops_and_leaves_the_row_alone(store: Store) -> None:
    started = asyncio.Event()

    async def stuck(control: JobControl, report: Callable[[Progress], None]) -> Outcome:
        del report
        started.set()
        await asyncio.sleep(30)
        return Outcome("dicom")

    host = FakeHost()
    job = await enqueue(store, A, "F1")
    workers = pool(store, Runner({"F1": stuck}), host)
    await workers.start()
    try:
        await started.wait()
        # Another worker took the job over (as if this one had stalled past its lease).
        assert await store.upload_jobs.renew_lease(job.id, workers.owner, 0)
        await asyncio.sleep(0.05)
        assert await store.upload_jobs.requeue_expired_leases()
        stolen = await store.upload_jobs.claim_next("pool-z", 60)
        assert stolen is not None
        async with asyncio.timeout(5):
            await workers.idle()
    finally:
        await workers.abandon()
    current = await store.upload_jobs.get(job.id)
    assert current is not None
    assert current.lease_owner == "pool-z"
    assert [event for event, _, _ in host.recorder.events if event != "progress"] == []


async def test_a_retryable_failure_is_tried_again_then_succeeds(store: Store) -> None:
    calls = 0

    async def flaky(control: JobControl, report: Callable[[Progress], None]) -> Outcome:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise JobError("PostDICOM cannot be reached right now.", code="postdicom.down", retryable=True)
        return await _quick(control, report)

    host = FakeHost()
    await enqueue(store, A, "F1")
    workers = pool(store, Runner({"F1": flaky}), host)
    await workers.start()
    try:
        done = await wait_for(store, "F1", UploadState.DONE)
    finally:
        await workers.stop()
    assert done.attempts == 2
    kinds = [(event, detail) for event, detail, _ in host.recorder.events if event != "progress"]
    assert kinds == [("failed", "again"), ("done", "")]
    assert host.audits == [("F1", None)]


async def test_a_final_failure_is_reported_and_audited(store: Store) -> None:
    async def broken(control: JobControl, report: Callable[[Progress], None]) -> Outcome:
        raise JobError("it is truncated", code="dicom.truncated", retryable=False)

    host = FakeHost()
    await enqueue(store, A, "F1")
    workers = pool(store, Runner({"F1": broken}), host)
    await workers.start()
    try:
        failed = await wait_for(store, "F1", UploadState.FAILED)
    finally:
        await workers.stop()
    assert failed.last_error == "it is truncated"
    assert [(event, detail) for event, detail, _ in host.recorder.events] == [("failed", "final")]
    assert host.audits == [("F1", "dicom.truncated")]


async def test_an_orderly_stop_hands_the_job_to_another_process_at_once(
    store: Store, other_store: Store
) -> None:
    started = asyncio.Event()

    async def long(control: JobControl, report: Callable[[Progress], None]) -> Outcome:
        del report
        started.set()
        await asyncio.sleep(30)
        return Outcome("dicom")

    await enqueue(store, A, "F1")
    config = WorkerConfig(concurrency=1, per_workspace=1, lease_seconds=60, poll_seconds=0.05)
    first_host = FakeHost()
    first = pool(store, Runner({"F1": long}), first_host, config, owner="pool-a")
    await first.start()
    await started.wait()
    await first.stop()
    queued = await wait_for(store, "F1", UploadState.QUEUED)
    assert queued.lease_owner is None
    assert queued.attempts == 0  # stopped by a restart, not failed: the attempt is given back
    (paused,) = [detail for event, _, detail in first_host.recorder.events if event == "progress"]
    assert isinstance(paused, Progress)
    assert "Paused while the app restarts" in paused.note

    second_runner = Runner()
    second = pool(other_store, second_runner, FakeHost(), config, owner="pool-b")
    await second.start()
    try:
        done = await wait_for(store, "F1", UploadState.DONE, within=5)
    finally:
        await second.stop()
    assert done.attempts == 1
    assert second_runner.runs == ["F1"]


async def test_a_crashed_pool_leaves_its_job_to_be_resumed_after_the_lease(
    store: Store, other_store: Store
) -> None:
    started = asyncio.Event()

    async def long(control: JobControl, report: Callable[[Progress], None]) -> Outcome:
        del report
        started.set()
        await asyncio.sleep(30)
        return Outcome("dicom")

    await enqueue(store, A, "F1")
    first = pool(store, Runner({"F1": long}), FakeHost(), owner="pool-a")
    await first.start()
    await started.wait()
    await first.abandon()
    crashed = await store.upload_jobs.find(A, "F1")
    assert crashed is not None
    assert crashed.lease_owner == "pool-a"

    second = pool(other_store, Runner(), FakeHost(), owner="pool-b")
    await second.start()
    try:
        done = await wait_for(store, "F1", UploadState.DONE, within=10)
    finally:
        await second.stop()
    assert done.attempts == 2


async def test_an_ignored_file_finishes_without_a_message(store: Store) -> None:
    async def not_ours(control: JobControl, report: Callable[[Progress], None]) -> Outcome:
        return Outcome("ignored")

    host = FakeHost()
    await enqueue(store, A, "F1")
    workers = pool(store, Runner({"F1": not_ours}), host)
    await workers.start()
    try:
        await wait_for(store, "F1", UploadState.DONE)
    finally:
        await workers.stop()
    assert [event for event, _, _ in host.recorder.events] == ["dropped"]
    assert host.audits == []


@pytest.mark.parametrize("interval", [0.2])
async def test_progress_reaches_the_reporter_throttled(store: Store, interval: float) -> None:
    async def chatty(control: JobControl, report: Callable[[Progress], None]) -> Outcome:
        for done in range(100):
            report(Progress(Phase.UPLOADING, done, 100))
            await asyncio.sleep(0.005)
        return Outcome("dicom")

    host = FakeHost()
    await enqueue(store, A, "F1")
    config = WorkerConfig(
        concurrency=1, per_workspace=1, lease_seconds=5, poll_seconds=0.05, progress_interval=interval
    )
    workers = pool(store, Runner({"F1": chatty}), host, config)
    await workers.start()
    try:
        await wait_for(store, "F1", UploadState.DONE)
    finally:
        await workers.stop()
    updates = [detail for event, _, detail in host.recorder.events if event == "progress"]
    assert 2 <= len(updates) <= 6  # ~0.5 s of pushes at one update per 0.2 s
    assert host.recorder.events[-1][0] == "done"


async def test_a_job_of_a_workspace_that_left_stops_within_a_poll(store: Store, other_store: Store) -> None:
    started: list[str] = []
    both = asyncio.Event()

    async def stuck(control: JobControl, report: Callable[[Progress], None]) -> Outcome:
        del report
        started.append(control.job.slack_file_id)
        if len(started) == 2:
            both.set()
        await asyncio.sleep(30)
        return Outcome("dicom")

    host = FakeHost()
    await enqueue(store, A, "F1")
    await enqueue(store, B, "F2")
    # A lease far longer than the wait below: only the poll can notice the rows are gone.
    config = WorkerConfig(concurrency=2, per_workspace=1, lease_seconds=60, poll_seconds=0.05)
    runner = Runner({"F1": stuck, "F2": stuck})
    workers = pool(store, runner, host, config)
    await workers.start()
    try:
        await both.wait()
        assert workers.workspaces() == {A.key, B.key}
        # Another replica was told the workspace uninstalled, and deleted its rows.
        await other_store.delete_workspace(A)
        async with asyncio.timeout(2):
            while True:
                if workers.workspaces() == {B.key}:
                    break
                await asyncio.sleep(0.02)
        assert list(runner.running.values()) == [B]
    finally:
        await workers.abandon()
    assert [event for event, _, _ in host.recorder.events if event != "progress"] == []
