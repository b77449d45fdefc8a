"""Only ``bot/settings.py`` reads the environment; everything else gets its values from the settings."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_only_the_settings_module_reads_the_environment() -> None:
    readers = sorted(
        str(path.relative_to(ROOT))
        for package in ("bot", "commands")
        for path in (ROOT / package).rglob("*.py")
        if path != ROOT / "bot" / "settings.py"
        and any(reader in path.read_text(encoding="utf-8") for reader in ("os.environ", "getenv("))
    )
    assert readers == []
