"""Optional system tools: a test that needs one skips with what to install, and fails under CI=true."""

from __future__ import annotations

import os
import shutil
from typing import NoReturn

import pytest

# Each tool, and the Debian package that brings it (.ci/run installs every one of them).
PACKAGES = {
    "dcmdump": "dcmtk",
    "dciodvfy": "dicom3tools",
    "pg_dump": "postgresql-client",
    "chromium": "chromium",
}


def running_in_ci() -> bool:
    """Tell whether this run is CI's, where a missing tool is a failure."""
    return os.environ.get("CI", "").lower() == "true"


def unavailable(what: str, install: str) -> NoReturn:
    """Skip the test saying what to install, or fail it under CI=true."""
    message = f"this test needs {what}: {install}"
    if running_in_ci():
        pytest.fail(
            f"{message} (.ci/run installs it; under CI=true a missing tool is a failure)", pytrace=False
        )
    pytest.skip(message)


def require_tool(name: str) -> str:
    """Return the path of a system tool, or skip (fail under CI) saying which package brings it."""
    found = shutil.which(name)
    if found is None:
        unavailable(name, f"apt-get install {PACKAGES[name]}")
    return found
