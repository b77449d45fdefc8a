"""Helpers for the upload scenarios: share files as a Slack user, wait for the app's thread message,
inspect what landed in the emulator."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import TypeVar

from bot.app.server import running
from bot.sandbox.postdicom import DEMO_ACCOUNT_KEY, PostDicomEmulator
from bot.sandbox.postdicom.state import Account, Order
from bot.sandbox.slack import DemoWorkspace, FileUpload, Message, SlackStub
from bot.sandbox.slack.model import Channel, User
from bot.settings import load_settings
from bot.store import AuditEntry, ChannelSettings, UploadMode, UploadState
from tests.app.harness import Scenario, eventually

T = TypeVar("T")


async def set_channel(
    world: Scenario,
    mode: UploadMode,
    *,
    channel: Channel | None = None,
    anonymize: bool = False,
    folder: tuple[str, str] | None = None,
    external_allowed: bool = False,
) -> None:
    """Save a channel's upload settings directly (the command has its own tests)."""
    await world.app.services.store.channel_settings.save(
        world.workspace,
        (channel or world.demo.general).id,
        ChannelSettings(
            upload_mode=mode,
            anonymize_by_default=anonymize,
            target_folder_uuid=folder[0] if folder else None,
            target_folder_path=folder[1] if folder else None,
            external_allowed=external_allowed,
        ),
    )


async def share(
    world: Scenario,
    name: str,
    content: bytes,
    *,
    user: User | None = None,
    channel: Channel | None = None,
    thread_ts: str | None = None,
    events: bool = True,
) -> FileUpload:
    """Share a file as a user and deliver both of Slack's events for it (unless told not to)."""
    upload = world.slack.upload_file(
        user=user or world.demo.member,
        channel=channel or world.demo.general,
        name=name,
        content=content,
        thread_ts=thread_ts,
    )
    if events:
        await world.send(upload.message_event)
        await world.send(upload.file_shared_event)
    return upload


def share_many(
    world: Scenario, files: Iterable[tuple[str, bytes]], *, channel: Channel | None = None
) -> Message:
    """Share several files in one message (as Slack's web client does) and return that message."""
    state = world.slack.state
    target = channel or world.demo.general
    uploaded = [state.add_file(world.demo.member, name=name, content=content) for name, content in files]
    for file in uploaded:
        file.channel_ids.append(target.id)
    return state.post_message(
        target,
        text="",
        author=world.demo.member,
        subtype="file_share",
        file_ids=[file.id for file in uploaded],
        source="upload",
    )


def bot_replies(world: Scenario, thread_ts: str, channel: Channel | None = None) -> list[Message]:
    """Return the app's messages in a thread."""
    replies = world.slack.state.channel_history(channel or world.demo.general, thread_ts=thread_ts)
    return [message for message in replies if message.bot_id is not None]


def rendered(message: Message) -> str:
    """Return a message's text and blocks as one string to search."""
    return message.text + json.dumps(message.blocks)


async def thread_says(
    world: Scenario, thread_ts: str, phrase: str, *, within: float = 30.0, channel: Channel | None = None
) -> Message:
    """Wait until one of the app's messages in the thread contains a phrase."""

    def find() -> Message | None:
        for message in bot_replies(world, thread_ts, channel):
            if phrase in rendered(message):
                return message
        return None

    return await eventually(find, within=within, what=f"a thread message containing {phrase!r}")


def account(emulator: PostDicomEmulator) -> Account:
    """Return the emulator's demo account."""
    found = emulator.state.account(DEMO_ACCOUNT_KEY)
    assert found is not None
    return found


def order_of(emulator: PostDicomEmulator, study: str) -> Order | None:
    """Return the emulator's order of a study, if it has one."""
    return account(emulator).order_by_study(study)


async def until(
    probe: Callable[[], Awaitable[T | None]], *, within: float = 30.0, what: str = "condition"
) -> T:
    """Poll an async probe (a database query) until it returns something truthy."""
    try:
        async with asyncio.timeout(within):
            while True:
                value = await probe()
                if value:
                    return value
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


async def workers_idle(world: Scenario, within: float = 30.0) -> None:
    """Wait until no upload job is queued or active."""
    jobs = world.app.services.store.upload_jobs
    active = (UploadState.QUEUED, UploadState.DOWNLOADING, UploadState.UPLOADING)

    async def settled() -> bool:
        counts = await jobs.counts_by_state()
        return all(counts[state] == 0 for state in active)

    await until(settled, within=within, what="the upload jobs to settle")


async def audited(world: Scenario, action: str, *, count: int = 1) -> list[AuditEntry]:
    """Wait for audit entries of an action and return them."""

    async def entries() -> list[AuditEntry] | None:
        recent = await world.app.services.store.audit.recent(world.workspace)
        found = [entry for entry in recent if entry.action == action]
        return found if len(found) >= count else None

    return await until(entries, what=f"{count} audit entries {action}")


@contextlib.asynccontextmanager
async def app_process(
    slack: SlackStub,
    demo: DemoWorkspace,
    database_url: str,
    emulator: PostDicomEmulator,
    encryption_key: str,
    extra_settings: Mapping[str, str] | None = None,
) -> AsyncIterator[Scenario]:
    """Run one more app process (HTTP mode) on a given database, beside a scenario's Slack stub."""
    settings = load_settings(
        SLACK_BOT_TOKEN=demo.installation.bot_token,
        SLACK_SIGNING_SECRET=slack.app.signing_secret,
        PACSBOT_SLACK_API_URL=slack.api_url,
        PACSBOT_DATABASE_URL=database_url,
        PACSBOT_ENCRYPTION_KEY=encryption_key,
        PACSBOT_POSTDICOM_ROUTER_URL=emulator.router_url,
        PACSBOT_POSTDICOM_API_KEY=emulator.api_key,
        PACSBOT_POSTDICOM_ACCOUNT_KEY=emulator.account_key,
        PACSBOT_POSTDICOM_TIMEOUT="10",
        **(extra_settings or {}),
    )
    async with running(settings, host="127.0.0.1", port=0) as app:
        yield Scenario(slack, demo, app, "http", slack.app.signing_secret)
