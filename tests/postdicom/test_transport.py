"""The client's transport over real sockets: concurrency, timeouts, drops, refusals."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.postdicom import (
    ApiError,
    AuthenticationError,
    ClientClosed,
    ConnectionLost,
    NotInitialized,
    PostDicomClient,
    PostDicomError,
    ProtocolError,
    RequestTimeout,
    TransportError,
)
from bot.postdicom.frames import GeneralManagementType, MessageType
from tests.postdicom.standin import (
    ACCOUNT_KEY,
    API_KEY,
    USER_UUID,
    GoldenStandIn,
    ReceivedFrame,
    golden_reply,
)

ORDER = "33333333-3333-4333-8333-333333333333"


def search_echo(received: ReceivedFrame) -> dict[str, Any]:
    """Answer a search with one order named after the patient searched for."""
    name = received.json().get("PatientName", "")
    order = {"PatientOrderUuid": ORDER, "PatientName": name, "InstitutionUuid": USER_UUID}
    return {"ResponseCode": 1, "ResponseMessage": {"Success": True, "SearchResultList": [order]}}


def client_for(standin: GoldenStandIn, **options: Any) -> PostDicomClient:
    return PostDicomClient(API_KEY, ACCOUNT_KEY, router_url=standin.router_url, **options)


async def test_two_hundred_concurrent_requests_share_one_socket() -> None:
    async def respond(received: ReceivedFrame) -> dict[str, Any]:
        if received.frame.message_type == MessageType.GENERAL_REQUEST:
            await asyncio.sleep(0.001 * (received.frame.message_id % 7))
            return search_echo(received)
        return golden_reply(received)

    async with GoldenStandIn(responder=respond) as standin, client_for(standin) as client:
        await client.initialize()
        names = [f"PATIENT^{index}" for index in range(200)]
        results = await asyncio.gather(
            *(client.get_patient_order_list(USER_UUID, [], name) for name in names)
        )
        assert [orders[0].patient_name for orders in results] == names
        assert standin.sockets_opened == 1


async def test_replies_arriving_in_reverse_order_reach_their_callers() -> None:
    held: list[tuple[ReceivedFrame, asyncio.Future[None]]] = []

    async def respond(received: ReceivedFrame) -> dict[str, Any]:
        if received.frame.message_type != MessageType.GENERAL_REQUEST:
            return golden_reply(received)
        release = asyncio.get_running_loop().create_future()
        held.append((received, release))
        if len(held) == 3:
            for _, waiting in reversed(held):
                waiting.set_result(None)
                await asyncio.sleep(0.01)
        await release
        return search_echo(received)

    async with GoldenStandIn(responder=respond) as standin, client_for(standin) as client:
        await client.initialize()
        first, second, third = await asyncio.gather(
            *(client.get_patient_order_list(USER_UUID, [], name) for name in ("A", "B", "C"))
        )
        assert [first[0].patient_name, second[0].patient_name, third[0].patient_name] == ["A", "B", "C"]


async def test_a_silent_server_times_out_and_the_socket_stays_usable() -> None:
    silent = {"value": True}

    async def respond(received: ReceivedFrame) -> dict[str, Any] | None:
        if received.frame.message_type == MessageType.GENERAL_REQUEST and silent["value"]:
            return None
        return (
            golden_reply(received)
            if received.frame.message_type != MessageType.GENERAL_REQUEST
            else search_echo(received)
        )

    async with GoldenStandIn(responder=respond) as standin, client_for(standin, timeout=0.3) as client:
        await client.initialize()
        with pytest.raises(RequestTimeout, match="GetPatientOrderList"):
            await client.get_patient_order_list(USER_UUID, [], "X")
        silent["value"] = False
        assert (await client.get_patient_order_list(USER_UUID, [], "Y"))[0].patient_name == "Y"
        assert standin.sockets_opened == 1


async def test_a_dropped_socket_reconnects_and_resends_a_read() -> None:
    dropped = {"count": 0}

    async def respond(received: ReceivedFrame) -> dict[str, Any] | None:
        if received.frame.message_type == MessageType.GENERAL_REQUEST:
            if dropped["count"] == 0:
                dropped["count"] += 1
                await standin.drop_all_sockets()
                return None
            return search_echo(received)
        return golden_reply(received)

    async with GoldenStandIn(responder=respond) as standin, client_for(standin) as client:
        await client.initialize()
        orders = await client.get_patient_order_list(USER_UUID, [], "AFTER^DROP")
        assert orders[0].patient_name == "AFTER^DROP"
        assert standin.sockets_opened == 2
        # The router's answers were kept; only a new API session was asked for.
        assert [entry["request_type"] for entry in standin.http_requests] == ["4", "7", "4", "7"]
        session_frames = [
            f for f in standin.frames if f.frame.message_type == MessageType.SESSION_MANAGEMENT_REQUEST
        ]
        assert len(session_frames) == 2
        assert transport_reconnects(client) == 1


def transport_reconnects(client: PostDicomClient) -> int:
    return client.transport.reconnects


async def test_a_change_in_flight_on_a_dropped_socket_is_not_resent() -> None:
    async def respond(received: ReceivedFrame) -> dict[str, Any] | None:
        if received.frame.management_type == GeneralManagementType.SHARE_PATIENT_ORDER_WITH_URL:
            await standin.drop_all_sockets()
            return None
        if received.frame.message_type == MessageType.GENERAL_REQUEST:
            return search_echo(received)
        return golden_reply(received)

    async with GoldenStandIn(responder=respond) as standin, client_for(standin) as client:
        await client.initialize()
        with pytest.raises(ConnectionLost, match="CreateQuickShareLink"):
            await client.create_quick_share_link(USER_UUID, [ORDER], False)
        shares = [
            f
            for f in standin.frames
            if f.frame.management_type == GeneralManagementType.SHARE_PATIENT_ORDER_WITH_URL
        ]
        assert len(shares) == 1
        # The next request reconnects by itself.
        assert (await client.get_patient_order_list(USER_UUID, [], "NEXT"))[0].patient_name == "NEXT"


async def test_a_server_that_stays_away_ends_in_connection_lost() -> None:
    async with GoldenStandIn() as standin, client_for(standin, timeout=0.5) as client:
        await client.initialize()
        standin.router_status = standin.region_status = 503
        await standin.drop_all_sockets()
        await asyncio.sleep(0.05)
        with pytest.raises(ConnectionLost):
            await client.get_user_list(USER_UUID)


@pytest.mark.parametrize(
    ("status", "body", "error", "text"),
    [
        (
            200,
            {"ResponseCode": 0, "ResponseMessage": "Router key not found."},
            AuthenticationError,
            "Router key not found.",
        ),
        (200, None, ProtocolError, "Unexpected error. Please contact your administrator."),
        (500, {}, TransportError, "HTTP 500"),
    ],
)
async def test_router_refusals_become_typed_errors(
    status: int, body: Any, error: type[Exception], text: str
) -> None:
    async with GoldenStandIn() as standin, client_for(standin) as client:
        standin.router_status = status
        standin.router_body = lambda entry: body
        with pytest.raises(error, match=text):
            await client.initialize()


async def test_a_refused_api_session_is_an_authentication_error() -> None:
    async def respond(received: ReceivedFrame) -> dict[str, Any]:
        return {"ResponseCode": 0, "ResponseMessage": "Api key is not valid."}

    async with GoldenStandIn(responder=respond) as standin, client_for(standin) as client:
        with pytest.raises(AuthenticationError, match=r"Api key is not valid\."):
            await client.initialize()
        assert client.account is None


@pytest.mark.parametrize(
    "api_result",
    [
        {"ResponseCode": 0, "ResponseMessage": "Order not found."},
        {"ResponseCode": 1, "ResponseMessage": {"Success": False, "Message": "Order not found."}},
        {"ResponseCode": "0", "Message": "Order not found."},
    ],
)
async def test_server_refusals_raise_api_error_with_the_servers_words(api_result: dict[str, Any]) -> None:
    async def respond(received: ReceivedFrame) -> dict[str, Any]:
        return (
            api_result
            if received.frame.message_type == MessageType.GENERAL_REQUEST
            else golden_reply(received)
        )

    async with GoldenStandIn(responder=respond) as standin, client_for(standin) as client:
        await client.initialize()
        with pytest.raises(ApiError) as raised:
            await client.delete_order(USER_UUID, USER_UUID, ORDER)
        assert raised.value.server_message == "Order not found."
        assert raised.value.operation == "DeleteOrder"
        assert "Order not found" not in repr(raised.value)


async def test_requests_before_initialize_and_after_close_are_refused() -> None:
    async with GoldenStandIn() as standin:
        client = client_for(standin)
        with pytest.raises(NotInitialized):
            await client.get_user_list(USER_UUID)
        await client.initialize()
        await client.close()
        with pytest.raises(ClientClosed):
            await client.get_user_list(USER_UUID)
        assert not standin.open_sockets


async def test_clients_of_two_accounts_share_nothing() -> None:
    other_api_key = "0f0f0f0f-9999-4abc-8def-0123456789ab"
    async with (
        GoldenStandIn() as standin,
        client_for(standin) as first,
        PostDicomClient(other_api_key, ACCOUNT_KEY, router_url=standin.router_url) as second,
    ):
        await first.initialize()
        await second.initialize()
        await asyncio.gather(first.get_user_list(USER_UUID), second.get_user_list(USER_UUID))
        general = [f for f in standin.frames if f.frame.message_type == MessageType.GENERAL_REQUEST]
        assert {f.socket_index: f.json()["ApiKey"] for f in general} == {0: API_KEY, 1: other_api_key}
        # Each client counts its own MessageIDs, as each library instance does.
        assert sorted(f.frame.message_id for f in general) == [2, 2]


async def test_malformed_keys_are_refused_without_being_quoted() -> None:
    client = PostDicomClient("not-a-key-but-secret", ACCOUNT_KEY, router_url="http://127.0.0.1:9/")
    with pytest.raises(PostDicomError) as raised:
        await client.initialize()
    assert "apiKey" in str(raised.value)
    assert "secret" not in str(raised.value)
    assert "secret" not in repr(client)
    await client.close()
