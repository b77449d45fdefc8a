"""One PostDICOM client per workspace, reused while in use, closed when idle, bounded in number.

Every client shares the app's one aiohttp session; each holds its own WebSocket. Creating and
initializing a client is single-flight per workspace: concurrent first requests wait for one
``initialize()`` instead of opening several sockets.

A deployment serves every workspace that installs the app, so the registry does not keep a
client for each workspace ever seen: a client unused for ``idle_seconds`` is closed (the next
request opens it again), and at most ``max_clients`` are kept, the least recently used going
first when a new one is needed. A client leaving the registry for any reason but an uninstall is
closed only once its requests and uploads under way are over.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import aiohttp
from cachetools import LRUCache
from pydantic import SecretStr

from bot.logs import remember_secret
from bot.postdicom import Account, PostDicomClient

logger = logging.getLogger(__name__)

DEFAULT_IDLE_SECONDS = 600.0
DEFAULT_MAX_CLIENTS = 400
# How often idle clients are looked for, as a share of the idle time (and at most a minute).
SWEEPS_PER_IDLE_PERIOD = 4
MAX_SWEEP_SECONDS = 60.0
# Workspaces remembered as having had a client, to tell a reopening from a first opening.
REMEMBERED_WORKSPACES = 100_000


@dataclass(frozen=True, slots=True)
class PostDicomAccess:
    """What it takes to reach one workspace's PostDICOM account; ``revision`` changes with the keys."""

    api_key: SecretStr
    account_key: SecretStr
    router_url: str
    revision: str


class Eviction(enum.StrEnum):
    """Why a client left the registry."""

    IDLE = "idle"
    BOUND = "bound"
    KEYS_CHANGED = "keys_changed"
    DROPPED = "dropped"


class ClientsObserver(Protocol):
    """Told when clients open and leave the registry (``/metrics`` listens)."""

    def opened(self, seconds: float, *, reopened: bool) -> None:
        """A client was opened for a workspace, ``reopened`` if it had one before that was released."""

    def released(self, reason: Eviction) -> None:
        """A client left the registry."""


@dataclass(slots=True)
class _Entry:
    revision: str
    client: PostDicomClient
    last_used: float
    calls_seen: int = 0


@dataclass(slots=True)
class _Opening:
    """Callers opening one workspace's client: the first opens it, the others wait for it."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    callers: int = 0


class PostDicomClients:
    """The registry of live PostDICOM clients, keyed by workspace, least recently used first."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        timeout: float = 30.0,
        upload_sockets: int = 4,
        idle_seconds: float = DEFAULT_IDLE_SECONDS,
        max_clients: int = DEFAULT_MAX_CLIENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if idle_seconds <= 0:
            raise ValueError("idle_seconds must be positive")
        if max_clients < 1:
            raise ValueError("max_clients must be at least 1")
        self._session = session
        self._timeout = timeout
        self._upload_sockets = upload_sockets
        self.idle_seconds = idle_seconds
        self.max_clients = max_clients
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._opening: dict[str, _Opening] = {}
        self._had_client: LRUCache[str, bool] = LRUCache(maxsize=REMEMBERED_WORKSPACES)
        self._retiring: dict[asyncio.Task[None], PostDicomClient] = {}
        self._sweeper: asyncio.Task[None] | None = None
        self._closed = False
        self.observer: ClientsObserver | None = None
        # Called with a workspace id whenever its client leaves (its dictionaries go with it).
        self.on_release: list[Callable[[str], None]] = []

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, workspace_id: object) -> bool:
        return workspace_id in self._entries

    @property
    def clients_closing(self) -> int:
        """Count the clients that left the registry and wait for their work to end before closing."""
        return len(self._retiring)

    def _new_client(self, access: PostDicomAccess) -> PostDicomClient:
        remember_secret(access.api_key, access.account_key)
        return PostDicomClient(
            access.api_key,
            access.account_key,
            router_url=access.router_url,
            session=self._session,
            timeout=self._timeout,
            upload_sockets=self._upload_sockets,
        )

    def _use(self, workspace_id: str, entry: _Entry) -> PostDicomClient:
        entry.last_used = self._clock()
        self._entries.move_to_end(workspace_id)
        return entry.client

    async def get(self, workspace_id: str, access: PostDicomAccess) -> PostDicomClient:
        """Return the workspace's initialized client, creating, reopening or replacing it as needed."""
        self._start_sweeping()
        entry = self._entries.get(workspace_id)
        if entry is not None and entry.revision == access.revision:
            return self._use(workspace_id, entry)
        opening = self._opening.setdefault(workspace_id, _Opening())
        opening.callers += 1
        try:
            async with opening.lock:
                entry = self._entries.get(workspace_id)
                if entry is not None and entry.revision == access.revision:
                    return self._use(workspace_id, entry)
                if entry is not None:
                    logger.info("PostDICOM credentials of workspace %s changed; reconnecting", workspace_id)
                    self._remove(workspace_id, Eviction.KEYS_CHANGED, wait_for_work=True)
                return await self._open(workspace_id, access)
        finally:
            opening.callers -= 1
            if not opening.callers:
                del self._opening[workspace_id]

    async def _open(self, workspace_id: str, access: PostDicomAccess) -> PostDicomClient:
        started = time.perf_counter()
        client = self._new_client(access)
        try:
            await client.initialize()
        except BaseException:
            await client.close()
            raise
        while len(self._entries) >= self.max_clients:
            oldest = next(iter(self._entries))
            logger.info("%d PostDICOM clients are open; closing the least recently used", len(self._entries))
            self._remove(oldest, Eviction.BOUND, wait_for_work=True)
        self._entries[workspace_id] = _Entry(access.revision, client, self._clock(), client.calls_started)
        if self.observer is not None:
            self.observer.opened(time.perf_counter() - started, reopened=workspace_id in self._had_client)
        self._had_client[workspace_id] = True
        return client

    def _remove(self, workspace_id: str, reason: Eviction, *, wait_for_work: bool) -> PostDicomClient | None:
        entry = self._entries.pop(workspace_id, None)
        if entry is None:
            return None
        for forget in self.on_release:
            forget(workspace_id)
        if self.observer is not None:
            self.observer.released(reason)
        if wait_for_work:
            retiring = asyncio.create_task(self._close_when_quiet(entry.client))
            self._retiring[retiring] = entry.client
            retiring.add_done_callback(lambda task: self._retiring.pop(task, None))
        return entry.client

    async def _close_when_quiet(self, client: PostDicomClient) -> None:
        # An upload may take long: it keeps its socket until it ends, however long that is.
        with contextlib.suppress(Exception):
            await client.wait_until_quiet()
        await client.close()

    async def sweep(self) -> int:
        """Close the clients unused for ``idle_seconds`` (once their work is over); return how many."""
        now = self._clock()
        idle: list[str] = []
        for workspace_id, entry in self._entries.items():
            if entry.client.busy or entry.client.calls_started != entry.calls_seen:
                # Used since the last sweep, perhaps by a holder that got it long ago: not idle.
                entry.calls_seen = entry.client.calls_started
                entry.last_used = now
            elif now - entry.last_used >= self.idle_seconds:
                idle.append(workspace_id)
        for workspace_id in idle:
            logger.debug("closing the idle PostDICOM client of workspace %s", workspace_id)
            self._remove(workspace_id, Eviction.IDLE, wait_for_work=True)
        return len(idle)

    def _start_sweeping(self) -> None:
        if self._sweeper is None and not self._closed:
            self._sweeper = asyncio.create_task(self._sweep_forever(), name="postdicom-idle-sweeper")

    async def _sweep_forever(self) -> None:
        interval = min(self.idle_seconds / SWEEPS_PER_IDLE_PERIOD, MAX_SWEEP_SECONDS)
        while True:
            await asyncio.sleep(interval)
            try:
                await self.sweep()
            except Exception:
                logger.exception("looking for idle PostDICOM clients failed")

    async def probe(self, access: PostDicomAccess) -> Account:
        """Check credentials by initializing a throw-away client; return the account they open."""
        client = self._new_client(access)
        try:
            return await client.initialize()
        finally:
            await client.close()

    async def drop(self, workspace_id: str) -> None:
        """Close and forget the workspace's client at once (after disconnect or uninstall)."""
        client = self._remove(workspace_id, Eviction.DROPPED, wait_for_work=False)
        if client is not None:
            await client.close()

    def workspaces(self) -> list[str]:
        """Return the workspaces that have a client open, least recently used first."""
        return list(self._entries)

    async def close_all(self) -> None:
        """Close every client, at shutdown."""
        self._closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        # Handlers have drained by now: clients still waiting for their work close like the rest.
        clients = [entry.client for entry in self._entries.values()] + list(self._retiring.values())
        self._entries = OrderedDict()
        for task in list(self._retiring):
            task.cancel()
        await asyncio.gather(*self._retiring, return_exceptions=True)
        await asyncio.gather(*(client.close() for client in clients), return_exceptions=True)
