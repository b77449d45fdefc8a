"""Upload jobs: one per file however often it arrives, claims that never overlap, leases, backoff."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from bot.store import BackoffPolicy, Database, Store, UploadJob, UploadOptions, UploadState, WorkspaceRef
from bot.store.schema import SentInstanceRow, UploadJobRow
from tests.store.conftest import TEST_BACKOFF, MutableClock

WORKSPACE = WorkspaceRef(None, "T0001")
OTHER = WorkspaceRef("E0001", "T0002")
LEASE = 60.0
ORDER = "0f0f0f0f-1234-4abc-8def-0123456789ab"


async def _enqueue(store: Store, file_id: str = "F0001", workspace: WorkspaceRef = WORKSPACE) -> UploadJob:
    return (
        await store.upload_jobs.enqueue(workspace, file_id, channel_id="C0ER", thread_ts="1700000000.000100")
    ).job


async def _claim(store: Store, owner: str = "worker-a") -> UploadJob:
    job = await store.upload_jobs.claim_next(owner, LEASE)
    assert job is not None
    return job


async def test_enqueue_creates_a_queued_job(store: Store, clock: MutableClock) -> None:
    options = UploadOptions(
        anonymize=True, folder_uuid="acc0acc0-5678-4abc-9def-0123456789ab", folder_path="Slack/ER"
    )
    result = await store.upload_jobs.enqueue(
        WORKSPACE,
        "F0001",
        channel_id="C0ER",
        thread_ts="1700000000.000100",
        requested_by="U0ALICE",
        options=options,
    )
    job = result.job
    assert result.created
    assert (job.workspace, job.slack_file_id, job.state, job.attempts) == (
        WORKSPACE,
        "F0001",
        UploadState.QUEUED,
        0,
    )
    assert (job.channel_id, job.thread_ts, job.requested_by, job.progress_message_ts) == (
        "C0ER",
        "1700000000.000100",
        "U0ALICE",
        None,
    )
    assert job.options == options
    assert (job.next_attempt_at, job.created_at, job.lease_owner, job.finished_at) == (
        clock.now,
        clock.now,
        None,
        None,
    )
    assert not job.is_finished
    assert await store.upload_jobs.get(job.id) == job
    assert await store.upload_jobs.find(WORKSPACE, "F0001") == job


async def test_the_same_file_twice_is_one_job(store: Store) -> None:
    first = await store.upload_jobs.enqueue(WORKSPACE, "F0001", channel_id="C0ER")
    again = await store.upload_jobs.enqueue(WORKSPACE, "F0001", channel_id="C0OTHER")
    assert first.created
    assert not again.created
    assert again.job == first.job


async def test_the_same_file_id_in_another_workspace_is_another_job(store: Store) -> None:
    first = await _enqueue(store, "F0001", WORKSPACE)
    second = await _enqueue(store, "F0001", OTHER)
    assert first.id != second.id
    assert second.workspace == OTHER


async def test_twenty_concurrent_deliveries_of_one_file_make_one_job(
    store: Store, second_store: Store
) -> None:
    # Half through each engine: the same event delivered to two app processes, and retried.
    results = await asyncio.gather(
        *(
            (store if number % 2 else second_store).upload_jobs.enqueue(
                WORKSPACE, "F0SAME", channel_id="C0ER"
            )
            for number in range(20)
        )
    )
    assert sum(result.created for result in results) == 1
    assert len({result.job.id for result in results}) == 1
    counts = await store.upload_jobs.counts_by_state()
    assert counts[UploadState.QUEUED] == 1


async def test_replacement_values_round_trip_and_stay_out_of_repr(store: Store) -> None:
    replacements = {"PatientName": "ANON^CASE7", "PatientID": "CASE7"}
    result = await store.upload_jobs.enqueue(
        WORKSPACE,
        "F0001",
        channel_id="C0ER",
        options=UploadOptions(anonymize=True, replacements=replacements),
    )
    found = await store.upload_jobs.get(result.job.id)
    assert found is not None
    assert dict(found.options.replacements) == replacements
    assert "ANON^CASE7" not in repr(found)


async def test_the_deidentification_key_and_confirmation_round_trip_unseen(store: Store) -> None:
    key = "ab" * 32
    result = await store.upload_jobs.enqueue(
        WORKSPACE,
        "F0002",
        channel_id="C0ER",
        options=UploadOptions(
            anonymize=True,
            replacements={"PatientName": "ANON"},
            deidentification_key=key,
            pixel_risk_confirmed=True,
        ),
    )
    found = await store.upload_jobs.get(result.job.id)
    assert found is not None
    assert found.options.deidentification_key == key
    assert found.options.pixel_risk_confirmed
    assert dict(found.options.replacements) == {"PatientName": "ANON"}
    assert key not in repr(found)


async def test_claim_takes_a_due_job_and_leases_it(store: Store, clock: MutableClock) -> None:
    queued = await _enqueue(store)
    claimed = await _claim(store, "worker-a")
    assert claimed.id == queued.id
    assert (claimed.state, claimed.attempts, claimed.lease_owner) == (UploadState.DOWNLOADING, 1, "worker-a")
    assert claimed.lease_expires_at == clock.now + timedelta(seconds=LEASE)
    assert await store.upload_jobs.claim_next("worker-b", LEASE) is None


async def test_claim_returns_nothing_when_nothing_is_queued(store: Store) -> None:
    assert await store.upload_jobs.claim_next("worker-a", LEASE) is None


async def test_claim_takes_the_most_overdue_job_first(store: Store, clock: MutableClock) -> None:
    first = await _enqueue(store, "F0001")
    clock.advance(1)
    second = await _enqueue(store, "F0002")
    assert (await _claim(store)).id == first.id
    assert (await _claim(store)).id == second.id


async def test_claim_skips_excluded_workspaces(store: Store) -> None:
    await _enqueue(store, "F0001", WORKSPACE)
    other = await _enqueue(store, "F0002", OTHER)
    claimed = await store.upload_jobs.claim_next("worker-a", LEASE, exclude=[WORKSPACE])
    assert claimed is not None
    assert claimed.id == other.id
    assert await store.upload_jobs.claim_next("worker-a", LEASE, exclude=[WORKSPACE]) is None


async def test_concurrent_claimers_on_two_engines_never_share_a_job(
    store: Store, second_store: Store
) -> None:
    expected = {(await _enqueue(store, f"F{number:04d}")).id for number in range(30)}
    claimed: list[str] = []

    async def claimer(repository: Store, owner: str) -> None:
        while (job := await repository.upload_jobs.claim_next(owner, LEASE)) is not None:
            assert job.lease_owner == owner
            claimed.append(job.id)

    await asyncio.gather(*(claimer(store if n % 2 else second_store, f"worker-{n}") for n in range(8)))
    assert sorted(claimed) == sorted(expected)
    assert len(claimed) == len(set(claimed))


# Row locks are PostgreSQL's; SQLite serializes whole write transactions instead.
@pytest.mark.parametrize("backend", ["postgresql"])
async def test_postgresql_claimers_skip_a_row_another_transaction_holds(
    store: Store, second_store: Store
) -> None:
    assert store.database.dialect == "postgresql"
    locked = await _enqueue(store, "F0001")
    free = await _enqueue(store, "F0002")
    async with store.database.engine.connect() as holder, holder.begin():
        await holder.execute(text("SELECT id FROM upload_jobs WHERE id = :id FOR UPDATE"), {"id": locked.id})
        # Without SKIP LOCKED this claim would wait for the holder (and time out here).
        claimed = await asyncio.wait_for(second_store.upload_jobs.claim_next("worker-b", LEASE), timeout=5)
    assert claimed is not None
    assert claimed.id == free.id


async def test_only_the_lease_owner_moves_a_job(store: Store) -> None:
    job = await _claim_new(store)
    assert await store.upload_jobs.advance(job.id, "worker-b", UploadState.UPLOADING) is False
    assert await store.upload_jobs.renew_lease(job.id, "worker-b", LEASE) is False
    assert await store.upload_jobs.finish(job.id, "worker-b") is False
    assert await store.upload_jobs.fail(job.id, "worker-b", error="x", retryable=True) is None
    assert (await _get(store, job.id)).state is UploadState.DOWNLOADING


async def test_a_job_runs_to_done(store: Store, clock: MutableClock) -> None:
    job = await _claim_new(store)
    clock.advance(10)
    assert await store.upload_jobs.renew_lease(job.id, "worker-a", LEASE) is True
    assert (await _get(store, job.id)).lease_expires_at == clock.now + timedelta(seconds=LEASE)
    assert await store.upload_jobs.advance(job.id, "worker-a", UploadState.UPLOADING) is True
    assert (await _get(store, job.id)).state is UploadState.UPLOADING
    assert await store.upload_jobs.set_progress_message(job.id, "1700000000.000200") is True
    clock.advance(10)
    assert await store.upload_jobs.finish(job.id, "worker-a", order_uuids=[ORDER]) is True
    done = await _get(store, job.id)
    assert (done.state, done.order_uuids, done.lease_owner, done.finished_at) == (
        UploadState.DONE,
        (ORDER,),
        None,
        clock.now,
    )
    assert done.progress_message_ts == "1700000000.000200"
    assert done.is_finished
    assert await store.upload_jobs.finish(job.id, "worker-a") is False


async def test_advance_only_moves_between_active_states(store: Store) -> None:
    job = await _claim_new(store)
    with pytest.raises(ValueError, match="finish"):
        await store.upload_jobs.advance(job.id, "worker-a", UploadState.DONE)


async def test_a_retryable_failure_waits_with_exponential_backoff(store: Store, clock: MutableClock) -> None:
    job = await _claim_new(store)
    failed = await store.upload_jobs.fail(
        job.id, "worker-a", error="PostDICOM closed the socket", retryable=True
    )
    assert failed is not None
    assert (failed.state, failed.attempts, failed.last_error, failed.lease_owner) == (
        UploadState.QUEUED,
        1,
        "PostDICOM closed the socket",
        None,
    )
    assert failed.next_attempt_at == clock.now + timedelta(seconds=10)
    assert await store.upload_jobs.claim_next("worker-a", LEASE) is None
    clock.advance(10)
    second = await _claim(store)
    assert second.attempts == 2
    failed = await store.upload_jobs.fail(second.id, "worker-a", error="again", retryable=True)
    assert failed is not None
    assert failed.next_attempt_at == clock.now + timedelta(seconds=20)


async def test_a_job_out_of_attempts_fails_for_good(store: Store, clock: MutableClock) -> None:
    job = await _enqueue(store)
    for _attempt in range(TEST_BACKOFF.max_attempts):
        claimed = await _claim(store)
        result = await store.upload_jobs.fail(
            claimed.id, claimed.lease_owner or "", error="timeout", retryable=True
        )
        assert result is not None
        clock.advance(TEST_BACKOFF.max_seconds)
    final = await _get(store, job.id)
    assert (final.state, final.attempts, final.finished_at) == (
        UploadState.FAILED,
        TEST_BACKOFF.max_attempts,
        clock.now - timedelta(seconds=TEST_BACKOFF.max_seconds),
    )
    assert await store.upload_jobs.claim_next("worker-a", LEASE) is None


async def test_a_permanent_failure_is_not_retried(store: Store) -> None:
    job = await _claim_new(store)
    failed = await store.upload_jobs.fail(
        job.id, "worker-a", error="not DICOM: an HTML page", retryable=False
    )
    assert failed is not None
    assert (failed.state, failed.last_error) == (UploadState.FAILED, "not DICOM: an HTML page")


async def test_errors_are_truncated(store: Store) -> None:
    job = await _claim_new(store)
    failed = await store.upload_jobs.fail(job.id, "worker-a", error="x" * 2000, retryable=False)
    assert failed is not None
    assert failed.last_error is not None
    assert len(failed.last_error) == 500


async def test_retry_requeues_a_failed_job_of_the_same_workspace_only(
    store: Store, clock: MutableClock
) -> None:
    job = await _claim_new(store)
    await store.upload_jobs.fail(job.id, "worker-a", error="boom", retryable=False)
    assert await store.upload_jobs.retry_failed(OTHER, job.id) is None
    retried = await store.upload_jobs.retry_failed(WORKSPACE, job.id)
    assert retried is not None
    assert (retried.state, retried.attempts, retried.next_attempt_at, retried.finished_at) == (
        UploadState.QUEUED,
        0,
        clock.now,
        None,
    )
    assert await store.upload_jobs.retry_failed(WORKSPACE, job.id) is None


def test_backoff_doubles_from_the_base_up_to_the_cap() -> None:
    policy = BackoffPolicy(base_seconds=30, max_seconds=600, max_attempts=10)
    delays = [policy.delay(attempts).total_seconds() for attempts in range(1, 8)]
    assert delays == [30, 60, 120, 240, 480, 600, 600]
    assert policy.delay(10_000).total_seconds() == 600


async def test_an_expired_lease_is_requeued_and_the_old_worker_is_shut_out(
    store: Store, clock: MutableClock
) -> None:
    job = await _claim_new(store)
    assert await store.upload_jobs.requeue_expired_leases() == []
    clock.advance(LEASE + 1)
    released = await store.upload_jobs.requeue_expired_leases()
    assert [(item.id, item.state, item.lease_owner) for item in released] == [
        (job.id, UploadState.QUEUED, None)
    ]
    resumed = await _claim(store, "worker-b")
    assert (resumed.id, resumed.attempts, resumed.lease_owner) == (job.id, 2, "worker-b")
    # The worker that stalled finds out at its next step.
    assert await store.upload_jobs.renew_lease(job.id, "worker-a", LEASE) is False
    assert await store.upload_jobs.finish(job.id, "worker-a") is False
    assert await store.upload_jobs.finish(job.id, "worker-b") is True


async def test_an_expired_lease_without_attempts_left_fails(store: Store, clock: MutableClock) -> None:
    job = await _enqueue(store)
    for _attempt in range(TEST_BACKOFF.max_attempts):
        await _claim(store)
        clock.advance(LEASE + 1)
        released = await store.upload_jobs.requeue_expired_leases()
        assert [item.id for item in released] == [job.id]
    final = await _get(store, job.id)
    assert final.state is UploadState.FAILED
    assert final.last_error == "the worker stopped responding on every attempt"


async def test_sent_instances_are_recorded_once_and_survive_a_resume(
    store: Store, clock: MutableClock
) -> None:
    job = await _claim_new(store)
    assert await store.upload_jobs.sent_instances(job.id) == frozenset()
    await store.upload_jobs.record_sent(job.id, ["1.2.3.1", "1.2.3.2"])
    await store.upload_jobs.record_sent(job.id, ["1.2.3.2", "1.2.3.3", "1.2.3.3"])
    clock.advance(LEASE + 1)
    await store.upload_jobs.requeue_expired_leases()
    resumed = await _claim(store, "worker-b")
    assert await store.upload_jobs.sent_instances(resumed.id) == {"1.2.3.1", "1.2.3.2", "1.2.3.3"}
    other = await _enqueue(store, "F0002")
    assert await store.upload_jobs.sent_instances(other.id) == frozenset()


async def test_many_sent_instances_are_recorded_in_batches(store: Store) -> None:
    job = await _claim_new(store)
    uids = [f"1.2.826.0.1.3680043.8.498.{number}" for number in range(1234)]
    await store.upload_jobs.record_sent(job.id, uids)
    assert await store.upload_jobs.sent_instances(job.id) == set(uids)


async def test_counts_by_state_for_all_or_one_workspace(store: Store) -> None:
    await _enqueue(store, "F0001")
    await _enqueue(store, "F0002")
    await _enqueue(store, "F0003", OTHER)
    claimed = await _claim(store)
    await store.upload_jobs.finish(claimed.id, "worker-a")
    everything = await store.upload_jobs.counts_by_state()
    assert everything == {
        UploadState.QUEUED: 2,
        UploadState.DOWNLOADING: 0,
        UploadState.UPLOADING: 0,
        UploadState.DONE: 1,
        UploadState.FAILED: 0,
    }
    assert (await store.upload_jobs.counts_by_state(OTHER))[UploadState.QUEUED] == 1


async def test_finished_jobs_can_be_purged_with_their_sent_instances(
    store: Store, database: Database, clock: MutableClock
) -> None:
    job = await _claim_new(store)
    await store.upload_jobs.record_sent(job.id, ["1.2.3.1"])
    await store.upload_jobs.finish(job.id, "worker-a")
    pending = await _enqueue(store, "F0002")
    assert await store.upload_jobs.delete_finished(before=clock.now) == 0
    clock.advance(1)
    assert await store.upload_jobs.delete_finished(before=clock.now) == 1
    assert await store.upload_jobs.get(job.id) is None
    assert await store.upload_jobs.get(pending.id) is not None
    async with database.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(SentInstanceRow)) == 0


async def _claim_new(store: Store) -> UploadJob:
    await _enqueue(store)
    return await _claim(store, "worker-a")


async def _get(store: Store, job_id: str) -> UploadJob:
    job = await store.upload_jobs.get(job_id)
    assert job is not None
    return job


# --- the files of one share, shown in one message ---------------------------------------------


async def _enqueue_share(store: Store, share: str, count: int) -> list[UploadJob]:
    return [
        (
            await store.upload_jobs.enqueue(
                WORKSPACE, f"F{share}-{index}", channel_id="C0ER", share_id=share, share_index=index
            )
        ).job
        for index in reversed(range(count))  # created out of order: the index orders them
    ]


async def test_a_shares_parts_come_back_in_file_order_and_are_encrypted_at_rest(
    store: Store, database: Database
) -> None:
    jobs = await _enqueue_share(store, "share-1", 3)
    by_index = {job.share_index: job for job in jobs}
    await store.upload_jobs.set_display(by_index[2].id, {"text": "Doe^Jane: uploading"})
    await store.upload_jobs.set_display(by_index[0].id, {"text": "Doe^John: queued"})

    parts = await store.upload_jobs.share_displays("share-1")

    assert [(job.share_index, display) for job, display in parts] == [
        (0, {"text": "Doe^John: queued"}),
        (1, None),
        (2, {"text": "Doe^Jane: uploading"}),
    ]
    assert [job.is_shown for job, _ in parts] == [True, False, True]
    async with database.transaction() as session:
        stored = b"".join(row for row in await session.scalars(select(UploadJobRow.display_encrypted)) if row)
    assert b"Doe" not in stored

    await store.upload_jobs.set_display(by_index[0].id, None)
    assert not (await store.upload_jobs.get(by_index[0].id)).is_shown  # type: ignore[union-attr]


async def test_the_first_message_posted_for_a_share_is_the_one_every_file_uses(store: Store) -> None:
    await _enqueue_share(store, "share-2", 2)
    other = await _enqueue_share(store, "share-3", 1)

    assert await store.upload_jobs.claim_share_message("share-2", "1700000000.000200") == "1700000000.000200"
    assert await store.upload_jobs.claim_share_message("share-2", "1700000000.000300") == "1700000000.000200"
    assert {job.progress_message_ts for job, _ in await store.upload_jobs.share_displays("share-2")} == {
        "1700000000.000200"
    }
    assert (await store.upload_jobs.get(other[0].id)).progress_message_ts is None  # type: ignore[union-attr]

    await store.upload_jobs.replace_share_message("share-2", "1700000000.000400")
    assert {job.progress_message_ts for job, _ in await store.upload_jobs.share_displays("share-2")} == {
        "1700000000.000400"
    }
