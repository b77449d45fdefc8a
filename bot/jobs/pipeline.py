"""One upload job from Slack file to PostDICOM: look up, download, check, unpack, upload, record.

Every run works in a directory of its own under the configured temporary directory, removed when
the run ends however it ends. DICOM goes through the client's parallel upload sockets in batches;
every instance PostDICOM has acknowledged (or already had) is recorded against the job as soon as
it is known, so a run resumed after a crash sends only what is missing: its own record first, then
PostDICOM's CheckFileExist for anything sent but not yet recorded. A dropped socket is survived in
place: what completed is recorded and the rest is sent again after a short pause.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import aiohttp

from bot.dicom import ArchiveLimits, Kind
from bot.jobs.anonymize import deidentifier_for, deidentify_files
from bot.jobs.arriving import ArrivingArchive
from bot.jobs.download import Downloaded, DownloadPolicy, download
from bot.jobs.errors import JobError, Rejected
from bot.jobs.kept import KeptDownloads
from bot.jobs.ports import JobHost, OrderTarget, Outcome, PostDicomTarget, SlackFile
from bot.jobs.prepare import DicomFile, DocumentFile, Prepared, prepare
from bot.jobs.progress import Phase, Progress
from bot.jobs.worker import JobControl
from bot.postdicom import (
    MAX_DOCUMENT_BYTES,
    FileRange,
    PatientOrder,
    Sending,
    Skipped,
    SkipReason,
    UploadEvent,
    UploadInterrupted,
    UploadResult,
    UploadSourceError,
)
from bot.postdicom.upload_frames import part_count
from bot.store import UploadState

logger = logging.getLogger(__name__)

Report = Callable[[Progress], None]
_RECORD_EVERY_FILES = 25
_RECORD_EVERY_SECONDS = 1.0
_ABANDON_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class PipelineConfig:
    """How jobs download, unpack and upload."""

    download: DownloadPolicy
    archive: ArchiveLimits
    temp_dir: Path | None = None
    # Each batch is one client call (its own upload session and sockets).
    batch_files: int = 400
    batch_bytes: int = 4 * 1024 * 1024 * 1024
    upload_attempts: int = 4
    retry_pause_seconds: float = 1.0
    # Upload a zip's stored instances while the rest of it downloads (completed once it is vetted).
    upload_while_downloading: bool = True


def document_marker(sha256: str) -> str:
    """Return the pseudo instance UID that records a document as attached for its job."""
    return "document:" + sha256[:52]


class UploadPipeline:
    """Run jobs: the worker pool calls :meth:`run` for each claimed job."""

    def __init__(
        self,
        host: JobHost,
        http: aiohttp.ClientSession,
        config: PipelineConfig,
        kept: KeptDownloads | None = None,
    ) -> None:
        self.host = host
        self.http = http
        self.config = config
        self.kept = kept

    async def run(self, control: JobControl, report: Report) -> Outcome:
        """Do one attempt of a job; raise JobError (or anything else) when it fails."""
        job = control.job
        shown = await control.shown()
        visible = _Visible(report, shown)
        slack_file = await self.host.slack_file(job)
        token = await self.host.bot_token(job)
        workdir = Path(
            await asyncio.to_thread(tempfile.mkdtemp, prefix="pacsbot-job-", dir=self.config.temp_dir)
        )
        started = time.monotonic()
        early: _EarlyUpload | None = None
        try:
            downloaded = await self._checked_for_prompt(control, slack_file, workdir / "download")
            if downloaded is None:
                if self.config.upload_while_downloading and not job.options.anonymize:
                    arriving = ArrivingArchive(
                        workdir / "download",
                        already=await control.sent(),
                        max_members=self.config.archive.max_members,
                    )
                    early = _EarlyUpload(self.host, control, arriving, visible, slack_file.size)
                downloaded = await self._download(slack_file, token, workdir / "download", visible, early)
            downloaded_at = time.monotonic()

            async def on_member(done: int, total: int) -> None:
                visible(Progress(Phase.CHECKING, files_done=done, files_total=total))

            visible(Progress(Phase.CHECKING))
            prepared = await prepare(
                downloaded.path,
                slack_file.name,
                downloaded.head,
                workdir,
                self.config.archive,
                tick=on_member,
                checked=early.arriving.checked if early else None,
            )
            shown = shown or await control.shown()
            if prepared.document is not None:
                return await self._attach(control, prepared.document, downloaded.sha256, shown, visible)
            if not prepared.dicom:
                if prepared.kind is Kind.HTML or not (shown or prepared.kind is Kind.ZIP):
                    return Outcome("ignored")
                raise _nothing_to_upload(slack_file.name, prepared)
            visible.show()
            prepared_at = time.monotonic()
            if early is not None:
                outcome = await self._upload(
                    control, prepared, visible, workdir, await early.outcome(prepared)
                )
            else:
                outcome = await self._upload(control, prepared, visible, workdir)
            early = None
            logger.info(
                "upload job %s: %d bytes downloaded in %.2f s, %d instance(s) checked in %.2f s, "
                "uploaded in %.2f s more",
                job.id,
                downloaded.size,
                downloaded_at - started,
                len(prepared.dicom),
                prepared_at - downloaded_at,
                time.monotonic() - prepared_at,
            )
            return outcome
        finally:
            if early is not None:
                # The archive was refused, or the job failed: no last part is sent, nothing is filed.
                await early.abandon()
            await asyncio.to_thread(shutil.rmtree, workdir, True)

    async def _download(
        self, slack_file: SlackFile, token: str, path: Path, report: Report, early: _EarlyUpload | None
    ) -> Downloaded:
        report(Progress(Phase.DOWNLOADING, 0, slack_file.size))

        def on_bytes(done: int, total: int) -> None:
            report(Progress(Phase.DOWNLOADING, done, total))

        try:
            return await download(
                self.http,
                slack_file.url,
                token,
                path,
                policy=self.config.download,
                expected_size=slack_file.size or None,
                html_expected=slack_file.is_html,
                progress=on_bytes,
                written=early.arriving.written if early else None,
            )
        finally:
            if early is not None:
                early.arriving.download_over()

    async def _checked_for_prompt(
        self, control: JobControl, slack_file: SlackFile, destination: Path
    ) -> Downloaded | None:
        """Take the copy the ask prompt downloaded and checked, if this process still holds it."""
        if self.kept is None:
            return None
        job = control.job
        downloaded = await self.kept.take((job.workspace.key, job.slack_file_id), destination)
        if downloaded is None:
            return None
        if slack_file.size and downloaded.size != slack_file.size:
            # Not the bytes Slack holds now; the work directory's removal takes the copy away.
            logger.info("upload job %s: the copy checked for the prompt differs in size; downloading", job.id)
            return None
        logger.info("upload job %s: using the copy downloaded for the prompt", job.id)
        return downloaded

    # --- DICOM ------------------------------------------------------------------------------

    async def _upload(
        self,
        control: JobControl,
        prepared: Prepared,
        report: Report,
        workdir: Path,
        early: _EarlyOutcome | None = None,
    ) -> Outcome:
        job = control.job
        # The early upload already looked the target up (and made its folder); it is not asked twice.
        target = early.target if early and early.target else await control.guarded(self.host.postdicom(job))
        await control.advance(UploadState.UPLOADING)
        # Files recorded as landed (by an earlier attempt, or by the early upload) are not sent
        # again, nor are files PostDICOM refused in the early upload.
        already = await control.sent()
        settled = already | early.refused_sops if early else already
        todo = [file for file in prepared.dicom if file.instance.sop_instance_uid not in settled]
        not_accepted: list[str] = list(early.refused_names) if early else []
        if job.options.anonymize:
            todo, refused = await self._deidentified(control, todo, workdir / "deidentified", report)
            not_accepted += refused
        state = _UploadState(
            files_total=len(prepared.dicom),
            files_done=len(prepared.dicom) - len(todo),
            bytes_total=sum(file.size for file in todo),
            sent=early.sent if early else 0,
            existing=early.existing if early else 0,
        )
        report(state.progress())
        orders: dict[str, PatientOrder] = {}
        for order in early.orders if early else ():
            orders.setdefault(order.patient_order_uuid.lower(), order)
        for batch in _batches(todo, self.config.batch_files, self.config.batch_bytes):
            result_orders, refused = await self._upload_batch(control, target, batch, state, report)
            for order in result_orders:
                orders.setdefault(order.patient_order_uuid.lower(), order)
            not_accepted += refused
        if not_accepted and state.sent == 0 and state.existing == 0:
            raise Rejected(
                "PostDICOM did not accept the files as DICOM; nothing was uploaded.",
                code="postdicom.unsupported",
            )
        previously = early.previously if early else already
        return Outcome(
            "dicom",
            orders=tuple(orders.values()),
            files_total=len(prepared.dicom),
            files_sent=state.sent,
            files_already_there=sum(
                1 for file in prepared.dicom if file.instance.sop_instance_uid in previously
            )
            + state.existing,
            skipped=prepared.skipped + tuple(not_accepted),
            dicomdirs=prepared.dicomdirs,
            duplicates=prepared.duplicates,
            folder_uuid=target.folder_uuid,
            anonymized=job.options.anonymize,
        )

    async def _deidentified(
        self, control: JobControl, files: list[DicomFile], out_dir: Path, report: Report
    ) -> tuple[list[DicomFile], list[str]]:
        """Return de-identified copies of ``files`` to upload instead, and the names of those refused."""
        job = control.job

        async def tick(done: int, total: int) -> None:
            report(Progress(Phase.CHECKING, files_done=done, files_total=total))

        deidentified = await deidentify_files(
            deidentifier_for(job),
            files,
            out_dir,
            pixel_risk_confirmed=job.options.pixel_risk_confirmed,
            tick=tick,
        )
        return list(deidentified.files), list(deidentified.refused_names)

    async def _upload_batch(
        self,
        control: JobControl,
        target: PostDicomTarget,
        batch: Sequence[DicomFile],
        state: _UploadState,
        report: Report,
    ) -> tuple[tuple[PatientOrder, ...], list[str]]:
        remaining = list(batch)
        attempt = 0
        while True:
            attempt += 1
            tracker = _Tracker(control, remaining, state, report)
            try:
                result = await target.client.upload_dicom_files(
                    target.user_uuid,
                    target.institution_uuid,
                    [FileRange(file.path, file.offset, file.size, file.name) for file in remaining],
                    folder_uuid=target.folder_uuid,
                    progress=tracker.on_event,
                )
            except asyncio.CancelledError:
                # A graceful stop: what landed is recorded, so the attempt that resumes the job
                # neither sends it nor asks PostDICOM about it again.
                await tracker.flush()
                raise
            except UploadInterrupted as interrupted:
                landed = _landed(interrupted.completed_files, interrupted.skipped)
                await tracker.settle(landed)
                remaining = [file for index, file in enumerate(remaining) if index not in landed]
                if attempt >= self.config.upload_attempts:
                    raise JobError(
                        "The connection to PostDICOM kept dropping during the upload; I will resume where it stopped.",
                        code="postdicom.connection_lost",
                        retryable=True,
                    ) from None
                logger.info("upload socket dropped; %d file(s) left, retrying in place", len(remaining))
                report(
                    replace(
                        state.progress(),
                        phase=Phase.RETRYING,
                        note="the connection to PostDICOM dropped; resuming",
                    )
                )
                await asyncio.sleep(self.config.retry_pause_seconds * attempt)
                continue
            landed = _landed(result.files_sent, result.files_skipped)
            await tracker.settle(landed)
            refused = [
                remaining[skip.file_index].name for skip in result.files_skipped if skip.reason.refused
            ]
            return result.orders, refused

    # --- documents --------------------------------------------------------------------------

    async def _attach(
        self, control: JobControl, document: DocumentFile, sha256: str, shown: bool, report: _Visible
    ) -> Outcome:
        job = control.job
        order: OrderTarget | None = await self.host.order_of_thread(job)
        if order is None:
            if not shown:
                return Outcome("ignored")
            raise Rejected(
                f"`{document.name}` was not attached: documents attach to an order when they are shared "
                "in the thread of a message I posted about that order.",
                code="document.no_order",
            )
        if document.size > MAX_DOCUMENT_BYTES:
            raise Rejected(
                f"`{document.name}` is {document.size / 2**20:.1f} MB; PostDICOM takes documents up to "
                f"{MAX_DOCUMENT_BYTES // 2**20} MB.",
                code="document.too_large",
            )
        report.show()
        marker = document_marker(sha256)
        target = await self.host.postdicom(job)
        await control.advance(UploadState.UPLOADING)
        if marker in await control.sent():
            return Outcome("document", files_total=1, files_already_there=1, document_name=document.name)
        state = _UploadState(files_total=1, files_done=0, bytes_total=document.size)

        def on_event(event: UploadEvent) -> None:
            if isinstance(event, Sending):
                report(replace(state.progress(), bytes_done=event.bytes_done))

        result = await target.client.upload_document_files(
            target.user_uuid,
            order.institution_uuid or target.institution_uuid,
            order.order_uuid,
            [document.path],
            progress=on_event,
        )
        await control.record_sent([marker])
        return Outcome(
            "document",
            orders=result.orders,
            files_total=1,
            files_sent=1,
            document_name=document.name,
        )


@dataclass(frozen=True, slots=True)
class _EarlyOutcome:
    """What the upload begun during the download settled, for the rest of the job to build on."""

    target: PostDicomTarget | None
    orders: tuple[PatientOrder, ...]
    sent: int
    existing: int
    refused_names: tuple[str, ...]
    refused_sops: frozenset[str]
    previously: frozenset[str]


class _EarlyUpload:
    """Upload a zip's instances while it downloads; nothing completes before the archive is vetted."""

    def __init__(
        self,
        host: JobHost,
        control: JobControl,
        arriving: ArrivingArchive,
        report: Report,
        expected_bytes: int,
    ) -> None:
        self.arriving = arriving
        self.control = control
        self.state = _UploadState(files_total=0, files_done=0, bytes_total=0)
        self.target: PostDicomTarget | None = None
        # Silent until the archive is vetted: the thread's message says "downloading" until then.
        self._visible = _Visible(report, shown=False)
        self.tracker = _Tracker(control, arriving.handed_out, self.state, self._visible)
        self._task = asyncio.create_task(self._run(host, expected_bytes))

    async def _run(self, host: JobHost, expected_bytes: int) -> UploadResult | None:
        files = self.arriving.files()
        first = await anext(files, None)
        if first is None:
            return None
        # It reads the workspace's connection from the database: a job abandoned meanwhile must not
        # cut that short (SQLite's transactions take the write lock from their first statement).
        self.target = target = await self.control.guarded(host.postdicom(self.control.job))

        async def ranges() -> AsyncIterator[FileRange]:
            file: DicomFile | None = first
            while file is not None:
                self.state.bytes_total += file.size
                yield FileRange(file.path, file.offset, file.size, file.name)
                file = await anext(files, None)

        return await target.client.upload_dicom_files(
            target.user_uuid,
            target.institution_uuid,
            ranges(),
            folder_uuid=target.folder_uuid,
            progress=self.tracker.on_event,
            expected_bytes=self.arriving.bytes_to_come(expected_bytes),
            release=self.arriving.release,
        )

    async def outcome(self, prepared: Prepared) -> _EarlyOutcome:
        """Let the vetted files complete, and return what this upload settled."""
        await self.control.advance(UploadState.UPLOADING)
        self.arriving.vetted(prepared)
        self.state.files_total = len(prepared.dicom)
        self._visible.show()
        refused: list[int] = []
        orders: tuple[PatientOrder, ...] = ()
        try:
            result = await self._task
        except UploadInterrupted as interrupted:
            # What completed is recorded; the rest goes the ordinary way, which retries in place.
            logger.info("upload socket dropped during the early upload; resuming the ordinary way")
            await self.tracker.settle(_landed(interrupted.completed_files, interrupted.skipped))
        except UploadSourceError:
            # A download that started over rewrote the zip under a part being read. Nothing of it
            # was filed (no last part leaves before the vetting): the ordinary way sends it all,
            # from the vetted archive; a file that cannot be read there fails the job as usual.
            logger.info(
                "the early upload lost its source (the download started over); uploading the ordinary way"
            )
            await self.tracker.settle(())
        else:
            if result is not None:
                await self.tracker.settle(_landed(result.files_sent, result.files_skipped))
                refused = [skip.file_index for skip in result.files_skipped if skip.reason.refused]
                orders = result.orders
        handed_out = self.arriving.handed_out
        return _EarlyOutcome(
            target=self.target,
            orders=orders,
            sent=self.state.sent,
            existing=self.state.existing,
            refused_names=tuple(handed_out[index].name for index in refused),
            refused_sops=frozenset(handed_out[index].instance.sop_instance_uid for index in refused),
            previously=frozenset(self.arriving.already),
        )

    async def abandon(self) -> None:
        """Stop the upload: nothing more completes (the job failed or stopped, or the archive was refused)."""
        # Failing its source ends the upload at its next file, before any last part is sent; it
        # is cancelled only if that takes too long (a PostDICOM reply that does not come).
        self.arriving.failed(JobError("The upload was abandoned.", code="upload.abandoned", retryable=True))
        _, pending = await asyncio.wait([self._task], timeout=_ABANDON_SECONDS)
        if pending:
            self._task.cancel()
            await asyncio.wait([self._task])
        if not self._task.cancelled():
            self._task.exception()
        # Files whose last part was acknowledged before the stop are filed: the job records them.
        await self.tracker.flush()


def _landed(sent: Iterable[int], skipped: Iterable[Skipped]) -> set[int]:
    return set(sent) | {skip.file_index for skip in skipped if skip.reason is SkipReason.ALREADY_EXISTS}


class _Visible:
    """Progress goes to Slack only once the job is worth a message; silent jobs stay silent."""

    def __init__(self, report: Report, shown: bool) -> None:
        self._report = report
        self.shown = shown

    def show(self) -> None:
        self.shown = True

    def __call__(self, progress: Progress) -> None:
        if self.shown:
            self._report(progress)


@dataclass
class _UploadState:
    files_total: int
    files_done: int
    bytes_total: int
    bytes_base: int = 0
    sent: int = 0
    existing: int = 0

    def progress(self, batch_bytes: int = 0) -> Progress:
        return Progress(
            Phase.UPLOADING,
            bytes_done=min(self.bytes_base + batch_bytes, self.bytes_total),
            bytes_total=self.bytes_total,
            files_done=self.files_done,
            files_total=self.files_total,
        )


class _Tracker:
    """Follow one client upload call: progress, and which instances have landed, recorded as they land."""

    def __init__(
        self,
        control: JobControl,
        files: Sequence[DicomFile],
        state: _UploadState,
        report: Report,
    ) -> None:
        self.control = control
        # The files as sent (anonymized ones are de-identified copies), so their part counts are
        # known here and each lands in the record as its last part is acknowledged. ``files`` may
        # grow during the call.
        self.files = files
        self.state = state
        self.report = report
        self.parts: dict[int, int] = {}
        self.landed: set[int] = set()
        self.sent: set[int] = set()
        self.unrecorded: list[int] = []
        self.last_record = time.monotonic()
        self.call_bytes = 0

    async def on_event(self, event: UploadEvent) -> None:
        """Take one of the client's progress events."""
        if isinstance(event, Sending):
            self.call_bytes = event.bytes_done
            index = event.file_index
            if 0 <= index < len(self.files):
                self.parts[index] = self.parts.get(index, 0) + 1
                if self.parts[index] == part_count(self.files[index].size):
                    self._land(index, sent=True)
        elif isinstance(event, Skipped) and event.reason is SkipReason.ALREADY_EXISTS:
            self._land(event.file_index, sent=False)
        else:
            return
        self.report(self.state.progress(self.call_bytes))
        if len(self.unrecorded) >= _RECORD_EVERY_FILES or (
            self.unrecorded and time.monotonic() - self.last_record >= _RECORD_EVERY_SECONDS
        ):
            await self._record()

    def _land(self, index: int, *, sent: bool) -> None:
        if index in self.landed or not 0 <= index < len(self.files):
            return
        self.landed.add(index)
        self.unrecorded.append(index)
        self.state.files_done += 1
        if sent:
            self.sent.add(index)
            self.state.sent += 1
        else:
            self.state.existing += 1
            self.state.bytes_total -= self.files[index].size

    async def flush(self) -> None:
        """Record what has landed and is not recorded yet."""
        await self._record()

    async def _record(self) -> None:
        indexes, self.unrecorded = self.unrecorded, []
        self.last_record = time.monotonic()
        if indexes:
            await self.control.record_sent(self.files[index].instance.sop_instance_uid for index in indexes)

    async def settle(self, landed: Iterable[int]) -> None:
        """Count and record what the call reported as landed, and move the byte count past it."""
        for index in landed:
            self._land(index, sent=True)
        await self._record()
        # Parts of files that did not land will be sent again, so only landed files count as done.
        self.state.bytes_base += sum(self.files[index].size for index in self.sent)
        self.report(self.state.progress())


def _batches(files: Sequence[DicomFile], max_files: int, max_bytes: int) -> Iterator[list[DicomFile]]:
    batch: list[DicomFile] = []
    size = 0
    for file in files:
        if batch and (len(batch) >= max_files or size + file.size > max_bytes):
            yield batch
            batch, size = [], 0
        batch.append(file)
        size += file.size
    if batch:
        yield batch


def _nothing_to_upload(name: str, prepared: Prepared) -> Rejected:
    if prepared.directory_only:
        return Rejected(
            f"`{name}` is a DICOMDIR, the index of a CD, not the images: share the whole CD as a zip.",
            code="dicom.dicomdir_only",
        )
    if prepared.kind is Kind.ZIP:
        skipped = len(prepared.skipped)
        return Rejected(
            f"`{name}` holds no DICOM files"
            + (f" ({skipped} other file(s) skipped)" if skipped else "")
            + "; nothing was uploaded.",
            code="zip.no_dicom",
        )
    return Rejected(f"`{name}` is not DICOM, so nothing was uploaded.", code="dicom.not_dicom")


@dataclass(frozen=True, slots=True)
class Preview:
    """A shared file downloaded and checked without a job: what it holds, and the download itself."""

    downloaded: Downloaded
    prepared: Prepared


@contextlib.asynccontextmanager
async def preview(
    http: aiohttp.ClientSession, slack_file: SlackFile, token: str, config: PipelineConfig
) -> AsyncIterator[Preview]:
    """Download and check a shared file without a job (to ask before uploading); clean up after.

    The download may be moved away (to be kept for the job) before the block ends.
    """
    workdir = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="pacsbot-preview-", dir=config.temp_dir))
    try:
        downloaded = await download(
            http,
            slack_file.url,
            token,
            workdir / "download",
            policy=config.download,
            expected_size=slack_file.size or None,
            html_expected=slack_file.is_html,
        )
        prepared = await prepare(downloaded.path, slack_file.name, downloaded.head, workdir, config.archive)
        if prepared.document is not None:  # prepare renamed the download to the document's name
            downloaded = replace(downloaded, path=prepared.document.path)
        yield Preview(downloaded, prepared)
    finally:
        await asyncio.to_thread(shutil.rmtree, workdir, True)
