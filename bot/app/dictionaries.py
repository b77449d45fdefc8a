"""Per-workspace caches of PostDICOM's dictionaries, with single-flight loading.

Flags, user groups, users, DICOM nodes and the folder tree change rarely and are needed by many
commands. Each is cached per workspace for a TTL (the workspace's setting, else the app's), and
concurrent misses for the same entry share one PostDICOM call.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from cachetools import TLRUCache

from bot.postdicom import AccountUser, DicomNode, FlagGroup, Folder, PostDicomClient, UserGroup

V = TypeVar("V")
MAX_FOLDERS = 2000
MAX_FOLDER_DEPTH = 8
# What is cached per workspace: the cache holds this many entries per open client at most.
DICTIONARY_KINDS = ("flags", "user_groups", "users", "nodes", "folders")


@dataclass(frozen=True, slots=True)
class FolderEntry:
    """A folder with its full path from the root (``Cases/2026``)."""

    folder: Folder
    path: str
    parent_uuid: str | None


@dataclass(frozen=True, slots=True)
class _Cached:
    value: Any
    ttl: float


class SingleFlightCache:
    """A TTL cache whose concurrent misses for one key wait for one loader call."""

    def __init__(self, *, maxsize: int = 10_000) -> None:
        self._values: TLRUCache[tuple[str, str], _Cached] = TLRUCache(
            maxsize=maxsize, ttu=lambda _key, value, now: now + value.ttl, timer=time.monotonic
        )
        self._loading: dict[tuple[str, str], asyncio.Future[Any]] = {}
        self.stats: Counter[str] = Counter()

    async def get(self, key: tuple[str, str], ttl: float, load: Callable[[], Awaitable[V]]) -> V:
        """Return the cached value, or load it once however many callers ask at the same time."""
        cached = self._values.get(key)
        if cached is not None:
            self.stats["hits"] += 1
            value: V = cached.value
            return value
        pending = self._loading.get(key)
        if pending is not None:
            self.stats["shared"] += 1
            shared: V = await asyncio.shield(pending)
            return shared
        self.stats["misses"] += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        try:
            loaded = await load()
        except BaseException as error:
            future.set_exception(error)
            # Nobody else may be waiting; retrieve the exception so asyncio does not complain.
            future.exception()
            raise
        else:
            self._values[key] = _Cached(loaded, ttl)
            future.set_result(loaded)
            return loaded
        finally:
            del self._loading[key]

    def invalidate(self, workspace_key: str, kind: str | None = None) -> None:
        """Drop one workspace's entries (of one kind, or all)."""
        for key in [
            key for key in list(self._values.keys()) if key[0] == workspace_key and kind in (None, key[1])
        ]:
            self._values.pop(key, None)

    def workspaces(self) -> set[str]:
        """Return the workspaces with something cached."""
        return {workspace_key for workspace_key, _ in list(self._values.keys())}

    def __len__(self) -> int:
        return len(self._values)


@dataclass
class Dictionaries:
    """The dictionaries of every workspace, over one single-flight cache."""

    default_ttl_seconds: float = 600.0
    cache: SingleFlightCache = field(default_factory=SingleFlightCache)

    async def flags(
        self, workspace_key: str, client: PostDicomClient, user_uuid: str, ttl: float | None = None
    ) -> list[FlagGroup]:
        """Return the account's flag groups."""
        return await self.cache.get(
            (workspace_key, "flags"),
            ttl or self.default_ttl_seconds,
            lambda: client.get_account_flag_dictionary(user_uuid),
        )

    async def user_groups(
        self, workspace_key: str, client: PostDicomClient, user_uuid: str, ttl: float | None = None
    ) -> list[UserGroup]:
        """Return the account's user groups."""
        return await self.cache.get(
            (workspace_key, "user_groups"),
            ttl or self.default_ttl_seconds,
            lambda: client.get_user_group_list(user_uuid),
        )

    async def users(
        self, workspace_key: str, client: PostDicomClient, user_uuid: str, ttl: float | None = None
    ) -> list[AccountUser]:
        """Return the account's users."""
        return await self.cache.get(
            (workspace_key, "users"), ttl or self.default_ttl_seconds, lambda: client.get_user_list(user_uuid)
        )

    async def nodes(
        self, workspace_key: str, client: PostDicomClient, user_uuid: str, ttl: float | None = None
    ) -> list[DicomNode]:
        """Return the account's DICOM nodes."""
        return await self.cache.get(
            (workspace_key, "nodes"),
            ttl or self.default_ttl_seconds,
            lambda: client.get_dicom_node_list(user_uuid),
        )

    async def folders(
        self, workspace_key: str, client: PostDicomClient, user_uuid: str, ttl: float | None = None
    ) -> list[FolderEntry]:
        """Return every folder with its path, walking the tree breadth first (bounded)."""

        async def walk() -> list[FolderEntry]:
            entries: list[FolderEntry] = []
            level: list[tuple[str | None, str]] = [(None, "")]
            for _ in range(MAX_FOLDER_DEPTH):
                listings = await asyncio.gather(
                    *(client.get_folder_list(user_uuid, parent or "", None, False) for parent, _ in level)
                )
                next_level: list[tuple[str | None, str]] = []
                for (parent, prefix), listing in zip(level, listings, strict=True):
                    for folder in listing.sub_folder_list:
                        path = f"{prefix}/{folder.folder_name}" if prefix else folder.folder_name
                        entries.append(FolderEntry(folder, path, parent))
                        if folder.sub_folder_count or folder.all_sub_folder_count:
                            next_level.append((folder.folder_uuid, path))
                if not next_level or len(entries) >= MAX_FOLDERS:
                    break
                level = next_level
            return entries[:MAX_FOLDERS]

        return await self.cache.get((workspace_key, "folders"), ttl or self.default_ttl_seconds, walk)

    def invalidate(self, workspace_key: str, kind: str | None = None) -> None:
        """Forget a workspace's dictionaries (after connect, or a change such as a new folder)."""
        self.cache.invalidate(workspace_key, kind)
