"""The fault suite across processes: the app killed (SIGKILL) mid-upload and started again, and two
app processes sharing one PostgreSQL database, each under the mixed workload.

The apps here are real ``pacsbot run`` processes; the Slack stub and the emulator run in the test.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.sandbox.postdicom import PostDicomEmulator
from bot.sandbox.slack import DemoWorkspace, SlackStub, seed_demo_workspace
from bot.store import Cipher, Database, Store, UploadJob, WorkspaceRef
from tests.reliability.conftest import FAST_UPLOADS, enable_uploads, jobs_of, record
from tests.reliability.processes import AppProcess, app_process
from tests.reliability.workload import Workload, deliver_all, healthy
from tests.store.databases import temporary_database_url

ANSWERS_WITHIN = 60.0
JOBS_WITHIN = 90.0


class Shared:
    """What the processes share: the Slack stub, the emulator, one database and one encryption key."""

    def __init__(
        self, slack: SlackStub, emulator: PostDicomEmulator, database_url: str, directory: Path
    ) -> None:
        self.slack = slack
        self.demo: DemoWorkspace = seed_demo_workspace(slack.state)
        self.emulator = emulator
        self.database_url = database_url
        self.directory = directory
        self.key = Fernet.generate_key().decode()
        self.workspace = WorkspaceRef(None, self.demo.team.id)

    def environment(self) -> dict[str, str]:
        """Return the settings every app process gets."""
        return {
            "SLACK_BOT_TOKEN": self.demo.installation.bot_token,
            "SLACK_SIGNING_SECRET": self.slack.app.signing_secret,
            "PACSBOT_SLACK_API_URL": self.slack.api_url,
            "PACSBOT_DATABASE_URL": self.database_url,
            "PACSBOT_ENCRYPTION_KEY": self.key,
            "PACSBOT_POSTDICOM_ROUTER_URL": self.emulator.router_url,
            "PACSBOT_POSTDICOM_API_KEY": self.emulator.api_key,
            "PACSBOT_POSTDICOM_ACCOUNT_KEY": self.emulator.account_key,
            **FAST_UPLOADS,
            "PACSBOT_UPLOAD_LEASE_SECONDS": "2",
        }

    def assert_no_secret_in_logs(self, *processes: AppProcess) -> None:
        """Check what the processes logged (at DEBUG, a crash included) for every credential."""
        secrets = {
            "Slack bot token": self.demo.installation.bot_token,
            "signing secret": self.slack.app.signing_secret,
            "encryption key": self.key,
            "PostDICOM API key": self.emulator.api_key,
            "PostDICOM account key": self.emulator.account_key,
        }
        for process in processes:
            log = process.output()
            assert " DEBUG " in log
            leaked = [name for name, secret in secrets.items() if secret in log or secret.upper() in log]
            assert leaked == [], f"{', '.join(leaked)} in the log of {process.log.name}"

    def workload(self) -> Workload:
        """Return a workload in #general from three users."""
        demo = self.demo
        return Workload(self.slack, self.emulator, [demo.member, demo.admin, demo.owner], demo.general)

    async def store(self) -> Store:
        """Open the shared database as the processes do (for setup and for reading jobs)."""
        return Store(Database(self.database_url), Cipher([self.key]))


async def _shared(tmp_path: Path, backend: str) -> AsyncIterator[Shared]:
    async with (
        SlackStub() as slack,
        PostDicomEmulator(seed="demo") as emulator,
        temporary_database_url(backend, tmp_path) as database_url,
    ):
        yield Shared(slack, emulator, database_url, tmp_path)


@pytest.fixture(params=["sqlite", "postgresql"])
async def shared(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Shared]:
    async for value in _shared(tmp_path, request.param):
        yield value


@pytest.fixture
async def on_postgres(tmp_path: Path) -> AsyncIterator[Shared]:
    async for value in _shared(tmp_path, "postgresql"):
        yield value


async def _prepare(world: Shared, store: Store) -> None:
    await enable_uploads(store, world.workspace, world.demo.general.id)


async def _settle(world: Shared, store: Store, workload: Workload) -> list[UploadJob]:
    await workload.wait_for_answers(ANSWERS_WITHIN)
    return await workload.wait_for_jobs(lambda: jobs_of(store, world.workspace, workload), JOBS_WITHIN)


async def test_app_killed_mid_upload_and_restarted(shared: Shared) -> None:
    world = shared
    emulator = world.emulator
    workload = world.workload()
    secret = world.slack.app.signing_secret
    # PostDICOM slow enough that the kill lands in the middle of the upload.
    emulator.faults.set(emulator.account_key, latency=0.15)
    async with app_process(world.directory, world.environment(), name="doomed") as doomed:
        store = await world.store()
        try:
            await _prepare(world, store)
            before = workload.searches(4)
            assert set(await deliver_all(doomed.events_url, secret, before)) == {200}
            await workload.wait_for_answers(ANSWERS_WITHIN)
            study = workload.study(20)
            assert set(await deliver_all(doomed.events_url, secret, workload.events(study))) == {200}

            def landed() -> int:
                account = emulator.state.account(emulator.account_key)
                found = account.order_by_study(study.study_uid) if account else None
                return 0 if found is None else len(found.instances)

            for _ in range(3000):  # a minute at most
                if landed() >= 2:
                    break
                await asyncio.sleep(0.02)
            assert 2 <= landed() < 20, (
                f"{landed()} of 20 instances had landed at the kill:\n{doomed.output()[-2000:]}"
            )
            doomed.kill()
            await doomed.process.wait()
        finally:
            await store.database.dispose()
    # Commands sent while the app is down are lost by Slack's side, not ours: only later ones count.
    lost = workload.searches(1)
    assert await deliver_all(doomed.events_url, secret, lost) == [0]
    workload.commands.remove(lost[0])
    emulator.faults.clear(emulator.account_key)
    async with app_process(world.directory, world.environment(), name="revived") as revived:
        store = await world.store()
        try:
            after = workload.searches(4)
            late = workload.study(2)
            assert set(await deliver_all(revived.events_url, secret, [*after, *workload.events(late)])) == {
                200
            }
            jobs = await _settle(world, store, workload)
            outcome = workload.check(
                "app killed (SIGKILL) mid-upload, restarted", jobs, await healthy(revived.base_url)
            )
            outcome.retried_jobs = sum(1 for job in jobs if job.attempts > 1)
        finally:
            await store.database.dispose()
    outcome.fault += f" ({'PostgreSQL' if 'postgresql' in world.database_url else 'SQLite'})"
    world.assert_no_secret_in_logs(doomed, revived)
    record(outcome)
    assert outcome.retried_jobs >= 1, "the killed job was not picked up again"
    assert emulator.uploads.counters.instances_deduplicated == 0


async def test_two_app_processes_on_one_postgresql_database(on_postgres: Shared) -> None:
    world = on_postgres
    workload = world.workload()
    secret = world.slack.app.signing_secret
    async with (
        app_process(world.directory, world.environment(), name="first") as first,
        app_process(world.directory, world.environment(), name="second") as second,
    ):
        store = await world.store()
        try:
            await _prepare(world, store)
            apps: tuple[AppProcess, AppProcess] = (first, second)
            commands = workload.searches(8)
            studies = [workload.study(3), workload.study(2), workload.study(1)]
            deliveries = []
            for number, command in enumerate(commands):
                deliveries.append(deliver_all(apps[number % 2].events_url, secret, [command]))
            for study in studies:
                # Every event reaches both processes, one of them as a Slack retry.
                for event in workload.events(study):
                    deliveries.append(deliver_all(first.events_url, secret, [event]))
                    deliveries.append(deliver_all(second.events_url, secret, [event], retry_num=1))
            statuses = {status for batch in await asyncio.gather(*deliveries) for status in batch}
            assert statuses == {200}
            jobs = await _settle(world, store, workload)
            both_healthy = await healthy(first.base_url) and await healthy(second.base_url)
            outcome = workload.check("two app processes, one PostgreSQL database", jobs, both_healthy)
        finally:
            await store.database.dispose()
    world.assert_no_secret_in_logs(first, second)
    record(outcome)
    assert world.emulator.uploads.counters.instances_deduplicated == 0
    assert len(jobs) == sum(len(study.file_ids) for study in studies)
