"""The long-lived things every handler uses, built once at start-up and closed at shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol, Self

import aiohttp

from bot.app.accounts import PostDicomAccounts
from bot.app.acks import PendingAcks
from bot.app.admins import AdminDirectory
from bot.app.channels import ChannelDirectory
from bot.app.delivery import Answer
from bot.app.dictionaries import DICTIONARY_KINDS, Dictionaries, SingleFlightCache
from bot.app.kept import Kept
from bot.app.postdicom_clients import PostDicomClients
from bot.settings import Settings
from bot.store import Cipher, Database, Store, WorkspaceRef

logger = logging.getLogger(__name__)


class WorkspaceState(Protocol):
    """Something a replica keeps per workspace (clients, caches, kept files), let go when it leaves."""

    def workspaces(self) -> set[str]:
        """Return the workspaces this holds something for."""

    async def release(self, workspace_key: str) -> None:
        """Let go of everything held for the workspace, at once."""


@dataclass
class Services:
    """The store, the PostDICOM client registry, caches and the shared HTTP session."""

    settings: Settings
    store: Store
    http: aiohttp.ClientSession
    postdicom: PostDicomClients
    admins: AdminDirectory
    dictionaries: Dictionaries
    # Handlers still working after their ack; shutdown lets them finish before closing what they use.
    in_flight: set[asyncio.Task[object]] = field(default_factory=set)
    # Requests from Slack not answered yet; work after an ack lets them go first.
    acks: PendingAcks = field(default_factory=PendingAcks)
    # Answers no Slack surface took (a share link shown nowhere), to offer again rather than redo.
    undelivered: Kept[Answer] = field(default_factory=Kept)
    # Modal context too big for private_metadata (a card among many in an upload message).
    modal_context: Kept[str] = field(default_factory=lambda: Kept(ttl_seconds=6 * 60 * 60.0))
    # Which channels are shared with another organisation (Slack Connect), as Slack last said.
    channels: ChannelDirectory = field(default_factory=ChannelDirectory)
    # Every workspace's client and dictionaries, resolved from its stored connection.
    accounts: PostDicomAccounts = field(init=False)
    # What this replica keeps per workspace; command modules add theirs (kept downloads, jobs).
    per_workspace: list[WorkspaceState] = field(init=False)
    _watch: asyncio.Task[None] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.accounts = PostDicomAccounts(self.store, self.postdicom, self.dictionaries)
        self.per_workspace = [self.accounts, self.admins]

    @classmethod
    async def create(cls, settings: Settings, *, cipher: Cipher, upgrade_database: bool = True) -> Self:
        """Open the database (migrating it), the HTTP session and the repositories."""
        database = Database(settings.database_url)
        if upgrade_database:
            await database.upgrade()
        # Each open PostDICOM client holds a WebSocket (and its uploads more) in this session's
        # connector: aiohttp's default of 100 connections would stall the 101st workspace.
        connections = settings.postdicom_max_clients * (1 + settings.postdicom_upload_sockets) + 100
        http = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=10),
            connector=aiohttp.TCPConnector(limit=connections),
        )
        return cls(
            settings=settings,
            store=Store(database, cipher, slack_client_id=settings.slack_client_id),
            http=http,
            postdicom=PostDicomClients(
                http,
                timeout=settings.postdicom_timeout_seconds,
                upload_sockets=settings.postdicom_upload_sockets,
                idle_seconds=settings.postdicom_idle_seconds,
                max_clients=settings.postdicom_max_clients,
            ),
            admins=AdminDirectory(),
            dictionaries=Dictionaries(
                default_ttl_seconds=settings.cache_ttl_seconds,
                cache=SingleFlightCache(maxsize=settings.postdicom_max_clients * len(DICTIONARY_KINDS)),
            ),
        )

    async def forget_workspace(self, workspace: WorkspaceRef) -> None:
        """Delete the workspace's install, keys, settings and jobs, then let go of what it held here."""
        # Shutdown waits for it like any handler: a deletion cut short could leave keys behind.
        with self.handling():
            # The rows go first: the database is what tells every replica the workspace left.
            await self.store.delete_workspace(workspace)
            await self.release_workspace(workspace.key)

    async def release_workspace(self, workspace_key: str) -> None:
        """Let go of the workspace's client, caches, kept downloads and running jobs in this replica."""
        for state in self.per_workspace:
            try:
                await state.release(workspace_key)
            except Exception:
                logger.exception(
                    "releasing what workspace %s held failed (%s)", workspace_key, type(state).__name__
                )

    async def release_departed(self) -> list[str]:
        """Let go of what this replica holds for workspaces the database no longer connects; return them."""
        held: set[str] = set()
        for state in self.per_workspace:
            held |= state.workspaces()
        departed = sorted(held - await self.store.connections.connected(held))
        for workspace_key in departed:
            logger.info("workspace %s is no longer connected; releasing what it held here", workspace_key)
            await self.release_workspace(workspace_key)
        return departed

    def watch_departures(self, every_seconds: float) -> None:
        """Check every so often for workspaces that left through another replica."""
        if self._watch is None:
            self._watch = asyncio.create_task(self._watch_departures(every_seconds), name="departures")

    async def _watch_departures(self, every_seconds: float) -> None:
        while True:
            await asyncio.sleep(every_seconds)
            try:
                await self.release_departed()
            except Exception as error:
                logger.warning("could not check for departed workspaces (%s)", type(error).__name__)

    @contextlib.contextmanager
    def handling(self) -> Iterator[None]:
        """Count the current task as a handler at work until the block ends."""
        task = asyncio.current_task()
        if task is None:
            yield
            return
        self.in_flight.add(task)
        try:
            yield
        finally:
            self.in_flight.discard(task)

    async def drain(self, grace_seconds: float) -> None:
        """Wait for handlers at work to finish, then cancel those still going after the grace period."""
        pending = {task for task in self.in_flight if not task.done()}
        if not pending:
            return
        _, late = await asyncio.wait(pending, timeout=grace_seconds)
        if late:
            logger.warning("stopping %d request(s) still at work after %.0f s", len(late), grace_seconds)
            for task in late:
                task.cancel()
            await asyncio.wait(late, timeout=grace_seconds)

    async def close(self) -> None:
        """Close PostDICOM sockets, the HTTP session and the database, in that order."""
        await self.drain(self.settings.shutdown_grace_seconds)
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        await self.postdicom.close_all()
        await self.http.close()
        await self.store.database.dispose()
