"""The App Home tab as a personal worklist: my assigned orders, urgent unread ones, my subscriptions.

One PostDICOM search (the last ``WINDOW_DAYS`` of studies) feeds both order lists; flag, user and
group names come from the cached dictionaries. ``/pacs me`` tells which PostDICOM user I am.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_bolt.async_app import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.app.grammar import OrderQuery
from bot.app.lookup import Lookup
from bot.app.pacs_app import PacsApp
from bot.app.request import PacsRequest, workspace_of
from bot.app.subscriptions import urgent_flag_ids
from bot.errors import UserFacingError
from bot.postdicom import PatientOrder
from bot.ui.home import HOME_REFRESH_ACTION, Worklist, home_view, worklist_view
from bot.ui.orders import Names

logger = logging.getLogger(__name__)

WINDOW_DAYS = 30


def unread_flag_ids(names: Names) -> frozenset[str]:
    """Return the account's flags that mean unread (by name), as ``group:flag`` ids."""
    return frozenset(
        f"{group}:{flag}" for (group, flag), name in names.flags.items() if name.casefold() == "unread"
    )


def _flags(order: PatientOrder) -> set[str]:
    return {f"{flag.group_id}:{flag.flag_id}" for flag in order.flag_list}


async def publish_home(request: PacsRequest) -> None:
    """Publish the requesting user's Home tab."""
    store = request.services.store
    if await store.connections.get(request.workspace) is None:
        await request.client.views_publish(user_id=request.user_id, view=home_view(False))
        return
    link = await store.user_links.get(request.workspace, request.user_id)
    subscriptions = [
        (item.channel_id, item.query)
        for item in await store.subscriptions.of_workspace(request.workspace)
        if item.created_by == request.user_id
    ]
    try:
        lookup = await Lookup.start(request)
        names = await lookup.names()
        today = datetime.now(UTC).date()
        recent = await lookup.search(
            OrderQuery(study_from=today - timedelta(days=WINDOW_DAYS), study_to=today + timedelta(days=1))
        )
    except UserFacingError as error:
        logger.info("home tab of team %s without orders: %s", request.workspace.key, type(error).__name__)
        await request.client.views_publish(user_id=request.user_id, view=home_view(True))
        return
    me = link.postdicom_user_uuid.lower() if link else None
    urgent, unread = urgent_flag_ids(names), unread_flag_ids(names)
    newest_first = sorted(recent, key=lambda order: order.performed_datetime, reverse=True)
    worklist = Worklist(
        linked=me is not None,
        assigned=[
            order for order in newest_first if me in {uuid.lower() for uuid in order.assigned_user_uuid_list}
        ],
        urgent_unread=[order for order in newest_first if _flags(order) & urgent and _flags(order) & unread],
        subscriptions=subscriptions,
        window_days=WINDOW_DAYS,
    )
    view = worklist_view(worklist, await lookup.phi(), names)
    await request.client.views_publish(user_id=request.user_id, view=view)


def register(app: PacsApp) -> None:
    """Listen to app_home_opened and the Home tab's Refresh button."""

    async def on_home_opened(
        event: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        if event.get("tab") != "home":
            return
        request = PacsRequest(app.services, workspace_of(context), user_id=str(event["user"]), client=client)
        with app.services.handling():
            await publish_home(request)

    async def refresh(request: PacsRequest, _: dict[str, Any]) -> None:
        await publish_home(request)

    app.bolt.event("app_home_opened")(on_home_opened)
    app.action(HOME_REFRESH_ACTION, refresh)
