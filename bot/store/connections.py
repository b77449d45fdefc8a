"""Which PostDICOM account each workspace uses, with its keys encrypted at rest."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pydantic import SecretStr
from sqlalchemy import delete, select, update

from bot.store._sql import affected_rows, upsert
from bot.store.clock import Clock, utc_now
from bot.store.crypto import Cipher
from bot.store.database import Database
from bot.store.schema import ConnectionRow
from bot.store.workspace import WorkspaceRef


@dataclass(frozen=True, slots=True)
class PostDicomConnection:
    """A workspace's PostDICOM account: keys, the user the app acts as, and who connected it.

    ``version`` grows by one on every change, so a process holding a client for this workspace
    can compare versions to know that it must rebuild the client.
    """

    workspace: WorkspaceRef
    api_key: SecretStr
    account_key: SecretStr
    router_url: str
    acting_user_uuid: str | None
    default_institution_uuid: str | None
    connected_by: str
    connected_at: datetime
    updated_at: datetime
    version: int


class ConnectionRepository:
    """Read and write workspace PostDICOM connections."""

    def __init__(self, database: Database, cipher: Cipher, *, clock: Clock = utc_now) -> None:
        self._database = database
        self._cipher = cipher
        self._clock = clock

    async def get(self, workspace: WorkspaceRef) -> PostDicomConnection | None:
        """Return the workspace's connection with its keys decrypted, or None if it has none."""
        async with self._database.transaction() as session:
            row = await session.get(ConnectionRow, workspace.key)
            return None if row is None else self._to_value(workspace, row)

    async def connected(self, workspace_keys: Iterable[str]) -> set[str]:
        """Return which of these workspaces have a PostDICOM connection."""
        wanted = sorted(set(workspace_keys))
        if not wanted:
            return set()
        async with self._database.transaction() as session:
            found = await session.scalars(
                select(ConnectionRow.workspace_key).where(ConnectionRow.workspace_key.in_(wanted))
            )
            return set(found)

    async def version(self, workspace: WorkspaceRef) -> int | None:
        """Return the connection's version without decrypting anything, or None if it has none."""
        async with self._database.transaction() as session:
            found: int | None = await session.scalar(
                select(ConnectionRow.version).where(ConnectionRow.workspace_key == workspace.key)
            )
            return found

    async def save(
        self,
        workspace: WorkspaceRef,
        *,
        api_key: SecretStr,
        account_key: SecretStr,
        router_url: str,
        connected_by: str,
        acting_user_uuid: str | None = None,
        default_institution_uuid: str | None = None,
    ) -> PostDicomConnection:
        """Connect the workspace to an account, replacing any earlier connection."""
        now = self._clock()
        values = {
            "enterprise_id": workspace.enterprise_id,
            "team_id": workspace.team_id,
            "is_enterprise_install": workspace.is_enterprise_install,
            "api_key_encrypted": self._cipher.encrypt(api_key),
            "account_key_encrypted": self._cipher.encrypt(account_key),
            "router_url": router_url,
            "acting_user_uuid": acting_user_uuid,
            "default_institution_uuid": default_institution_uuid,
            "connected_by": connected_by,
            "connected_at": now,
            "updated_at": now,
        }
        statement = upsert(
            self._database.dialect,
            ConnectionRow,
            {"workspace_key": workspace.key, "version": 1, **values},
            key=["workspace_key"],
            update={**values, "version": ConnectionRow.version + 1},
        ).returning(ConnectionRow)
        async with self._database.transaction() as session:
            row = (await session.scalars(statement)).one()
            return self._to_value(workspace, row)

    async def set_acting_user(
        self, workspace: WorkspaceRef, *, acting_user_uuid: str, default_institution_uuid: str | None
    ) -> PostDicomConnection | None:
        """Choose the PostDICOM user the app acts as and the default institution; None if not connected."""
        statement = (
            update(ConnectionRow)
            .where(ConnectionRow.workspace_key == workspace.key)
            .values(
                acting_user_uuid=acting_user_uuid,
                default_institution_uuid=default_institution_uuid,
                updated_at=self._clock(),
                version=ConnectionRow.version + 1,
            )
            .returning(ConnectionRow)
        )
        async with self._database.transaction() as session:
            row = (await session.scalars(statement)).one_or_none()
            return None if row is None else self._to_value(workspace, row)

    async def delete(self, workspace: WorkspaceRef) -> bool:
        """Forget the workspace's connection; return whether there was one."""
        async with self._database.transaction() as session:
            result = await session.execute(
                delete(ConnectionRow).where(ConnectionRow.workspace_key == workspace.key)
            )
            return bool(affected_rows(result))

    def _to_value(self, workspace: WorkspaceRef, row: ConnectionRow) -> PostDicomConnection:
        return PostDicomConnection(
            workspace=workspace,
            api_key=self._cipher.decrypt(row.api_key_encrypted),
            account_key=self._cipher.decrypt(row.account_key_encrypted),
            router_url=row.router_url,
            acting_user_uuid=row.acting_user_uuid,
            default_institution_uuid=row.default_institution_uuid,
            connected_by=row.connected_by,
            connected_at=row.connected_at,
            updated_at=row.updated_at,
            version=row.version,
        )
