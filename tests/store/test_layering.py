"""bot/store stays below the app: it never imports commands, UI, the app wiring or Slack listeners."""

from __future__ import annotations

import ast
from importlib.resources import files
from pathlib import Path

FORBIDDEN_PREFIXES = ("commands", "bot.app", "bot.ui", "bot.sandbox", "bot.jobs", "slack_bolt", "tests")


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


def test_the_store_imports_nothing_from_the_layers_above() -> None:
    root = Path(str(files("bot.store")))
    offenders = {
        f"{path.relative_to(root)} imports {module}"
        for path in root.rglob("*.py")
        for module in _imported_modules(path)
        if module.startswith(FORBIDDEN_PREFIXES)
    }
    assert offenders == set()
