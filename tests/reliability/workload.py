"""A mixed workload (searches and shared studies) and the checks that nothing was lost or duplicated.

The workload runs against any app that Slack (the stub) can reach: an in-process scenario or app
processes of their own. :class:`Outcome` is what the suite asserts and what its summary table
shows: every command answered (a result or a clear error), every shared study in PostDICOM exactly
once with all its instances, no upload job left queued or running, the app healthy.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bot.sandbox.postdicom import DEMO_ACCOUNT_KEY, PostDicomEmulator
from bot.sandbox.slack import InboundPayload, SlackStub, deliver
from bot.sandbox.slack.model import Channel, Message, User
from bot.sandbox.slack.state import SlackState
from bot.store import UploadJob, UploadState
from tests.dicom.samples import ct_image, new_uid

SEARCHES = (
    "search mod:CT",
    "search mod:MR from:2000-01-01",
    "compressedsamples ct1",
    "search id:1CT1",
    "search nobody-is-called-this",
    "search acc:NOPE-0",
)
ACTIVE = (UploadState.QUEUED, UploadState.DOWNLOADING, UploadState.UPLOADING)
Send = Callable[[InboundPayload], Awaitable[Any]]


@dataclass(frozen=True)
class SharedStudy:
    """A study shared in Slack as one message: its UIDs and the message that carried it."""

    study_uid: str
    sop_uids: frozenset[str]
    message: Message
    channel: Channel
    file_ids: tuple[str, ...]


@dataclass
class Outcome:
    """What happened to one workload under one fault."""

    fault: str
    commands: int = 0
    results: int = 0
    errors: int = 0
    unanswered: int = 0
    unclear: list[str] = field(default_factory=list)
    studies: int = 0
    complete: int = 0
    duplicated: int = 0
    incomplete: list[str] = field(default_factory=list)
    jobs_done: int = 0
    jobs_failed: int = 0
    jobs_stuck: int = 0
    retried_jobs: int = 0
    healthy: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Tell whether nothing was lost, duplicated, stuck or left unanswered."""
        return (
            self.unanswered == 0
            and not self.unclear
            and self.complete == self.studies
            and self.duplicated == 0
            and self.jobs_stuck == 0
            and self.jobs_failed == 0
            and self.healthy
        )

    def row(self) -> tuple[str, ...]:
        """Render as a row of the summary table."""
        return (
            self.fault,
            f"{self.commands - self.unanswered}/{self.commands} ({self.results} results, {self.errors} errors)",
            f"{self.complete}/{self.studies}"
            + (f", {self.duplicated} duplicated" if self.duplicated else ""),
            f"{self.jobs_done} done, {self.jobs_failed} failed, {self.jobs_stuck} stuck, {self.retried_jobs} retried",
            "ok" if self.healthy else "DOWN",
            "PASS" if self.ok else "FAIL",
        )

    def explain(self) -> str:
        """Say what went wrong, for an assertion message."""
        return (
            f"{self.fault}: unanswered={self.unanswered} unclear={self.unclear} "
            f"incomplete={self.incomplete} duplicated={self.duplicated} failed={self.jobs_failed} "
            f"stuck={self.jobs_stuck} healthy={self.healthy} notes={self.notes}"
        )


SUMMARY_COLUMNS = ("fault", "commands answered", "studies complete", "upload jobs", "/healthz", "verdict")


def response_key(payload: InboundPayload) -> str:
    """Return the stub's key of a slash command's response_url."""
    url = str(payload.payload["response_url"])
    return "/".join(url.rstrip("/").split("/")[-2:])


def answer_text(state: SlackState, payload: InboundPayload) -> str | None:
    """Return the text of the app's first answer to a command, or None while there is none."""
    response_url = state.response_urls.get(response_key(payload))
    if response_url is None or response_url.uses == 0 or response_url.original is None:
        return None
    ref = response_url.original
    message = (
        state.find_ephemeral(ref.channel_id, ref.ts)
        if ref.ephemeral
        else state.find_message(ref.channel_id, ref.ts)
    )
    return None if message is None else message.text


def is_result(text: str) -> bool:
    """Tell whether an answer is a search result."""
    return text.endswith(("found", "order found", "orders found"))


def is_clear_error(text: str) -> bool:
    """Tell whether an answer is an error said plainly: what failed, not a bug or a stack trace."""
    return (
        text.startswith((":x:", ":warning:"))
        and "Traceback" not in text
        and "went wrong on our side" not in text
        and len(text) < 600
    )


class Workload:
    """Searches from several users and studies shared as files, then the checks."""

    def __init__(
        self, slack: SlackStub, emulator: PostDicomEmulator, users: Sequence[User], channel: Channel
    ) -> None:
        self.slack = slack
        self.emulator = emulator
        self.users = list(users)
        self.channel = channel
        self.commands: list[InboundPayload] = []
        self.studies: list[SharedStudy] = []

    # --- sending ---------------------------------------------------------------------------------

    def command(self, text: str, user: User | None = None) -> InboundPayload:
        """Build a /pacs command (kept, so its answer is checked)."""
        payload = self.slack.payloads.slash_command(
            user=user or self.users[len(self.commands) % len(self.users)], channel=self.channel, text=text
        )
        self.commands.append(payload)
        return payload

    def searches(self, count: int = len(SEARCHES)) -> list[InboundPayload]:
        """Build ``count`` searches, cycling through a mix that finds many, one and nothing."""
        return [self.command(text) for text, _ in zip(itertools.cycle(SEARCHES), range(count), strict=False)]

    def study(self, files: int, *, channel: Channel | None = None, user: User | None = None) -> SharedStudy:
        """Share a new study of ``files`` small CT images in one message (events not sent yet)."""
        state = self.slack.state
        target = channel or self.channel
        author = user or self.users[0]
        study_uid = new_uid()
        sops = [new_uid() for _ in range(files)]
        uploaded = [
            state.add_file(author, name=f"IM{index:03d}.dcm", content=ct_image(study=study_uid, sop=sop))
            for index, sop in enumerate(sops)
        ]
        for file in uploaded:
            file.channel_ids.append(target.id)
        message = state.post_message(
            target,
            text="",
            author=author,
            subtype="file_share",
            file_ids=[file.id for file in uploaded],
            source="upload",
        )
        shared = SharedStudy(study_uid, frozenset(sops), message, target, tuple(file.id for file in uploaded))
        self.studies.append(shared)
        return shared

    def events(self, study: SharedStudy) -> list[InboundPayload]:
        """Return Slack's events for a shared study: the message, then one file_shared per file."""
        payloads = self.slack.payloads
        events = [payloads.message_event(study.message)]
        events += [
            payloads.file_shared_event(self.slack.state.files[file_id], study.channel)
            for file_id in study.file_ids
        ]
        return events

    # --- checking --------------------------------------------------------------------------------

    async def wait_for_answers(self, within: float) -> None:
        """Wait until every command has an answer (or the time is up)."""
        state = self.slack.state
        try:
            async with asyncio.timeout(within):
                while True:
                    if all(answer_text(state, payload) is not None for payload in self.commands):
                        return
                    await asyncio.sleep(0.05)
        except TimeoutError:
            return

    async def wait_for_jobs(
        self, jobs: Callable[[], Awaitable[list[UploadJob]]], within: float
    ) -> list[UploadJob]:
        """Wait until every shared file has a job and none is queued or running; return the jobs."""
        expected = sum(len(study.file_ids) for study in self.studies)
        found: list[UploadJob] = []
        try:
            async with asyncio.timeout(within):
                while True:
                    found = await jobs()
                    if len(found) >= expected and all(job.state not in ACTIVE for job in found):
                        return found
                    await asyncio.sleep(0.1)
        except TimeoutError:
            return found

    def check(self, fault: str, jobs: Sequence[UploadJob], healthy: bool) -> Outcome:
        """Check everything the suite promises and return the outcome."""
        outcome = Outcome(fault, commands=len(self.commands), studies=len(self.studies), healthy=healthy)
        state = self.slack.state
        for payload in self.commands:
            text = answer_text(state, payload)
            if text is None:
                outcome.unanswered += 1
            elif "not connected" in text:
                # The workspace is connected: saying otherwise is a wrong answer, not a clear error.
                outcome.unclear.append(text[:120])
            elif is_result(text):
                outcome.results += 1
            elif is_clear_error(text):
                outcome.errors += 1
                outcome.notes.append(text[:100])
            else:
                outcome.unclear.append(text[:120])
        account = self.emulator.state.account(DEMO_ACCOUNT_KEY)
        assert account is not None
        for study in self.studies:
            orders = [order for order in account.live_orders() if order.study_instance_uid == study.study_uid]
            if len(orders) > 1:
                outcome.duplicated += 1
            stored = [instance.sop_instance_uid for order in orders for instance in order.instances.values()]
            if len(stored) != len(set(stored)):
                outcome.duplicated += 1
            if set(stored) == study.sop_uids and len(orders) == 1:
                outcome.complete += 1
            else:
                outcome.incomplete.append(
                    f"{study.study_uid[-6:]}: {len(set(stored))}/{len(study.sop_uids)} in {len(orders)} orders"
                )
        file_ids = {file_id for study in self.studies for file_id in study.file_ids}
        ours = [job for job in jobs if job.slack_file_id in file_ids]
        outcome.jobs_done = sum(1 for job in ours if job.state is UploadState.DONE)
        outcome.jobs_failed = sum(1 for job in ours if job.state is UploadState.FAILED)
        outcome.jobs_stuck = sum(1 for job in ours if job.state in ACTIVE) + max(0, len(file_ids) - len(ours))
        outcome.retried_jobs = sum(1 for job in ours if job.attempts > 1)
        if outcome.jobs_failed:
            outcome.notes += [
                f"{job.slack_file_id}: {job.last_error}" for job in ours if job.state is UploadState.FAILED
            ]
        return outcome


async def healthy(base_url: str) -> bool:
    """Tell whether the app answers /healthz and /readyz with 200."""
    timeout = aiohttp.ClientTimeout(total=5)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session:
            for path in ("/healthz", "/readyz"):
                async with session.get(base_url + path) as response:
                    if response.status != 200:
                        return False
    except (aiohttp.ClientError, TimeoutError):
        return False
    return True


async def deliver_all(
    url: str, signing_secret: str, payloads: Sequence[InboundPayload], **signing: Any
) -> list[int]:
    """POST signed payloads to an app at once; return the statuses (0 when the app could not be reached)."""

    async def one(payload: InboundPayload) -> int:
        try:
            result = await deliver(url, payload.signed(signing_secret, **signing))
        except (aiohttp.ClientError, TimeoutError):
            return 0
        return result.status

    return list(await asyncio.gather(*(one(payload) for payload in payloads)))
