"""The one error type whose words a person may read: what went wrong, what to do, whether to retry.

Every layer raises it or a kind of it (a usage error in the /pacs grammar, an upload that failed or
was refused, a permission refused), and one translator, ``bot.app.errors.describe``, turns it and
every other error into the words shown in Slack. ``message`` and ``hint`` never quote an
exception's own text, a URL, a token or a patient value.
"""

from __future__ import annotations


class UserFacingError(Exception):
    """An error written for the person who asked, and safe to show them.

    ``code`` is a short identifier for the audit log and metrics, ``retryable`` says whether trying
    again later may succeed, and ``hint`` says what the person can do about it.
    """

    def __init__(
        self, message: str, *, code: str = "refused", retryable: bool = False, hint: str = ""
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.retryable = retryable
        self.hint = hint

    @property
    def text(self) -> str:
        """Return the message and its hint as one line."""
        return f"{self.message} {self.hint}".strip()


class UsageError(UserFacingError, ValueError):
    """The text could not be understood; ``message`` says why and ``example`` shows the fix."""

    def __init__(self, message: str, example: str) -> None:
        super().__init__(message, code="usage", hint=f"Try: `{example}`")
        self.example = example
