"""The checks PostDICOM's JavaScript library makes before it sends anything.

Each check reproduces the library's rule, including which values it lets through unchecked
(falsy lists, e-mails and integers), so that our client refuses exactly what the library
refuses, with the same message.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence

from bot.postdicom.errors import InvalidParameter
from bot.postdicom.jsvalues import js_string, js_truthy

EMPTY_GUID = "00000000-0000-0000-0000-000000000000"

_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", re.IGNORECASE)
# JavaScript's \d is ASCII only and its \s is a fixed set; Python's differ, so both are spelled out.
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_TIME = re.compile(r"[0-9]{2}:[0-9]{2}")
_JS_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_JS_ANY = "[^\n\r\u2028\u2029]"
_MAIL = re.compile(
    rf'(([^<>()\[\]\\.,;:{_JS_SPACE}@"]+(\.[^<>()\[\]\\.,;:{_JS_SPACE}@"]+)*)|("{_JS_ANY}+"))'
    r"@((\[[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\])|(([a-zA-Z\-0-9]+\.)+[a-zA-Z]{2,}))"
)
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


class Kind(enum.StrEnum):
    """The library's validation types, spelled as its error messages spell them."""

    GUID = "guid"
    GUID_LIST = "guidList"
    DATE = "date"
    TIME = "time"
    MAIL = "mail"
    INT = "int"


def is_guid(value: object) -> bool:
    """Tell whether the library accepts the value as a GUID (RFC 4122 v1-5, or all zeros)."""
    text = js_string(value)
    return text == EMPTY_GUID or _GUID.fullmatch(text) is not None


def is_calendar_date(value: object) -> bool:
    """Tell whether the value is ``YYYY-MM-DD`` naming a real day (proleptic Gregorian, year 0 included)."""
    if not isinstance(value, str):
        return False
    match = _DATE.fullmatch(value)
    if match is None:
        return False
    year, month, day = (int(part) for part in match.groups())
    if not 1 <= month <= 12:
        return False
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return 1 <= day <= _DAYS_IN_MONTH[month - 1] + (month == 2 and leap)


def _list_items(value: object) -> Sequence[object]:
    # The library walks ``value.length`` items: a string's characters, an array's elements,
    # and nothing at all for anything without a length.
    if isinstance(value, str):
        return list(value)
    if isinstance(value, Sequence):
        return value
    return ()


def _is_js_integer(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and value.is_integer()


def passes(kind: Kind, value: object) -> bool:
    """Tell whether the library's check of this kind lets the value through."""
    if kind is Kind.GUID:
        return is_guid(value)
    if kind is Kind.GUID_LIST:
        return not js_truthy(value) or all(is_guid(item) for item in _list_items(value))
    if kind is Kind.DATE:
        return is_calendar_date(value)
    if kind is Kind.TIME:
        return _TIME.fullmatch(js_string(value)) is not None
    if kind is Kind.MAIL:
        return not js_truthy(value) or _MAIL.fullmatch(js_string(value)) is not None
    return not js_truthy(value) or _is_js_integer(value)


def validate(*checks: tuple[str, Kind, object]) -> None:
    """Run the checks in order and raise InvalidParameter for the first that fails, as the library does."""
    for name, kind, value in checks:
        if not passes(kind, value):
            raise InvalidParameter(name, js_string(value), kind.value)
