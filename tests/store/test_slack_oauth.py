"""Slack OAuth persistence: installations round-trip with tokens encrypted at rest; states are used once."""

from __future__ import annotations

import asyncio

from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from sqlalchemy import select

from bot.store import Cipher, Database, EncryptedInstallationStore, OneTimeOAuthStateStore, Store
from bot.store.schema import slack_bots, slack_installations

BOT_TOKEN = "xoxb-1111-2222-plaintextbottoken"
BOT_REFRESH = "xoxe-1-plaintextbotrefreshtoken-" + "r" * 120
USER_TOKEN = "xoxp-1111-2222-plaintextusertoken"
USER_REFRESH = "xoxe-1-plaintextuserrefreshtoken-" + "u" * 120
TOKENS = (BOT_TOKEN, BOT_REFRESH, USER_TOKEN, USER_REFRESH)


def installation(
    *,
    team_id: str | None = "T0001",
    enterprise_id: str | None = None,
    org_wide: bool = False,
    suffix: str = "",
) -> Installation:
    return Installation(
        app_id="A0APP",
        enterprise_id=enterprise_id,
        team_id=team_id,
        team_name="Radiology",
        bot_token=BOT_TOKEN + suffix,
        bot_id="B0BOT",
        bot_user_id="U0BOT",
        bot_scopes="commands,chat:write,files:read",
        bot_refresh_token=BOT_REFRESH + suffix,
        bot_token_expires_in=43_200,
        user_id="U0ADMIN",
        user_token=USER_TOKEN + suffix,
        user_scopes="search:read",
        user_refresh_token=USER_REFRESH + suffix,
        user_token_expires_in=43_200,
        is_enterprise_install=org_wide,
        token_type="bot",
    )


def _installations(store: Store) -> EncryptedInstallationStore:
    assert store.installations is not None
    return store.installations


async def raw_token_values(database: Database) -> list[str]:
    """Return every token column's stored text, as the database holds it."""
    values: list[str] = []
    async with database.engine.connect() as connection:
        for table in (slack_installations, slack_bots):
            columns = [column for column in table.c if column.name.endswith("token")]
            for row in await connection.execute(select(*columns)):
                values.extend(value for value in row if value is not None)
    return values


def test_the_stores_implement_slack_sdks_interfaces(store: Store) -> None:
    assert isinstance(store.installations, AsyncInstallationStore)
    assert isinstance(store.oauth_states, AsyncOAuthStateStore)
    assert Store(store.database, store.cipher).installations is None


async def test_an_installation_round_trips_with_its_tokens(store: Store) -> None:
    saved = installation()
    await _installations(store).async_save(saved)
    found = await _installations(store).async_find_installation(enterprise_id=None, team_id="T0001")
    assert found is not None
    assert (found.bot_token, found.bot_refresh_token, found.user_token, found.user_refresh_token) == TOKENS
    assert (found.team_id, found.app_id, found.bot_user_id, found.user_id) == (
        "T0001",
        "A0APP",
        "U0BOT",
        "U0ADMIN",
    )
    assert found.bot_scopes == ["commands", "chat:write", "files:read"]
    assert found.bot_token_expires_at == saved.bot_token_expires_at
    bot = await _installations(store).async_find_bot(enterprise_id=None, team_id="T0001")
    assert bot is not None
    assert (bot.bot_token, bot.bot_refresh_token) == (BOT_TOKEN, BOT_REFRESH)
    by_user = await _installations(store).async_find_installation(
        enterprise_id=None, team_id="T0001", user_id="U0ADMIN"
    )
    assert by_user is not None
    assert by_user.user_token == USER_TOKEN


async def test_saving_leaves_the_callers_installation_in_plaintext(store: Store) -> None:
    saved = installation()
    await _installations(store).async_save(saved)
    assert (saved.bot_token, saved.bot_refresh_token, saved.user_token, saved.user_refresh_token) == TOKENS


async def test_tokens_are_encrypted_in_the_tables(store: Store, cipher: Cipher) -> None:
    await _installations(store).async_save(installation())
    stored = await raw_token_values(store.database)
    assert len(stored) == 6  # four in the installation row, two in the bot row
    for value in stored:
        assert not any(token in value for token in TOKENS)
        assert not value.startswith(("xox", "xoxe"))
        assert cipher.decrypt_text(value) in TOKENS


async def test_a_rotated_bot_token_saved_alone_is_found_encrypted(store: Store) -> None:
    await _installations(store).async_save(installation())
    rotated = Bot(
        app_id="A0APP",
        team_id="T0001",
        bot_token="xoxb-rotated-token",
        bot_id="B0BOT",
        bot_user_id="U0BOT",
        bot_refresh_token="xoxe-1-rotated-refresh",
        bot_token_expires_in=43_200,
        installed_at=9_999_999_999.0,
    )
    await _installations(store).async_save_bot(rotated)
    bot = await _installations(store).async_find_bot(enterprise_id=None, team_id="T0001")
    assert bot is not None
    assert (bot.bot_token, bot.bot_refresh_token) == ("xoxb-rotated-token", "xoxe-1-rotated-refresh")
    assert "xoxb-rotated-token" not in await raw_token_values(store.database)


async def test_an_org_wide_install_is_found_from_any_team(store: Store) -> None:
    await _installations(store).async_save(installation(team_id=None, enterprise_id="E0001", org_wide=True))
    found = await _installations(store).async_find_installation(
        enterprise_id="E0001", team_id="T0777", is_enterprise_install=True
    )
    assert found is not None
    assert found.bot_token == BOT_TOKEN
    assert found.is_enterprise_install


async def test_unknown_workspaces_find_nothing(store: Store) -> None:
    assert await _installations(store).async_find_installation(enterprise_id=None, team_id="T0404") is None
    assert await _installations(store).async_find_bot(enterprise_id=None, team_id="T0404") is None


async def test_delete_all_removes_only_that_workspace(store: Store) -> None:
    await _installations(store).async_save(installation(team_id="T0001"))
    await _installations(store).async_save(installation(team_id="T0002", suffix="-two"))
    await _installations(store).async_delete_all(enterprise_id=None, team_id="T0001")
    assert await _installations(store).async_find_installation(enterprise_id=None, team_id="T0001") is None
    assert await _installations(store).async_find_bot(enterprise_id=None, team_id="T0001") is None
    other = await _installations(store).async_find_installation(enterprise_id=None, team_id="T0002")
    assert other is not None
    assert other.bot_token == BOT_TOKEN + "-two"


async def test_a_state_is_consumed_once(store: Store) -> None:
    state = await store.oauth_states.async_issue()
    assert await store.oauth_states.async_consume(state) is True
    assert await store.oauth_states.async_consume(state) is False
    assert await store.oauth_states.async_consume("never-issued") is False


async def test_concurrent_redirects_with_one_state_let_exactly_one_through(
    store: Store, second_store: Store
) -> None:
    state = await store.oauth_states.async_issue()
    results = await asyncio.gather(
        *((store if n % 2 else second_store).oauth_states.async_consume(state) for n in range(10))
    )
    assert sorted(results) == [False] * 9 + [True]


async def test_an_expired_state_is_refused(database: Database) -> None:
    expired = OneTimeOAuthStateStore(database, expiration_seconds=-1)
    state = await expired.async_issue()
    assert await expired.async_consume(state) is False


def test_bolt_takes_the_stores_for_oauth(store: Store) -> None:
    settings = AsyncOAuthSettings(
        client_id="1111.2222",
        client_secret="not-a-real-secret",
        scopes=["commands"],
        installation_store=store.installations,
        state_store=store.oauth_states,
    )
    assert settings.installation_store is store.installations
    assert settings.state_store is store.oauth_states
