"""Slack's request signatures: bad, stale, missing and replayed ones.

What the app does, as tested here: a request whose signature does not match, whose timestamp is
more than five minutes from now, or that carries no signature is refused with 401 and nothing
runs. Slack's scheme (HMAC of ``v0:timestamp:body``) has no nonce, so a captured request replayed
*within* the five minutes verifies again: a replayed slash command runs again (the same read-only
search, answered again to the same response_url, which Slack caps at five uses in 30 minutes), and
a replayed event changes nothing, because uploads are deduplicated on team and file in the
database. Replayed *after* the window, it is refused like any stale request.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from bot.sandbox.postdicom import PostDicomEmulator
from bot.sandbox.slack import RESPONSE_URL, InboundPayload, SignedRequest, deliver
from bot.store import ChannelSettings, UploadMode
from bot.ui.orders import SHARE_ACTION
from tests.app.harness import Scenario, eventually
from tests.dicom.samples import ct_image, new_uid


def search_frames(emulator: PostDicomEmulator) -> int:
    return sum(count for name, count in emulator.stats.frames.items() if name.startswith("17:"))


def payloads(world: Scenario) -> dict[str, InboundPayload]:
    """A slash command, a button press and an event, as Slack would send them."""
    demo = world.demo
    card = world.slack.state.post_message(
        demo.general,
        text="card",
        author=demo.bot,
        blocks=[
            {
                "type": "actions",
                "block_id": "b",
                "elements": [
                    {
                        "type": "button",
                        "action_id": SHARE_ACTION,
                        "text": {"type": "plain_text", "text": "Share"},
                        "value": "share:2fd1c4a8-0a4b-4c7e-9d3f-0123456789ab:",
                    }
                ],
            }
        ],
    )
    return {
        "command": world.slack.payloads.slash_command(
            user=demo.member, channel=demo.general, text="search mod:CT"
        ),
        "button": world.slack.payloads.block_actions(user=demo.member, action_id=SHARE_ACTION, message=card),
        "event": world.slack.payloads.event_callback(
            demo.team, {"type": "app_home_opened", "user": demo.member.id, "tab": "home"}
        ),
    }


async def post(world: Scenario, request: SignedRequest) -> int:
    return (await deliver(world.app.events_url, request)).status


@pytest.mark.parametrize("kind", ["command", "button", "event"])
@pytest.mark.parametrize(
    "forgery",
    ["bad_signature", "stale", "replayed_after_window", "no_signature", "tampered_body"],
)
async def test_a_request_that_does_not_verify_is_refused_and_nothing_runs(
    world: Scenario, emulator: PostDicomEmulator, kind: str, forgery: str
) -> None:
    payload = payloads(world)[kind]
    secret = world.signing_secret
    before = search_frames(emulator)
    calls_before = len(world.slack.calls)
    signed: dict[str, Any] = {
        "bad_signature": {"bad_signature": True},
        "stale": {"stale": True},
        # Captured 301 s ago, correctly signed then, posted again now.
        "replayed_after_window": {"now": time.time() - 301},
    }.get(forgery, {})
    request = payload.signed(secret, **signed)
    if forgery == "no_signature":
        headers = {k: v for k, v in request.headers.items() if not k.lower().startswith("x-slack-")}
        request = SignedRequest(request.body, headers)
    if forgery == "tampered_body":
        request = SignedRequest(
            request.body.replace(b"mod%3ACT", b"mod%3AMR").replace(b"home", b"homz") + b" ", request.headers
        )

    assert await post(world, request) == 401
    assert search_frames(emulator) == before
    # Nothing reached Slack on the app's behalf either: no answer, no modal, no message.
    assert len(world.slack.calls) == calls_before
    assert not world.slack.state.ephemeral_for(world.demo.member)


async def test_a_command_replayed_within_the_window_runs_again(world: Scenario) -> None:
    payload = payloads(world)["command"]
    request = payload.signed(world.signing_secret)
    assert await post(world, request) == 200
    await world.ephemeral(world.demo.member, "found")
    # The same bytes, same signature, a moment later: Slack's scheme has no nonce to tell them apart.
    assert await post(world, request) == 200
    await eventually(lambda: world.slack.calls.count(RESPONSE_URL) >= 2, what="the replay's answer")
    answers = [m for m in world.slack.state.ephemeral_for(world.demo.member) if m.text.endswith("found")]
    assert len(answers) == 2


async def test_an_event_replayed_within_the_window_uploads_once(
    world: Scenario, emulator: PostDicomEmulator
) -> None:
    store = world.app.services.store
    await store.channel_settings.save(
        world.workspace, world.demo.general.id, ChannelSettings(upload_mode=UploadMode.AUTO)
    )
    study = new_uid()
    upload = world.slack.upload_file(
        user=world.demo.member, channel=world.demo.general, name="a.dcm", content=ct_image(study=study)
    )
    request = upload.message_event.signed(world.signing_secret)
    for _ in range(3):
        assert await post(world, request) == 200

    def landed() -> bool:
        account = emulator.state.account(emulator.account_key)
        order = account.order_by_study(study) if account else None
        return order is not None and len(order.instances) == 1

    await eventually(landed, within=30, what="the upload")
    job = await store.upload_jobs.find(world.workspace, upload.file.id)
    assert job is not None
    assert emulator.uploads.counters.files_completed == 1
    assert emulator.uploads.counters.instances_deduplicated == 0
