"""Credentials at rest and in logs, under faults; and an uninstall that takes the keys with it.

The log test runs the fault suite's mixed workload at DEBUG while PostDICOM drops sockets, refuses
requests and lets sessions expire and Slack answers 503s, since error paths are where exception
texts (aiohttp quotes URLs, and PostDICOM URLs carry the API key) slip into logs. The database
files are read as bytes, write-ahead log included.
"""

from __future__ import annotations

import asyncio
import io
import logging
import sqlite3
from pathlib import Path

import pytest

from bot.logs import configure_logging
from bot.sandbox.postdicom import DEMO_ACCOUNT_KEY, DEMO_API_KEY, PostDicomEmulator
from bot.store import ChannelSettings, UploadMode
from tests.app.harness import Scenario, eventually, scenario
from tests.reliability.conftest import speed_up_retries
from tests.reliability.workload import Workload


def database_files(directory: Path) -> dict[str, bytes]:
    """Read the SQLite database and its side files as bytes."""
    return {path.name: path.read_bytes() for path in directory.glob("pacsbot-test.db*")}


def secrets_of(world: Scenario) -> dict[str, str]:
    settings = world.app.services.settings
    assert settings.encryption_key is not None
    return {
        "Slack bot token": world.demo.installation.bot_token,
        "Slack signing secret": world.signing_secret,
        "encryption key": settings.encryption_key.get_secret_value(),
        "PostDICOM API key": DEMO_API_KEY,
        "PostDICOM account key": DEMO_ACCOUNT_KEY,
    }


def leaks(haystack: bytes, secrets: dict[str, str]) -> list[str]:
    found = []
    for name, secret in secrets.items():
        for variant in {secret, secret.upper(), secret.replace("-", "")}:
            if variant.encode() in haystack or variant.encode("utf-16-le") in haystack:
                found.append(name)
    return sorted(set(found))


@pytest.mark.usefixtures("restore_logging")
async def test_no_credential_in_the_database_files_or_the_logs_under_faults(
    tmp_path: Path, emulator: PostDicomEmulator
) -> None:
    output = io.StringIO()
    handler = configure_logging("DEBUG", "text")
    handler.setStream(output)
    scratch = tmp_path / "uploads"
    scratch.mkdir()
    async with scenario(
        tmp_path,
        postdicom_router_url=emulator.router_url,
        extra_settings={
            "PACSBOT_POSTDICOM_API_KEY": emulator.api_key,
            "PACSBOT_POSTDICOM_ACCOUNT_KEY": emulator.account_key,
            "PACSBOT_UPLOAD_POLL_SECONDS": "0.2",
            "PACSBOT_UPLOAD_TEMP_DIR": str(scratch),
            "PACSBOT_LOG_LEVEL": "DEBUG",
        },
    ) as world:
        store = world.app.services.store
        speed_up_retries(store)
        await store.channel_settings.save(
            world.workspace, world.demo.general.id, ChannelSettings(upload_mode=UploadMode.AUTO)
        )
        secrets = secrets_of(world)
        faults = [
            {"drop_after_frames": 4},
            {"error_rate": 0.5},
            {"session_ttl": 0.3, "expiry_closes_socket": True},
            {"drop_upload_after_parts": 1},
        ]
        world.slack.faults.server_error("chat.update", times=2, status=503)
        world.slack.faults.server_error("file_download", times=1, status=502)
        demo = world.demo
        for plan in faults:
            emulator.faults.clear()
            emulator.faults.set(emulator.account_key, **plan)
            workload = Workload(world.slack, emulator, [demo.member, demo.admin], demo.general)
            sends = [world.send(payload) for payload in workload.searches(4)]
            study = workload.study(2)
            sends += [world.send(event) for event in workload.events(study)]
            await asyncio.gather(*sends)
            await workload.wait_for_answers(30)

            async def done(study_files: tuple[str, ...] = study.file_ids) -> bool:
                jobs = [await store.upload_jobs.find(world.workspace, file_id) for file_id in study_files]
                return all(job is not None and job.is_finished for job in jobs)

            for _ in range(300):
                if await done():
                    break
                await asyncio.sleep(0.1)
        emulator.faults.clear()
        # Nothing waits in the upload scratch directory once the jobs have ended.
        await eventually(lambda: not any(scratch.rglob("*.*")), within=10, what="the scratch files to go")
    logging.getLogger().removeHandler(handler)

    text = output.getvalue()
    assert " DEBUG " in text
    assert " failed " in text  # the faults were logged (and are checked here)
    assert leaks(text.encode(), secrets) == [], "credentials in the log output"
    files = database_files(tmp_path)
    assert "pacsbot-test.db" in files
    for name, content in files.items():
        assert leaks(content, secrets) == [], f"credentials in {name}"


async def _connection_ciphertext(path: str) -> bytes:
    def read() -> bytes:
        with sqlite3.connect(path) as connection:
            row = connection.execute("SELECT api_key_encrypted FROM postdicom_connections").fetchone()
        return bytes(row[0]) if row else b""

    return await asyncio.to_thread(read)


@pytest.mark.parametrize("event", ["app_uninstalled", "tokens_revoked"])
async def test_an_uninstall_deletes_the_workspaces_keys_and_closes_its_connection(
    world: Scenario, emulator: PostDicomEmulator, event: str
) -> None:
    store = world.app.services.store
    await world.command(world.demo.member, "search mod:CT")
    await world.ephemeral(world.demo.member, "found")
    await store.channel_settings.save(
        world.workspace, world.demo.general.id, ChannelSettings(upload_mode=UploadMode.AUTO)
    )
    assert emulator.stats.connections_open >= 1
    ciphertext = await _connection_ciphertext(world.app.services.settings.database_url.split("///", 1)[1])
    assert ciphertext
    payload: dict[str, object] = {"type": event}
    if event == "tokens_revoked":
        payload["tokens"] = {"bot": [world.demo.installation.bot_user_id]}

    await world.event(payload)

    async def forgotten() -> bool:
        return await store.connections.get(world.workspace) is None

    for _ in range(250):
        if await forgotten():
            break
        await asyncio.sleep(0.02)
    assert await forgotten()
    await eventually(lambda: emulator.stats.connections_open == 0, what="the PostDICOM socket to close")
    assert len(world.app.services.postdicom) == 0
    channel = await store.channel_settings.get(world.workspace, world.demo.general.id)
    assert channel.upload_mode is UploadMode.ASK  # back to the default: the row is gone
    # A later command from the workspace reaches no PostDICOM account.
    frames = sum(emulator.stats.frames.values())
    await world.command(world.demo.member, "search mod:CT")
    await world.ephemeral(world.demo.member, "not connected")
    assert sum(emulator.stats.frames.values()) == frames
    # Not even the encrypted keys stay behind in the database files (free pages included).
    directory = Path(world.app.services.settings.database_url.split("///", 1)[1]).parent
    holding = [name for name, content in database_files(directory).items() if ciphertext in content]
    assert holding == []
