"""Readiness: is the database there, and can each connected workspace reach its PostDICOM account?

PostDICOM is checked the way a command would meet it, by initializing a throw-away client with
the workspace's keys, at most once per ``ttl_seconds`` per process, in the background: a probe
answers from the last results within ``wait_seconds`` however slow PostDICOM is. A workspace whose
PostDICOM cannot be reached makes the replica ``degraded`` but still ready (HTTP 200): taking
replicas out of the load balancer would not bring that account back, and would cut off every
other workspace too. Only the database, which every request needs, makes a replica unready.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from bot.app.accounts import access_of
from bot.app.services import Services
from bot.postdicom import PostDicomError
from bot.store import PostDicomConnection, Store, WorkspaceRef
from bot.store.schema import ConnectionRow

logger = logging.getLogger(__name__)

DEFAULT_TTL_SECONDS = 60.0
DEFAULT_WAIT_SECONDS = 2.0
PROBE_CONCURRENCY = 8


async def connected_workspaces(store: Store) -> list[PostDicomConnection]:
    """Return the PostDICOM connection of every connected workspace, keys decrypted."""
    async with store.database.transaction() as session:
        rows = (
            await session.execute(
                select(
                    ConnectionRow.enterprise_id, ConnectionRow.team_id, ConnectionRow.is_enterprise_install
                ).order_by(ConnectionRow.workspace_key)
            )
        ).all()
    connections = []
    for enterprise_id, team_id, is_enterprise_install in rows:
        connection = await store.connections.get(WorkspaceRef(enterprise_id, team_id, is_enterprise_install))
        if connection is not None:
            connections.append(connection)
    return connections


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """Whether one workspace's PostDICOM answered, and if not, the kind of failure."""

    reachable: bool
    error: str | None
    checked_at: datetime


class Readiness:
    """Answers readiness probes from the database and cached PostDICOM checks."""

    def __init__(
        self,
        services: Services,
        *,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        wait_seconds: float = DEFAULT_WAIT_SECONDS,
    ) -> None:
        self._services = services
        self._ttl = ttl_seconds
        self._wait = wait_seconds
        self._results: dict[str, ProbeResult] = {}
        self._checked_at: float | None = None
        self._refresh: asyncio.Task[None] | None = None
        self.probes = 0

    async def report(self) -> tuple[int, dict[str, Any]]:
        """Return the HTTP status and body of a readiness probe."""
        database = await self._services.store.database.ping()
        if not database:
            return 503, {"status": "unavailable", "database": False}
        stale = self._checked_at is None or time.monotonic() - self._checked_at >= self._ttl
        if stale and (self._refresh is None or self._refresh.done()):
            self._refresh = asyncio.create_task(self._check_all(), name="pacsbot-readiness")
        if self._refresh is not None and not self._refresh.done():
            await asyncio.wait({self._refresh}, timeout=self._wait)
        results = dict(self._results)
        unreachable = [
            {"workspace": key, "error": result.error}
            for key, result in sorted(results.items())
            if not result.reachable
        ]
        checked_at = max((result.checked_at for result in results.values()), default=None)
        return 200, {
            "status": "degraded" if unreachable else "ok",
            "database": True,
            "postdicom": {
                "workspaces": len(results),
                "reachable": len(results) - len(unreachable),
                "unreachable": unreachable,
                "checked_at": checked_at.isoformat() if checked_at else None,
            },
        }

    async def _check_all(self) -> None:
        try:
            connections = await connected_workspaces(self._services.store)
        except Exception as error:
            logger.warning("readiness: cannot list connected workspaces: %s", type(error).__name__)
            return
        limit = asyncio.Semaphore(PROBE_CONCURRENCY)

        async def check(connection: PostDicomConnection) -> tuple[str, ProbeResult]:
            async with limit:
                return connection.workspace.key, await self._probe(connection)

        results = await asyncio.gather(*(check(connection) for connection in connections))
        self._results = dict(results)
        self._checked_at = time.monotonic()

    async def _probe(self, connection: PostDicomConnection) -> ProbeResult:
        self.probes += 1
        error: str | None = None
        try:
            # The client's own timeout bounds each step; this bounds the whole handshake.
            async with asyncio.timeout(self._services.settings.postdicom_timeout_seconds * 2):
                await self._services.postdicom.probe(access_of(connection))
        except PostDicomError as failure:
            error = type(failure).__name__
        except TimeoutError:
            error = "RequestTimeout"
        except Exception as failure:
            error = type(failure).__name__
        if error is not None:
            logger.info(
                "readiness: PostDICOM of workspace %s is unreachable: %s", connection.workspace, error
            )
        return ProbeResult(error is None, error, datetime.now(UTC))

    async def close(self) -> None:
        """Stop a check under way, at shutdown."""
        if self._refresh is not None:
            self._refresh.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresh
