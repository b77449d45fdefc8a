"""Logging set-up: library DEBUG stays out, settings secrets and URL passwords are masked."""

from __future__ import annotations

import io
import json
import logging

import pytest
from cryptography.fernet import Fernet

from bot.logs import MASK, configure_logging, forget_all_secrets, redact, remember_settings_secrets
from bot.settings import load_settings

pytestmark = pytest.mark.usefixtures("restore_logging")


def test_debug_shows_our_records_and_holds_libraries_at_info() -> None:
    output = io.StringIO()
    configure_logging("DEBUG").setStream(output)
    logging.getLogger("bot.anything").debug("ours")
    logging.getLogger("commands.search").debug("ours too")
    # A library that set its own level still does not get its DEBUG records through.
    chatty = logging.getLogger("slack_sdk.web.async_client")
    chatty.setLevel(logging.DEBUG)
    try:
        chatty.debug("Received the following response - body: {'text': 'DOE^JANE'}")
        logging.getLogger("aiosqlite").debug("executing INSERT ... ('DOE^JANE',)")
        logging.getLogger("aiosqlite").warning("a library warning still shows")
    finally:
        chatty.setLevel(logging.NOTSET)
    text = output.getvalue()
    assert "ours" in text
    assert "ours too" in text
    assert "DOE^JANE" not in text
    assert "a library warning still shows" in text
    assert logging.getLogger().level == logging.INFO


def test_info_hides_our_debug_records() -> None:
    output = io.StringIO()
    configure_logging("INFO").setStream(output)
    logging.getLogger("bot.anything").debug("not shown")
    logging.getLogger("bot.anything").info("shown")
    assert output.getvalue().count("shown") == 1


def test_json_format_writes_one_object_a_line() -> None:
    output = io.StringIO()
    configure_logging("INFO", "json").setStream(output)
    logging.getLogger("bot.anything").info("token xoxb-1-2-3 in %s", "a message")
    entry = json.loads(output.getvalue())
    assert entry["level"] == "INFO"
    assert "xoxb-1-2-3" not in entry["message"]


def test_secret_settings_are_remembered_and_masked() -> None:
    first, second = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings = load_settings(
        SLACK_BOT_TOKEN="xoxb-1-2-3",
        SLACK_SIGNING_SECRET="0123456789abcdef0123456789abcdef",
        PACSBOT_ENCRYPTION_KEY=f"{first},{second}",
    )
    try:
        remember_settings_secrets(settings)
        text = redact(f"signing 0123456789abcdef0123456789abcdef, key {second}")
    finally:
        forget_all_secrets()
    assert "0123456789abcdef" not in text
    assert second not in text


def test_a_password_in_a_database_url_is_masked() -> None:
    text = redact("cannot reach postgresql+asyncpg://pacsbot:hunter2@db:5432/pacsbot")
    assert "hunter2" not in text
    assert f"postgresql+asyncpg://pacsbot:{MASK}@db:5432/pacsbot" in text
