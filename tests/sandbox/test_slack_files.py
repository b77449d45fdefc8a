"""File uploads, their events, files.info and the authenticated file host."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.slack import FILE_DOWNLOAD, DemoWorkspace, SlackStub, seed_demo_workspace

DICOM_LIKE = b"\x00" * 128 + b"DICM" + b"\x02\x00\x00\x00UL\x04\x00"
TIMEOUT = aiohttp.ClientTimeout(total=5)


async def download(url: str, token: str | None) -> tuple[int, str, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        aiohttp.ClientSession(timeout=TIMEOUT) as session,
        session.get(url, headers=headers) as response,
    ):
        return response.status, response.content_type, await response.read()


async def test_upload_returns_both_events(slack: SlackStub, workspace: DemoWorkspace) -> None:
    upload = slack.upload_file(
        user=workspace.member,
        channel=workspace.general,
        name="CT_small.dcm",
        content=DICOM_LIKE,
        comment="for PACS",
    )

    message_event = upload.message_event.payload
    file_shared = upload.file_shared_event.payload
    assert message_event["type"] == "event_callback"
    assert message_event["team_id"] == workspace.team.id
    assert message_event["event_id"].startswith("Ev")
    assert message_event["authorizations"][0]["user_id"] == workspace.bot.id
    event = message_event["event"]
    assert (event["type"], event["subtype"], event["text"]) == ("message", "file_share", "for PACS")
    assert event["channel"] == workspace.general.id
    assert event["channel_type"] == "channel"
    [file] = event["files"]
    assert file["id"] == upload.file.id
    assert (file["name"], file["filetype"], file["mimetype"]) == (
        "CT_small.dcm",
        "binary",
        "application/octet-stream",
    )
    assert file["size"] == len(DICOM_LIKE)
    assert file["url_private_download"].startswith(slack.base_url)
    assert file_shared["event"] == {
        "type": "file_shared",
        "channel_id": workspace.general.id,
        "file_id": upload.file.id,
        "user_id": workspace.member.id,
        "file": {"id": upload.file.id},
        "event_ts": file_shared["event"]["event_ts"],
    }
    assert message_event["event_id"] != file_shared["event_id"]
    assert slack.state.channel_history(workspace.general) == [upload.message]


async def test_upload_in_a_thread(slack: SlackStub, workspace: DemoWorkspace) -> None:
    parent = slack.state.post_message(workspace.general, text="send the prior", author=workspace.admin)

    upload = slack.upload_file(
        user=workspace.member,
        channel=workspace.general,
        name="prior.zip",
        content=b"PK\x03\x04",
        thread_ts=parent.ts,
    )

    assert upload.message_event.payload["event"]["thread_ts"] == parent.ts
    assert upload.file.filetype == "zip"
    assert parent.reply_count == 1


async def test_files_info_and_download_with_the_bot_token(
    slack: SlackStub, bot_client: AsyncWebClient, workspace: DemoWorkspace
) -> None:
    upload = slack.upload_file(
        user=workspace.member, channel=workspace.general, name="a.dcm", content=DICOM_LIKE
    )

    info = (await bot_client.files_info(file=upload.file.id))["file"]
    status, content_type, body = await download(
        info["url_private_download"], workspace.installation.bot_token
    )

    assert info["size"] == len(DICOM_LIKE)
    assert info["url_private"].endswith("/a.dcm")
    assert (status, content_type, body) == (200, "application/octet-stream", DICOM_LIKE)
    assert slack.calls.last(FILE_DOWNLOAD).ok


@pytest.mark.parametrize("token", [None, "xoxb-not-a-real-token"])
async def test_download_without_a_valid_token_is_the_html_login_page(
    slack: SlackStub, workspace: DemoWorkspace, token: str | None
) -> None:
    upload = slack.upload_file(
        user=workspace.member, channel=workspace.general, name="a.dcm", content=DICOM_LIKE
    )
    url = upload.message_event.payload["event"]["files"][0]["url_private"]

    status, content_type, body = await download(url, token)

    assert status == 200
    assert content_type == "text/html"
    assert b"<!DOCTYPE html>" in body
    assert b"DICM" not in body
    assert slack.calls.last(FILE_DOWNLOAD).error == "login_page"


async def test_another_workspace_cannot_see_the_file(slack: SlackStub, workspace: DemoWorkspace) -> None:
    other = slack.state.add_team("Other Hospital")
    slack.state.add_user(other, "otto", is_admin=True)
    foreign = slack.state.install_app(other)
    client = AsyncWebClient(token=foreign.bot_token, base_url=slack.api_url, timeout=5)
    upload = slack.upload_file(
        user=workspace.member, channel=workspace.reading_room, name="a.dcm", content=DICOM_LIKE
    )

    with pytest.raises(SlackApiError) as raised:
        await client.files_info(file=upload.file.id)
    status, content_type, _ = await download(slack.state.urls.file_download(upload.file), foreign.bot_token)

    assert raised.value.response["error"] == "file_not_found"
    assert (status, content_type) == (200, "text/html")


async def test_slack_connect_events_carry_stubs_that_files_info_resolves(
    slack: SlackStub, bot_client: AsyncWebClient, workspace: DemoWorkspace
) -> None:
    upload = slack.upload_file(
        user=workspace.partner, channel=workspace.partner_channel, name="outside.dcm", content=DICOM_LIKE
    )

    payload = upload.message_event.payload
    [stub] = payload["event"]["files"]
    info = (await bot_client.files_info(file=stub["id"]))["file"]
    status, _, body = await download(info["url_private_download"], workspace.installation.bot_token)

    assert payload["team_id"] == workspace.team.id
    assert payload["is_ext_shared_channel"] is True
    assert stub["file_access"] == "check_file_info"
    assert "url_private" not in stub
    assert info["user_team"] == workspace.partner_team.id
    assert (status, body) == (200, DICOM_LIKE)


async def test_deleted_file(slack: SlackStub, bot_client: AsyncWebClient, workspace: DemoWorkspace) -> None:
    upload = slack.upload_file(user=workspace.member, channel=workspace.general, name="a.dcm", content=b"x")
    upload.file.deleted = True

    with pytest.raises(SlackApiError) as raised:
        await bot_client.files_info(file=upload.file.id)

    assert raised.value.response["error"] == "file_deleted"


async def test_file_host_failures_on_demand(slack: SlackStub, workspace: DemoWorkspace) -> None:
    upload = slack.upload_file(
        user=workspace.member, channel=workspace.general, name="a.dcm", content=DICOM_LIKE
    )
    slack.faults.server_error(FILE_DOWNLOAD, status=502)

    first = await download(slack.state.urls.file_download(upload.file), workspace.installation.bot_token)
    second = await download(slack.state.urls.file_download(upload.file), workspace.installation.bot_token)

    assert first[0] == 502
    assert second == (200, "application/octet-stream", DICOM_LIKE)


@pytest.mark.parametrize("size", [100, 3 * 1024 * 1024 + 5], ids=["small", "streamed"])
async def test_a_download_can_be_cut_midway_on_demand(
    slack: SlackStub, workspace: DemoWorkspace, size: int
) -> None:
    content = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    upload = slack.upload_file(
        user=workspace.member, channel=workspace.general, name="cd.zip", content=content
    )
    url = slack.state.urls.file_download(upload.file)
    slack.faults.cut_download(after_bytes=size // 2)

    with pytest.raises(aiohttp.ClientPayloadError):
        await download(url, workspace.installation.bot_token)
    again = await download(url, workspace.installation.bot_token)

    assert again[2] == content
    assert [call.error for call in slack.calls.of(FILE_DOWNLOAD)] == ["cut", None]


async def test_a_big_file_streams_out_whole_with_its_length(
    slack: SlackStub, workspace: DemoWorkspace
) -> None:
    content = bytes(range(256)) * (12 * 1024 * 1024 // 256) + b"tail"
    upload = slack.upload_file(
        user=workspace.member, channel=workspace.general, name="cd.zip", content=content
    )
    url = upload.message_event.payload["event"]["files"][0]["url_private_download"]
    headers = {"Authorization": f"Bearer {workspace.installation.bot_token}"}
    async with (
        aiohttp.ClientSession(timeout=TIMEOUT) as session,
        session.get(url, headers=headers) as response,
    ):
        assert response.content_length == len(content)
        assert response.headers["Content-Disposition"] == 'attachment; filename="cd.zip"'
        assert (response.content_type, await response.read()) == ("application/zip", content)


async def test_downloads_can_be_held_to_a_networks_pace() -> None:
    content = bytes(range(256)) * (3 * 1024 * 1024 // 256)
    rate = 6 * 1024 * 1024
    async with SlackStub(file_bytes_per_second=rate) as paced:
        demo = seed_demo_workspace(paced.state)
        upload = paced.upload_file(user=demo.member, channel=demo.general, name="cd.zip", content=content)
        url = upload.message_event.payload["event"]["files"][0]["url_private_download"]
        loop = asyncio.get_running_loop()
        started = loop.time()
        status, _, body = await download(url, demo.installation.bot_token)
        elapsed = loop.time() - started
    assert (status, body) == (200, content)
    # A lower bound only: the pacing sleeps at least this long; nothing here bounds it from above.
    assert elapsed >= 0.9 * len(content) / rate


def test_a_pace_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        SlackStub(file_bytes_per_second=0)
