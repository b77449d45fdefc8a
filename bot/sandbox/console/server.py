"""The console's HTTP side: the page, its static files, and a small JSON API over the local Slack.

The browser long-polls ``/console/api/feed`` for what its person sees and POSTs what they do;
:class:`~bot.sandbox.console.delivery.AppLink` turns each of those into what Slack sends the app.
The console starts listening before the rest of the sandbox is up, so its address can be printed
first; API calls made before then wait for :meth:`Console.attach`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from aiohttp import BodyPartReader, web

from bot.sandbox.console.delivery import AppLink, ConsoleError, MessageSource
from bot.sandbox.console.snapshot import FILES_PREFIX, channels_for, snapshot
from bot.sandbox.slack.model import Channel, JsonObject, Team, User
from bot.sandbox.slack.state import SlackRejection

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).with_name("static")
API_PREFIX = "/console/api"
MAX_UPLOAD_BYTES = 512 * 1024 * 1024
LONG_POLL_SECONDS = 20.0
POLL_INTERVAL_SECONDS = 0.1
READY_TIMEOUT_SECONDS = 120.0

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Console:
    """A Slack-like web client for the sandbox, served by aiohttp with no build step."""

    def __init__(self) -> None:
        self._link: AppLink | None = None
        self._team: Team | None = None
        self._ready = asyncio.Event()
        self._closing = asyncio.Event()

    def attach(self, link: AppLink, team: Team) -> None:
        """Connect the console to the running sandbox: the app link and the workspace to show."""
        self._link, self._team = link, team
        self._ready.set()

    def close(self) -> None:
        """Release every waiting long poll so the server can stop at once."""
        self._closing.set()

    def build_app(self) -> web.Application:
        """Build the aiohttp application: the page, static files, the JSON API and file downloads."""
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES)
        app.router.add_get("/", self._index)
        app.router.add_static("/console/static/", STATIC_DIR, append_version=False)
        app.router.add_get(f"{API_PREFIX}/feed", self._api(self._feed))
        app.router.add_post(f"{API_PREFIX}/message", self._api(self._message))
        app.router.add_post(f"{API_PREFIX}/action", self._api(self._action))
        app.router.add_post(f"{API_PREFIX}/suggest", self._api(self._suggest))
        app.router.add_post(f"{API_PREFIX}/submit", self._api(self._submit))
        app.router.add_post(f"{API_PREFIX}/close", self._api(self._close))
        app.router.add_post(f"{API_PREFIX}/dismiss", self._api(self._dismiss))
        app.router.add_post(f"{API_PREFIX}/home", self._api(self._home))
        app.router.add_post(f"{API_PREFIX}/upload", self._api(self._upload))
        app.router.add_get(f"{FILES_PREFIX}/{{file_id}}/{{name}}", self._api(self._file))
        return app

    # -- plumbing ------------------------------------------------------------------------------------

    async def _index(self, _: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-store"})

    def _api(self, handler: Handler) -> Handler:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            try:
                await asyncio.wait_for(self._ready.wait(), READY_TIMEOUT_SECONDS)
            except TimeoutError:
                return web.json_response({"error": "the sandbox is still starting"}, status=503)
            try:
                return await handler(request)
            except ConsoleError as error:
                return web.json_response({"error": str(error)}, status=400)
            except SlackRejection as rejection:
                return web.json_response({"error": rejection.error}, status=400)

        return wrapped

    @property
    def link(self) -> AppLink:
        """Return the link to the app (valid once attached)."""
        if self._link is None:
            raise RuntimeError("the console is not attached to a sandbox")
        return self._link

    @property
    def team(self) -> Team:
        """Return the workspace the console shows (valid once attached)."""
        if self._team is None:
            raise RuntimeError("the console is not attached to a sandbox")
        return self._team

    def _person(self, raw: object) -> User:
        user = self.link.state.users.get(str(raw or ""))
        if user is None or user.is_bot or user.team_id != self.team.id:
            raise ConsoleError("pick someone from the workspace")
        return user

    def _channel(self, user: User, raw: object) -> Channel:
        channel = next((c for c in channels_for(self.link.state, user) if c.id == str(raw or "")), None)
        if channel is None:
            raise ConsoleError(f"{user.real_name} is not in that conversation")
        return channel

    @staticmethod
    async def _json(request: web.Request) -> Mapping[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise ConsoleError("send a JSON object")
        return body

    # -- reading ---------------------------------------------------------------------------------------

    async def _feed(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        user = self._person(query.get("user") or self._default_person().id)
        since = query.get("since", "")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + LONG_POLL_SECONDS
        while True:
            body = snapshot(
                self.link.state,
                self.team,
                user,
                channel_id=query.get("channel") or None,
                thread_ts=query.get("thread") or None,
                home=query.get("home") == "1",
            )
            if body["version"] != since or self._closing.is_set() or loop.time() >= deadline:
                return web.json_response(body, headers={"Cache-Control": "no-store"})
            await asyncio.sleep(POLL_INTERVAL_SECONDS)

    def _default_person(self) -> User:
        people = [u for u in self.link.state.users.values() if u.team_id == self.team.id and not u.is_bot]
        if not people:
            raise ConsoleError("the workspace has nobody in it")
        return next((u for u in people if not u.is_admin), people[0])

    async def _file(self, request: web.Request) -> web.StreamResponse:
        file = self.link.state.files.get(request.match_info["file_id"])
        if file is None or file.deleted:
            raise web.HTTPNotFound()
        return web.Response(
            body=file.content,
            content_type=file.mimetype,
            headers={"Content-Disposition": f'attachment; filename="{file.name}"'},
        )

    # -- doing -------------------------------------------------------------------------------------------

    async def _message(self, request: web.Request) -> web.StreamResponse:
        body = await self._json(request)
        user = self._person(body.get("user"))
        channel = self._channel(user, body.get("channel"))
        text = str(body.get("text") or "").strip()
        if not text:
            raise ConsoleError("type something first")
        await self.link.send_message(user, channel, text, _text_or_none(body.get("thread_ts")))
        return web.json_response({"ok": True})

    async def _action(self, request: web.Request) -> web.StreamResponse:
        body = await self._json(request)
        user = self._person(body.get("user"))
        selection = body.get("selection") or {}
        state_values = body.get("state") or {}
        if not isinstance(selection, dict) or not isinstance(state_values, dict):
            raise ConsoleError("selection and state must be objects")
        await self.link.act(
            user,
            MessageSource.parse(body.get("source")),
            str(body.get("block_id") or ""),
            str(body.get("action_id") or ""),
            selection,
            state_values,
        )
        return web.json_response({"ok": True})

    async def _suggest(self, request: web.Request) -> web.StreamResponse:
        body = await self._json(request)
        user = self._person(body.get("user"))
        options = await self.link.suggest(
            user,
            MessageSource.parse(body.get("source")),
            str(body.get("action_id") or ""),
            str(body.get("value") or ""),
        )
        return web.json_response(options)

    async def _submit(self, request: web.Request) -> web.StreamResponse:
        body = await self._json(request)
        user = self._person(body.get("user"))
        values = body.get("values") or {}
        if not isinstance(values, dict) or not all(isinstance(v, dict) for v in values.values()):
            raise ConsoleError("values must be {block_id: {action_id: value}}")
        problem = await self.link.submit(user, str(body.get("view_id") or ""), values)
        return web.json_response({"ok": problem is None, "error": problem})

    async def _close(self, request: web.Request) -> web.StreamResponse:
        body = await self._json(request)
        await self.link.close_view(self._person(body.get("user")), str(body.get("view_id") or ""))
        return web.json_response({"ok": True})

    async def _dismiss(self, request: web.Request) -> web.StreamResponse:
        body = await self._json(request)
        self.link.dismiss(
            self._person(body.get("user")), str(body.get("channel") or ""), str(body.get("ts") or "")
        )
        return web.json_response({"ok": True})

    async def _home(self, request: web.Request) -> web.StreamResponse:
        body = await self._json(request)
        await self.link.open_home(self._person(body.get("user")))
        return web.json_response({"ok": True})

    async def _upload(self, request: web.Request) -> web.StreamResponse:
        fields: dict[str, str] = {}
        files: list[tuple[str, bytes]] = []
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                continue
            if part.filename:
                files.append((_safe_name(part.filename), bytes(await part.read())))
            elif part.name:
                fields[part.name] = await part.text()
        user = self._person(fields.get("user"))
        channel = self._channel(user, fields.get("channel"))
        message = self.link.upload(
            user, channel, files, fields.get("comment", "").strip(), _text_or_none(fields.get("thread_ts"))
        )
        shared: JsonObject = {"ok": True, "ts": message.ts, "files": len(files)}
        return web.json_response(shared)


def _text_or_none(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def _safe_name(name: str) -> str:
    """Keep only the last path component of a dropped file's name."""
    return name.replace("\\", "/").rsplit("/", 1)[-1] or "file"
