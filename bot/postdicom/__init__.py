"""PostDICOM Cloud API client.

A pure wire core (:mod:`frames`, :mod:`methods`, :mod:`validation`, :mod:`jsvalues`), a thin
aiohttp transport (:mod:`transport`) and typed results (:mod:`models`), behind one class,
:class:`PostDicomClient`. Nothing here knows of Slack, the database or the sandbox.
"""

from bot.postdicom.client import PostDicomClient
from bot.postdicom.errors import (
    ApiError,
    AuthenticationError,
    ClientClosed,
    ConnectionLost,
    FrameError,
    InvalidParameter,
    NotInitialized,
    PostDicomError,
    ProtocolError,
    RequestTimeout,
    TransportError,
)
from bot.postdicom.models import (
    Account,
    AccountUser,
    Contact,
    CreatedFolder,
    CreatedOrder,
    DicomNode,
    Flag,
    FlagGroup,
    FlagRef,
    Folder,
    FolderListing,
    Institution,
    Link,
    OperationResult,
    OrderGroupResult,
    PatientOrder,
    UserGroup,
)
from bot.postdicom.transport import DEFAULT_ROUTER_URL

__all__ = [
    "DEFAULT_ROUTER_URL",
    "Account",
    "AccountUser",
    "ApiError",
    "AuthenticationError",
    "ClientClosed",
    "ConnectionLost",
    "Contact",
    "CreatedFolder",
    "CreatedOrder",
    "DicomNode",
    "Flag",
    "FlagGroup",
    "FlagRef",
    "Folder",
    "FolderListing",
    "FrameError",
    "Institution",
    "InvalidParameter",
    "Link",
    "NotInitialized",
    "OperationResult",
    "OrderGroupResult",
    "PatientOrder",
    "PostDicomClient",
    "PostDicomError",
    "ProtocolError",
    "RequestTimeout",
    "TransportError",
    "UserGroup",
]
