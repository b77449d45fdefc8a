"""DICOM shared in Slack lands in PostDICOM: the file events, the ask prompt, ``/pacs channel``, and
the Slack side of the upload jobs (looking files up, progress messages, study cards, audit).

Slack sends two events per shared file; the ``message`` event of subtype ``file_share`` is used
(it names the channel, the thread and every file of the message at once) and ``file_shared`` is
answered with a no-op. Events are acknowledged by Bolt before any of this runs. Whether a file is
uploaded is decided once, in the database: a job per workspace and Slack file id, so Slack's
retries and several app processes make one upload. What each channel does is its admins' choice:
``auto`` uploads at once, ``ask`` (the default) asks the person who shared, ``off`` does nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import aiohttp
from cachetools import LRUCache, TTLCache
from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import metrics
from bot.app.channel_guard import check_request
from bot.app.channels import ChannelFacts
from bot.app.errors import NotConnected, UserFacingError, describe
from bot.app.grammar import UsageError, split_words
from bot.app.lookup import Lookup
from bot.app.pacs_app import PacsApp
from bot.app.replays import repeated_submission
from bot.app.request import PacsRequest, PostDicomHandle, workspace_of
from bot.app.router import run_answering_errors
from bot.dicom import ArchiveLimits, DicomInstance, Kind, group_studies
from bot.jobs import (
    DownloadPolicy,
    Failure,
    JobError,
    KeptDownloads,
    KeptPolicy,
    OrderTarget,
    Outcome,
    Phase,
    PipelineConfig,
    PostDicomTarget,
    Progress,
    Rejected,
    SlackFile,
    UploadPipeline,
    UploadWorkers,
    WorkerConfig,
    preview,
)
from bot.postdicom import DocumentTooLarge, InvalidAnonymization, PatientOrder, PostDicomError
from bot.store import (
    AuditOutcome,
    ChannelSettings,
    PhiDisplay,
    UploadJob,
    UploadMode,
    UploadOptions,
    WorkspaceRef,
)
from bot.ui import uploads as ui
from bot.ui.orders import Names, order_summary
from bot.ui.values import BadActionValue, OrderRef

logger = logging.getLogger(__name__)

# bot/app/server.py starts and stops every object listed under this key of ``app.extensions``.
BACKGROUND_KEY = "background"
# The callback id of the message shortcut "Upload to PostDICOM" in manifest.yml.
UPLOAD_SHORTCUT = "upload.from_message"
# The callback id of the message shortcut "Attach to order…" in manifest.yml.
ATTACH_SHORTCUT = "upload.attach_to_order"
UPLOADS_KEY = "uploads"
# Names and types that suggest the person meant DICOM; they only decide whether a "queued" message
# appears before the bytes are seen, never whether the file is DICOM.
_DICOM_LIKE_EXTENSIONS = frozenset({"dcm", "dicom", "dic", "ima", "zip"})
_DICOM_LIKE_TYPES = frozenset({"application/dicom", "application/zip", "application/x-zip-compressed"})
_PREVIEWS_AT_ONCE = 3
_MAX_FILES_PER_PROMPT = 20
# A job renders its share's message again while the others' parts keep changing under it.
_SHARE_RENDER_ROUNDS = 3


def looks_meant_for_pacs(file: Mapping[str, Any]) -> bool:
    """Tell whether a shared file's name or type suggests DICOM (to show "queued" before checking)."""
    name = str(file.get("name") or "")
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if not name:
        return False
    return (
        extension in _DICOM_LIKE_EXTENSIONS
        or not extension
        or str(file.get("mimetype") or "").lower() in _DICOM_LIKE_TYPES
        or file.get("filetype") == "zip"
    )


def orders_in_blocks(blocks: Sequence[Mapping[str, Any]]) -> list[OrderRef]:
    """Return the orders a message's buttons and menus act on (the app's own values only), in order."""
    found: dict[str, OrderRef] = {}
    for block in blocks:
        elements = [*(block.get("elements") or []), block.get("accessory")]
        for element in elements:
            if not isinstance(element, Mapping):
                continue
            values = [element.get("value"), *(item.get("value") for item in element.get("options") or [])]
            for value in values:
                try:
                    _, ref = OrderRef.decode(str(value or "").partition("|")[0])
                except BadActionValue:
                    continue
                found.setdefault(ref.order_uuid, ref)
    return list(found.values())


@dataclass(frozen=True, slots=True)
class _Checked:
    """What a preview of one shared file found."""

    file_id: str
    name: str
    instances: tuple[DicomInstance, ...] = ()
    document: bool = False
    problem: str = ""


def _pseudonym() -> str:
    return secrets.token_hex(4).upper()


def _parse_value(value: str) -> tuple[str, list[str], str, str]:
    """Read a prompt button's value: thread, file ids, and the modality and year for the modal."""
    parts = value.split("|")
    if len(parts) not in (4, 5) or not parts[0] or not parts[1]:
        raise UserFacingError("That button is not one of mine, so I did nothing.")
    ids = [item for item in parts[1].split(",") if item.isalnum() and len(item) <= 32]
    return parts[0], ids[:_MAX_FILES_PER_PROMPT], parts[2][:16], parts[3][:4]


def _prompt_value(
    thread_ts: str, file_ids: Sequence[str], modality: str = "", year: str = "", instances: int = 0
) -> str:
    value = "|".join((thread_ts, ",".join(file_ids), modality.replace("|", ""), year))
    return f"{value}|{instances}" if instances else value


def _instance_count(value: str) -> int:
    """Read how many DICOM instances the prompt counted in its files (0 when it did not say)."""
    parts = value.split("|")
    return int(parts[4]) if len(parts) == 5 and parts[4].isdigit() and len(parts[4]) <= 6 else 0


class Uploads:
    """Everything uploads need in one place: settings, the worker pool, Slack clients, caches."""

    def __init__(self, app: PacsApp) -> None:
        self.app = app
        self.services = app.services
        settings = self.services.settings
        self.pipeline_config = PipelineConfig(
            download=DownloadPolicy(max_bytes=settings.upload_max_file_bytes),
            archive=ArchiveLimits(
                max_expanded_bytes=settings.upload_max_expanded_bytes,
                max_ratio=settings.upload_max_zip_ratio,
                max_members=settings.upload_max_zip_members,
            ),
            temp_dir=Path(settings.upload_temp_dir) if settings.upload_temp_dir else None,
            upload_while_downloading=settings.upload_while_downloading,
        )
        self.host = SlackJobHost(self)
        self.kept = KeptDownloads(
            KeptPolicy(
                max_bytes=settings.upload_keep_checked_bytes,
                max_seconds=settings.upload_keep_checked_minutes * 60,
            ),
            self.pipeline_config.temp_dir,
        )
        self.workers = UploadWorkers(
            self.services.store.upload_jobs,
            UploadPipeline(self.host, self.services.http, self.pipeline_config, self.kept),
            self.host,
            WorkerConfig(
                concurrency=settings.upload_workers,
                per_workspace=settings.upload_workers_per_workspace,
                lease_seconds=settings.upload_lease_seconds,
                poll_seconds=settings.upload_poll_seconds,
            ),
        )
        self._clients: dict[str, AsyncWebClient] = {}
        self._bot_ids: dict[str, str] = {}
        self.file_names: LRUCache[str, str] = LRUCache(maxsize=10_000)
        # Slack retries an event it thinks was lost; one prompt per shared message is enough.
        self._prompted: TTLCache[str, bool] = TTLCache(maxsize=10_000, ttl=3600)
        # Why files were left alone is said once per channel and reason (a day), not at every drop.
        self._explained: TTLCache[str, bool] = TTLCache(maxsize=10_000, ttl=86_400)
        # The files of a share finishing in this process make their study cards one at a time,
        # so a study's share link is made once (another replica may still make its own).
        self.share_locks: TTLCache[str, asyncio.Lock] = TTLCache(maxsize=10_000, ttl=3600)
        self.services.per_workspace.append(self)

    # --- per workspace ----------------------------------------------------------------------------

    def workspaces(self) -> set[str]:
        """Return the workspaces with downloads kept or jobs running in this process."""
        return self.kept.workspaces() | self.workers.workspaces()

    async def release(self, workspace_key: str) -> None:
        """Remove the workspace's kept downloads and stop its jobs whose rows are gone."""
        await self.kept.drop_workspace(workspace_key)
        await self.workers.drop_vanished()

    # --- Slack access ---------------------------------------------------------------------------

    def slack(self, token: str) -> AsyncWebClient:
        """Return a Web API client for a bot token, with retries for rate limits and server errors."""
        client = self._clients.get(token)
        if client is None:
            if len(self._clients) > 1000:
                self._clients.clear()
            client = self._clients[token] = AsyncWebClient(
                token=token,
                base_url=self.services.settings.slack_api_url or AsyncWebClient.BASE_URL,
                timeout=15,
                session=self.services.http,
                retry_handlers=[
                    AsyncConnectionErrorRetryHandler(max_retry_count=3),
                    AsyncRateLimitErrorRetryHandler(max_retry_count=3),
                    AsyncServerErrorRetryHandler(max_retry_count=3),
                ],
            )
            # The upload worker's calls count in /metrics like the handlers' (Bolt's own client).
            metrics.instrument_slack_client(client)
        return client

    async def bot_token(self, workspace: WorkspaceRef) -> str:
        """Return the workspace's bot token (from the environment, or its installation)."""
        installations = self.services.store.installations
        if installations is None:
            token = self.services.settings.slack_bot_token
            if token is None:
                raise JobError("The app has no Slack token.", code="slack.no_token", retryable=False)
            return token.get_secret_value()
        bot = await installations.async_find_bot(
            enterprise_id=workspace.enterprise_id,
            team_id=workspace.team_id,
            is_enterprise_install=workspace.is_enterprise_install,
        )
        if bot is None or not bot.bot_token:
            raise JobError(
                "The app is no longer installed in this workspace.",
                code="slack.not_installed",
                retryable=False,
            )
        return bot.bot_token

    async def bot_id(self, token: str) -> str:
        """Return the bot id behind a token (its messages carry it)."""
        known = self._bot_ids.get(token)
        if known is None:
            identity = await self.slack(token).auth_test()
            known = self._bot_ids[token] = str(identity.get("bot_id") or "")
        return known

    async def slack_file(self, workspace: WorkspaceRef, file_id: str) -> SlackFile:
        """Look a file up with ``files.info``; raise JobError (retryable or not) when Slack will not say."""
        client = self.slack(await self.bot_token(workspace))
        try:
            response = await client.files_info(file=file_id)
        except SlackApiError as error:
            code = str(error.response.get("error") or "") if error.response is not None else ""
            status = error.response.status_code if error.response is not None else 0
            if code in ("file_not_found", "file_deleted", "access_denied"):
                raise JobError(
                    "Slack no longer has the file, or does not share it with the app.",
                    code="slack.file_gone",
                    retryable=False,
                ) from None
            raise JobError(
                "Slack did not describe the file (it may be busy); I will try again.",
                code="slack.files_info",
                retryable=status == 429 or status >= 500 or code in ("ratelimited", "internal_error"),
            ) from None
        except (aiohttp.ClientError, TimeoutError):
            raise JobError("Slack could not be reached.", code="slack.unreachable", retryable=True) from None
        file = response.get("file") or {}
        url = str(file.get("url_private_download") or file.get("url_private") or "")
        name = str(file.get("name") or file.get("title") or file_id)
        self.file_names[file_id] = name
        if not url:
            raise JobError(
                f"Slack gives no download link for `{name}` (is it a link to an outside file?).",
                code="slack.no_download",
                retryable=False,
            )
        return SlackFile(
            id=file_id,
            name=name,
            size=int(file.get("size") or 0),
            mimetype=str(file.get("mimetype") or ""),
            filetype=str(file.get("filetype") or ""),
            url=url,
        )

    async def order_of_thread(self, workspace: WorkspaceRef, channel: str, thread_ts: str) -> OrderRef | None:
        """Return the order the app's newest single-order message in a thread is about, if any."""
        token = await self.bot_token(workspace)
        try:
            bot_id = await self.bot_id(token)
            response = await self.slack(token).conversations_replies(channel=channel, ts=thread_ts, limit=200)
        except SlackApiError as error:
            logger.info(
                "could not read a thread in team %s: %s",
                workspace.key,
                error.response.get("error") if error.response is not None else "no answer",
            )
            return None
        except (aiohttp.ClientError, TimeoutError):
            raise JobError("Slack could not be reached.", code="slack.unreachable", retryable=True) from None
        for message in reversed(response.get("messages") or []):
            if not bot_id or message.get("bot_id") != bot_id:
                continue
            orders = orders_in_blocks(message.get("blocks") or [])
            if len(orders) == 1:
                return orders[0]
        return None

    # --- PostDICOM access -----------------------------------------------------------------------

    async def postdicom(self, workspace: WorkspaceRef) -> PostDicomHandle:
        """Return the workspace's PostDICOM handle, or raise a user-facing error when it is not ready."""
        try:
            return await self.services.accounts.handle(workspace)
        except NotConnected:
            raise JobError(
                "This workspace is no longer connected to PostDICOM; an admin can reconnect it with `/pacs connect`.",
                code="postdicom.not_connected",
                retryable=False,
            ) from None

    async def missing_folders(self, handle: PostDicomHandle, path: str) -> list[str]:
        """List the folders of a path (as paths) that ensure_folder would create."""
        parts = [part.strip() for part in path.strip("/").split("/") if part.strip()]
        parent: str | None = None
        for depth, name in enumerate(parts):
            listing = await handle.client.get_folder_list(handle.user_uuid, parent or "", None, False)
            existing = next(
                (item for item in listing.sub_folder_list if item.folder_name.casefold() == name.casefold()),
                None,
            )
            if existing is None:
                return ["/".join(parts[: end + 1]) for end in range(depth, len(parts))]
            parent = existing.folder_uuid
        return []

    async def ensure_folder(self, workspace: WorkspaceRef, handle: PostDicomHandle, path: str) -> str:
        """Return the UUID of a folder path, creating the folders that are missing."""
        dictionaries = self.services.dictionaries
        wanted = "/".join(part.strip() for part in path.strip("/").split("/") if part.strip())
        if not wanted:
            raise UsageError("a folder path needs a name", "/pacs channel auto folder:Inbox/Slack")
        folders = await dictionaries.folders(workspace.key, handle.client, handle.user_uuid)
        for entry in folders:
            if entry.path.casefold() == wanted.casefold():
                return entry.folder.folder_uuid
        parent: str | None = None
        for name in wanted.split("/"):
            listing = await handle.client.get_folder_list(
                user_uuid=handle.user_uuid, parent_folder_uuid=parent or "", get_orders_in_folder=False
            )
            existing = next(
                (item for item in listing.sub_folder_list if item.folder_name.casefold() == name.casefold()),
                None,
            )
            if existing is not None:
                parent = existing.folder_uuid
                continue
            created = await handle.client.create_folder(handle.user_uuid, parent or "", name)
            if not created.folder_uuid:
                raise JobError(
                    f"PostDICOM did not create the folder {name!r}.", code="postdicom.folder", retryable=True
                )
            parent = created.folder_uuid
            dictionaries.invalidate(workspace.key, "folders")
            await self.services.store.audit.record(
                workspace,
                action="folder.create",
                outcome=AuditOutcome.SUCCEEDED,
                slack_user_id=None,
                folder_uuids=[parent.lower()],
            )
        assert parent is not None  # noqa: S101 - the path has at least one name
        return parent

    # --- enqueueing -----------------------------------------------------------------------------

    def options_for(
        self,
        settings: ChannelSettings,
        *,
        anonymize: bool,
        replacements: Mapping[str, str] | None,
        pixel_risk_confirmed: bool = False,
    ) -> UploadOptions:
        """Build a job's options from the channel's settings and the anonymization chosen."""
        # One key per share: the files shared together get consistent UIDs, on every retry too.
        return UploadOptions(
            anonymize=anonymize,
            folder_uuid=settings.target_folder_uuid,
            folder_path=settings.target_folder_path,
            replacements=dict(replacements or {}),
            deidentification_key=secrets.token_hex(32) if anonymize else "",
            pixel_risk_confirmed=anonymize and pixel_risk_confirmed,
        )

    async def enqueue(
        self,
        workspace: WorkspaceRef,
        *,
        channel: str,
        thread_ts: str,
        requested_by: str | None,
        files: Sequence[tuple[str, str, bool]],
        options: UploadOptions,
    ) -> tuple[int, int]:
        """Create a job per file (existing ones are left alone); return (created, already known).

        The files given together are one share: they show in one message in the thread.
        """
        jobs = self.services.store.upload_jobs
        share = str(uuid.uuid4())
        created = existing = 0
        queued: list[ui.Shown] = []
        for index, (file_id, name, announce) in enumerate(files):
            result = await jobs.enqueue(
                workspace,
                file_id,
                channel_id=channel,
                thread_ts=thread_ts,
                requested_by=requested_by,
                options=options,
                share_id=share,
                share_index=index,
            )
            if not result.created:
                existing += 1
                continue
            created += 1
            if name:
                self.file_names[file_id] = name
            if announce:
                shown = ui.progress_message(name or "file", Progress(Phase.QUEUED))
                await jobs.set_display(result.job.id, shown.to_store())
                queued.append(shown)
        if queued:
            client = self.slack(await self.bot_token(workspace))
            text, blocks = ui.share_message(queued)
            try:
                posted = await client.chat_postMessage(
                    channel=channel, thread_ts=thread_ts, text=text, blocks=blocks, unfurl_links=False
                )
                mine = str(posted["ts"])
                if await jobs.claim_share_message(share, mine) != mine:
                    # A worker took a job of the share first and posted the message itself.
                    await client.chat_delete(channel=channel, ts=mine)
            except SlackApiError as error:
                reason = error.response.get("error") if error.response is not None else "no answer"
                logger.info("could not post a queued message: %s", reason)
        if created:
            self.workers.kick()
        return created, existing

    def default_replacements(self, *, modality: str = "", year: str = "") -> dict[str, str]:
        """Return replacements for an anonymized upload nobody filled in (one pseudonym per share)."""
        values = ui.default_replacements(_pseudonym(), modality=modality, year=year)
        return replacements_from_form(values)

    # --- events ---------------------------------------------------------------------------------

    async def on_file_share(self, event: Mapping[str, Any], workspace: WorkspaceRef) -> None:
        """Handle a message that shared files: upload, ask, or leave them, as the channel says."""
        channel = str(event.get("channel") or "")
        user = str(event.get("user") or "") or None
        files = [file for file in event.get("files") or [] if isinstance(file, Mapping) and file.get("id")]
        if not channel or not files:
            return
        store = self.services.store
        if await store.connections.get(workspace) is None:
            return
        if not (await store.workspace_settings.get(workspace)).allows_channel(channel):
            await self.explain_once(workspace, channel, user, "not_allowed", ui.NOT_ALLOWED_TEXT)
            return
        settings = await store.channel_settings.get(workspace, channel)
        if settings.upload_mode is UploadMode.OFF:
            return
        message_ts = str(event.get("ts") or "")
        thread_ts = str(event.get("thread_ts") or message_ts)
        external = await self.external_facts(workspace, channel, settings)
        if external is False:
            return
        uploader_team = str(event.get("user_team") or event.get("team") or "") or None
        foreign = (
            not workspace.is_enterprise_install
            and uploader_team is not None
            and uploader_team != workspace.team_id
        )
        if foreign:
            # Only a member of this workspace may send another organisation's files into its PACS.
            if external is not None:
                await self.ask_members(
                    workspace, channel, thread_ts, [str(file["id"]) for file in files], external
                )
            else:
                logger.info(
                    "files from another team in channel %s of team %s left alone", channel, workspace.key
                )
            return
        if settings.upload_mode is UploadMode.AUTO:
            if not event.get("thread_ts") and any(_is_pdf(file) for file in files):
                await self.explain_once(workspace, channel, user, "document_root", ui.DOCUMENT_ROOT_TEXT)
            replacements = self.default_replacements() if settings.anonymize_by_default else None
            await self.enqueue(
                workspace,
                channel=channel,
                thread_ts=thread_ts,
                requested_by=user,
                files=[
                    (str(file["id"]), str(file.get("name") or ""), looks_meant_for_pacs(file))
                    for file in files
                ],
                options=self.options_for(
                    settings, anonymize=settings.anonymize_by_default, replacements=replacements
                ),
            )
            return
        if user is None:
            return
        key = f"{workspace.key}:{channel}:{message_ts}"
        if key in self._prompted:
            return
        self._prompted[key] = True
        await self.ask(
            workspace,
            channel=channel,
            user=user,
            thread_ts=thread_ts,
            in_thread=bool(event.get("thread_ts")) and event.get("thread_ts") != message_ts,
            file_ids=[str(file["id"]) for file in files][:_MAX_FILES_PER_PROMPT],
            settings=settings,
            shared_with=external.partners if external is not None else None,
        )

    async def external_facts(
        self, workspace: WorkspaceRef, channel: str, settings: ChannelSettings
    ) -> ChannelFacts | Literal[False] | None:
        """Return the channel's facts when it is an allowed external channel, False when uploads stay out, else None."""
        client = self.slack(await self.bot_token(workspace))
        facts = await self.services.channels.facts(client, workspace.key, workspace.team_id, channel)
        if not facts.known or (facts.external and not settings.external_allowed):
            logger.info(
                "files shared in channel %s of team %s left alone: %s",
                channel,
                workspace.key,
                "the channel is shared with another organisation"
                if facts.known
                else "Slack will not describe it",
            )
            return False
        return facts if facts.external else None

    async def ask_members(
        self,
        workspace: WorkspaceRef,
        channel: str,
        thread_ts: str,
        file_ids: Sequence[str],
        facts: ChannelFacts,
    ) -> None:
        """Ask in the thread, with no patient data, whether a member wants another organisation's files uploaded."""
        fresh = [
            file_id
            for file_id in file_ids[:_MAX_FILES_PER_PROMPT]
            if await self.services.store.upload_jobs.find(workspace, file_id) is None
        ]
        if not fresh:
            return
        client = self.slack(await self.bot_token(workspace))
        text, blocks = ui.members_prompt(len(fresh), facts.partners, _prompt_value(thread_ts, fresh))
        await client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text, blocks=blocks)

    async def ask(
        self,
        workspace: WorkspaceRef,
        *,
        channel: str,
        user: str,
        thread_ts: str,
        in_thread: bool,
        file_ids: Sequence[str],
        settings: ChannelSettings,
        shared_with: str | None = None,
    ) -> None:
        """Look at the shared files and ask the person who shared them what to do."""
        jobs = self.services.store.upload_jobs
        fresh = [file_id for file_id in file_ids if await jobs.find(workspace, file_id) is None]
        if not fresh:
            return
        limit = asyncio.Semaphore(_PREVIEWS_AT_ONCE)

        async def check(file_id: str) -> _Checked:
            async with limit:
                return await self.check(workspace, file_id)

        checked = await asyncio.gather(*(check(file_id) for file_id in fresh))
        dicom = [item for item in checked if item.instances]
        documents = [item for item in checked if item.document]
        problems = [item.problem for item in checked if item.problem]
        if any(not (item.instances or item.document or item.problem) for item in checked):
            await self.explain_once(workspace, channel, user, "other_type", ui.OTHER_TYPE_TEXT)
        client = self.slack(await self.bot_token(workspace))
        # The answer goes where the files were shared: in the thread, when they were shared in one.
        where_thread = thread_ts if in_thread else None
        if dicom:
            instances = [instance for item in dicom for instance in item.instances]
            studies = group_studies(instances)
            first = studies[0]
            value = _prompt_value(
                thread_ts,
                [item.file_id for item in dicom],
                first.modalities[0] if first.modalities else "",
                first.study_date[:4],
                len(instances),
            )
            what = ui.studies_text(len(instances), studies)
            await client.chat_postEphemeral(
                channel=channel,
                user=user,
                thread_ts=where_thread,
                text=f"{what}. Upload to PostDICOM?",
                blocks=ui.prompt_blocks(
                    what=what,
                    value=value,
                    anonymize_by_default=settings.anonymize_by_default,
                    folder_path=settings.target_folder_path,
                    problems=problems,
                    shared_with=shared_with,
                ),
            )
            problems = []
        order = await self.order_of_thread(workspace, channel, thread_ts) if documents and in_thread else None
        if documents and order is None:
            await self.explain_once(workspace, channel, user, "document_root", ui.DOCUMENT_ROOT_TEXT)
        if documents and in_thread and order is not None:
            summary = await self._order_line(workspace, order)
            await client.chat_postEphemeral(
                channel=channel,
                user=user,
                thread_ts=where_thread,
                text="Attach to this order in PostDICOM?",
                blocks=ui.attach_prompt_blocks(
                    [item.name for item in documents],
                    summary,
                    _prompt_value(thread_ts, [item.file_id for item in documents]),
                ),
            )
        if problems:
            await client.chat_postEphemeral(
                channel=channel,
                user=user,
                thread_ts=where_thread,
                text="Some files cannot be uploaded",
                blocks=ui.problems_blocks(problems),
            )

    async def explain_once(
        self, workspace: WorkspaceRef, channel: str, user: str | None, reason: str, text: str
    ) -> None:
        """Tell the person who shared files why they were left alone, once per channel and reason."""
        key = f"{workspace.key}:{channel}:{reason}"
        if user is None or key in self._explained:
            return
        self._explained[key] = True
        client = self.slack(await self.bot_token(workspace))
        try:
            await client.chat_postEphemeral(
                channel=channel, user=user, text=text, blocks=ui.explain_blocks(text)
            )
        except SlackApiError as error:
            logger.info(
                "explaining ignored files failed for team %s: %s",
                workspace.key,
                error.response.get("error") if error.response else "no answer",
            )

    async def check(self, workspace: WorkspaceRef, file_id: str) -> _Checked:
        """Download and check one shared file, without uploading anything."""
        try:
            slack_file = await self.slack_file(workspace, file_id)
            token = await self.bot_token(workspace)
            async with preview(self.services.http, slack_file, token, self.pipeline_config) as seen:
                prepared = seen.prepared
                # A zip whose members were unpacked is gone already: the job downloads it again.
                kept = prepared.dicom or prepared.document is not None
                if kept and await asyncio.to_thread(seen.downloaded.path.exists):
                    await self.kept.keep((workspace.key, file_id), seen.downloaded)
                return _Checked(
                    file_id,
                    slack_file.name,
                    instances=tuple(file.instance for file in prepared.dicom),
                    document=prepared.document is not None,
                    problem=(
                        ui.nothing_in_zip(slack_file.name, len(prepared.skipped))
                        if prepared.kind is Kind.ZIP and not prepared.dicom
                        else ""
                    ),
                )
        except Rejected as error:
            return _Checked(file_id, self.file_names.get(file_id, ""), problem=error.message)
        except JobError as error:
            name = self.file_names.get(file_id, "a file")
            return _Checked(file_id, name, problem=f"I could not check `{name}`: {error.message}")
        except Exception:
            logger.exception("checking a shared file failed in team %s", workspace.key)
            name = self.file_names.get(file_id, "a file")
            return _Checked(file_id, name, problem=f"I could not check `{name}`; it has been logged.")

    async def _order_line(self, workspace: WorkspaceRef, ref: OrderRef) -> str:
        try:
            handle = await self.postdicom(workspace)
            order = await self._order(handle, ref.order_uuid, ref.institution_uuid)
        except (JobError, PostDicomError):
            return ""
        settings = await self.services.store.workspace_settings.get(workspace)
        try:
            names = await self.services.accounts.names(workspace, handle, ttl=settings.cache_ttl_seconds)
        except PostDicomError:
            # Without the dictionaries the line still says which order, with ids for names.
            names = Names.empty()
        return order_summary(order, settings.phi_display, names)

    async def _order(
        self, handle: PostDicomHandle, order_uuid: str, institution_uuid: str | None
    ) -> PatientOrder:
        institution = institution_uuid or handle.institution_uuid or ""
        order = await handle.client.get_patient_order_properties(handle.user_uuid, institution, order_uuid)
        if order.institution_uuid is None:
            order = order.model_copy(update={"institution_uuid": institution})
        return order

    async def verified_names(self, workspace: WorkspaceRef, file_ids: Sequence[str]) -> list[str]:
        """Check that every file id is a file of this workspace (values can be forged); return names."""
        names = []
        for file_id in file_ids:
            names.append((await self.slack_file(workspace, file_id)).name)
        return names


def replacements_from_form(values: Mapping[str, str]) -> dict[str, str]:
    """Turn the modal's fields into anonymization replacements keyed by the library's tag names."""
    replacements: dict[str, str] = {}
    for field in ui.ANONYMIZATION_FIELDS:
        value = values.get(field.block_id, "")
        if field.block_id == "study_date":
            value = value.replace("-", "")
        for key in field.tag_keys:
            replacements[key] = value if key != "InstitutionAddress" else ""
    return replacements


def check_form(values: Mapping[str, str]) -> dict[str, str]:
    """Return field errors of the anonymization modal (empty when it can be used)."""
    errors = {}
    for field in ui.ANONYMIZATION_FIELDS:
        value = values.get(field.block_id, "")
        if "\\" in value:
            errors[field.block_id] = "Backslashes separate DICOM values; leave them out."
        elif field.block_id == "study_date" and value:
            try:
                date.fromisoformat(value)
            except ValueError:
                errors[field.block_id] = "Write the date as YYYY-MM-DD, or leave it empty."
        elif field.block_id == "patient_name" and any(len(part) > 64 for part in value.split("^")):
            errors[field.block_id] = "Each part of a name can be 64 characters at most."
        elif len(value) > field.max_length:
            errors[field.block_id] = f"At most {field.max_length} characters."
    return errors


class SlackJobHost:
    """The app's side of the upload jobs (see :class:`bot.jobs.JobHost`)."""

    def __init__(self, uploads: Uploads) -> None:
        self.uploads = uploads

    async def slack_file(self, job: UploadJob) -> SlackFile:
        """Look the job's file up with ``files.info``."""
        return await self.uploads.slack_file(job.workspace, job.slack_file_id)

    async def bot_token(self, job: UploadJob) -> str:
        """Return the bot token of the job's workspace."""
        return await self.uploads.bot_token(job.workspace)

    async def postdicom(self, job: UploadJob) -> PostDicomTarget:
        """Return the client, acting user, institution and folder for the job's upload."""
        handle = await self.uploads.postdicom(job.workspace)
        institution = handle.institution_uuid
        if institution is None and handle.client.account is not None:
            institutions = handle.client.account.institutions()
            institution = institutions[0].institution_uuid if institutions else None
        if institution is None:
            raise JobError(
                "The PostDICOM account has no institution to upload into.",
                code="postdicom.setup",
                retryable=False,
            )
        folder = job.options.folder_uuid
        if job.options.folder_path:
            folder = await self.uploads.ensure_folder(job.workspace, handle, job.options.folder_path)
        return PostDicomTarget(handle.client, handle.user_uuid, institution, folder)

    async def order_of_thread(self, job: UploadJob) -> OrderTarget | None:
        """Return the order the job's thread is about, if the app posted one there."""
        if job.thread_ts is None:
            return None
        ref = await self.uploads.order_of_thread(job.workspace, job.channel_id, job.thread_ts)
        return None if ref is None else OrderTarget(ref.order_uuid, ref.institution_uuid)

    def reporter(self, job: UploadJob) -> SlackReporter:
        """Return the reporter that keeps the job's message in the file's thread."""
        return SlackReporter(self.uploads, job)

    def explain(self, error: BaseException) -> Failure:
        """Turn an attempt's error into words for the thread and a retry decision."""
        if isinstance(error, UsageError):
            return Failure(error.message, "upload.folder", False)
        if isinstance(error, UserFacingError):
            return Failure(error.text, error.code, error.retryable)
        if isinstance(error, DocumentTooLarge):
            return Failure(
                "The document is too large for PostDICOM (10 MB at most).", "document.too_large", False
            )
        if isinstance(error, InvalidAnonymization):
            return Failure(
                "An anonymization value cannot be written into these files.", "anonymize.invalid", False
            )
        if isinstance(error, PostDicomError):
            message = describe(error)
            return Failure(message.text, "postdicom." + type(error).__name__.lower()[:40], message.retryable)
        if isinstance(error, OSError):
            return Failure(
                "The server could not store the file while working on it.", "internal.storage", True
            )
        return Failure("Something went wrong on our side; it has been logged.", "internal.error", False)

    async def audit(self, job: UploadJob, outcome: Outcome | None, failure: Failure | None) -> None:
        """Record the job's final outcome in the audit log."""
        kind = outcome.kind if outcome is not None else "dicom"
        folder = outcome.folder_uuid if outcome is not None else job.options.folder_uuid
        await self.uploads.services.store.audit.record(
            job.workspace,
            action=f"upload.{kind}",
            outcome=AuditOutcome.FAILED if failure is not None else AuditOutcome.SUCCEEDED,
            slack_user_id=job.requested_by,
            channel_id=job.channel_id,
            order_uuids=[order.patient_order_uuid.lower() for order in (outcome.orders if outcome else ())],
            folder_uuids=[folder.lower()] if folder else [],
            error_code=failure.code if failure is not None else None,
        )


class SlackReporter:
    """Keeps a job's part of its share's message in the file's thread: progress, then cards or the failure.

    The files of one share show in one message. Each job keeps its own part with the job (so any
    replica can render the others'), and renders the whole message again after changing its part,
    until what it rendered is still what the share holds: whichever job writes last also renders last.
    """

    def __init__(self, uploads: Uploads, job: UploadJob) -> None:
        self.uploads = uploads
        self.job = job
        self.ts = job.progress_message_ts

    @property
    def name(self) -> str:
        """Return the shared file's name (as Slack knows it), or a stand-in before it is known."""
        return self.uploads.file_names.get(self.job.slack_file_id, "the file")

    async def _client(self) -> AsyncWebClient:
        return self.uploads.slack(await self.uploads.bot_token(self.job.workspace))

    async def _current_ts(self) -> str | None:
        if self.ts is None:
            current = await self.uploads.services.store.upload_jobs.get(self.job.id)
            self.ts = current.progress_message_ts if current is not None else None
        return self.ts

    async def _show(self, shown: ui.Shown, *, final: bool = True) -> None:
        share = self.job.share_id
        if share is None:
            await self._put(*ui.share_message([shown]))
            return
        jobs = self.uploads.services.store.upload_jobs
        await jobs.set_display(self.job.id, shown.to_store())
        await self._render_share(share, rounds=_SHARE_RENDER_ROUNDS if final else 1)

    async def _render_share(self, share: str, *, rounds: int = _SHARE_RENDER_ROUNDS) -> None:
        # Progress renders once (the next tick mends a stale one); an outcome renders until it
        # has seen every other file's latest part, so the last word in the thread is complete.
        jobs = self.uploads.services.store.upload_jobs
        rendered: list[ui.Shown] | None = None
        for _ in range(rounds):
            parts = [
                ui.Shown.from_store(display) for _, display in await jobs.share_displays(share) if display
            ]
            if parts == rendered:
                return
            if not parts:
                await self._delete()
                return
            await self._put(*ui.share_message(parts))
            rendered = parts

    async def _put(self, text: str, blocks: list[dict[str, Any]]) -> None:
        client = await self._client()
        ts = await self._current_ts()
        if ts is not None:
            try:
                await client.chat_update(channel=self.job.channel_id, ts=ts, text=text, blocks=blocks)
                return
            except SlackApiError as error:
                if error.response is None or error.response.get("error") not in (
                    "message_not_found",
                    "cant_update_message",
                ):
                    raise
        posted = await client.chat_postMessage(
            channel=self.job.channel_id,
            thread_ts=self.job.thread_ts,
            text=text,
            blocks=blocks,
            unfurl_links=False,
        )
        jobs = self.uploads.services.store.upload_jobs
        mine = str(posted["ts"])
        if self.job.share_id is None:
            await jobs.set_progress_message(self.job.id, mine)
        elif ts is not None:
            await jobs.replace_share_message(self.job.share_id, mine)
        else:
            # Another file of the share may have posted its message meanwhile: one message stays.
            winner = await jobs.claim_share_message(self.job.share_id, mine)
            if winner != mine:
                await client.chat_delete(channel=self.job.channel_id, ts=mine)
                self.ts = winner
                await client.chat_update(channel=self.job.channel_id, ts=winner, text=text, blocks=blocks)
                return
        self.ts = mine

    async def _delete(self) -> None:
        ts = await self._current_ts()
        if ts is not None:
            client = await self._client()
            await client.chat_delete(channel=self.job.channel_id, ts=ts)

    async def progress(self, progress: Progress) -> None:
        """Show where the job is."""
        await self._show(ui.progress_message(self.name, progress), final=False)

    async def done(self, outcome: Outcome) -> None:
        """Show the uploaded studies as cards with share links (or the order a document joined)."""
        share = self.job.share_id
        if share is None:
            await self._done(outcome)
            return
        lock = self.uploads.share_locks.get(share)
        if lock is None:
            lock = self.uploads.share_locks[share] = asyncio.Lock()
        async with lock:
            await self._done(outcome)

    async def _done(self, outcome: Outcome) -> None:
        workspace = self.job.workspace
        services = self.uploads.services
        settings = await services.store.workspace_settings.get(workspace)
        expires = datetime.now(UTC).date() + timedelta(days=settings.default_share_expiry_days)
        phi, with_link = settings.phi_display, outcome.kind == "dicom"
        # Checked again now: the channel may have been shared with another organisation meanwhile.
        client = self.uploads.slack(await self.uploads.bot_token(workspace))
        facts = await services.channels.facts(client, workspace.key, workspace.team_id, self.job.channel_id)
        if facts.external or not facts.known:
            phi = PhiDisplay.HIDDEN
            channel_settings = await services.store.channel_settings.get(workspace, self.job.channel_id)
            with_link = with_link and facts.known and channel_settings.external_allowed
        names = Names.empty()
        cards: list[ui.StudyCard] = []
        # Several files of one study: the study's card, and its share link, are made once.
        carded = await self._carded_by_others()
        orders = [order for order in outcome.orders if order.patient_order_uuid.lower() not in carded]
        try:
            handle = await self.uploads.postdicom(workspace)
            names = await self._names(handle)
            for order in orders[: ui.MAX_CARDS]:
                cards.append(await self._card(handle, order, expires, with_link=with_link))
        except (JobError, PostDicomError) as error:
            # The upload is done whatever happens here: say so, with the cards PostDICOM gave.
            logger.info(
                "upload job %s: the study cards are incomplete (%s)", self.job.id, type(error).__name__
            )
            cards = cards or [ui.StudyCard(order, None) for order in orders[: ui.MAX_CARDS]]
        await self._show(
            ui.done_message(
                self.name,
                outcome,
                cards,
                phi,
                names,
                expires=expires,
                folder_path=self.job.options.folder_path,
            )
        )

    async def _carded_by_others(self) -> set[str]:
        """Return the orders other files of the share already show with a share link."""
        if self.job.share_id is None:
            return set()
        carded = set()
        for job, display in await self.uploads.services.store.upload_jobs.share_displays(self.job.share_id):
            if job.id != self.job.id and display:
                carded |= ui.Shown.from_store(display).linked_orders
        return carded

    async def _names(self, handle: PostDicomHandle) -> Names:
        try:
            return await self.uploads.services.accounts.names(self.job.workspace, handle)
        except PostDicomError:
            return Names.empty()

    async def _card(
        self, handle: PostDicomHandle, order: PatientOrder, expires: date, *, with_link: bool
    ) -> ui.StudyCard:
        try:
            order = await self.uploads._order(handle, order.patient_order_uuid, order.institution_uuid)
        except PostDicomError as error:
            logger.info("could not refresh an uploaded order (%s)", type(error).__name__)
        if not with_link:
            return ui.StudyCard(order, None)
        uuid = order.patient_order_uuid.lower()
        try:
            link = await handle.client.create_quick_share_link_with_expire_date(
                user_uuid=handle.user_uuid,
                order_uuid_list=[order.patient_order_uuid],
                user_can_download_studies=False,
                expire_date=expires.isoformat(),
            )
        except PostDicomError as error:
            logger.info("could not create a share link for an upload (%s)", type(error).__name__)
            return ui.StudyCard(order, None)
        await self.uploads.services.store.audit.record(
            self.job.workspace,
            action="order.share_link",
            outcome=AuditOutcome.SUCCEEDED,
            slack_user_id=self.job.requested_by,
            channel_id=self.job.channel_id,
            order_uuids=[uuid],
        )
        return ui.StudyCard(order, link.url)

    async def failed(self, failure: Failure, *, final: bool, retry_at: datetime | None) -> None:
        """Show what failed, with a Retry button or when it will retry by itself."""
        await self._show(
            ui.failure_message(self.name, failure, final=final, retry_at=retry_at, job_id=self.job.id)
        )

    async def dropped(self) -> None:
        """Take back what a file that turned out not to be for PostDICOM showed."""
        share = self.job.share_id
        if share is None:
            await self._delete()
            return
        await self.uploads.services.store.upload_jobs.set_display(self.job.id, None)
        await self._render_share(share)


# --- registration -----------------------------------------------------------------------------------


def register(app: PacsApp) -> None:
    """Listen to file shares, the prompt's buttons, the anonymization modal and ``/pacs channel``."""
    uploads = Uploads(app)
    app.extensions[UPLOADS_KEY] = uploads
    # Stopped in reverse: the workers first, then the copies they might still have taken.
    app.extensions.setdefault(BACKGROUND_KEY, []).extend((uploads.kept, uploads.workers))
    store = app.services.store

    async def is_file_share(event: dict[str, Any]) -> bool:
        return event.get("subtype") == "file_share"

    async def on_file_share(event: dict[str, Any], context: AsyncBoltContext) -> None:
        # Shutdown waits for it like any handler: the prompt's checks download and write.
        with app.services.handling():
            try:
                await uploads.on_file_share(event, workspace_of(context))
            except Exception:
                logger.exception("handling a file share failed for team %s", context.team_id)

    async def ignore(event: dict[str, Any]) -> None:
        # Every other message in the channels the app is in: nothing to do, but Slack wants a 200.
        del event

    async def on_upload(request: PacsRequest, action: dict[str, Any]) -> None:
        thread_ts, file_ids, modality, year = _parse_value(str(action.get("value") or ""))
        channel = request.channel_id or ""
        names = await uploads.verified_names(request.workspace, file_ids)
        settings = await store.channel_settings.get(request.workspace, channel)
        anonymize = settings.anonymize_by_default
        replacements = uploads.default_replacements(modality=modality, year=year) if anonymize else None
        created, existing = await uploads.enqueue(
            request.workspace,
            channel=channel,
            thread_ts=thread_ts,
            requested_by=request.user_id or None,
            files=[(file_id, name, True) for file_id, name in zip(file_ids, names, strict=True)],
            options=uploads.options_for(settings, anonymize=anonymize, replacements=replacements),
        )
        count = _instance_count(str(action.get("value") or ""))
        await request.reply(
            _started_text(created, existing, anonymized=anonymize, instances=count), replace_original=True
        )

    async def on_anonymize(request: PacsRequest, action: dict[str, Any]) -> None:
        thread_ts, file_ids, modality, year = _parse_value(str(action.get("value") or ""))
        if not request.trigger_id:
            await request.reply("Slack did not let me open the form; please press the button again.")
            return
        metadata = ui.encode_metadata(
            {
                "channel": request.channel_id or "",
                "thread": thread_ts,
                "files": file_ids,
                "response_url": request.respond.response_url if request.respond else "",
            }
        )
        initial = ui.default_replacements(_pseudonym(), modality=modality, year=year)
        await request.client.views_open(
            trigger_id=request.trigger_id, view=ui.anonymize_modal(initial, metadata, files=len(file_ids))
        )

    async def on_anonymize_submit(
        ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        view = body["view"]
        values = ui.submitted_values(view)
        errors = check_form(values)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        request = app.request(context, body, client)
        try:
            metadata = json.loads(view.get("private_metadata") or "{}")
            channel, thread_ts = str(metadata["channel"]), str(metadata["thread"])
            file_ids = [str(item) for item in metadata["files"]][:_MAX_FILES_PER_PROMPT]
        except (ValueError, KeyError, TypeError):
            logger.warning("the anonymization modal came back without its metadata")
            return
        response_url = str(metadata.get("response_url") or "")
        respond = AsyncRespond(response_url=response_url) if response_url else None
        request.channel_id = channel
        try:
            # The channel guard, as at the press of any button: the channel may have changed since.
            await check_request(request)
            names = await uploads.verified_names(request.workspace, file_ids)
            settings = await store.channel_settings.get(request.workspace, channel)
            created, existing = await uploads.enqueue(
                request.workspace,
                channel=channel,
                thread_ts=thread_ts,
                requested_by=request.user_id or None,
                files=[(file_id, name, True) for file_id, name in zip(file_ids, names, strict=True)],
                options=uploads.options_for(
                    settings,
                    anonymize=True,
                    replacements=replacements_from_form(values),
                    pixel_risk_confirmed=ui.pixel_risk_confirmed(view),
                ),
            )
            text = _started_text(created, existing, anonymized=True)
        except UserFacingError as error:
            text = f":x: {error.message}"
        request.respond, request.channel_id = respond, channel
        await request.reply(text, replace_original=True)

    async def on_attach(request: PacsRequest, action: dict[str, Any]) -> None:
        thread_ts, file_ids, _, _ = _parse_value(str(action.get("value") or ""))
        names = await uploads.verified_names(request.workspace, file_ids)
        created, _ = await uploads.enqueue(
            request.workspace,
            channel=request.channel_id or "",
            thread_ts=thread_ts,
            requested_by=request.user_id or None,
            files=[(file_id, name, True) for file_id, name in zip(file_ids, names, strict=True)],
            options=UploadOptions(),
        )
        await request.reply(
            "Attaching — the result will show in the thread."
            if created
            else "Those files were handled already.",
            replace_original=True,
        )

    async def on_ignore(request: PacsRequest, action: dict[str, Any]) -> None:
        _, file_ids, _, _ = _parse_value(str(action.get("value") or ""))
        await request.reply("OK, nothing was uploaded.", replace_original=True)
        for file_id in file_ids:
            await uploads.kept.drop((request.workspace.key, file_id))

    async def on_retry(request: PacsRequest, action: dict[str, Any]) -> None:
        job_id = str(action.get("value") or "")
        job = await store.upload_jobs.retry_failed(request.workspace, job_id) if len(job_id) <= 36 else None
        if job is None:
            await request.reply("That upload is not waiting for a retry any more.")
            return
        await uploads.host.reporter(job).progress(
            Progress(Phase.QUEUED, note=f"Retry asked by <@{request.user_id}>")
        )
        uploads.workers.kick()

    async def channel_command(request: PacsRequest) -> None:
        await configure_channel(uploads, request)

    async def on_create_folders(request: PacsRequest, action: dict[str, Any]) -> None:
        request.text = str(action.get("value") or "")
        await configure_channel(uploads, request, create_folders=True)

    app.bolt.event("message", matchers=[is_file_share])(on_file_share)
    app.bolt.event("message")(ignore)
    app.bolt.event("file_shared")(ignore)
    app.action(ui.UPLOAD_ACTION, on_upload, single_click=True)
    app.action(ui.ANONYMIZE_ACTION, on_anonymize)
    app.action(ui.ATTACH_ACTION, on_attach, single_click=True)
    app.action(ui.IGNORE_ACTION, on_ignore)
    app.action(ui.RETRY_UPLOAD_ACTION, on_retry)
    app.action(ui.CREATE_FOLDERS_ACTION, on_create_folders)
    app.bolt.view(ui.ANONYMIZE_MODAL)(on_anonymize_submit)

    async def upload_from_message(request: PacsRequest, message: Mapping[str, Any]) -> None:
        # For channels in `off` or `ask` mode, and files shared before the app was added.
        file_ids = [str(item.get("id")) for item in message.get("files") or [] if item.get("id")]
        file_ids = file_ids[:_MAX_FILES_PER_PROMPT]
        if not file_ids:
            await request.reply("That message has no files to upload.")
            return
        channel = request.channel_id or ""
        names = await uploads.verified_names(request.workspace, file_ids)
        settings = await store.channel_settings.get(request.workspace, channel)
        anonymize = settings.anonymize_by_default
        created, existing = await uploads.enqueue(
            request.workspace,
            channel=channel,
            thread_ts=str(message.get("thread_ts") or message.get("ts") or ""),
            requested_by=request.user_id or None,
            files=[(file_id, name, True) for file_id, name in zip(file_ids, names, strict=True)],
            options=uploads.options_for(
                settings,
                anonymize=anonymize,
                replacements=uploads.default_replacements() if anonymize else None,
            ),
        )
        await request.reply(_started_text(created, existing, anonymized=anonymize))

    async def upload_shortcut(
        ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        await ack()
        request = app.request(context, body, client)

        async def run(pacs_request: PacsRequest) -> None:
            await upload_from_message(pacs_request, body.get("message") or {})

        await run_answering_errors(request, run, name=UPLOAD_SHORTCUT)

    app.bolt.shortcut(UPLOAD_SHORTCUT)(upload_shortcut)

    async def attach_shortcut(
        ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        await ack()
        request = app.request(context, body, client)
        message = body.get("message") or {}
        file_ids = [str(item.get("id")) for item in message.get("files") or [] if item.get("id")]
        if not file_ids:
            await request.reply("That message has no files to attach.")
            return
        metadata = ui.encode_metadata(
            {
                "channel": request.channel_id or "",
                "thread": str(message.get("thread_ts") or message.get("ts") or ""),
                "files": file_ids[:_MAX_FILES_PER_PROMPT],
            }
        )
        await client.views_open(
            trigger_id=str(body.get("trigger_id")), view=ui.attach_modal(metadata, files=len(file_ids))
        )

    async def on_attach_submit(
        ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        view = body["view"]
        typed = ui.attach_target(view)
        if not typed:
            await ack(response_action="errors", errors={ui.ATTACH_ORDER_BLOCK: "Name the order."})
            return
        await ack()
        try:
            metadata = json.loads(view.get("private_metadata") or "{}")
            channel, thread_ts = str(metadata["channel"]), str(metadata["thread"])
            file_ids = [str(item) for item in metadata["files"]][:_MAX_FILES_PER_PROMPT]
        except (ValueError, KeyError, TypeError):
            logger.warning("the attach modal came back without its metadata")
            return
        request = app.request(context, body, client)
        # Slack resends a submission whose answer it did not see in time: attach once.
        if await repeated_submission(app.services.store.claims, request.workspace.key, body):
            return
        request.channel_id = channel

        async def attach(pacs_request: PacsRequest) -> None:
            lookup = await Lookup.start(pacs_request)
            found = await lookup.resolve(typed, datetime.now(UTC).date())
            if len(found) != 1:
                raise UsageError(
                    f"{len(found)} orders match '{typed}'; I attach to exactly one",
                    "an accession number such as ACC0000001",
                )
            names = await uploads.verified_names(pacs_request.workspace, file_ids)
            # The card in the thread is how the upload worker knows the order (as for any thread).
            await client.chat_postMessage(
                channel=channel,
                thread_ts=thread_ts,
                text="Attaching documents to an order",
                blocks=ui.attaching_blocks(
                    found[0], await lookup.phi(), await lookup.names(), requested_by=pacs_request.user_id
                ),
            )
            await uploads.enqueue(
                pacs_request.workspace,
                channel=channel,
                thread_ts=thread_ts,
                requested_by=pacs_request.user_id or None,
                files=[(file_id, name, True) for file_id, name in zip(file_ids, names, strict=True)],
                options=UploadOptions(),
            )

        await run_answering_errors(request, attach, name=ATTACH_SHORTCUT)

    app.bolt.shortcut(ATTACH_SHORTCUT)(attach_shortcut)
    app.bolt.view(ui.ATTACH_MODAL)(on_attach_submit)
    app.router.add(
        "channel",
        channel_command,
        summary="Choose what happens to DICOM shared in this channel (admins)",
        usage="channel [auto|ask|off] [folder:<path>|folder:none] [anonymize:on|off] | channel external allow|deny",
        examples=(
            "/pacs channel",
            "/pacs channel auto folder:Inbox/Slack",
            "/pacs channel ask anonymize:on",
            _EXTERNAL_EXAMPLE,
        ),
        admin_only=True,
    )


def _is_pdf(file: Mapping[str, Any]) -> bool:
    """Tell from Slack's file object whether a shared file is a PDF (a document, not DICOM)."""
    return str(file.get("filetype") or "").lower() == "pdf" or str(file.get("name") or "").lower().endswith(
        ".pdf"
    )


_EXTERNAL_EXAMPLE = "/pacs channel external allow"


async def configure_external(
    uploads: Uploads, request: PacsRequest, current: ChannelSettings, words: Sequence[str]
) -> None:
    """Allow or refuse patient data in this channel when it is shared with another organisation (admins)."""
    choice = words[0].lower() if len(words) == 1 else ""
    if choice not in ("allow", "deny"):
        raise UsageError("say allow or deny", _EXTERNAL_EXAMPLE)
    await request.require_admin("allow patient data in a channel shared with another organisation")
    channel = request.channel_id or ""
    services = uploads.services
    services.channels.forget(request.workspace.key, channel)
    facts = await services.channels.facts(
        request.client,
        request.workspace.key,
        request.installation_team_id or request.workspace.team_id,
        channel,
    )
    if choice == "allow" and not facts.known:
        raise UserFacingError(
            "I am not in this channel, so I cannot see who shares it.",
            hint="Invite me first, then run it again.",
        )
    if choice == "allow" and not facts.external:
        await request.reply(
            "This channel is not shared with another organisation; there is nothing to allow."
        )
        return
    allowed = choice == "allow"
    await services.store.channel_settings.save(
        request.workspace, channel, current.model_copy(update={"external_allowed": allowed})
    )
    await request.audit(
        "channel.external_allowed" if allowed else "channel.external_denied", AuditOutcome.SUCCEEDED
    )
    if allowed:
        await request.reply(
            f"Allowed here, in a channel shared with {facts.partners}. Cards in this channel hide patient "
            "names, I ask before posting a link, and files from their members are uploaded only when "
            "someone of this workspace presses Upload."
        )
    else:
        await request.reply(f"Patient data stays out of this channel again (shared with {facts.partners}).")


def _started_text(created: int, existing: int, *, anonymized: bool, instances: int = 0) -> str:
    if not created:
        return "Those files were uploaded (or queued) already; see the thread."
    how = "anonymized " if anonymized else ""
    more = f" ({existing} were handled already)" if existing else ""
    files = f"{created} file{'s' if created != 1 else ''}"
    # A zip is one file of many images: say what goes to PostDICOM, not how it was packed.
    what = (
        f"{instances} DICOM image{'s' if instances != 1 else ''} from {files}"
        if instances > created
        else files
    )
    return f"Uploading {what} {how}to PostDICOM{more}; progress shows in the thread."


_MODES = {mode.value: mode for mode in UploadMode}
_CHANNEL_EXAMPLE = "/pacs channel auto folder:Inbox/Slack anonymize:off"


MAX_BUTTON_VALUE = 2000


async def configure_channel(uploads: Uploads, request: PacsRequest, *, create_folders: bool = False) -> None:
    """Show or change the channel's upload settings (changes are for admins; new folders are asked first)."""
    channel = request.channel_id
    if not channel:
        raise UsageError("run it in the channel you want to configure", _CHANNEL_EXAMPLE)
    store = uploads.services.store
    current = await store.channel_settings.get(request.workspace, channel)
    words = split_words(request.text, ("folder", "anonymize"))
    if words.words and words.words[0].lower() == "external":
        await configure_external(uploads, request, current, words.words[1:])
        return
    if not words.words and not words.options:
        await request.reply("Upload settings", ui.channel_settings_blocks(channel, current, changed=False))
        return
    await request.require_admin("change what happens to files shared in a channel")
    if len(words.words) > 1 and words.option("folder") is not None:
        raise UsageError(
            "put a folder name with spaces in quotes", '/pacs channel auto folder:"Inbox/From Slack"'
        )
    if len(words.words) > 1 or (words.words and words.words[0].lower() not in _MODES):
        raise UsageError("say auto, ask or off, then any folder: and anonymize: options", _CHANNEL_EXAMPLE)
    mode = _MODES[words.words[0].lower()] if words.words else current.upload_mode
    anonymize = current.anonymize_by_default
    if (value := words.option("anonymize")) is not None:
        if value.lower() not in ("on", "off", "yes", "no", "true", "false"):
            raise UsageError("anonymize: takes on or off", "/pacs channel ask anonymize:on")
        anonymize = value.lower() in ("on", "yes", "true")
    folder_uuid, folder_path = current.target_folder_uuid, current.target_folder_path
    if (folder := words.option("folder")) is not None:
        if folder.strip().lower() in ("", "none", "-"):
            folder_uuid = folder_path = None
        else:
            handle = await uploads.postdicom(request.workspace)
            folder_path = "/".join(part.strip() for part in folder.strip("/").split("/") if part.strip())
            missing = await uploads.missing_folders(handle, folder_path) if folder_path else []
            if missing and not create_folders:
                if len(request.text) > MAX_BUTTON_VALUE:
                    raise UsageError("that command is too long to confirm; shorten it", _CHANNEL_EXAMPLE)
                await request.reply(
                    "Create folders?", ui.create_folders_blocks(folder_path, missing, request.text)
                )
                return
            folder_uuid = await uploads.ensure_folder(request.workspace, handle, folder_path)
    updated = ChannelSettings(
        upload_mode=mode,
        target_folder_uuid=folder_uuid,
        target_folder_path=folder_path,
        anonymize_by_default=anonymize,
        external_allowed=current.external_allowed,
    )
    await store.channel_settings.save(request.workspace, channel, updated)
    await request.audit(
        "channel.settings", AuditOutcome.SUCCEEDED, folder_uuids=[folder_uuid] if folder_uuid else []
    )
    blocks = ui.channel_settings_blocks(channel, updated, changed=True)
    unheard = await _unheard(request, channel) if updated.upload_mode is not UploadMode.OFF else ""
    if unheard:
        blocks += ui.explain_blocks(unheard)
    await request.reply("Upload settings saved", blocks)


async def _unheard(request: PacsRequest, channel: str) -> str:
    """Say why files shared in a channel would not reach the app, if they would not."""
    if not (await request.settings()).allows_channel(channel):
        return ui.NOT_ALLOWED_TEXT
    try:
        info = await request.client.conversations_info(channel=channel)
    except SlackApiError:
        # A private channel the bot is not in is one it cannot even see.
        return ui.NOT_A_MEMBER_TEXT
    return "" if (info.get("channel") or {}).get("is_member") else ui.NOT_A_MEMBER_TEXT
