"""Getting an answer to the person who asked, whatever Slack refuses on the way: nothing is lost silently.

An answer goes out on the first surface that takes it: the interaction's ``response_url``, then
the Web API (``chat.postMessage`` in the channel, or ``chat.postEphemeral``), then a direct
message saying why it came there. A ``response_url`` answers 429 or 5xx without raising, so its
status is read and the post retried with backoff. Every surface that fails for good leaves an
ERROR line and a count in ``/metrics``; an answer no surface took is counted as lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import metrics

logger = logging.getLogger(__name__)

# Waits before the 2nd, 3rd and 4th post to a response_url that answered 429 or 5xx.
RESPONSE_URL_BACKOFF_SECONDS: tuple[float, ...] = (0.5, 1.0, 2.0)
RESPONSE_URL_TIMEOUT_SECONDS = 10.0
MAX_RETRY_AFTER_SECONDS = 10.0
MESSAGE_BLOCK_LIMIT = 50
# Slack errors saying the bot cannot write to the conversation: the answer goes to a DM instead.
_NOT_THERE = frozenset({"not_in_channel", "channel_not_found", "is_archived", "restricted_action"})


@dataclass(frozen=True, slots=True)
class Answer:
    """What to tell the user, and where they asked."""

    text: str
    blocks: list[dict[str, Any]] | None
    in_channel: bool = False
    replace_original: bool = False


async def through_response_url(respond: AsyncRespond, answer: Answer, *, workspace: str) -> str | None:
    """Post an answer to a ``response_url``, retrying 429 and 5xx; return None once Slack took it, else why not."""
    body: dict[str, Any] = {
        "text": answer.text,
        "blocks": answer.blocks,
        "response_type": "in_channel" if answer.in_channel else "ephemeral",
        "replace_original": answer.replace_original,
    }
    return await _post_with_retries(lambda: respond(**body), workspace=workspace)


async def delete_through_response_url(respond: AsyncRespond, *, workspace: str) -> str | None:
    """Delete the message an interaction came from; return None once Slack did, else why not."""
    return await _post_with_retries(lambda: respond(delete_original=True), workspace=workspace)


async def _post_with_retries(post: Callable[[], Awaitable[Any]], *, workspace: str) -> str | None:
    reason = "no_attempt"
    for attempt in range(len(RESPONSE_URL_BACKOFF_SECONDS) + 1):
        delay = RESPONSE_URL_BACKOFF_SECONDS[attempt - 1] if attempt else 0.0
        if delay:
            await asyncio.sleep(delay)
        try:
            async with asyncio.timeout(RESPONSE_URL_TIMEOUT_SECONDS):
                response = await post()
        except (aiohttp.ClientError, TimeoutError) as error:
            reason = type(error).__name__
            continue
        status = int(getattr(response, "status_code", 0) or 0)
        if 200 <= status < 300:
            return None
        reason = f"http_{status}"
        if status == 429:
            retry_after = _retry_after(getattr(response, "headers", None) or {})
            if retry_after is not None and attempt < len(RESPONSE_URL_BACKOFF_SECONDS):
                await asyncio.sleep(min(retry_after, MAX_RETRY_AFTER_SECONDS))
            continue
        if status < 500:
            # 4xx (used or expired URL, refused blocks) will not change by asking again.
            body = str(getattr(response, "body", "") or "")[:40]
            reason = f"http_{status}_{body}" if body.isidentifier() else reason
            break
    metrics.SLACK_UNDELIVERED.labels("response_url", metrics.bounded_reason(reason)).inc()
    logger.error("an answer for team %s was not taken by its response_url: %s", workspace, reason)
    return reason


def _retry_after(headers: Mapping[str, Any]) -> float | None:
    for name, value in headers.items():
        if str(name).lower() == "retry-after":
            raw = value[0] if isinstance(value, list | tuple) and value else value
            try:
                return max(0.0, float(raw))
            except (TypeError, ValueError):
                return None
    return None


async def through_web_api(
    client: AsyncWebClient, answer: Answer, *, channel_id: str, user_id: str, workspace: str
) -> str | None:
    """Post an answer with the Web API where it was asked; return None once Slack took it, else its error."""
    surface = "chat.postMessage" if answer.in_channel else "chat.postEphemeral"
    try:
        if answer.in_channel:
            await client.chat_postMessage(channel=channel_id, text=answer.text, blocks=answer.blocks)
        else:
            await client.chat_postEphemeral(
                channel=channel_id, user=user_id, text=answer.text, blocks=answer.blocks
            )
    except SlackApiError as error:
        reason = str(error.response.get("error") or "no_error_code") if error.response else "no_answer"
    except (aiohttp.ClientError, TimeoutError) as error:
        reason = type(error).__name__
    else:
        return None
    metrics.SLACK_UNDELIVERED.labels(surface, metrics.bounded_reason(reason)).inc()
    log = logger.warning if reason in _NOT_THERE else logger.error
    log("%s of an answer failed for team %s: %s", surface, workspace, reason)
    return reason


def _with_note(answer: Answer, note: str) -> Answer:
    note_block = {"type": "context", "elements": [{"type": "mrkdwn", "text": note}]}
    blocks = answer.blocks
    if blocks is None:
        blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": answer.text[:3000] or "…"}}]
    if len(blocks) < MESSAGE_BLOCK_LIMIT:
        blocks = [note_block, *blocks]
    return Answer(f"{note}\n{answer.text}", blocks)


def direct_message_note(channel_id: str | None, reason: str | None, *, bot_user_id: str | None) -> str:
    """Say why an answer arrives as a direct message, and how to get answers in the channel next time."""
    where = f"<#{channel_id}>" if channel_id else "the conversation you used"
    if reason in _NOT_THERE and channel_id:
        mention = f"<@{bot_user_id}>" if bot_user_id else "the app"
        return (
            f":information_source: I am not a member of {where}, so I answer you here. "
            f"To get answers there, add me: type `/invite {mention}` in that channel."
        )
    return f":information_source: Slack did not take my answer in {where}, so here it is."


async def deliver(
    answer: Answer,
    *,
    client: AsyncWebClient,
    respond: AsyncRespond | None,
    channel_id: str | None,
    user_id: str,
    workspace: str,
    bot_user_id: str | None = None,
) -> bool:
    """Get an answer to the user on the first surface that takes it; tell whether one did."""
    reason: str | None = "no_surface"
    reasons: list[str] = []
    # A message for the channel goes out as the bot's own (chat.postMessage) first, so that it can
    # be edited later: Slack refuses chat.update on one posted through a response_url.
    web_api_first = answer.in_channel and not answer.replace_original
    attempts = ("web_api", "response_url") if web_api_first else ("response_url", "web_api")
    for surface in attempts:
        if surface == "response_url" and respond is not None:
            reason = await through_response_url(respond, answer, workspace=workspace)
        elif surface == "web_api" and channel_id and not channel_id.startswith("D"):
            reason = await through_web_api(
                client, answer, channel_id=channel_id, user_id=user_id, workspace=workspace
            )
        else:
            continue
        if reason is None:
            return True
        reasons.append(reason)
    if not user_id:
        return _lost(workspace, reason)
    # Not being in the channel is what the user can fix, so it is what the note speaks of.
    shown = next((item for item in reasons if item in _NOT_THERE), reason)
    note = direct_message_note(channel_id, shown, bot_user_id=bot_user_id) if channel_id else ""
    direct = _with_note(answer, note) if note else answer
    try:
        await client.chat_postMessage(channel=user_id, text=direct.text, blocks=direct.blocks)
    except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
        code = error.response.get("error") if isinstance(error, SlackApiError) and error.response else None
        reason = str(code or type(error).__name__)
        metrics.SLACK_UNDELIVERED.labels("direct_message", metrics.bounded_reason(reason)).inc()
        return _lost(workspace, reason)
    return True


def _lost(workspace: str, reason: str | None) -> bool:
    metrics.SLACK_ANSWERS_LOST.inc()
    logger.error("an answer for team %s reached the user on no surface (last: %s)", workspace, reason)
    return False


def blocks_list(blocks: Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]] | None:
    """Copy blocks into the plain list Slack's clients take."""
    return [dict(block) for block in blocks] if blocks is not None else None
