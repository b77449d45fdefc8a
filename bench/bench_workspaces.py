"""Many workspaces on one app process: what an installed workspace costs, idle and active.

One deployment in OAuth mode serves every workspace that installs the app. The world holds
``installed`` Slack workspaces, each with the app installed and its own PostDICOM account in the
emulator; the app process has their installations and connections in its database. Every
workspace searches once (so each has had a client and dictionaries), then ``active`` of them
search every ``period`` seconds while the others stay idle, long enough for the idle ones'
clients to be closed (``PACSBOT_POSTDICOM_IDLE_SECONDS`` is short here). At the end the app
reports its memory and its PostDICOM sockets.

Both runs send the same number of commands a second (the smaller one has fewer workspaces, each
searching more often), so their acks and answers differ by what is installed, not by the load.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import os
import random
import resource
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp

from bench.bench_commands import post
from bench.processes import _serve_operations, child, peak_rss_mb
from bench.report import Claim, Table, percentile

SEARCH = "search mod:CT"
MAX_CLIENTS = 250
WARM_UP_WINDOW = 20
# Commands a second, the same in every run.
COMMANDS_PER_SECOND = 5.0


# --- the world: many Slack workspaces, one PostDICOM account each -----------------------------------


async def _tenants(connection: Connection, installed: int) -> None:
    from bot.sandbox.postdicom import PostDicomEmulator, tenant_account
    from bot.sandbox.slack import RESPONSE_URL, SlackStub

    async with SlackStub() as slack, PostDicomEmulator(seed="empty") as emulator:
        workspaces: list[dict[str, Any]] = []
        people = []
        for number in range(installed):
            account = emulator.state.add_account(tenant_account(number, orders=20))
            team = slack.state.add_team(f"Hospital {number}")
            user = slack.state.add_user(
                team, "radiologist", real_name="A Radiologist", email=f"r{number}@example.org"
            )
            general = slack.state.add_channel(team, "general", members=(user,))
            installation = slack.state.install_app(team, installer=user, channels=(general,))
            people.append((user, general))
            workspaces.append(
                {
                    "team_id": team.id,
                    "app_id": installation.app_id,
                    "bot_id": installation.bot_id,
                    "bot_user_id": installation.bot_user_id,
                    "bot_token": installation.bot_token,
                    "scopes": list(installation.scopes),
                    "user_id": user.id,
                    "api_key": account.api_key,
                    "account_key": account.key,
                }
            )
        gc.collect()
        gc.freeze()

        async def commands(numbers: list[int], text: str) -> list[tuple[bytes, dict[str, str], str]]:
            built = []
            for number in numbers:
                user, channel = people[number]
                payload = slack.payloads.slash_command(user=user, channel=channel, text=text)
                signed = payload.signed(slack.app.signing_secret)
                url = str(payload.payload["response_url"])
                built.append((signed.body, dict(signed.headers), url.split("/", 5)[-1]))
            return built

        async def answered(keys: list[str]) -> dict[str, float]:
            found = {}
            for key in keys:
                response_url = slack.state.response_urls.get(key)
                if response_url is not None and response_url.answered_at is not None:
                    found[key] = response_url.answered_at
            return found

        async def answer_texts() -> dict[str, int]:
            """Count the answers by their first words (search results, or an error)."""
            texts: dict[str, int] = {}
            for call in slack.calls.of(RESPONSE_URL):
                words = " ".join(str(call.params.get("text") or "").split()[:4])
                texts[words] = texts.get(words, 0) + 1
            return texts

        connection.send(
            (
                "ok",
                {
                    "signing_secret": slack.app.signing_secret,
                    "client_id": slack.app.client_id,
                    "client_secret": slack.app.client_secret,
                    "api_url": slack.api_url,
                    "router_url": emulator.router_url,
                    "emulator_port": int(emulator.base_url.rsplit(":", 1)[1].split("/")[0]),
                    "workspaces": workspaces,
                },
            )
        )
        await _serve_operations(
            connection, {"commands": commands, "answered": answered, "answer_texts": answer_texts}
        )


def tenants_process(connection: Connection, installed: int) -> None:
    """Run the Slack stub and the emulator with many workspaces (a child's entry point)."""
    asyncio.run(_tenants(connection, installed))


# --- the app, in OAuth mode, with every workspace installed and connected ---------------------------


def _rss_now_mb() -> float:
    """Return the resident set now, after handing freed C heap back to the system (glibc)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _sockets_to(port: int) -> tuple[int, int]:
    """Count this process's open sockets, and its established TCP connections to a local port."""
    inodes = set()
    for name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    to_port = 0
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        try:
            with open(table) as lines:
                next(lines)
                for line in lines:
                    fields = line.split()
                    remote_port = int(fields[2].rsplit(":", 1)[1], 16)
                    # 01 is ESTABLISHED.
                    if fields[3] == "01" and remote_port == port and fields[9] in inodes:
                        to_port += 1
        except FileNotFoundError:
            continue
    return len(inodes), to_port


@contextlib.asynccontextmanager
async def database() -> AsyncIterator[tuple[str, str]]:
    """Yield a throw-away PostgreSQL database's URL (as a deployment would use), else a SQLite file's."""
    import asyncpg
    from sqlalchemy import make_url

    dsn = os.environ.get("PACSBOT_BENCH_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"pacsbot_bench_{uuid.uuid4().hex[:12]}"
    try:
        admin = await asyncpg.connect(dsn, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        with tempfile.TemporaryDirectory(prefix="pacsbot-bench-") as directory:
            yield f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}", "SQLite"
        return
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield (
            make_url(dsn)
            .set(drivername="postgresql+asyncpg", database=name)
            .render_as_string(hide_password=False),
            "PostgreSQL",
        )
    finally:
        admin = await asyncpg.connect(dsn, timeout=5)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def _app(connection: Connection, world: dict[str, Any], idle_seconds: float, database_url: str) -> None:
    from cryptography.fernet import Fernet
    from pydantic import SecretStr
    from slack_sdk.oauth.installation_store import Installation

    from bot.app.server import running
    from bot.sandbox.postdicom import ADA_UUID, MAIN_INSTITUTION_UUID
    from bot.settings import load_settings
    from bot.store import WorkspaceRef

    settings = load_settings(
        SLACK_CLIENT_ID=world["client_id"],
        SLACK_CLIENT_SECRET=world["client_secret"],
        SLACK_SIGNING_SECRET=world["signing_secret"],
        PACSBOT_SLACK_API_URL=world["api_url"],
        PACSBOT_DATABASE_URL=database_url,
        PACSBOT_ENCRYPTION_KEY=Fernet.generate_key().decode(),
        PACSBOT_POSTDICOM_ROUTER_URL=world["router_url"],
        PACSBOT_POSTDICOM_TIMEOUT="60",
        PACSBOT_POSTDICOM_IDLE_SECONDS=str(idle_seconds),
        PACSBOT_POSTDICOM_MAX_CLIENTS=str(MAX_CLIENTS),
    )
    async with running(settings, host="127.0.0.1", port=0) as app:
        store = app.services.store
        installations = store.installations
        assert installations is not None  # noqa: S101 - OAuth mode has them
        # What a completed OAuth install and /pacs connect leave in the database.
        for workspace in world["workspaces"]:
            await installations.async_save(
                Installation(
                    app_id=workspace["app_id"],
                    enterprise_id=None,
                    team_id=workspace["team_id"],
                    bot_token=workspace["bot_token"],
                    bot_id=workspace["bot_id"],
                    bot_user_id=workspace["bot_user_id"],
                    bot_scopes=workspace["scopes"],
                    user_id=workspace["user_id"],
                )
            )
            await store.connections.save(
                WorkspaceRef(None, workspace["team_id"]),
                api_key=SecretStr(workspace["api_key"]),
                account_key=SecretStr(workspace["account_key"]),
                router_url=world["router_url"],
                connected_by=workspace["user_id"],
                acting_user_uuid=ADA_UUID,
                default_institution_uuid=MAIN_INSTITUTION_UUID,
            )
        gc.collect()

        async def probe() -> dict[str, float]:
            gc.collect()
            sockets, to_postdicom = _sockets_to(world["emulator_port"])
            clients = app.services.postdicom
            return {
                "rss_now_mb": _rss_now_mb(),
                "rss_peak_mb": peak_rss_mb(),
                "sockets": sockets,
                "postdicom_sockets": to_postdicom,
                "clients": len(clients),
                "closing": clients.clients_closing,
                "max_open_files": resource.getrlimit(resource.RLIMIT_NOFILE)[0],
            }

        connection.send(("ok", {"events_url": app.events_url}))
        await _serve_operations(connection, {"probe": probe})


def app_process(
    connection: Connection, world: dict[str, Any], idle_seconds: float, database_url: str
) -> None:
    """Run the real app in OAuth mode with every workspace of the world installed (a child's entry point)."""
    asyncio.run(_app(connection, world, idle_seconds, database_url))


# --- the load -------------------------------------------------------------------------------------


@dataclass
class Run:
    """What one run measured."""

    installed: int
    active: int
    period: float
    commands: int
    answered: int
    ack_p50: float
    ack_p99: float
    answer_p50: float
    answer_p99: float
    end: dict[str, float]
    installed_only: dict[str, float]
    warm_up_seconds: float
    idle_seconds: float
    database: str
    results: int
    other_answers: dict[str, int]


async def _send_all(
    session: aiohttp.ClientSession, url: str, requests: list[tuple[bytes, dict[str, str], str]]
) -> dict[str, tuple[float, int, float]]:
    """POST every request (``window`` at a time); return each one's start time, status and ack ms."""
    room = asyncio.Semaphore(WARM_UP_WINDOW)
    sent: dict[str, tuple[float, int, float]] = {}

    async def one(request: tuple[bytes, dict[str, str], str]) -> None:
        async with room:
            started = time.time()
            status, ack_ms = await post(session, url, (request[0], request[1]))
            sent[request[2]] = (started, status, ack_ms)

    await asyncio.gather(*(one(request) for request in requests))
    return sent


async def _wait_answered(world: Any, keys: list[str], within: float) -> dict[str, float]:
    deadline = time.monotonic() + within
    while True:
        answered: dict[str, float] = await world.call("answered", keys=keys)
        if len(answered) == len(keys) or time.monotonic() > deadline:
            return answered
        await asyncio.sleep(0.5)


async def one_run(installed: int, active: int, duration: float) -> Run:
    """Install ``installed`` workspaces, warm them all up, then keep ``active`` of them searching."""
    period = active / COMMANDS_PER_SECOND
    # Longer than an active workspace's period, short enough for the idle ones to close mid-run.
    idle_seconds = 1.25 * period
    async with (
        database() as (database_url, database_kind),
        child(tenants_process, installed=installed) as world,
        child(app_process, world=world.info, idle_seconds=idle_seconds, database_url=database_url) as app,
        aiohttp.ClientSession() as session,
    ):
        url = app.info["events_url"]
        installed_only = await app.call("probe")
        started = time.monotonic()
        warm_up = await world.call("commands", numbers=list(range(installed)), text=SEARCH)
        await _send_all(session, url, warm_up)
        await _wait_answered(world, [key for _, _, key in warm_up], within=120)
        warm_up_seconds = time.monotonic() - started

        rng = random.Random(installed)  # noqa: S311 - a spread of start times, not security
        chosen = rng.sample(range(installed), active)
        rounds = max(1, round(duration / period))
        schedule = await world.call("commands", numbers=chosen * rounds, text=SEARCH)
        sent: dict[str, tuple[float, int, float]] = {}

        async def workspace_load(index: int) -> None:
            await asyncio.sleep(rng.random() * period)
            for round_number in range(rounds):
                body, headers, key = schedule[round_number * active + index]
                began = time.time()
                status, ack_ms = await post(session, url, (body, headers))
                sent[key] = (began, status, ack_ms)
                if round_number < rounds - 1:
                    # Not after the last one: the sockets are counted when the load stops.
                    await asyncio.sleep(max(0.0, period - ack_ms / 1000))

        await asyncio.gather(*(workspace_load(index) for index in range(active)))
        # Read while the active workspaces are still active: their clients were used within a period.
        end = await app.call("probe")
        keys = list(sent)
        answered = await _wait_answered(world, keys, within=60)
        texts: dict[str, int] = await world.call("answer_texts")
    acks = [ack_ms for _, _, ack_ms in sent.values()]
    answers = [(answered[key] - sent[key][0]) * 1000 for key in keys if key in answered]
    return Run(
        installed=installed,
        active=active,
        period=period,
        commands=len(keys),
        answered=len(answers),
        ack_p50=percentile(acks, 0.50),
        ack_p99=percentile(acks, 0.99),
        answer_p50=percentile(answers, 0.50),
        answer_p99=percentile(answers, 0.99),
        end=end,
        installed_only=installed_only,
        warm_up_seconds=warm_up_seconds,
        idle_seconds=idle_seconds,
        database=database_kind,
        results=sum(count for text, count in texts.items() if "found" in text),
        other_answers={text: count for text, count in texts.items() if "found" not in text},
    )


async def many_workspaces(*, quick: bool) -> Table:
    """Measure 100 and 1,000 installed workspaces (10 and 100 when quick) under the same load."""
    small_installed, large_installed = (10, 100) if quick else (100, 1000)
    small_active, large_active = (5, 10) if quick else (100, 200)
    duration = 20.0 if quick else 80.0
    runs = [
        await one_run(small_installed, small_active, duration),
        await one_run(large_installed, large_active, duration),
    ]
    table = Table(
        "Many workspaces on one app process (bench/bench_workspaces.py)",
        (
            "installed",
            "active (search every)",
            "commands",
            "answered",
            "with results",
            "ack p50 / p99 ms",
            "answer p50 / p99 ms",
            "PostDICOM sockets at end",
            "all sockets",
            "RSS installed / at end MiB",
            "peak RSS MiB",
            "warm-up s",
        ),
    )
    for run in runs:
        table.rows.append(
            (
                f"{run.installed:,}",
                f"{run.active} ({run.period:.1f} s)",
                str(run.commands),
                str(run.answered),
                f"{run.results} of {run.commands + run.installed}",
                f"{run.ack_p50:.1f} / {run.ack_p99:.1f}",
                f"{run.answer_p50:.0f} / {run.answer_p99:.0f}",
                f"{run.end['postdicom_sockets']:.0f} ({run.end['clients']:.0f} clients)",
                f"{run.end['sockets']:.0f}",
                f"{run.installed_only['rss_now_mb']:.1f} / {run.end['rss_now_mb']:.1f}",
                f"{run.end['rss_peak_mb']:.1f}",
                f"{run.warm_up_seconds:.1f}",
            )
        )
    small, large = runs
    for run in runs:
        for text, count in run.other_answers.items():
            table.notes.append(f"{run.installed:,} installed: {count} answer(s) began '{text}'.")
    idle_extra = (large.installed - large.active) - (small.installed - small.active)
    per_idle_kib = (large.end["rss_now_mb"] - small.end["rss_now_mb"]) * 1024 / max(1, idle_extra)
    table.notes.append(
        f"Every workspace searched once first (warm-up, {WARM_UP_WINDOW} at a time), then the active ones "
        f"searched for {duration:.0f} s at {COMMANDS_PER_SECOND:.0f} commands/s in all; idle clients close "
        f"after {large.idle_seconds:.0f} s here, at most {MAX_CLIENTS} stay open; the database is "
        f"{large.database}. Sockets and RSS are the app's, "
        "read from /proc after the run. The memory per idle workspace is the RSS difference of the two "
        "runs over the difference in idle workspaces: an upper bound, since the larger run also has more "
        "active clients and a higher allocator high-water mark from its warm-up."
    )
    sockets = large.end["postdicom_sockets"]
    ratio = large.ack_p99 / max(small.ack_p99, 0.001)
    table.claims += [
        Claim(
            f"PostDICOM sockets with {large.installed:,} installed, {large.active} active",
            f"{sockets:.0f}",
            target=f"about the active workspaces ({large.active}), not the installed ones",
            met=sockets <= 1.1 * large.active,
        ),
        Claim(
            "memory per idle workspace (upper bound)",
            f"{per_idle_kib:.1f} KiB",
            target="under 50 KiB",
            met=per_idle_kib < 50,
        ),
        Claim(
            f"ack p99 at {large.installed:,} vs {small.installed:,} installed",
            f"{large.ack_p99:.1f} ms vs {small.ack_p99:.1f} ms ({ratio:.2f} times)",
            target="within 1.2 times",
            met=ratio <= 1.2,
        ),
        Claim(
            f"answer p99 at {large.installed:,} vs {small.installed:,} installed",
            f"{large.answer_p99:.0f} ms vs {small.answer_p99:.0f} ms",
        ),
    ]
    return table
