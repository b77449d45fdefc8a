"""``/metrics``: what the app counts, in Prometheus' text format, with no patient value in a label."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from slack_sdk.errors import SlackApiError

from bot.app import metrics
from bot.sandbox.postdicom import DEMO_ACCOUNT_KEY, DEMO_API_KEY, PostDicomEmulator
from bot.store import UploadMode, UploadOptions, UploadState
from tests.app.harness import Scenario, Transport, eventually, scenario
from tests.app.uploads_support import set_channel, share, thread_says
from tests.dicom.samples import ct_image

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(world: Scenario) -> tuple[Samples, str]:
    """Fetch /metrics from the running app; return its samples by name and labels, and the raw text."""
    async with (
        aiohttp.ClientSession() as session,
        session.get(world.app.base_url + "/metrics", timeout=aiohttp.ClientTimeout(total=10)) as response,
    ):
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = await response.text()
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples, text


def value(samples: Samples, metric: str, /, **labels: str) -> float:
    """Return a sample's value, 0 when it was never recorded."""
    return samples.get((metric, frozenset(labels.items())), 0.0)


@pytest.fixture(params=["http", "socket"])
async def world(
    request: pytest.FixtureRequest, tmp_path: Path, emulator: PostDicomEmulator
) -> AsyncIterator[Scenario]:
    transport: Transport = request.param
    async with scenario(
        tmp_path,
        transport=transport,
        postdicom_router_url=emulator.router_url,
        extra_settings={
            "PACSBOT_POSTDICOM_API_KEY": DEMO_API_KEY,
            "PACSBOT_POSTDICOM_ACCOUNT_KEY": DEMO_ACCOUNT_KEY,
        },
    ) as running:
        yield running


async def answered(world: Scenario, text: str) -> None:
    before = len(world.slack.state.ephemeral_for(world.demo.member))
    await world.command(world.demo.member, text)
    await eventually(
        lambda: len(world.slack.state.ephemeral_for(world.demo.member)) > before,
        what=f"an answer to {text!r}",
    )


async def test_commands_acks_postdicom_and_caches_are_counted(
    world: Scenario, emulator: PostDicomEmulator
) -> None:
    before, _ = await scrape(world)
    account = emulator.state.account(DEMO_ACCOUNT_KEY)
    assert account is not None
    order = next(order for order in account.orders.values() if order.patient_id and order.accession_number)

    await answered(world, f"search id:{order.patient_id}")
    await answered(world, f"search acc:{order.accession_number}")
    await answered(world, "search from:someday")
    emulator.faults.set(DEMO_ACCOUNT_KEY, error_rate=1.0)
    await answered(world, "search mod:CT")
    emulator.faults.set(DEMO_ACCOUNT_KEY, error_rate=0.0)

    # In Socket Mode the ack is timed once it is sent, which may be just after the reply landed.
    for _ in range(50):
        after, text = await scrape(world)
        acks = value(after, "pacsbot_ack_seconds_count", kind="command")
        if acks - value(before, "pacsbot_ack_seconds_count", kind="command") >= 4:
            break
        await asyncio.sleep(0.05)

    def grew(metric: str, /, **labels: str) -> float:
        return value(after, metric, **labels) - value(before, metric, **labels)

    assert grew("pacsbot_commands_total", name="search", outcome="ok") == 2
    assert grew("pacsbot_commands_total", name="search", outcome="usage_error") == 1
    assert grew("pacsbot_commands_total", name="search", outcome="postdicom_error") == 1
    assert grew("pacsbot_ack_seconds_count", kind="command") == 4
    assert grew("pacsbot_ack_seconds_bucket", kind="command", le="3.0") == 4
    assert grew("pacsbot_postdicom_request_seconds_count", method="GetPatientOrderList") >= 3
    assert grew("pacsbot_postdicom_errors_total", method="GetPatientOrderList", kind="ApiError") == 1
    # Later searches found the dictionaries the first one loaded (or was still loading).
    assert value(after, "pacsbot_cache_lookups_total", result="miss") >= 1
    reused = grew("pacsbot_cache_lookups_total", result="hit") + grew(
        "pacsbot_cache_lookups_total", result="shared"
    )
    assert reused >= 1
    for state in ("queued", "downloading", "uploading", "done", "failed"):
        assert ("pacsbot_upload_jobs", frozenset({("state", state)})) in after
    assert ("pacsbot_uploaded_bytes_total", frozenset()) in after
    assert value(after, "pacsbot_info", version=__import__("bot").__version__) == 1
    # Labels name commands and operations, never what was searched for. Sample values are left
    # out of the comparison: a numeric patient ID can turn up by chance inside a timestamp.
    names_and_labels = "\n".join(
        line if line.startswith("#") else line.rsplit(" ", 1)[0] for line in text.splitlines()
    )
    for secret in (order.patient_id, order.accession_number, DEMO_API_KEY, DEMO_ACCOUNT_KEY):
        assert secret not in names_and_labels


async def test_actions_are_counted_by_their_id(world: Scenario) -> None:
    await answered(world, "search mod:CT")
    first = world.slack.state.ephemeral_for(world.demo.member)[-1]
    before, _ = await scrape(world)
    await world.click(world.demo.member, "search.page.next", message=first)
    await eventually(lambda: "Orders 11 to 20" in str(first.blocks), what="page 2")
    after, _ = await scrape(world)
    labels = {"name": "search.page.next", "outcome": "ok"}
    assert (
        value(after, "pacsbot_actions_total", **labels) - value(before, "pacsbot_actions_total", **labels)
        == 1
    )
    assert value(after, "pacsbot_ack_seconds_count", kind="block_actions") > value(
        before, "pacsbot_ack_seconds_count", kind="block_actions"
    )


async def test_slack_errors_and_rate_limit_waits_are_counted(world: Scenario) -> None:
    before, _ = await scrape(world)
    client = world.app.app.bolt.client
    world.slack.faults.api_error("chat.postMessage", "channel_not_found")
    with pytest.raises(SlackApiError):
        await client.chat_postMessage(channel=world.demo.general.id, text="hello")
    world.slack.faults.rate_limit("chat.postMessage", retry_after_seconds=0)
    await client.chat_postMessage(channel=world.demo.general.id, text="hello again")
    after, _ = await scrape(world)

    def grew(metric: str, /, **labels: str) -> float:
        return value(after, metric, **labels) - value(before, metric, **labels)

    assert grew("pacsbot_slack_api_errors_total", method="chat.postMessage", error="channel_not_found") == 1
    assert grew("pacsbot_slack_api_errors_total", method="chat.postMessage", error="ratelimited") == 1
    assert grew("pacsbot_slack_rate_limit_waits_total", method="chat.postMessage") == 1
    assert grew("pacsbot_slack_rate_limit_wait_seconds_total", method="chat.postMessage") > 0


async def test_the_upload_workers_slack_calls_are_counted_too(world: Scenario) -> None:
    await set_channel(world, UploadMode.AUTO)
    before, _ = await scrape(world)
    world.slack.faults.rate_limit("chat.update", retry_after_seconds=0)
    upload = await share(world, "chest.dcm", ct_image())
    await thread_says(world, upload.message.ts, "is in PostDICOM")
    after, _ = await scrape(world)
    waits = "pacsbot_slack_rate_limit_waits_total"
    assert value(after, waits, method="chat.update") - value(before, waits, method="chat.update") == 1
    errors = "pacsbot_slack_api_errors_total"
    labels = {"method": "chat.update", "error": "ratelimited"}
    assert value(after, errors, **labels) - value(before, errors, **labels) == 1


async def test_upload_jobs_are_counted_by_state_from_the_database(world: Scenario) -> None:
    jobs = world.app.services.store.upload_jobs
    await jobs.enqueue(
        world.workspace,
        slack_file_id="F0000001",
        channel_id=world.demo.general.id,
        thread_ts=None,
        requested_by=world.demo.member.id,
        options=UploadOptions(),
    )
    samples, _ = await scrape(world)
    # The app's worker may already have moved the job on; whatever its state, it is counted once.
    assert sum(value(samples, "pacsbot_upload_jobs", state=state.value) for state in UploadState) == 1


def test_label_values_that_are_not_names_become_other() -> None:
    assert metrics.payload_kind({"type": "block_actions"}) == "block_actions"
    assert metrics.payload_kind({"command": "/pacs", "text": "DOE^JANE"}) == "command"
    assert metrics.payload_kind({"type": "whatever DOE^JANE"}) == "other"
