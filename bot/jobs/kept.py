"""Downloads kept between the ask prompt and the upload, so a file the app checked is not fetched twice.

In ``ask`` mode the app downloads and checks a shared file to describe it in the prompt; the job
that follows Upload takes that copy instead of downloading the file again. Copies live in one
directory per process (a click served by another replica, or after a restart, downloads again),
within a byte budget and for a bounded time, and are removed when taken, dropped (Ignore), expired
or evicted, and when the process stops.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from bot.jobs.download import Downloaded

logger = logging.getLogger(__name__)

# (workspace key, Slack file id): file ids are unique within a workspace and their bytes never change.
KeptKey = tuple[str, str]


@dataclass(frozen=True, slots=True)
class KeptPolicy:
    """How much checked downloads may hold, and for how long."""

    max_bytes: int = 2 * 1024**3
    max_seconds: float = 30 * 60.0

    @property
    def enabled(self) -> bool:
        """Say whether anything is kept at all."""
        return self.max_bytes > 0 and self.max_seconds > 0


@dataclass(slots=True)
class _Entry:
    downloaded: Downloaded
    expires_at: float
    timer: asyncio.TimerHandle | None = None


class KeptDownloads:
    """Hold checked downloads until their job takes them; a background service of the app."""

    def __init__(
        self,
        policy: KeptPolicy,
        temp_dir: Path | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = policy
        self.temp_dir = temp_dir
        self._clock = clock
        self._directory: Path | None = None
        self._entries: OrderedDict[KeptKey, _Entry] = OrderedDict()
        self._removals: set[asyncio.Task[None]] = set()
        self._serial = 0
        self._stopped = False

    @property
    def bytes_kept(self) -> int:
        """Return the bytes held on disk now."""
        return sum(entry.downloaded.size for entry in self._entries.values())

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    async def start(self) -> None:
        """Nothing to start: the directory is made with the first copy kept."""

    async def stop(self) -> None:
        """Remove every copy and the directory; keep nothing from now on."""
        self._stopped = True
        for entry in self._entries.values():
            if entry.timer is not None:
                entry.timer.cancel()
        self._entries.clear()
        if self._removals:
            await asyncio.wait(set(self._removals))
        directory, self._directory = self._directory, None
        if directory is not None:
            await asyncio.to_thread(shutil.rmtree, directory, True)

    async def keep(self, key: KeptKey, downloaded: Downloaded) -> bool:
        """Move a checked download into the store; say whether it was kept."""
        # Not kept, it stays where it was; only a store that stops while it moves in removes it.
        if self._stopped or not self.policy.enabled or downloaded.size > self.policy.max_bytes:
            return False
        self._expire_due()
        await self.drop(key)
        while self._entries and self.bytes_kept + downloaded.size > self.policy.max_bytes:
            oldest = next(iter(self._entries))
            logger.info("kept downloads: over budget, dropping the oldest copy")
            self._forget(oldest)
        if self._directory is None:
            directory = Path(
                await asyncio.to_thread(tempfile.mkdtemp, prefix="pacsbot-kept-", dir=self.temp_dir)
            )
            if self._stopped or self._directory is not None:  # stopped, or made by another keep meanwhile
                await asyncio.to_thread(directory.rmdir)
            else:
                self._directory = directory
        if self._stopped or self._directory is None:
            return False
        self._serial += 1
        path = self._directory / f"{self._serial}.download"
        try:
            await asyncio.to_thread(shutil.move, downloaded.path, path)
        except OSError:
            if self._stopped:  # the store's directory went while the copy moved in
                return False
            raise
        if self._stopped:
            # Stopped while the copy moved in: it goes, and nothing of the store stays behind.
            await asyncio.to_thread(shutil.rmtree, path.parent, True)
            return False
        entry = _Entry(replace(downloaded, path=path), self._clock() + self.policy.max_seconds)
        entry.timer = asyncio.get_running_loop().call_later(self.policy.max_seconds, self._expire, key, entry)
        if key in self._entries:  # kept again while this copy was moving in
            self._forget(key)
        self._entries[key] = entry
        return True

    async def take(self, key: KeptKey, destination: Path) -> Downloaded | None:
        """Move a kept download to ``destination`` and hand it over, or return None if none is kept."""
        self._expire_due()
        entry = self._entries.pop(key, None)
        if entry is None:
            return None
        if entry.timer is not None:
            entry.timer.cancel()
        try:
            await asyncio.to_thread(shutil.move, entry.downloaded.path, destination)
        except OSError as error:
            logger.warning(
                "kept downloads: a copy could not be moved (%s); downloading again", error.strerror
            )
            self._remove(entry.downloaded.path)
            return None
        return replace(entry.downloaded, path=destination)

    async def drop(self, key: KeptKey) -> None:
        """Remove a kept download nobody will take (the person chose Ignore)."""
        if key in self._entries:
            self._forget(key)
            await self._settled()

    def workspaces(self) -> set[str]:
        """Return the workspaces that have downloads kept here."""
        return {workspace_key for workspace_key, _ in self._entries}

    async def drop_workspace(self, workspace_key: str) -> int:
        """Remove every download kept for a workspace (it uninstalled the app); return how many."""
        keys = [key for key in self._entries if key[0] == workspace_key]
        for key in keys:
            self._forget(key)
        await self._settled()
        return len(keys)

    def _expire(self, key: KeptKey, entry: _Entry) -> None:
        if self._entries.get(key) is entry:
            self._forget(key)

    def _expire_due(self) -> None:
        # Timers do this on time; a clock that jumps (or a test's) is caught up on each call.
        now = self._clock()
        for key in [key for key, entry in self._entries.items() if entry.expires_at <= now]:
            self._forget(key)

    def _forget(self, key: KeptKey) -> None:
        entry = self._entries.pop(key)
        if entry.timer is not None:
            entry.timer.cancel()
        self._remove(entry.downloaded.path)

    def _remove(self, path: Path) -> None:
        task = asyncio.get_running_loop().create_task(asyncio.to_thread(_unlink, path))
        self._removals.add(task)
        task.add_done_callback(self._removals.discard)

    async def _settled(self) -> None:
        if self._removals:
            await asyncio.wait(set(self._removals))


def _unlink(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as error:
        logger.warning("kept downloads: a copy could not be removed (%s)", error.strerror)
