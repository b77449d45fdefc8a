"""The thin aiohttp layer: PostDICOM's three discovery GETs and its binary WebSockets.

Everything protocol-shaped comes from :mod:`bot.postdicom.frames` and
:mod:`bot.postdicom.methods`; this module only moves bytes, matches replies to requests by
``RequestedId``, applies timeouts and reconnects. URLs carry the API key, so neither URLs nor
aiohttp's own exceptions (which quote them) ever reach a log line or an exception message.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote

import aiohttp
from pydantic import SecretStr
from yarl import URL

from bot.postdicom.errors import (
    ApiError,
    AuthenticationError,
    ClientClosed,
    ConnectionLost,
    FrameError,
    NotInitialized,
    PostDicomError,
    ProtocolError,
    RequestTimeout,
    TransportError,
)
from bot.postdicom.frames import MessageType, RequestFrame, ResponseFrame, SessionManagementType
from bot.postdicom.jsvalues import to_json
from bot.postdicom.methods import response_succeeded, session_payload
from bot.postdicom.models import Account

logger = logging.getLogger(__name__)

DEFAULT_ROUTER_URL = "https://developer.postdicom.com/wssShellService/"
# Search answers for large accounts and multi-part document frames are far above aiohttp's 4 MiB.
MAX_MESSAGE_SIZE = 256 * 1024 * 1024
RECONNECT_DELAYS = (0.0, 0.25, 1.0)


class RequestObserver(Protocol):
    """Told about every request a client makes (for metrics); it must return at once and never raise."""

    def answered(self, operation: str, seconds: float) -> None:
        """Record that PostDICOM answered a request, whatever the answer said, after ``seconds``."""

    def failed(self, operation: str, error: PostDicomError) -> None:
        """Record that a request failed: no answer, a dropped connection, or a refusal."""

    def uploaded(self, byte_count: int) -> None:
        """Record bytes of files sent on an upload socket (frame bytes, as they left)."""


_default_observer: RequestObserver | None = None


def set_default_observer(observer: RequestObserver | None) -> None:
    """Set the observer of every client that was not given one (an app's metrics, process-wide)."""
    # One hook per process, as logging has one root: the app sets it once, before any client.
    global _default_observer
    _default_observer = observer


class SocketClosed(Exception):
    """Internal: the socket a request was waiting on went away."""


def session_expired(reply: ResponseFrame) -> bool:
    """Tell whether a reply refuses a request because the API session is no longer valid."""
    # Cheap test first: most replies are answers, and some are megabytes of search results.
    if b"ession" not in reply.api_result[:4096]:
        return False
    try:
        result = reply.json()
    except ProtocolError:
        return False
    if response_succeeded(result):
        return False
    message = result.get("ResponseMessage")
    texts = [message, result.get("Message"), message.get("Message") if isinstance(message, dict) else None]
    return any(isinstance(text, str) and "session" in text.lower() for text in texts)


class FrameSocket:
    """One PostDICOM WebSocket with any number of requests in flight, replies matched by RequestedId."""

    def __init__(
        self,
        websocket: aiohttp.ClientWebSocketResponse,
        name: str,
        on_sent: Callable[[int], None] | None = None,
    ) -> None:
        self._websocket = websocket
        self._name = name
        self._on_sent = on_sent
        self._pending: dict[int, asyncio.Future[ResponseFrame]] = {}
        self._idle = asyncio.Event()
        self._idle.set()
        self._reader = asyncio.create_task(self._read(), name=f"postdicom-{name}-reader")

    @classmethod
    async def connect(
        cls,
        session: aiohttp.ClientSession,
        url: str,
        name: str,
        *,
        wait_seconds: float,
        on_sent: Callable[[int], None] | None = None,
    ) -> FrameSocket:
        """Open a WebSocket to the region and start reading replies."""
        try:
            async with asyncio.timeout(wait_seconds):
                websocket = await session.ws_connect(
                    URL(url, encoded=True), max_msg_size=MAX_MESSAGE_SIZE, autoping=True
                )
        except TimeoutError:
            raise RequestTimeout(f"no WebSocket connection to PostDICOM within {wait_seconds:g} s") from None
        except aiohttp.ClientError as error:
            raise TransportError(f"cannot open a WebSocket to PostDICOM ({type(error).__name__})") from None
        return cls(websocket, name, on_sent)

    @property
    def closed(self) -> bool:
        """Tell whether the socket can no longer carry requests."""
        return self._reader.done() or self._websocket.closed

    @property
    def in_flight(self) -> int:
        """Count the requests waiting for a reply."""
        return len(self._pending)

    async def request(self, frame: RequestFrame, operation: str, *, wait_seconds: float) -> ResponseFrame:
        """Send one frame and wait for the reply that names its MessageID."""
        if self.closed:
            raise SocketClosed
        reply: asyncio.Future[ResponseFrame] = asyncio.get_running_loop().create_future()
        self._pending[frame.message_id] = reply
        self._idle.clear()
        try:
            async with asyncio.timeout(wait_seconds):
                data = frame.encode()
                try:
                    await self._websocket.send_bytes(data)
                except (ConnectionError, aiohttp.ClientError, RuntimeError):
                    raise SocketClosed from None
                if self._on_sent is not None:
                    self._on_sent(len(data))
                return await reply
        except TimeoutError:
            raise RequestTimeout(f"PostDICOM did not answer {operation} within {wait_seconds:g} s") from None
        finally:
            self._pending.pop(frame.message_id, None)
            if not self._pending:
                self._idle.set()

    async def _read(self) -> None:
        try:
            async for message in self._websocket:
                if message.type is aiohttp.WSMsgType.BINARY:
                    self._dispatch(message.data)
                elif message.type is aiohttp.WSMsgType.TEXT:
                    logger.warning("ignored a text frame on the %s socket", self._name)
                elif message.type is aiohttp.WSMsgType.ERROR:
                    break
        finally:
            for reply in self._pending.values():
                if not reply.done():
                    reply.set_exception(SocketClosed())
            self._pending.clear()
            self._idle.set()

    def _dispatch(self, data: bytes) -> None:
        try:
            frame = ResponseFrame.decode(data)
        except FrameError as error:
            logger.warning("ignored an undecodable frame on the %s socket: %s", self._name, error)
            return
        reply = self._pending.get(frame.requested_id)
        if reply is None or reply.done():
            logger.debug(
                "ignored a reply to unknown message %d on the %s socket", frame.requested_id, self._name
            )
            return
        reply.set_result(frame)

    async def close_when_idle(self, grace_seconds: float) -> None:
        """Close the socket once its requests in flight are answered (or after a grace period)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(grace_seconds):
                await self._idle.wait()
        await self.close()

    async def close(self) -> None:
        """Close the socket; requests still waiting fail as if it had dropped."""
        with contextlib.suppress(Exception):
            await self._websocket.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


@dataclass(frozen=True, slots=True)
class RegionAddresses:
    """The router's two answers for an account: where its region's HTTP service and WebSocket are."""

    service_url: str
    websocket_url: str


class Transport:
    """One account's connection to PostDICOM: discovery, API session, main socket, reconnects.

    Message IDs come from one counter per transport, as the library keeps one per instance.
    """

    def __init__(
        self,
        api_key: SecretStr,
        account_key: SecretStr,
        *,
        router_url: str,
        session: aiohttp.ClientSession,
        timeout: float,
        observer: RequestObserver | None = None,
    ) -> None:
        self._observer = observer
        self._api_key = api_key
        self._account_key = account_key
        self._router_url = router_url
        self._session = session
        self.timeout = timeout
        self._message_ids = itertools.count(1)
        self._addresses: RegionAddresses | None = None
        self._main: FrameSocket | None = None
        self._connect_lock = asyncio.Lock()
        self._closed = False
        self.session_uuid: str | None = None
        self.account: Account | None = None
        self.reconnects = 0
        # One upload at a time per account connection: PostDICOM files plain DICOM parts under the
        # API session, so two uploads at once would mix their FileIndex numbers.
        self.upload_lock = asyncio.Lock()
        self._retiring: set[asyncio.Task[None]] = set()

    @property
    def api_key(self) -> str:
        """Return the API key, for building frames and URLs only."""
        return self._api_key.get_secret_value()

    @property
    def account_key(self) -> str:
        """Return the account key, for building frames only."""
        return self._account_key.get_secret_value()

    @property
    def websocket_url(self) -> str:
        """Return the region WebSocket URL with the client id, as the library composes it."""
        if self._addresses is None:
            raise NotInitialized("initialize() has not run")
        return f"{self._addresses.websocket_url}/?ClientUniqueId={self.api_key}"

    def next_message_id(self) -> int:
        """Return the next MessageID for a frame of this account."""
        return next(self._message_ids) & 0xFFFFFFFF

    async def _service_get(
        self, base_url: str, request_type: int, parameters: dict[str, str], what: str
    ) -> str:
        query = (
            f"?RequestType={request_type}&Parameters={quote(to_json(parameters).decode(), safe='')}"
            f"&ClientUniqueId={quote(self.api_key, safe='')}&Cache={int(time.time() * 1000)}"
        )
        try:
            async with self._session.get(
                URL(base_url + query, encoded=True), timeout=aiohttp.ClientTimeout(total=self.timeout)
            ) as response:
                if response.status != 200:
                    raise TransportError(f"the PostDICOM {what} answered HTTP {response.status}")
                body = await response.read()
        except TimeoutError:
            raise RequestTimeout(f"the PostDICOM {what} did not answer within {self.timeout:g} s") from None
        except aiohttp.ClientError as error:
            raise TransportError(f"cannot reach the PostDICOM {what} ({type(error).__name__})") from None
        try:
            envelope = json.loads(body)
        except ValueError:
            raise ProtocolError(f"the PostDICOM {what} answered with something other than JSON") from None
        if envelope is None:
            raise ProtocolError("Unexpected error. Please contact your administrator.")
        if not isinstance(envelope, dict):
            raise ProtocolError(f"the PostDICOM {what} answered with an unexpected shape")
        message = envelope.get("ResponseMessage")
        if not response_succeeded(envelope):
            raise AuthenticationError(what, str(message), response_code=envelope.get("ResponseCode"))
        if not isinstance(message, str) or not message:
            raise ProtocolError(f"the PostDICOM {what} answered without an address or session")
        return message

    async def _discover(self) -> RegionAddresses:
        if self._addresses is None:
            account_key = self.account_key
            service = await self._service_get(
                self._router_url,
                4,
                {"RouterKey": account_key, "AddressType": "1", "AdapterType": "2"},
                "router",
            )
            self.session_uuid = await self._create_session_uuid(service)
            websocket = await self._service_get(
                self._router_url,
                4,
                {"RouterKey": account_key, "AddressType": "2", "AdapterType": "2"},
                "router",
            )
            self._addresses = RegionAddresses(service, websocket)
        else:
            self.session_uuid = await self._create_session_uuid(self._addresses.service_url)
        return self._addresses

    async def _create_session_uuid(self, service_url: str) -> str:
        parameters = {"TransactionType": "3", "AccountKey": self.account_key, "ApiKey": self.api_key}
        return await self._service_get(service_url, 7, parameters, "region service")

    async def _session_request(
        self, socket: FrameSocket, management_type: SessionManagementType
    ) -> ResponseFrame:
        assert self.session_uuid is not None  # noqa: S101 - set by _discover just before
        frame = RequestFrame(
            MessageType.SESSION_MANAGEMENT_REQUEST,
            self.next_message_id(),
            management_type,
            session_payload(self.session_uuid, self.api_key),
        )
        try:
            return await socket.request(frame, management_type.name, wait_seconds=self.timeout)
        except SocketClosed:
            raise ConnectionLost("the socket closed while the API session was being created") from None

    async def _establish(self) -> Account:
        await self._discover()
        socket = await FrameSocket.connect(
            self._session, self.websocket_url, "main", wait_seconds=self.timeout
        )
        try:
            reply = (await self._session_request(socket, SessionManagementType.CREATE_API_SESSION)).json()
            message = reply.get("ResponseMessage")
            if not response_succeeded(reply) or not isinstance(message, dict):
                raise AuthenticationError(
                    "CreateApiSession", str(message), response_code=reply.get("ResponseCode")
                )
            account = Account.model_validate(message.get("Account") or {})
        except BaseException:
            await socket.close()
            raise
        if self._main is not None:
            await self._main.close()
        self._main = socket
        self.account = account
        return account

    def report_answered(self, operation: str, seconds: float) -> None:
        """Tell the observer, if any, that a request was answered."""
        observer = self._observer or _default_observer
        if observer is not None:
            observer.answered(operation, seconds)

    def report_failure(self, operation: str, error: PostDicomError) -> None:
        """Tell the observer, if any, that a request failed (callers use it for refusals in answers)."""
        observer = self._observer or _default_observer
        if observer is not None:
            observer.failed(operation, error)

    def _report_uploaded(self, byte_count: int) -> None:
        observer = self._observer or _default_observer
        if observer is not None:
            observer.uploaded(byte_count)

    async def connect(self) -> Account:
        """Run the library's Initialize: discovery, API session, main socket, CreateApiSession."""
        async with self._connect_lock:
            self._check_open()
            if self._main is not None and not self._main.closed and self.account is not None:
                return self.account
            started = time.perf_counter()
            try:
                account = await self._establish()
            except PostDicomError as error:
                self.report_failure("Initialize", error)
                raise
            self.report_answered("Initialize", time.perf_counter() - started)
            return account

    async def _main_socket(self) -> FrameSocket:
        socket = self._main
        if socket is not None and not socket.closed:
            return socket
        async with self._connect_lock:
            self._check_open()
            if self._main is not None and not self._main.closed:
                return self._main
            if self.account is None:
                raise NotInitialized("call initialize() before any other request")
            last_error: Exception | None = None
            for delay in RECONNECT_DELAYS:
                await asyncio.sleep(delay)
                try:
                    await self._establish()
                except AuthenticationError:
                    raise
                except (TransportError, ProtocolError, ApiError) as error:
                    # The cached router answers may be what is stale: ask the router again next time.
                    self._addresses = None
                    last_error = error
                    continue
                self.reconnects += 1
                logger.info("reconnected to PostDICOM (reconnect %d)", self.reconnects)
                assert self._main is not None  # noqa: S101 - _establish sets it
                return self._main
            raise ConnectionLost(
                "PostDICOM cannot be reached again after the connection dropped"
            ) from last_error

    async def request(
        self,
        build: Callable[[int], RequestFrame],
        *,
        operation: str,
        repeatable: bool,
        wait_seconds: float | None = None,
    ) -> ResponseFrame:
        """Send a frame on the main socket; after a drop, resend it only if it is safe to repeat."""
        started = time.perf_counter()
        try:
            reply = await self._request(build, operation, repeatable, wait_seconds)
        except PostDicomError as error:
            self.report_failure(operation, error)
            raise
        self.report_answered(operation, time.perf_counter() - started)
        return reply

    async def _request(
        self,
        build: Callable[[int], RequestFrame],
        operation: str,
        repeatable: bool,
        wait_seconds: float | None,
    ) -> ResponseFrame:
        for attempt in itertools.count():
            socket = await self._main_socket()
            started = time.perf_counter()
            try:
                frame = build(self.next_message_id())
                reply = await socket.request(frame, operation, wait_seconds=wait_seconds or self.timeout)
            except SocketClosed:
                if not repeatable or attempt >= len(RECONNECT_DELAYS):
                    raise ConnectionLost(f"the connection dropped while {operation} was in flight") from None
                logger.info("resending %s after the connection dropped", operation)
                continue
            logger.debug("%s answered in %.1f ms", operation, (time.perf_counter() - started) * 1000)
            if attempt == 0 and session_expired(reply):
                logger.info("the PostDICOM API session expired; initializing again")
                await self._renew_session(socket)
                if repeatable:
                    continue
            return reply
        raise AssertionError("unreachable")  # pragma: no cover

    async def _renew_session(self, stale: FrameSocket) -> None:
        async with self._connect_lock:
            self._check_open()
            if self._main is not stale:
                return
            # Requests still in flight on the old socket get their answers before it closes.
            self._main = None
            retiring = asyncio.create_task(stale.close_when_idle(self.timeout))
            self._retiring.add(retiring)
            retiring.add_done_callback(self._retiring.discard)
            await self._establish()
            self.reconnects += 1

    async def open_upload_socket(self, name: str) -> FrameSocket:
        """Open one more WebSocket and register it with the API session, as upload sockets are."""
        await self._main_socket()
        socket = await FrameSocket.connect(
            self._session, self.websocket_url, name, wait_seconds=self.timeout, on_sent=self._report_uploaded
        )
        try:
            await self._session_request(socket, SessionManagementType.REGISTER_SESSION)
        except BaseException:
            await socket.close()
            raise
        return socket

    def _check_open(self) -> None:
        if self._closed:
            raise ClientClosed("this PostDICOM client is closed")

    async def close(self) -> None:
        """Close the main socket; the transport cannot be used again."""
        self._closed = True
        if self._main is not None:
            await self._main.close()
            self._main = None
