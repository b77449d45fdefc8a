"""The local Slack as an aiohttp server: Web API, file host, response_urls, OAuth consent, Socket Mode."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

from aiohttp import BasicAuth, web

from bot.sandbox.slack.calls import FILE_DOWNLOAD, RESPONSE_URL, CallLog, CallRecord, Fault, FaultPlan
from bot.sandbox.slack.model import Channel, SlackAppConfig, SlackUrls, Team, User
from bot.sandbox.slack.payloads import FileUpload, PayloadFactory
from bot.sandbox.slack.socket_mode import SocketModeHub
from bot.sandbox.slack.state import DEFAULT_TRIGGER_TTL_SECONDS, SlackRejection, SlackState
from bot.sandbox.slack.web_api import ApiCall, WebApi

# What files.slack.com serves instead of the file when the token is missing or wrong: a sign-in
# page with status 200 (slack.md §2.3). Apps must notice it is HTML before trusting the bytes.
SLACK_LOGIN_PAGE = """<!DOCTYPE html>
<html lang="en-US">
<head><meta charset="utf-8"><title>Slack</title></head>
<body class="signin">
<h1>Sign in to your workspace</h1>
<form id="signin_form" action="/signin" method="post"><input type="email" name="email"></form>
</body>
</html>
"""

_REJECTION_STATUS = {"invalid_url": 404, "expired_url": 404, "used_url": 404}
_STREAM_CHUNK = 1024 * 1024


class SlackStub:
    """A local Slack on 127.0.0.1 for tests and the sandbox console.

    Use it as ``async with SlackStub() as slack:`` and point
    ``AsyncWebClient(base_url=slack.api_url)`` at it. A ``state`` passed in brings its own app,
    clock and trigger lifetime, and the other arguments are then ignored. URLs handed out before
    the stub starts (``response_url``, file URLs) do not point at it yet.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        app: SlackAppConfig | None = None,
        clock: Callable[[], float] = time.time,
        trigger_ttl_seconds: float = DEFAULT_TRIGGER_TTL_SECONDS,
        state: SlackState | None = None,
        file_bytes_per_second: float | None = None,
    ) -> None:
        if file_bytes_per_second is not None and file_bytes_per_second <= 0:
            raise ValueError("file_bytes_per_second must be positive")
        self.state = state or SlackState(app=app, clock=clock, trigger_ttl_seconds=trigger_ttl_seconds)
        # Slack's file host is far away: downloads can be held to a network's pace.
        self.file_bytes_per_second = file_bytes_per_second
        self.web_api = WebApi(self.state)
        self.calls = CallLog()
        self.faults = FaultPlan()
        self.socket_mode = SocketModeHub(self.state)
        self.payloads = PayloadFactory(self.state)
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None

    @property
    def app(self) -> SlackAppConfig:
        """Return the registered app: ids, secrets, app-level token, scopes."""
        return self.state.app

    @property
    def base_url(self) -> str:
        """Return the stub's root URL; valid once started."""
        if self._runner is None:
            raise RuntimeError("the Slack stub is not running")
        return self.state.urls.base_url

    @property
    def api_url(self) -> str:
        """Return the Web API base URL (ends with ``/api/``), for ``AsyncWebClient(base_url=...)``."""
        return f"{self.base_url}/api/"

    def build_app(self) -> web.Application:
        """Build the aiohttp application serving every Slack host the stub stands in for."""
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_get("/files-pri/{owner}/download/{name}", self._handle_file)
        app.router.add_get("/files-pri/{owner}/{name}", self._handle_file)
        app.router.add_post("/{kind:commands|actions}/{team_id}/{number}/{secret}", self._handle_response_url)
        app.router.add_get("/oauth/v2/authorize", self._handle_authorize)
        app.router.add_get("/link/", self.socket_mode.handle)
        return app

    async def start(self) -> None:
        """Start serving; the port is chosen by the OS when it is 0."""
        runner = web.AppRunner(self.build_app(), access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port)
        await site.start()
        host, port = runner.addresses[0][:2]
        self._runner = runner
        self.state.urls = SlackUrls(f"http://{host}:{port}")

    async def stop(self) -> None:
        """Close Socket Mode connections and stop serving."""
        if self._runner is None:
            return
        await self.socket_mode.close_all()
        await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> SlackStub:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    def upload_file(
        self,
        *,
        user: User,
        channel: Channel,
        name: str,
        content: bytes,
        mimetype: str | None = None,
        title: str | None = None,
        comment: str = "",
        thread_ts: str | None = None,
        receiving_team: Team | None = None,
    ) -> FileUpload:
        """Upload a file into a channel as a user; return it with the events Slack would send the app.

        The events are addressed to the channel's own workspace unless ``receiving_team`` names
        another (the other side of a Slack Connect channel).
        """
        file = self.state.add_file(user, name=name, content=content, mimetype=mimetype, title=title)
        message = self.state.share_file(file, channel, comment=comment, thread_ts=thread_ts)
        return FileUpload(
            file=file,
            message=message,
            message_event=self.payloads.message_event(message, team=receiving_team),
            file_shared_event=self.payloads.file_shared_event(file, channel, team=receiving_team),
        )

    # -- handlers --------------------------------------------------------------------------------

    def _log(
        self,
        method: str,
        request: web.Request,
        params: dict[str, Any],
        token: str | None,
        status: int,
        error: str | None,
    ) -> None:
        self.calls.append(
            CallRecord(
                method=method,
                http_method=request.method,
                params=params,
                token=token,
                at=self.state.clock(),
                status=status,
                error=error,
            )
        )

    def _injected_failure(self, method: str, fault: Fault | None = None) -> web.Response | None:
        fault = fault or self.faults.take(method)
        if fault is None:
            return None
        if fault.kind == "rate_limited":
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(fault.retry_after_seconds)},
            )
        if fault.kind == "server_error":
            return web.Response(
                status=fault.status, text="Slack is having trouble", content_type="text/plain"
            )
        return web.json_response({"ok": False, "error": fault.error})

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _read_params(request)
        token, client_credentials = _credentials(request, params)
        failure = self._injected_failure(method)
        if failure is not None:
            self._log(method, request, params, token, failure.status, "injected_fault")
            return failure
        reply = self.web_api.handle(ApiCall(method, params, token, client_credentials))
        self._log(method, request, params, token, reply.status, reply.error)
        return web.json_response(reply.body, headers=dict(reply.headers), status=reply.status)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        file_id = request.match_info["owner"].partition("-")[2]
        is_download = "/download/" in request.path
        token, _ = _credentials(request, {})
        params: dict[str, Any] = {"file": file_id, "download": is_download}
        fault = self.faults.take(FILE_DOWNLOAD)
        cut_after = fault.after_bytes if fault is not None and fault.kind == "cut" else None
        failure = None if cut_after is not None else self._injected_failure(FILE_DOWNLOAD, fault)
        if failure is not None:
            self._log(FILE_DOWNLOAD, request, params, token, failure.status, "injected_fault")
            return failure
        file = self.state.files.get(file_id)
        try:
            grant = self.web_api.authenticate(token, frozenset({"bot", "user"}))
        except SlackRejection:
            grant = None
        allowed = (
            file is not None
            and not file.deleted
            and grant is not None
            and "files:read" in grant.scopes
            and self.state.file_visible_to_team(file, str(grant.team_id))
        )
        if file is None or not allowed:
            self._log(FILE_DOWNLOAD, request, params, token, 200, "login_page")
            return web.Response(text=SLACK_LOGIN_PAGE, content_type="text/html")
        self._log(FILE_DOWNLOAD, request, params, token, 200, "cut" if cut_after is not None else None)
        headers = {"Content-Disposition": f'attachment; filename="{file.name}"'} if is_download else {}
        rate = self.file_bytes_per_second
        if len(file.content) <= _STREAM_CHUNK and rate is None and cut_after is None:
            return web.Response(body=file.content, content_type=file.mimetype, headers=headers)
        # A big file goes out a chunk at a time, as a file server streams it: handed over whole,
        # the transport would copy it twice before sending a byte more than the socket takes.
        response = web.StreamResponse(headers=headers)
        response.content_type = file.mimetype
        response.content_length = len(file.content)
        await response.prepare(request)
        content = memoryview(file.content)
        loop = asyncio.get_running_loop()
        started = loop.time()
        for start in range(0, len(content), _STREAM_CHUNK):
            chunk = content[start : start + _STREAM_CHUNK]
            if cut_after is not None and start + len(chunk) > cut_after:
                # The connection drops mid-body, as a flaky network drops it: no end, no error page.
                await response.write(chunk[: cut_after - start])
                if request.transport is not None:
                    request.transport.abort()
                return response
            if rate is not None:
                # A chunk goes when a link of that pace would have carried it to its last byte.
                await asyncio.sleep(max(0.0, (start + len(chunk)) / rate - (loop.time() - started)))
            await response.write(chunk)
        await response.write_eof()
        return response

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        key = f"{request.match_info['number']}/{request.match_info['secret']}"
        try:
            body = await request.json()
        except ValueError:
            body = None
        params: dict[str, Any] = body if isinstance(body, dict) else {}
        failure = self._injected_failure(RESPONSE_URL)
        if failure is not None:
            self._log(RESPONSE_URL, request, params, None, failure.status, "injected_fault")
            return failure
        if not isinstance(body, dict):
            self._log(RESPONSE_URL, request, params, None, 400, "invalid_payload")
            return web.Response(status=400, text="invalid_payload")
        try:
            self.state.respond(key, body)
        except SlackRejection as rejection:
            status = _REJECTION_STATUS.get(rejection.error, 400)
            self._log(RESPONSE_URL, request, params, None, status, rejection.error)
            return web.Response(status=status, text=rejection.error)
        self._log(RESPONSE_URL, request, params, None, 200, None)
        return web.Response(text="ok")

    async def _handle_authorize(self, request: web.Request) -> web.Response:
        """Approve an install at once, as if the chosen (or first) admin clicked "Allow"."""
        query = request.query
        if query.get("client_id") != self.app.client_id:
            return web.Response(status=400, text="invalid_client_id")
        team = self.state.teams.get(query.get("team", "")) or next(iter(self.state.teams.values()), None)
        redirect_uri = query.get("redirect_uri") or self.app.redirect_uri
        if team is None or redirect_uri is None:
            return web.Response(status=400, text="bad_redirect_uri" if team else "no_workspace")
        installer = self.state.users.get(query.get("user", "")) or self.state.default_installer(team)
        code = self.state.issue_oauth_code(team, installer, redirect_uri=query.get("redirect_uri"))
        raise web.HTTPFound(f"{redirect_uri}?{urlencode({'code': code, 'state': query.get('state', '')})}")


async def _read_params(request: web.Request) -> dict[str, Any]:
    """Merge query string, form fields and a JSON object body, as Slack accepts all three."""
    params: dict[str, Any] = dict(request.query)
    if not request.body_exists:
        return params
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            params.update(body)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        params.update({name: value for name, value in form.items() if isinstance(value, str)})
    return params


def _credentials(request: web.Request, params: dict[str, Any]) -> tuple[str | None, tuple[str, str] | None]:
    """Take the token from ``Authorization: Bearer`` or a ``token`` param, or Basic client credentials."""
    token_param = params.pop("token", None)
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip(), None
    if scheme.lower() == "basic":
        try:
            basic = BasicAuth.decode(header)
        except ValueError:
            return None, None
        return None, (basic.login, basic.password)
    return (str(token_param) if token_param else None), None
