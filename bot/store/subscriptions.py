"""Channel subscriptions (``/pacs subscribe``): the standing searches, what each filter last saw,
the events owed to channels, and the lease that lets one replica poll a workspace at a time.

A poll writes what it saw and the events it found in one transaction, and only while its lease
holds; events are deleted once posted. So a restart neither forgets an event nor finds it twice,
and a replica whose lease ran out cannot write behind the new holder's back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import SecretStr
from sqlalchemy import delete, or_, select, update

from bot.store._sql import affected_rows, insert_or_ignore, upsert
from bot.store.clock import Clock, utc_now
from bot.store.crypto import Cipher
from bot.store.database import Database
from bot.store.schema import (
    SubscriptionEventRow,
    SubscriptionFilterRow,
    SubscriptionLeaseRow,
    SubscriptionOrderRow,
    SubscriptionRow,
)
from bot.store.workspace import WorkspaceRef

# An order a filter has not returned for this long has left its window for good.
FORGET_ORDERS_AFTER = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Subscription:
    """A channel following a search."""

    id: int
    workspace: WorkspaceRef
    channel_id: str
    query: str
    filter_key: str
    events: tuple[str, ...]
    created_by: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OrderMark:
    """What a poll remembers of an order, to tell what changed next time."""

    order_uuid: str
    images_count: int
    flags: tuple[str, ...]
    assignees: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event a poll found for one subscription, with the order as PostDICOM returned it (JSON)."""

    subscription_id: int
    kind: str
    order_json: str


@dataclass(frozen=True, slots=True)
class PendingEvent:
    """An event not posted yet, with the channel it goes to."""

    id: int
    subscription_id: int
    channel_id: str
    kind: str
    order_json: str


class SubscriptionRepository:
    """Read and write subscriptions, their polling state and their undelivered events."""

    def __init__(self, database: Database, cipher: Cipher, *, clock: Clock = utc_now) -> None:
        self._database = database
        self._cipher = cipher
        self._clock = clock

    def filter_key(self, canonical_query: str) -> str:
        """Return the key that groups subscriptions with the same filter (a fingerprint, not the text)."""
        return self._cipher.fingerprint(canonical_query)

    async def add(
        self,
        workspace: WorkspaceRef,
        *,
        channel_id: str,
        query: str,
        canonical_query: str,
        events: Sequence[str],
        created_by: str,
    ) -> Subscription:
        """Subscribe a channel to a search."""
        now = self._clock()
        row = SubscriptionRow(
            workspace_key=workspace.key,
            enterprise_id=workspace.enterprise_id,
            team_id=workspace.team_id,
            is_enterprise_install=workspace.is_enterprise_install,
            channel_id=channel_id,
            query_encrypted=self._cipher.encrypt(SecretStr(query)),
            filter_key=self.filter_key(canonical_query),
            events=list(events),
            created_by=created_by,
            created_at=now,
        )
        async with self._database.transaction() as session:
            session.add(row)
            await session.flush()
            await session.execute(
                insert_or_ignore(
                    self._database.dialect,
                    SubscriptionLeaseRow,
                    {"workspace_key": workspace.key, "owner": None, "expires_at": None, "polled_at": None},
                    key=["workspace_key"],
                )
            )
            return self._subscription(row)

    async def in_channel(self, workspace: WorkspaceRef, channel_id: str) -> list[Subscription]:
        """Return a channel's subscriptions, oldest first (their numbers in the list)."""
        async with self._database.transaction() as session:
            rows = await session.scalars(
                select(SubscriptionRow)
                .where(
                    SubscriptionRow.workspace_key == workspace.key, SubscriptionRow.channel_id == channel_id
                )
                .order_by(SubscriptionRow.id)
            )
            return [self._subscription(row) for row in rows]

    async def of_workspace(self, workspace: WorkspaceRef) -> list[Subscription]:
        """Return every subscription of a workspace, oldest first."""
        async with self._database.transaction() as session:
            rows = await session.scalars(
                select(SubscriptionRow)
                .where(SubscriptionRow.workspace_key == workspace.key)
                .order_by(SubscriptionRow.id)
            )
            return [self._subscription(row) for row in rows]

    async def workspaces(self) -> list[WorkspaceRef]:
        """Return the workspaces with at least one subscription."""
        async with self._database.transaction() as session:
            rows = await session.execute(
                select(
                    SubscriptionRow.enterprise_id,
                    SubscriptionRow.team_id,
                    SubscriptionRow.is_enterprise_install,
                ).distinct()
            )
            return sorted(
                {WorkspaceRef(enterprise, team, bool(org)) for enterprise, team, org in rows}, key=str
            )

    async def remove(self, workspace: WorkspaceRef, subscription_id: int) -> bool:
        """Delete a subscription (and its undelivered events); forget its filter when no one else has it."""
        async with self._database.transaction() as session:
            row = await session.get(SubscriptionRow, subscription_id)
            if row is None or row.workspace_key != workspace.key:
                return False
            filter_key = row.filter_key
            await session.execute(
                delete(SubscriptionEventRow).where(SubscriptionEventRow.subscription_id == subscription_id)
            )
            await session.delete(row)
            await session.flush()
            still_used = await session.scalar(
                select(SubscriptionRow.id)
                .where(
                    SubscriptionRow.workspace_key == workspace.key, SubscriptionRow.filter_key == filter_key
                )
                .limit(1)
            )
            if still_used is None:
                for entity in (SubscriptionOrderRow, SubscriptionFilterRow):
                    await session.execute(
                        delete(entity).where(
                            entity.workspace_key == workspace.key, entity.filter_key == filter_key
                        )
                    )
            return True

    # --- polling ------------------------------------------------------------------------------

    async def take_lease(
        self, workspace: WorkspaceRef, owner: str, *, lease_seconds: float, interval_seconds: float
    ) -> bool:
        """Become the workspace's poller if nobody holds the lease and its interval has passed."""
        now = self._clock()
        async with self._database.transaction() as session:
            await session.execute(
                insert_or_ignore(
                    self._database.dialect,
                    SubscriptionLeaseRow,
                    {"workspace_key": workspace.key, "owner": None, "expires_at": None, "polled_at": None},
                    key=["workspace_key"],
                )
            )
            # One UPDATE decides: both databases let a single row change only once at a time, and
            # PostgreSQL re-checks the condition after waiting for a competitor's update.
            result = await session.execute(
                update(SubscriptionLeaseRow)
                .where(
                    SubscriptionLeaseRow.workspace_key == workspace.key,
                    or_(
                        SubscriptionLeaseRow.owner.is_(None),
                        SubscriptionLeaseRow.owner == owner,
                        SubscriptionLeaseRow.expires_at < now,
                    ),
                    or_(
                        SubscriptionLeaseRow.polled_at.is_(None),
                        SubscriptionLeaseRow.polled_at <= now - timedelta(seconds=interval_seconds),
                    ),
                )
                .values(owner=owner, expires_at=now + timedelta(seconds=lease_seconds))
            )
            return affected_rows(result) == 1

    async def release_lease(self, workspace: WorkspaceRef, owner: str) -> None:
        """Give the lease back, noting when the poll happened (the interval counts from it)."""
        async with self._database.transaction() as session:
            await session.execute(
                update(SubscriptionLeaseRow)
                .where(
                    SubscriptionLeaseRow.workspace_key == workspace.key, SubscriptionLeaseRow.owner == owner
                )
                .values(owner=None, expires_at=None, polled_at=self._clock())
            )

    async def marks(self, workspace: WorkspaceRef, filter_key: str) -> dict[str, OrderMark] | None:
        """Return what the filter saw last, by order UUID; None if it was never polled (no baseline)."""
        async with self._database.transaction() as session:
            polled = await session.get(SubscriptionFilterRow, (workspace.key, filter_key))
            if polled is None:
                return None
            rows = await session.scalars(
                select(SubscriptionOrderRow).where(
                    SubscriptionOrderRow.workspace_key == workspace.key,
                    SubscriptionOrderRow.filter_key == filter_key,
                )
            )
            return {
                row.order_uuid: OrderMark(
                    row.order_uuid, row.images_count, tuple(row.flags), tuple(row.assignees)
                )
                for row in rows
            }

    async def record(
        self,
        workspace: WorkspaceRef,
        filter_key: str,
        owner: str,
        *,
        seen: Sequence[OrderMark],
        events: Sequence[NewEvent],
    ) -> bool:
        """Store what a poll saw and the events it found, together; False (nothing stored) if the lease was lost."""
        now = self._clock()
        async with self._database.transaction() as session:
            lease = await session.scalar(
                select(SubscriptionLeaseRow)
                .where(
                    SubscriptionLeaseRow.workspace_key == workspace.key,
                    SubscriptionLeaseRow.owner == owner,
                    SubscriptionLeaseRow.expires_at > now,
                )
                .with_for_update()
            )
            if lease is None:
                return False
            for mark in seen:
                values = {
                    "images_count": mark.images_count,
                    "flags": list(mark.flags),
                    "assignees": list(mark.assignees),
                    "seen_at": now,
                }
                await session.execute(
                    upsert(
                        self._database.dialect,
                        SubscriptionOrderRow,
                        {
                            "workspace_key": workspace.key,
                            "filter_key": filter_key,
                            "order_uuid": mark.order_uuid,
                            **values,
                        },
                        key=["workspace_key", "filter_key", "order_uuid"],
                        update=values,
                    )
                )
            await session.execute(
                delete(SubscriptionOrderRow).where(
                    SubscriptionOrderRow.workspace_key == workspace.key,
                    SubscriptionOrderRow.filter_key == filter_key,
                    SubscriptionOrderRow.seen_at < now - FORGET_ORDERS_AFTER,
                )
            )
            await session.execute(
                upsert(
                    self._database.dialect,
                    SubscriptionFilterRow,
                    {"workspace_key": workspace.key, "filter_key": filter_key, "polled_at": now},
                    key=["workspace_key", "filter_key"],
                    update={"polled_at": now},
                )
            )
            for event in events:
                session.add(
                    SubscriptionEventRow(
                        workspace_key=workspace.key,
                        subscription_id=event.subscription_id,
                        kind=event.kind,
                        order_encrypted=self._cipher.encrypt(SecretStr(event.order_json)),
                        created_at=now,
                    )
                )
            return True

    async def pending(self, workspace: WorkspaceRef) -> list[PendingEvent]:
        """Return the workspace's events not posted yet, oldest first."""
        async with self._database.transaction() as session:
            rows = await session.execute(
                select(SubscriptionEventRow, SubscriptionRow.channel_id)
                .join(SubscriptionRow, SubscriptionRow.id == SubscriptionEventRow.subscription_id)
                .where(SubscriptionEventRow.workspace_key == workspace.key)
                .order_by(SubscriptionEventRow.id)
            )
            return [
                PendingEvent(
                    event.id,
                    event.subscription_id,
                    channel_id,
                    event.kind,
                    self._cipher.decrypt(event.order_encrypted).get_secret_value(),
                )
                for event, channel_id in rows
            ]

    async def delivered(self, event_ids: Sequence[int]) -> None:
        """Forget events that were posted."""
        if not event_ids:
            return
        async with self._database.transaction() as session:
            await session.execute(
                delete(SubscriptionEventRow).where(SubscriptionEventRow.id.in_(list(event_ids)))
            )

    def _subscription(self, row: SubscriptionRow) -> Subscription:
        return Subscription(
            id=row.id,
            workspace=WorkspaceRef(row.enterprise_id, row.team_id, row.is_enterprise_install),
            channel_id=row.channel_id,
            query=self._cipher.decrypt(row.query_encrypted).get_secret_value(),
            filter_key=row.filter_key,
            events=tuple(row.events),
            created_by=row.created_by,
            created_at=row.created_at,
        )
