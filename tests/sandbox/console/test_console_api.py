"""The sandbox console's API, used as its page uses it: the real app answers over the real protocols."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import aiohttp
from pydicom.data import get_testdata_file

from bot.sandbox.console import Subscriptions, read_subscriptions
from bot.sandbox.postdicom import DEMO_ACCOUNT_KEY, DEMO_API_KEY
from bot.sandbox.slack.model import Channel
from bot.ui.connect import ACCOUNT_CALLBACK, API_KEY_BLOCK, KEYS_CALLBACK
from tests.sandbox.console.support import ConsoleClient, find_element, message_containing


async def test_the_page_and_the_feed_show_the_workspace_and_no_secret(console: ConsoleClient) -> None:
    async with console.http.get(console.url("/")) as response:
        assert response.status == 200
        page = await response.text()
    assert "/console/static/console.js" in page
    for asset in ("console.js", "console.css"):
        async with console.http.get(console.url(f"/console/static/{asset}")) as response:
            assert response.status == 200
    demo = console.demo
    feed = await console.feed(demo.member.id)
    assert feed["me"]["id"] == demo.member.id
    assert [person["role"] for person in feed["people"]] == ["owner", "admin", "member"]
    assert feed["channel"]["name"] == "general"
    assert {channel["name"] for channel in feed["channels"]} >= {"general", "reading-room"}
    app = console.slack.app
    shown = json.dumps(feed) + page
    for secret in (
        demo.installation.bot_token,
        app.signing_secret,
        app.app_token,
        app.client_secret,
        app.verification_token,
        DEMO_API_KEY,
        DEMO_ACCOUNT_KEY,
    ):
        assert secret not in shown


async def test_a_slash_command_is_answered_to_the_person_who_typed_it_only(console: ConsoleClient) -> None:
    demo = console.demo
    await console.say(demo.member.id, demo.general.id, "/pacs help")
    reply = await console.wait_for(demo.member.id, demo.general.id, message_containing("/pacs search"))
    assert reply["ephemeral"] is True
    assert reply["author"]["name"] == "pacsbot"
    others = await console.feed(demo.owner.id, demo.general.id)
    assert not message_containing("/pacs search")(others)


async def test_a_command_the_app_does_not_own_gets_slackbots_answer(console: ConsoleClient) -> None:
    demo = console.demo
    await console.say(demo.member.id, demo.general.id, "/giphy cat")
    reply = await console.wait_for(
        demo.member.id, demo.general.id, message_containing("is not a valid command")
    )
    assert reply["author"]["name"] == "Slackbot"


async def test_messages_and_thread_replies_land_where_they_were_written(console: ConsoleClient) -> None:
    demo = console.demo
    await console.say(demo.owner.id, demo.general.id, "Morning, *team* <https://example.org|notes>")
    parent = await console.wait_for(demo.member.id, demo.general.id, message_containing("Morning"))
    assert parent["author"]["name"] == "Olivia Owner"
    await console.say(demo.member.id, demo.general.id, "On it", thread_ts=parent["ts"])
    thread = await console.wait_for(
        demo.owner.id, demo.general.id, lambda feed: feed["thread"], thread=parent["ts"]
    )
    assert [reply["text"] for reply in thread["replies"]] == ["On it"]
    timeline = await console.feed(demo.owner.id, demo.general.id)
    assert [m["text"] for m in timeline["messages"]] == [parent["text"]]
    assert timeline["messages"][0]["reply_count"] == 1


async def test_the_clicked_button_pages_search_results_in_place(console: ConsoleClient) -> None:
    demo = console.demo
    await console.say(demo.member.id, demo.general.id, "/pacs search mod:CT")
    results = await console.wait_for(demo.member.id, demo.general.id, message_containing("Orders 1 to 10 of"))
    block_id, _ = find_element(results["blocks"], "Next ▶")
    await console.post(
        "/console/api/action",
        {
            "user": demo.member.id,
            "source": {"channel": demo.general.id, "ts": results["ts"], "ephemeral": True},
            "block_id": block_id,
            "action_id": "search.page.next",
            "selection": {},
            "state": {},
        },
    )
    paged = await console.wait_for(demo.member.id, demo.general.id, message_containing("Orders 11 to 20 of"))
    assert paged["key"] == results["key"]


async def test_a_modal_is_submitted_corrected_updated_and_closed(console: ConsoleClient) -> None:
    demo = console.demo
    admin = demo.admin.id
    await console.say(admin, demo.general.id, "/pacs connect")
    modal = await console.wait_for(admin, demo.general.id, lambda feed: feed["modal"])
    assert modal["callback_id"] == KEYS_CALLBACK
    assert "private_metadata" not in modal

    def keys(api_key: str, account_key: str) -> dict[str, Any]:
        return {"api_key": {"value": {"value": api_key}}, "account_key": {"value": {"value": account_key}}}

    answer = await console.post(
        "/console/api/submit", {"user": admin, "view_id": modal["id"], "values": keys("nope", "nope")}
    )
    assert answer["ok"] is True
    corrected = await console.wait_for(admin, demo.general.id, lambda feed: feed["modal"]["errors"])
    assert API_KEY_BLOCK in corrected
    await console.post(
        "/console/api/submit",
        {"user": admin, "view_id": modal["id"], "values": keys(DEMO_API_KEY, DEMO_ACCOUNT_KEY)},
    )
    account = await console.wait_for(
        admin,
        demo.general.id,
        lambda feed: feed["modal"] if feed["modal"]["callback_id"] == ACCOUNT_CALLBACK else None,
    )
    choices: dict[str, Any] = {}
    for block in account["blocks"]:
        element = block.get("element") or {}
        if element.get("type") == "static_select":
            chosen = element.get("initial_option") or element["options"][0]
            choices[block["block_id"]] = {element["action_id"]: {"selected_option": chosen}}
    assert choices
    await console.post("/console/api/submit", {"user": admin, "view_id": account["id"], "values": choices})
    await console.wait_for(admin, demo.general.id, message_containing("PostDICOM is connected"))
    assert (await console.feed(admin, demo.general.id))["modal"] is None


async def test_closing_a_modal_closes_it(console: ConsoleClient) -> None:
    demo = console.demo
    await console.say(demo.owner.id, demo.general.id, "/pacs connect")
    modal = await console.wait_for(demo.owner.id, demo.general.id, lambda feed: feed["modal"])
    await console.post("/console/api/close", {"user": demo.owner.id, "view_id": modal["id"]})
    assert (await console.feed(demo.owner.id, demo.general.id))["modal"] is None
    await console.post("/console/api/close", {"user": demo.owner.id, "view_id": modal["id"]}, status=400)


async def test_an_ephemeral_message_can_be_dismissed_by_its_reader_only(console: ConsoleClient) -> None:
    demo = console.demo
    await console.say(demo.member.id, demo.general.id, "/pacs help")
    reply = await console.wait_for(demo.member.id, demo.general.id, message_containing("/pacs search"))
    dismiss = {"channel": demo.general.id, "ts": reply["ts"]}
    await console.post("/console/api/dismiss", {"user": demo.owner.id, **dismiss}, status=400)
    await console.post("/console/api/dismiss", {"user": demo.member.id, **dismiss})
    assert not message_containing("/pacs search")(await console.feed(demo.member.id, demo.general.id))


async def test_a_dropped_file_becomes_a_file_share_that_downloads(console: ConsoleClient) -> None:
    demo = console.demo
    content = await asyncio.to_thread(Path(str(get_testdata_file("CT_small.dcm"))).read_bytes)
    form = aiohttp.FormData()
    form.add_field("user", demo.member.id)
    form.add_field("channel", demo.general.id)
    form.add_field("file", content, filename="CT_small.dcm", content_type="application/dicom")
    async with console.http.post(console.url("/console/api/upload"), data=form) as response:
        assert response.status == 200, await response.text()
    feed = await console.feed(demo.member.id, demo.general.id)
    shared = feed["messages"][-1]
    assert shared["subtype"] == "file_share"
    [file] = shared["files"]
    # Slack does not trust the browser's type for DICOM; the stub's guess stands.
    assert (file["name"], file["filetype"]) == ("CT_small.dcm", "binary")
    async with console.http.get(console.url(file["url"])) as response:
        assert await response.read() == content


async def test_people_can_only_write_where_they_are_members(console: ConsoleClient) -> None:
    demo = console.demo
    answer = await console.post(
        "/console/api/message",
        {"user": demo.owner.id, "channel": demo.reading_room.id, "text": "hello"},
        status=400,
    )
    assert "not in that conversation" in answer["error"]
    await console.post(
        "/console/api/message", {"user": demo.bot.id, "channel": demo.general.id, "text": "hi"}, status=400
    )


async def test_the_feed_waits_for_a_change_then_answers_at_once(console: ConsoleClient) -> None:
    demo = console.demo
    version = (await console.feed(demo.member.id, demo.general.id))["version"]

    async def poll() -> tuple[float, dict[str, Any]]:
        started = time.monotonic()
        params = {"user": demo.member.id, "channel": demo.general.id, "since": version}
        async with console.http.get(console.url("/console/api/feed"), params=params) as response:
            return time.monotonic() - started, await response.json()

    waiting = asyncio.create_task(poll())
    await asyncio.sleep(0.5)
    assert not waiting.done()
    await console.say(demo.owner.id, demo.general.id, "news")
    took, feed = await asyncio.wait_for(waiting, 5)
    assert 0.5 <= took < 5
    assert feed["version"] != version
    assert feed["messages"][-1]["text"] == "news"


def test_events_reach_the_app_as_its_manifest_subscribes(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.yml"
    manifest.write_text(
        "settings:\n"
        "  event_subscriptions:\n"
        "    bot_events:\n"
        "      - app_home_opened\n"
        "      - message.channels\n"
        "      - file_shared\n"
        "  interactivity:\n"
        "    is_enabled: true\n"
    )
    subscriptions = read_subscriptions(manifest)
    public = Channel(id="C1", team_id="T1", name="general", created=0)
    private = Channel(id="C2", team_id="T1", name="secret", created=0, is_private=True)
    assert subscriptions.bot_events == frozenset({"app_home_opened", "message.channels", "file_shared"})
    assert subscriptions.wants("message", public)
    assert not subscriptions.wants("message", private)
    assert subscriptions.wants("file_shared", private)
    assert not subscriptions.wants("app_uninstalled", None)
    assert read_subscriptions(tmp_path / "missing.yml") == Subscriptions(None)
    assert Subscriptions(None).wants("message", private)


def test_the_repository_manifest_is_the_one_the_sandbox_reads() -> None:
    from bot.sandbox.console.delivery import default_manifest

    found = default_manifest()
    assert found is not None
    assert found == Path(__file__).resolve().parents[3] / "manifest.yml"
    assert read_subscriptions(found).bot_events


async def test_opening_the_home_tab_shows_what_the_app_publishes(console: ConsoleClient) -> None:
    demo = console.demo
    await console.post("/console/api/home", {"user": demo.member.id})
    home = await console.wait_for(demo.member.id, "", lambda feed: feed["home"], home="1")
    assert "connected to PostDICOM" in json.dumps(home["blocks"])
