"""What can go wrong with an upload job: kinds of the one user-facing error, said in words fit for
the person who shared the file."""

from __future__ import annotations

from bot.errors import UserFacingError


class JobError(UserFacingError):
    """An upload failure a person can be told about; every one names its ``code`` and ``retryable``."""

    def __init__(self, message: str, *, code: str, retryable: bool) -> None:
        super().__init__(message, code=code, retryable=retryable)


class Rejected(JobError):
    """The file itself cannot be uploaded (not DICOM, truncated, a zip bomb...); retrying will not help."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message, code=code, retryable=False)


class LeaseLost(Exception):
    """Another worker owns the job now (this one stalled past its lease); stop without touching it."""
