"""``pacsbot run`` with and without Slack credentials, and ``pacsbot sandbox``, as a person runs them."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp
from cryptography.fernet import Fernet

from bot.sandbox.slack import SlackStub, seed_demo_workspace
from tests.app.harness import eventually

ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _environment(**extra: str) -> dict[str, str]:
    """Return this environment without any Slack or pacsbot setting, so no credentials leak in."""
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("SLACK_", "PACSBOT_"))}
    clean.update(PYTHONPATH=str(ROOT), **extra)
    return clean


async def test_run_without_credentials_announces_the_sandbox_first_and_stops_on_ctrl_c(
    tmp_path: Path,
) -> None:
    port = _free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        cwd=tmp_path,
        env=_environment(PACSBOT_PORT=str(port)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    try:
        async with asyncio.timeout(60):
            first = [(await process.stdout.readline()).decode() for _ in range(3)]
            ready = (await process.stdout.readline()).decode()
            assert "SANDBOX" in first[0]
            assert "no Slack credentials" in first[0]
            assert f"Open http://127.0.0.1:{port}/" in first[2]
            assert ready.startswith("Ready")
            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://127.0.0.1:{port}/") as response:
                    assert response.status == 200
                async with http.get(f"http://127.0.0.1:{port}/console/api/feed") as response:
                    assert (await response.json())["team"]["name"]
            process.send_signal(signal.SIGINT)
            rest, errors = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, errors.decode()
    assert "stopped" in rest.decode()
    assert "Traceback" not in errors.decode()


async def test_sandbox_says_so_when_its_port_is_taken(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "sandbox",
            "--port",
            str(port),
            cwd=tmp_path,
            env=_environment(),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        async with asyncio.timeout(60):
            _, errors = await process.communicate()
    assert process.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in errors.decode()


async def test_run_with_credentials_serves_slack_over_socket_mode_not_the_sandbox(tmp_path: Path) -> None:
    async with SlackStub() as slack:
        demo = seed_demo_workspace(slack.state)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "run",
            cwd=tmp_path,
            env=_environment(
                SLACK_APP_TOKEN=slack.app.app_token,
                SLACK_BOT_TOKEN=demo.installation.bot_token,
                PACSBOT_SLACK_API_URL=slack.api_url,
                PACSBOT_ENCRYPTION_KEY=Fernet.generate_key().decode(),
                PACSBOT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'pacsbot.db'}",
                PACSBOT_HOST="127.0.0.1",
                PACSBOT_PORT=str(_free_port()),
            ),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            await slack.socket_mode.wait_for_connection(timeout_seconds=60)
            command = slack.payloads.slash_command(user=demo.member, channel=demo.general, text="help")
            await slack.socket_mode.send(command, timeout_seconds=30)
            await eventually(lambda: slack.state.ephemeral_for(demo.member), within=30, what="the help reply")
            process.send_signal(signal.SIGINT)
            async with asyncio.timeout(30):
                output, errors = await process.communicate()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert process.returncode == 0, errors.decode()
    assert "SANDBOX" not in output.decode()
    assert "socket mode" in errors.decode()
    assert "/pacs search" in json.dumps(slack.state.ephemeral_for(demo.member)[-1].blocks)
