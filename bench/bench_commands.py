"""Slash commands through the real app: ack latency, end-to-end throughput, dictionary calls under load.

The world (Slack stub + PostDICOM emulator), the app and a bare Bolt app that only acks each run
in their own process; this process signs nothing itself (the world builds the signed requests)
and only posts them and times the answers, as Slack would.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import aiohttp

from bench.processes import Child, app_process, app_settings, bare_process, child, world_process
from bench.report import Claim, Table, median, percentile

COMMAND = "search mod:CT"
POST_TIMEOUT = aiohttp.ClientTimeout(total=60)


async def post(
    session: aiohttp.ClientSession, url: str, request: tuple[bytes, dict[str, str]]
) -> tuple[int, float]:
    """POST one signed request; return the status and how long the answer took, in ms."""
    body, headers = request
    started = time.perf_counter()
    async with session.post(url, data=body, headers=headers, timeout=POST_TIMEOUT) as response:
        await response.read()
        return response.status, (time.perf_counter() - started) * 1000


async def in_waves(
    session: aiohttp.ClientSession, url: str, requests: Sequence[tuple[bytes, dict[str, str]]], wave: int
) -> list[tuple[int, float]]:
    """Send requests ``wave`` at a time: all of a wave at once, the next when its acks are in."""
    results: list[tuple[int, float]] = []
    for start in range(0, len(requests), wave):
        batch = requests[start : start + wave]
        results += await asyncio.gather(*(post(session, url, request) for request in batch))
    return results


async def windowed(
    session: aiohttp.ClientSession, url: str, requests: Sequence[tuple[bytes, dict[str, str]]], window: int
) -> list[tuple[int, float]]:
    """Send requests with at most ``window`` unanswered at any time."""
    room = asyncio.Semaphore(window)

    async def one(request: tuple[bytes, dict[str, str]]) -> tuple[int, float]:
        async with room:
            return await post(session, url, request)

    return list(await asyncio.gather(*(one(request) for request in requests)))


async def wait_for_answers(world: Child, expected: int, within: float) -> tuple[dict[str, int], float]:
    """Poll the Slack stub until ``expected`` answers reached response_urls (or time runs out)."""
    started = time.perf_counter()
    deadline = started + within
    answers: dict[str, int] = {}
    while time.perf_counter() < deadline:
        answers = await world.call("answers")
        if answers["answered"] + answers["failed"] >= expected:
            break
        await asyncio.sleep(0.05)
    return answers, time.perf_counter() - started


def _session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, force_close=False))


async def _warm(session: aiohttp.ClientSession, world: Child, url: str, *, answers: bool) -> None:
    await world.call("reset_counters")
    warm = await world.call("commands", count=5, text=COMMAND)
    await windowed(session, url, warm, 5)
    if answers:
        await wait_for_answers(world, 5, 60)
    await world.call("reset_counters")


async def ack_latency(commands: int = 500, wave: int = 100, latency: float = 0.3) -> Table:
    """Ack latency of the app and of a bare Bolt app, the emulator answering after ``latency`` s.

    Waves of ``wave`` commands go out back to back (the next as soon as the last one is acked, so
    acks compete with the work of earlier waves) and, for comparison, spaced (the next once every
    command of the last was answered, so acks compete only with their own wave).
    """
    table = Table(
        f"Ack latency: {commands} /pacs search commands, {wave} at a time, PostDICOM answering after {latency * 1000:.0f} ms",
        ("app", "waves", "acked", "p50 ms", "p90 ms", "p99 ms", "max ms", "answered", "all answered after s"),
    )

    def row(name: str, waves: str, timings: list[float], answered: str, after: str) -> None:
        table.add(
            name,
            waves,
            len(timings),
            f"{median(timings):.1f}",
            f"{percentile(timings, 0.9):.1f}",
            f"{percentile(timings, 0.99):.1f}",
            f"{max(timings):.1f}",
            answered,
            after,
        )

    async with child(world_process) as world, _session() as session:
        await world.call("faults", latency=latency)
        async with child(bare_process, world=world.info) as bare:
            url = bare.info["events_url"]
            await _warm(session, world, url, answers=False)
            requests = await world.call("commands", count=commands, text=COMMAND)
            bare_results = await in_waves(session, url, requests, wave)
        bare_ms = [ms for status, ms in bare_results if status == 200]
        row("bare Bolt (ack only)", "back to back", bare_ms, "-", "-")
        async with child(app_process, values=app_settings(world.info)) as app:
            url = app.info["events_url"]
            await _warm(session, world, url, answers=True)
            requests = await world.call("commands", count=commands, text=COMMAND)
            started = time.perf_counter()
            our_results = await in_waves(session, url, requests, wave)
            answers, _ = await wait_for_answers(world, commands, 120)
            all_answered = time.perf_counter() - started
            ours_ms = [ms for status, ms in our_results if status == 200]
            row("pacsbot", "back to back", ours_ms, f"{answers['results']}/{commands}", f"{all_answered:.1f}")
            spaced_ms: list[float] = []
            spaced_answers = 0
            for start in range(0, commands, wave):
                await world.call("reset_counters")
                batch = await world.call("commands", count=min(wave, commands - start), text=COMMAND)
                results = await in_waves(session, url, batch, wave)
                spaced_ms += [ms for status, ms in results if status == 200]
                answered, _ = await wait_for_answers(world, len(batch), 120)
                spaced_answers += answered["results"]
            row("pacsbot", "spaced", spaced_ms, f"{spaced_answers}/{commands}", "-")
    ours_p99, bare_p99, spaced_p99 = (percentile(ms, 0.99) for ms in (ours_ms, bare_ms, spaced_ms))
    table.notes.append(
        "Latency runs from the POST leaving this process to the ack's last byte, over loopback. "
        "Back to back, the app is still searching and rendering earlier waves (PostDICOM answers "
        "them 300 ms later) while it acks the next; spaced, each wave starts on an idle app."
    )
    table.claims += [
        Claim(
            "ack p99 vs bare Bolt, back to back",
            f"{ours_p99 / bare_p99:.2f}x ({ours_p99:.1f} vs {bare_p99:.1f} ms)",
            "<= 1.5x",
            ours_p99 <= 1.5 * bare_p99,
        ),
        Claim(
            "ack p99 vs bare Bolt, spaced waves",
            f"{spaced_p99 / bare_p99:.2f}x ({spaced_p99:.1f} vs {bare_p99:.1f} ms)",
            "<= 1.5x",
            spaced_p99 <= 1.5 * bare_p99,
        ),
        Claim("ack p99, back to back", f"{ours_p99:.1f} ms", "< 100 ms", ours_p99 < 100),
        Claim("ack p99, spaced waves", f"{spaced_p99:.1f} ms", "< 100 ms", spaced_p99 < 100),
        Claim(
            "commands acked and answered (back to back)",
            f"{len(ours_ms)} acked, {answers['results']} answered of {commands}",
            f"{commands} of {commands}",
            len(ours_ms) == commands and answers["results"] == commands,
        ),
    ]
    return table


async def throughput(commands: int = 400, window: int = 50) -> tuple[Table, Table]:
    """Commands per second end to end, and dictionary calls made by concurrent commands on a cold cache."""
    speed = Table(
        f"End-to-end throughput: {commands} /pacs search commands, {window} in flight, one app process",
        ("PostDICOM latency", "answered", "seconds", "commands/s", "app peak RSS MiB"),
    )
    cache = Table(
        "Dictionary cache: PostDICOM calls made by concurrent commands on a cold cache (one workspace)",
        ("commands at once", "flags", "users", "user groups", "API sessions", "answered", "cache stats"),
    )
    async with child(world_process) as world, _session() as session:
        for latency in (0.0, 0.3):
            await world.call("faults", latency=latency)
            async with child(app_process, values=app_settings(world.info)) as app:
                url = app.info["events_url"]
                await _warm(session, world, url, answers=True)
                requests = await world.call("commands", count=commands, text=COMMAND)
                started = time.perf_counter()
                results = await windowed(session, url, requests, window)
                answers, _ = await wait_for_answers(world, commands, 120)
                elapsed = time.perf_counter() - started
                rss = await app.call("rss")
            acked = sum(1 for status, _ in results if status == 200)
            speed.add(
                f"{latency * 1000:.0f} ms",
                f"{answers['results']}/{acked}",
                f"{elapsed:.2f}",
                f"{answers['results'] / elapsed:.0f}",
                f"{rss:.0f}",
            )
            if latency == 0.0:
                speed.claims.append(
                    Claim(
                        "end-to-end throughput (search → rendered answer)",
                        f"{answers['results'] / elapsed:.0f} commands/s per process",
                    )
                )
        # The cache: a fresh app (cold cache), every command at once, PostDICOM slow enough that
        # they all miss together.
        await world.call("faults", latency=0.3)
        concurrent = 1000
        async with child(app_process, values=app_settings(world.info)) as app:
            url = app.info["events_url"]
            requests = await world.call("commands", count=concurrent, text=COMMAND)
            await world.call("reset_counters")
            await asyncio.gather(*(post(session, url, request) for request in requests))
            answers, _ = await wait_for_answers(world, concurrent, 120)
            stats: dict[str, Any] = await world.call("stats")
            cache_stats = await app.call("cache_stats")
    frames = stats["frames"]
    flags = frames.get("17:GET_ACCOUNT_FLAG_DICTIONARY", 0)
    users = frames.get("17:GET_USER_LIST", 0)
    groups = frames.get("17:GET_USER_GROUP_LIST", 0)
    sessions = frames.get("3:CREATE_API_SESSION", 0)
    cache.add(
        concurrent,
        flags,
        users,
        groups,
        sessions,
        f"{answers['results']}/{concurrent}",
        ", ".join(f"{key} {value}" for key, value in sorted(cache_stats.items())),
    )
    cache.notes.append(
        "Counted at the emulator. One TTL (600 s) covers the whole run; every dictionary should be "
        "fetched once, however many commands miss the cache together."
    )
    cache.claims.append(
        Claim(
            f"dictionary calls for {concurrent} concurrent commands",
            f"flags {flags}, users {users}, groups {groups}",
            "1 each per TTL per workspace",
            flags == users == groups == 1,
        )
    )
    return speed, cache
