"""Which PostDICOM user each Slack user is (``/pacs me``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select

from bot.store._sql import affected_rows, upsert
from bot.store.clock import Clock, utc_now
from bot.store.database import Database
from bot.store.schema import UserLinkRow
from bot.store.workspace import WorkspaceRef


@dataclass(frozen=True, slots=True)
class UserLink:
    """A Slack user linked to a PostDICOM user of the workspace's account."""

    slack_user_id: str
    postdicom_user_uuid: str
    linked_at: datetime


class UserLinkRepository:
    """Read and write Slack-user to PostDICOM-user links."""

    def __init__(self, database: Database, *, clock: Clock = utc_now) -> None:
        self._database = database
        self._clock = clock

    async def link(self, workspace: WorkspaceRef, slack_user_id: str, postdicom_user_uuid: str) -> UserLink:
        """Link a Slack user to a PostDICOM user, replacing the user's earlier link."""
        link = UserLink(slack_user_id, postdicom_user_uuid, self._clock())
        values = {"postdicom_user_uuid": postdicom_user_uuid, "linked_at": link.linked_at}
        statement = upsert(
            self._database.dialect,
            UserLinkRow,
            {"workspace_key": workspace.key, "slack_user_id": slack_user_id, **values},
            key=["workspace_key", "slack_user_id"],
            update=values,
        )
        async with self._database.transaction() as session:
            await session.execute(statement)
        return link

    async def get(self, workspace: WorkspaceRef, slack_user_id: str) -> UserLink | None:
        """Return the Slack user's link, or None if the user never linked."""
        async with self._database.transaction() as session:
            row = await session.get(UserLinkRow, (workspace.key, slack_user_id))
            return None if row is None else _link(row)

    async def slack_users_for(self, workspace: WorkspaceRef, postdicom_user_uuid: str) -> list[str]:
        """Return the Slack users linked to a PostDICOM user (UUIDs compare case-insensitively)."""
        async with self._database.transaction() as session:
            rows = await session.scalars(
                select(UserLinkRow.slack_user_id)
                .where(
                    UserLinkRow.workspace_key == workspace.key,
                    func.lower(UserLinkRow.postdicom_user_uuid) == postdicom_user_uuid.lower(),
                )
                .order_by(UserLinkRow.slack_user_id)
            )
            return list(rows)

    async def all(self, workspace: WorkspaceRef) -> list[UserLink]:
        """Return every link of the workspace, by Slack user id."""
        async with self._database.transaction() as session:
            rows = await session.scalars(
                select(UserLinkRow)
                .where(UserLinkRow.workspace_key == workspace.key)
                .order_by(UserLinkRow.slack_user_id)
            )
            return [_link(row) for row in rows]

    async def unlink(self, workspace: WorkspaceRef, slack_user_id: str) -> bool:
        """Remove the Slack user's link; return whether there was one."""
        async with self._database.transaction() as session:
            result = await session.execute(
                delete(UserLinkRow).where(
                    UserLinkRow.workspace_key == workspace.key, UserLinkRow.slack_user_id == slack_user_id
                )
            )
            return bool(affected_rows(result))


def _link(row: UserLinkRow) -> UserLink:
    return UserLink(row.slack_user_id, row.postdicom_user_uuid, row.linked_at)
