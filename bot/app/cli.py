"""``pacsbot run``: start the app with the settings from the environment."""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.app.server import serve_forever
from bot.logs import configure_logging
from bot.settings import RunMode, SettingsError, load_settings

SANDBOX_REASON = (
    "no Slack credentials are set (SLACK_APP_TOKEN + SLACK_BOT_TOKEN for Socket Mode, SLACK_BOT_TOKEN + "
    "SLACK_SIGNING_SECRET for HTTP, or SLACK_CLIENT_ID + SLACK_CLIENT_SECRET for OAuth; see README.md), "
    "so this is the sandbox, not your Slack workspace"
)


def register(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Attach ``pacsbot run``."""
    run = subcommands.add_parser("run", help="run the Slack app", description="Run the pacsbot Slack app.")
    run.set_defaults(handler=_run)


def _run(_: argparse.Namespace) -> int:
    try:
        settings = load_settings()
        if settings.mode is RunMode.SANDBOX:
            # Imported here: the sandbox composes the whole tree and a real deployment never needs it.
            from bot.sandbox.run import DEFAULT_HOST, run_sandbox

            return run_sandbox(host=DEFAULT_HOST, port=settings.port, reason=SANDBOX_REASON)
        settings.require_complete()
    except SettingsError as error:
        sys.stderr.write(f"pacsbot: {error}\n")
        return 2
    configure_logging(settings.log_level, settings.log_format)
    asyncio.run(serve_forever(settings))
    return 0
