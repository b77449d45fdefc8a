"""Share links the app created: found again by URL (a keyed hash of it) when someone pastes one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.store._sql import upsert
from bot.store.clock import Clock, utc_now
from bot.store.crypto import Cipher
from bot.store.database import Database
from bot.store.schema import CreatedLinkRow
from bot.store.workspace import WorkspaceRef


@dataclass(frozen=True, slots=True)
class CreatedLink:
    """What the app knows of a link it created: the order it shows and its terms."""

    order_uuid: str
    institution_uuid: str | None
    expires_on: date
    can_download: bool


class CreatedLinkRepository:
    """Remember the links the app creates, without storing the URLs themselves."""

    def __init__(self, database: Database, cipher: Cipher, *, clock: Clock = utc_now) -> None:
        self._database = database
        self._cipher = cipher
        self._clock = clock

    async def remember(self, workspace: WorkspaceRef, url: str, link: CreatedLink) -> None:
        """Remember a link the app just created."""
        values = {
            "order_uuid": link.order_uuid.lower(),
            "institution_uuid": (link.institution_uuid or "").lower() or None,
            "expires_on": link.expires_on.isoformat(),
            "can_download": link.can_download,
            "created_at": self._clock(),
        }
        statement = upsert(
            self._database.dialect,
            CreatedLinkRow,
            {"workspace_key": workspace.key, "url_key": self._cipher.fingerprint(url), **values},
            key=["workspace_key", "url_key"],
            update=values,
        )
        async with self._database.transaction() as session:
            await session.execute(statement)

    async def find(self, workspace: WorkspaceRef, url: str) -> CreatedLink | None:
        """Return the link the app created with this URL in this workspace, if it did."""
        async with self._database.transaction() as session:
            row = await session.get(CreatedLinkRow, (workspace.key, self._cipher.fingerprint(url)))
            if row is None:
                return None
            return CreatedLink(
                row.order_uuid, row.institution_uuid, date.fromisoformat(row.expires_on), row.can_download
            )
