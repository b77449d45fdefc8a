"""The processes a benchmark runs: the world (Slack stub + PostDICOM emulator), the app, a bare Bolt app.

Each runs in a process of its own, as it would in production, so that the load this process
generates and the stubs' own work never share an event loop with the app being measured. A child
answers operations sent over a pipe (``await child.call("stats")``); every operation is bounded in
time by ``WAIT``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import multiprocessing
import os
import resource
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

WAIT = 120.0

Operation = Callable[..., Awaitable[Any]]


def peak_rss_mb() -> float:
    """Return this process's peak resident set size in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _serve_operations(connection: Connection, operations: dict[str, Operation]) -> None:
    while True:
        message = await asyncio.to_thread(connection.recv)
        name, kwargs = message
        if name == "stop":
            connection.send(("ok", None))
            return
        try:
            result = await operations[name](**kwargs)
        except Exception as error:  # the parent reports it; the child keeps serving
            connection.send(("error", f"{type(error).__name__}: {error}"))
        else:
            connection.send(("ok", result))


class Child:
    """A child process that answers named operations over a pipe."""

    def __init__(self, target: Callable[..., None], **kwargs: Any) -> None:
        context = multiprocessing.get_context("spawn")
        self._parent, self._child_end = context.Pipe()
        self._process = context.Process(target=target, args=(self._child_end,), kwargs=kwargs, daemon=True)
        self.info: dict[str, Any] = {}
        self._lock = asyncio.Lock()

    async def start(self) -> dict[str, Any]:
        """Start the process and return what it announced when ready."""
        self._process.start()
        # Only the child holds its end now: if it dies, the pipe reads EOF instead of hanging.
        self._child_end.close()
        if not await asyncio.to_thread(self._parent.poll, WAIT):
            raise RuntimeError("a benchmark process did not start")
        try:
            status, self.info = self._parent.recv()
        except EOFError:
            raise RuntimeError("a benchmark process died while starting") from None
        if status != "ok":
            raise RuntimeError(f"a benchmark process failed to start: {self.info}")
        return self.info

    async def call(self, name: str, **kwargs: Any) -> Any:
        """Run an operation in the child and return its result."""
        async with self._lock:
            self._parent.send((name, kwargs))
            if not await asyncio.to_thread(self._parent.poll, WAIT):
                raise RuntimeError(f"{name} did not answer within {WAIT:g} s")
            status, result = self._parent.recv()
        if status != "ok":
            raise RuntimeError(f"{name} failed in the child: {result}")
        return result

    async def stop(self) -> None:
        """Ask the child to stop, and make sure it does."""
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.call("stop"), 15)
        if self._process.pid is None:
            return
        await asyncio.to_thread(self._process.join, 15)
        if self._process.is_alive():
            self._process.kill()
            await asyncio.to_thread(self._process.join, 5)


@contextlib.asynccontextmanager
async def child(target: Callable[..., None], **kwargs: Any) -> AsyncIterator[Child]:
    """Start a child process for the duration of a block."""
    process = Child(target, **kwargs)
    try:
        await process.start()
        yield process
    finally:
        await process.stop()


# --- the world: Slack stub + PostDICOM emulator ---------------------------------------------------


async def _world(connection: Connection, orders: int) -> None:
    from bot.sandbox.postdicom import DEMO_ACCOUNT_KEY, PostDicomEmulator, add_synthetic_orders
    from bot.sandbox.postdicom.handlers import RequestContext, handle_general
    from bot.sandbox.slack import RESPONSE_URL, SlackStub, seed_demo_workspace

    async with SlackStub() as slack, PostDicomEmulator(seed="demo") as emulator:
        demo = seed_demo_workspace(slack.state)
        account = emulator.state.account(DEMO_ACCOUNT_KEY)
        assert account is not None  # noqa: S101 - the demo seed has it
        added = add_synthetic_orders(account, orders, seed=7) if orders else []
        sample = added[len(added) // 2] if added else next(account.live_orders())
        gc.collect()
        gc.freeze()
        users = {"member": demo.member, "admin": demo.admin, "owner": demo.owner}

        async def commands(count: int, text: str, user: str = "member") -> list[tuple[bytes, dict[str, str]]]:
            built = []
            for _ in range(count):
                payload = slack.payloads.slash_command(user=users[user], channel=demo.general, text=text)
                signed = payload.signed(slack.app.signing_secret)
                built.append((signed.body, dict(signed.headers)))
            return built

        async def answers() -> dict[str, int]:
            calls = slack.calls.of(RESPONSE_URL)
            return {
                "answered": sum(1 for call in calls if call.ok),
                "failed": sum(1 for call in calls if not call.ok),
                "results": sum(1 for call in calls if call.ok and "found" in str(call.params.get("text"))),
            }

        async def faults(**plan: Any) -> None:
            emulator.faults.clear()
            if plan:
                emulator.faults.set(emulator.account_key, **plan)

        async def stats() -> dict[str, Any]:
            return emulator.stats_snapshot()

        async def reset_counters() -> None:
            slack.calls.clear()
            emulator.stats.reset()

        async def reset_emulator() -> None:
            await emulator.reset()
            if orders:
                seeded = emulator.state.account(DEMO_ACCOUNT_KEY)
                assert seeded is not None  # noqa: S101 - the demo seed has it
                add_synthetic_orders(seeded, orders, seed=7)

        async def handler_time(management_type: int, params: dict[str, Any], repeat: int) -> list[float]:
            """Time the emulator's own handling of one request (no wire, no framing), in ms."""
            context = RequestContext(emulator.state, account, emulator.base_url, emulator.search_limit)
            handle_general(context, management_type, params)
            timings = []
            for _ in range(repeat):
                started = time.perf_counter()
                handle_general(context, management_type, params)
                timings.append((time.perf_counter() - started) * 1000)
            return timings

        async def rss() -> float:
            return peak_rss_mb()

        connection.send(
            (
                "ok",
                {
                    "signing_secret": slack.app.signing_secret,
                    "api_url": slack.api_url,
                    "bot_token": demo.installation.bot_token,
                    "router_url": emulator.router_url,
                    "emulator_url": emulator.base_url,
                    "api_key": emulator.api_key,
                    "account_key": emulator.account_key,
                    "surname": sample.patient_name.split("^")[0],
                },
            )
        )
        await _serve_operations(
            connection,
            {
                "commands": commands,
                "answers": answers,
                "faults": faults,
                "stats": stats,
                "reset_counters": reset_counters,
                "reset_emulator": reset_emulator,
                "handler_time": handler_time,
                "rss": rss,
            },
        )


def world_process(connection: Connection, orders: int = 0) -> None:
    """Run the Slack stub and the emulator until told to stop (a child's entry point)."""
    asyncio.run(_world(connection, orders))


# --- the app ----------------------------------------------------------------------------------------


def app_settings(world: dict[str, Any], database_url: str | None = None, **extra: str) -> dict[str, str]:
    """Return the environment the real app runs with against the world (a SQLite file by default)."""
    from cryptography.fernet import Fernet

    return {
        **({"PACSBOT_DATABASE_URL": database_url} if database_url else {}),
        "SLACK_BOT_TOKEN": world["bot_token"],
        "SLACK_SIGNING_SECRET": world["signing_secret"],
        "PACSBOT_SLACK_API_URL": world["api_url"],
        "PACSBOT_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "PACSBOT_POSTDICOM_ROUTER_URL": world["router_url"],
        "PACSBOT_POSTDICOM_API_KEY": world["api_key"],
        "PACSBOT_POSTDICOM_ACCOUNT_KEY": world["account_key"],
        "PACSBOT_POSTDICOM_TIMEOUT": "60",
        **extra,
    }


async def _app(connection: Connection, values: dict[str, str]) -> None:
    from bot.app.server import running
    from bot.settings import load_settings

    with tempfile.TemporaryDirectory(prefix="pacsbot-bench-") as directory:
        values = {
            "PACSBOT_DATABASE_URL": f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}",
            **values,
        }
        settings = load_settings(**values)
        async with running(settings, host="127.0.0.1", port=0) as app:
            gc.collect()
            gc.freeze()

            async def cache_stats() -> dict[str, int]:
                return dict(app.services.dictionaries.cache.stats)

            async def rss() -> float:
                return peak_rss_mb()

            connection.send(("ok", {"events_url": app.events_url, "base_url": app.base_url}))
            await _serve_operations(connection, {"cache_stats": cache_stats, "rss": rss})


def app_process(connection: Connection, values: dict[str, str]) -> None:
    """Run the real app until told to stop (a child's entry point)."""
    asyncio.run(_app(connection, values))


async def _bare(connection: Connection, world: dict[str, Any]) -> None:
    from aiohttp import web
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncAck, AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    bolt = AsyncApp(
        signing_secret=world["signing_secret"],
        client=AsyncWebClient(token=world["bot_token"], base_url=world["api_url"]),
    )

    @bolt.command("/pacs")
    async def only_ack(ack: AsyncAck) -> None:
        await ack()

    application = web.Application()

    async def endpoint(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    application.router.add_post("/slack/events", endpoint)
    runner = web.AppRunner(application, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    gc.collect()
    gc.freeze()
    try:

        async def rss() -> float:
            return peak_rss_mb()

        connection.send(("ok", {"events_url": f"http://127.0.0.1:{port}/slack/events"}))
        await _serve_operations(connection, {"rss": rss})
    finally:
        await runner.cleanup()


def bare_process(connection: Connection, world: dict[str, Any]) -> None:
    """Run a Bolt app that only acks ``/pacs`` (a child's entry point)."""
    asyncio.run(_bare(connection, world))


# --- the load ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Machine:
    """What the benchmarks ran on."""

    cores: int
    memory_gib: float
    python: str
    platform: str

    @classmethod
    def here(cls) -> Machine:
        """Describe this machine."""
        import platform
        import sys

        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        return cls(
            cores=os.cpu_count() or 1,
            memory_gib=pages / 1024**3,
            python=sys.version.split()[0],
            platform=f"{platform.system()} {platform.release()} {platform.machine()}",
        )
