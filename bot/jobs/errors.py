"""What can go wrong with an upload job, said in words fit for the person who shared the file."""

from __future__ import annotations


class JobError(Exception):
    """A failure a person can be told about.

    ``message`` is user-safe (no patient data, no URLs, no tokens), ``code`` is a short identifier
    for the audit log, and ``retryable`` says whether trying again later may succeed.
    """

    def __init__(self, message: str, *, code: str, retryable: bool) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.retryable = retryable


class Rejected(JobError):
    """The file itself cannot be uploaded (not DICOM, truncated, a zip bomb...); retrying will not help."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message, code=code, retryable=False)


class LeaseLost(Exception):
    """Another worker owns the job now (this one stalled past its lease); stop without touching it."""
