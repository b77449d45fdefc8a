"""Subscriptions at work: read ``/pacs subscribe`` text, tell what changed, poll PostDICOM, post cards.

PostDICOM has no push, so each workspace is polled: one search per distinct filter (however many
channels share it) over a sliding window of study dates, compared by order UUID, image count,
flags and assignees with what the previous poll stored. What a poll saw and the events it found
are stored together under a lease that one replica holds at a time; events are posted from the
store and deleted once posted. A burst (more than ``BURST_THRESHOLD`` events for one subscription)
is posted as one summary.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import socket
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.app.channel_policy import card_phi_for_channel
from bot.app.grammar import OrderQuery, UsageError, parse_query, split_words
from bot.app.lookup import Lookup
from bot.app.request import PacsRequest
from bot.app.services import Services
from bot.errors import UserFacingError
from bot.postdicom import PatientOrder
from bot.store.subscriptions import NewEvent, OrderMark, PendingEvent, Subscription
from bot.store.workspace import WorkspaceRef
from bot.ui.orders import Names
from bot.ui.subscriptions import event_blocks, event_text, summary_blocks, summary_text

logger = logging.getLogger(__name__)

EVENT_KINDS = ("new", "urgent", "assigned", "images")
# Image arrivals are chatty (a study arrives over several polls): asked for, not given by default.
DEFAULT_EVENTS = ("new", "urgent", "assigned")
# More events than this for one subscription at once become one summary message.
BURST_THRESHOLD = 5
# Study dates searched around today: yesterday covers a study that crosses midnight (or a time zone).
WINDOW_DAYS_BEFORE = 1
WINDOW_DAYS_AFTER = 1
SUBSCRIBE_EXAMPLE = '/pacs subscribe mod:CT inst:"Main Hospital" events:new,urgent'
_EVENTS_OPTION = re.compile(r"(?i)(?:^|\s)events:\S*")


@dataclass(frozen=True, slots=True)
class SubscriptionRequest:
    """What ``/pacs subscribe`` asked for: the search (as typed) and the events wanted."""

    text: str
    query: OrderQuery
    events: tuple[str, ...]

    @property
    def canonical(self) -> str:
        """Return the filter in one spelling, so equal filters typed differently share one search."""
        return canonical_filter(self.query)


def canonical_filter(query: OrderQuery) -> str:
    """Write a query's criteria in one fixed spelling (case and order of modalities do not matter)."""
    return json.dumps(
        {
            "name": " ".join(query.patient_name.casefold().split()),
            "id": query.patient_id.casefold(),
            "acc": query.accession_number.casefold(),
            "other": query.other_patient_id.casefold(),
            "mod": sorted(query.modalities),
            "born": [str(query.born_from), str(query.born_to)],
            "folder": query.folder.casefold(),
            "inst": query.institution.casefold(),
        },
        sort_keys=True,
    )


def parse_subscription(text: str, today: date) -> SubscriptionRequest:
    """Read ``<query> [events:new,urgent,assigned,images]``; the study dates are the poller's to choose."""
    listed = split_words(text, ("events",)).option("events")
    events: list[str] = []
    for part in (listed or "").lower().replace("+", ",").split(","):
        if not part:
            continue
        if part not in EVENT_KINDS:
            raise UsageError(f"'{part}' is not an event I know ({', '.join(EVENT_KINDS)})", SUBSCRIBE_EXAMPLE)
        if part not in events:
            events.append(part)
    query_text = _EVENTS_OPTION.sub(" ", text).strip()
    query = parse_query(query_text, today)
    if query.study_from or query.study_to:
        raise UsageError(
            "a subscription watches new orders as they come, so from: and to: do not apply", SUBSCRIBE_EXAMPLE
        )
    if query.is_empty():
        raise UsageError(
            "tell me which orders to watch: a modality, an institution, a folder…", SUBSCRIBE_EXAMPLE
        )
    return SubscriptionRequest(query_text, query, tuple(events) or DEFAULT_EVENTS)


def mark_of(order: PatientOrder) -> OrderMark:
    """Return what a poll remembers of an order."""
    return OrderMark(
        order_uuid=order.patient_order_uuid.lower(),
        images_count=order.images_count,
        flags=tuple(sorted({f"{flag.group_id}:{flag.flag_id}" for flag in order.flag_list})),
        assignees=tuple(
            sorted(
                {f"user:{uuid.lower()}" for uuid in order.assigned_user_uuid_list}
                | {f"group:{uuid.lower()}" for uuid in order.assigned_user_group_uuid_list}
            )
        ),
    )


def changes(previous: OrderMark | None, current: OrderMark, urgent_flags: frozenset[str]) -> list[str]:
    """Return the events between two states of an order, most important first."""
    if previous is None:
        kinds = ["new"]
        if urgent_flags & set(current.flags):
            kinds.append("urgent")
        if current.assignees:
            kinds.append("assigned")
        return kinds
    kinds = []
    if urgent_flags & (set(current.flags) - set(previous.flags)):
        kinds.append("urgent")
    if set(current.assignees) - set(previous.assignees):
        kinds.append("assigned")
    if current.images_count > previous.images_count:
        kinds.append("images")
    return kinds


def events_for(
    subscriptions: Sequence[Subscription],
    previous: Mapping[str, OrderMark],
    orders: Iterable[PatientOrder],
    urgent_flags: frozenset[str],
) -> list[NewEvent]:
    """Return the events a filter's subscriptions want: at most one per order per subscription."""
    found: list[NewEvent] = []
    for order in orders:
        current = mark_of(order)
        kinds = changes(previous.get(current.order_uuid), current, urgent_flags)
        if not kinds:
            continue
        order_json = order.model_dump_json()
        for subscription in subscriptions:
            wanted = next((kind for kind in kinds if kind in subscription.events), None)
            if wanted is not None:
                found.append(NewEvent(subscription.id, wanted, order_json))
    return found


def urgent_flag_ids(names: Names) -> frozenset[str]:
    """Return the account's flags that mean urgent (by name), as ``group:flag`` ids."""
    return frozenset(
        f"{group}:{flag}" for (group, flag), name in names.flags.items() if "urgent" in name.casefold()
    )


@dataclass
class PollStats:
    """What the poller did, for the benchmark and for tests: searches per filter, cards and summaries."""

    searches: Counter[str] = field(default_factory=Counter)
    cards: int = 0
    summaries: int = 0
    polls: int = 0


class SubscriptionPoller:
    """Poll every workspace with subscriptions, once per interval, on whichever replica holds its lease."""

    def __init__(self, bolt: AsyncApp, services: Services) -> None:
        self._bolt = bolt
        self._services = services
        self._store = services.store.subscriptions
        self.interval = services.settings.subscription_poll_seconds
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.stats = PollStats()
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        # One poll of a workspace at a time in this process, whether the loop or a test asked.
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    @property
    def lease_seconds(self) -> float:
        """Return how long a lease lasts: long enough for a slow poll, short enough to take over a dead one."""
        return max(60.0, 2 * self.interval)

    async def start(self) -> None:
        """Start polling in the background."""
        self._stopping = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="subscription-poller")

    async def stop(self) -> None:
        """Stop polling, letting a poll under way finish (cut short, it would leave a connection open)."""
        if self._task is None:
            return
        self._stopping.set()
        try:
            await asyncio.wait_for(
                asyncio.shield(self._task), timeout=self._services.settings.shutdown_grace_seconds
            )
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None

    async def _run(self) -> None:
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.interval)
                return
            try:
                await self.poll_all()
            except Exception:
                logger.exception("subscription polling failed; trying again in %.0f s", self.interval)

    async def poll_all(self, *, force: bool = False) -> None:
        """Poll each workspace whose interval has passed (or every one, with force)."""
        for workspace in await self._store.workspaces():
            await self.poll_workspace(workspace, force=force)

    async def poll_workspace(self, workspace: WorkspaceRef, *, force: bool = False) -> bool:
        """Poll one workspace if this replica gets its lease; return whether it did."""
        async with self._locks[workspace.key]:
            # A little slack on the interval: the loop's sleep and the database clock drift apart.
            interval = 0.0 if force else self.interval * 0.9
            if not await self._store.take_lease(
                workspace, self.owner, lease_seconds=self.lease_seconds, interval_seconds=interval
            ):
                return False
            try:
                self.stats.polls += 1
                await self._poll(workspace)
            finally:
                await self._store.release_lease(workspace, self.owner)
            return True

    async def _poll(self, workspace: WorkspaceRef) -> None:
        client = await self.slack_client(workspace)
        if client is None:
            logger.warning("workspace %s has subscriptions but no bot token; not polling", workspace.key)
            return
        subscriptions = await self._store.of_workspace(workspace)
        if subscriptions:
            # The app acts on its own here: a request with no user, for the workspace's connection.
            request = PacsRequest(self._services, workspace, user_id="", client=client)
            try:
                lookup = await Lookup.start(request)
            except UserFacingError as error:
                logger.warning(
                    "workspace %s has subscriptions but cannot search: %s", workspace.key, error.message
                )
                return
            names = await lookup.names()
            by_filter: defaultdict[str, list[Subscription]] = defaultdict(list)
            for subscription in subscriptions:
                by_filter[subscription.filter_key].append(subscription)
            for filter_key, sharing in by_filter.items():
                try:
                    await self._poll_filter(workspace, lookup, names, filter_key, sharing)
                except Exception as error:
                    # One broken filter (a folder deleted since) must not stop the others.
                    logger.warning(
                        "a subscription search of workspace %s failed: %s",
                        workspace.key,
                        type(error).__name__,
                    )
            await self._deliver(workspace, client, names, {item.id: item for item in subscriptions})

    async def _poll_filter(
        self,
        workspace: WorkspaceRef,
        lookup: Lookup,
        names: Names,
        filter_key: str,
        subscriptions: Sequence[Subscription],
    ) -> None:
        today = datetime.now(UTC).date()
        wanted = parse_subscription(subscriptions[0].query, today).query.narrowed(
            study_from=today - timedelta(days=WINDOW_DAYS_BEFORE),
            study_to=today + timedelta(days=WINDOW_DAYS_AFTER),
        )
        self.stats.searches[filter_key] += 1
        orders = await lookup.search(wanted)
        previous = await self._store.marks(workspace, filter_key)
        # The first poll of a filter is its baseline: what already exists is not news.
        events = (
            [] if previous is None else events_for(subscriptions, previous, orders, urgent_flag_ids(names))
        )
        stored = await self._store.record(
            workspace, filter_key, self.owner, seen=[mark_of(order) for order in orders], events=events
        )
        if not stored:
            logger.warning(
                "lost the subscription lease of workspace %s mid-poll; another replica goes on", workspace.key
            )

    async def _deliver(
        self,
        workspace: WorkspaceRef,
        client: AsyncWebClient,
        names: Names,
        subscriptions: Mapping[int, Subscription],
    ) -> None:
        pending = await self._store.pending(workspace)
        by_subscription: defaultdict[int, list[PendingEvent]] = defaultdict(list)
        for event in pending:
            by_subscription[event.subscription_id].append(event)
        settings = await self._services.store.workspace_settings.get(workspace)
        for subscription_id, events in by_subscription.items():
            subscription = subscriptions.get(subscription_id)
            if subscription is None:  # unsubscribed since the poll began; its events went with it
                continue
            phi = await card_phi_for_channel(
                self._services, client, workspace, subscription.channel_id, settings
            )
            if phi is None:
                continue
            orders = [(event.kind, PatientOrder.model_validate_json(event.order_json)) for event in events]
            try:
                if len(events) > BURST_THRESHOLD:
                    await client.chat_postMessage(
                        channel=subscription.channel_id,
                        text=summary_text(len(events)),
                        blocks=summary_blocks(orders, phi, names, query=subscription.query),
                    )
                    self.stats.summaries += 1
                    await self._store.delivered([event.id for event in events])
                    continue
                for event, (kind, order) in zip(events, orders, strict=True):
                    await client.chat_postMessage(
                        channel=subscription.channel_id,
                        text=event_text(kind, order),
                        blocks=event_blocks(kind, order, phi, names, query=subscription.query),
                    )
                    self.stats.cards += 1
                    # Forgotten one by one: a failure later in the loop repeats none of these.
                    await self._store.delivered([event.id])
            except SlackApiError as error:
                # Kept for the next poll: Slack may be down, or the bot was removed from the channel.
                logger.warning(
                    "could not post subscription events to %s: %s",
                    subscription.channel_id,
                    error.response.get("error") if error.response else "no answer",
                )

    async def slack_client(self, workspace: WorkspaceRef) -> AsyncWebClient | None:
        """Return a Web API client with the workspace's bot token."""
        installations = self._services.store.installations
        if installations is None:
            return self._bolt.client
        bot = await installations.async_find_bot(
            enterprise_id=workspace.enterprise_id,
            team_id=workspace.team_id,
            is_enterprise_install=workspace.is_enterprise_install,
        )
        if bot is None or not bot.bot_token:
            return None
        base = self._bolt.client
        return AsyncWebClient(
            token=bot.bot_token,
            base_url=base.base_url,
            timeout=base.timeout,
            session=base.session,
            retry_handlers=base.retry_handlers,
        )
