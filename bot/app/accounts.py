"""Each workspace's PostDICOM account: its connection, its ready client and its dictionaries.

Handlers, upload jobs and anything else that acts for a workspace get its client here, by
workspace, and the names that turn flag, user and group ids into words; nothing else builds
``PostDicomAccess`` or asks the client registry directly.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot.app.dictionaries import Dictionaries
from bot.app.errors import NotConnected, UserFacingError
from bot.app.postdicom_clients import PostDicomAccess, PostDicomClients
from bot.postdicom import PostDicomClient
from bot.store import Store
from bot.store.connections import PostDicomConnection
from bot.store.workspace import WorkspaceRef
from bot.ui.orders import Names


@dataclass(frozen=True, slots=True)
class PostDicomHandle:
    """A ready client with the user the app acts as and the workspace's default institution."""

    client: PostDicomClient
    user_uuid: str
    institution_uuid: str | None
    connection: PostDicomConnection


def access_of(connection: PostDicomConnection) -> PostDicomAccess:
    """Return what it takes to reach a stored connection's account."""
    return PostDicomAccess(
        api_key=connection.api_key,
        account_key=connection.account_key,
        router_url=connection.router_url,
        revision=str(connection.version),
    )


@dataclass
class PostDicomAccounts:
    """Resolve a workspace's PostDICOM client and dictionaries from its stored connection."""

    store: Store
    clients: PostDicomClients
    dictionaries: Dictionaries

    def __post_init__(self) -> None:
        # The dictionaries were loaded with a client: they follow it out (idle, bound, new keys).
        self.clients.on_release.append(self.dictionaries.invalidate)

    async def connection(self, workspace: WorkspaceRef) -> PostDicomConnection:
        """Return the workspace's PostDICOM connection, or raise NotConnected."""
        connection = await self.store.connections.get(workspace)
        if connection is None:
            raise NotConnected()
        return connection

    async def handle(self, workspace: WorkspaceRef) -> PostDicomHandle:
        """Return the workspace's ready client and acting user (connects on first use)."""
        connection = await self.connection(workspace)
        if connection.acting_user_uuid is None:
            raise UserFacingError(
                "PostDICOM is connected but no acting user was chosen.",
                hint="Ask a workspace admin to finish `/pacs connect`.",
            )
        client = await self.clients.get(workspace.key, access_of(connection))
        return PostDicomHandle(
            client, connection.acting_user_uuid, connection.default_institution_uuid, connection
        )

    async def names(
        self, workspace: WorkspaceRef, handle: PostDicomHandle, *, ttl: float | None = None
    ) -> Names:
        """Return the dictionaries that turn flag, user and group ids into names (cached)."""
        key, client, user = workspace.key, handle.client, handle.user_uuid
        flags, users, groups = await asyncio.gather(
            self.dictionaries.flags(key, client, user, ttl),
            self.dictionaries.users(key, client, user, ttl),
            self.dictionaries.user_groups(key, client, user, ttl),
        )
        return Names.of(flags, users, groups)

    def workspaces(self) -> set[str]:
        """Return the workspaces with an open client or cached dictionaries."""
        return set(self.clients.workspaces()) | self.dictionaries.cache.workspaces()

    async def release(self, workspace_key: str) -> None:
        """Close the workspace's client and forget its dictionaries (after disconnect or uninstall)."""
        await self.clients.drop(workspace_key)
        # Also when no client was open: the dictionaries may outlive one closed while loading them.
        self.dictionaries.invalidate(workspace_key)
