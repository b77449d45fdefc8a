"""Run the app: HTTP (events, OAuth, health) on aiohttp, plus Socket Mode when an app token is set."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.app import metrics
from bot.app.factory import build_app
from bot.app.health import Readiness
from bot.app.pacs_app import PacsApp
from bot.app.preconnect import preconnect_single_workspace
from bot.app.services import Services
from bot.app.verification import Refusal, VerifiedBody, refusal_body, verify
from bot.logs import remember_settings_secrets
from bot.settings import RunMode, Settings
from bot.store import Cipher

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
METRICS_PATH = "/metrics"
INSTALL_PATH = "/slack/install"
OAUTH_REDIRECT_PATH = "/slack/oauth_redirect"
# Command modules list long-running services (the upload workers) under this key of
# ``PacsApp.extensions``; they start once the app serves and stop before anything closes.
BACKGROUND_KEY = "background"


class BackgroundService(Protocol):
    """Something that runs alongside the app for its whole life."""

    async def start(self) -> None:
        """Start running."""

    async def stop(self) -> None:
        """Stop, leaving nothing half done that another process could not pick up."""


@dataclass
class RunningApp:
    """A started app: where it listens and what it holds."""

    app: PacsApp
    services: Services
    base_url: str
    socket_mode: AsyncSocketModeHandler | None

    @property
    def events_url(self) -> str:
        """Return the URL Slack posts events, commands and interactions to."""
        return self.base_url + EVENTS_PATH


def web_app(app: PacsApp, settings: Settings) -> web.Application:
    """Build the aiohttp application: Slack endpoints (HTTP mode), health probes and metrics (always)."""
    application = web.Application()
    readiness = Readiness(app.services)

    signing_secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""

    async def slack_endpoint(request: web.Request) -> web.Response:
        started = time.perf_counter()
        verified = await _verified(request, signing_secret)
        if isinstance(verified, Refusal):
            metrics.SLACK_REQUESTS_REFUSED.labels(verified.value).inc()
            # One short line: never the body, which may hold keys and patient names.
            logger.info(
                "refused a request to %s: %s (%s bytes)",
                EVENTS_PATH,
                verified.value,
                request.content_length if request.content_length is not None else "unknown",
            )
            return web.Response(status=verified.status, text=refusal_body(), content_type="application/json")
        with app.services.acks.answering():
            bolt_request = AsyncBoltRequest(
                body=verified.text,
                query=request.query_string,
                headers=request.headers,  # type: ignore[arg-type]  # Bolt reads any mapping of headers
            )
            bolt_response = await app.bolt.async_dispatch(bolt_request)
        if request.method == "POST":
            metrics.observe_ack(bolt_request.body, time.perf_counter() - started)
        return await to_aiohttp_response(bolt_response)

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_: web.Request) -> web.Response:
        status, body = await readiness.report()
        return web.json_response(body, status=status)

    async def metrics_page(_: web.Request) -> web.Response:
        body = await metrics.render(app.services.store)
        return web.Response(body=body, headers={"Content-Type": metrics.CONTENT_TYPE})

    async def stop_readiness(_: web.Application) -> None:
        await readiness.close()

    oauth_flow = app.bolt.oauth_flow

    async def install(request: web.Request) -> web.Response:
        assert oauth_flow is not None  # noqa: S101 - the route exists only with OAuth
        return await to_aiohttp_response(await oauth_flow.handle_installation(await to_bolt_request(request)))

    async def oauth_redirect(request: web.Request) -> web.Response:
        assert oauth_flow is not None  # noqa: S101 - the route exists only with OAuth
        return await to_aiohttp_response(await oauth_flow.handle_callback(await to_bolt_request(request)))

    if settings.mode is not RunMode.SOCKET:
        application.router.add_post(EVENTS_PATH, slack_endpoint)
    if oauth_flow is not None:
        # Installing is a browser visit, not a signed Slack request: it bypasses Bolt's dispatch.
        application.router.add_get(INSTALL_PATH, install)
        application.router.add_get(OAUTH_REDIRECT_PATH, oauth_redirect)
    application.router.add_get("/healthz", healthz)
    application.router.add_get("/readyz", readyz)
    application.router.add_get(METRICS_PATH, metrics_page)
    application.on_cleanup.append(stop_readiness)
    return application


async def _verified(request: web.Request, signing_secret: str) -> VerifiedBody | Refusal:
    """Read a request's body and check its signature, before Bolt (which would log a refused body)."""
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return Refusal.TOO_LARGE
    return verify(signing_secret, request.headers, body)


@contextlib.asynccontextmanager
async def running(
    settings: Settings, *, host: str | None = None, port: int | None = None
) -> AsyncIterator[RunningApp]:
    """Start the app with its HTTP server (and Socket Mode connection), and stop it cleanly."""
    settings.require_complete()
    remember_settings_secrets(settings)
    keys = settings.encryption_keys()
    cipher = Cipher(keys)
    services = await Services.create(settings, cipher=cipher)
    runner: web.AppRunner | None = None
    handler: AsyncSocketModeHandler | None = None
    background: list[BackgroundService] = []
    try:
        app = build_app(settings, services)
        metrics.install(cache=services.dictionaries.cache, clients=services.postdicom)
        metrics.instrument_slack_client(app.bolt.client)
        # A workspace that uninstalls through another replica leaves this one within a poll.
        services.watch_departures(settings.upload_poll_seconds)
        # Before the first request can arrive: a command answered in between would be told the
        # workspace is not connected (the fault suite's restarted process was).
        if settings.postdicom_api_key is not None and settings.slack_bot_token is not None:
            await preconnect_single_workspace(app, settings)
        runner = web.AppRunner(web_app(app, settings), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host or settings.host, settings.port if port is None else port)
        await site.start()
        bound_port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        base_url = f"http://{host or '127.0.0.1'}:{bound_port}"
        if settings.mode is RunMode.SOCKET:
            assert settings.slack_app_token is not None  # noqa: S101 - SOCKET mode means the token is set
            handler = metrics.TimedSocketModeHandler(app.bolt, settings.slack_app_token.get_secret_value())
            await handler.connect_async()  # type: ignore[no-untyped-call]
        for service in app.extensions.get(BACKGROUND_KEY, ()):
            await service.start()
            background.append(service)
        logger.info("pacsbot is running in %s mode on port %d", settings.mode.value, bound_port)
        yield RunningApp(app, services, base_url, handler)
    finally:
        for service in reversed(background):
            await service.stop()
        if handler is not None:
            await handler.close_async()  # type: ignore[no-untyped-call]
        if runner is not None:
            await runner.cleanup()
        await services.close()


async def serve_forever(settings: Settings) -> None:
    """Run until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stop.set)
    async with running(settings):
        await stop.wait()
    logger.info("pacsbot stopped")
