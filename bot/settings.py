"""Every setting of the app, read once from the environment (and a ``.env`` file) and validated.

Nothing else in the code base reads ``os.environ``. Secrets are ``SecretStr`` so that a stray
``repr`` or log line shows ``**********``.
"""

from __future__ import annotations

import enum
from typing import Literal

from cryptography.fernet import Fernet
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.postdicom import DEFAULT_ROUTER_URL


class SettingsError(Exception):
    """A setting is missing or malformed; the message is one line saying which and how to fix it."""


class RunMode(enum.StrEnum):
    """How the app talks to Slack."""

    SOCKET = "socket"
    HTTP_SINGLE = "http-single-workspace"
    HTTP_OAUTH = "http-oauth"
    SANDBOX = "sandbox"


_GENERATE_KEY_HINT = "generate one with: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"


class Settings(BaseSettings):
    """The app's configuration; build it with :func:`load_settings`."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True)

    slack_bot_token: SecretStr | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    slack_app_token: SecretStr | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, validation_alias="SLACK_SIGNING_SECRET")
    slack_client_id: str | None = Field(default=None, validation_alias="SLACK_CLIENT_ID")
    slack_client_secret: SecretStr | None = Field(default=None, validation_alias="SLACK_CLIENT_SECRET")
    slack_redirect_uri: str | None = Field(default=None, validation_alias="SLACK_REDIRECT_URI")
    slack_api_url: str | None = Field(default=None, validation_alias="PACSBOT_SLACK_API_URL")

    database_url: str = Field(
        default="sqlite+aiosqlite:///./pacsbot.db", validation_alias="PACSBOT_DATABASE_URL"
    )
    encryption_key: SecretStr | None = Field(default=None, validation_alias="PACSBOT_ENCRYPTION_KEY")

    postdicom_router_url: str = Field(
        default=DEFAULT_ROUTER_URL, validation_alias="PACSBOT_POSTDICOM_ROUTER_URL"
    )
    postdicom_api_key: SecretStr | None = Field(default=None, validation_alias="PACSBOT_POSTDICOM_API_KEY")
    postdicom_account_key: SecretStr | None = Field(
        default=None, validation_alias="PACSBOT_POSTDICOM_ACCOUNT_KEY"
    )
    postdicom_timeout_seconds: float = Field(default=30.0, gt=0, validation_alias="PACSBOT_POSTDICOM_TIMEOUT")
    postdicom_upload_sockets: int = Field(
        default=4, ge=1, le=32, validation_alias="PACSBOT_POSTDICOM_UPLOAD_SOCKETS"
    )
    # One deployment serves every workspace that installs the app: a client unused this long is
    # closed (and reopened by the next request), and at most this many stay open at once.
    postdicom_idle_seconds: float = Field(
        default=600.0, gt=0, validation_alias="PACSBOT_POSTDICOM_IDLE_SECONDS"
    )
    postdicom_max_clients: int = Field(default=400, ge=1, validation_alias="PACSBOT_POSTDICOM_MAX_CLIENTS")

    host: str = Field(default="0.0.0.0", validation_alias="PACSBOT_HOST")  # noqa: S104 - a server inside a container
    port: int = Field(default=3000, ge=1, le=65535, validation_alias="PACSBOT_PORT")
    cache_ttl_seconds: int = Field(default=600, ge=1, validation_alias="PACSBOT_CACHE_TTL")
    shutdown_grace_seconds: float = Field(
        default=20.0, ge=0, validation_alias="PACSBOT_SHUTDOWN_GRACE_SECONDS"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", validation_alias="PACSBOT_LOG_LEVEL"
    )
    log_format: Literal["text", "json"] = Field(default="text", validation_alias="PACSBOT_LOG_FORMAT")

    # --- uploads of DICOM shared in Slack (bot/jobs) ---------------------------------------------
    upload_workers: int = Field(default=4, ge=1, le=64, validation_alias="PACSBOT_UPLOAD_WORKERS")
    upload_workers_per_workspace: int = Field(
        default=2, ge=1, le=64, validation_alias="PACSBOT_UPLOAD_WORKERS_PER_WORKSPACE"
    )
    upload_lease_seconds: float = Field(
        default=60.0, ge=1, le=3600, validation_alias="PACSBOT_UPLOAD_LEASE_SECONDS"
    )
    upload_poll_seconds: float = Field(
        default=2.0, gt=0, le=60, validation_alias="PACSBOT_UPLOAD_POLL_SECONDS"
    )
    # How often each workspace's subscriptions search PostDICOM (one search per distinct filter).
    subscription_poll_seconds: float = Field(
        default=60.0, ge=2, le=86_400, validation_alias="PACSBOT_SUBSCRIPTION_POLL_SECONDS"
    )
    upload_max_file_bytes: int = Field(
        default=2 * 1024**3, ge=1, validation_alias="PACSBOT_UPLOAD_MAX_FILE_BYTES"
    )
    upload_max_expanded_bytes: int = Field(
        default=8 * 1024**3, ge=1, validation_alias="PACSBOT_UPLOAD_MAX_EXPANDED_BYTES"
    )
    upload_max_zip_ratio: float = Field(default=100.0, gt=1, validation_alias="PACSBOT_UPLOAD_MAX_ZIP_RATIO")
    upload_max_zip_members: int = Field(
        default=20_000, ge=1, validation_alias="PACSBOT_UPLOAD_MAX_ZIP_MEMBERS"
    )
    upload_temp_dir: str | None = Field(default=None, validation_alias="PACSBOT_UPLOAD_TEMP_DIR")
    # Upload a zip's stored instances while it downloads; each file's last part waits until the
    # archive is vetted, so a refused zip files nothing, but its other parts have left by then.
    upload_while_downloading: bool = Field(default=True, validation_alias="PACSBOT_UPLOAD_WHILE_DOWNLOADING")
    # A file downloaded to describe it in the ask prompt is kept for the upload that may follow,
    # so it is not downloaded twice; 0 for either setting keeps nothing.
    upload_keep_checked_minutes: float = Field(
        default=30.0, ge=0, le=24 * 60, validation_alias="PACSBOT_UPLOAD_KEEP_CHECKED_MINUTES"
    )
    upload_keep_checked_bytes: int = Field(
        default=2 * 1024**3, ge=0, validation_alias="PACSBOT_UPLOAD_KEEP_CHECKED_BYTES"
    )

    @field_validator("encryption_key")
    @classmethod
    def _fernet_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        keys = [key.strip() for key in value.get_secret_value().split(",") if key.strip()]
        if not keys:
            raise ValueError("is empty")
        for key in keys:
            try:
                Fernet(key.encode())
            except (ValueError, TypeError):
                raise ValueError("holds a key that is not a Fernet key (32 url-safe base64 bytes)") from None
        return SecretStr(",".join(keys))

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @model_validator(mode="after")
    def _complete_pairs(self) -> Settings:
        if (self.postdicom_api_key is None) != (self.postdicom_account_key is None):
            raise ValueError(
                "set both PACSBOT_POSTDICOM_API_KEY and PACSBOT_POSTDICOM_ACCOUNT_KEY, or neither"
            )
        if (self.slack_client_id is None) != (self.slack_client_secret is None):
            raise ValueError("set both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET for OAuth, or neither")
        return self

    @property
    def mode(self) -> RunMode:
        """Tell how the app will talk to Slack, from which credentials are present."""
        if self.slack_app_token is not None:
            return RunMode.SOCKET
        if self.slack_client_id is not None:
            return RunMode.HTTP_OAUTH
        if self.slack_bot_token is not None:
            return RunMode.HTTP_SINGLE
        return RunMode.SANDBOX

    def require_complete(self) -> None:
        """Raise SettingsError unless the credentials for the chosen mode are all there."""
        mode = self.mode
        if mode is RunMode.SOCKET and self.slack_bot_token is None and self.slack_client_id is None:
            raise SettingsError(
                "SLACK_BOT_TOKEN is missing: Socket Mode needs the bot token (xoxb-) next to SLACK_APP_TOKEN"
            )
        if mode in (RunMode.HTTP_SINGLE, RunMode.HTTP_OAUTH) and self.slack_signing_secret is None:
            raise SettingsError(
                "SLACK_SIGNING_SECRET is missing: HTTP mode must verify Slack's signatures "
                "(Basic Information → App Credentials → Signing Secret)"
            )
        if mode is not RunMode.SANDBOX and self.encryption_key is None:
            raise SettingsError(
                f"PACSBOT_ENCRYPTION_KEY is missing: it encrypts stored keys and tokens; {_GENERATE_KEY_HINT}"
            )

    def encryption_keys(self) -> list[SecretStr]:
        """Return the Fernet keys, newest (the one that encrypts) first."""
        if self.encryption_key is None:
            return []
        return [SecretStr(key) for key in self.encryption_key.get_secret_value().split(",")]


def load_settings(**overrides: object) -> Settings:
    """Build the settings once from the environment, turning any error into one clear line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "settings"
        message = first["msg"].removeprefix("Value error, ")
        if where == "PACSBOT_ENCRYPTION_KEY":
            message += f"; {_GENERATE_KEY_HINT}"
        raise SettingsError(f"{where} {message}" if where != "settings" else message) from None
