"""Operations across every table: forgetting a workspace, re-encrypting every secret."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Table, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.crypto import Cipher
from bot.store.database import Database
from bot.store.schema import (
    SLACK_TOKEN_COLUMNS,
    ChannelSettingsRow,
    ConnectionRow,
    CreatedLinkRow,
    SubscriptionEventRow,
    SubscriptionFilterRow,
    SubscriptionLeaseRow,
    SubscriptionOrderRow,
    SubscriptionRow,
    UploadJobRow,
    UserLinkRow,
    WorkspaceSettingsRow,
    slack_bots,
    slack_installations,
)
from bot.store.workspace import WorkspaceRef

_PER_WORKSPACE_ROWS = (
    ConnectionRow,
    WorkspaceSettingsRow,
    ChannelSettingsRow,
    UserLinkRow,
    UploadJobRow,
    SubscriptionEventRow,
    SubscriptionRow,
    SubscriptionOrderRow,
    SubscriptionFilterRow,
    SubscriptionLeaseRow,
    CreatedLinkRow,
)


async def delete_workspace(database: Database, workspace: WorkspaceRef) -> None:
    """Remove everything the app keeps for a workspace except its audit log, in one transaction."""
    # That is its Slack installations and bots, PostDICOM connection, workspace and channel
    # settings, user links, and upload jobs (their sent-instance records cascade). The audit log
    # stays: it records what was done to the PostDICOM account, which outlives the Slack install.
    async with database.transaction() as session:
        for entity in _PER_WORKSPACE_ROWS:
            await session.execute(delete(entity).where(entity.workspace_key == workspace.key))
        for table in (slack_installations, slack_bots):
            await session.execute(delete(table).where(*_slack_rows_of(table, workspace)))


def _slack_rows_of(table: Table, workspace: WorkspaceRef) -> list[ColumnElement[bool]]:
    # slack_sdk keys rows by (enterprise_id, team_id) with SQL NULLs for the absent parts.
    enterprise, team = table.c.enterprise_id, table.c.team_id
    return [
        enterprise.is_(None) if workspace.enterprise_id is None else enterprise == workspace.enterprise_id,
        team.is_(None) if workspace.team_id is None else team == workspace.team_id,
    ]


async def rotate_secrets(database: Database, cipher: Cipher) -> int:
    """Re-encrypt every stored secret with the cipher's first key; return how many values changed."""
    async with database.transaction() as session:
        rotated = await _rotate_connections(session, cipher)
        rotated += await _rotate_job_replacements(session, cipher)
        rotated += await _rotate_subscriptions(session, cipher)
        for table in (slack_installations, slack_bots):
            rotated += await _rotate_slack_tokens(session, cipher, table)
        return rotated


async def _rotate_connections(session: AsyncSession, cipher: Cipher) -> int:
    rows = await session.scalars(select(ConnectionRow).with_for_update())
    count = 0
    for row in rows:
        row.api_key_encrypted = cipher.rotate(row.api_key_encrypted)
        row.account_key_encrypted = cipher.rotate(row.account_key_encrypted)
        count += 2
    await session.flush()
    return count


async def _rotate_job_replacements(session: AsyncSession, cipher: Cipher) -> int:
    rows = await session.scalars(
        select(UploadJobRow).where(UploadJobRow.replacements_encrypted.is_not(None)).with_for_update()
    )
    count = 0
    for row in rows:
        if row.replacements_encrypted is not None:
            row.replacements_encrypted = cipher.rotate(row.replacements_encrypted)
            count += 1
    await session.flush()
    return count


async def _rotate_subscriptions(session: AsyncSession, cipher: Cipher) -> int:
    count = 0
    for subscription in await session.scalars(select(SubscriptionRow).with_for_update()):
        subscription.query_encrypted = cipher.rotate(subscription.query_encrypted)
        count += 1
    for event in await session.scalars(select(SubscriptionEventRow).with_for_update()):
        event.order_encrypted = cipher.rotate(event.order_encrypted)
        count += 1
    await session.flush()
    return count


async def _rotate_slack_tokens(session: AsyncSession, cipher: Cipher, table: Table) -> int:
    columns = [table.c[name] for name in SLACK_TOKEN_COLUMNS if name in table.c]
    rows = (await session.execute(select(table.c.id, *columns).with_for_update())).mappings().all()
    count = 0
    for row in rows:
        changes = {
            column.name: cipher.rotate(row[column.name].encode("ascii")).decode("ascii")
            for column in columns
            if row[column.name] is not None
        }
        if changes:
            await session.execute(update(table).where(table.c.id == row["id"]).values(**changes))
            count += len(changes)
    return count
