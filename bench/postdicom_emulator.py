"""Benchmark the PostDICOM emulator: search latency over 10,000 orders, and 100 concurrent clients.

Run with ``.venv/bin/python bench/postdicom_emulator.py`` (``--help`` for the knobs). The emulator
runs in a child process, as ``pacsbot emulator`` would, seeded with the demo data plus
``--orders`` synthetic orders; this process is the load. Every request crosses a real WebSocket
on 127.0.0.1. "wire" columns use the bare-wire client (framing and ``json.loads`` only), so they
are the emulator's latency; "client" columns use our real client, whose pydantic models add their
own cost. Not part of ``make test``: it measures, it does not assert.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event
from typing import Any

import aiohttp

from bot.postdicom import PostDicomClient, PostDicomError, methods
from bot.postdicom.methods import GeneralCall
from bot.sandbox.postdicom import (
    ADA_UUID,
    CT_ORDER_UUID,
    DEMO_ACCOUNT_KEY,
    DEMO_API_KEY,
    MAIN_INSTITUTION_UUID,
    PostDicomEmulator,
    add_synthetic_orders,
)
from bot.sandbox.postdicom.rawclient import RawClientError, RawSession

WAIT = 60.0


@dataclass(frozen=True)
class Target:
    """What the child process tells the load: where to go and what exists there."""

    router_url: str
    orders: int
    patient_id: str
    accession: str
    surname: str
    folder_uuid: str


@dataclass(frozen=True)
class Timing:
    """Percentiles of one measured thing, in milliseconds."""

    runs: int
    p50: float
    p95: float
    worst: float

    @classmethod
    def of(cls, values: list[float]) -> Timing:
        """Summarize a list of durations."""
        if not values:
            return cls(0, 0.0, 0.0, 0.0)
        ordered = sorted(values)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        return cls(len(values), statistics.median(ordered), p95, ordered[-1])


# --- the emulator, in its own process ------------------------------------------------------------


async def _serve(orders: int, ready: Connection, stop: Event) -> None:
    async with PostDicomEmulator(seed="demo") as emulator:
        account = emulator.state.account(DEMO_ACCOUNT_KEY)
        assert account is not None  # noqa: S101 - the demo seed always has it
        follow_up = next(folder.uuid for folder in account.folders.values() if folder.name == "Follow-up")
        added = add_synthetic_orders(account, orders, seed=7, folders=[follow_up])
        # The seed never changes shape: keep the cyclic collector from walking it on every pass.
        gc.collect()
        gc.freeze()
        sample = added[len(added) // 2] if added else next(account.live_orders())
        ready.send(
            Target(
                emulator.router_url,
                sum(1 for _ in account.live_orders()),
                sample.patient_id,
                sample.accession_number,
                sample.patient_name.split("^")[0],
                follow_up,
            )
        )
        await asyncio.to_thread(stop.wait)


def serve(orders: int, ready: Connection, stop: Event) -> None:
    """Run the emulator until ``stop`` is set (the child process's entry point)."""
    asyncio.run(_serve(orders, ready, stop))


# --- searches ------------------------------------------------------------------------------------

Typed = Callable[[PostDicomClient], Awaitable[Any]]


@dataclass(frozen=True)
class Probe:
    """One request, as a bare-wire call and as the same call through our client."""

    name: str
    call: GeneralCall
    typed: Typed


def searches(target: Target) -> list[Probe]:
    """Return the searches to time."""
    surname, wildcard = target.surname, f"{target.surname[:3]}*^a*"
    months = ("2025-01-01", "2025-03-31")
    born = ("1950-01-01", "1950-12-31")
    return [
        Probe(
            "name, one word",
            methods.get_patient_order_list(ADA_UUID, [], surname),
            lambda client: client.get_patient_order_list(ADA_UUID, [], surname),
        ),
        Probe(
            "name, wildcard",
            methods.get_patient_order_list(ADA_UUID, [], wildcard),
            lambda client: client.get_patient_order_list(ADA_UUID, [], wildcard),
        ),
        Probe(
            "patient id, exact",
            methods.get_patient_order_list(ADA_UUID, [], "", "", target.patient_id),
            lambda client: client.get_patient_order_list(ADA_UUID, [], "", "", target.patient_id),
        ),
        Probe(
            "accession, exact",
            methods.get_patient_order_list(ADA_UUID, [], "", target.accession),
            lambda client: client.get_patient_order_list(ADA_UUID, [], "", target.accession),
        ),
        Probe(
            "other id, wildcard",
            methods.get_patient_order_list(ADA_UUID, [], "", "", "", "MRN-12*"),
            lambda client: client.get_patient_order_list(ADA_UUID, [], "", "", "", "MRN-12*"),
        ),
        Probe(
            "modality + dates",
            methods.get_patient_order_list_with_date_range(
                ADA_UUID, [], "", "", "", "", ["CT", "MR"], *months
            ),
            lambda client: client.get_patient_order_list_with_date_range(
                ADA_UUID, [], "", "", "", "", ["CT", "MR"], *months
            ),
        ),
        Probe(
            "birthdate range",
            methods.get_patient_order_list_with_birthdate(ADA_UUID, [], "", "", "", "", [], *born),
            lambda client: client.get_patient_order_list_with_birthdate(
                ADA_UUID, [], "", "", "", "", [], *born
            ),
        ),
        Probe(
            "one institution + name",
            methods.get_patient_order_list(ADA_UUID, [MAIN_INSTITUTION_UUID], "s"),
            lambda client: client.get_patient_order_list(ADA_UUID, [MAIN_INSTITUTION_UUID], "s"),
        ),
        Probe(
            "folder",
            methods.get_patient_order_list_in_folder(ADA_UUID, target.folder_uuid),
            lambda client: client.get_patient_order_list_in_folder(ADA_UUID, target.folder_uuid),
        ),
        Probe(
            "no filter (500 cap)",
            methods.get_patient_order_list(ADA_UUID, []),
            lambda client: client.get_patient_order_list(ADA_UUID, []),
        ),
    ]


async def _timed(action: Callable[[], Awaitable[Any]], repeat: int) -> tuple[list[float], Any]:
    await action()  # the first run fills the emulator's summary caches, as traffic would
    timings, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = await action()
        timings.append((time.perf_counter() - started) * 1000)
    return timings, result


async def search_latency(target: Target, repeat: int) -> list[tuple[str, int, Timing, Timing]]:
    """Time each search over the bare wire and through our client."""
    rows = []
    async with (
        aiohttp.ClientSession() as http,
        PostDicomClient(DEMO_API_KEY, DEMO_ACCOUNT_KEY, router_url=target.router_url, timeout=WAIT) as client,
    ):
        raw = await RawSession.open(http, target.router_url, DEMO_API_KEY, DEMO_ACCOUNT_KEY, wait=WAIT)
        await client.initialize()
        try:
            for probe in searches(target):

                async def over_wire(call: GeneralCall = probe.call) -> Any:
                    return await raw.general(call, wait=WAIT)

                async def through_client(typed: Typed = probe.typed) -> Any:
                    return await typed(client)

                wire, reply = await _timed(over_wire, repeat)
                typed, _ = await _timed(through_client, repeat)
                found = len(reply["ResponseMessage"]["SearchResultList"])
                rows.append((probe.name, found, Timing.of(wire), Timing.of(typed)))
        finally:
            await raw.close()
    return rows


# --- concurrency ---------------------------------------------------------------------------------


def _mix(target: Target) -> list[Probe]:
    surname = target.surname
    january = ("2025-01-01", "2025-01-31")
    return [
        Probe(
            "name + modality",
            methods.get_patient_order_list(ADA_UUID, [], surname, "", "", "", ["CT"]),
            lambda client: client.get_patient_order_list(ADA_UUID, [], surname, "", "", "", ["CT"]),
        ),
        Probe(
            "properties",
            methods.get_patient_order_properties(ADA_UUID, MAIN_INSTITUTION_UUID, CT_ORDER_UUID),
            lambda client: client.get_patient_order_properties(
                ADA_UUID, MAIN_INSTITUTION_UUID, CT_ORDER_UUID
            ),
        ),
        Probe(
            "flags",
            methods.get_account_flag_dictionary(ADA_UUID),
            lambda client: client.get_account_flag_dictionary(ADA_UUID),
        ),
        Probe(
            "modality + month",
            methods.get_patient_order_list_with_date_range(ADA_UUID, [], "", "", "", "", ["MR"], *january),
            lambda client: client.get_patient_order_list_with_date_range(
                ADA_UUID, [], "", "", "", "", ["MR"], *january
            ),
        ),
    ]


async def _raw_client(
    target: Target, http: aiohttp.ClientSession, requests: int, timings: list[float]
) -> int:
    try:
        raw = await RawSession.open(http, target.router_url, DEMO_API_KEY, DEMO_ACCOUNT_KEY, wait=WAIT)
    except (RawClientError, aiohttp.ClientError, TimeoutError):
        return requests
    errors = 0
    mix = _mix(target)
    try:
        for number in range(requests):
            started = time.perf_counter()
            try:
                reply = await raw.general(mix[number % len(mix)].call, wait=WAIT)
            except RawClientError:
                errors += 1
                continue
            if reply.get("ResponseCode") != 1 or reply["ResponseMessage"].get("Success") is not True:
                errors += 1
            timings.append((time.perf_counter() - started) * 1000)
    finally:
        await raw.close()
    return errors


async def _typed_client(
    target: Target, session: aiohttp.ClientSession, requests: int, timings: list[float]
) -> int:
    errors = 0
    async with PostDicomClient(
        DEMO_API_KEY, DEMO_ACCOUNT_KEY, router_url=target.router_url, session=session, timeout=WAIT
    ) as client:
        try:
            await client.initialize()
        except PostDicomError:
            return requests
        mix = _mix(target)
        for number in range(requests):
            started = time.perf_counter()
            try:
                await mix[number % len(mix)].typed(client)
            except PostDicomError:
                errors += 1
                continue
            timings.append((time.perf_counter() - started) * 1000)
    return errors


async def concurrent_clients(
    target: Target, clients: int, requests: int, *, typed: bool
) -> tuple[Timing, float, int]:
    """Run ``clients`` clients at once, each initializing then sending ``requests`` requests."""
    timings: list[float] = []
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        run = _typed_client if typed else _raw_client
        started = time.perf_counter()
        errors = await asyncio.gather(*(run(target, http, requests, timings) for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return Timing.of(timings), elapsed, sum(errors)


# --- report --------------------------------------------------------------------------------------


def _line(*cells: object) -> str:
    widths = (26, 7, 9, 9, 9, 10, 10)
    return (
        " ".join(
            f"{cell:<{width}}" if index == 0 else f"{cell:>{width}}"
            for index, (cell, width) in enumerate(zip(cells, widths, strict=False))
        )
        + "\n"
    )


async def run(args: argparse.Namespace) -> int:
    """Start the emulator process, measure, print the tables."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    stop = context.Event()
    child = context.Process(target=serve, args=(args.orders, sender, stop), daemon=True)
    child.start()
    try:
        if not await asyncio.to_thread(receiver.poll, WAIT):
            sys.stderr.write("the emulator did not start\n")
            return 1
        target: Target = receiver.recv()
        out = sys.stdout
        out.write(
            f"PostDICOM emulator benchmark: {target.orders} live orders, emulator in its own process\n\n"
        )
        out.write("Search latency (ms), newest first, at most 500 results:\n")
        out.write(_line("search", "found", "wire p50", "wire p95", "wire max", "client p50", "client p95"))
        rows = await search_latency(target, args.repeat)
        for name, found, wire, typed in rows:
            out.write(
                _line(
                    name,
                    found,
                    f"{wire.p50:.2f}",
                    f"{wire.p95:.2f}",
                    f"{wire.worst:.2f}",
                    f"{typed.p50:.2f}",
                    f"{typed.p95:.2f}",
                )
            )
        slowest = max(wire.p95 for _, _, wire, _ in rows)
        out.write(
            f"slowest wire p95: {slowest:.2f} ms ({'under' if slowest < 50 else 'OVER'} the 50 ms goal)\n\n"
        )
        out.write(
            f"{args.clients} concurrent clients, {args.requests} requests each (mixed searches, properties, flags):\n"
        )
        out.write(_line("clients", "ok", "p50", "p95", "max", "req/s", "errors"))
        for typed_clients in (False, True):
            timing, elapsed, errors = await concurrent_clients(
                target, args.clients, args.requests, typed=typed_clients
            )
            out.write(
                _line(
                    "our client" if typed_clients else "bare wire",
                    timing.runs,
                    f"{timing.p50:.2f}",
                    f"{timing.p95:.2f}",
                    f"{timing.worst:.2f}",
                    f"{timing.runs / elapsed:.0f}",
                    errors,
                )
            )
        out.flush()
    finally:
        stop.set()
        await asyncio.to_thread(child.join, 10)
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the benchmark's knobs."""
    parser = argparse.ArgumentParser(description="Benchmark the PostDICOM emulator.")
    parser.add_argument(
        "--orders", type=int, default=10_000, help="synthetic orders to add (default: %(default)s)"
    )
    parser.add_argument("--repeat", type=int, default=50, help="runs of each search (default: %(default)s)")
    parser.add_argument("--clients", type=int, default=100, help="concurrent clients (default: %(default)s)")
    parser.add_argument("--requests", type=int, default=20, help="requests per client (default: %(default)s)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    raise SystemExit(asyncio.run(run(parse_args())))
