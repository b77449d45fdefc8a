"""DICOM uploads through the client: 1, 4 and 8 upload sockets, and peak memory for a 1 GB study.

One socket is what PostDICOM's own library uses. The emulator adds a fixed latency to every frame
(a distant PostDICOM), which is what parallel sockets hide. The 1 GB upload runs in a fresh
process so that its peak RSS is the upload's and nothing else's.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bench.processes import WAIT, child, peak_rss_mb, world_process
from bench.report import Claim, Table
from bench.studies import write_study
from bot.postdicom import PostDicomClient


async def upload(world: dict[str, Any], paths: list[Path], sockets: int) -> dict[str, Any]:
    """Upload files with a fresh client; return the time, bytes, files sent and skipped."""
    async with PostDicomClient(
        world["api_key"],
        world["account_key"],
        router_url=world["router_url"],
        timeout=WAIT,
        upload_sockets=sockets,
    ) as client:
        account = await client.initialize()
        user = account.user_list[0]
        institution = user.institution_list[0].institution_uuid
        started = time.perf_counter()
        result = await client.upload_dicom_files(user.user_uuid, institution, list(paths))
        elapsed = time.perf_counter() - started
    return {
        "seconds": elapsed,
        "bytes": result.bytes_sent,
        "sent": len(result.files_sent),
        "skipped": len(result.files_skipped),
    }


async def _upload_child(connection: Connection, world: dict[str, Any], directory: str, sockets: int) -> None:
    paths = sorted(await asyncio.to_thread(lambda: list(Path(directory).glob("*.dcm"))))
    baseline = peak_rss_mb()
    connection.send(("ok", {"baseline_rss": baseline}))
    outcome = await upload(world, paths, sockets)
    outcome["peak_rss"] = peak_rss_mb()
    outcome["baseline_rss"] = baseline
    message = connection.recv()
    connection.send(("ok", outcome) if message[0] == "result" else ("error", "unexpected"))
    connection.recv()
    connection.send(("ok", None))


def upload_process(connection: Connection, world: dict[str, Any], directory: str, sockets: int) -> None:
    """Upload a directory's files and report time and peak RSS (a child's entry point)."""
    import bot.postdicom  # noqa: F401 - imported before the baseline is read, as the app has it

    asyncio.run(_upload_child(connection, world, directory, sockets))


async def upload_sockets(
    files: int = 200, latency: float = 0.02, counts: tuple[int, ...] = (1, 4, 8)
) -> Table:
    """Time one study's upload over 1, 4 and 8 sockets with ``latency`` added to every frame."""
    table = Table(
        f"Uploads: a {files}-file study (512x512 CT, 2 parts a file), PostDICOM adding {latency * 1000:.0f} ms per frame",
        ("upload sockets", "files sent", "MiB", "seconds", "MiB/s", "speed-up vs 1"),
    )
    directory = Path(tempfile.mkdtemp(prefix="pacsbot-bench-study-"))
    try:
        paths = await asyncio.to_thread(write_study, directory, files, seed="sockets")
        async with child(world_process) as world:
            timings: dict[int, float] = {}
            for count in counts:
                await world.call("reset_emulator")
                await world.call("faults", latency=latency)
                outcome = await upload(world.info, paths, count)
                timings[count] = outcome["seconds"]
                mib = outcome["bytes"] / 1024**2
                table.add(
                    count,
                    outcome["sent"],
                    f"{mib:.0f}",
                    f"{outcome['seconds']:.2f}",
                    f"{mib / outcome['seconds']:.1f}",
                    f"{timings[counts[0]] / outcome['seconds']:.2f}x",
                )
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    table.notes.append(
        "Every file is checked (CheckFileExist) on the main socket before its parts are queued; "
        "parts go out one in flight per upload socket."
    )
    if 4 in timings and 1 in timings:
        speedup = timings[1] / timings[4]
        table.claims.append(
            Claim("upload speed-up with 4 sockets vs 1", f"{speedup:.2f}x", ">= 3x", speedup >= 3)
        )
    return table


async def upload_memory(gigabytes: float = 1.0, sockets: int = 4) -> Table:
    """Peak RSS of a fresh process uploading a generated study of ``gigabytes`` through the client."""
    files = 200
    frames = max(1, round(gigabytes * 1024**3 / files / (512 * 512 * 2)))
    table = Table(
        f"Uploads: peak memory for a generated {gigabytes:g} GB study through the client ({sockets} sockets)",
        ("files", "MiB sent", "seconds", "MiB/s", "RSS before MiB", "peak RSS MiB"),
    )
    directory = Path(tempfile.mkdtemp(prefix="pacsbot-bench-big-"))
    try:
        await asyncio.to_thread(write_study, directory, files, frames=frames, seed="big")
        async with (
            child(world_process) as world,
            child(upload_process, world=world.info, directory=str(directory), sockets=sockets) as uploader,
        ):
            outcome = await uploader.call("result")
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    mib = outcome["bytes"] / 1024**2
    table.add(
        outcome["sent"],
        f"{mib:.0f}",
        f"{outcome['seconds']:.1f}",
        f"{mib / outcome['seconds']:.0f}",
        f"{outcome['baseline_rss']:.0f}",
        f"{outcome['peak_rss']:.0f}",
    )
    table.notes.append(
        "Each file is read part by part (512 KiB) just before it is sent; the process imports the "
        "client and nothing else. The pipeline's own figure (download from Slack included) is in "
        "the pipeline table when uploads from Slack are there."
    )
    table.claims.append(
        Claim(
            f"peak RSS uploading a {gigabytes:g} GB study (client)",
            f"{outcome['peak_rss']:.0f} MiB",
            "< 200 MB",
            outcome["peak_rss"] * 1024**2 < 200 * 1000**2,
        )
    )
    return table
