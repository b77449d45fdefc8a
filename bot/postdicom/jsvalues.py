"""JavaScript's view of values, so that our frames carry the bytes PostDICOM's library sends.

The library builds its JSON with ``JSON.stringify`` and its error texts with string
concatenation. Python's ``json`` module and ``str()`` differ from both in small ways (``1.0``
against ``1``, ``1e+16`` against ``1e16``, ``None`` against ``undefined``), and those differences
are visible on the wire.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

# JSON.stringify escapes exactly these: quote, backslash, C0 controls and (since ES2019) lone
# surrogates; everything else, including U+2028/U+2029 and DEL, goes out raw as UTF-8.
_NEEDS_ESCAPE = re.compile('[\\x00-\\x1f"\\\\\ud800-\udfff]')
_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _SHORT_ESCAPES.get(char) or f"\\u{ord(char):04x}"


def js_number(value: float) -> str:
    """Format a number as JavaScript's ``Number.prototype.toString`` does."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    # repr() gives the shortest round-trip digits, as ECMAScript's algorithm requires.
    mantissa, _, exponent_text = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    all_digits = whole + fraction
    significant = all_digits.lstrip("0")
    # value = 0.<digits> x 10**point, the form ECMAScript's Number::toString reasons in
    point = len(whole) + (int(exponent_text) if exponent_text else 0) - (len(all_digits) - len(significant))
    digits = significant.rstrip("0")
    count = len(digits)
    if count <= point <= 21:
        text = digits + "0" * (point - count)
    elif 0 < point <= 21:
        text = f"{digits[:point]}.{digits[point:]}"
    elif -6 < point <= 0:
        text = "0." + "0" * -point + digits
    else:
        exponent = point - 1
        exponent_sign = "+" if exponent >= 0 else "-"
        head = digits[0] if count == 1 else f"{digits[0]}.{digits[1:]}"
        text = f"{head}e{exponent_sign}{abs(exponent)}"
    return sign + text


def js_string(value: object) -> str:
    """Convert a value to text as JavaScript's ``String(value)`` does; ``None`` is ``undefined``."""
    if value is None:
        return "undefined"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return js_number(value)
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return "[object Object]"
    if isinstance(value, Sequence | set | frozenset):
        return ",".join("" if item is None else js_string(item) for item in value)
    return str(value)


def js_truthy(value: object) -> bool:
    """Tell whether JavaScript would treat the value as true (empty lists and objects are)."""
    if value is None or value is False:
        return False
    if isinstance(value, int | float):
        return value != 0 and not (isinstance(value, float) and math.isnan(value))
    if isinstance(value, str):
        return value != ""
    return True


def _encode(value: object, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif isinstance(value, bool):
        out.append("true" if value else "false")
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(js_number(value) if math.isfinite(value) else "null")
    elif isinstance(value, str):
        out.append('"' + _NEEDS_ESCAPE.sub(_escape, value) + '"')
    elif isinstance(value, Mapping):
        out.append("{")
        first = True
        for key, item in value.items():
            if item is None:  # JavaScript's undefined: the key is left out
                continue
            if not first:
                out.append(",")
            first = False
            _encode(str(key), out)
            out.append(":")
            _encode(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _encode(item, out)
        out.append("]")
    else:
        raise TypeError(f"cannot send a {type(value).__name__} to PostDICOM")


def to_json(value: object) -> bytes:
    """Serialize as ``JSON.stringify`` would, UTF-8 encoded; ``None`` values of objects are left out."""
    out: list[str] = []
    _encode(value, out)
    return "".join(out).encode("utf-8")
