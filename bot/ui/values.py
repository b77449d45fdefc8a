"""What buttons and menus carry: UUIDs and small option words, never patient data.

Values are short, validated on the way back in, and anything that does not parse is refused:
a forged payload gets nowhere. Whether the order belongs to the workspace is checked by the
handler, which asks PostDICOM with the workspace's own account.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_WORD = re.compile(r"[a-z_]{1,20}")


class BadActionValue(ValueError):
    """A button or menu value that this app did not make."""


@dataclass(frozen=True, slots=True)
class OrderRef:
    """Which order: its UUID and its institution's UUID (PostDICOM needs both for some calls)."""

    order_uuid: str
    institution_uuid: str | None = None

    def encode(self, verb: str = "") -> str:
        """Encode as ``verb:order:institution`` (at most ~95 characters, within Slack's 150)."""
        if verb and not _WORD.fullmatch(verb):
            raise ValueError("a verb is a short lower-case word")
        return f"{verb}:{self.order_uuid}:{self.institution_uuid or ''}"

    @classmethod
    def decode(cls, value: str) -> tuple[str, OrderRef]:
        """Decode a value made by :meth:`encode` into its verb and order."""
        parts = value.split(":")
        if len(parts) != 3:
            raise BadActionValue("not an order value")
        verb, order, institution = parts
        if (verb and not _WORD.fullmatch(verb)) or not _UUID.fullmatch(order):
            raise BadActionValue("not an order value")
        if institution and not _UUID.fullmatch(institution):
            raise BadActionValue("not an order value")
        return verb, cls(order.lower(), institution.lower() or None)


def decode_uuid(value: str) -> str:
    """Return the value if it is a UUID (lower-cased), else refuse it."""
    if not _UUID.fullmatch(value):
        raise BadActionValue("not a UUID")
    return value.lower()
