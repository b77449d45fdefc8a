"""A request refused before verification leaves one short line in the log and a count in /metrics.

The bodies here carry what an attacker or a skewed clock would put in the log otherwise: the
PostDICOM keys an admin typed into ``/pacs connect``, a patient's name and ID typed into a search,
a ``response_url``, and a newline followed by a forged log line. Every test reads the whole log
output, in both formats and at every level the app can run at.
"""

from __future__ import annotations

import io
import json
import logging
import re
import time
from collections.abc import Iterator
from urllib.parse import quote, quote_plus

import aiohttp
import pytest

from bot.logs import configure_logging
from bot.sandbox.slack import InboundPayload, SignedRequest, deliver
from bot.sandbox.slack.payloads import compute_signature
from tests.app.harness import Scenario

pytestmark = pytest.mark.usefixtures("restore_logging")

API_KEY = "7e1b3c5d-0a4b-4c7e-9d3f-112233445566"
ACCOUNT_KEY = "9f8e7d6c-5b4a-4c3d-8e2f-665544332211"
PATIENT_NAME = "Whitmore Isobel"
PATIENT_ID = "MRN-58213377"
FORGED_LINE = "2026-12-07 10:00:00,000 ERROR bot.app.server: forged by the sender"
LOG_SETUPS = [
    (level, log_format) for level in ("DEBUG", "INFO", "WARNING") for log_format in ("text", "json")
]


def forms_of(value: str) -> Iterator[str]:
    """The ways a value shows in a body: plain, percent-encoded (form), JSON-escaped, and both."""
    escaped = json.dumps(value)[1:-1]
    yield from {value, quote_plus(value), quote(value, safe=""), escaped, quote_plus(escaped)}


def dangerous_payloads(world: Scenario) -> dict[str, InboundPayload]:
    """What an attacker replays or a skewed clock delays: keys typed in a modal, a patient search."""
    demo = world.demo
    search = world.slack.payloads.slash_command(
        user=demo.member, channel=demo.general, text=f"search {PATIENT_NAME} id:{PATIENT_ID}\n{FORGED_LINE}"
    )
    connect = InboundPayload(
        "interactive",
        {
            "type": "view_submission",
            "team": {"id": demo.team.id},
            "user": {"id": demo.admin.id, "team_id": demo.team.id},
            "view": {
                "callback_id": "connect_keys",
                "state": {
                    "values": {
                        "api_key": {"key": {"type": "plain_text_input", "value": API_KEY}},
                        "account_key": {"key": {"type": "plain_text_input", "value": ACCOUNT_KEY}},
                        "note": {"key": {"type": "plain_text_input", "value": f"x\n{FORGED_LINE}"}},
                    }
                },
            },
        },
    )
    return {"search": search, "connect": connect}


def forbidden_values(payload: InboundPayload) -> dict[str, str]:
    values = {
        "API key": API_KEY,
        "account key": ACCOUNT_KEY,
        "patient name": PATIENT_NAME,
        "patient ID": PATIENT_ID,
    }
    response_url = payload.payload.get("response_url")
    if response_url:
        values["response_url"] = str(response_url)
    return {f"{what} as {form!r}": form for what, value in values.items() for form in forms_of(value)}


def forged(request: SignedRequest, forgery: str) -> SignedRequest:
    headers = dict(request.headers)
    if forgery == "no_signature":
        headers = {k: v for k, v in headers.items() if not k.lower().startswith("x-slack-")}
    elif forgery in ("abc", "1.7e9", "-1", " 17"):
        headers["X-Slack-Request-Timestamp"] = forgery
    elif forgery == "garbage_signature":
        headers["X-Slack-Signature"] = "v0=not-hex " + FORGED_LINE
    return SignedRequest(request.body, headers)


async def refusals_counted(world: Scenario, reason: str) -> float:
    async with aiohttp.ClientSession() as session, session.get(world.app.base_url + "/metrics") as response:
        page = await response.text()
    match = re.search(rf'^pacsbot_slack_requests_refused_total\{{reason="{reason}"\}} (\S+)$', page, re.M)
    return float(match.group(1)) if match else 0.0


def assert_one_refusal_line(text: str, log_format: str, forbidden: dict[str, str]) -> None:
    lines = text.splitlines()
    messages = [json.loads(line)["message"] for line in lines] if log_format == "json" else lines
    refusals = [message for message in messages if "refused a request" in message]
    assert len(refusals) == 1, text
    # Short: the reason and a size, whatever the body weighed.
    assert len(refusals[0]) < 200, refusals[0]
    assert "Traceback" not in text, text
    assert "ERROR" not in text, text
    assert not any(line.startswith(FORGED_LINE) for line in lines), text
    leaks = {what for what, value in forbidden.items() if value in text}
    assert not leaks, f"the log shows {sorted(leaks)}:\n{text}"


@pytest.mark.parametrize("kind", ["search", "connect"])
@pytest.mark.parametrize(
    ("forgery", "reason"),
    [
        ("bad_signature", "bad_signature"),
        ("stale", "stale_timestamp"),
        ("no_signature", "no_signature"),
        ("abc", "malformed_timestamp"),
        ("1.7e9", "malformed_timestamp"),
        ("-1", "malformed_timestamp"),
        ("garbage_signature", "bad_signature"),
    ],
)
async def test_a_refused_request_logs_one_short_line_never_its_body(
    world: Scenario, kind: str, forgery: str, reason: str
) -> None:
    payload = dangerous_payloads(world)[kind]
    forbidden = forbidden_values(payload)
    for level, log_format in LOG_SETUPS:
        output = io.StringIO()
        handler = configure_logging(level, log_format)
        handler.setStream(output)
        counted = await refusals_counted(world, reason)
        request = payload.signed(
            world.signing_secret, bad_signature=forgery == "bad_signature", stale=forgery == "stale"
        )
        answer = await deliver(world.app.events_url, forged(request, forgery))
        logging.getLogger().removeHandler(handler)

        assert answer.status == 401, (level, log_format, answer.body)
        assert answer.json() == {"error": "invalid request"}
        assert await refusals_counted(world, reason) == counted + 1
        if level == "WARNING":
            assert output.getvalue() == ""
        else:
            assert_one_refusal_line(output.getvalue(), log_format, forbidden)
    assert not world.slack.state.ephemeral_for(world.demo.member)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"type": "event_callback", "event": {"text": "' + PATIENT_ID.encode() + b'"', "application/json"),
        (
            b"payload=%7B%22type%22%3A+%22block_actions%22%2C+%22api_key%22",
            "application/x-www-form-urlencoded",
        ),
        (b"[1, 2, 3]", "application/json"),
        (b"\xff\xfe" + API_KEY.encode(), "application/json"),
    ],
    ids=["broken_json", "broken_payload_field", "not_an_object", "not_utf8"],
)
async def test_a_correctly_signed_malformed_body_is_refused_with_400_and_no_traceback(
    world: Scenario, body: bytes, content_type: str
) -> None:
    for level, log_format in LOG_SETUPS:
        output = io.StringIO()
        handler = configure_logging(level, log_format)
        handler.setStream(output)
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": compute_signature(world.signing_secret, timestamp, body),
        }
        counted = await refusals_counted(world, "malformed_body")
        answer = await deliver(world.app.events_url, SignedRequest(body, headers))
        logging.getLogger().removeHandler(handler)

        assert answer.status == 400, (level, log_format, answer.body)
        assert await refusals_counted(world, "malformed_body") == counted + 1
        if level != "WARNING":
            assert_one_refusal_line(
                output.getvalue(), log_format, {"API key": API_KEY, "patient ID": PATIENT_ID}
            )


async def test_a_body_over_the_size_limit_is_refused_in_one_line(world: Scenario) -> None:
    output = io.StringIO()
    handler = configure_logging("DEBUG", "text")
    handler.setStream(output)
    body = b"payload=" + quote_plus(json.dumps({"text": PATIENT_NAME * 100_000})).encode()
    headers = {"X-Slack-Signature": "v0=0", "X-Slack-Request-Timestamp": str(int(time.time()))}
    async with (
        aiohttp.ClientSession() as session,
        session.post(world.app.events_url, data=io.BytesIO(body), headers=headers) as answer,
    ):
        status = answer.status
    logging.getLogger().removeHandler(handler)
    assert status == 400
    assert await refusals_counted(world, "too_large") >= 1
    assert PATIENT_NAME not in output.getvalue()
    assert len(output.getvalue()) < 500
