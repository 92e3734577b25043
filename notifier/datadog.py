"""Deliver one event to Datadog's Events API (v1) with our own bounded retry loop.

The client's built-in retry is off: it neither knows the Lambda's remaining time nor that a 403 will
never heal. Here 429 and 5xx are retried (429 waits `X-RateLimit-Reset`), never sleeping past the
invocation's deadline; then `DatadogUnavailableError` lets Lambda's retries and the DLQ keep the event.
Any 2xx is an accepted event, whatever its body says (docs/architecture.md, The notifier, "At most one
event per accepted answer"); a 413 is resent once, smaller; a 400 or a second 413 raises
`DatadogRefusedError`, which no retry can fix. Only the v1 events modules are imported so the Lambda zip
can carry a trimmed client.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
import urllib3
from datadog_api_client.api_client import ApiClient
from datadog_api_client.configuration import Configuration
from datadog_api_client.exceptions import ApiException
from datadog_api_client.v1.api.events_api import EventsApi as EventsApi  # the handler annotates with it
from datadog_api_client.v1.model.event_alert_type import EventAlertType
from datadog_api_client.v1.model.event_create_request import EventCreateRequest
from datadog_api_client.v1.model.event_priority import EventPriority

from notifier.model import EventDraft
from notifier.shrink import shrunk

__all__ = [
    "DatadogAuthError", "DatadogError", "DatadogRefusedError", "DatadogRejectedError",
    "DatadogUnavailableError", "EventsApi", "RetryPolicy", "accepted_event_id", "backoff", "events_api",
    "may_have_arrived", "post_event", "retry_delay", "to_request",
]

RATE_LIMIT_RESET = "x-ratelimit-reset"


class DatadogError(RuntimeError):
    """Datadog did not accept the event."""


class DatadogAuthError(DatadogError):
    """401/403: the API key is wrong or belongs to another Datadog site. Retrying cannot help."""


class DatadogRejectedError(DatadogError):
    """4xx other than auth and rate limits (404, 405, ...): the request is wrong. Not retried here."""

    def __init__(self, message: str, *, status: int = 0, reason: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


class DatadogRefusedError(DatadogRejectedError):
    """400, or 413 after one smaller resend: Datadog refused this event's content; no retry can fix it."""


class DatadogUnavailableError(DatadogError):
    """429/5xx/network errors until the invocation's time ran out: raise so Lambda retries later."""


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_delay_s: float = 1.0
    max_backoff_s: float = 30.0
    # Time kept back for marking the object, logging and metrics after the last attempt.
    safety_margin_s: float = 3.0
    # The Datadog Agent gives each request to Datadog's intake 20 s (`forwarder_timeout`, default 20: "Set
    # timeout in seconds for outgoing requests to Datadog", datadog.conf.example and the Agent's
    # config_template.yaml, checked 2026-12). Cutting an answer short means posting the event again.
    request_timeout_s: float = 20.0
    # An attempt is not started with less time than this left for the request itself.
    min_request_s: float = 1.0


def events_api(api_url: str, api_key: str) -> EventsApi:
    configuration = Configuration(
        host=api_url,
        api_key={"apiKeyAuth": api_key},
        enable_retry=False,
        # urllib3's own retries off too: every attempt goes through our deadline-aware loop.
        retry_policy=False,
        check_return_type=False,
        # The raw answer: a 2xx is accepted whatever its body (the client's decoding of a non-JSON body
        # would raise after Datadog took the event), and the client does not log the body at DEBUG.
        preload_content=False,
    )
    return EventsApi(ApiClient(configuration))


def to_request(draft: EventDraft) -> EventCreateRequest:
    return EventCreateRequest(
        title=draft.title,
        text=draft.text,
        alert_type=EventAlertType(draft.alert_type),
        aggregation_key=draft.aggregation_key,
        date_happened=draft.date_happened,
        priority=EventPriority(draft.priority),
        tags=list(draft.tags),
    )


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return value
    return None


def datadog_message(error: ApiException) -> str:
    """Datadog's own words (`{"errors": [...]}`), short enough for a log line and never the key."""
    body: Any = getattr(error, "body", None)
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        return "; ".join(str(e) for e in body["errors"])[:500]
    if body:
        return str(body)[:500]
    return str(error.reason or "no message")


def _seconds(text: str | None) -> float | None:
    """A header's number of seconds; None when absent or malformed (then backoff applies)."""
    try:
        return max(float(text), 0.0) if text is not None else None
    except ValueError:
        return None


def retry_delay(status: int, headers: Mapping[str, str] | None, attempt: int, policy: RetryPolicy) -> float:
    """429: Datadog says when the window resets; otherwise exponential backoff (1, 2, 4, ... s)."""
    reset = _seconds(_header(headers, RATE_LIMIT_RESET)) if status == 429 else None
    return reset if reset is not None else backoff(attempt, policy)


def backoff(attempt: int, policy: RetryPolicy) -> float:
    """The wait after failed attempt `attempt` (1-based): 1, 2, 4, ... s up to the policy's cap."""
    return min(policy.base_delay_s * 2.0 ** (attempt - 1), policy.max_backoff_s)


def accepted_event_id(response: Any) -> str | None:
    """The event id of a 2xx answer, when its body is Datadog's JSON; None for any other body.

    The answer is accepted either way: failing to read the body must not make the event posted twice.
    """
    try:
        data = response.data
    except (urllib3.exceptions.HTTPError, OSError):
        return None
    finally:
        response.release_conn()
    try:
        return _event_id(orjson.loads(data))
    except orjson.JSONDecodeError:
        return None


def _event_id(response: Any) -> str | None:
    try:
        event = response["event"]
        found = event.get("id_str") or event.get("id")
    except (KeyError, TypeError, AttributeError):
        return None
    # An answer without an id still means "accepted": the mark then says so rather than "None".
    return None if found is None else str(found)


def _is_transient(status: int) -> bool:
    # status 0: the client's wrapper for connection-level failures (e.g. TLS).
    return status in (0, 408, 429) or 500 <= status <= 599


# Datadog refused the event itself: a 400 says what is wrong with it; a 413 says it is too large.
BAD_REQUEST = 400
TOO_LARGE = 413


def may_have_arrived(error: urllib3.exceptions.HTTPError) -> bool:
    """Whether a failed request may still have reached Datadog (so a repeat could post the event twice).

    A connection that was never made (refused, or timed out while connecting) sent nothing; a read that
    timed out or a connection dropped after the request was sent may have delivered it.
    """
    return not isinstance(error, urllib3.exceptions.ConnectTimeoutError)


def post_event(
    api: EventsApi,
    draft: EventDraft,
    *,
    remaining_s: Callable[[], float],
    sleep: Callable[[float], None],
    policy: RetryPolicy = RetryPolicy(),
    on_repeat: Callable[[str], None] | None = None,
) -> str | None:
    """Post until Datadog accepts (returns the event id, if Datadog gave one) or raise a DatadogError.

    `on_repeat` is told (with what happened) before a request that may post the event a second time:
    after a timeout or a dropped connection, Datadog may have the first one.
    """
    request = to_request(draft)
    host = api.api_client.configuration.host
    last = "no attempt"
    resent_smaller = False
    for attempt in range(1, policy.max_attempts + 1):
        uncertain = False
        budget = remaining_s() - policy.safety_margin_s
        if budget < policy.min_request_s:
            break
        api.api_client.configuration.request_timeout = min(policy.request_timeout_s, budget)
        try:
            return accepted_event_id(api.create_event(body=request))
        except ApiException as error:
            status = int(error.status or 0)
            _raise_if_final(status, error, host, resent_smaller)
            if status == TOO_LARGE:
                # Once, at once: a smaller text (the beginning and the end of it) in place of the whole.
                request, resent_smaller, last = to_request(shrunk(draft)), True, "HTTP 413: too large"
                continue
            last = f"HTTP {status}: {datadog_message(error)}"
            delay = retry_delay(status, error.headers, attempt, policy)
        except urllib3.exceptions.HTTPError as error:
            last = f"{type(error).__name__}: {error}"
            delay = backoff(attempt, policy)
            uncertain = may_have_arrived(error)
        if attempt == policy.max_attempts:
            break
        if delay + policy.min_request_s > remaining_s() - policy.safety_margin_s:
            break
        if uncertain and on_repeat is not None:
            on_repeat(last)
        sleep(delay)
    if last == "no attempt":
        # Not Datadog's doing: the invocation had used its time before the first request.
        raise DatadogUnavailableError(
            f"no time was left to post the event to {host} ({max(remaining_s(), 0):.1f} s left, "
            f"{policy.safety_margin_s + policy.min_request_s:.1f} s needed); nothing was sent. Raising so "
            "that Lambda retries and the dead-letter queue keep it"
        )
    raise DatadogUnavailableError(
        f"Datadog did not accept the event at {host} before the invocation's time ran out "
        f"(last answer: {last}); raising so that Lambda retries and the dead-letter queue keep it"
    )


def _raise_if_final(status: int, error: ApiException, host: str, resent_smaller: bool) -> None:
    """Raise for an answer no later attempt can change: a refused key, a refused event, a wrong request."""
    if status in (401, 403):
        raise DatadogAuthError(
            f"Datadog refused the API key (HTTP {status}) at {host}: the Datadog API key is wrong, "
            "or it belongs to another Datadog site than DD_SITE; check the secret named by "
            "DD_API_KEY_SECRET_ARN and DD_SITE"
        ) from None
    message = datadog_message(error)
    if status == BAD_REQUEST or (status == TOO_LARGE and resent_smaller):
        smaller = " (the second time with a smaller text)" if status == TOO_LARGE else ""
        raise DatadogRefusedError(f"Datadog refused the event (HTTP {status}){smaller}: {message}",
                                  status=status, reason=message) from None
    if not _is_transient(status) and status != TOO_LARGE:
        raise DatadogRejectedError(f"Datadog rejected the event (HTTP {status}): {message}",
                                   status=status, reason=message) from None
