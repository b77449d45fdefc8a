"""Where the tests' own data lives: inside the repository, never beside it (see tests/data/README.md)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"

GOLDEN = DATA / "postdicom" / "golden"
GOLDEN_FILES = GOLDEN / "files"
GOLDEN_BIG = GOLDEN_FILES / "golden_big.dcm"
SMALL_PDF = GOLDEN_FILES / "small.pdf"
REPORT_PDF = GOLDEN_FILES / "report.pdf"

SLACK_MANIFEST_SCHEMA = DATA / "slack" / "manifest.schema.1.0.0.json"
