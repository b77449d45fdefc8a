"""The sandbox: the PostDICOM emulator, the local Slack and the real app in one process, with a console.

Nothing is short-circuited. The app runs exactly as in production (HTTP mode), with its Web API
base URL pointed at the Slack stub and its PostDICOM router at the emulator; the console delivers
signed slash commands, interactions and events to the app's request URL, and the app answers
through the stub's Web API and ``response_url``s and talks to the emulator over its WebSocket.
Only the CLI and the tests import this module.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self

import aiohttp
from aiohttp import web
from cryptography.fernet import Fernet

from bot.app.server import RunningApp, running
from bot.logs import configure_logging
from bot.sandbox.console import AppLink, Console, read_subscriptions
from bot.sandbox.console.delivery import default_manifest
from bot.sandbox.postdicom import PostDicomEmulator
from bot.sandbox.slack import DemoWorkspace, SlackStub, seed_demo_workspace
from bot.settings import Settings, SettingsError, load_settings

logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 3000
EXPLICIT_REASON = "started with `pacsbot sandbox`"
# Settings a .env file might hold that would take the app away from the local Slack.
_REAL_SLACK_SETTINGS = ("SLACK_APP_TOKEN", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_REDIRECT_URI")


class Sandbox:
    """Everything the sandbox runs; ``async with Sandbox(port=0) as sandbox:`` starts and stops it all.

    :meth:`listen` binds the console first so its address can be announced while the rest starts;
    :meth:`start` does both steps.
    """

    def __init__(
        self, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, manifest: Path | None = None
    ) -> None:
        self.host = host
        self.port = port
        self.console = Console()
        self._manifest = manifest if manifest is not None else default_manifest()
        self._stack = contextlib.AsyncExitStack()
        self._console_runner: web.AppRunner | None = None
        self._console_url: str | None = None
        self.emulator: PostDicomEmulator | None = None
        self.slack: SlackStub | None = None
        self.demo: DemoWorkspace | None = None
        self.app: RunningApp | None = None
        self.link: AppLink | None = None

    @property
    def url(self) -> str:
        """Return the console's address (valid once listening)."""
        if self._console_url is None:
            raise RuntimeError("the sandbox console is not listening")
        return self._console_url

    async def listen(self) -> str:
        """Start serving the console page and return its address; the API waits for :meth:`start`."""
        runner = web.AppRunner(self.console.build_app(), access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._console_runner = runner
        host, port = runner.addresses[0][:2]
        shown = DEFAULT_HOST if host in ("0.0.0.0", "::") else host  # noqa: S104 - naming, not binding
        self._console_url = f"http://{shown}:{port}/" if ":" not in shown else f"http://[{shown}]:{port}/"
        return self._console_url

    async def start(self) -> None:
        """Start the emulator, the Slack stub and the app, and attach the console to them."""
        if self._console_runner is None:
            await self.listen()
        stack = self._stack
        try:
            emulator = await stack.enter_async_context(
                PostDicomEmulator(seed="demo", host=DEFAULT_HOST, port=0)
            )
            slack = await stack.enter_async_context(SlackStub(host=DEFAULT_HOST, port=0))
            demo = seed_demo_workspace(slack.state)
            data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pacsbot-sandbox-")))
            settings = sandbox_settings(slack, demo, emulator, data_dir)
            app = await stack.enter_async_context(running(settings, host=DEFAULT_HOST, port=0))
            session = await stack.enter_async_context(aiohttp.ClientSession())
            link = AppLink(
                slack,
                events_url=app.events_url,
                signing_secret=slack.app.signing_secret,
                subscriptions=read_subscriptions(self._manifest),
                session=session,
            )
            stack.push_async_callback(link.close)
        except BaseException:
            await self.stop()
            raise
        self.emulator, self.slack, self.demo, self.app, self.link = emulator, slack, demo, app, link
        self.console.attach(link, demo.team)

    async def stop(self) -> None:
        """Stop the console, then the app, the Slack stub and the emulator."""
        self.console.close()
        if self._console_runner is not None:
            await self._console_runner.cleanup()
            self._console_runner = None
        await self._stack.aclose()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()


def sandbox_settings(
    slack: SlackStub, demo: DemoWorkspace, emulator: PostDicomEmulator, data_dir: Path
) -> Settings:
    """Configure the app for the local Slack and the emulator, with a key and database for this run only."""
    values: dict[str, object] = dict.fromkeys(_REAL_SLACK_SETTINGS)
    values.update(
        {
            "SLACK_BOT_TOKEN": demo.installation.bot_token,
            "SLACK_SIGNING_SECRET": slack.app.signing_secret,
            "PACSBOT_SLACK_API_URL": slack.api_url,
            "PACSBOT_DATABASE_URL": f"sqlite+aiosqlite:///{data_dir / 'pacsbot.db'}",
            "PACSBOT_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "PACSBOT_POSTDICOM_ROUTER_URL": emulator.router_url,
            "PACSBOT_POSTDICOM_API_KEY": emulator.api_key,
            "PACSBOT_POSTDICOM_ACCOUNT_KEY": emulator.account_key,
        }
    )
    return load_settings(**values)


def register(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Attach ``pacsbot sandbox``."""
    parser = subcommands.add_parser(
        "sandbox",
        help="try the app in a browser: local Slack, demo PostDICOM, no credentials needed",
        description=(
            "Run the PostDICOM emulator, a local Slack and the real app in one process, "
            "with a Slack-like console in the browser."
        ),
    )
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help="address the console binds (default: %(default)s)"
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="console port (default: %(default)s)")
    parser.set_defaults(handler=_sandbox_command)


def _sandbox_command(args: argparse.Namespace) -> int:
    return run_sandbox(host=args.host, port=args.port, reason=EXPLICIT_REASON)


def run_sandbox(*, host: str, port: int, reason: str) -> int:
    """Run the sandbox until Ctrl-C, announcing first that it is the sandbox, why, and where to look."""
    try:
        settings = load_settings()
    except SettingsError:
        # The sandbox brings its own configuration; only the log settings are taken from outside.
        settings = None
    configure_logging(settings.log_level if settings else "INFO", settings.log_format if settings else "text")
    try:
        return asyncio.run(_serve(host, port, reason))
    except KeyboardInterrupt:
        return 0


async def _serve(host: str, port: int, reason: str) -> int:
    sandbox = Sandbox(host=host, port=port)
    try:
        url = await sandbox.listen()
    except OSError as error:
        sys.stderr.write(f"pacsbot sandbox: cannot listen on {host}:{port} ({error.strerror}); try --port\n")
        return 1
    _say(
        f"pacsbot SANDBOX: {reason}.\n"
        "It runs a local Slack, a demo PostDICOM and the real app on this machine; nothing reaches the internet.\n"
        f"Open {url} in a browser. Ctrl-C stops it.\n"
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal_number, stop.set)
    started = time.monotonic()
    try:
        await sandbox.start()
        _say(
            f"Ready in {time.monotonic() - started:.1f} s at {url} — try `/pacs help` or "
            "`/pacs search mod:CT`, or drop a DICOM file into #general.\n"
        )
        await stop.wait()
    finally:
        await sandbox.stop()
    _say("pacsbot sandbox stopped.\n")
    return 0


def _say(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()
