"""Drive the sandbox console's JSON API as its page does, for tests that need no browser."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.sandbox.run import Sandbox
from bot.sandbox.slack import DemoWorkspace, SlackStub


@dataclass
class ConsoleClient:
    """A person's browser tab, reduced to the API calls the page makes."""

    sandbox: Sandbox
    http: aiohttp.ClientSession

    @property
    def slack(self) -> SlackStub:
        """Return the sandbox's local Slack."""
        assert self.sandbox.slack is not None
        return self.sandbox.slack

    @property
    def demo(self) -> DemoWorkspace:
        """Return the demo workspace."""
        assert self.sandbox.demo is not None
        return self.sandbox.demo

    def url(self, path: str) -> str:
        """Return a console URL."""
        return self.sandbox.url.rstrip("/") + path

    async def feed(self, user: str, channel: str = "", **params: str) -> dict[str, Any]:
        """Read what the person sees right now."""
        query = {"user": user, "channel": channel, "since": "-", **params}
        async with self.http.get(self.url("/console/api/feed"), params=query) as response:
            assert response.status == 200, await response.text()
            body: dict[str, Any] = await response.json()
            return body

    async def post(self, path: str, body: dict[str, Any], *, status: int = 200) -> dict[str, Any]:
        """POST to the console API and check the status."""
        async with self.http.post(self.url(path), json=body) as response:
            answer: dict[str, Any] = await response.json()
            assert response.status == status, answer
            return answer

    async def say(self, user: str, channel: str, text: str, thread_ts: str | None = None) -> None:
        """Type a message or a slash command and press Enter."""
        await self.post(
            "/console/api/message", {"user": user, "channel": channel, "text": text, "thread_ts": thread_ts}
        )

    async def wait_for(
        self,
        user: str,
        channel: str,
        probe: Callable[[dict[str, Any]], Any],
        *,
        within: float = 15.0,
        **params: str,
    ) -> Any:
        """Poll the feed until the probe finds something in it."""
        async with asyncio.timeout(within):
            while True:
                found = probe(await self.feed(user, channel, **params))
                if found:
                    return found
                await asyncio.sleep(0.05)


def message_containing(phrase: str, *, ephemeral: bool | None = None) -> Callable[[dict[str, Any]], Any]:
    """Find the newest timeline message whose text or blocks contain a phrase."""

    def probe(feed: dict[str, Any]) -> Any:
        for message in reversed(feed["messages"]):
            if ephemeral is not None and message["ephemeral"] != ephemeral:
                continue
            if phrase in message["text"] or phrase in json.dumps(message["blocks"]):
                return message
        return None

    return probe


def find_element(blocks: list[dict[str, Any]], label: str) -> tuple[str, dict[str, Any]]:
    """Find the first element whose visible text is ``label``; return its block id and the element."""
    for block in blocks:
        elements = list(block.get("elements", [])) + [
            block[key] for key in ("accessory", "element") if key in block
        ]
        for element in elements:
            text = element.get("text")
            if isinstance(text, dict) and text.get("text") == label:
                return block["block_id"], element
    raise AssertionError(f"no element labelled {label!r}")
