"""Logging set-up with redaction in one place.

Every record passes through :class:`RedactingFilter` on its way to a handler. It masks Slack
tokens, UUID-shaped keys next to key names, URLs (share and viewer links are credentials, and
PostDICOM URLs carry the API key), and every value registered with :func:`remember_secret`
(PostDICOM keys, tokens, and patient values the app has handled). Code should still not log such
values; this is the net under the trapeze.

Secrets hide in encodings: a form body percent-encodes them, a JSON payload escapes them. When a
decoded form of a text shows something to mask, the record is written decoded and masked.
Library records that carry whole request bodies (Bolt's rejected-request log) are cut before the
body. Text-format lines escape control characters, so no request can forge a log line.

DEBUG is for pacsbot's own loggers only. Libraries stay at INFO whatever the level: slack_sdk and
Bolt log request and response bodies at DEBUG (message text, modal values: patient data and the
keys an admin typed), and aiosqlite logs every statement with its parameters.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO
from urllib.parse import unquote_plus

from pydantic import BaseModel, SecretStr

MASK = "[redacted]"
_MIN_REMEMBERED_LENGTH = 3
# Loggers whose DEBUG records may be shown; every other logger is held at INFO.
APP_LOGGERS = ("bot", "commands")

_PATTERNS = (
    re.compile(r"xox[abeoprs]-[A-Za-z0-9-]+"),
    re.compile(r"xapp-[A-Za-z0-9-]+"),
    re.compile(r"(?i)\b(?:https?|wss?)://[^\s\"'<>]+"),
    # Credentials in any other URL (postgresql+asyncpg://user:password@host/db).
    re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s/:@\"']*)(:)[^\s/@\"']+(?=@)"),
    # A backslash may escape the quotes (JSON inside JSON).
    re.compile(
        r"(?i)((?:api|account|router)_?key|ClientUniqueId|token|secret|password)"
        r"(\\*[\"']?\s*[:=]\s*\\*[\"']?)[^\s\"',&}\\]+"
    ),
)
# How many layers of encoding (percent-encoding, JSON escapes) redaction looks through.
_MAX_DECODING_ROUNDS = 4
_PERCENT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}|\+")
_JSON_ESCAPE = re.compile(r"\\(u[0-9A-Fa-f]{4}|[\"\\/bfnrt])")
_JSON_SIMPLE_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
# C0 and C1 control characters and Unicode line separators: each could start a forged log line.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_UNICODE_LINE_BREAKS = re.compile(r"[\x85\u2028\u2029]")
# Library log messages that embed a whole request body; the text from the marker on is dropped.
_BODY_MARKERS = ("body:", "request body", "for the request (")
BODY_WITHHELD = "[body withheld]"


# A PostDICOM key. Each workspace brings two; kept in a set, they cost nothing per log line.
_GUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")


class _Registry:
    """Values that must never be printed: keys in a set, the rest longest first in one pattern."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._guids: set[str] = set()
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def add(self, values: Iterable[str]) -> None:
        with self._lock:
            before = len(self._values)
            for value in values:
                if _GUID.fullmatch(value):
                    # One alternation of every workspace's keys would grow, and slow every log
                    # line, with each workspace that ever connected.
                    self._guids.add(value.lower())
                elif len(value) >= _MIN_REMEMBERED_LENGTH:
                    self._values.add(value)
            if len(self._values) != before:
                ordered = sorted(self._values, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(value) for value in ordered))
                # re keeps its last 512 patterns: every earlier, shorter version of this one would
                # stay there (this holds a reference to the current one).
                re.purge()

    def redact(self, text: str) -> str:
        guids = self._guids
        if guids:
            text = _GUID.sub(lambda match: MASK if match.group(0).lower() in guids else match.group(0), text)
        pattern = self._pattern
        return pattern.sub(MASK, text) if pattern is not None else text

    def clear(self) -> None:
        with self._lock:
            self._guids.clear()
            self._values.clear()
            self._pattern = None


_registry = _Registry()


def remember_secret(*values: str | SecretStr | None) -> None:
    """Register values (keys, tokens, patient names and IDs) that logs must never show."""
    plain = [value.get_secret_value() if isinstance(value, SecretStr) else value for value in values]
    _registry.add(value.strip() for value in plain if value and value.strip())
    # DICOM person names are logged in many spellings; mask the parts too.
    _registry.add(
        part.strip()
        for value in plain
        if isinstance(value, str)
        for part in re.split(r"[\^=\\]", value)
        if len(part.strip()) >= _MIN_REMEMBERED_LENGTH + 1
    )


def remember_settings_secrets(settings: BaseModel) -> None:
    """Register every secret setting (tokens, signing secret, keys; each of several comma-separated keys)."""
    for value in settings.__dict__.values():
        if isinstance(value, SecretStr):
            text = value.get_secret_value()
            remember_secret(text, *text.split(","))


def forget_all_secrets() -> None:
    """Drop every remembered value (tests use this between scenarios)."""
    _registry.clear()


def redact(text: str) -> str:
    """Mask every secret pattern and remembered value in a text, in plain, percent-encoded or JSON-escaped form."""
    masked = _redact_plain(text)
    decoded = masked
    for _ in range(_MAX_DECODING_ROUNDS):
        layer = _decode_once(decoded)
        if layer == decoded:
            break
        decoded = layer
        if _redact_plain(decoded) != decoded:
            # Something secret hides behind an encoding: show the decoded text, masked.
            return _redact_plain(_fully_decoded(decoded))
    return masked


def _redact_plain(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(lambda match: _mask_match(match), text)
    return _registry.redact(text)


def _fully_decoded(text: str) -> str:
    for _ in range(_MAX_DECODING_ROUNDS):
        layer = _decode_once(text)
        if layer == text:
            break
        text = layer
    return text


def _decode_once(text: str) -> str:
    """Undo one layer of percent-encoding and one of JSON string escapes."""
    if _PERCENT_ESCAPE.search(text):
        text = unquote_plus(text)
    return _JSON_ESCAPE.sub(_unescape_json, text)


def _unescape_json(match: re.Match[str]) -> str:
    escape = match.group(1)
    if escape.startswith("u"):
        return chr(int(escape[1:], 16))
    return _JSON_SIMPLE_ESCAPES.get(escape, escape)


def escape_controls(text: str) -> str:
    """Escape control characters (newlines included) so that a text stays on one log line."""
    return _CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)


def _mask_match(match: re.Match[str]) -> str:
    if match.lastindex and match.lastindex >= 2:
        return f"{match.group(1)}{match.group(2)}{MASK}"
    return MASK


class RedactingFilter(logging.Filter):
    """Rewrite each record's message and exception text with secrets masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = redact(record.getMessage())
        record.msg, record.args = message, None
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class LibraryBodyFilter(logging.Filter):
    """Cut the request body out of library records that embed one (Bolt logs a rejected request's body)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if any(record.name == name or record.name.startswith(f"{name}.") for name in APP_LOGGERS):
            return True
        message = record.getMessage()
        lowered = message.lower()
        cut = min((index for marker in _BODY_MARKERS if (index := lowered.find(marker)) >= 0), default=-1)
        if cut >= 0:
            record.msg, record.args = f"{message[:cut]}{BODY_WITHHELD}", None
        return True


class TextFormatter(logging.Formatter):
    """One line per record; a traceback follows on indented lines, so only a record starts a line."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        """Format the record's line with its message's control characters escaped."""
        record.message = escape_controls(record.message)
        return super().formatMessage(record)

    def formatException(self, ei: Any) -> str:
        """Format a traceback with every line indented."""
        return _indented(super().formatException(ei))

    def format(self, record: logging.LogRecord) -> str:
        """Format a record: its escaped line, then any traceback indented."""
        if record.exc_text:
            record.exc_text = _indented(record.exc_text)
        return super().format(record)


def _indented(text: str) -> str:
    lines = text.splitlines()
    return "\n".join(
        "    " + escape_controls(line) if not line.startswith("    ") else escape_controls(line)
        for line in lines
    )


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("team_id", "action", "operation"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_text:
            entry["exception"] = record.exc_text
        # json.dumps leaves these unescaped, and line readers (Python's splitlines) break on them.
        return _UNICODE_LINE_BREAKS.sub(
            lambda match: f"\\u{ord(match.group()):04x}", json.dumps(entry, ensure_ascii=False)
        )


class LibraryDebugFilter(logging.Filter):
    """Drop DEBUG records of every logger outside pacsbot's own, whatever level a library set itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.INFO:
            return True
        return any(record.name == name or record.name.startswith(f"{name}.") for name in APP_LOGGERS)


def configure_logging(level: str = "INFO", log_format: str = "text") -> logging.StreamHandler[TextIO]:
    """Send all logs through one redacting handler on stderr; return the handler."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(LibraryDebugFilter())
    handler.addFilter(LibraryBodyFilter())
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    numeric = logging.getLevelName(level)
    # The root level is what libraries inherit (Bolt copies it into its loggers when an app is
    # built), so they never even format their DEBUG bodies; the filter above covers any library
    # that sets a level of its own.
    root.setLevel(max(logging.INFO, numeric))
    for name in APP_LOGGERS:
        logging.getLogger(name).setLevel(numeric)
    for noisy in ("slack_sdk", "slack_bolt", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(max(logging.INFO, numeric))
    return handler
