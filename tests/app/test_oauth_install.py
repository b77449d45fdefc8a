"""OAuth distribution: install through /slack/install, then the new workspace's commands work."""

from __future__ import annotations

import asyncio
import html
import re
import socket
from pathlib import Path

import aiohttp
from cryptography.fernet import Fernet

from bot.app.server import running
from bot.sandbox.slack import SlackStub
from bot.sandbox.slack.payloads import deliver
from bot.settings import load_settings
from tests.app.harness import eventually
from tests.store.databases import temporary_database_url


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_install_over_oauth_stores_an_encrypted_installation_and_serves_the_team(
    tmp_path: Path,
) -> None:
    port = free_port()
    async with SlackStub() as slack, temporary_database_url("sqlite", tmp_path) as database_url:
        team = slack.state.add_team("New Hospital")
        admin = slack.state.add_user(
            team, "nina.admin", real_name="Nina Admin", email="nina@example.org", is_admin=True
        )
        general = slack.state.add_channel(team, "general", members=(admin,))
        settings = load_settings(
            SLACK_CLIENT_ID=slack.app.client_id,
            SLACK_CLIENT_SECRET=slack.app.client_secret,
            SLACK_SIGNING_SECRET=slack.app.signing_secret,
            SLACK_REDIRECT_URI=f"http://127.0.0.1:{port}/slack/oauth_redirect",
            PACSBOT_SLACK_API_URL=slack.api_url,
            PACSBOT_DATABASE_URL=database_url,
            PACSBOT_ENCRYPTION_KEY=Fernet.generate_key().decode(),
        )
        async with running(settings, host="127.0.0.1", port=port) as app, aiohttp.ClientSession() as http:
            async with http.get(f"{app.base_url}/slack/install") as page:
                assert page.status == 200
                body = await page.text()
                state_cookie = page.cookies["slack-app-oauth-state"].value
            authorize_url = html.unescape(re.search(r'href="([^"]*oauth/v2/authorize[^"]*)"', body).group(1))  # type: ignore[union-attr]
            assert authorize_url.startswith(slack.base_url)
            async with http.get(
                f"{authorize_url}&team={team.id}&user={admin.id}", allow_redirects=False
            ) as consent:
                assert consent.status == 302
                callback = consent.headers["Location"]
            # The state cookie is Secure, so a plain-HTTP client would not send it back by itself.
            async with http.get(
                callback, headers={"Cookie": f"slack-app-oauth-state={state_cookie}"}
            ) as finished:
                assert finished.status in (200, 302), await finished.text()

            installations = app.services.store.installations
            assert installations is not None
            bot = await installations.async_find_bot(enterprise_id=None, team_id=team.id)
            assert bot is not None
            assert bot.bot_token == slack.state.installations[team.id].bot_token
            raw = await asyncio.to_thread(Path(database_url.removeprefix("sqlite+aiosqlite:///")).read_bytes)
            assert bot.bot_token.encode() not in raw

            command = slack.payloads.slash_command(user=admin, channel=general, text="help")
            answer = await deliver(app.events_url, command.signed(slack.app.signing_secret))
            assert answer.status == 200
            await eventually(lambda: slack.state.ephemeral_for(admin), what="help for the new workspace")
            # Authorizations are cached: later requests make no auth.test of their own.
            checks_after_first = slack.calls.count("auth.test")
            second = slack.payloads.slash_command(user=admin, channel=general, text="help")
            await deliver(app.events_url, second.signed(slack.app.signing_secret))
            await eventually(lambda: len(slack.state.ephemeral_for(admin)) == 2, what="the second answer")
            assert slack.calls.count("auth.test") == checks_after_first


async def test_bad_and_stale_signatures_are_refused(tmp_path: Path) -> None:
    async with SlackStub() as slack, temporary_database_url("sqlite", tmp_path) as database_url:
        from bot.sandbox.slack.demo import seed_demo_workspace

        demo = seed_demo_workspace(slack.state)
        settings = load_settings(
            SLACK_BOT_TOKEN=demo.installation.bot_token,
            SLACK_SIGNING_SECRET=slack.app.signing_secret,
            PACSBOT_SLACK_API_URL=slack.api_url,
            PACSBOT_DATABASE_URL=database_url,
            PACSBOT_ENCRYPTION_KEY=Fernet.generate_key().decode(),
        )
        async with running(settings, host="127.0.0.1", port=0) as app:
            command = slack.payloads.slash_command(user=demo.member, channel=demo.general, text="help")
            for signing in ({"bad_signature": True}, {"stale": True}):
                answer = await deliver(app.events_url, command.signed(slack.app.signing_secret, **signing))
                assert answer.status == 401
            assert not slack.state.ephemeral_for(demo.member)
