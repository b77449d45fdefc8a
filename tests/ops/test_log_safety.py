"""The log handler itself: library records never carry a request body, encoded secrets are masked,
and no text can forge a line. Each test reads the handler's whole output in both formats and at
every level the app runs at."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator
from urllib.parse import quote, quote_plus, urlencode

import pytest
from slack_bolt.middleware.request_verification.async_request_verification import AsyncRequestVerification
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.logs import configure_logging, forget_all_secrets, remember_secret

pytestmark = pytest.mark.usefixtures("restore_logging")

API_KEY = "7e1b3c5d-0a4b-4c7e-9d3f-112233445566"
ACCOUNT_KEY = "9f8e7d6c-5b4a-4c3d-8e2f-665544332211"
PATIENT_NAME = "MÜLLER^JÖRG"
PATIENT_ID = "MRN-58213377"
RESPONSE_URL = "https://hooks.slack.com/commands/T0001/1234/abcdef"
FORGED = "2026-12-07 10:00:00,000 ERROR bot.app.server: forged"
SETUPS = [(level, log_format) for level in ("DEBUG", "INFO") for log_format in ("text", "json")]


@pytest.fixture(autouse=True)
def fresh_registry() -> Iterator[None]:
    forget_all_secrets()
    yield
    forget_all_secrets()


def encodings(value: str) -> set[str]:
    """A value as it shows in form bodies, JSON payloads, JSON inside a form field, and ASCII-only JSON."""
    escaped = json.dumps(value)[1:-1]
    return {value, quote_plus(value), quote(value, safe=""), escaped, quote_plus(escaped)} | {
        json.dumps(value, ensure_ascii=False)[1:-1]
    }


def captured(level: str, log_format: str, emit: object) -> str:
    output = io.StringIO()
    handler = configure_logging(level, log_format)
    handler.setStream(output)
    try:
        assert callable(emit)
        emit()
    finally:
        logging.getLogger().removeHandler(handler)
    return output.getvalue()


def a_search_body() -> str:
    return urlencode(
        {
            "command": "/pacs",
            "text": f"search {PATIENT_NAME} id:{PATIENT_ID}\n{FORGED}",
            "response_url": RESPONSE_URL,
            "payload": json.dumps({"api_key": API_KEY, "account_key": ACCOUNT_KEY}),
        }
    )


@pytest.mark.parametrize(("level", "log_format"), SETUPS)
async def test_bolts_rejected_request_log_never_shows_the_body(level: str, log_format: str) -> None:
    body = a_search_body()
    request = AsyncBoltRequest(
        body=body,
        headers={"x-slack-request-timestamp": str(int(time.time())), "x-slack-signature": "v0=00"},
    )
    output = io.StringIO()
    handler = configure_logging(level, log_format)
    handler.setStream(output)
    # Built after the logging set-up, as the app is: Bolt copies the root level into its loggers.
    verification = AsyncRequestVerification(signing_secret="not-the-one-that-signed")

    async def unreachable() -> BoltResponse:
        raise AssertionError("Bolt ran a request whose signature did not verify")

    try:
        response = await verification.async_process(
            req=request, resp=BoltResponse(status=200), next=unreachable
        )
    finally:
        logging.getLogger().removeHandler(handler)
    text = output.getvalue()
    assert response.status == 401
    assert "Invalid request signature" in text, "Bolt's record was dropped instead of cut"
    assert len(text.splitlines()) == 1, text
    for value in (API_KEY, ACCOUNT_KEY, PATIENT_ID, "RG", RESPONSE_URL, "forged"):
        assert not encodings(value) & {part for part in encodings(value) if part in text}, (value, text)


@pytest.mark.parametrize(("level", "log_format"), SETUPS)
def test_remembered_and_key_shaped_secrets_are_masked_in_every_encoding(level: str, log_format: str) -> None:
    remember_secret(API_KEY, ACCOUNT_KEY, PATIENT_NAME, PATIENT_ID)
    library = logging.getLogger("aiohttp.client")
    mine = logging.getLogger("bot.somewhere")

    def emit() -> None:
        for value in (API_KEY, ACCOUNT_KEY, PATIENT_NAME, PATIENT_ID):
            for form in encodings(value):
                library.info("request to the router with %s", form)
                mine.debug("a value in passing: %s", form)
        # Key-shaped values never remembered (another workspace's keys) behind encodings.
        library.info("body %s", quote_plus(json.dumps({"api_key": "0a0a0a0a-unremembered-1"})))
        library.info("body %s", json.dumps(json.dumps({"account_key": "0b0b0b0b-unremembered-2"})))
        library.info("url %s", quote(f"{RESPONSE_URL}?x=1", safe=""))

    text = captured(level, log_format, emit)
    assert text.count("\n") >= 4
    leaks = {
        form
        for value in (API_KEY, ACCOUNT_KEY, PATIENT_NAME, PATIENT_ID, "MÜLLER", "JÖRG", RESPONSE_URL)
        for form in encodings(value)
        if form in text
    }
    leaks |= {value for value in ("unremembered-1", "unremembered-2", "hooks.slack.com") if value in text}
    assert not leaks, text


@pytest.mark.parametrize("logger_name", ["bot.app.server", "slack_bolt.App", "aiohttp.server"])
def test_a_newline_in_a_logged_value_cannot_forge_a_line_in_text_format(logger_name: str) -> None:
    def emit() -> None:
        logger = logging.getLogger(logger_name)
        logger.warning("user typed %s", f"hello\n{FORGED}\r\n{FORGED}\u2028{FORGED}\x1b[2J")
        try:
            raise ValueError(f"bad value\n{FORGED}")
        except ValueError:
            logger.exception("failed on %s", f"x\n{FORGED}")

    text = captured("INFO", "text", emit)
    lines = text.splitlines()
    records = [line for line in lines if not line.startswith(" ")]
    # Two records, two lines at the left margin; the traceback's lines are all indented.
    assert len(records) == 2, text
    assert not any(line.startswith(FORGED) for line in lines), text
    assert "\x1b" not in text
    assert "\u2028" not in text
    assert "\\n" in records[0]
    assert "\\r" in records[0]


def test_json_lines_stay_one_object_per_line_whatever_the_text() -> None:
    def emit() -> None:
        logging.getLogger("slack_bolt.App").warning("user typed %s", f"hello\n{FORGED}\r\u2028")

    text = captured("INFO", "json", emit)
    assert len(text.splitlines()) == 1
    assert "forged" in json.loads(text)["message"]
