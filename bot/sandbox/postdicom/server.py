"""The emulator's aiohttp server: router, region service, WebSocket, admin API and link pages.

One port serves everything:

* ``GET /wssShellService/`` — the router (RequestType 4: AddressType 1 gives the region service,
  2 the WebSocket base);
* ``GET /region/`` — the region service (RequestType 7 makes an API session);
* ``GET /wss/?ClientUniqueId=<apiKey>`` — the binary WebSocket; 3 is answered with 4, 17 with 18,
  23 with 6 (or 24, if configured);
* ``/_emulator/…`` — the admin API (stats, reset, faults, shares, accounts), never a protocol path;
* ``/view/{token}`` — the pages behind viewer and share links.

HTTP answers are always status 200 with ``{ResponseCode, ResponseMessage: "<string>"}``, as the
library alerts on anything else. Logs name message and management types, sizes and account key
prefixes, never patient values.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import traceback
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from aiohttp import WSMsgType, web

from bot.postdicom.errors import FrameError, ProtocolError
from bot.postdicom.frames import (
    FileUploadManagementType,
    GeneralManagementType,
    MessageType,
    RequestFrame,
    ResponseFrame,
    SessionManagementType,
    parse_json_object,
)
from bot.postdicom.jsvalues import to_json
from bot.sandbox.postdicom.faults import FaultConfigError, FaultPlan, FaultRegistry
from bot.sandbox.postdicom.handlers import RequestContext, encode_reply, handle_general
from bot.sandbox.postdicom.pages import LinkPages
from bot.sandbox.postdicom.seed import DEMO_ACCOUNT_KEY, DEMO_API_KEY, build_state
from bot.sandbox.postdicom.state import Account, ApiSession, EmulatorState, Refusal
from bot.sandbox.postdicom.uploads import UploadContext, UploadRegistry, handle_upload, upload_failure

logger = logging.getLogger(__name__)

ROUTER_PATH = "/wssShellService/"
REGION_PATH = "/region/"
WEBSOCKET_PATH = "/wss"
ADMIN_PREFIX = "/_emulator"
DEFAULT_MAX_MESSAGE_SIZE = 512 * 1024 * 1024
"""Multi-part documents carry the whole file in every part, so frames grow with the document."""
JSON_IN_THREAD_BYTES = 1024 * 1024
"""JSON at least this big (a document part's FileBuffer) is parsed off the event loop."""
CLOSE_TIMEOUT = 2.0
MAX_FRAMES_IN_FLIGHT = 64
"""Frames handled at once per socket; beyond this the socket is not read until one finishes."""

_NAMES: dict[int, type[SessionManagementType | GeneralManagementType | FileUploadManagementType]] = {
    MessageType.SESSION_MANAGEMENT_REQUEST: SessionManagementType,
    MessageType.GENERAL_REQUEST: GeneralManagementType,
    MessageType.FILE_UPLOAD_REQUEST: FileUploadManagementType,
}


def frame_name(message_type: int, management_type: int) -> str:
    """Name a frame kind for stats: ``"17:SEARCH_PATIENT_ORDER"``, or numbers when unknown."""
    names = _NAMES.get(message_type)
    try:
        name = names(management_type).name if names is not None else str(management_type)
    except ValueError:
        name = str(management_type)
    return f"{message_type}:{name}"


class EmulatorStats:
    """Counters of everything the emulator received and sent."""

    def __init__(self) -> None:
        self.frames: Counter[str] = Counter()
        self.http: Counter[str] = Counter()
        self.bytes_received = 0
        self.bytes_sent = 0
        self.connections_total = 0
        self.connections_open = 0
        self.malformed_frames = 0

    def reset(self) -> None:
        """Zero every counter; sockets still open stay counted as open."""
        self.frames.clear()
        self.http.clear()
        self.bytes_received = self.bytes_sent = 0
        self.connections_total = self.connections_open
        self.malformed_frames = 0

    def snapshot(
        self, state: EmulatorState, uploads: UploadRegistry, faults: FaultRegistry
    ) -> dict[str, Any]:
        """Return the counters and the stored totals as the admin API shows them."""
        orders, instances, documents = state.counts()
        counters = uploads.counters
        return {
            "frames": dict(sorted(self.frames.items())),
            "http": dict(sorted(self.http.items())),
            "bytes_received": self.bytes_received,
            "bytes_sent": self.bytes_sent,
            "connections_total": self.connections_total,
            "connections_open": self.connections_open,
            "malformed_frames": self.malformed_frames,
            "injected_errors": faults.injected_errors,
            "dropped_sockets": faults.dropped_sockets,
            "orders": orders,
            "instances": instances,
            "documents": documents,
            "shares": len(state.shares),
            "api_sessions": len(state.sessions),
            "uploads": {
                "sessions": len(uploads.sessions),
                "pending_parts": uploads.pending_parts(),
                "files_completed": counters.files_completed,
                "instances_deduplicated": counters.instances_deduplicated,
                "documents_completed": counters.documents_completed,
                "documents_resent": counters.documents_resent,
                "files_refused": counters.files_refused,
            },
        }


@dataclass(eq=False)
class Connection:
    """One WebSocket: whose it is, what it is for, what it has seen."""

    number: int
    websocket: web.WebSocketResponse
    account: Account | None
    base_url: str
    session: ApiSession | None = None
    role: str = "new"
    frames: int = 0
    message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    # Replies come from concurrent frame tasks; one frame goes out whole before the next.
    sending: asyncio.Lock = field(default_factory=asyncio.Lock)


class _Drop(Exception):
    """Internal: the faults say this socket closes now, unanswered."""


def _error(
    message_type: int, management_type: int, message: str, params: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    if message_type == MessageType.FILE_UPLOAD_REQUEST:
        return upload_failure(management_type, params or {}, message)
    if message_type == MessageType.SESSION_MANAGEMENT_REQUEST:
        # The library logs "Api cannot initialized. Reason: " + ResponseMessage: a string.
        return {"ResponseCode": 0, "ResponseMessage": message, "Message": message}
    return {"ResponseCode": 0, "ResponseMessage": {"Success": False, "Message": message}, "Message": message}


def _service_reply(code: int, message: str) -> web.Response:
    # The browser build of the library calls the router and region from any page's origin.
    return web.Response(
        body=to_json({"ResponseCode": code, "ResponseMessage": message}),
        content_type="application/json",
        headers={"Access-Control-Allow-Origin": "*"},
    )


def _log_failure(what: str, error: BaseException) -> None:
    # The exception's message may quote patient values: log its type and where it happened only.
    where = " <- ".join(
        f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno} {frame.name}"
        for frame in reversed(traceback.extract_tb(error.__traceback__))
    )
    logger.error("%s failed with %s at %s", what, type(error).__name__, where)


def _key_prefix(account: Account | None) -> str:
    return account.key[:8] if account else "unknown"


class PostDicomEmulator:
    """A stateful PostDICOM on one local port; ``async with PostDicomEmulator() as emulator: ...``.

    ``router_url`` is what a client takes as its router address; ``state``, ``faults``, ``stats``
    and ``uploads`` are live and may be inspected or changed by tests.
    """

    api_key = DEMO_API_KEY
    account_key = DEMO_ACCOUNT_KEY

    def __init__(
        self,
        seed: str = "demo",
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        upload_response_type: int = MessageType.FILE_UPLOAD_RESPONSE,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        search_limit: int = 500,
        public_url: str | None = None,
        fault_seed: int = 0,
    ) -> None:
        if upload_response_type not in (
            MessageType.FILE_UPLOAD_RESPONSE,
            MessageType.FILE_UPLOAD_RESPONSE_24,
        ):
            raise ValueError("upload_response_type must be 6 or 24")
        self.seed = seed
        self.host = host
        self.port = port
        self.upload_response_type = upload_response_type
        self.max_message_size = max_message_size
        self.search_limit = search_limit
        self.public_url = public_url.rstrip("/") if public_url else None
        self.state = EmulatorState()
        self.faults = FaultRegistry(fault_seed)
        self.stats = EmulatorStats()
        self.uploads = UploadRegistry()
        self.pages = LinkPages(lambda: self.state, self._count_page)
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        self._connection_numbers = itertools.count(1)
        self._connections: set[Connection] = set()

    # --- lifecycle ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """Return ``http://host:port`` of the running emulator."""
        if self._base_url is None:
            raise RuntimeError("the emulator is not running")
        return self._base_url

    @property
    def router_url(self) -> str:
        """Return the router address a client is configured with."""
        return f"{self.base_url}{ROUTER_PATH}"

    @property
    def region_url(self) -> str:
        """Return the region service address the router hands out."""
        return f"{self.base_url}{REGION_PATH}"

    @property
    def websocket_url(self) -> str:
        """Return the WebSocket base the router hands out (the library appends ``/?ClientUniqueId=``)."""
        return "ws" + self.base_url.removeprefix("http") + WEBSOCKET_PATH

    def build_app(self) -> web.Application:
        """Build the aiohttp application with every route."""
        app = web.Application(client_max_size=self.max_message_size)
        app.router.add_get(ROUTER_PATH, self._router)
        app.router.add_get(ROUTER_PATH.rstrip("/"), self._router)
        app.router.add_get(REGION_PATH, self._region)
        app.router.add_get(REGION_PATH.rstrip("/"), self._region)
        for path in (WEBSOCKET_PATH, f"{WEBSOCKET_PATH}/", f"{WEBSOCKET_PATH}//"):
            app.router.add_get(path, self._websocket)
        app.router.add_get(f"{ADMIN_PREFIX}/", self._admin_index)
        app.router.add_get(f"{ADMIN_PREFIX}/stats", self._admin_stats)
        app.router.add_post(f"{ADMIN_PREFIX}/reset", self._admin_reset)
        app.router.add_get(f"{ADMIN_PREFIX}/faults", self._admin_faults)
        app.router.add_route("*", f"{ADMIN_PREFIX}/faults/{{account_key}}", self._admin_account_faults)
        app.router.add_get(f"{ADMIN_PREFIX}/shares", self._admin_shares)
        app.router.add_get(f"{ADMIN_PREFIX}/accounts", self._admin_accounts)
        self.pages.add_routes(app)
        return app

    async def start(self) -> None:
        """Seed the state and start serving; the OS picks the port when it is 0."""
        self.state.replace_with(await asyncio.to_thread(build_state, self.seed))
        runner = web.AppRunner(self.build_app(), access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        host, port = runner.addresses[0][:2]
        self.port = port
        if self.public_url:
            self._base_url = self.public_url
        else:
            shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 - naming, not binding
            self._base_url = f"http://{shown}:{port}" if ":" not in shown else f"http://[{shown}]:{port}"
        self._runner = runner
        logger.info("PostDICOM emulator listening on %s", self._base_url)

    async def stop(self) -> None:
        """Close every socket and stop serving."""
        if self._runner is None:
            return
        for connection in list(self._connections):
            with contextlib.suppress(Exception):
                async with asyncio.timeout(CLOSE_TIMEOUT):
                    await connection.websocket.close()
        await self._runner.cleanup()
        self._runner = None
        self._base_url = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def reset(self) -> None:
        """Restore the seed: state, uploads, faults and counters; open sockets lose their sessions."""
        self.state.replace_with(await asyncio.to_thread(build_state, self.seed))
        self.uploads.clear()
        self.faults.clear()
        self.stats.reset()
        for connection in self._connections:
            connection.session = None
            connection.role = "new"

    def stats_snapshot(self) -> dict[str, Any]:
        """Return what ``GET /_emulator/stats`` shows."""
        return self.stats.snapshot(self.state, self.uploads, self.faults)

    # --- HTTP services -----------------------------------------------------------------------

    def _public_base(self, request: web.Request) -> str:
        return self.public_url or f"{request.scheme}://{request.host}"

    @staticmethod
    def _parameters(request: web.Request) -> dict[str, Any] | None:
        try:
            value = json.loads(request.query.get("Parameters", ""))
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    async def _router(self, request: web.Request) -> web.Response:
        request_type = request.query.get("RequestType", "")
        self.stats.http[f"router:{request_type or '-'}"] += 1
        params = self._parameters(request)
        if request_type != "4":
            return _service_reply(0, "Unknown request type.")
        if params is None:
            return _service_reply(0, "Invalid parameters.")
        router_key = params.get("RouterKey")
        account = self.state.account(router_key) if isinstance(router_key, str) else None
        if account is None:
            return _service_reply(0, "Invalid router key.")
        base = self._public_base(request)
        address_type = str(params.get("AddressType", ""))
        if address_type == "1":
            return _service_reply(1, f"{base}{REGION_PATH}")
        if address_type == "2":
            return _service_reply(1, "ws" + base.removeprefix("http") + WEBSOCKET_PATH)
        return _service_reply(0, "Invalid address type.")

    async def _region(self, request: web.Request) -> web.Response:
        request_type = request.query.get("RequestType", "")
        self.stats.http[f"region:{request_type or '-'}"] += 1
        params = self._parameters(request)
        if request_type != "7":
            return _service_reply(0, "Unknown request type.")
        if params is None or str(params.get("TransactionType", "")) != "3":
            return _service_reply(0, "Invalid parameters.")
        account_key, api_key = params.get("AccountKey"), params.get("ApiKey")
        account = self.state.account(account_key) if isinstance(account_key, str) else None
        client_id = request.query.get("ClientUniqueId", api_key)
        if (
            account is None
            or not isinstance(api_key, str)
            or api_key.strip().lower() != account.api_key
            or not isinstance(client_id, str)
            or client_id.strip().lower() != account.api_key
        ):
            return _service_reply(0, "Invalid account key or API key.")
        session = self.state.open_session(account)
        logger.debug("API session created for account %s", _key_prefix(account))
        return _service_reply(1, session.uuid)

    # --- WebSocket ---------------------------------------------------------------------------

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        websocket = web.WebSocketResponse(max_msg_size=self.max_message_size)
        await websocket.prepare(request)
        client_id = request.query.get("ClientUniqueId", "")
        connection = Connection(
            next(self._connection_numbers),
            websocket,
            self.state.account_for_api_key(client_id) if client_id else None,
            self._public_base(request),
        )
        self._connections.add(connection)
        self.stats.connections_total += 1
        self.stats.connections_open += 1
        logger.debug("socket %d opened for account %s", connection.number, _key_prefix(connection.account))
        # Frames are handled concurrently, as a server would: a slow reply must not stop the
        # socket from reading (a close, say), and replies are matched by RequestedId anyway.
        in_flight: set[asyncio.Task[None]] = set()
        room = asyncio.Semaphore(MAX_FRAMES_IN_FLIGHT)
        try:
            async for message in websocket:
                if message.type is WSMsgType.BINARY:
                    data = message.data
                    self.stats.bytes_received += len(data)
                    connection.frames += 1
                    account_key = connection.account.key if connection.account else None
                    if account_key is not None and self.faults.drops_frame(account_key, connection.frames):
                        await self._drop(connection)
                        break
                    await room.acquire()
                    task = asyncio.create_task(self._handle(connection, data))
                    in_flight.add(task)
                    task.add_done_callback(in_flight.discard)
                    task.add_done_callback(lambda _: room.release())
                elif message.type is WSMsgType.TEXT:
                    self.stats.malformed_frames += 1
                    await self._send(connection, 18, 0, 0, _error(17, 0, "Frames must be binary."))
                elif message.type is WSMsgType.ERROR:
                    break
        finally:
            for task in in_flight:
                task.cancel()
            await asyncio.gather(*in_flight, return_exceptions=True)
            self._connections.discard(connection)
            self.stats.connections_open -= 1
            logger.debug("socket %d closed", connection.number)
        return websocket

    async def _handle(self, connection: Connection, data: bytes) -> None:
        try:
            await self._on_frame(connection, data)
        except _Drop:
            await self._drop(connection)
        except Exception as error:
            # Whatever went wrong, the socket stays up; the message may quote patient values.
            _log_failure(f"socket {connection.number}: frame handling", error)

    async def _drop(self, connection: Connection) -> None:
        self.faults.counted_drop()
        logger.info("fault: dropping socket %d", connection.number)
        with contextlib.suppress(Exception):
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await connection.websocket.close(code=1011, message=b"dropped by the emulator")

    async def _send(
        self,
        connection: Connection,
        message_type: int,
        requested_id: int,
        management_type: int,
        result: dict[str, Any],
    ) -> None:
        succeeded = result.get("ResponseCode") == 1
        error_text = result.get("Message")
        frame = ResponseFrame(
            message_type,
            next(connection.message_ids) & 0xFFFFFFFF,
            requested_id,
            management_type,
            encode_reply(result),
            is_success=succeeded,
            message="" if succeeded or not isinstance(error_text, str) else error_text,
        )
        data = frame.encode()
        if connection.account is not None:
            await self.faults.throttle(connection.account.key, len(data))
        self.stats.bytes_sent += len(data)
        async with connection.sending:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await connection.websocket.send_bytes(data)

    async def _on_frame(self, connection: Connection, data: bytes) -> None:
        account_key = connection.account.key if connection.account else None
        if account_key is not None:
            await self.faults.throttle(account_key, len(data))
        try:
            frame = RequestFrame.decode(data)
        except FrameError as error:
            await self._malformed(connection, data, str(error))
            return
        self.stats.frames[frame_name(frame.message_type, frame.management_type)] += 1
        if (
            account_key is not None
            and frame.message_type == MessageType.FILE_UPLOAD_REQUEST
            and self.faults.drops_upload_part(account_key, frame.management_type)
        ):
            raise _Drop
        if account_key is not None:
            delay = self.faults.delay(account_key)
            if delay > 0:
                await asyncio.sleep(delay)
        result = await self._answer(connection, frame)
        reply_type = self._reply_type(frame.message_type)
        await self._send(connection, reply_type, frame.message_id, frame.management_type, result)

    def _reply_type(self, request_type: int) -> int:
        # The library dispatches 4, 6 and 18 only; anything unrecognised is answered as general.
        if request_type == MessageType.FILE_UPLOAD_REQUEST:
            return self.upload_response_type
        if request_type == MessageType.SESSION_MANAGEMENT_REQUEST:
            return MessageType.SESSION_MANAGEMENT_RESPONSE
        return MessageType.GENERAL_RESPONSE

    async def _malformed(self, connection: Connection, data: bytes, reason: str) -> None:
        self.stats.malformed_frames += 1
        self.stats.frames["malformed"] += 1
        logger.debug("socket %d sent a malformed frame: %s", connection.number, reason)
        message_type = int.from_bytes(data[:2], "little") if len(data) >= 2 else 0
        message_id = int.from_bytes(data[2:6], "little") if len(data) >= 6 else 0
        management_type = int.from_bytes(data[6:10], "little", signed=True) if len(data) >= 10 else 0
        reply_type = self._reply_type(message_type)
        kind = message_type if message_type in _NAMES else MessageType.GENERAL_REQUEST
        await self._send(
            connection,
            reply_type,
            message_id,
            management_type,
            _error(kind, management_type, f"Malformed frame: {reason}."),
        )

    async def _params(self, frame: RequestFrame) -> dict[str, Any]:
        if len(frame.payload) >= JSON_IN_THREAD_BYTES:
            return await asyncio.to_thread(parse_json_object, frame.payload, "request JSON")
        return frame.json()

    async def _answer(self, connection: Connection, frame: RequestFrame) -> dict[str, Any]:
        kind, management_type = frame.message_type, frame.management_type
        try:
            params = await self._params(frame)
        except ProtocolError as error:
            self.stats.malformed_frames += 1
            return _error(kind, management_type, f"Malformed frame: {error}.")
        except RecursionError:
            self.stats.malformed_frames += 1
            return _error(kind, management_type, "Malformed frame: request JSON nests too deeply.")
        account = connection.account
        if account is not None and self.faults.should_fail(account.key, kind, management_type):
            return _error(kind, management_type, self.faults.plan(account.key).error_message, params)
        if kind == MessageType.SESSION_MANAGEMENT_REQUEST:
            return self._session_management(connection, management_type, params)
        refusal = self._check_session(connection, kind, params)
        if refusal is not None:
            return _error(kind, management_type, refusal, params)
        assert account is not None  # noqa: S101 - _check_session refuses sockets without one
        try:
            if kind == MessageType.GENERAL_REQUEST:
                context = RequestContext(self.state, account, connection.base_url, self.search_limit)
                return {
                    "ResponseCode": 1,
                    "ResponseMessage": handle_general(context, management_type, params),
                }
            session_uuid = connection.session.uuid if connection.session else None
            upload = UploadContext(self.state, self.uploads, account, session_uuid)
            return await handle_upload(upload, management_type, params, frame.file_bytes)
        except Refusal as refusal_error:
            if kind == MessageType.FILE_UPLOAD_REQUEST:
                return upload_failure(management_type, params, refusal_error.message)
            return {
                "ResponseCode": 1,
                "ResponseMessage": {"Success": False, "Message": refusal_error.message},
            }
        except Exception as error:
            # A handler bug must not take the socket down; its message may quote patient values.
            _log_failure(f"handler for {frame_name(kind, management_type)}", error)
            return _error(kind, management_type, "Internal server error.", params)

    def _check_session(self, connection: Connection, kind: int, params: Mapping[str, Any]) -> str | None:
        account = connection.account
        if account is None:
            return "Unknown ClientUniqueId."
        if connection.session is None:
            return "The API session is not created. Send CreateApiSession first."
        if self.faults.session_expired(account.key, connection.session.created):
            if self.faults.plan(account.key).expiry_closes_socket:
                raise _Drop
            return "The API session has expired. Initialize again."
        if kind == MessageType.GENERAL_REQUEST and connection.role == "upload":
            return "This socket is registered for uploads only."
        api_key, account_key = params.get("ApiKey"), params.get("AccountKey")
        if (
            not isinstance(api_key, str)
            or not isinstance(account_key, str)
            or api_key.strip().lower() != account.api_key
            or account_key.strip().lower() != account.key
        ):
            return "Invalid ApiKey or AccountKey."
        return None

    def _session_management(
        self, connection: Connection, management_type: int, params: Mapping[str, Any]
    ) -> dict[str, Any]:
        kind = MessageType.SESSION_MANAGEMENT_REQUEST
        if management_type not in (
            SessionManagementType.CREATE_API_SESSION,
            SessionManagementType.REGISTER_SESSION,
            SessionManagementType.FORCE_REGISTER,
        ):
            return _error(kind, management_type, "This session management type is not supported by the API.")
        account = connection.account
        if account is None:
            return _error(kind, management_type, "Unknown ClientUniqueId.")
        session_uuid = params.get("SessionUuid")
        session = self.state.sessions.get(session_uuid.lower()) if isinstance(session_uuid, str) else None
        if session is None or session.account_key != account.key:
            return _error(kind, management_type, "Invalid session.")
        others = params.get("OtherParameterList")
        api_keys = [
            item.removeprefix("ApiKey=").strip().lower()
            for item in others or []
            if isinstance(item, str) and item.startswith("ApiKey=")
        ]
        if api_keys != [account.api_key]:
            return _error(kind, management_type, "Invalid API key.")
        if self.faults.session_expired(account.key, session.created):
            return _error(kind, management_type, "The API session has expired. Initialize again.")
        connection.session = session
        if management_type == SessionManagementType.CREATE_API_SESSION:
            connection.role = "main"
            logger.debug("socket %d: API session created", connection.number)
            return {"ResponseCode": 1, "ResponseMessage": {"Account": account.account_json()}}
        if connection.role != "main":
            connection.role = "upload"
        logger.debug("socket %d: registered for uploads", connection.number)
        return {"ResponseCode": 1, "ResponseMessage": {"Success": True, "Message": "Session registered."}}

    # --- admin API ---------------------------------------------------------------------------

    def _count_page(self) -> None:
        self.stats.http["pages"] += 1

    async def _admin_index(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "router_url": f"{self._public_base(request)}{ROUTER_PATH}",
                "endpoints": {
                    "GET /_emulator/stats": "counts per message and management type, bytes, stored data",
                    "POST /_emulator/reset": "restore the seed; forget sessions, uploads, faults, counters",
                    "GET /_emulator/faults": "every account's fault plan",
                    "GET|PUT|PATCH|DELETE /_emulator/faults/{account_key}": "show, replace, merge, clear a plan",
                    "GET /_emulator/shares[?account_key=]": "every share and link, as sent",
                    "GET /_emulator/accounts": "keys, users and institutions",
                },
            }
        )

    async def _admin_stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats_snapshot())

    async def _admin_reset(self, request: web.Request) -> web.Response:
        await self.reset()
        return web.json_response({"reset": True, "seed": self.seed})

    async def _admin_faults(self, request: web.Request) -> web.Response:
        return web.json_response({key: plan.as_json() for key, plan in self.faults.plans().items()})

    async def _admin_account_faults(self, request: web.Request) -> web.Response:
        account_key = request.match_info["account_key"].lower()
        if self.state.account(account_key) is None:
            return web.json_response({"error": "unknown account key"}, status=404)
        if request.method == "GET":
            return web.json_response(self.faults.plan(account_key).as_json())
        if request.method == "DELETE":
            self.faults.clear(account_key)
            return web.json_response(FaultPlan().as_json())
        if request.method not in ("PUT", "PATCH", "POST"):
            raise web.HTTPMethodNotAllowed(request.method, ["GET", "PUT", "PATCH", "POST", "DELETE"])
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise FaultConfigError("the body must be a JSON object")
            if request.method == "PUT":
                plan = self.faults.set(account_key, FaultPlan.from_json(body))
            else:
                merged = {**self.faults.plan(account_key).as_json(), **body}
                plan = self.faults.set(account_key, FaultPlan.from_json(merged))
        except (ValueError, FaultConfigError) as error:
            return web.json_response({"error": str(error)}, status=400)
        logger.info("faults set for account %s", account_key[:8])
        return web.json_response(plan.as_json())

    async def _admin_shares(self, request: web.Request) -> web.Response:
        account_key = request.query.get("account_key")
        records = self.state.shares_of(account_key.lower() if account_key else None)
        return web.json_response([record.as_json() for record in records])

    async def _admin_accounts(self, request: web.Request) -> web.Response:
        return web.json_response(
            [
                {"AccountKey": account.key, "ApiKey": account.api_key, **account.account_json()}
                for account in self.state.accounts.values()
            ]
        )
