"""Prometheus metrics: what the app counts, and the ``/metrics`` page in the text format.

Metrics are process-wide, as Prometheus client libraries make them: each replica exposes its
own, and Prometheus adds them up. Labels carry only bounded values that name no patient and
no person: subcommand names, the action ids the app registered, outcomes, PostDICOM operation
names, exception class names, Slack Web API method names and Slack error codes. Anything that
does not look like one of those is counted as ``other``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import weakref
from collections.abc import Iterable, Mapping
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot import __version__
from bot.app.dictionaries import SingleFlightCache
from bot.app.errors import UserFacingError
from bot.app.grammar import UsageError
from bot.app.postdicom_clients import Eviction, PostDicomClients
from bot.postdicom import PostDicomError
from bot.postdicom.transport import set_default_observer
from bot.store import Store, UploadState

logger = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_LATEST
UPLOAD_COUNT_TIMEOUT_SECONDS = 2.0
OTHER = "other"

_SLACK_METHOD = re.compile(r"[A-Za-z][A-Za-z.]{0,63}")
_SLACK_ERROR = re.compile(r"[a-z][a-z0-9_]{0,63}")
_INTERACTION_TYPES = frozenset(
    {
        "block_actions",
        "block_suggestion",
        "view_submission",
        "view_closed",
        "shortcut",
        "message_action",
        "interactive_message",
    }
)

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

INFO = Gauge("pacsbot_info", "Always 1; the version of pacsbot that runs.", ["version"], registry=REGISTRY)
INFO.labels(__version__).set(1)
COMMANDS = Counter(
    "pacsbot_commands",
    "/pacs subcommands run, by subcommand name and outcome.",
    ["name", "outcome"],
    registry=REGISTRY,
)
ACTIONS = Counter(
    "pacsbot_actions",
    "Buttons, menus and modal submissions handled, by action or callback id and outcome.",
    ["name", "outcome"],
    registry=REGISTRY,
)
ACK_SECONDS = Histogram(
    "pacsbot_ack_seconds",
    "Time from receiving a Slack request to acknowledging it (Slack gives up after 3 s), by kind.",
    ["kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0),
    registry=REGISTRY,
)
POSTDICOM_SECONDS = Histogram(
    "pacsbot_postdicom_request_seconds",
    "Time PostDICOM took to answer a request, by method (Initialize is the connection handshake).",
    ["method"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
    registry=REGISTRY,
)
POSTDICOM_ERRORS = Counter(
    "pacsbot_postdicom_errors",
    "PostDICOM requests that failed, by method and kind (the client's exception class).",
    ["method", "kind"],
    registry=REGISTRY,
)
UPLOAD_JOBS = Gauge(
    "pacsbot_upload_jobs",
    "Upload jobs in the database by state; every replica reports the same database-wide numbers.",
    ["state"],
    registry=REGISTRY,
)
UPLOADED_BYTES = Counter(
    "pacsbot_uploaded_bytes",
    "Bytes sent to PostDICOM on upload sockets: DICOM files and documents, with their frame headers.",
    registry=REGISTRY,
)
SLACK_REQUESTS_REFUSED = Counter(
    "pacsbot_slack_requests_refused",
    "Requests to the Slack endpoint refused before any handler ran, by reason (bad_signature, stale...).",
    ["reason"],
    registry=REGISTRY,
)
SLACK_API_ERRORS = Counter(
    "pacsbot_slack_api_errors",
    "Slack Web API calls that failed (each attempt), by method and Slack error code or exception class.",
    ["method", "error"],
    registry=REGISTRY,
)
SLACK_RATE_LIMIT_WAITS = Counter(
    "pacsbot_slack_rate_limit_waits",
    "Times a Slack Web API call waited out a rate limit (HTTP 429) before trying again, by method.",
    ["method"],
    registry=REGISTRY,
)
SLACK_RATE_LIMIT_WAIT_SECONDS = Counter(
    "pacsbot_slack_rate_limit_wait_seconds",
    "Seconds spent waiting out Slack rate limits, by method.",
    ["method"],
    registry=REGISTRY,
)
SLACK_UNDELIVERED = Counter(
    "pacsbot_slack_undelivered",
    "Answers a Slack surface did not take after its retries (another surface is tried next), "
    "by surface (response_url, chat.postMessage, chat.postEphemeral, direct_message) and reason.",
    ["surface", "reason"],
    registry=REGISTRY,
)
SLACK_ANSWERS_LOST = Counter(
    "pacsbot_slack_answers_lost",
    "Answers that reached the user on no surface at all (each also logged as an ERROR).",
    registry=REGISTRY,
)
_REASON = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")


def bounded_reason(reason: str) -> str:
    """Keep a failure reason as a metric label only when it looks like an error code or class name."""
    return reason if _REASON.fullmatch(reason) else OTHER


POSTDICOM_CLIENT_RELEASES = Counter(
    "pacsbot_postdicom_client_evictions",
    "PostDICOM clients closed by the app, by reason: idle, bound (too many open), keys_changed, dropped.",
    ["reason"],
    registry=REGISTRY,
)
POSTDICOM_CLIENT_OPEN_SECONDS = Histogram(
    "pacsbot_postdicom_client_open_seconds",
    "Time to open a workspace's PostDICOM client, first time or reopening one closed when idle or evicted.",
    ["kind"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=REGISTRY,
)


def outcome_of(error: BaseException | None) -> str:
    """Name the outcome of a handler run: ok, usage_error, refused, postdicom_error or internal_error."""
    if error is None:
        return "ok"
    if isinstance(error, UsageError):
        return "usage_error"
    if isinstance(error, UserFacingError):
        return "refused"
    if isinstance(error, PostDicomError):
        return "postdicom_error"
    return "internal_error"


def count_handled(kind: str, name: str, error: BaseException | None) -> None:
    """Count one command (``kind="command"``) or interaction run, by its outcome."""
    counter = COMMANDS if kind == "command" else ACTIONS
    counter.labels(name, outcome_of(error)).inc()


def payload_kind(body: Mapping[str, Any]) -> str:
    """Name what kind of Slack request a payload is, for the ack histogram's label."""
    if body.get("command"):
        return "command"
    kind = body.get("type")
    if kind in _INTERACTION_TYPES:
        return str(kind)
    if kind == "event_callback":
        return "event"
    return OTHER


def observe_ack(body: Mapping[str, Any], seconds: float) -> None:
    """Record how long acknowledging one Slack request took."""
    ACK_SECONDS.labels(payload_kind(body)).observe(seconds)


class TimedSocketModeHandler(AsyncSocketModeHandler):
    """Bolt's Socket Mode handler, timing each request from its arrival to the ack sent back."""

    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        """Dispatch one Socket Mode request and record how long its ack took."""
        started = time.perf_counter()
        await super().handle(client, req)
        observe_ack(req.payload if isinstance(req.payload, Mapping) else {}, time.perf_counter() - started)


class PostDicomMetrics:
    """The PostDICOM clients' observer: request latency by method, failures by method and kind."""

    def answered(self, operation: str, seconds: float) -> None:
        """Record an answered request."""
        POSTDICOM_SECONDS.labels(operation).observe(seconds)

    def failed(self, operation: str, error: PostDicomError) -> None:
        """Record a failed request by the class of its error."""
        POSTDICOM_ERRORS.labels(operation, type(error).__name__).inc()

    def uploaded(self, byte_count: int) -> None:
        """Record bytes sent on an upload socket."""
        UPLOADED_BYTES.inc(byte_count)


def _slack_method(request: HttpRequest) -> str:
    method = request.url.rstrip("/").rsplit("/", 1)[-1]
    return method if _SLACK_METHOD.fullmatch(method) else OTHER


class SlackCallObserver(AsyncRetryHandler):
    """A retry handler that never retries: slack_sdk shows it every answer and error, so it counts failures."""

    async def can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        """Count the attempt if it failed; never ask for a retry (the handlers after this one decide)."""
        failure: str | None = None
        if error is not None:
            failure = type(error).__name__
        elif response is not None:
            body = response.body if isinstance(response.body, Mapping) else {}
            if response.status_code == 429:
                failure = "ratelimited"
            elif body.get("ok") is False:
                code = str(body.get("error") or "")
                failure = code if _SLACK_ERROR.fullmatch(code) else OTHER
            elif response.status_code >= 400:
                failure = f"http_{response.status_code // 100}xx"
        if failure is not None:
            SLACK_API_ERRORS.labels(_slack_method(request), failure).inc()
        return False


class CountingRateLimitHandler(AsyncRateLimitErrorRetryHandler):
    """slack_sdk's rate-limit retry handler, counting each wait and its length."""

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        """Wait as slack_sdk does, and count the wait."""
        started = time.perf_counter()
        try:
            await super().prepare_for_next_attempt_async(
                state=state, request=request, response=response, error=error
            )
        finally:
            method = _slack_method(request)
            SLACK_RATE_LIMIT_WAITS.labels(method).inc()
            SLACK_RATE_LIMIT_WAIT_SECONDS.labels(method).inc(time.perf_counter() - started)


def instrument_slack_client(client: AsyncWebClient) -> None:
    """Count the Web API failures and rate-limit waits of a client and of every client Bolt copies from it."""
    # Bolt copies this list into each request's client, so changing it in place reaches them all.
    handlers = client.retry_handlers
    if any(isinstance(handler, SlackCallObserver) for handler in handlers):
        return
    for index, handler in enumerate(handlers):
        if type(handler) is AsyncRateLimitErrorRetryHandler:
            counting = CountingRateLimitHandler(max_retry_count=handler.max_retry_count)
            counting.interval_calculator = handler.interval_calculator
            handlers[index] = counting
    handlers.insert(0, SlackCallObserver(max_retry_count=0))


class _CacheCollector(Collector):
    """Cache hits, misses and shared loads, read from the live caches at scrape time."""

    def __init__(self) -> None:
        self.caches: weakref.WeakSet[SingleFlightCache] = weakref.WeakSet()

    def collect(self) -> Iterable[Metric]:
        """Yield the lookups counter, summed over every live cache."""
        family = CounterMetricFamily(
            "pacsbot_cache_lookups",
            "Lookups in the PostDICOM dictionary cache: hit, miss, or shared (waited for a load under way).",
            labels=["result"],
        )
        totals = {"hit": 0, "miss": 0, "shared": 0}
        for cache in list(self.caches):
            totals["hit"] += cache.stats["hits"]
            totals["miss"] += cache.stats["misses"]
            totals["shared"] += cache.stats["shared"]
        for result, value in totals.items():
            family.add_metric([result], value)
        yield family

    def describe(self) -> Iterable[Metric]:
        """Describe the counter (its current values will do)."""
        return self.collect()


class PostDicomClientMetrics:
    """The client registry's observer: openings (first or again) and evictions by reason."""

    def opened(self, seconds: float, *, reopened: bool) -> None:
        """Record how long opening a client took."""
        POSTDICOM_CLIENT_OPEN_SECONDS.labels("reopen" if reopened else "first").observe(seconds)

    def released(self, reason: Eviction) -> None:
        """Count a client leaving the registry."""
        POSTDICOM_CLIENT_RELEASES.labels(reason.value).inc()


class _ClientsCollector(Collector):
    """Open PostDICOM clients, read from the live registries at scrape time."""

    def __init__(self) -> None:
        self.registries: weakref.WeakSet[PostDicomClients] = weakref.WeakSet()

    def collect(self) -> Iterable[Metric]:
        """Yield the open clients gauge, and the clients waiting for their work to end to close."""
        registries = list(self.registries)
        family = GaugeMetricFamily(
            "pacsbot_postdicom_clients",
            "PostDICOM clients (one WebSocket each): open ones, and closing ones waiting for their work to end.",
            labels=["state"],
        )
        family.add_metric(["open"], sum(len(registry) for registry in registries))
        family.add_metric(["closing"], sum(registry.clients_closing for registry in registries))
        yield family

    def describe(self) -> Iterable[Metric]:
        """Describe the gauge (its current values will do)."""
        return self.collect()


_CACHES = _CacheCollector()
REGISTRY.register(_CACHES)
_CLIENTS = _ClientsCollector()
REGISTRY.register(_CLIENTS)
_POSTDICOM = PostDicomMetrics()
_POSTDICOM_CLIENTS = PostDicomClientMetrics()


def install(*, cache: SingleFlightCache | None = None, clients: PostDicomClients | None = None) -> None:
    """Start counting PostDICOM requests process-wide, and watch a dictionary cache and client registry."""
    set_default_observer(_POSTDICOM)
    if cache is not None:
        _CACHES.caches.add(cache)
    if clients is not None:
        clients.observer = _POSTDICOM_CLIENTS
        _CLIENTS.registries.add(clients)


async def refresh_upload_jobs(store: Store) -> None:
    """Read the upload job counts from the database into their gauge, keeping the last ones on failure."""
    try:
        async with asyncio.timeout(UPLOAD_COUNT_TIMEOUT_SECONDS):
            counts = await store.upload_jobs.counts_by_state()
    except Exception as error:
        logger.warning("could not count upload jobs for /metrics: %s", type(error).__name__)
        return
    for state in UploadState:
        UPLOAD_JOBS.labels(state.value).set(counts.get(state, 0))


async def render(store: Store) -> bytes:
    """Return every metric in Prometheus' text format, upload job counts fresh from the database."""
    await refresh_upload_jobs(store)
    return generate_latest(REGISTRY)
