"""Installing the app: the consent redirect, oauth.v2.access, token rotation."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.slack import SlackAppConfig, SlackStub
from tests.sandbox.fakes import FakeClock

REDIRECT_URI = "https://pacsbot.example/slack/oauth_redirect"


@pytest.fixture
async def fresh_slack(clock: FakeClock) -> SlackStub:
    """A stub with one workspace where the app is not installed yet."""
    stub = SlackStub(clock=clock)
    team = stub.state.add_team("New Customer")
    stub.state.add_user(team, "member")
    stub.state.add_user(team, "boss", email="boss@example.org", is_admin=True)
    return stub


async def consent(slack: SlackStub, state: str = "s-123") -> dict[str, list[str]]:
    query = {"client_id": slack.app.client_id, "scope": "commands,chat:write", "state": state}
    query["redirect_uri"] = REDIRECT_URI
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session,
        session.get(f"{slack.base_url}/oauth/v2/authorize", params=query, allow_redirects=False) as response,
    ):
        assert response.status == 302
        location = response.headers["Location"]
    assert location.startswith(REDIRECT_URI)
    return parse_qs(urlsplit(location).query)


async def test_consent_then_code_exchange_installs_the_bot(fresh_slack: SlackStub) -> None:
    async with fresh_slack as slack:
        redirect = await consent(slack)
        client = AsyncWebClient(base_url=slack.api_url, timeout=5)

        response = await client.oauth_v2_access(
            client_id=slack.app.client_id,
            client_secret=slack.app.client_secret,
            code=redirect["code"][0],
            redirect_uri=REDIRECT_URI,
        )
        bot = AsyncWebClient(token=response["access_token"], base_url=slack.api_url, timeout=5)
        identity = await bot.auth_test()

    [team] = slack.state.teams.values()
    installer = next(user for user in slack.state.users.values() if user.name == "boss")
    assert redirect["state"] == ["s-123"]
    assert response["token_type"] == "bot"
    assert response["team"] == {"id": team.id, "name": "New Customer"}
    assert response["authed_user"] == {"id": installer.id}
    assert response["bot_user_id"] == identity["user_id"]
    assert response["app_id"] == slack.app.app_id
    assert response["enterprise"] is None
    assert response["is_enterprise_install"] is False
    assert "refresh_token" not in response.data
    assert slack.state.installations[team.id].bot_token == response["access_token"]
    # slack_sdk sends the client credentials as HTTP Basic auth.
    assert slack.calls.last("oauth.v2.access").token is None


@pytest.mark.parametrize(
    ("change", "error"),
    [("client_secret", "bad_client_secret"), ("client_id", "invalid_client_id"), ("code", "invalid_code")],
)
async def test_code_exchange_failures(fresh_slack: SlackStub, change: str, error: str) -> None:
    async with fresh_slack as slack:
        redirect = await consent(slack)
        arguments = {
            "client_id": slack.app.client_id,
            "client_secret": slack.app.client_secret,
            "code": redirect["code"][0],
        }
        arguments[change] = "wrong"
        client = AsyncWebClient(base_url=slack.api_url, timeout=5)

        with pytest.raises(SlackApiError) as raised:
            await client.oauth_v2_access(**arguments)

    assert raised.value.response["error"] == error


async def test_a_code_works_once(fresh_slack: SlackStub) -> None:
    async with fresh_slack as slack:
        code = (await consent(slack))["code"][0]
        client = AsyncWebClient(base_url=slack.api_url, timeout=5)
        credentials = {"client_id": slack.app.client_id, "client_secret": slack.app.client_secret}
        await client.oauth_v2_access(code=code, **credentials)

        with pytest.raises(SlackApiError) as raised:
            await client.oauth_v2_access(code=code, **credentials)

    assert raised.value.response["error"] == "invalid_code"


async def test_token_rotation(clock: FakeClock) -> None:
    async with SlackStub(clock=clock, app=SlackAppConfig(token_rotation=True)) as slack:
        team = slack.state.add_team("Rotating")
        admin = slack.state.add_user(team, "admin", is_admin=True)
        code = slack.state.issue_oauth_code(team, admin)
        client = AsyncWebClient(base_url=slack.api_url, timeout=5)
        credentials = {"client_id": slack.app.client_id, "client_secret": slack.app.client_secret}
        first = await client.oauth_v2_access(code=code, **credentials)

        rotated = await client.oauth_v2_access(
            grant_type="refresh_token", refresh_token=first["refresh_token"], **credentials
        )
        clock.advance(first["expires_in"] + 1)
        with pytest.raises(SlackApiError) as expired:
            await AsyncWebClient(token=rotated["access_token"], base_url=slack.api_url, timeout=5).auth_test()
        with pytest.raises(SlackApiError) as reused:
            await client.oauth_v2_access(
                grant_type="refresh_token", refresh_token=first["refresh_token"], **credentials
            )

    assert first["access_token"].startswith("xoxe.xoxb-")
    assert first["refresh_token"].startswith("xoxe-")
    assert first["expires_in"] == 12 * 60 * 60
    assert rotated["access_token"] != first["access_token"]
    assert rotated["refresh_token"] != first["refresh_token"]
    assert expired.value.response["error"] == "token_expired"
    assert reused.value.response["error"] == "invalid_refresh_token"
