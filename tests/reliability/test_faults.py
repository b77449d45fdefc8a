"""The fault suite, in one app process: a mixed workload under each fault, and nothing lost.

Each test sets one fault (at the PostDICOM emulator or the Slack stub), runs searches from several
users while studies are shared in Slack, and checks the outcome: every command answered with a
result or a clear error, every study in PostDICOM exactly once with all its instances, no upload
job left queued or running, the app healthy. Waits are bounded; nothing here times anything.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from bot.sandbox.postdicom import PostDicomEmulator
from bot.sandbox.slack import FILE_DOWNLOAD, InboundPayload
from tests.app.harness import Scenario
from tests.reliability.conftest import jobs_of, record
from tests.reliability.workload import Outcome, Workload, healthy

ANSWERS_WITHIN = 60.0
JOBS_WITHIN = 90.0


async def run_workload(
    world: Scenario,
    emulator: PostDicomEmulator,
    fault: str,
    *,
    searches: int = 6,
    study_sizes: tuple[int, ...] = (3, 1),
    connect_study: bool = False,
    redeliver: Callable[[InboundPayload], list[dict[str, Any]]] | None = None,
) -> Outcome:
    """Share studies and run searches at once, under whatever fault is set; check the outcome."""
    demo = world.demo
    workload = Workload(world.slack, emulator, [demo.member, demo.admin, demo.owner], demo.general)
    commands = workload.searches(searches)
    studies = [workload.study(size) for size in study_sizes]
    if connect_study:
        # A file shared in a Slack Connect channel arrives as a stub the app must resolve with files.info.
        studies.append(workload.study(1, channel=demo.partner_channel, user=demo.member))
    events = [event for study in studies for event in workload.events(study)]
    deliveries: list[Any] = [world.send(payload) for payload in commands]
    for event in events:
        deliveries.append(world.send(event))
        for signing in redeliver(event) if redeliver else ():
            deliveries.append(world.send(event, **signing))
    answers = await asyncio.gather(*deliveries)
    refused = [answer for answer in answers if getattr(answer, "status", 200) != 200]
    await workload.wait_for_answers(ANSWERS_WITHIN)
    store = world.app.services.store
    jobs = await workload.wait_for_jobs(lambda: jobs_of(store, world.workspace, workload), JOBS_WITHIN)
    outcome = workload.check(fault, jobs, await healthy(world.app.base_url))
    if refused:
        outcome.notes.append(f"{len(refused)} deliveries not acked with 200")
        outcome.healthy = False
    return outcome


async def test_no_fault(world: Scenario, emulator: PostDicomEmulator) -> None:
    record(await run_workload(world, emulator, "none (baseline)", connect_study=True))


async def test_postdicom_latency(world: Scenario, emulator: PostDicomEmulator) -> None:
    emulator.faults.set(emulator.account_key, latency=0.4, latency_jitter=0.4)
    record(await run_workload(world, emulator, "PostDICOM latency 0.4-0.8 s per frame"))


async def test_postdicom_error_replies(world: Scenario, emulator: PostDicomEmulator) -> None:
    emulator.faults.set(
        emulator.account_key,
        error_rate=0.3,
        error_targets=["SEARCH_PATIENT_ORDER", "23:PROCESS_FILE", "23:CHECK_FILE_EXIST"],
    )
    outcome = await run_workload(world, emulator, "PostDICOM error replies (30% of searches, checks, parts)")
    record(outcome)
    assert emulator.faults.injected_errors > 0


async def test_socket_dropped_mid_request(world: Scenario, emulator: PostDicomEmulator) -> None:
    # Every socket dies, unanswered, on its 7th frame: searches in flight are resent on a new one.
    emulator.faults.set(emulator.account_key, drop_after_frames=6)
    outcome = await run_workload(world, emulator, "sockets dropped mid-request (every 7th frame)")
    record(outcome)
    assert emulator.faults.dropped_sockets > 0


async def test_socket_dropped_mid_upload(world: Scenario, emulator: PostDicomEmulator) -> None:
    emulator.faults.set(emulator.account_key, drop_upload_after_parts=1)
    outcome = await run_workload(
        world, emulator, "socket dropped mid-upload (after 1 part)", study_sizes=(4,)
    )
    record(outcome)
    assert emulator.faults.dropped_sockets == 1


@pytest.mark.parametrize("closes_socket", [False, True], ids=["refused", "socket-closed"])
async def test_expired_api_sessions(
    world: Scenario, emulator: PostDicomEmulator, closes_socket: bool
) -> None:
    # Warm the connection, then let its session expire under the workload.
    await world.command(world.demo.member, "search mod:CT")
    await world.ephemeral(world.demo.member, "found")
    emulator.faults.set(emulator.account_key, session_ttl=0.5, expiry_closes_socket=closes_socket)
    await asyncio.sleep(0.6)
    how = "socket closed" if closes_socket else "refused"
    record(await run_workload(world, emulator, f"API sessions expire after 0.5 s ({how})"))


@pytest.mark.parametrize(
    ("method", "kind"),
    [
        ("chat.update", "rate_limit"),
        ("chat.update", "server_error"),
        ("files.info", "rate_limit"),
        ("files.info", "server_error"),
        (FILE_DOWNLOAD, "rate_limit"),
        (FILE_DOWNLOAD, "server_error"),
    ],
)
async def test_slack_errors(world: Scenario, emulator: PostDicomEmulator, method: str, kind: str) -> None:
    faults = world.slack.faults
    if kind == "rate_limit":
        faults.rate_limit(method, times=2, retry_after_seconds=1)
    else:
        faults.server_error(method, times=2, status=503)
    label = f"Slack {'429' if kind == 'rate_limit' else '503'} x2 on {method}"
    outcome = await run_workload(world, emulator, label, connect_study=True)
    record(outcome)
    assert faults.take(method) is None, f"the injected {method} failures were never reached"


async def test_duplicated_and_retried_events(world: Scenario, emulator: PostDicomEmulator) -> None:
    def again(event: InboundPayload) -> list[dict[str, Any]]:
        # Slack redelivers what it thinks failed; a duplicate without retry headers happens too.
        return [
            {},
            {"retry_num": 1, "retry_reason": "http_timeout"},
            {"retry_num": 2, "retry_reason": "http_error"},
        ]

    outcome = await run_workload(
        world, emulator, "every event delivered 4 times (2 as Slack retries)", redeliver=again
    )
    record(outcome)
    assert emulator.uploads.counters.instances_deduplicated == 0
