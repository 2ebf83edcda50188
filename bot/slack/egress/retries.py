"""How a Slack Web API call made while someone waits (a reply, an ephemeral, an App Home publish) is retried.

slack-sdk retries inside the call, before the response reaches our code, through retry handlers on the client. They
see the HTTP answer only: a 429 or a 5xx status, or an exception from aiohttp. An HTTP 200 with ``"ok": false`` (an
``invalid_blocks``, a ``channel_not_found``) becomes a `SlackApiError` after the handlers and is never retried: it
would fail the same way again. Retrying in place keeps a conversation's replies in order: the turn waits, and its
next reply is sent only after this one.

The rules, for the shared client (`reply_client`) and for `response_url` posts (`response_client`):

* **429**: Slack refused the call before doing anything, so it is always safe to repeat. The wait is Slack's
  ``Retry-After`` (1 s when absent), as slack-sdk's `AsyncRateLimitErrorRetryHandler` does.
* **5xx** (500, 502, 503, 504): repeated with slack-sdk's back-off. For the calls that post something
  (``chat.postMessage``, ``chat.postEphemeral``, a response_url) this is a trade-off: Slack may in rare cases have
  stored the message before failing, and the person then sees the reply twice. A duplicate reply is visible and
  harmless; a lost one leaves a customer waiting for an answer that never comes.
* **Connection errors**: a call whose connection was never made (`ClientConnectorError`) never reached Slack and
  is repeated. A connection that dropped, or a timeout, after the request was sent is the case where Slack has
  most likely accepted it: repeated only for calls that give the same result when made twice (``views.publish``,
  ``chat.update``, look-ups); for posts it is not, and the error reaches the caller.
* **A bound**: a retry starts only if it starts within `MAX_WAIT_SECONDS` (10 s) of the first attempt's end, and
  one attempt lasts at most `CALL_TIMEOUT_SECONDS` (10 s). A ``Retry-After`` longer than what is left is not
  waited for at all: the call fails at once instead of sleeping and then failing. So a rate-limited call gives up
  within 10 s, and even a Slack that accepts connections and never answers holds a call at most 30 s (first
  attempt, the window, one last attempt), 10 s for a post (whose timeout is not repeated). Ten seconds cover the
  usual ``Retry-After`` of Slack's one-message-per-second channel limit several times over, are as long as anyone
  should wait for a reply, and fit in the 20 s `chargedesk run` gives turns in flight at SIGTERM.
  A conversation reply that still could not be sent waits in the durable queue (`SlackConversations._say`).

The durable sender (`delivery.py`) does not use these handlers: it removes them from its copy of the client and
retries across rounds itself, for as long as it takes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence

from aiohttp import ClientConnectorError, ClientOSError, ServerConnectionError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

logger = logging.getLogger(__name__)

MAX_WAIT_SECONDS = 10.0  # a retry must start within this long after the first attempt ended
CALL_TIMEOUT_SECONDS = 10  # one attempt (slack-sdk's default is 30 s)
MAX_RETRIES = 4  # attempts after the first, whatever their cause (slack-sdk counts them across handlers)
_DEFAULT_RETRY_AFTER = 1.0
_SERVER_ERRORS = frozenset({500, 502, 503, 504})

# Web API methods that give the same result when Slack receives them twice: a dropped connection may be repeated.
# views.open is here because its trigger id works once: a second open of an accepted one is refused, not shown.
REPEATABLE_METHODS = frozenset(
    {
        "auth.test",
        "chat.update",
        "conversations.info",
        "conversations.open",
        "usergroups.users.list",
        "users.info",
        "users.lookupByEmail",
        "views.open",
        "views.publish",
        "views.update",
    }
)


def _method(request: HttpRequest) -> str:
    """The Web API method of a request (``…/api/chat.postMessage`` → ``chat.postMessage``); "" for a response_url."""
    path = request.url.split("?", 1)[0].rstrip("/")
    head, _, method = path.rpartition("/")
    return method if head.endswith("/api") else ""


def _elapsed(state: RetryState) -> float:
    """Seconds since the call's first answer (or error) reached a handler: the budget's clock.

    slack-sdk creates the state before the first attempt but shows it to handlers only once that attempt ended, so
    the budget covers the waits and every attempt after the first.
    """
    if state.custom_values is None:
        state.custom_values = {}
    since = state.custom_values.setdefault("since", time.monotonic())
    return time.monotonic() - float(since)


def _fits(state: RetryState, seconds: float) -> bool:
    return _elapsed(state) + seconds <= MAX_WAIT_SECONDS


async def _wait(state: RetryState, seconds: float, why: str, request: HttpRequest) -> None:
    """Sleep `seconds`, count them against the call's budget, and ask slack-sdk for the next attempt."""
    state.next_attempt_requested = True
    # The method and the cause only: arguments may carry personal data.
    logger.info("Slack %s: %s, trying again in %.1f s", _method(request) or "response_url", why, seconds)
    await asyncio.sleep(seconds)
    state.increment_current_attempt()


def _backoff(state: RetryState) -> float:
    # slack-sdk's back-off (0.5, 1, 2 … s) without its random jitter, so that what a handler checked against the
    # budget is what it then sleeps.
    return 0.5 * 2.0**state.current_attempt


def retry_after(response: HttpResponse) -> float:
    """Slack's Retry-After in seconds (whole seconds in practice); 1 s when absent or unreadable."""
    for name, values in response.headers.items():
        if name.lower() == "retry-after":
            value = values[0] if isinstance(values, list) and values else values
            try:
                return max(0.0, float(str(value)))
            except ValueError:
                return _DEFAULT_RETRY_AFTER
    return _DEFAULT_RETRY_AFTER


class BoundedRateLimitRetry(AsyncRateLimitErrorRetryHandler):
    """slack-sdk's 429 handler, waiting exactly Retry-After, and only while the call's budget allows it."""

    def __init__(self, max_retry_count: int = MAX_RETRIES, on_rate_limited: Callable[[], None] | None = None) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self._on_rate_limited = on_rate_limited  # told of every 429 (for /metrics)

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if not await super()._can_retry_async(state=state, request=request, response=response, error=error):
            return False
        if self._on_rate_limited is not None:
            self._on_rate_limited()
        assert response is not None  # the parent only retries a response with status 429
        wait = retry_after(response)
        if not _fits(state, wait):
            logger.warning(
                "Slack %s: rate limited for %.0f s, more than this call may wait; giving up",
                _method(request) or "response_url",
                wait,
            )
            return False
        return True

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        # slack-sdk adds up to a second of jitter to Retry-After; Slack's limit is per channel and exact, and a
        # jitter would only eat the budget.
        await _wait(state, retry_after(response) if response is not None else _DEFAULT_RETRY_AFTER, "429", request)


class BoundedServerErrorRetry(AsyncServerErrorRetryHandler):
    """slack-sdk's 5xx handler (with 502 and 504 too), backing off 0.5, 1, 2 … s within the call's budget."""

    def __init__(self, max_retry_count: int = MAX_RETRIES) -> None:
        super().__init__(max_retry_count=max_retry_count)

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code in _SERVER_ERRORS and _fits(state, _backoff(state))

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        status = response.status_code if response is not None else 0
        await _wait(state, _backoff(state), f"HTTP {status}", request)


class BoundedConnectionErrorRetry(AsyncConnectionErrorRetryHandler):
    """slack-sdk's connection-error handler; after the request may have reached Slack, only for repeatable calls."""

    def __init__(self, max_retry_count: int = MAX_RETRIES) -> None:
        super().__init__(
            max_retry_count=max_retry_count,
            error_types=[ServerConnectionError, ClientOSError, asyncio.TimeoutError],
        )

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if error is None or not _fits(state, _backoff(state)):
            return False
        if isinstance(error, ClientConnectorError):
            return True  # no connection, so nothing was sent
        return _method(request) in REPEATABLE_METHODS and await super()._can_retry_async(
            state=state, request=request, response=response, error=error
        )

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        await _wait(state, _backoff(state), type(error).__name__, request)


def retry_handlers(on_rate_limited: Callable[[], None] | None = None) -> Sequence[AsyncRetryHandler]:
    """The handlers, in the order slack-sdk asks them (the first that wants to retry does)."""
    return [
        BoundedRateLimitRetry(on_rate_limited=on_rate_limited),
        BoundedServerErrorRetry(),
        BoundedConnectionErrorRetry(),
    ]


def reply_client(
    token: str, base_url: str | None = None, on_rate_limited: Callable[[], None] | None = None
) -> AsyncWebClient:
    """The Web API client for everything said while someone waits, with the retry rules above."""
    return AsyncWebClient(
        token=token,
        base_url=base_url or AsyncWebClient.BASE_URL,
        timeout=CALL_TIMEOUT_SECONDS,
        retry_handlers=list(retry_handlers(on_rate_limited)),
    )


def response_client(response_url: str) -> AsyncWebhookClient:
    """A client for an interaction's `response_url`, with the same rules (bolt's `respond` retries nothing)."""
    return AsyncWebhookClient(url=response_url, timeout=CALL_TIMEOUT_SECONDS, retry_handlers=list(retry_handlers()))
