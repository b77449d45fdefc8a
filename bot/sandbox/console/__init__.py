"""A small Slack-like web console for the sandbox: channels, Block Kit, modals, threads, file drops.

It is plain HTML, CSS and JavaScript served by aiohttp, over the local Slack stub's state. What a
person does in it reaches the app exactly as Slack would deliver it (signed slash commands,
``block_actions``, ``view_submission``, Events API callbacks for file shares); what the app does
through the Web API and ``response_url``s shows up in it. Only the CLI and the tests import it.
"""

from bot.sandbox.console.delivery import APP_COMMAND, AppLink, ConsoleError, Subscriptions, read_subscriptions
from bot.sandbox.console.server import Console

__all__ = ["APP_COMMAND", "AppLink", "Console", "ConsoleError", "Subscriptions", "read_subscriptions"]
