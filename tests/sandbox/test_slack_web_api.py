"""The stub's Web API, driven by the real slack_sdk AsyncWebClient and by raw aiohttp."""

from __future__ import annotations

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import builtin_async_handlers
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.slack import DemoWorkspace, SlackStub

TIMEOUT = aiohttp.ClientTimeout(total=5)


def section(text: str) -> dict[str, object]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


async def test_auth_test_reports_identity_and_scopes(
    bot_client: AsyncWebClient, workspace: DemoWorkspace
) -> None:
    response = await bot_client.auth_test()

    assert response["team_id"] == workspace.team.id
    assert response["user_id"] == workspace.bot.id
    assert response["bot_id"] == workspace.installation.bot_id
    assert "enterprise_id" not in response.data
    assert set(response.headers["x-oauth-scopes"].split(",")) == set(workspace.installation.scopes)


async def test_auth_test_names_the_enterprise_of_a_grid_workspace(slack: SlackStub) -> None:
    enterprise = slack.state.add_enterprise("Hospital Group")
    team = slack.state.add_team("Grid Radiology", enterprise=enterprise)
    slack.state.add_user(team, "ada", is_admin=True)
    installation = slack.state.install_app(team)
    client = AsyncWebClient(token=installation.bot_token, base_url=slack.api_url, timeout=5)

    response = await client.auth_test()

    assert response["enterprise_id"] == enterprise.id


@pytest.mark.parametrize(
    ("token", "error"),
    [(None, "not_authed"), ("xoxb-unknown", "invalid_auth")],
)
async def test_calls_without_a_valid_token_fail_like_slack(
    slack: SlackStub, token: str | None, error: str
) -> None:
    client = AsyncWebClient(token=token, base_url=slack.api_url, timeout=5)

    with pytest.raises(SlackApiError) as raised:
        await client.auth_test()

    assert raised.value.response.status_code == 200
    assert raised.value.response["error"] == error


async def test_app_level_token_is_only_good_for_socket_mode(
    slack: SlackStub, workspace: DemoWorkspace
) -> None:
    client = AsyncWebClient(token=slack.app.app_token, base_url=slack.api_url, timeout=5)

    with pytest.raises(SlackApiError) as raised:
        await client.auth_test()

    assert raised.value.response["error"] == "not_allowed_token_type"


async def test_revoked_token_after_uninstall(
    slack: SlackStub, workspace: DemoWorkspace, bot_client: AsyncWebClient
) -> None:
    slack.state.uninstall_app(workspace.team)

    with pytest.raises(SlackApiError) as raised:
        await bot_client.auth_test()

    assert raised.value.response["error"] == "token_revoked"


async def test_post_update_thread_and_delete_messages(
    slack: SlackStub, bot_client: AsyncWebClient, workspace: DemoWorkspace
) -> None:
    posted = await bot_client.chat_postMessage(
        channel=workspace.general.id, text="Study ready", blocks=[section("*Study ready*")]
    )
    reply = await bot_client.chat_postMessage(
        channel=workspace.general.id, text="details", thread_ts=posted["ts"]
    )
    updated = await bot_client.chat_update(channel=workspace.general.id, ts=posted["ts"], text="Study shared")

    assert updated["message"]["text"] == "Study shared"
    assert updated["message"]["blocks"][0]["text"]["text"] == "*Study ready*"
    history = slack.state.channel_history(workspace.general)
    assert [m.ts for m in history] == [posted["ts"]]
    assert history[0].reply_count == 1
    assert history[0].edited_ts is not None
    assert [m.ts for m in slack.state.channel_history(workspace.general, thread_ts=posted["ts"])] == [
        reply["ts"]
    ]

    await bot_client.chat_delete(channel=workspace.general.id, ts=reply["ts"])

    assert slack.state.find_message(workspace.general.id, reply["ts"]) is None


async def test_bot_cannot_edit_someone_elses_message(
    slack: SlackStub, bot_client: AsyncWebClient, workspace: DemoWorkspace
) -> None:
    human = slack.state.post_message(workspace.general, text="mine", author=workspace.member)

    with pytest.raises(SlackApiError) as raised:
        await bot_client.chat_update(channel=workspace.general.id, ts=human.ts, text="edited")

    assert raised.value.response["error"] == "cant_update_message"


async def test_post_ephemeral_is_seen_by_one_user(
    slack: SlackStub, bot_client: AsyncWebClient, workspace: DemoWorkspace
) -> None:
    response = await bot_client.chat_postEphemeral(
        channel=workspace.general.id, user=workspace.member.id, text="3 orders found"
    )

    [ephemeral] = slack.state.ephemeral_for(workspace.member)
    assert ephemeral.ts == response["message_ts"]
    assert ephemeral.text == "3 orders found"
    assert slack.state.ephemeral_for(workspace.admin) == []
    assert slack.state.channel_history(workspace.general) == []


async def test_post_ephemeral_to_someone_outside_the_channel(
    slack: SlackStub, bot_client: AsyncWebClient, workspace: DemoWorkspace
) -> None:
    with pytest.raises(SlackApiError) as raised:
        await bot_client.chat_postEphemeral(
            channel=workspace.reading_room.id, user=workspace.owner.id, text="hi"
        )

    assert raised.value.response["error"] == "user_not_in_channel"


@pytest.mark.parametrize(
    ("channel_attribute", "error"),
    [("lounge", "not_in_channel"), ("missing", "channel_not_found")],
)
async def test_posting_where_the_bot_cannot(
    bot_client: AsyncWebClient, workspace: DemoWorkspace, channel_attribute: str, error: str
) -> None:
    channel = workspace.lounge.id if channel_attribute == "lounge" else "C0DOESNOTEXIST"

    with pytest.raises(SlackApiError) as raised:
        await bot_client.chat_postMessage(channel=channel, text="hello")

    assert raised.value.response["error"] == error


async def test_posting_to_a_user_id_opens_a_direct_message(
    slack: SlackStub, bot_client: AsyncWebClient, workspace: DemoWorkspace
) -> None:
    response = await bot_client.chat_postMessage(channel=workspace.member.id, text="Your upload finished")

    channel = slack.state.channels[response["channel"]]
    assert channel.is_im
    assert channel.members == {workspace.member.id, workspace.bot.id}


async def test_get_permalink(bot_client: AsyncWebClient, workspace: DemoWorkspace, slack: SlackStub) -> None:
    posted = await bot_client.chat_postMessage(channel=workspace.general.id, text="hi")

    response = await bot_client.chat_getPermalink(channel=workspace.general.id, message_ts=posted["ts"])

    assert response["permalink"].startswith(slack.base_url)
    assert response["permalink"].endswith(
        f"/archives/{workspace.general.id}/p{posted['ts'].replace('.', '')}"
    )


async def test_too_many_blocks_in_a_message_is_invalid_blocks(
    slack: SlackStub, bot_client: AsyncWebClient, workspace: DemoWorkspace
) -> None:
    with pytest.raises(SlackApiError) as raised:
        await bot_client.chat_postMessage(
            channel=workspace.general.id, text="results", blocks=[section(f"order {n}") for n in range(51)]
        )

    assert raised.value.response["error"] == "invalid_blocks"
    assert raised.value.response["errors"] == ["no more than 50 items allowed [json-pointer:/blocks]"]
    assert slack.state.channel_history(workspace.general) == []


@pytest.mark.parametrize(
    ("block", "pointer"),
    [
        (section("x" * 3001), "/blocks/0/text/text"),
        ({"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}, "/blocks/0/text/text"),
        (
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "text": {"type": "plain_text", "text": "Go"}, "value": "v" * 2001}
                ],
            },
            "/blocks/0/elements/0/value",
        ),
        (
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "order"},
                "accessory": {
                    "type": "overflow",
                    "options": [
                        {"text": {"type": "plain_text", "text": f"o{n}"}, "value": str(n)} for n in range(6)
                    ],
                },
            },
            "/blocks/0/accessory/options",
        ),
        (
            {
                "type": "input",
                "label": {"type": "plain_text", "text": "x"},
                "element": {"type": "plain_text_input"},
            },
            "/blocks/0",
        ),
    ],
)
async def test_block_kit_limits_are_enforced(
    bot_client: AsyncWebClient, workspace: DemoWorkspace, block: dict[str, object], pointer: str
) -> None:
    with pytest.raises(SlackApiError) as raised:
        await bot_client.chat_postMessage(channel=workspace.general.id, text="fallback", blocks=[block])

    assert raised.value.response["error"] == "invalid_blocks"
    assert any(error.endswith(f"[json-pointer:{pointer}]") for error in raised.value.response["errors"])


async def test_message_without_text_or_blocks(bot_client: AsyncWebClient, workspace: DemoWorkspace) -> None:
    # slack_sdk itself warns first; Slack then refuses.
    with (
        pytest.warns(UserWarning, match="`text` argument is missing"),
        pytest.raises(SlackApiError) as raised,
    ):
        await bot_client.chat_postMessage(channel=workspace.general.id, text="")

    assert raised.value.response["error"] == "no_text"


async def test_users_info_hides_email_without_the_email_scope(
    slack: SlackStub, workspace: DemoWorkspace
) -> None:
    with_email = AsyncWebClient(token=workspace.installation.bot_token, base_url=slack.api_url, timeout=5)
    other_team = slack.state.add_team("No Email Scope")
    person = slack.state.add_user(other_team, "sam", email="sam@example.org", is_admin=True)
    narrow = slack.state.install_app(other_team, scopes=["users:read"])
    without_email = AsyncWebClient(token=narrow.bot_token, base_url=slack.api_url, timeout=5)

    admin = (await with_email.users_info(user=workspace.admin.id))["user"]
    hidden = (await without_email.users_info(user=person.id))["user"]

    assert admin["is_admin"] is True
    assert admin["is_owner"] is False
    assert admin["profile"]["email"] == "adam@example.org"
    assert "email" not in hidden["profile"]


async def test_users_info_for_unknown_user(bot_client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as raised:
        await bot_client.users_info(user="U0NOBODY")

    assert raised.value.response["error"] == "user_not_found"


async def test_lookup_by_email(bot_client: AsyncWebClient, workspace: DemoWorkspace) -> None:
    found = await bot_client.users_lookupByEmail(email="RITA@example.org")

    assert found["user"]["id"] == workspace.member.id
    with pytest.raises(SlackApiError) as raised:
        await bot_client.users_lookupByEmail(email="nobody@example.org")
    assert raised.value.response["error"] == "users_not_found"


async def test_missing_scope_names_what_is_needed(slack: SlackStub, workspace: DemoWorkspace) -> None:
    team = slack.state.add_team("Tiny Scopes")
    slack.state.add_user(team, "tim", is_admin=True)
    installation = slack.state.install_app(team, scopes=["commands", "chat:write"])
    client = AsyncWebClient(token=installation.bot_token, base_url=slack.api_url, timeout=5)

    with pytest.raises(SlackApiError) as raised:
        await client.users_lookupByEmail(email="tim@example.org")

    assert raised.value.response["error"] == "missing_scope"
    assert raised.value.response["needed"] == "users:read.email"


async def test_conversations_info(bot_client: AsyncWebClient, workspace: DemoWorkspace) -> None:
    shared = (await bot_client.conversations_info(channel=workspace.partner_channel.id))["channel"]
    private = (await bot_client.conversations_info(channel=workspace.reading_room.id))["channel"]
    lounge = (await bot_client.conversations_info(channel=workspace.lounge.id))["channel"]

    assert shared["is_ext_shared"] is True
    assert private["is_private"] is True
    assert private["is_member"] is True
    assert lounge["is_member"] is False


async def test_team_info_names_the_own_team_and_slack_connect_partners_only(
    bot_client: AsyncWebClient, workspace: DemoWorkspace, slack: SlackStub
) -> None:
    own = (await bot_client.team_info())["team"]
    partner = (await bot_client.team_info(team=workspace.partner_team.id))["team"]
    assert own["id"] == workspace.team.id
    assert partner == {
        "id": workspace.partner_team.id,
        "name": "Partner Imaging Center",
        "domain": workspace.partner_team.domain,
    }
    stranger = slack.state.add_team("Unrelated Clinic")
    with pytest.raises(SlackApiError) as raised:
        await bot_client.team_info(team=stranger.id)
    assert raised.value.response["error"] == "team_not_found"


async def test_conversations_replies_answers_a_thread_parent_first_a_page_at_a_time(
    bot_client: AsyncWebClient, workspace: DemoWorkspace
) -> None:
    channel = workspace.general.id
    parent = (await bot_client.chat_postMessage(channel=channel, text="parent"))["ts"]
    await bot_client.chat_postMessage(channel=channel, text="elsewhere")
    replies = [
        (await bot_client.chat_postMessage(channel=channel, text=f"reply {index}", thread_ts=parent))["ts"]
        for index in range(3)
    ]

    whole = await bot_client.conversations_replies(channel=channel, ts=parent)
    assert [message["text"] for message in whole["messages"]] == ["parent", "reply 0", "reply 1", "reply 2"]
    assert whole["has_more"] is False
    from_a_reply = await bot_client.conversations_replies(channel=channel, ts=replies[1])
    assert from_a_reply["messages"] == whole["messages"]

    first = await bot_client.conversations_replies(channel=channel, ts=parent, limit=3)
    assert [message["ts"] for message in first["messages"]] == [parent, *replies[:2]]
    assert first["has_more"] is True
    rest = await bot_client.conversations_replies(
        channel=channel, ts=parent, limit=3, cursor=first["response_metadata"]["next_cursor"]
    )
    assert [message["ts"] for message in rest["messages"]] == replies[2:]
    assert rest["has_more"] is False
    assert rest["response_metadata"]["next_cursor"] == ""


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"ts": "1.000001"}, "thread_not_found"),
        ({"ts": "PARENT", "cursor": "not-a-cursor"}, "invalid_cursor"),
        ({"ts": "PARENT", "limit": "many"}, "invalid_limit"),
        ({"ts": "PARENT", "channel": "LOUNGE"}, "not_in_channel"),
    ],
)
async def test_conversations_replies_refuses_like_slack(
    bot_client: AsyncWebClient, workspace: DemoWorkspace, arguments: dict[str, str], error: str
) -> None:
    parent = (await bot_client.chat_postMessage(channel=workspace.general.id, text="parent"))["ts"]
    channel = workspace.lounge.id if arguments.get("channel") == "LOUNGE" else workspace.general.id
    values = {
        **arguments,
        "channel": channel,
        "ts": parent if arguments["ts"] == "PARENT" else arguments["ts"],
    }

    with pytest.raises(SlackApiError) as raised:
        await bot_client.api_call("conversations.replies", params=values)

    assert raised.value.response["error"] == error


async def test_raw_get_post_form_and_json_with_token_param(
    slack: SlackStub, workspace: DemoWorkspace
) -> None:
    token = workspace.installation.bot_token
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        async with session.get(
            f"{slack.api_url}users.info", params={"user": workspace.member.id, "token": token}
        ) as response:
            by_get = await response.json()
        async with session.post(
            f"{slack.api_url}chat.postMessage",
            data={"channel": workspace.general.id, "text": "form", "token": token},
        ) as response:
            by_form = await response.json()
        async with session.post(
            f"{slack.api_url}chat.postMessage",
            json={"channel": workspace.general.id, "text": "json"},
            headers={"Authorization": f"Bearer {token}"},
        ) as response:
            by_json = await response.json()

    assert by_get["user"]["id"] == workspace.member.id
    assert by_form["message"]["text"] == "form"
    assert by_json["message"]["text"] == "json"
    assert [(c.http_method, c.token) for c in slack.calls] == [
        ("GET", token),
        ("POST", token),
        ("POST", token),
    ]
    assert "token" not in slack.calls.last("users.info").params


async def test_unknown_method(slack: SlackStub, workspace: DemoWorkspace) -> None:
    async with (
        aiohttp.ClientSession(timeout=TIMEOUT) as session,
        session.post(f"{slack.api_url}chat.scheduleNothing") as response,
    ):
        body = await response.json()

    assert response.status == 200
    assert body == {"ok": False, "error": "unknown_method"}


class RecordedSleeps:
    """Stands in for the asyncio module inside slack_sdk's retry handlers: records sleeps, skips them."""

    def __init__(self) -> None:
        self.durations: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.durations.append(seconds)


async def test_rate_limit_is_retried_after_retry_after(
    slack: SlackStub, workspace: DemoWorkspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    sleeps = RecordedSleeps()
    monkeypatch.setattr(builtin_async_handlers, "asyncio", sleeps)
    client = AsyncWebClient(
        token=workspace.installation.bot_token,
        base_url=slack.api_url,
        timeout=5,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)],
    )
    slack.faults.rate_limit("chat.postMessage", times=2, retry_after_seconds=7)

    response = await client.chat_postMessage(channel=workspace.general.id, text="after the storm")

    assert response["ok"] is True
    assert [int(seconds) for seconds in sleeps.durations] == [7, 7]
    assert [c.status for c in slack.calls.of("chat.postMessage")] == [429, 429, 200]
    assert len(slack.state.channel_history(workspace.general)) == 1


async def test_rate_limit_without_retry_handler_surfaces_429(
    slack: SlackStub, bot_client: AsyncWebClient, workspace: DemoWorkspace
) -> None:
    slack.faults.rate_limit("files.info", retry_after_seconds=30)

    with pytest.raises(SlackApiError) as raised:
        await bot_client.files_info(file="F0")

    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "30"
    assert raised.value.response["error"] == "ratelimited"


async def test_server_errors_on_demand(slack: SlackStub, workspace: DemoWorkspace) -> None:
    no_wait = FixedValueRetryIntervalCalculator(fixed_internal=0.0)
    client = AsyncWebClient(
        token=workspace.installation.bot_token,
        base_url=slack.api_url,
        timeout=5,
        retry_handlers=[AsyncServerErrorRetryHandler(max_retry_count=1, interval_calculator=no_wait)],
    )
    slack.faults.server_error("auth.test", status=503)

    response = await client.auth_test()

    assert response["ok"] is True
    assert [c.status for c in slack.calls.of("auth.test")] == [503, 200]


async def test_injected_api_error_then_normal_service(
    slack: SlackStub, bot_client: AsyncWebClient, workspace: DemoWorkspace
) -> None:
    slack.faults.api_error("chat.postMessage", "fatal_error")

    with pytest.raises(SlackApiError) as raised:
        await bot_client.chat_postMessage(channel=workspace.general.id, text="one")
    await bot_client.chat_postMessage(channel=workspace.general.id, text="two")

    assert raised.value.response["error"] == "fatal_error"
    assert slack.calls.count("chat.postMessage") == 2
    assert [m.text for m in slack.state.channel_history(workspace.general)] == ["two"]


async def test_call_log_counts_per_method(
    slack: SlackStub, bot_client: AsyncWebClient, workspace: DemoWorkspace
) -> None:
    await bot_client.auth_test()
    await bot_client.auth_test()
    await bot_client.users_info(user=workspace.member.id)

    assert slack.calls.counts() == {"auth.test": 2, "users.info": 1}
    assert slack.calls.last("users.info").params == {"user": workspace.member.id}
    assert all(record.ok for record in slack.calls)
    with pytest.raises(LookupError):
        slack.calls.last("chat.postMessage")
