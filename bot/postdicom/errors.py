"""The client's exceptions: one root, branches named for what went wrong.

No exception carries an API key, an account key or a patient value in its message or repr:
they end up in logs and, through the app's error handler, in front of users.
"""

from __future__ import annotations


class PostDicomError(Exception):
    """Root of every error the PostDICOM client raises."""


class InvalidParameter(PostDicomError, ValueError):
    """An argument failed the library's client-side validation; nothing was sent.

    The message is exactly the text PostDICOM's JavaScript library gives its callback, so callers
    that already match on it keep working. It names the parameter and quotes the value, which the
    caller passed in; callers that show it to users must decide whether the value may be shown.
    """

    def __init__(self, name: str, given: str, kind: str) -> None:
        self.name = name
        self.given = given
        self.kind = kind
        super().__init__(f"Invalid parameters for {name}. Given value = '{given}' is not {kind} format.")

    def __repr__(self) -> str:
        return f"InvalidParameter(name={self.name!r}, kind={self.kind!r})"


class FrameError(PostDicomError):
    """A binary frame could not be decoded (truncated, oversized or of an unknown shape)."""


class ProtocolError(PostDicomError):
    """The server answered with something the protocol does not allow (bad JSON, bad envelope)."""


class ApiError(PostDicomError):
    """The server refused a request: ``ResponseCode != 1`` or ``Success: false``.

    ``server_message`` is the server's own text. It is kept out of ``repr`` because a server may
    quote request values back.
    """

    def __init__(self, operation: str, server_message: str, *, response_code: object = None) -> None:
        self.operation = operation
        self.server_message = server_message
        self.response_code = response_code
        super().__init__(f"PostDICOM refused {operation}: {server_message}")

    def __repr__(self) -> str:
        return f"ApiError(operation={self.operation!r}, response_code={self.response_code!r})"


class AuthenticationError(ApiError):
    """The router or region service refused the API key or account key."""


class NotInitialized(PostDicomError):
    """A request was made before ``initialize()`` succeeded."""


class TransportError(PostDicomError):
    """Talking to PostDICOM failed below the protocol: HTTP status, DNS, TLS, socket."""


class RequestTimeout(TransportError):
    """No reply arrived within the request's timeout."""


class ConnectionLost(TransportError):
    """The socket closed while a request that is unsafe to repeat was in flight.

    The request may or may not have been carried out; the caller decides whether to try again.
    """


class ClientClosed(PostDicomError):
    """The client was closed; make a new one."""
