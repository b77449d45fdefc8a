"""The PostDICOM emulator's protocol: discovery, sessions, framing, errors, admin API and CLI."""

from __future__ import annotations

import asyncio
import logging
import signal
import struct
import sys
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from yarl import URL

from bot.cli import build_parser
from bot.postdicom import methods
from bot.postdicom.frames import MessageType, RequestFrame, SessionManagementType
from bot.postdicom.jsvalues import to_json
from bot.postdicom.methods import session_payload
from bot.sandbox.postdicom import (
    ADA_UUID,
    BRANCH_INSTITUTION_UUID,
    DEMO_ACCOUNT_KEY,
    DEMO_API_KEY,
    MAIN_INSTITUTION_UUID,
    PostDicomEmulator,
    handlers,
)
from bot.sandbox.postdicom.cli import _fault_settings
from bot.sandbox.postdicom.rawclient import RawClientError, RawSession, RawSocket, service_get

OTHER_KEY = "99999999-9999-4999-8999-999999999999"


@pytest.fixture
async def raw(emulator: PostDicomEmulator, http: aiohttp.ClientSession) -> AsyncIterator[RawSession]:
    session = await RawSession.open(http, emulator.router_url, DEMO_API_KEY, DEMO_ACCOUNT_KEY)
    yield session
    await session.close()


def router(account_key: str = DEMO_ACCOUNT_KEY, address_type: str = "1") -> dict[str, str]:
    return {"RouterKey": account_key, "AddressType": address_type, "AdapterType": "2"}


# --- discovery -----------------------------------------------------------------------------------


async def test_router_hands_out_the_region_service_and_the_websocket(
    emulator: PostDicomEmulator, http: aiohttp.ClientSession
) -> None:
    region = await service_get(http, emulator.router_url, 4, router(), DEMO_API_KEY)
    websocket = await service_get(http, emulator.router_url, 4, router(address_type="2"), DEMO_API_KEY)
    assert region == {"ResponseCode": 1, "ResponseMessage": emulator.region_url}
    assert websocket == {"ResponseCode": 1, "ResponseMessage": emulator.websocket_url}


async def test_router_reads_parameters_the_library_leaves_unencoded(
    emulator: PostDicomEmulator, http: aiohttp.ClientSession
) -> None:
    # The library concatenates raw JSON into the URL; the HTTP stack escapes what it must.
    url = f'{emulator.router_url}?RequestType=4&Parameters={{"RouterKey":"{DEMO_ACCOUNT_KEY}","AddressType":"1","AdapterType":"2"}}&ClientUniqueId={DEMO_API_KEY}&Cache=1'
    async with http.get(URL(url)) as reply:
        assert reply.status == 200
        assert await reply.json() == {"ResponseCode": 1, "ResponseMessage": emulator.region_url}


async def test_region_service_makes_a_new_api_session_each_time(
    emulator: PostDicomEmulator, http: aiohttp.ClientSession
) -> None:
    parameters = {"TransactionType": "3", "AccountKey": DEMO_ACCOUNT_KEY, "ApiKey": DEMO_API_KEY}
    first = await service_get(http, emulator.region_url, 7, parameters, DEMO_API_KEY)
    second = await service_get(http, emulator.region_url, 7, parameters, DEMO_API_KEY)
    assert first["ResponseCode"] == second["ResponseCode"] == 1
    assert first["ResponseMessage"] != second["ResponseMessage"]
    assert {first["ResponseMessage"], second["ResponseMessage"]} <= set(emulator.state.sessions)


@pytest.mark.parametrize(
    ("path", "request_type", "parameters"),
    [
        ("router", 4, router(OTHER_KEY)),
        ("router", 4, router(address_type="3")),
        ("router", 5, router()),
        ("region", 7, {"TransactionType": "3", "AccountKey": OTHER_KEY, "ApiKey": DEMO_API_KEY}),
        ("region", 7, {"TransactionType": "3", "AccountKey": DEMO_ACCOUNT_KEY, "ApiKey": OTHER_KEY}),
        ("region", 7, {"TransactionType": "1", "AccountKey": DEMO_ACCOUNT_KEY, "ApiKey": DEMO_API_KEY}),
        ("region", 4, {"TransactionType": "3", "AccountKey": DEMO_ACCOUNT_KEY, "ApiKey": DEMO_API_KEY}),
    ],
)
async def test_unknown_keys_and_requests_are_refused_with_a_message(
    emulator: PostDicomEmulator,
    http: aiohttp.ClientSession,
    path: str,
    request_type: int,
    parameters: dict[str, str],
) -> None:
    base = emulator.router_url if path == "router" else emulator.region_url
    envelope = await service_get(http, base, request_type, parameters, DEMO_API_KEY)
    assert envelope["ResponseCode"] != 1
    assert isinstance(envelope["ResponseMessage"], str)
    assert envelope["ResponseMessage"]


async def test_broken_parameters_json_is_refused_not_crashed(
    emulator: PostDicomEmulator, http: aiohttp.ClientSession
) -> None:
    async with http.get(emulator.router_url, params={"RequestType": "4", "Parameters": "{nope"}) as reply:
        assert reply.status == 200
        envelope = await reply.json()
    assert envelope["ResponseCode"] != 1
    assert isinstance(envelope["ResponseMessage"], str)


# --- sessions ------------------------------------------------------------------------------------


async def test_create_api_session_returns_users_with_their_institutions(raw: RawSession) -> None:
    users = {user["UserUuid"]: user for user in raw.account["UserList"]}
    assert len(users) == 3
    ada = users[ADA_UUID]
    assert (ada["FullName"], ada["UserName"]) == ("Ada Radiologist", "ada")
    assert ada["InstitutionList"] == [
        {"InstitutionUuid": MAIN_INSTITUTION_UUID, "InstitutionName": "Main"},
        {"InstitutionUuid": BRANCH_INSTITUTION_UUID, "InstitutionName": "Branch Clinic"},
    ]


async def test_each_request_type_is_answered_with_its_response_type(
    emulator: PostDicomEmulator, raw: RawSession
) -> None:
    session = RequestFrame(
        MessageType.SESSION_MANAGEMENT_REQUEST,
        raw.next_id(),
        SessionManagementType.CREATE_API_SESSION,
        session_payload(raw.session_uuid, raw.api_key),
    )
    general = RequestFrame(
        MessageType.GENERAL_REQUEST,
        raw.next_id(),
        methods.get_user_list(ADA_UUID).management_type,
        methods.get_user_list(ADA_UUID).payload(raw.api_key, raw.account_key),
    )
    upload = RequestFrame(
        MessageType.FILE_UPLOAD_REQUEST,
        raw.next_id(),
        1,
        to_json(
            {
                "UserUuid": ADA_UUID,
                "InstitutionUuid": MAIN_INSTITUTION_UUID,
                "TotalFileSize": 1.5,
                "UploaderUuid": ADA_UUID,
                "UploaderName": "Ada Radiologist - API",
                "ApiKey": raw.api_key,
                "AccountKey": raw.account_key,
            }
        ),
        b"",
        ADA_UUID,
    )
    replies = [await raw.main.request(frame) for frame in (session, general, upload)]
    assert [reply.message_type for reply in replies] == [4, 18, 6]
    assert [reply.management_type for reply in replies] == [4, 34, 1]
    assert all(reply.is_success for reply in replies)
    initialize = replies[2].json()
    assert initialize["ResponseCode"] == 1
    assert initialize["SessionUniqueUuid"] in emulator.uploads.sessions


async def test_upload_replies_can_be_type_24(http: aiohttp.ClientSession) -> None:
    async with PostDicomEmulator(upload_response_type=24) as emulator:
        raw = await RawSession.open(http, emulator.router_url, DEMO_API_KEY, DEMO_ACCOUNT_KEY)
        frame = RequestFrame(
            MessageType.FILE_UPLOAD_REQUEST,
            raw.next_id(),
            1,
            to_json(
                {
                    "UserUuid": ADA_UUID,
                    "InstitutionUuid": MAIN_INSTITUTION_UUID,
                    "ApiKey": DEMO_API_KEY,
                    "AccountKey": DEMO_ACCOUNT_KEY,
                }
            ),
            b"",
            ADA_UUID,
        )
        reply = await raw.main.request(frame)
        await raw.close()
    assert reply.message_type == 24
    assert reply.json()["ResponseCode"] == 1


async def test_requests_before_create_api_session_get_an_error_reply(
    emulator: PostDicomEmulator, http: aiohttp.ClientSession
) -> None:
    raw = await RawSession.open(
        http, emulator.router_url, DEMO_API_KEY, DEMO_ACCOUNT_KEY, create_api_session=False
    )
    try:
        refused = await raw.general(methods.get_user_list(ADA_UUID))
        assert refused["ResponseCode"] != 1
        assert "CreateApiSession" in refused["ResponseMessage"]["Message"]
        assert (await raw.session_request(raw.main, SessionManagementType.CREATE_API_SESSION))[
            "ResponseCode"
        ] == 1
        answered = await raw.general(methods.get_user_list(ADA_UUID))
        assert answered["ResponseCode"] == 1
        assert answered["ResponseMessage"]["Success"] is True
    finally:
        await raw.close()


async def test_register_session_makes_an_upload_socket_only(raw: RawSession) -> None:
    upload = await raw.upload_socket()
    initialized = await raw.upload(
        1, {"UserUuid": ADA_UUID, "InstitutionUuid": MAIN_INSTITUTION_UUID}, user_uuid=ADA_UUID, socket=upload
    )
    assert initialized["ResponseCode"] == 1
    general = await raw.general(methods.get_user_list(ADA_UUID), socket=upload)
    assert general["ResponseCode"] != 1
    assert "upload" in general["Message"]


async def test_session_frames_are_refused_for_unknown_sessions_and_keys(raw: RawSession) -> None:
    socket = await RawSocket.connect(raw.http, raw.websocket_url)
    raw.sockets.append(socket)
    cases = [
        session_payload("12345678-1234-4234-8234-123456789012", raw.api_key),
        session_payload(raw.session_uuid, OTHER_KEY),
        b'{"SessionUuid":7}',
    ]
    for payload in cases:
        frame = RequestFrame(MessageType.SESSION_MANAGEMENT_REQUEST, raw.next_id(), 4, payload)
        reply = (await socket.request(frame)).json()
        assert reply["ResponseCode"] != 1
        assert isinstance(reply["ResponseMessage"], str)
    frame = RequestFrame(MessageType.SESSION_MANAGEMENT_REQUEST, raw.next_id(), 1, b"{}")
    assert (await socket.request(frame)).json()["ResponseCode"] != 1


async def test_a_socket_for_an_unknown_api_key_is_refused_but_stays_open(
    emulator: PostDicomEmulator, http: aiohttp.ClientSession, raw: RawSession
) -> None:
    socket = await RawSocket.connect(http, f"{emulator.websocket_url}/?ClientUniqueId={OTHER_KEY}")
    try:
        frame = RequestFrame(3, 1, 4, session_payload(raw.session_uuid, DEMO_API_KEY))
        first = (await socket.request(frame)).json()
        second = (await socket.request(RequestFrame(17, 2, 34, b"{}"))).json()
    finally:
        await socket.close()
    assert first["ResponseCode"] != 1
    assert second["ResponseCode"] != 1


async def test_general_requests_with_other_keys_are_refused(raw: RawSession) -> None:
    call = methods.get_user_list(ADA_UUID)
    for api_key, account_key in ((OTHER_KEY, DEMO_ACCOUNT_KEY), (DEMO_API_KEY, OTHER_KEY)):
        reply = await raw.general_json(call.management_type, call.payload(api_key, account_key))
        assert reply["ResponseCode"] != 1
        assert reply["ResponseMessage"]["Success"] is False
    assert (await raw.general_json(34, to_json({"UserUuid": ADA_UUID})))["ResponseCode"] != 1


# --- malformed frames ----------------------------------------------------------------------------


def _header(message_type: int, message_id: int, management_type: int) -> bytes:
    return struct.pack("<HIi", message_type, message_id, management_type)


@pytest.mark.parametrize(
    ("data", "requested_id"),
    [
        (b"", 0),
        (b"\x11\x00", 0),
        (_header(17, 41, 1)[:7], 41),
        (_header(17, 42, 1) + struct.pack("<i", 100) + b"{}", 42),
        (_header(99, 43, 1) + struct.pack("<i", 2) + b"{}", 43),
        (_header(17, 44, 1) + struct.pack("<i", 2) + b"{}" + b"\x00\x01\x02", 44),
        (_header(23, 45, 3) + struct.pack("<i", 2) + b"{}" + struct.pack("<i", 9) + b"abc", 45),
        (_header(17, 46, 1) + struct.pack("<i", 5) + b"{nope", 46),
        (_header(17, 47, 1) + struct.pack("<i", 2) + b"[]", 47),
        (_header(17, 48, 1) + struct.pack("<i", 2) + b"\xff\xfe", 48),
        (_header(3, 49, 4) + struct.pack("<i", 4) + b"null", 49),
        (_header(17, 50, 1) + struct.pack("<i", 200_000) + b"[" * 200_000 + b"\x00", 50),
    ],
)
async def test_malformed_frames_get_an_error_reply_and_the_socket_stays_up(
    emulator: PostDicomEmulator, raw: RawSession, data: bytes, requested_id: int
) -> None:
    reply = await raw.main.exchange(data)
    result = reply.json()
    assert reply.requested_id == requested_id
    assert reply.message_type in (4, 6, 18)
    assert result["ResponseCode"] != 1
    assert emulator.stats.malformed_frames == 1
    still = await raw.general(methods.get_user_list(ADA_UUID))
    assert still["ResponseMessage"]["Success"] is True


async def test_text_frames_get_an_error_reply(raw: RawSession) -> None:
    reply = await raw.main.exchange("hello")
    assert reply.json()["ResponseCode"] != 1
    assert (await raw.general(methods.get_user_list(ADA_UUID)))["ResponseCode"] == 1


async def test_unknown_general_management_types_are_refused(raw: RawSession) -> None:
    reply = await raw.general_json(
        99, to_json({"UserUuid": ADA_UUID, "ApiKey": DEMO_API_KEY, "AccountKey": DEMO_ACCOUNT_KEY})
    )
    assert reply["ResponseMessage"]["Success"] is False


async def test_unknown_users_are_refused(raw: RawSession) -> None:
    reply = await raw.general(methods.get_user_list(OTHER_KEY))
    assert reply["ResponseCode"] == 1
    assert reply["ResponseMessage"] == {"Success": False, "Message": "User not found."}


# --- admin API -----------------------------------------------------------------------------------


async def admin(
    http: aiohttp.ClientSession, emulator: PostDicomEmulator, method: str, path: str, **options: Any
) -> Any:
    async with http.request(method, f"{emulator.base_url}/_emulator/{path}", **options) as reply:
        return reply.status, await reply.json()


async def test_stats_count_frames_bytes_and_stored_data(
    emulator: PostDicomEmulator, http: aiohttp.ClientSession, raw: RawSession
) -> None:
    await raw.general(methods.get_patient_order_list(ADA_UUID, []))
    await raw.general(methods.get_patient_order_list(ADA_UUID, []))
    status, stats = await admin(http, emulator, "GET", "stats")
    assert status == 200
    assert stats["frames"]["3:CREATE_API_SESSION"] == 1
    assert stats["frames"]["17:SEARCH_PATIENT_ORDER"] == 2
    assert stats["http"] == {"region:7": 1, "router:4": 2}
    assert stats["bytes_received"] > 0
    assert stats["bytes_sent"] > stats["bytes_received"]
    account = emulator.state.account(DEMO_ACCOUNT_KEY)
    assert account is not None
    assert stats["orders"] == sum(1 for _ in account.live_orders())
    assert stats["orders"] > 300
    assert stats["instances"] > stats["orders"]
    assert stats["connections_open"] == 1


async def test_reset_restores_the_seed_and_forgets_sessions(
    emulator: PostDicomEmulator, http: aiohttp.ClientSession, raw: RawSession
) -> None:
    created = await raw.general(methods.create_folder(ADA_UUID, "", "Scratch"))
    folder_uuid = created["ResponseMessage"]["FolderUuid"]
    account = emulator.state.account(DEMO_ACCOUNT_KEY)
    assert account is not None
    assert folder_uuid in account.folders
    status, body = await admin(http, emulator, "POST", "reset")
    assert (status, body) == (200, {"reset": True, "seed": "demo"})
    account = emulator.state.account(DEMO_ACCOUNT_KEY)
    assert account is not None
    assert folder_uuid not in account.folders
    refused = await raw.general(methods.get_user_list(ADA_UUID))
    assert refused["ResponseCode"] != 1
    again = await RawSession.open(http, emulator.router_url, DEMO_API_KEY, DEMO_ACCOUNT_KEY)
    try:
        listing = await again.general(methods.get_folder_list(ADA_UUID, "", "", False))
    finally:
        await again.close()
    names = [folder["FolderName"] for folder in listing["ResponseMessage"]["Folder"]["SubFolderList"]]
    assert names == ["Cases", "Follow-up", "Research"]


async def test_fault_endpoints_set_show_merge_and_clear_plans(
    emulator: PostDicomEmulator, http: aiohttp.ClientSession
) -> None:
    status, plan = await admin(
        http,
        emulator,
        "PUT",
        f"faults/{DEMO_ACCOUNT_KEY}",
        json={"latency": 0.01, "error_rate": 0.5, "error_targets": [1, "23:PROCESS_FILE"]},
    )
    assert status == 200
    assert plan["error_targets"] == ["17:1", "23:3"]
    status, plan = await admin(
        http, emulator, "PATCH", f"faults/{DEMO_ACCOUNT_KEY}", json={"session_ttl": 30}
    )
    assert (plan["latency"], plan["session_ttl"], plan["error_rate"]) == (0.01, 30, 0.5)
    status, plans = await admin(http, emulator, "GET", "faults")
    assert list(plans) == [DEMO_ACCOUNT_KEY]
    assert emulator.faults.plan(DEMO_ACCOUNT_KEY).session_ttl == 30
    status, plan = await admin(http, emulator, "DELETE", f"faults/{DEMO_ACCOUNT_KEY}")
    assert (status, plan["latency"]) == (200, 0.0)
    assert not emulator.faults.plan(DEMO_ACCOUNT_KEY).active
    for body in ({"latency": -1}, {"error_rate": 2}, {"nonsense": 1}, {"error_targets": ["NOT_A_TYPE"]}, [1]):
        status, error = await admin(http, emulator, "PUT", f"faults/{DEMO_ACCOUNT_KEY}", json=body)
        assert status == 400
        assert error["error"]
    status, _ = await admin(http, emulator, "PUT", f"faults/{OTHER_KEY}", json={})
    assert status == 404


async def test_admin_index_names_the_endpoints_and_services_allow_any_origin(
    emulator: PostDicomEmulator, http: aiohttp.ClientSession
) -> None:
    status, index = await admin(http, emulator, "GET", "")
    assert status == 200
    assert index["router_url"] == emulator.router_url
    assert "POST /_emulator/reset" in index["endpoints"]
    async with http.get(emulator.router_url, params={"RequestType": "4", "Parameters": "{}"}) as reply:
        assert reply.headers["Access-Control-Allow-Origin"] == "*"


async def test_accounts_endpoint_lists_keys_users_and_institutions(
    emulator: PostDicomEmulator, http: aiohttp.ClientSession
) -> None:
    status, accounts = await admin(http, emulator, "GET", "accounts")
    assert status == 200
    assert [(item["AccountKey"], item["ApiKey"]) for item in accounts] == [(DEMO_ACCOUNT_KEY, DEMO_API_KEY)]
    assert accounts[0]["UserList"][0]["InstitutionList"][0]["InstitutionName"] == "Main"


# --- command line --------------------------------------------------------------------------------


def test_cli_parses_the_emulator_command_and_its_faults() -> None:
    args = build_parser().parse_args(
        [
            "emulator",
            "--port",
            "0",
            "--seed",
            "empty",
            "--latency",
            "0.1-0.3",
            "--error-rate",
            "0.2",
            "--error-types",
            "1, 23:PROCESS_FILE",
            "--drop-after-frames",
            "5",
            "--session-ttl",
            "60",
            "--bandwidth",
            "1000",
        ]
    )
    assert (args.host, args.port, args.seed, args.upload_response_type) == ("127.0.0.1", 0, "empty", 6)
    assert _fault_settings(args) == {
        "latency": 0.1,
        "latency_jitter": pytest.approx(0.2),
        "error_rate": 0.2,
        "error_targets": ["1", "23:PROCESS_FILE"],
        "drop_after_frames": 5,
        "session_ttl": 60.0,
        "bandwidth": 1000.0,
    }
    with pytest.raises(SystemExit):
        build_parser().parse_args(["emulator", "--latency", "0.5-0.1"])


async def test_the_empty_seed_has_people_but_no_orders(http: aiohttp.ClientSession) -> None:
    async with PostDicomEmulator(seed="empty") as emulator:
        raw = await RawSession.open(http, emulator.router_url, DEMO_API_KEY, DEMO_ACCOUNT_KEY)
        try:
            reply = await raw.general(methods.get_patient_order_list(ADA_UUID, []))
        finally:
            await raw.close()
    assert reply["ResponseMessage"] == {"Success": True, "SearchResultList": []}
    with pytest.raises(ValueError, match="unknown seed"):
        async with PostDicomEmulator(seed="nope"):
            pass


async def test_raw_client_reports_a_missing_reply(raw: RawSession) -> None:
    await raw.main.close()
    with pytest.raises((RawClientError, ConnectionError, RuntimeError)):
        await raw.general(methods.get_user_list(ADA_UUID), wait=1)


async def test_a_handler_bug_answers_an_error_and_logs_no_patient_values(
    raw: RawSession, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(context: object, params: object) -> dict[str, object]:
        raise ValueError("Secret^Patient 1CT1")

    monkeypatch.setitem(handlers.HANDLERS, 34, broken)
    with caplog.at_level(logging.DEBUG, logger="bot.sandbox.postdicom"):
        reply = await raw.general(methods.get_user_list(ADA_UUID))
    assert reply["ResponseCode"] == 0
    assert reply["ResponseMessage"] == {"Success": False, "Message": "Internal server error."}
    assert "ValueError" in caplog.text
    assert "Secret" not in caplog.text
    assert (await raw.general(methods.get_account_flag_dictionary(ADA_UUID)))["ResponseCode"] == 1


async def test_pacsbot_emulator_serves_until_terminated(http: aiohttp.ClientSession) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "emulator", "--port", "0", "--latency", "0.01",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        async with asyncio.timeout(60):
            lines = []
            while not lines or not lines[-1].startswith(b"Press Ctrl+C"):
                lines.append((await process.stdout.readline()).strip())
        printed = dict(line.decode().split(":", 1) for line in lines if b": " in line)
        assert printed["apiKey"].strip() == DEMO_API_KEY
        assert printed["accountKey"].strip() == DEMO_ACCOUNT_KEY
        router_url = printed["router URL"].strip()
        region = await service_get(http, router_url, 4, router(), DEMO_API_KEY)
        assert region["ResponseCode"] == 1
    finally:
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            code = await process.wait()
    assert code == 0
