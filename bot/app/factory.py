"""Build the Bolt app from the settings: tokens or OAuth, our middleware, every command module."""

from __future__ import annotations

import logging
from types import ModuleType
from urllib.parse import urlsplit

from cachetools import LRUCache
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

import commands.assign
import commands.connect
import commands.flag
import commands.folders
import commands.help
import commands.home
import commands.lifecycle
import commands.links
import commands.nodes
import commands.notify
import commands.order_actions
import commands.orders
import commands.search
import commands.settings
import commands.share
import commands.subscriptions
import commands.unfurls
import commands.uploads
import commands.users
import commands.view
from bot.app.pacs_app import PacsApp
from bot.app.router import CommandRouter
from bot.app.services import Services
from bot.settings import RunMode, Settings

logger = logging.getLogger(__name__)

# The bot scopes the app asks for; manifest.yml must list exactly these (a test checks).
BOT_SCOPES = (
    "commands",
    "chat:write",
    "users:read",
    "users:read.email",
    "channels:read",
    "groups:read",
    "usergroups:read",
    # DICOM shared in channels (commands.uploads): file events, files.info and downloads, and
    # reading a thread to find the order a document is shared under.
    "files:read",
    "channels:history",
    "groups:history",
    # Unfurling the share links the app created (commands.unfurls).
    "links:read",
    "links:write",
    # Naming the other organisation of a Slack Connect channel before anything is posted there.
    "team:read",
)

COMMAND_MODULES: tuple[ModuleType, ...] = (
    commands.search,
    commands.help,
    commands.connect,
    commands.lifecycle,
    commands.home,
    commands.order_actions,
    commands.share,
    commands.view,
    commands.flag,
    commands.assign,
    commands.notify,
    commands.nodes,
    commands.users,
    commands.folders,
    commands.orders,
    commands.links,
    commands.settings,
    commands.subscriptions,
    commands.unfurls,
    # Last: its catch-all ``message`` listener must not shadow another module's message listener.
    commands.uploads,
)


def web_client(settings: Settings, token: str | None = None) -> AsyncWebClient:
    """Build the Web API client every per-request client copies (base URL, retries)."""
    return AsyncWebClient(
        token=token,
        base_url=settings.slack_api_url or AsyncWebClient.BASE_URL,
        timeout=15,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def _authorization_url(settings: Settings) -> str | None:
    if settings.slack_api_url is None:
        return None
    parts = urlsplit(settings.slack_api_url)
    return f"{parts.scheme}://{parts.netloc}/oauth/v2/authorize"


def build_bolt(settings: Settings, services: Services) -> AsyncApp:
    """Build the Bolt app for the settings' mode."""
    client = web_client(settings)
    signing_secret = (
        settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    )
    installations = services.store.installations
    if settings.slack_client_id is not None and installations is not None:
        assert settings.slack_client_secret is not None  # noqa: S101 - settings validate the pair
        client_secret = settings.slack_client_secret.get_secret_value()
        # Bolt calls auth.test on every request unless its authorize caches.
        authorize = AsyncInstallationStoreAuthorize(
            logger=logger,
            installation_store=installations,
            client_id=settings.slack_client_id,
            client_secret=client_secret,
            cache_enabled=True,
            client=client,
        )
        # Bolt's cache is a dict that keeps every workspace ever seen: bounded like the clients.
        authorize.authorize_result_cache = LRUCache(maxsize=settings.postdicom_max_clients)  # type: ignore[assignment]
        return AsyncApp(
            signing_secret=signing_secret,
            client=client,
            request_verification_enabled=settings.mode is not RunMode.SOCKET,
            authorize=authorize,  # type: ignore[arg-type]  # Bolt takes an AsyncAuthorize too
            oauth_settings=AsyncOAuthSettings(
                client_id=settings.slack_client_id,
                client_secret=client_secret,
                scopes=list(BOT_SCOPES),
                redirect_uri=settings.slack_redirect_uri,
                installation_store=installations,
                state_store=services.store.oauth_states,
                authorization_url=_authorization_url(settings),
            ),
        )
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    # Bolt takes the token from the client when one is given.
    return AsyncApp(
        signing_secret=signing_secret,
        client=web_client(settings, token),
        request_verification_enabled=settings.mode is not RunMode.SOCKET,
    )


def build_app(settings: Settings, services: Services) -> PacsApp:
    """Build the Bolt app and register the router and every command module on it."""
    bolt = build_bolt(settings, services)
    app = PacsApp(bolt=bolt, services=services, router=CommandRouter(services))
    # Bolt tries listeners in the order they were added, building each matcher's arguments on the
    # way; /pacs goes first so that a command's ack does not wait behind every button's matcher.
    app.router.register(bolt)
    for module in COMMAND_MODULES:
        module.register(app)
    return app
