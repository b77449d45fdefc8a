"""A workspace that uninstalls is let go of at once by the replica told, and within a poll by the others.

Two app processes (two running apps in this test's process, each with its own services, database
engine and PostDICOM clients) serve one workspace from one database, as two replicas behind a
load balancer do; Slack tells only one of them about the uninstall.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from bot.app.server import RunningApp, running
from bot.jobs.download import Downloaded
from bot.sandbox.postdicom import PostDicomEmulator
from bot.sandbox.slack import SlackStub
from bot.sandbox.slack.demo import seed_demo_workspace
from bot.settings import load_settings
from bot.store import WorkspaceRef
from bot.ui.settings import SETTINGS_CALLBACK
from commands.uploads import UPLOADS_KEY, Uploads
from tests.app.harness import Scenario, eventually
from tests.store.databases import temporary_database_url


@contextlib.asynccontextmanager
async def two_replicas(
    tmp_path: Path, emulator: PostDicomEmulator, backend: str
) -> AsyncIterator[tuple[Scenario, Scenario]]:
    async with SlackStub() as slack, temporary_database_url(backend, tmp_path) as database_url:
        demo = seed_demo_workspace(slack.state)
        settings = load_settings(
            SLACK_BOT_TOKEN=demo.installation.bot_token,
            SLACK_SIGNING_SECRET=slack.app.signing_secret,
            PACSBOT_SLACK_API_URL=slack.api_url,
            PACSBOT_DATABASE_URL=database_url,
            PACSBOT_ENCRYPTION_KEY=Fernet.generate_key().decode(),
            PACSBOT_POSTDICOM_ROUTER_URL=emulator.router_url,
            PACSBOT_POSTDICOM_API_KEY=emulator.api_key,
            PACSBOT_POSTDICOM_ACCOUNT_KEY=emulator.account_key,
            PACSBOT_POSTDICOM_TIMEOUT="5",
            PACSBOT_UPLOAD_POLL_SECONDS="0.2",
        )
        async with (
            running(settings, host="127.0.0.1", port=0) as first,
            running(settings, host="127.0.0.1", port=0) as second,
        ):
            yield (
                Scenario(slack, demo, first, "http", slack.app.signing_secret),
                Scenario(slack, demo, second, "http", slack.app.signing_secret),
            )


@pytest.fixture
async def emulator() -> AsyncIterator[PostDicomEmulator]:
    async with PostDicomEmulator(seed="demo") as server:
        yield server


def uploads_of(app: RunningApp) -> Uploads:
    uploads = app.app.extensions[UPLOADS_KEY]
    assert isinstance(uploads, Uploads)
    return uploads


async def keep_a_download(app: RunningApp, workspace_key: str, tmp_path: Path, name: str) -> Path:
    """Keep a checked download for the workspace, as the upload prompt does."""
    path = tmp_path / name
    path.write_bytes(b"DICM" * 64)
    downloaded = Downloaded(
        path, 256, hashlib.sha256(path.read_bytes()).hexdigest(), b"DICM", "application/dicom"
    )
    kept = uploads_of(app).kept
    assert await kept.keep((workspace_key, name), downloaded)
    return kept._entries[(workspace_key, name)].downloaded.path


async def use(world: Scenario) -> None:
    """Run a search and open the settings, so the replica holds a client, dictionaries and who is admin."""
    before = len(world.slack.state.ephemeral_for(world.demo.admin))
    await world.command(world.demo.admin, "search mod:CT")
    await world.command(world.demo.admin, "status")
    await world.command(world.demo.admin, "settings")
    await eventually(
        lambda: len(world.slack.state.ephemeral_for(world.demo.admin)) >= before + 2, what="both answers"
    )
    await world.modal(world.demo.admin, SETTINGS_CALLBACK)


def held(world: Scenario) -> set[str]:
    services = world.app.services
    found: set[str] = set()
    for state in services.per_workspace:
        found |= state.workspaces()
    return found


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_uninstall_frees_everything_for_the_workspace_on_every_replica(
    tmp_path: Path, emulator: PostDicomEmulator, backend: str
) -> None:
    async with two_replicas(tmp_path, emulator, backend) as (told, other):
        key = told.workspace.key
        for world in (told, other):
            await use(world)
            assert key in world.app.services.postdicom
            assert key in world.app.services.dictionaries.cache.workspaces()
            assert key in world.app.services.admins.workspaces()
        kept_here = await keep_a_download(told.app, key, tmp_path, "here.dcm")
        kept_there = await keep_a_download(other.app, key, tmp_path, "there.dcm")
        # Another connected workspace's kept download stays.
        another = WorkspaceRef(None, "TANOTHER")
        await other.app.services.store.connections.save(
            another,
            api_key=SecretStr(emulator.api_key),
            account_key=SecretStr(emulator.account_key),
            router_url=emulator.router_url,
            connected_by="UADMIN",
        )
        kept_other = await keep_a_download(other.app, another.key, tmp_path, "other.dcm")

        await told.app.services.store.upload_jobs.enqueue(
            told.workspace, "F0NOSUCHFILE", channel_id=told.demo.general.id
        )
        assert sum((await told.app.services.store.upload_jobs.counts_by_state(told.workspace)).values()) == 1

        await told.event({"type": "app_uninstalled"})

        # The replica Slack told lets go at once.
        await eventually(lambda: key not in held(told), within=2, what="the told replica to let go")
        await eventually(lambda: not kept_here.exists(), within=2, what="its kept download to go")
        assert await told.app.services.store.connections.get(told.workspace) is None
        assert not any((await told.app.services.store.upload_jobs.counts_by_state(told.workspace)).values())
        # The other one reads it from the database at its next poll.
        await eventually(lambda: key not in held(other), within=2, what="the other replica to let go")
        await eventually(lambda: not kept_there.exists(), within=2, what="its kept download to go")
        assert len(other.app.services.postdicom) == 0
        assert held(other) == {another.key}
        assert kept_other.exists()
