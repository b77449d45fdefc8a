"""The fault suite's fixtures, and its summary table (faults x outcomes) at the end of the run."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.sandbox.postdicom import PostDicomEmulator
from bot.store import BackoffPolicy, ChannelSettings, Store, UploadJob, UploadMode, WorkspaceRef
from tests.app.harness import Scenario, scenario
from tests.reliability.workload import SUMMARY_COLUMNS, Outcome, Workload

OUTCOMES: list[Outcome] = []

# Uploads retry after a failed attempt; the suite must finish in minutes, not wait half a minute.
FAST_RETRIES = BackoffPolicy(base_seconds=0.2, max_seconds=1.0, max_attempts=8)
FAST_UPLOADS = {
    "PACSBOT_UPLOAD_POLL_SECONDS": "0.2",
    "PACSBOT_UPLOAD_LEASE_SECONDS": "10",
    "PACSBOT_POSTDICOM_TIMEOUT": "5",
}


def record(outcome: Outcome) -> None:
    """Keep an outcome for the summary table and fail the test if anything was lost."""
    OUTCOMES.append(outcome)
    assert outcome.ok, outcome.explain()


def summary_lines(outcomes: list[Outcome]) -> list[str]:
    """Render the faults x outcomes table."""
    rows = [SUMMARY_COLUMNS, *(outcome.row() for outcome in outcomes)]
    widths = [max(len(row[index]) for row in rows) for index in range(len(SUMMARY_COLUMNS))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return lines


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the fault suite's table after the run."""
    if not OUTCOMES:
        return
    terminalreporter.section("fault suite: faults x outcomes")
    for line in summary_lines(OUTCOMES):
        terminalreporter.write_line(line)


def speed_up_retries(store: Store) -> None:
    """Make failed upload attempts come back in a fraction of a second (tests only)."""
    store.upload_jobs._backoff = FAST_RETRIES


async def enable_uploads(store: Store, workspace: WorkspaceRef, *channel_ids: str) -> None:
    """Upload at once in these channels."""
    for channel_id in channel_ids:
        await store.channel_settings.save(workspace, channel_id, ChannelSettings(upload_mode=UploadMode.AUTO))


async def jobs_of(store: Store, workspace: WorkspaceRef, workload: Workload) -> list[UploadJob]:
    """Return the jobs of the workload's shared files."""
    found = []
    for study in workload.studies:
        for file_id in study.file_ids:
            job = await store.upload_jobs.find(workspace, file_id)
            if job is not None:
                found.append(job)
    return found


@pytest.fixture
async def world(tmp_path: Path, emulator: PostDicomEmulator) -> AsyncIterator[Scenario]:
    """The app over HTTP on SQLite, connected to the emulator, uploading at once in #general and the shared channel."""
    async with scenario(
        tmp_path,
        postdicom_router_url=emulator.router_url,
        extra_settings={
            "PACSBOT_POSTDICOM_API_KEY": emulator.api_key,
            "PACSBOT_POSTDICOM_ACCOUNT_KEY": emulator.account_key,
            **FAST_UPLOADS,
        },
    ) as running:
        store = running.app.services.store
        speed_up_retries(store)
        await enable_uploads(
            store, running.workspace, running.demo.general.id, running.demo.partner_channel.id
        )
        yield running
