"""PostDICOM's binary WebSocket frames, both directions, with no I/O.

Request (client to server), little-endian::

    u16 MessageType | u32 MessageID | i32 ManagementType | i32 len + JSON
    type 17 adds:   u8 0 (a pad the library allocates and never writes)
    type 23 adds:   i32 len + file bytes | u8 len + user UUID (ASCII) | u8 0

Response (server to client)::

    u16 MessageType | u32 MessageId | u32 RequestedId | u8 IsSuccess | i32 len + Message
    | i32 ManagementType | i32 len + ApiResult (JSON)

The emulator decodes requests and encodes responses with this module; the client does the reverse.
"""

from __future__ import annotations

import enum
import json
import struct
from dataclasses import dataclass
from typing import Any

from bot.postdicom.errors import FrameError, ProtocolError


class MessageType(enum.IntEnum):
    """The first field of every frame."""

    SESSION_MANAGEMENT_REQUEST = 3
    SESSION_MANAGEMENT_RESPONSE = 4
    FILE_UPLOAD_RESPONSE = 6
    GENERAL_REQUEST = 17
    GENERAL_RESPONSE = 18
    FILE_UPLOAD_REQUEST = 23
    FILE_UPLOAD_RESPONSE_24 = 24


class SessionManagementType(enum.IntEnum):
    """Management types carried by type-3 frames."""

    NONE = 0
    CREATE_SESSION = 1
    REGISTER_SESSION = 2
    FORCE_REGISTER = 3
    CREATE_API_SESSION = 4


class GeneralManagementType(enum.IntEnum):
    """Management types carried by type-17 frames: one per server operation."""

    NONE = 0
    SEARCH_PATIENT_ORDER = 1
    CREATE_FOLDER = 2
    SEARCH_FOLDER = 3
    DELETE_FOLDER = 4
    GET_VIEW_URL = 5
    DELETE_PATIENT_ORDER = 6
    CREATE_PATIENT_ORDER = 7
    ADD_ORDER_TO_FOLDER = 8
    REMOVE_ORDER_FROM_FOLDER = 9
    CREATE_ORDER_GROUP = 10
    ADD_ORDERS_TO_ORDER_GROUP = 11
    REMOVE_ORDERS_FROM_GROUP = 12
    GET_PATIENT_ORDER_PROPERTIES = 13
    SHARE_FOLDER_WITH_EMAIL = 14
    SHARE_FOLDER_WITH_URL = 15
    SHARE_FOLDER_TO_UPLOAD_WITH_EMAIL = 16
    SHARE_FOLDER_TO_UPLOAD_WITH_URL = 17
    SHARE_FOLDER_WITH_ACCOUNT_USER = 18
    SHARE_FOLDER_WITH_ACCOUNT_USER_GROUP = 19
    SHARE_PATIENT_ORDER_WITH_EMAIL = 20
    SHARE_PATIENT_ORDER_WITH_URL = 21
    GET_USER_GROUP_LIST = 22
    GET_DICOM_NODE_LIST = 23
    GET_CONTACT_LIST = 24
    CREATE_PATIENT_ORDER_WITH_JSON = 25
    GET_FOLDER_VIEW_URL = 26
    UPDATE_FOLDER_WITH_JSON = 27
    ASSIGN_PATIENT_ORDER_TO_USER = 28
    ASSIGN_PATIENT_ORDER_TO_USER_GROUP = 29
    GET_ACCOUNT_FLAG_DICTIONARY = 30
    SET_FLAG_TO_PATIENT_ORDER = 31
    UNASSIGN_PATIENT_ORDER_FROM_USER = 32
    UNASSIGN_PATIENT_ORDER_FROM_USER_GROUP = 33
    GET_USER_LIST = 34
    ASSIGN_PATIENT_ORDER_TO_INSTITUTION = 35
    SHARE_PATIENT_ORDER_WITH_EMAIL_WITH_EXPIRE_DATE = 36
    SHARE_PATIENT_ORDER_WITH_URL_WITH_EXPIRE_DATE = 37


class FileUploadManagementType(enum.IntEnum):
    """Management types carried by type-23 frames."""

    NONE = 0
    INITIALIZE = 1
    CHECK_FILE_EXIST = 2
    PROCESS_FILE = 3
    PROCESS_DOCUMENTS = 4
    ATTACH_DOCUMENT = 5
    CANCEL = 6
    ERROR = 7


REQUEST_TYPES = frozenset(
    {MessageType.SESSION_MANAGEMENT_REQUEST, MessageType.GENERAL_REQUEST, MessageType.FILE_UPLOAD_REQUEST}
)

_REQUEST_HEAD = struct.Struct("<HIi")
_RESPONSE_HEAD = struct.Struct("<HIIB")
_INT32 = struct.Struct("<i")
_MAX_MESSAGE_ID = 0xFFFFFFFF


class _Reader:
    """Walk a buffer field by field, turning every overrun into a FrameError."""

    def __init__(self, data: bytes | bytearray | memoryview) -> None:
        self.view = memoryview(data)
        self.position = 0

    def take(self, size: int, what: str) -> memoryview:
        end = self.position + size
        if size < 0 or end > len(self.view):
            raise FrameError(f"frame truncated in {what}: needs {size} bytes at offset {self.position}")
        chunk = self.view[self.position : end]
        self.position = end
        return chunk

    def unpack(self, layout: struct.Struct, what: str) -> tuple[Any, ...]:
        return layout.unpack(self.take(layout.size, what))

    def blob(self, what: str) -> bytes:
        (length,) = self.unpack(_INT32, f"{what} length")
        if length < 0:
            raise FrameError(f"negative {what} length {length}")
        return bytes(self.take(length, what))

    def remaining(self) -> int:
        return len(self.view) - self.position


def _text(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise FrameError(f"{what} is not UTF-8") from error


@dataclass(frozen=True, slots=True)
class RequestFrame:
    """One client-to-server frame. ``payload`` is the JSON text as bytes."""

    message_type: int
    message_id: int
    management_type: int
    payload: bytes
    file_bytes: bytes = b""
    user_uuid: str = ""

    def encode(self) -> bytes:
        """Encode the frame exactly as PostDICOM's JavaScript library lays it out."""
        if not 0 <= self.message_id <= _MAX_MESSAGE_ID:
            raise ValueError("message id out of range")
        head = _REQUEST_HEAD.pack(self.message_type, self.message_id, self.management_type)
        parts = [head, _INT32.pack(len(self.payload)), self.payload]
        if self.message_type == MessageType.GENERAL_REQUEST:
            parts.append(b"\x00")
        elif self.message_type == MessageType.FILE_UPLOAD_REQUEST:
            user = self.user_uuid.encode("ascii")
            if len(user) > 255:
                raise ValueError("user UUID longer than a short string holds")
            parts += [_INT32.pack(len(self.file_bytes)), self.file_bytes, bytes((len(user),)), user, b"\x00"]
        return b"".join(parts)

    @classmethod
    def decode(cls, data: bytes | bytearray | memoryview) -> RequestFrame:
        """Decode a request frame; the trailing pad of types 17 and 23 is optional."""
        reader = _Reader(data)
        message_type, message_id, management_type = reader.unpack(_REQUEST_HEAD, "header")
        if message_type not in REQUEST_TYPES:
            raise FrameError(f"unknown request message type {message_type}")
        payload = reader.blob("JSON")
        file_bytes = b""
        user_uuid = ""
        if message_type == MessageType.FILE_UPLOAD_REQUEST:
            file_bytes = reader.blob("file bytes")
            (user_length,) = reader.take(1, "user UUID length")
            user_uuid = _text(bytes(reader.take(user_length, "user UUID")), "user UUID")
        pad_allowed = message_type != MessageType.SESSION_MANAGEMENT_REQUEST
        leftover = bytes(reader.view[reader.position :])
        if leftover and not (pad_allowed and leftover == b"\x00"):
            raise FrameError(f"{len(leftover)} unexpected bytes after the frame body")
        return cls(message_type, message_id, management_type, payload, file_bytes, user_uuid)

    def json(self) -> dict[str, Any]:
        """Parse the JSON payload, which must be an object."""
        return parse_json_object(self.payload, "request JSON")


@dataclass(frozen=True, slots=True)
class ResponseFrame:
    """One server-to-client frame. ``api_result`` is the JSON text as bytes."""

    message_type: int
    message_id: int
    requested_id: int
    management_type: int
    api_result: bytes
    is_success: bool = True
    message: str = ""

    def encode(self) -> bytes:
        """Encode the frame in the layout the library's ResponseMessage reads."""
        message = self.message.encode("utf-8")
        return b"".join(
            (
                _RESPONSE_HEAD.pack(
                    self.message_type, self.message_id, self.requested_id, int(self.is_success)
                ),
                _INT32.pack(len(message)),
                message,
                _INT32.pack(self.management_type),
                _INT32.pack(len(self.api_result)),
                self.api_result,
            )
        )

    @classmethod
    def decode(cls, data: bytes | bytearray | memoryview) -> ResponseFrame:
        """Decode a response frame of any message type."""
        reader = _Reader(data)
        message_type, message_id, requested_id, is_success = reader.unpack(_RESPONSE_HEAD, "header")
        message = _text(reader.blob("message"), "message")
        (management_type,) = reader.unpack(_INT32, "management type")
        api_result = reader.blob("ApiResult")
        if reader.remaining():
            raise FrameError(f"{reader.remaining()} unexpected bytes after the response body")
        return cls(
            message_type, message_id, requested_id, management_type, api_result, is_success == 1, message
        )

    def json(self) -> dict[str, Any]:
        """Parse ApiResult, which must be a JSON object."""
        return parse_json_object(self.api_result, "ApiResult")


def parse_json_object(raw: bytes, what: str) -> dict[str, Any]:
    """Parse UTF-8 JSON that must be an object, raising ProtocolError otherwise."""
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise ProtocolError(f"{what} is not valid JSON") from error
    if not isinstance(value, dict):
        raise ProtocolError(f"{what} is not a JSON object")
    return value


def response_type_for(request_type: int) -> MessageType:
    """Return the message type the server answers a request type with (23 gets 6, as the library expects)."""
    if request_type == MessageType.SESSION_MANAGEMENT_REQUEST:
        return MessageType.SESSION_MANAGEMENT_RESPONSE
    if request_type == MessageType.GENERAL_REQUEST:
        return MessageType.GENERAL_RESPONSE
    if request_type == MessageType.FILE_UPLOAD_REQUEST:
        return MessageType.FILE_UPLOAD_RESPONSE
    raise FrameError(f"unknown request message type {request_type}")
