"""The app as a real operating-system process (``pacsbot run``), to kill and to run twice on one database."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.reliability.workload import healthy

START_WITHIN = 60.0


def free_port() -> int:
    """Return a loopback port nothing listens on (the OS's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class AppProcess:
    """A running ``pacsbot run`` and where it listens."""

    process: asyncio.subprocess.Process
    base_url: str
    log: Path

    @property
    def events_url(self) -> str:
        """Return the URL Slack posts to."""
        return self.base_url + "/slack/events"

    def kill(self) -> None:
        """Kill the process at once (SIGKILL): no clean-up, no lease released, as a crash."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)

    def output(self) -> str:
        """Return what the process logged."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@contextlib.asynccontextmanager
async def app_process(
    directory: Path, environment: Mapping[str, str], *, name: str
) -> AsyncIterator[AppProcess]:
    """Start ``pacsbot run`` with these settings on a free loopback port; stop it afterwards."""
    port = free_port()
    log = directory / f"{name}.log"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLACK_", "PACSBOT_")) and key not in ("CI",)
    }
    env.update(
        {"PACSBOT_HOST": "127.0.0.1", "PACSBOT_PORT": str(port), "PACSBOT_LOG_LEVEL": "DEBUG", **environment}
    )
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            "import sys; from bot.cli import main; sys.exit(main(['run']))",
            cwd=directory,  # no stray .env file is read from here
            env=env,
            stdout=sink,
            stderr=asyncio.subprocess.STDOUT,
        )
    running = AppProcess(process, f"http://127.0.0.1:{port}", log)
    try:
        try:
            async with asyncio.timeout(START_WITHIN):
                while not await healthy(running.base_url):
                    if process.returncode is not None:
                        raise AssertionError(
                            f"{name} exited with {process.returncode}:\n{running.output()[-3000:]}"
                        )
                    await asyncio.sleep(0.1)
        except TimeoutError:
            raise AssertionError(
                f"{name} was not healthy within {START_WITHIN:g} s:\n{running.output()[-3000:]}"
            ) from None
        yield running
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(15):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()
