"""The layers of docs/architecture.md, executed: each imports only the layers below it.

Bottom to top: the PostDICOM client and the DICOM layer; the store; durable jobs; Block Kit; the
app's framework (the /pacs router, request context, errors, guards); one module per command; and
the composition root, which alone registers the commands and starts servers. The sandbox composes
everything and only the command line and the tests reach it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.paths import ROOT

BASE = {"bot.settings", "bot.logs", "bot.errors"}
CLIENT = {"bot.postdicom"}
DICOM = {"bot.dicom"}
STORE = {"bot.store", "bot.settings"}
JOBS = CLIENT | DICOM | STORE | BASE | {"bot.jobs"}
UI = CLIENT | DICOM | STORE | {"bot.jobs", "bot.ui"}
APP = JOBS | UI | {"bot.app"}
COMMANDS = APP | {"commands"}

# The modules that wire commands into the app and start it: the only ones allowed to import commands.
COMPOSITION_ROOT = {"bot.app.factory", "bot.app.server", "bot.app.doctor", "bot.app.cli", "bot.cli"}
# The command line starts the sandbox; nothing else of the product may import it.
SANDBOX_USERS = {"bot.app.cli", "bot.cli"}

# Layer (a package prefix) -> the first-party packages it may import, and third-party ones it may not.
RULES: dict[str, tuple[set[str], set[str]]] = {
    "bot.postdicom": (CLIENT, {"slack_sdk", "slack_bolt", "sqlalchemy", "commands"}),
    "bot.dicom": (DICOM, {"aiohttp", "slack_sdk", "slack_bolt", "sqlalchemy"}),
    "bot.store": (STORE, {"slack_bolt"}),
    "bot.jobs": (JOBS, {"slack_bolt"}),
    "bot.ui": (UI, {"aiohttp", "slack_bolt", "sqlalchemy"}),
    "bot.app": (APP, set()),
    "commands": (COMMANDS, {"sqlalchemy"}),
}
FIRST_PARTY = ("bot", "commands", "tests")


def module_name(path: Path) -> str:
    """Return the dotted module name of a source file under the repository root."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Return every module a file imports, at any depth of its code."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def is_under(module: str, packages: set[str]) -> bool:
    """Tell whether a module is one of the packages or inside one."""
    return any(module == package or module.startswith(package + ".") for package in packages)


def violations(module: str, imported: set[str]) -> list[str]:
    """Return what a product module imports against the layer rules."""
    found = [f"{module} imports {name}" for name in imported if is_under(name, {"tests"})]
    if is_under(module, {"bot.sandbox"}):
        return found
    sandbox = {"bot.sandbox"} if module not in SANDBOX_USERS else set()
    found += [f"{module} imports {name}" for name in imported if is_under(name, sandbox)]
    if module in COMPOSITION_ROOT:
        return found
    layer = max((prefix for prefix in RULES if is_under(module, {prefix})), key=len, default=None)
    if layer is None:
        return found
    allowed, forbidden_libraries = RULES[layer]
    for name in imported - {"bot"}:  # the package root holds only its version
        first_party = name.split(".")[0] in FIRST_PARTY
        if (first_party and not is_under(name, allowed)) or is_under(name, forbidden_libraries):
            found.append(f"{module} ({layer}) imports {name}")
    return found


def product_modules() -> list[Path]:
    """List the product's source files."""
    return sorted([*(ROOT / "bot").rglob("*.py"), *(ROOT / "commands").rglob("*.py")])


def test_every_product_module_imports_only_the_layers_below_it() -> None:
    found = [line for path in product_modules() for line in violations(module_name(path), imports_of(path))]
    assert found == []


@pytest.mark.parametrize(
    ("module", "imported"),
    [
        ("bot.postdicom.client", "bot.store"),
        ("bot.postdicom.client", "slack_sdk"),
        ("bot.dicom.archives", "bot.postdicom"),
        ("bot.store.jobs", "bot.jobs.worker"),
        ("bot.jobs.worker", "bot.ui.uploads"),
        ("bot.ui.cards", "bot.app.request"),
        ("bot.ui.cards", "aiohttp"),
        ("bot.app.router", "commands.search"),
        ("bot.app.guards", "bot.sandbox.slack"),
        ("commands.search", "bot.sandbox.postdicom"),
        ("commands.search", "tests.app.harness"),
    ],
)
def test_an_import_against_the_direction_is_caught(module: str, imported: str) -> None:
    assert violations(module, {imported}) != []


@pytest.mark.parametrize(
    ("module", "imported"),
    [
        ("commands.search", "bot.app.router"),
        ("bot.app.factory", "commands.search"),
        ("bot.cli", "bot.sandbox.run"),
        ("bot.sandbox.run", "bot.app.factory"),
        ("bot.ui.cards", "bot.postdicom"),
    ],
)
def test_an_import_along_the_direction_is_allowed(module: str, imported: str) -> None:
    assert violations(module, {imported}) == []
