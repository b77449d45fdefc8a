"""Log redaction: one filter masks tokens, keys, URLs and remembered patient values."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.logs import MASK, JsonFormatter, RedactingFilter, forget_all_secrets, redact, remember_secret


@pytest.fixture(autouse=True)
def fresh_registry() -> Iterator[None]:
    forget_all_secrets()
    yield
    forget_all_secrets()


@pytest.mark.parametrize(
    "secret",
    [
        "xoxb-1234-5678-abcdef",
        "xoxp-1-2-3",
        "xapp-1-A0PACSBOT1-abcdef",
        "https://share.example.org/s/abc123?token=zz",
        "wss://region.example.org/?ClientUniqueId=0f0f0f0f-1234-4abc-8def-0123456789ab",
    ],
)
def test_known_shapes_of_secrets_are_masked(secret: str) -> None:
    assert secret not in redact(f"something about {secret} happened")


def test_key_value_pairs_keep_the_key_name() -> None:
    assert redact("api_key=abc123 and token: xyz") == f"api_key={MASK} and token: {MASK}"


def test_remembered_patient_values_are_masked_with_their_name_parts() -> None:
    remember_secret("MÜLLER^JÜRGEN", "PID-7781", None, "")
    text = redact("order of MÜLLER^JÜRGEN (JÜRGEN, PID-7781) moved")
    assert "MÜLLER" not in text
    assert "JÜRGEN" not in text
    assert "PID-7781" not in text


def test_remembered_keys_are_masked_in_any_case_and_other_uuids_are_not() -> None:
    key = "0f0f0f0f-1234-4abc-8def-0123456789ab"
    remember_secret(key, "PID-7781")
    text = redact(
        f"client {key} / {key.upper()} / x{key}y, order 11111111-2222-4333-8444-555555555555, PID-7781"
    )
    assert "0123456789" not in text.lower()
    assert text.count(MASK) == 4
    assert "11111111-2222-4333-8444-555555555555" in text


def test_the_filter_masks_arguments_and_tracebacks() -> None:
    remember_secret("DOE^JANE")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("patient %s with key %s", "DOE^JANE", "xoxb-1-2")
        try:
            raise ValueError("failed for DOE^JANE at https://x.example/share/1")
        except ValueError:
            logger.exception("upload failed")
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert "DOE" not in output
    assert "xoxb-1-2" not in output
    assert "x.example/share" not in output
    assert "ValueError" in output


def test_json_lines_are_json() -> None:
    record = logging.LogRecord("pacsbot", logging.INFO, __file__, 1, "hello %s", ("world",), None)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "hello world"
    assert entry["level"] == "INFO"
