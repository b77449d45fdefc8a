"""``pacsbot doctor``: one table of what is wrong and how to fix it; exit 1 on any failure."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from slack_sdk.oauth.installation_store.models.installation import Installation

from bot.app.doctor import diagnose
from bot.cli import main
from bot.sandbox.postdicom import DEMO_ACCOUNT_KEY, DEMO_API_KEY, PostDicomEmulator
from bot.sandbox.slack import SlackStub
from bot.sandbox.slack.demo import DemoWorkspace, seed_demo_workspace
from bot.settings import Settings, load_settings
from bot.store import Cipher, Database, Store, WorkspaceRef


@pytest.fixture
async def slack() -> AsyncIterator[tuple[SlackStub, DemoWorkspace]]:
    async with SlackStub() as stub:
        yield stub, seed_demo_workspace(stub.state)


def environment(
    tmp_path: Path, slack: tuple[SlackStub, DemoWorkspace], emulator: PostDicomEmulator, **changes: str
) -> dict[str, str]:
    stub, demo = slack
    values = {
        "SLACK_BOT_TOKEN": demo.installation.bot_token,
        "SLACK_SIGNING_SECRET": stub.app.signing_secret,
        "PACSBOT_SLACK_API_URL": stub.api_url,
        "PACSBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'doctor.db'}",
        "PACSBOT_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "PACSBOT_POSTDICOM_ROUTER_URL": emulator.router_url,
        "PACSBOT_POSTDICOM_TIMEOUT": "2",
    }
    values.update(changes)
    return values


async def migrated_store(settings: Settings) -> Store:
    database = Database(settings.database_url)
    await database.upgrade()
    return Store(database, Cipher(settings.encryption_keys()), slack_client_id=settings.slack_client_id)


async def connect(store: Store, team_id: str, router_url: str, api_key: str = DEMO_API_KEY) -> None:
    await store.connections.save(
        WorkspaceRef(None, team_id),
        api_key=SecretStr(api_key),
        account_key=SecretStr(DEMO_ACCOUNT_KEY),
        router_url=router_url,
        connected_by="U0ADMIN01",
    )


async def run(values: Mapping[str, str]) -> tuple[int, str]:
    out = io.StringIO()
    code = await diagnose(load_settings(**values), out)
    return code, out.getvalue()


def row(report: str, check: str) -> str:
    """Return the report's line for a check, and its fix line if it has one."""
    lines = report.splitlines()
    for index, line in enumerate(lines):
        if line.startswith(check + " "):
            following = lines[index + 1] if index + 1 < len(lines) else ""
            return line + ("\n" + following if following.strip().startswith("fix:") else "")
    raise AssertionError(f"no row for {check!r} in:\n{report}")


async def test_a_healthy_deployment_passes_every_check(
    tmp_path: Path, slack: tuple[SlackStub, DemoWorkspace], emulator: PostDicomEmulator
) -> None:
    values = environment(tmp_path, slack, emulator)
    store = await migrated_store(load_settings(**values))
    await connect(store, slack[1].team.id, emulator.router_url)
    await store.database.dispose()
    code, report = await run(values)
    assert code == 0, report
    assert " ok " in row(report, "configuration")
    assert " ok " in row(report, "database")
    assert "the newest" in row(report, "migrations")
    assert slack[1].team.id in row(report, "slack bot token")
    assert "initialize() answered" in row(report, f"postdicom {slack[1].team.id}")
    assert report.rstrip().endswith("all checks passed")


async def test_every_problem_is_a_row_with_its_fix_and_the_exit_code_is_1(
    tmp_path: Path, slack: tuple[SlackStub, DemoWorkspace], emulator: PostDicomEmulator
) -> None:
    values = environment(tmp_path, slack, emulator, SLACK_BOT_TOKEN="xoxb-not-a-real-token")
    store = await migrated_store(load_settings(**values))
    await connect(store, "T0GOOD001", emulator.router_url)
    await connect(store, "T0BADKEY1", emulator.router_url, DEMO_API_KEY.replace("0f0f0f0f", "1e1e1e1e"))
    await connect(store, "T0NOWHERE", "http://127.0.0.1:9/wssShellService/")
    await store.database.dispose()
    code, report = await run(values)
    assert code == 1
    assert "FAIL" in row(report, "slack bot token")
    assert "invalid_auth" in row(report, "slack bot token")
    assert "fix: the token is wrong" in row(report, "slack bot token")
    assert " ok " in row(report, "postdicom T0GOOD001")
    assert "refused the keys" in row(report, "postdicom T0BADKEY1")
    assert "fix:" in row(report, "postdicom T0BADKEY1")
    assert "cannot reach PostDICOM" in row(report, "postdicom T0NOWHERE")
    assert report.rstrip().endswith("3 failed, 0 warnings")
    assert "xoxb-not-a-real-token" not in report
    assert DEMO_API_KEY not in report


async def test_an_unreachable_database_and_an_empty_one_are_reported(
    tmp_path: Path, slack: tuple[SlackStub, DemoWorkspace], emulator: PostDicomEmulator
) -> None:
    values = environment(
        tmp_path,
        slack,
        emulator,
        PACSBOT_DATABASE_URL="postgresql+asyncpg://pacsbot:hunter2@127.0.0.1:1/none",
    )
    code, report = await run(values)
    assert code == 1
    assert "cannot reach" in row(report, "database")
    assert "hunter2" not in report
    assert " skip " in row(report, "migrations")

    code, report = await run(environment(tmp_path, slack, emulator))
    assert "the database is empty" in row(report, "migrations")
    assert "pacsbot db upgrade" in row(report, "migrations")


async def test_missing_settings_are_failures(
    tmp_path: Path, slack: tuple[SlackStub, DemoWorkspace], emulator: PostDicomEmulator
) -> None:
    values = environment(tmp_path, slack, emulator)
    del values["SLACK_SIGNING_SECRET"]
    code, report = await run(values)
    assert code == 1
    assert "SLACK_SIGNING_SECRET is missing" in row(report, "configuration")


async def test_the_command_line_reads_the_environment(
    tmp_path: Path,
    slack: tuple[SlackStub, DemoWorkspace],
    emulator: PostDicomEmulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in environment(tmp_path, slack, emulator).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    # The stub and the emulator run on this loop; the command runs its own in a thread.
    code = await asyncio.to_thread(main, ["doctor"])
    report = capsys.readouterr().out
    assert code == 0, report
    assert report.startswith("CHECK")

    monkeypatch.setenv("SLACK_BOT_TOKEN", "not-a-bot-token")
    code = await asyncio.to_thread(main, ["doctor"])
    assert code == 1
    assert "must be a bot token" in row(capsys.readouterr().out, "configuration")


async def test_oauth_installations_each_get_an_auth_test(
    tmp_path: Path, slack: tuple[SlackStub, DemoWorkspace], emulator: PostDicomEmulator
) -> None:
    demo = slack[1]
    values = environment(
        tmp_path, slack, emulator, SLACK_CLIENT_ID="111.222", SLACK_CLIENT_SECRET="s3cr3t-client"
    )
    del values["SLACK_BOT_TOKEN"]
    store = await migrated_store(load_settings(**values))
    assert store.installations is not None
    for team_id, token in (
        (demo.team.id, demo.installation.bot_token),
        ("T0GONE001", "xoxb-revoked-long-ago"),
    ):
        await store.installations.async_save(
            Installation(
                app_id="A0APP",
                enterprise_id=None,
                team_id=team_id,
                bot_token=token,
                bot_id="B0BOT",
                bot_user_id="U0BOT",
                user_id="U0ADMIN",
            )
        )
    await store.database.dispose()
    code, report = await run(values)
    assert code == 1
    assert " ok " in row(report, f"slack {demo.team.id}")
    assert "invalid_auth" in row(report, "slack T0GONE001")
    assert "xoxb-revoked-long-ago" not in report


async def test_socket_mode_checks_the_app_token(
    tmp_path: Path, slack: tuple[SlackStub, DemoWorkspace], emulator: PostDicomEmulator
) -> None:
    stub, _ = slack
    values = environment(tmp_path, slack, emulator, SLACK_APP_TOKEN=stub.app.app_token)
    code, report = await run(values)
    assert "apps.connections.open" in row(report, "slack app token")
    assert " ok " in row(report, "slack app token")

    values["SLACK_APP_TOKEN"] = "xapp-1-A0NOTOURS-123-abc"
    code, report = await run(values)
    assert code == 1
    assert "FAIL" in row(report, "slack app token")
