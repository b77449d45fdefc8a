"""deploy/: the compose example names only settings the app knows, and runs several replicas per mode."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from bot.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
# Variables that only compose itself reads (interpolation), never the app.
COMPOSE_ONLY = {"POSTGRES_PASSWORD", "PACSBOT_IMAGE", "PACSBOT_REPLICAS", "PACSBOT_PUBLIC_PORT"}


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yml").read_text())
    return loaded


def setting_names() -> set[str]:
    return {str(field.validation_alias) for field in Settings.model_fields.values()}


def test_every_variable_named_is_a_setting_or_for_compose_itself() -> None:
    names = set(re.findall(r"^#?([A-Z][A-Z0-9_]+)=", (DEPLOY / "env.example").read_text(), re.MULTILINE))
    for service in compose()["services"].values():
        names.update(service.get("environment", {}))
    names.update(re.findall(r"\$\{([A-Z0-9_]+)", (DEPLOY / "compose.yml").read_text()))
    names -= {"POSTGRES_USER", "POSTGRES_DB"}
    unknown = names - setting_names() - COMPOSE_ONLY
    assert unknown == set()
    assert {"PACSBOT_ENCRYPTION_KEY", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_CLIENT_ID"} <= names


def test_replicas_share_postgresql_after_one_migration() -> None:
    services = compose()["services"]
    app = services["pacsbot"]
    assert app["environment"]["PACSBOT_DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert app["deploy"]["replicas"] == "${PACSBOT_REPLICAS:-3}"
    assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["command"] == ["pacsbot", "db", "upgrade"]
    assert services["load-balancer"]["profiles"] == ["http"]
    assert "pacsbot:3000" in (DEPLOY / "nginx.conf").read_text()


def test_no_secret_is_written_into_the_examples() -> None:
    for name in ("compose.yml", "env.example", "nginx.conf", "README.md"):
        text = (DEPLOY / name).read_text()
        assert not re.search(r"xox[abp]-[A-Za-z0-9]+-|xapp-[0-9]", text), name
        assert not re.search(r"^(PACSBOT_ENCRYPTION_KEY|POSTGRES_PASSWORD)=\S", text, re.MULTILINE), name
