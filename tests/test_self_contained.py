"""A clone of this repository is all the tests need: nothing reads the reference folder beside it."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.paths import DATA, ROOT

# The reference notes live in a folder named "shared" beside the repository; a clone lacks it.
OUTSIDE = re.compile(r"\.\./shared\b|/work/shared\b|\.parent\s*/\s*[\"']shared[\"']|parents\[\d\]\.parent")
CHECKED = ("tests", "bot", "commands", "bench", "Makefile", ".ci", "Dockerfile", "pyproject.toml")


def tracked_files() -> list[str]:
    """List the files git tracks (or would track) under the checked paths."""
    listing = subprocess.run(  # noqa: S603 - fixed arguments, no shell
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "--", *CHECKED],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if listing.returncode != 0:
        pytest.skip(f"not a git checkout: {listing.stderr.strip()}")
    return [line for line in listing.stdout.splitlines() if line]


def test_no_file_reads_the_reference_folder_beside_the_repository() -> None:
    offenders = []
    for name in tracked_files():
        path = ROOT / name
        if name == "tests/test_self_contained.py" or not path.is_file() or path.is_relative_to(DATA):
            continue
        text = path.read_text(errors="replace")
        offenders += [
            f"{name}:{line}" for line, row in enumerate(text.splitlines(), 1) if OUTSIDE.search(row)
        ]
    assert offenders == []


def test_the_pattern_catches_each_way_a_path_to_the_reference_folder_was_written() -> None:
    # Put together here, so that this file itself holds none of the paths it looks for.
    folder = "shared"
    for written in (
        f'Path("/work/{folder}/postdicom/golden")',
        f'ROOT.parent / "{folder}" / "slack"',
        'Path(__file__).resolve().parents[2].parent / "x"',
        f"cat ../{folder}/notes/slack.md",
    ):
        assert OUTSIDE.search(written), written


def test_every_data_file_is_described_in_the_data_readme() -> None:
    readme = (DATA / "README.md").read_text()
    for path in DATA.rglob("*"):
        if path.is_file() and path.name not in {"README.md", "CAPTURE.md"}:
            assert path.name in readme, f"{path.relative_to(DATA)} has no line in tests/data/README.md"
