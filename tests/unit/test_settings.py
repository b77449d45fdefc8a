"""Settings: every mistake stops start-up with one clear line; secrets stay secret."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from bot.settings import RunMode, SettingsError, load_settings

KEY = Fernet.generate_key().decode()


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    """Keep the developer's own environment and .env out of these tests."""
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_CLIENT_ID",
        "SLACK_CLIENT_SECRET",
        "PACSBOT_ENCRYPTION_KEY",
        "PACSBOT_DATABASE_URL",
        "PACSBOT_POSTDICOM_API_KEY",
        "PACSBOT_POSTDICOM_ACCOUNT_KEY",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(str(tmp_path))


@pytest.mark.parametrize(
    ("values", "mode"),
    [
        ({}, RunMode.SANDBOX),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}, RunMode.HTTP_SINGLE),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}, RunMode.SOCKET),
        (
            {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "c", "SLACK_SIGNING_SECRET": "s"},
            RunMode.HTTP_OAUTH,
        ),
    ],
)
def test_the_mode_follows_the_credentials(values: dict[str, str], mode: RunMode) -> None:
    assert load_settings(**values).mode is mode


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ({"SLACK_BOT_TOKEN": "xoxp-user-token"}, "SLACK_BOT_TOKEN must be a bot token starting with xoxb-"),
        ({"SLACK_APP_TOKEN": "xoxb-1"}, "SLACK_APP_TOKEN must be an app-level token starting with xapp-"),
        (
            {"PACSBOT_ENCRYPTION_KEY": "not-a-key"},
            "PACSBOT_ENCRYPTION_KEY holds a key that is not a Fernet key",
        ),
        (
            {"PACSBOT_ENCRYPTION_KEY": f"{KEY},nope"},
            "PACSBOT_ENCRYPTION_KEY holds a key that is not a Fernet key",
        ),
        ({"PACSBOT_DATABASE_URL": "mysql://x"}, "PACSBOT_DATABASE_URL must start with sqlite+aiosqlite://"),
        (
            {"PACSBOT_POSTDICOM_API_KEY": "a"},
            "set both PACSBOT_POSTDICOM_API_KEY and PACSBOT_POSTDICOM_ACCOUNT_KEY",
        ),
        ({"PACSBOT_PORT": "99999"}, "PACSBOT_PORT"),
    ],
)
def test_a_malformed_setting_is_one_line_naming_it(values: dict[str, str], says: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(**values)
    assert says in str(raised.value)
    assert "\n" not in str(raised.value)
    assert "not-a-key" not in str(raised.value)


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET is missing"),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}, "PACSBOT_ENCRYPTION_KEY is missing"),
        ({"SLACK_APP_TOKEN": "xapp-1"}, "SLACK_BOT_TOKEN is missing"),
    ],
)
def test_a_missing_setting_for_the_mode_says_how_to_fix_it(values: dict[str, str], says: str) -> None:
    with pytest.raises(SettingsError, match=says):
        load_settings(**values).require_complete()


def test_secrets_never_show_in_repr() -> None:
    settings = load_settings(
        SLACK_BOT_TOKEN="xoxb-very-secret", SLACK_SIGNING_SECRET="signing-secret", PACSBOT_ENCRYPTION_KEY=KEY
    )
    shown = repr(settings) + str(settings)
    assert "very-secret" not in shown
    assert "signing-secret" not in shown
    assert KEY not in shown


def test_several_encryption_keys_rotate_newest_first() -> None:
    newer = Fernet.generate_key().decode()
    settings = load_settings(PACSBOT_ENCRYPTION_KEY=f" {newer} , {KEY} ")
    assert [key.get_secret_value() for key in settings.encryption_keys()] == [newer, KEY]


def test_the_environment_and_dotenv_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-env")
    with open(".env", "w", encoding="utf-8") as dotenv:
        dotenv.write("SLACK_SIGNING_SECRET=from-dotenv\nPACSBOT_PORT=8080\n")
    settings = load_settings()
    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.get_secret_value() == "xoxb-from-env"
    assert settings.slack_signing_secret is not None
    assert settings.slack_signing_secret.get_secret_value() == "from-dotenv"
    assert settings.port == 8080
