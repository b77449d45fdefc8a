"""Telling a fresh interaction from a replay or a double click, before anything is done.

A signed request replayed within Slack's five minutes verifies again, and a double click sends two
clicks a moment apart. The first delivery claims the interaction in the database (so on every
replica); a later one finds the claim and does nothing: the first already answered.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from bot.store.claims import InteractionClaims

logger = logging.getLogger(__name__)

# Two clicks of one button with one value, closer than this, are one double click.
DOUBLE_CLICK_SECONDS = 1


def _action_value(action: Mapping[str, Any]) -> str:
    selected = action.get("selected_option") or {}
    return str(selected.get("value") or action.get("value") or "")


async def repeated_click(
    claims: InteractionClaims, workspace_key: str, body: Mapping[str, Any], *, single_click: bool = False
) -> str | None:
    """Claim a block action; return why it is a repeat ("replay", "double_click"), or None when it is fresh.

    ``single_click`` buttons (those that create something: a link, an upload) also treat a second
    click of the same button and value within a second as a double click.
    """
    action = (body.get("actions") or [{}])[0]
    user = str((body.get("user") or {}).get("id") or "")
    container = body.get("container") or {}
    where = str(container.get("message_ts") or container.get("view_id") or "")
    action_id, action_ts = str(action.get("action_id") or ""), str(action.get("action_ts") or "")
    if not await claims.claim("replay", workspace_key, user, action_id, action_ts, where):
        logger.info("a replayed %s click was ignored for team %s", action_id, workspace_key)
        return "replay"
    if not single_click:
        return None
    try:
        second = int(float(action_ts))
    except ValueError:
        return None
    value = _action_value(action)
    # Each click claims its second and the next: a second click within a second finds one of them.
    fresh = [
        await claims.claim("click", workspace_key, user, action_id, value, where, str(bucket))
        for bucket in range(second, second + DOUBLE_CLICK_SECONDS + 1)
    ]
    if not all(fresh):
        logger.info("a double click on %s was ignored for team %s", action_id, workspace_key)
        return "double_click"
    return None


async def repeated_submission(claims: InteractionClaims, workspace_key: str, body: Mapping[str, Any]) -> bool:
    """Claim a modal submission; True when this view was submitted already (a replay)."""
    view = body.get("view") or {}
    user = str((body.get("user") or {}).get("id") or "")
    if await claims.claim(
        "submit", workspace_key, user, str(view.get("id") or ""), str(view.get("hash") or "")
    ):
        return False
    logger.info("a replayed submission of %s was ignored for team %s", view.get("callback_id"), workspace_key)
    return True
