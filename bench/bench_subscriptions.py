"""Subscription polling: PostDICOM calls per minute for 100 subscriptions over 20 distinct filters.

Everything runs in this process (the emulator, the Slack stub, the app on SQLite), and polls are
triggered one after another as the background loop would trigger them once per interval. The CPU
figure is this process's CPU per poll, so it includes the emulator answering the searches.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from cryptography.fernet import Fernet

from bench.report import Claim, Table, median
from bot.app.server import running
from bot.app.subscriptions import SubscriptionPoller, canonical_filter, parse_subscription
from bot.sandbox.postdicom import PostDicomEmulator
from bot.sandbox.slack import SlackStub
from bot.sandbox.slack.demo import seed_demo_workspace
from bot.settings import load_settings
from bot.store import WorkspaceRef

# Twenty distinct filters: a modality each (the same query text typed by several channels).
FILTERS = (
    "mod:CT", "mod:MR", "mod:US", "mod:CR", "mod:DX", "mod:MG", "mod:NM", "mod:PT", "mod:XA", "mod:RF",
    "mod:CT,MR", "mod:US,CR", "mod:DX,MG", "mod:NM,PT", "mod:XA,RF", "mod:OT", "mod:SC", "mod:SR",
    "mod:ES", "mod:IO",
)  # fmt: skip


def _searches(frames: Counter[str]) -> int:
    """Count the order searches among the frames PostDICOM received."""
    return sum(count for kind, count in frames.items() if kind.endswith("SEARCH_PATIENT_ORDER"))


async def polling(subscriptions: int = 100, polls: int = 5, interval: float = 60.0) -> Table:
    """Poll a workspace with many subscriptions and count what reaches PostDICOM per poll and per minute."""
    table = Table(
        f"Subscriptions: {subscriptions} subscriptions over {len(FILTERS)} distinct filters, one workspace",
        ("poll", "PostDICOM frames", "order searches", "CPU ms"),
    )
    async with PostDicomEmulator(seed="demo") as emulator, SlackStub() as slack:
        demo = seed_demo_workspace(slack.state)
        with tempfile.TemporaryDirectory() as directory:
            settings = load_settings(
                SLACK_BOT_TOKEN=demo.installation.bot_token,
                SLACK_SIGNING_SECRET=slack.app.signing_secret,
                PACSBOT_SLACK_API_URL=slack.api_url,
                PACSBOT_DATABASE_URL=f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}",
                PACSBOT_ENCRYPTION_KEY=Fernet.generate_key().decode(),
                PACSBOT_POSTDICOM_ROUTER_URL=emulator.router_url,
                PACSBOT_POSTDICOM_API_KEY=emulator.api_key,
                PACSBOT_POSTDICOM_ACCOUNT_KEY=emulator.account_key,
                PACSBOT_SUBSCRIPTION_POLL_SECONDS=str(interval),
            )
            async with running(settings, host="127.0.0.1", port=0) as app:
                workspace = WorkspaceRef(None, demo.team.id)
                store = app.services.store.subscriptions
                today = datetime.now(UTC).date()
                for number in range(subscriptions):
                    wanted = parse_subscription(FILTERS[number % len(FILTERS)], today)
                    await store.add(
                        workspace,
                        channel_id=demo.reading_room.id,
                        query=wanted.text,
                        canonical_query=canonical_filter(wanted.query),
                        events=wanted.events,
                        created_by=demo.admin.id,
                    )
                poller = app.app.extensions["subscriptions.poller"]
                assert isinstance(poller, SubscriptionPoller)  # noqa: S101 - the bench's own wiring
                steady: list[int] = []
                cpu: list[float] = []
                for poll in range(1, polls + 1):
                    before = Counter(emulator.stats.frames)
                    started = time.process_time()
                    await poller.poll_workspace(workspace, force=True)
                    spent = (time.process_time() - started) * 1000
                    frames = Counter(emulator.stats.frames)
                    frames.subtract(before)
                    searches = _searches(frames)
                    table.add(poll, sum(frames.values()), searches, f"{spent:.1f}")
                    if poll > 1:
                        steady.append(searches)
                        cpu.append(spent)
    per_minute = median([float(count) for count in steady]) * 60 / interval
    table.notes.append(
        f"Polls every {interval:.0f} s (PACSBOT_SUBSCRIPTION_POLL_SECONDS); the first poll also loads the "
        "cached dictionaries (flags, users, groups). CPU includes the in-process emulator."
    )
    table.claims.append(
        Claim(
            f"PostDICOM order searches per minute, {subscriptions} subscriptions over {len(FILTERS)} filters",
            f"{per_minute:.0f}",
            target=f"{len(FILTERS) * 60 / interval:.0f} (one per filter per interval)",
            met=per_minute <= len(FILTERS) * 60 / interval,
        )
    )
    table.claims.append(Claim("app CPU per subscription poll (steady state)", f"{median(cpu):.0f} ms"))
    return table
