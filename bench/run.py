"""Run every benchmark, print each table, and record the results in ``docs/benchmarks.md``.

``make bench`` runs ``python -m bench.run --write docs/benchmarks.md``. ``--only NAME`` (repeatable)
runs some of them, ``--quick`` shrinks every workload for a smoke run (its figures are not the
ones the targets speak of). Benchmarks measure ratios within one run: absolute times depend on the
machine and on whatever else it is doing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from bench import (
    bench_client,
    bench_commands,
    bench_deidentify,
    bench_headers,
    bench_subscriptions,
    bench_upload_sockets,
    bench_workspaces,
    postdicom_emulator,
)
from bench.processes import Machine
from bench.report import Claim, Table, summary_markdown

Benchmark = Callable[[bool], Awaitable[list[Table]]]


async def _ack(quick: bool) -> list[Table]:
    return [await bench_commands.ack_latency(commands=200 if quick else 500, wave=100)]


async def _throughput(quick: bool) -> list[Table]:
    return list(await bench_commands.throughput(commands=100 if quick else 400))


async def _client(quick: bool) -> list[Table]:
    return [
        await bench_client.concurrency(searches=200 if quick else 1000, sequential=100 if quick else 200),
        await bench_client.overhead(repeat=50 if quick else 300),
    ]


async def _uploads(quick: bool) -> list[Table]:
    return [
        await bench_upload_sockets.upload_sockets(files=50 if quick else 200),
        await bench_upload_sockets.upload_memory(gigabytes=0.1 if quick else 1.0),
    ]


async def _headers(quick: bool) -> list[Table]:
    return [await bench_headers.header_reading(files=200 if quick else 1000)]


async def _deidentify(quick: bool) -> list[Table]:
    return [await bench_deidentify.deidentify_memory(gigabytes=0.25 if quick else 1.0)]


async def _workspaces(quick: bool) -> list[Table]:
    return [await bench_workspaces.many_workspaces(quick=quick)]


async def _emulator(quick: bool) -> list[Table]:
    """Fold in the emulator's own benchmark (search latency over many orders, concurrent clients)."""
    args = postdicom_emulator.parse_args(
        ["--orders", "2000", "--repeat", "10", "--clients", "20", "--requests", "5"]
        if quick
        else ["--orders", "10000", "--repeat", "30", "--clients", "100", "--requests", "10"]
    )
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        await postdicom_emulator.run(args)
    lines = captured.getvalue().rstrip().splitlines()
    table = Table("PostDICOM emulator (bench/postdicom_emulator.py)", ("output",))
    table.rows = [(f"`{line}`" if line.strip() else "",) for line in lines]
    slowest = next((line for line in lines if line.startswith("slowest wire p95")), "")
    if slowest:
        table.claims.append(
            Claim("emulator search latency over 10,000 orders", slowest.removeprefix("slowest "))
        )
    return [table]


async def _subscriptions(quick: bool) -> list[Table]:
    return [await bench_subscriptions.polling(subscriptions=100, polls=3 if quick else 6)]


BENCHMARKS: dict[str, Benchmark] = {
    "ack": _ack,
    "throughput": _throughput,
    "client": _client,
    "uploads": _uploads,
    "headers": _headers,
    "deidentify": _deidentify,
    "emulator": _emulator,
    "subscriptions": _subscriptions,
    "workspaces": _workspaces,
}


def _pipeline_benchmarks() -> dict[str, Benchmark]:
    """Fold in the uploads pipeline benchmark when it exists (bench/bench_uploads.py)."""
    try:
        from bench import bench_uploads
    except ImportError:
        return {}
    tables: Callable[[bool], Awaitable[list[Table]]] | None = getattr(bench_uploads, "tables", None)
    return {"pipeline": tables} if tables is not None else {}


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - git from PATH
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def document(
    tables: list[Table],
    machine: Machine,
    started: datetime,
    seconds: float,
    quick: bool,
    load: tuple[tuple[float, ...], tuple[float, ...]] = ((), ()),
) -> str:
    """Render docs/benchmarks.md."""
    parts = [
        "# Benchmarks",
        "",
        "Recorded by `make bench` (`python -m bench.run --write docs/benchmarks.md`); every figure "
        "below comes from the run described here. Each benchmark runs the real code against the "
        "PostDICOM emulator and the Slack stub over loopback, each in a process of its own. Compare "
        "figures within one run: absolute times depend on the machine and on what else it runs.",
        "",
        f"- Run: {started:%Y-%m-%d %H:%M} UTC, commit `{_commit()}`, {seconds / 60:.1f} minutes"
        + (" (**--quick**: small workloads, not the targets' sizes)" if quick else ""),
        f"- Machine: {machine.cores} cores, {machine.memory_gib:.1f} GiB memory, {machine.platform}",
        f"- Python {machine.python}",
        "- Load average (1, 5, 15 min) at the start: "
        + ", ".join(f"{value:.2f}" for value in load[0])
        + "; at the end: "
        + ", ".join(f"{value:.2f}" for value in load[1])
        + " (anything above the benchmark's own processes means other work shared the cores)",
        "",
        "## Targets",
        "",
        summary_markdown(tables),
        "## How the figures are made",
        "",
        "- Every process (the world: Slack stub and PostDICOM emulator; the app; a bare Bolt app; the "
        "load) is separate, as in production, and talks over loopback. The machine's two cores are "
        "shared by all of them, so a figure is only comparable with its neighbours in the same table.",
        "- Latency is wall time seen by the load: from the request leaving it to the last byte of "
        "the answer. Percentiles are nearest-rank.",
        "- The emulator's `latency` fault delays every reply by a fixed time: it stands for a "
        "PostDICOM region far away, which is what concurrency and parallel sockets hide.",
        "- Peak RSS is the measured process's own `ru_maxrss`, read after the work.",
        "- The many-workspaces run installs every workspace in the app's database (as OAuth and "
        "`/pacs connect` would) with its own emulator account; its socket counts come from the app's "
        "`/proc/self/fd` and `/proc/self/net/tcp`, its RSS at end from `/proc/self/statm`, answers "
        "from when the Slack stub received each command's `response_url` post.",
        "",
        "## Tables",
        "",
    ]
    parts += [table.markdown() for table in tables]
    return "\n".join(parts)


async def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmarks and print (and optionally record) their tables."""
    benchmarks = {**BENCHMARKS, **_pipeline_benchmarks()}
    parser = argparse.ArgumentParser(description="Run pacsbot's benchmarks.")
    parser.add_argument("--only", action="append", choices=sorted(benchmarks), help="run only these")
    parser.add_argument("--quick", action="store_true", help="small workloads, for a smoke run")
    parser.add_argument("--write", type=Path, help="record the results in this Markdown file")
    args = parser.parse_args(argv)
    machine = Machine.here()
    started = datetime.now(UTC)
    load_before = os.getloadavg()
    out = sys.stdout
    out.write(
        f"pacsbot benchmarks on {machine.cores} cores, {machine.memory_gib:.1f} GiB, Python {machine.python}\n\n"
    )
    tables: list[Table] = []
    for name in args.only or list(benchmarks):
        for table in await benchmarks[name](args.quick):
            tables.append(table)
            out.write(table.text() + "\n")
            out.flush()
    elapsed = (datetime.now(UTC) - started).total_seconds()
    out.write("Targets\n=======\n")
    for table in tables:
        for claim in table.claims:
            target = f"  [{claim.target}: {claim.verdict}]" if claim.target else ""
            out.write(f"{claim.measurement}: {claim.figure}{target}\n")
    if args.write is not None:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        load = (load_before, os.getloadavg())
        args.write.write_text(document(tables, machine, started, elapsed, args.quick, load))
        out.write(f"\nrecorded in {args.write}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
