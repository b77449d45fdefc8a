"""``/pacs subscribe``, ``/pacs subscriptions`` and ``/pacs unsubscribe``: a channel follows a search.

The search uses the ``/pacs search`` grammar; the poller (``bot/app/subscriptions.py``) posts one
card per new event into the channel, with the channel's patient-data rules. Who may subscribe
and unsubscribe is a workspace setting.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from bot.app.channel_policy import card_phi_for_channel
from bot.app.errors import NotAllowed
from bot.app.grammar import UsageError, split_words
from bot.app.guards import require_permission
from bot.app.lookup import Lookup
from bot.app.pacs_app import PacsApp
from bot.app.request import PacsRequest
from bot.app.subscriptions import SUBSCRIBE_EXAMPLE, SubscriptionPoller, parse_subscription
from bot.store.audit import AuditOutcome
from bot.ui.blocks import escape
from bot.ui.subscriptions import UNSUBSCRIBE_ACTION, subscriptions_blocks

logger = logging.getLogger(__name__)

# Where other modules (and tests) find the poller; bot/app/server.py starts what is listed under "background".
POLLER_KEY = "subscriptions.poller"
BACKGROUND_KEY = "background"
MAX_PER_CHANNEL = 20
UNSUBSCRIBE_EXAMPLE = "/pacs unsubscribe 1"


def register(app: PacsApp) -> None:
    """Add the subscription subcommands, the Unsubscribe button and the poller."""
    poller = SubscriptionPoller(app.bolt, app.services)
    app.extensions[POLLER_KEY] = poller
    app.extensions.setdefault(BACKGROUND_KEY, []).append(poller)
    store = app.services.store.subscriptions

    async def channel_of(request: PacsRequest) -> str:
        if not request.channel_id or request.channel_id.startswith("D"):
            raise UsageError("subscriptions post into a channel: run this in the channel", SUBSCRIBE_EXAMPLE)
        return request.channel_id

    async def allowed(request: PacsRequest, what: str) -> None:
        settings = await request.settings()
        await require_permission(request, settings.subscribe, what, action="subscription.change")

    async def subscribe(request: PacsRequest) -> None:
        channel = await channel_of(request)
        wanted = parse_subscription(request.text, datetime.now(UTC).date())
        await allowed(request, "subscribe a channel")
        if len(await store.in_channel(request.workspace, channel)) >= MAX_PER_CHANNEL:
            raise NotAllowed(
                f"This channel already follows {MAX_PER_CHANNEL} searches.",
                hint="Remove one with `/pacs subscriptions` first.",
            )
        if (
            await card_phi_for_channel(
                request.services, request.client, request.workspace, channel, await request.settings()
            )
            is None
        ):
            raise NotAllowed(
                "I cannot post in this channel.",
                hint="Invite me with `/invite @pacsbot`, then subscribe again.",
            )
        # A search now checks the filter (an unknown folder or institution is refused here, not later).
        await (await Lookup.start(request)).search(wanted.query)
        subscription = await store.add(
            request.workspace,
            channel_id=channel,
            query=wanted.text,
            canonical_query=wanted.canonical,
            events=wanted.events,
            created_by=request.user_id,
        )
        await request.audit("subscription.add", AuditOutcome.SUCCEEDED)
        logger.info("channel %s of team %s subscribed (#%d)", channel, request.workspace.key, subscription.id)
        await request.reply(
            f":bell: <@{request.user_id}> subscribed this channel to `{escape(wanted.text)}` "
            f"({', '.join(wanted.events)}). New events show here within a minute or so; "
            "`/pacs subscriptions` lists them.",
            in_channel=True,
        )
        # The first poll of a new filter takes its baseline: take it now, so nothing after this is missed.
        task = asyncio.create_task(poller.poll_workspace(request.workspace, force=True))
        app.services.in_flight.add(task)
        task.add_done_callback(app.services.in_flight.discard)

    async def list_subscriptions(request: PacsRequest) -> None:
        channel = await channel_of(request)
        entries = [
            (item.id, item.query, item.events) for item in await store.in_channel(request.workspace, channel)
        ]
        await request.reply(f"{len(entries)} subscription(s) in this channel", subscriptions_blocks(entries))

    async def remove(request: PacsRequest, subscription_id: int, channel: str) -> None:
        await allowed(request, "unsubscribe a channel")
        if not await store.remove(request.workspace, subscription_id):
            await request.reply("That subscription is already gone.")
            return
        await request.audit("subscription.remove", AuditOutcome.SUCCEEDED)
        await request.reply(
            f":no_bell: <@{request.user_id}> removed a subscription of <#{channel}>.", in_channel=True
        )

    async def unsubscribe(request: PacsRequest) -> None:
        channel = await channel_of(request)
        words = split_words(request.text, ()).words
        if len(words) != 1 or not words[0].isdigit():
            raise UsageError("which one? Give its number from `/pacs subscriptions`", UNSUBSCRIBE_EXAMPLE)
        current = await store.in_channel(request.workspace, channel)
        number = int(words[0])
        if not 1 <= number <= len(current):
            raise UsageError(
                f"this channel has {len(current)} subscription(s); there is no number {number}",
                UNSUBSCRIBE_EXAMPLE,
            )
        await remove(request, current[number - 1].id, channel)

    async def unsubscribe_button(request: PacsRequest, action: dict[str, Any]) -> None:
        value = str(action.get("value") or "")
        channel = request.channel_id or ""
        ids = {item.id for item in await store.in_channel(request.workspace, channel)}
        if not value.isdigit() or int(value) not in ids:
            await request.reply("That subscription is already gone.")
            return
        await remove(request, int(value), channel)

    app.router.add(
        "subscribe",
        subscribe,
        summary="Post new orders matching a search into this channel, as they arrive",
        usage="subscribe <query> [events:new,urgent,assigned,images]",
        examples=(SUBSCRIBE_EXAMPLE, "/pacs subscribe folder:Trauma events:new,images"),
        aliases=("follow",),
    )
    app.router.add(
        "subscriptions",
        list_subscriptions,
        summary="List this channel's subscriptions, with Unsubscribe buttons",
        usage="subscriptions",
        examples=("/pacs subscriptions",),
    )
    app.router.add(
        "unsubscribe",
        unsubscribe,
        summary="Stop one of this channel's subscriptions",
        usage="unsubscribe <number>",
        examples=(UNSUBSCRIBE_EXAMPLE,),
        aliases=("unfollow",),
    )
    app.action(UNSUBSCRIBE_ACTION, unsubscribe_button)
