"""``pacsbot emulator``: run the PostDICOM emulator until interrupted, optionally misbehaving."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import signal
import sys
from typing import Any


def register(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Attach the ``emulator`` subcommand to the ``pacsbot`` parser."""
    parser = subcommands.add_parser(
        "emulator",
        help="run a local, stateful PostDICOM",
        description="Run a local PostDICOM (router, region service, WebSocket) for the sandbox and tests.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    parser.add_argument(
        "--port", type=int, default=8765, help="port to bind, 0 for any (default: %(default)s)"
    )
    parser.add_argument(
        "--seed", default="demo", choices=("demo", "empty"), help="seed data (default: %(default)s)"
    )
    parser.add_argument("--public-url", help="base URL clients reach the emulator at, if not the bound one")
    parser.add_argument(
        "--upload-response-type",
        type=int,
        choices=(6, 24),
        default=6,
        help="message type answering upload frames (default: %(default)s, what the library reads)",
    )
    faults = parser.add_argument_group("misbehaviour (applies to every account)")
    faults.add_argument("--latency", type=_latency, help="seconds before each reply: 0.2, or a range 0.1-0.5")
    faults.add_argument(
        "--error-rate", type=float, default=0.0, help="share of requests answered with an error"
    )
    faults.add_argument(
        "--error-types",
        default="",
        help="management types to fail, comma-separated: 1,31 or SEARCH_PATIENT_ORDER or 23:3 (default: all)",
    )
    faults.add_argument("--drop-after-frames", type=int, help="close each socket when it receives frame N+1")
    faults.add_argument(
        "--drop-upload-after-parts", type=int, help="close the socket carrying upload part N+1, once"
    )
    faults.add_argument("--session-ttl", type=float, help="API sessions expire after this many seconds")
    faults.add_argument("--bandwidth", type=float, help="bytes per second per account, both ways")
    parser.set_defaults(handler=run)


def _latency(text: str) -> tuple[float, float]:
    low, _, high = text.partition("-")
    try:
        start = float(low)
        end = float(high) if high else start
    except ValueError:
        raise argparse.ArgumentTypeError("latency is seconds, or a range like 0.1-0.5") from None
    if start < 0 or end < start:
        raise argparse.ArgumentTypeError("latency must be non-negative and the range ascending")
    return start, end


def _fault_settings(args: argparse.Namespace) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    if args.latency:
        settings["latency"] = args.latency[0]
        settings["latency_jitter"] = args.latency[1] - args.latency[0]
    if args.error_rate:
        settings["error_rate"] = args.error_rate
        settings["error_targets"] = [item.strip() for item in args.error_types.split(",") if item.strip()]
    for name in ("drop_after_frames", "drop_upload_after_parts", "session_ttl", "bandwidth"):
        if getattr(args, name) is not None:
            settings[name] = getattr(args, name)
    return settings


async def _serve(args: argparse.Namespace) -> int:
    from bot.sandbox.postdicom.faults import FaultConfigError
    from bot.sandbox.postdicom.seed import ADA_UUID, MAIN_INSTITUTION_UUID
    from bot.sandbox.postdicom.server import ADMIN_PREFIX, PostDicomEmulator

    emulator = PostDicomEmulator(
        args.seed,
        args.host,
        args.port,
        upload_response_type=args.upload_response_type,
        public_url=args.public_url,
    )
    async with emulator:
        settings = _fault_settings(args)
        try:
            for account_key in emulator.state.accounts if settings else ():
                emulator.faults.set(account_key, **settings)
        except (FaultConfigError, ValueError, TypeError) as error:
            sys.stderr.write(f"pacsbot emulator: {error}\n")
            return 2
        # The seed lives as long as the process: keep the cyclic collector from walking it.
        gc.collect()
        gc.freeze()
        sys.stdout.write(
            f"PostDICOM emulator ({args.seed}) running.\n"
            f"  router URL:   {emulator.router_url}\n"
            f"  apiKey:       {emulator.api_key}\n"
            f"  accountKey:   {emulator.account_key}\n"
            f"  user:         {ADA_UUID} (Ada Radiologist)\n"
            f"  institution:  {MAIN_INSTITUTION_UUID} (Main)\n"
            f"  admin API:    {emulator.base_url}{ADMIN_PREFIX}/stats\n"
            "Press Ctrl+C to stop.\n"
        )
        sys.stdout.flush()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signal_number, stop.set)
        await stop.wait()
    return 0


def run(args: argparse.Namespace) -> int:
    """Run the emulator until SIGINT or SIGTERM."""
    try:
        return asyncio.run(_serve(args))
    except KeyboardInterrupt:
        return 0
    except OSError as error:
        sys.stderr.write(f"pacsbot emulator: cannot listen on {args.host}:{args.port} ({error.strerror})\n")
        return 1
