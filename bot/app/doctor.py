"""``pacsbot doctor``: check the configuration, the database, Slack and PostDICOM; say what to fix.

Every check runs even when an earlier one failed, so one run shows everything that is wrong.
Nothing is changed: the database is not migrated, no client is kept. Output names workspaces,
error codes and exception classes, never a token, a key or a password.
"""

from __future__ import annotations

import argparse
import asyncio
import enum
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TextIO

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from sqlalchemy import Boolean, String, column, select, table
from sqlalchemy.exc import SQLAlchemyError

from bot.app.accounts import access_of
from bot.app.factory import web_client
from bot.app.health import connected_workspaces
from bot.app.postdicom_clients import PostDicomAccess, PostDicomClients
from bot.logs import remember_settings_secrets
from bot.postdicom import AuthenticationError, PostDicomError, RequestTimeout, TransportError
from bot.settings import RunMode, Settings, SettingsError, load_settings
from bot.store import Cipher, Database, DecryptionError, EncryptionKeyError, PostDicomConnection, Store
from bot.store.schema import SLACK_BOTS_TABLE

SLACK_TIMEOUT_SECONDS = 10
_BOTS = table(
    SLACK_BOTS_TABLE,
    column("client_id", String),
    column("enterprise_id", String),
    column("team_id", String),
    column("is_enterprise_install", Boolean),
)
_SLACK_FIXES = {
    "invalid_auth": "the token is wrong: copy it again from the app's OAuth & Permissions page",
    "not_authed": "the token is missing: set it",
    "account_inactive": "the workspace or the app's bot user was deactivated: reinstall the app",
    "token_revoked": "the app was uninstalled or the token revoked: reinstall the app",
    "token_expired": "the token expired: reinstall the app, or turn token rotation off",
    "invalid_token": "the token is malformed: copy it again (xoxb- for bots, xapp- for the app token)",
    "not_allowed_token_type": "this is the wrong kind of token: SLACK_APP_TOKEN must be an app-level xapp- token with connections:write",
}


class Result(enum.StrEnum):
    """How one check went."""

    OK = "ok"
    WARN = "warn"
    FAIL = "FAIL"
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class Check:
    """One row of the report: what was checked, how it went, and what to do about it."""

    name: str
    result: Result
    detail: str
    fix: str = ""


class Doctor:
    """Runs every check for one set of settings and collects the rows."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.checks: list[Check] = []

    def add(self, name: str, result: Result, detail: str, fix: str = "") -> None:
        """Record one check."""
        self.checks.append(Check(name, result, detail, fix))

    @property
    def failed(self) -> bool:
        """Tell whether any check failed."""
        return any(check.result is Result.FAIL for check in self.checks)

    async def run(self) -> None:
        """Run every check in order."""
        cipher = self._configuration()
        database = Database(self.settings.database_url)
        try:
            usable = await self._database(database)
            store = Store(database, cipher, slack_client_id=self.settings.slack_client_id) if cipher else None
            await self._slack(store if usable else None)
            await self._postdicom(store if usable else None)
        finally:
            await database.dispose()

    def _configuration(self) -> Cipher | None:
        settings = self.settings
        mode = settings.mode
        if mode is RunMode.SANDBOX:
            self.add(
                "configuration",
                Result.FAIL,
                "no Slack credentials: pacsbot run would start the sandbox",
                "set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (HTTP), add SLACK_APP_TOKEN for Socket Mode, "
                "or SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_SIGNING_SECRET for OAuth",
            )
        else:
            try:
                settings.require_complete()
            except SettingsError as error:
                self.add("configuration", Result.FAIL, str(error), "set it in the environment or .env")
            else:
                self.add("configuration", Result.OK, f"{mode.value} mode, log level {settings.log_level}")
        if settings.encryption_key is None:
            return None
        try:
            return Cipher(settings.encryption_keys())
        except EncryptionKeyError as error:  # pragma: no cover - the settings validate the keys first
            self.add("encryption key", Result.FAIL, str(error), "run pacsbot db generate-key")
            return None

    async def _database(self, database: Database) -> bool:
        """Check the database and its schema; tell whether the checks that read it can run."""
        if not await database.ping():
            self.add(
                "database",
                Result.FAIL,
                f"cannot reach {database.safe_url}",
                "check PACSBOT_DATABASE_URL, that the server runs and that it accepts this user",
            )
            self.add("migrations", Result.SKIP, "the database cannot be reached")
            return False
        self.add("database", Result.OK, database.safe_url)
        current, head = await database.current_revision(), Database.head_revision()
        if current == head:
            self.add("migrations", Result.OK, f"at revision {current} (the newest)")
        elif current is None:
            self.add(
                "migrations",
                Result.WARN,
                "the database is empty",
                "run pacsbot db upgrade (pacsbot run also migrates when it starts)",
            )
            return False
        else:
            try:
                behind = head is not None and current in _revisions_before(head)
            except Exception:  # pragma: no cover - an unknown revision is the case below
                behind = False
            if behind:
                self.add(
                    "migrations",
                    Result.WARN,
                    f"at revision {current}, the newest is {head}",
                    "run pacsbot db upgrade before starting several replicas",
                )
            else:
                self.add(
                    "migrations",
                    Result.FAIL,
                    f"at revision {current}, which this pacsbot does not know",
                    "the database was migrated by a newer pacsbot: run that version",
                )
        return True

    async def _slack(self, store: Store | None) -> None:
        settings = self.settings
        if settings.mode is RunMode.SANDBOX:
            self.add("slack", Result.SKIP, "no Slack credentials")
            return
        if settings.slack_app_token is not None:
            await self._slack_call(
                "slack app token",
                "apps.connections.open",
                settings.slack_app_token.get_secret_value(),
                lambda client: client.apps_connections_open(app_token=client.token or ""),
            )
        if settings.slack_client_id is None:
            if settings.slack_bot_token is not None:
                await self._slack_auth_test("slack bot token", settings.slack_bot_token.get_secret_value())
            return
        if store is None or store.installations is None:
            self.add("slack installations", Result.SKIP, _NO_STORE)
            return
        try:
            async with store.database.transaction() as session:
                rows = (
                    await session.execute(
                        select(_BOTS.c.enterprise_id, _BOTS.c.team_id, _BOTS.c.is_enterprise_install)
                        .where(_BOTS.c.client_id == settings.slack_client_id)
                        .distinct()
                    )
                ).all()
        except SQLAlchemyError as error:
            self.add(
                "slack installations", Result.FAIL, f"cannot read them ({type(error).__name__})", _READ_FIX
            )
            return
        if not rows:
            self.add(
                "slack installations",
                Result.WARN,
                "no workspace has installed the app yet",
                "open /slack/install on this app's public URL and add it to a workspace",
            )
        for enterprise_id, team_id, is_enterprise_install in rows:
            label = f"slack {team_id or enterprise_id}"
            try:
                bot = await store.installations.async_find_bot(
                    enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=is_enterprise_install
                )
            except DecryptionError:
                self.add(label, Result.FAIL, "its token cannot be decrypted", _DECRYPTION_FIX)
                continue
            if bot is None or not bot.bot_token:
                self.add(label, Result.FAIL, "no bot token stored", "reinstall the app in that workspace")
                continue
            await self._slack_auth_test(label, bot.bot_token)

    async def _slack_auth_test(self, label: str, token: str) -> None:
        await self._slack_call(label, "auth.test", token, lambda client: client.auth_test())

    async def _slack_call(
        self,
        label: str,
        method: str,
        token: str,
        call: Callable[[AsyncWebClient], Awaitable[AsyncSlackResponse]],
    ) -> None:
        client = web_client(self.settings, token)
        client.timeout = SLACK_TIMEOUT_SECONDS
        try:
            answer = await call(client)
        except SlackApiError as error:
            code = str(error.response.get("error") or f"HTTP {error.response.status_code}")
            fix = _SLACK_FIXES.get(code, f"look up {code!r} for {method} in Slack's API documentation")
            self.add(label, Result.FAIL, f"Slack refused {method}: {code}", fix)
            return
        except (SlackClientError, aiohttp.ClientError, TimeoutError, OSError) as error:
            self.add(
                label,
                Result.FAIL,
                f"cannot reach Slack ({type(error).__name__})",
                "check outbound HTTPS to slack.com (proxy, firewall, DNS)",
            )
            return
        detail = method
        if method == "auth.test":
            detail = f"team {answer.get('team') or '?'} ({answer.get('team_id') or '?'}) as {answer.get('user') or '?'}"
        self.add(label, Result.OK, detail)

    async def _postdicom(self, store: Store | None) -> None:
        settings = self.settings
        async with aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=10)
        ) as session:
            clients = PostDicomClients(session, timeout=settings.postdicom_timeout_seconds)
            if settings.postdicom_api_key is not None and settings.postdicom_account_key is not None:
                access = PostDicomAccess(
                    settings.postdicom_api_key,
                    settings.postdicom_account_key,
                    settings.postdicom_router_url,
                    "",
                )
                await self._probe(
                    clients,
                    "postdicom (environment keys)",
                    access,
                    "check PACSBOT_POSTDICOM_API_KEY and PACSBOT_POSTDICOM_ACCOUNT_KEY with PostDICOM",
                )
            if store is None:
                self.add("postdicom workspaces", Result.SKIP, _NO_STORE)
                return
            try:
                connections = await connected_workspaces(store)
            except DecryptionError:
                self.add(
                    "postdicom workspaces", Result.FAIL, "stored keys cannot be decrypted", _DECRYPTION_FIX
                )
                return
            except SQLAlchemyError as error:
                self.add(
                    "postdicom workspaces",
                    Result.FAIL,
                    f"cannot read them ({type(error).__name__})",
                    _READ_FIX,
                )
                return
            if not connections and settings.postdicom_api_key is None:
                self.add(
                    "postdicom workspaces",
                    Result.WARN,
                    "no workspace is connected to PostDICOM yet",
                    "an admin runs /pacs connect in Slack",
                )
            for connection in connections:
                await self._probe(
                    clients,
                    _connection_label(connection),
                    access_of(connection),
                    "check the keys with PostDICOM, then an admin runs /pacs connect again in that workspace",
                )

    async def _probe(
        self, clients: PostDicomClients, label: str, access: PostDicomAccess, keys_fix: str
    ) -> None:
        try:
            async with asyncio.timeout(self.settings.postdicom_timeout_seconds * 2):
                account = await clients.probe(access)
        except AuthenticationError:
            self.add(
                label,
                Result.FAIL,
                "PostDICOM refused the keys",
                keys_fix,
            )
        except (RequestTimeout, TimeoutError):
            self.add(
                label,
                Result.FAIL,
                "PostDICOM did not answer in time",
                "check outbound HTTPS and WebSocket traffic to PostDICOM; raise PACSBOT_POSTDICOM_TIMEOUT",
            )
        except TransportError as error:
            self.add(
                label,
                Result.FAIL,
                f"cannot reach PostDICOM ({error})",
                "check PACSBOT_POSTDICOM_ROUTER_URL and outbound HTTPS and WebSocket traffic",
            )
        except PostDicomError as error:
            self.add(
                label, Result.FAIL, f"PostDICOM failed: {type(error).__name__}", "run pacsbot doctor again"
            )
        else:
            users = len(account.user_list)
            self.add(label, Result.OK, f"initialize() answered: {users} user{'s' if users != 1 else ''}")


_READ_FIX = "run pacsbot db upgrade, then pacsbot doctor again"
_NO_STORE = "needs a reachable, migrated database and the encryption key"
_DECRYPTION_FIX = (
    "PACSBOT_ENCRYPTION_KEY lacks the key they were stored with: put the old key after the new one "
    "(comma-separated), then run pacsbot db rotate-keys"
)


def _connection_label(connection: PostDicomConnection) -> str:
    return f"postdicom {connection.workspace.team_id or connection.workspace.enterprise_id}"


def _revisions_before(head: str) -> set[str]:
    from alembic.script import ScriptDirectory

    from bot.store.database import _alembic_config

    script = ScriptDirectory.from_config(_alembic_config())
    return {revision.revision for revision in script.walk_revisions(base="base", head=head)} - {head}


def render(checks: Sequence[Check]) -> str:
    """Lay the checks out as a table, with each fix under its row."""
    name_width = max([len("CHECK"), *(len(check.name) for check in checks)])
    header = f"{'CHECK':<{name_width}}  RESULT  DETAIL"
    lines = [header, "-" * len(header)]
    for check in checks:
        lines.append(f"{check.name:<{name_width}}  {check.result.value:<6}  {check.detail}")
        if check.fix and check.result is not Result.OK:
            lines.append(f"{'':<{name_width}}  {'':<6}  fix: {check.fix}")
    failures = sum(check.result is Result.FAIL for check in checks)
    warnings = sum(check.result is Result.WARN for check in checks)
    lines.append("")
    lines.append(
        "all checks passed"
        if not failures and not warnings
        else f"{failures} failed, {warnings} warning{'s' if warnings != 1 else ''}"
    )
    return "\n".join(lines) + "\n"


async def diagnose(settings: Settings, out: TextIO) -> int:
    """Run every check, write the table, and return 1 if any check failed, else 0."""
    remember_settings_secrets(settings)
    doctor = Doctor(settings)
    await doctor.run()
    out.write(render(doctor.checks))
    return 1 if doctor.failed else 0


def register(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Attach ``pacsbot doctor``."""
    doctor = subcommands.add_parser(
        "doctor",
        help="check the configuration, database, Slack and PostDICOM",
        description="Check the configuration, the database and its migrations, Slack's auth.test for each "
        "installation and PostDICOM's initialize() for each connected workspace. Exits 1 if anything failed.",
    )
    doctor.set_defaults(handler=_doctor)


def _doctor(_: argparse.Namespace) -> int:
    try:
        settings = load_settings()
    except SettingsError as error:
        sys.stdout.write(
            render([Check("configuration", Result.FAIL, str(error), "fix it in the environment or .env")])
        )
        return 1
    return asyncio.run(diagnose(settings, sys.stdout))
