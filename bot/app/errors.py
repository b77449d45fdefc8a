"""Errors a user may see, and the one place that turns any error into words fit for Slack.

No message built here quotes an exception's own text: server messages may echo patient data
and exception texts may carry URLs with keys in them.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.errors import UsageError, UserFacingError
from bot.postdicom import (
    ApiError,
    AuthenticationError,
    ConnectionLost,
    InvalidParameter,
    NotInitialized,
    PostDicomError,
    ProtocolError,
    RequestTimeout,
    TransportError,
)


class NotConnected(UserFacingError):
    """The workspace has no PostDICOM account yet."""

    def __init__(self) -> None:
        super().__init__(
            "This workspace is not connected to PostDICOM yet.",
            code="postdicom.not_connected",
            hint="Ask a workspace admin to run `/pacs connect`.",
        )


class NotAllowed(UserFacingError):
    """The user may not do this here."""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message, code="not_allowed", hint=hint)


@dataclass(frozen=True, slots=True)
class SafeMessage:
    """What to tell the user about an error, and whether offering a retry makes sense."""

    text: str
    retryable: bool = False


__all__ = ["NotAllowed", "NotConnected", "SafeMessage", "UsageError", "UserFacingError", "describe"]


def describe(error: BaseException) -> SafeMessage:
    """Turn any error into a short, specific, user-safe message."""
    if isinstance(error, UserFacingError):
        return SafeMessage(error.text, retryable=error.retryable)
    if isinstance(error, InvalidParameter):
        return SafeMessage(f"PostDICOM would not accept the {error.name}: it is not in {error.kind} format.")
    if isinstance(error, AuthenticationError):
        return SafeMessage(
            "PostDICOM refused this workspace's keys. An admin can check them with `/pacs connect`."
        )
    if isinstance(error, RequestTimeout):
        return SafeMessage("PostDICOM did not answer in time.", retryable=True)
    if isinstance(error, ConnectionLost):
        return SafeMessage(
            "The connection to PostDICOM dropped before it confirmed the change; it may or may not have happened.",
            retryable=True,
        )
    if isinstance(error, TransportError):
        return SafeMessage("PostDICOM cannot be reached right now.", retryable=True)
    if isinstance(error, ApiError):
        # ResponseCode 1 with Success false is a refusal, and asking again changes nothing; any other
        # code is PostDICOM failing to handle the request (an internal error), which may pass.
        refused = error.response_code in (1, "1")
        return SafeMessage(f"PostDICOM refused to {_verb(error.operation)}.", retryable=not refused)
    if isinstance(error, ProtocolError | NotInitialized | PostDicomError):
        return SafeMessage("PostDICOM answered in a way this app did not expect.", retryable=True)
    return SafeMessage("Something went wrong on our side. It has been logged.")


_VERBS = {
    "GetPatientOrderList": "search those orders",
    "GetPatientOrderListWithDateRange": "search those orders",
    "GetPatientOrderListWithBirthdate": "search those orders",
    "GetPatientOrderListInFolder": "list that folder's orders",
    "CreateQuickShareLink": "create the share link",
    "CreateQuickShareLinkWithExpireDate": "create the share link",
    "SharePatientOrder": "share by e-mail",
    "SharePatientOrderWithExpireDate": "share by e-mail",
    "SetFlagToPatientOrder": "set that flag",
    "DeleteOrder": "delete the order",
    "GetViewUrl": "give a viewer link",
    "AssignPatientOrderToUser": "assign the order",
    "AssignPatientOrderToUserGroup": "assign the order",
    "UnassignPatientOrderFromUser": "take them off the order",
    "UnassignPatientOrderFromUserGroup": "take them off the order",
    "AssignPatientOrderToLocation": "move the order to that institution",
    "GetAccountFlagDictionary": "list the account's flags",
    "GetUserList": "list the account's users",
    "GetUserGroupList": "list the account's user groups",
}


def _verb(operation: str) -> str:
    return _VERBS.get(operation, "do that") + " (" + operation + ")"
