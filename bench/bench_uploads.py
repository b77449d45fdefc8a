"""The upload pipeline end to end: a generated study zipped and shared in Slack, uploaded by the app.

Four processes, as in production: Slack (the stub holding the shared zip), PostDICOM (the emulator,
with a WebSocket sink beside it), the app (the real ``running(settings)`` with its worker pool, on
a SQLite file), and, first, a baseline relay. The baseline is the least any relay could
do with the same bytes between the same stubs: download the zip from Slack with aiohttp and send
it over a WebSocket to the emulator's process, in 512 KiB messages, with no disk, no checks and no
acknowledgements. A second relay adds only what the issue asks of every download, at its
cheapest: the bytes hashed on the way, written to a temporary file and sent from it. The pipeline
does everything a real share does: an event, ``files.info``, the
download to disk (hashed and sniffed), the stored instances read ahead and uploaded while the zip
downloads (each holding back its last part), the zip vetted, every instance checked,
CheckFileExist per instance, the parts over the client's upload sockets with PostDICOM's
acknowledgements, the last parts once the archive is vetted, the job's record, and the study card. Throughput is the zip's size over the
time from the event's delivery to the job's end; peak RSS is the app process's own.

Run alone with ``.venv/bin/python -m bench.bench_uploads [--gigabytes 1] [--files 512]``, or as
part of ``make bench`` (``bench/run.py`` folds :func:`tables` in). It measures; it does not assert.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import io
import logging
import os
import resource
import tempfile
import time
import zipfile
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp

from bench.processes import WAIT, _serve_operations, app_settings, child, peak_rss_mb
from bench.report import Claim, Table

_PART = 512 * 1024
# A fast link from Slack's file host to a server (a gigabit, less overhead): the pace at which a
# relay is bound by the network, as in production, rather than by loopback copies.
_NETWORK_MIB_PER_SECOND = 100.0
_SINK_PATH = "/bench/sink"


# --- the stubs: Slack holding the zip; PostDICOM with the baseline's WebSocket sink -------------------


def _study_zip(gigabytes: float, files: int) -> tuple[bytes, str]:
    """Build a zip (stored, as CD exports usually are) of one study of ``files`` CT instances."""
    from pydicom.uid import generate_uid

    from tests.dicom.samples import ct_image

    side = 1024
    frames = max(1, round(gigabytes * 1024**3 / files / (side * side * 2)))
    study = generate_uid(prefix="1.2.826.0.1.3680043.8.498.")[:50]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        archive.writestr("DICOMDIR", b"")
        for number in range(files):
            archive.writestr(
                f"DICOM/ST000001/IM{number:05d}",
                ct_image(study=study, rows=side, columns=side, frames=frames, patient="BENCH^STUDY"),
            )
    return buffer.getvalue(), study


async def _slack(
    connection: Connection, gigabytes: float, files: int, bytes_per_second: float | None
) -> None:
    from bot.sandbox.slack import SlackStub, seed_demo_workspace

    content, study = await asyncio.to_thread(_study_zip, gigabytes, files)
    async with SlackStub(file_bytes_per_second=bytes_per_second) as slack:
        demo = seed_demo_workspace(slack.state)
        upload = slack.upload_file(user=demo.member, channel=demo.general, name="study.zip", content=content)
        del content
        file_object = upload.message_event.payload["event"]["files"][0]
        gc.collect()
        gc.freeze()

        async def event() -> tuple[bytes, dict[str, str]]:
            # Signed now: Slack's signatures are only good for five minutes.
            signed = upload.message_event.signed(slack.app.signing_secret)
            return signed.body, dict(signed.headers)

        connection.send(
            (
                "ok",
                {
                    "signing_secret": slack.app.signing_secret,
                    "api_url": slack.api_url,
                    "bot_token": demo.installation.bot_token,
                    "file_id": upload.file.id,
                    "file_url": file_object["url_private_download"],
                    "file_size": upload.file.size,
                    "channel": demo.general.id,
                    "team": demo.team.id,
                    "study": study,
                },
            )
        )
        await _serve_operations(connection, {"event": event, "rss": _rss, "cpu": _cpu})


def slack_process(
    connection: Connection, gigabytes: float, files: int, bytes_per_second: float | None = None
) -> None:
    """Run the Slack stub holding the study's zip, its downloads paced if asked (a child's entry point)."""
    asyncio.run(_slack(connection, gigabytes, files, bytes_per_second))


async def _postdicom(connection: Connection) -> None:
    from aiohttp import WSMsgType, web

    from bot.sandbox.postdicom import DEMO_ACCOUNT_KEY, PostDicomEmulator

    async def sink(request: web.Request) -> web.WebSocketResponse:
        websocket = web.WebSocketResponse(max_msg_size=4 * _PART)
        await websocket.prepare(request)
        received = 0
        async for message in websocket:
            if message.type is WSMsgType.BINARY:
                received += len(message.data)
            elif message.type is WSMsgType.TEXT:
                await websocket.send_str(str(received))
        return websocket

    sink_app = web.Application()
    sink_app.router.add_get(_SINK_PATH, sink)
    sink_runner = web.AppRunner(sink_app, access_log=None)
    await sink_runner.setup()
    site = web.TCPSite(sink_runner, "127.0.0.1", 0)
    await site.start()
    sink_port = sink_runner.addresses[0][1]
    try:
        async with PostDicomEmulator(seed="demo") as emulator:
            gc.collect()
            gc.freeze()

            async def instances(study: str) -> int:
                account = emulator.state.account(DEMO_ACCOUNT_KEY)
                order = account.order_by_study(study) if account is not None else None
                return 0 if order is None else len(order.instances)

            connection.send(
                (
                    "ok",
                    {
                        "router_url": emulator.router_url,
                        "api_key": emulator.api_key,
                        "account_key": emulator.account_key,
                        "sink_url": f"http://127.0.0.1:{sink_port}{_SINK_PATH}",
                    },
                )
            )
            await _serve_operations(connection, {"instances": instances, "rss": _rss, "cpu": _cpu})
    finally:
        await sink_runner.cleanup()


async def _rss() -> float:
    return peak_rss_mb()


async def _cpu() -> float:
    """Return the CPU seconds (user and system, all threads) this process has used."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def postdicom_process(connection: Connection) -> None:
    """Run the PostDICOM emulator and, beside it, the baseline's WebSocket sink (a child's entry point)."""
    asyncio.run(_postdicom(connection))


# --- the baseline: download and WebSocket-send, nothing else ------------------------------------------


async def _baseline(connection: Connection, world: dict[str, Any]) -> None:
    async def relay(through_disk: bool = False) -> dict[str, float]:
        timeout = aiohttp.ClientTimeout(total=WAIT)
        digest = hashlib.sha256()
        with tempfile.TemporaryFile() as scratch:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                started = time.perf_counter()
                async with (
                    session.ws_connect(world["sink_url"], max_msg_size=4 * _PART) as websocket,
                    session.get(
                        world["file_url"], headers={"Authorization": f"Bearer {world['bot_token']}"}
                    ) as response,
                ):
                    sent = 0
                    async for chunk in response.content.iter_chunked(_PART):
                        if through_disk:
                            # What the issue asks of every download, at its cheapest: hashed on
                            # the way, written to a temporary file, and sent from there.
                            digest.update(chunk)
                            os.pwrite(scratch.fileno(), chunk, sent)
                            chunk = os.pread(scratch.fileno(), len(chunk), sent)
                        await websocket.send_bytes(chunk)
                        sent += len(chunk)
                    await websocket.send_str("done")
                    received = int((await websocket.receive()).data)
                seconds = time.perf_counter() - started
        return {
            "seconds": seconds,
            "bytes": float(sent),
            "received": float(received),
            "peak_rss": peak_rss_mb(),
        }

    connection.send(("ok", {}))
    await _serve_operations(connection, {"relay": relay, "cpu": _cpu})


def baseline_process(connection: Connection, world: dict[str, Any]) -> None:
    """Relay the shared file from Slack to the sink and time it (a child's entry point)."""
    asyncio.run(_baseline(connection, world))


# --- the app ------------------------------------------------------------------------------------------


async def _app(
    connection: Connection, values: dict[str, str], channel: str, team: str, verbose: bool
) -> None:
    from bot.app.server import running
    from bot.settings import load_settings
    from bot.store import ChannelSettings, UploadMode, UploadState, WorkspaceRef

    with tempfile.TemporaryDirectory(prefix="pacsbot-bench-") as directory:
        settings = load_settings(
            PACSBOT_DATABASE_URL=f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}", **values
        )
        async with running(settings, host="127.0.0.1", port=0) as app:
            workspace = WorkspaceRef(None, team)
            store = app.services.store
            await store.channel_settings.save(
                workspace, channel, ChannelSettings(upload_mode=UploadMode.AUTO)
            )
            gc.collect()
            gc.freeze()

            async def wait_done(file_id: str) -> dict[str, Any]:
                async with asyncio.timeout(WAIT * 5):
                    while True:
                        job = await store.upload_jobs.find(workspace, file_id)
                        if job is not None and job.state in (UploadState.DONE, UploadState.FAILED):
                            return {
                                "state": job.state.value,
                                "error": job.last_error,
                                "attempts": job.attempts,
                            }
                        await asyncio.sleep(0.05)

            connection.send(("ok", {"events_url": app.events_url, "rss": peak_rss_mb()}))
            await _serve_operations(connection, {"wait_done": wait_done, "rss": _rss, "cpu": _cpu})


def app_process(
    connection: Connection, values: dict[str, str], channel: str, team: str, verbose: bool
) -> None:
    """Run the real app with its upload workers until told to stop (a child's entry point)."""
    if verbose:
        # The pipeline logs how long each stage of a job took.
        logging.basicConfig(level=logging.WARNING, format="app: %(name)s %(message)s")
        logging.getLogger("bot.jobs").setLevel(logging.INFO)
    asyncio.run(_app(connection, values, channel, team, verbose))


# --- the benchmark --------------------------------------------------------------------------------------


async def pipeline(
    gigabytes: float = 1.0,
    files: int = 512,
    *,
    slack_mib_per_second: float | None = None,
    verbose: bool = False,
) -> Table:
    """Upload a generated study shared in Slack through the whole app; compare with the baseline relay."""
    paced = (
        f", Slack's file host held to {slack_mib_per_second:g} MiB/s"
        if slack_mib_per_second
        else ", loopback"
    )
    table = Table(
        f"Uploads from Slack: a generated {gigabytes:g} GB study ({files} CT instances, zipped) "
        f"through the whole pipeline vs a plain download-and-WebSocket-send{paced}",
        ("path", "MiB", "seconds", "MiB/s", "share of baseline", "peak RSS MiB"),
    )
    rate = slack_mib_per_second * 1024**2 if slack_mib_per_second else None
    async with (
        child(slack_process, gigabytes=gigabytes, files=files, bytes_per_second=rate) as slack,
        child(postdicom_process) as postdicom,
    ):
        info = {**slack.info, **postdicom.info}
        size_mib = info["file_size"] / 1024**2
        stubs_before = [await slack.call("cpu"), await postdicom.call("cpu")]
        async with child(baseline_process, world=info) as relay:
            relay_before = await relay.call("cpu")
            baseline = await relay.call("relay")
            relay_cpu = await relay.call("cpu") - relay_before
            stubs_between = [await slack.call("cpu"), await postdicom.call("cpu")]
            through_disk = await relay.call("relay", through_disk=True)
            disk_cpu = await relay.call("cpu") - relay_before - relay_cpu
        stubs_after_disk = [await slack.call("cpu"), await postdicom.call("cpu")]
        async with child(
            app_process,
            values=app_settings(info, PACSBOT_UPLOAD_LEASE_SECONDS="120"),
            channel=info["channel"],
            team=info["team"],
            verbose=verbose,
        ) as app:
            rss_before = app.info["rss"]
            app_before = await app.call("cpu")
            stubs_before_app = [await slack.call("cpu"), await postdicom.call("cpu")]
            body, headers = await slack.call("event")
            started = time.perf_counter()
            async with (
                aiohttp.ClientSession() as session,
                session.post(app.info["events_url"], data=body, headers=headers) as response,
            ):
                status = response.status
            outcome = await app.call("wait_done", file_id=info["file_id"])
            seconds = time.perf_counter() - started
            peak = await app.call("rss")
            app_cpu = await app.call("cpu") - app_before
            stubs_after = [await slack.call("cpu"), await postdicom.call("cpu")]
        stored = await postdicom.call("instances", study=info["study"])
    if status != 200 or outcome["state"] != "done":
        raise RuntimeError(f"the pipeline did not finish: HTTP {status}, {outcome}")
    ratio = baseline["seconds"] / seconds
    table.add(
        "baseline relay (aiohttp download → WebSocket)",
        f"{size_mib:.0f}",
        f"{baseline['seconds']:.2f}",
        f"{size_mib / baseline['seconds']:.0f}",
        "100%",
        f"{baseline['peak_rss']:.0f}",
    )
    table.add(
        "relay through disk (+ sha256, temporary file, sent from it)",
        f"{size_mib:.0f}",
        f"{through_disk['seconds']:.2f}",
        f"{size_mib / through_disk['seconds']:.0f}",
        f"{baseline['seconds'] / through_disk['seconds']:.0%}",
        f"{through_disk['peak_rss']:.0f}",
    )
    table.add(
        "pacsbot pipeline (event → study card)",
        f"{size_mib:.0f}",
        f"{seconds:.2f}",
        f"{size_mib / seconds:.0f}",
        f"{ratio:.0%}",
        f"{peak:.0f} (idle {rss_before:.0f})",
    )
    table.notes.append(
        f"{stored} of {files} instances stored by the emulator; the job took {outcome['attempts']} attempt(s)."
    )
    baseline_stubs = [after - before for before, after in zip(stubs_before, stubs_between, strict=True)]
    disk_stubs = [after - before for before, after in zip(stubs_between, stubs_after_disk, strict=True)]
    pipeline_stubs = [after - before for before, after in zip(stubs_before_app, stubs_after, strict=True)]
    table.notes.append(
        "CPU seconds (user + system) on the machine's {cores} cores, Slack / PostDICOM / relay or app: "
        "baseline {:.1f} / {:.1f} / {:.1f}, through disk {:.1f} / {:.1f} / {:.1f}, "
        "pipeline {:.1f} / {:.1f} / {:.1f}.".format(
            *baseline_stubs, relay_cpu, *disk_stubs, disk_cpu, *pipeline_stubs, app_cpu, cores=os.cpu_count()
        )
    )
    table.notes.append(
        "The pipeline writes the download to disk and hashes it, checks every instance (CRC and "
        "header), asks CheckFileExist for each and waits for PostDICOM's acknowledgement of every "
        "512 KiB part, uploading while the zip downloads; the baseline only moves bytes. The relay "
        "through disk adds only what the issue asks of any download (a temporary file and a hash "
        "on the way), at its cheapest: the share the issue's own steps leave for the rest."
    )
    where = f" (Slack at {slack_mib_per_second:g} MiB/s)" if slack_mib_per_second else ""
    table.claims.append(
        Claim(
            f"peak RSS uploading a {gigabytes:g} GB study shared in Slack (whole pipeline){where}",
            f"{peak:.0f} MiB",
            "< 200 MB",
            peak * 1024**2 < 200 * 1000**2,
        )
    )
    table.claims.append(
        Claim(
            f"pipeline throughput vs plain download-and-send{where}",
            f"{ratio:.0%}",
            ">= 70%",
            ratio >= 0.7,
        )
    )
    return table


async def tables(quick: bool) -> list[Table]:
    """Run the pipeline benchmark over loopback and behind a network's pace (``bench/run.py``: "pipeline")."""
    size = {"gigabytes": 0.1 if quick else 1.0, "files": 64 if quick else 512}
    return [await pipeline(**size), await pipeline(**size, slack_mib_per_second=_NETWORK_MIB_PER_SECOND)]


def main() -> None:
    """Run the benchmark alone and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gigabytes", type=float, default=1.0)
    parser.add_argument("--files", type=int, default=512)
    parser.add_argument("--slack-mib-per-second", type=float, help="hold Slack's file host to this pace")
    parser.add_argument("--verbose", action="store_true", help="log how long each stage of the job took")
    args = parser.parse_args()
    table = asyncio.run(
        pipeline(
            args.gigabytes, args.files, slack_mib_per_second=args.slack_mib_per_second, verbose=args.verbose
        )
    )
    print(table.text())  # noqa: T201 - a command-line benchmark prints its table
    for claim in table.claims:
        print(f"{claim.measurement}: {claim.figure} [{claim.target}: {claim.verdict}]")  # noqa: T201


if __name__ == "__main__":
    main()
