"""One PostDICOM client per workspace, kept and reused, replaced when its credentials change.

Every client shares the app's one aiohttp session; each holds its own WebSocket. Creating and
initializing a client is single-flight per workspace: concurrent first requests wait for one
``initialize()`` instead of opening several sockets.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import aiohttp
from pydantic import SecretStr

from bot.logs import remember_secret
from bot.postdicom import Account, PostDicomClient

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PostDicomAccess:
    """What it takes to reach one workspace's PostDICOM account; ``revision`` changes with the keys."""

    api_key: SecretStr
    account_key: SecretStr
    router_url: str
    revision: str


@dataclass(slots=True)
class _Entry:
    revision: str
    client: PostDicomClient


class PostDicomClients:
    """The registry of live PostDICOM clients, keyed by workspace."""

    def __init__(
        self, session: aiohttp.ClientSession, *, timeout: float = 30.0, upload_sockets: int = 4
    ) -> None:
        self._session = session
        self._timeout = timeout
        self._upload_sockets = upload_sockets
        self._entries: dict[str, _Entry] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def __len__(self) -> int:
        return len(self._entries)

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

    async def get(self, workspace_id: str, access: PostDicomAccess) -> PostDicomClient:
        """Return the workspace's initialized client, creating or replacing it as needed."""
        entry = self._entries.get(workspace_id)
        if entry is not None and entry.revision == access.revision:
            return entry.client
        lock = self._locks.setdefault(workspace_id, asyncio.Lock())
        async with lock:
            entry = self._entries.get(workspace_id)
            if entry is not None and entry.revision == access.revision:
                return entry.client
            if entry is not None:
                logger.info("PostDICOM credentials of workspace %s changed; reconnecting", workspace_id)
                await entry.client.close()
                del self._entries[workspace_id]
            client = self._new_client(access)
            try:
                await client.initialize()
            except BaseException:
                await client.close()
                raise
            self._entries[workspace_id] = _Entry(access.revision, client)
            return client

    async def probe(self, access: PostDicomAccess) -> Account:
        """Check credentials by initializing a throw-away client; return the account they open."""
        client = self._new_client(access)
        try:
            return await client.initialize()
        finally:
            await client.close()

    async def drop(self, workspace_id: str) -> None:
        """Close and forget the workspace's client (after disconnect or uninstall)."""
        entry = self._entries.pop(workspace_id, None)
        if entry is not None:
            await entry.client.close()

    async def close_all(self) -> None:
        """Close every client, at shutdown."""
        entries, self._entries = list(self._entries.values()), {}
        await asyncio.gather(*(entry.client.close() for entry in entries), return_exceptions=True)
