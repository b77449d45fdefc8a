"""The ``pacsbot`` command line: one subcommand per way of running the app or its sandbox."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from bot import __version__
from bot.app.cli import register as register_run_command
from bot.app.doctor import register as register_doctor_command
from bot.dicom.cli import register as register_deidentify_command
from bot.sandbox.postdicom.cli import register as register_emulator_command
from bot.sandbox.run import register as register_sandbox_command
from bot.store.cli import register as register_db_commands

SubcommandHandler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand attached."""
    parser = argparse.ArgumentParser(prog="pacsbot", description="PostDICOM's cloud PACS inside Slack.")
    parser.add_argument("--version", action="version", version=f"pacsbot {__version__}")
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND")
    register_run_command(subcommands)
    register_db_commands(subcommands)
    register_doctor_command(subcommands)
    register_deidentify_command(subcommands)
    register_emulator_command(subcommands)
    register_sandbox_command(subcommands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: SubcommandHandler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    return handler(args)


if __name__ == "__main__":
    raise SystemExit(main())
