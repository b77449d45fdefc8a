"""What the job machinery needs from the app around it, as protocols the app implements.

``bot/jobs`` moves bytes and job rows; it does not know Slack's Web API, Block Kit or how a
workspace reaches PostDICOM. The app (``commands/uploads.py``) provides those through a
:class:`JobHost`, and shows a job's life through a :class:`JobReporter`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from bot.jobs.progress import Progress
from bot.postdicom import PatientOrder, PostDicomClient
from bot.store import UploadJob


@dataclass(frozen=True, slots=True)
class SlackFile:
    """What Slack's ``files.info`` says about a shared file."""

    id: str
    name: str
    size: int
    mimetype: str
    filetype: str
    url: str

    @property
    def is_html(self) -> bool:
        """Tell whether Slack itself calls the file a web page (so its bytes may be HTML)."""
        return self.filetype == "html" or self.mimetype == "text/html"


@dataclass(frozen=True, slots=True)
class PostDicomTarget:
    """Where a workspace's uploads go: the client, the acting user, the institution, the folder."""

    client: PostDicomClient
    user_uuid: str
    institution_uuid: str
    folder_uuid: str | None = None


@dataclass(frozen=True, slots=True)
class OrderTarget:
    """The order a thread is about (documents shared in it attach to it)."""

    order_uuid: str
    institution_uuid: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a finished job did."""

    kind: Literal["dicom", "document", "ignored"]
    orders: tuple[PatientOrder, ...] = ()
    files_total: int = 0
    files_sent: int = 0
    files_already_there: int = 0
    skipped: tuple[str, ...] = ()
    dicomdirs: int = 0
    duplicates: int = 0
    folder_uuid: str | None = None
    anonymized: bool = False
    document_name: str = ""


@dataclass(frozen=True, slots=True)
class Failure:
    """How a failed attempt is explained: user-safe words, an audit code, and whether to try again."""

    message: str
    code: str
    retryable: bool


class JobReporter(Protocol):
    """Shows one job's life to the people in the file's thread; never raises."""

    async def progress(self, progress: Progress) -> None:
        """Show where the job is (called at most about once a second)."""

    async def done(self, outcome: Outcome) -> None:
        """Show what the job uploaded."""

    async def failed(self, failure: Failure, *, final: bool, retry_at: datetime | None) -> None:
        """Show that an attempt failed: for good (offer Retry), or to be retried at ``retry_at``."""

    async def dropped(self) -> None:
        """The file was not for PostDICOM after all: take back anything shown so far."""


class JobHost(Protocol):
    """The app's side of a job: Slack access, PostDICOM access, reporting and auditing."""

    async def slack_file(self, job: UploadJob) -> SlackFile:
        """Look the job's file up (``files.info``); raise JobError if it is gone or Slack is down."""

    async def bot_token(self, job: UploadJob) -> str:
        """Return the bot token of the job's workspace."""

    async def postdicom(self, job: UploadJob) -> PostDicomTarget:
        """Return the workspace's PostDICOM client and where to upload (the folder made if missing)."""

    async def order_of_thread(self, job: UploadJob) -> OrderTarget | None:
        """Return the order the file's thread is about, if the app posted one there."""

    def reporter(self, job: UploadJob) -> JobReporter:
        """Return the reporter for a job's message."""

    def explain(self, error: BaseException) -> Failure:
        """Turn any error of an attempt into user-safe words and a retry decision."""

    async def audit(self, job: UploadJob, outcome: Outcome | None, failure: Failure | None) -> None:
        """Record the job's final outcome in the audit log."""
