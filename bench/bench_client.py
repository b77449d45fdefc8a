"""The PostDICOM client against the emulator in its own process: concurrency on one socket, per-call cost.

The emulator child is the one ``bench/postdicom_emulator.py`` starts (seeded with synthetic
orders); the world child of :mod:`bench.processes` times the emulator's own handling of the same
request without any wire, so the client's overhead can be read off as the difference.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench.processes import WAIT, child, world_process
from bench.report import Claim, Table, median, percentile
from bot.postdicom import PostDicomClient, methods
from bot.sandbox.postdicom import ADA_UUID, DEMO_ACCOUNT_KEY, DEMO_API_KEY


async def concurrency(
    searches: int = 1000,
    sequential: int = 200,
    orders: int = 2000,
    latencies: tuple[float, ...] = (0.0, 0.02),
) -> Table:
    """Searches over one WebSocket: all at once vs one at a time, with PostDICOM near and 20 ms away."""
    table = Table(
        f"Client: {searches} concurrent searches over one WebSocket vs one at a time ({orders} orders)",
        ("PostDICOM latency", "mode", "searches", "seconds", "searches/s", "p50 ms", "p99 ms", "ratio"),
    )
    async with child(world_process, orders=orders) as world:
        info = world.info
        async with PostDicomClient(
            info["api_key"], info["account_key"], router_url=info["router_url"], timeout=WAIT
        ) as client:
            await client.initialize()
            surname = info["surname"]

            async def one() -> float:
                started = time.perf_counter()
                await client.get_patient_order_list(ADA_UUID, [], surname)
                return (time.perf_counter() - started) * 1000

            for latency in latencies:
                await world.call("faults", latency=latency)
                for _ in range(10):
                    await one()
                count = sequential if latency == 0 else max(20, sequential // 4)
                started = time.perf_counter()
                alone = [await one() for _ in range(count)]
                sequential_rate = count / (time.perf_counter() - started)
                started = time.perf_counter()
                together = list(await asyncio.gather(*(one() for _ in range(searches))))
                concurrent_seconds = time.perf_counter() - started
                concurrent_rate = searches / concurrent_seconds
                ratio = concurrent_rate / sequential_rate
                shown = f"{latency * 1000:.0f} ms"
                table.add(
                    shown,
                    "one at a time",
                    count,
                    f"{count / sequential_rate:.2f}",
                    f"{sequential_rate:.0f}",
                    f"{median(alone):.2f}",
                    f"{percentile(alone, 0.99):.2f}",
                    "1.00x",
                )
                table.add(
                    shown,
                    "all at once",
                    searches,
                    f"{concurrent_seconds:.2f}",
                    f"{concurrent_rate:.0f}",
                    f"{median(together):.1f}",
                    f"{percentile(together, 0.99):.1f}",
                    f"{ratio:.1f}x",
                )
                table.claims.append(
                    Claim(
                        f"{searches} concurrent searches vs one at a time, PostDICOM latency {shown}",
                        f"{ratio:.1f}x throughput ({concurrent_rate:.0f} vs {sequential_rate:.0f} searches/s)",
                    )
                )
            await world.call("faults")
    table.notes.append(
        "One search by surname (a few results each), all on the client's one main WebSocket. Near, "
        "both ends share this machine's two cores and the ratio is what pipelining saves in round "
        "trips and scheduling; 20 ms away, it is what concurrency hides."
    )
    return table


async def overhead(repeat: int = 300) -> Table:
    """Per-call cost of the client over the emulator's own handling of the same requests."""
    table = Table(
        "Client: per-call time vs the emulator's own handling (no wire), one call at a time",
        ("request", "emulator handling p50 ms", "client call p50 ms", "overhead p50 ms", "client p99 ms"),
    )
    async with child(world_process, orders=2000) as world:
        info = world.info
        calls = [
            ("search by name", methods.get_patient_order_list(ADA_UUID, [], "smith")),
            ("flag dictionary", methods.get_account_flag_dictionary(ADA_UUID)),
            ("user list", methods.get_user_list(ADA_UUID)),
        ]
        async with PostDicomClient(
            info["api_key"], info["account_key"], router_url=info["router_url"], timeout=WAIT
        ) as client:
            await client.initialize()
            typed: dict[str, Callable[[], Awaitable[Any]]] = {
                "search by name": lambda: client.get_patient_order_list(ADA_UUID, [], "smith"),
                "flag dictionary": lambda: client.get_account_flag_dictionary(ADA_UUID),
                "user list": lambda: client.get_user_list(ADA_UUID),
            }
            overheads = []
            for name, call in calls:
                params = json.loads(call.payload(DEMO_API_KEY, DEMO_ACCOUNT_KEY))
                handling = await world.call(
                    "handler_time", management_type=int(call.management_type), params=params, repeat=repeat
                )
                for _ in range(20):
                    await typed[name]()
                timings = []
                for _ in range(repeat):
                    started = time.perf_counter()
                    await typed[name]()
                    timings.append((time.perf_counter() - started) * 1000)
                cost = median(timings) - median(handling)
                overheads.append(cost)
                table.add(
                    name,
                    f"{median(handling):.3f}",
                    f"{median(timings):.3f}",
                    f"{cost:.3f}",
                    f"{percentile(timings, 0.99):.3f}",
                )
    table.notes.append(
        "Overhead is everything outside the emulator's handler: framing and JSON both ways, the "
        "loopback WebSocket, the emulator's server loop, and the client's validation into models."
    )
    table.claims.append(
        Claim(
            "client per-call overhead over the emulator's handling",
            f"{min(overheads):.2f}-{max(overheads):.2f} ms p50",
        )
    )
    return table
