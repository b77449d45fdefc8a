"""A local Slack: Web API, file host, response_urls, OAuth and Socket Mode, plus signed payload builders.

Only the CLI and the tests may import it (architecture.md). Typical use::

    async with SlackStub() as slack:
        workspace = seed_demo_workspace(slack.state)
        client = AsyncWebClient(token=workspace.installation.bot_token, base_url=slack.api_url)
"""

from bot.sandbox.slack.calls import FILE_DOWNLOAD, RESPONSE_URL, CallLog, CallRecord, FaultPlan
from bot.sandbox.slack.demo import DemoWorkspace, seed_demo_workspace
from bot.sandbox.slack.model import (
    Channel,
    EphemeralMessage,
    Installation,
    Message,
    SlackAppConfig,
    SlackFile,
    Team,
    User,
    View,
)
from bot.sandbox.slack.payloads import (
    DeliveryResult,
    FileUpload,
    InboundPayload,
    PayloadFactory,
    SignedRequest,
    compute_signature,
    deliver,
)
from bot.sandbox.slack.server import SlackStub
from bot.sandbox.slack.socket_mode import SocketModeAck, SocketModeHub
from bot.sandbox.slack.state import SlackRejection, SlackState
from bot.sandbox.slack.web_api import ApiCall, ApiReply, WebApi

__all__ = [
    "FILE_DOWNLOAD",
    "RESPONSE_URL",
    "ApiCall",
    "ApiReply",
    "CallLog",
    "CallRecord",
    "Channel",
    "DeliveryResult",
    "DemoWorkspace",
    "EphemeralMessage",
    "FaultPlan",
    "FileUpload",
    "InboundPayload",
    "Installation",
    "Message",
    "PayloadFactory",
    "SignedRequest",
    "SlackAppConfig",
    "SlackFile",
    "SlackRejection",
    "SlackState",
    "SlackStub",
    "SocketModeAck",
    "SocketModeHub",
    "Team",
    "User",
    "View",
    "WebApi",
    "compute_signature",
    "deliver",
    "seed_demo_workspace",
]
