"""The fault suite's fixtures, and its summary table (faults x outcomes) at the end of the run."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox.postdicom import PostDicomEmulator
from bot.store import BackoffPolicy, ChannelSettings, Store, UploadJob, UploadMode, WorkspaceRef
from tests.app.harness import Scenario, scenario
from tests.reliability.workload import SUMMARY_COLUMNS, Outcome, Workload

# Rows of the summary table; with pytest-xdist each worker sends its rows to the controller.
ROWS: list[tuple[str, ...]] = []

# Uploads retry after a failed attempt; the suite must finish in minutes, not wait half a minute.
FAST_RETRIES = BackoffPolicy(base_seconds=0.2, max_seconds=1.0, max_attempts=8)
FAST_UPLOADS = {
    "PACSBOT_UPLOAD_POLL_SECONDS": "0.2",
    "PACSBOT_UPLOAD_LEASE_SECONDS": "10",
    "PACSBOT_POSTDICOM_TIMEOUT": "5",
}


def record(outcome: Outcome) -> None:
    """Keep an outcome for the summary table and fail the test if anything was lost."""
    ROWS.append(outcome.row())
    assert outcome.ok, outcome.explain()


def summary_lines(outcome_rows: list[tuple[str, ...]]) -> list[str]:
    """Render the faults x outcomes table."""
    rows = [SUMMARY_COLUMNS, *outcome_rows]
    widths = [max(len(row[index]) for row in rows) for index in range(len(SUMMARY_COLUMNS))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return lines


def pytest_sessionfinish(session: pytest.Session) -> None:
    """In a pytest-xdist worker, hand this worker's rows to the controller."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["fault_suite_rows"] = [list(row) for row in ROWS]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """In the pytest-xdist controller, gather a finished worker's rows."""
    ROWS.extend(tuple(row) for row in getattr(node, "workeroutput", {}).get("fault_suite_rows", []))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the fault suite's table after the run."""
    if not ROWS:
        return
    terminalreporter.section("fault suite: faults x outcomes")
    for line in summary_lines(ROWS):
        terminalreporter.write_line(line)


def speed_up_retries(store: Store) -> None:
    """Make failed upload attempts come back in a fraction of a second (tests only)."""
    store.upload_jobs._backoff = FAST_RETRIES


async def enable_uploads(store: Store, workspace: WorkspaceRef, *channel_ids: str) -> None:
    """Upload at once in these channels (allowed by an admin, should one be shared with another organisation)."""
    for channel_id in channel_ids:
        await store.channel_settings.save(
            workspace, channel_id, ChannelSettings(upload_mode=UploadMode.AUTO, external_allowed=True)
        )


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
