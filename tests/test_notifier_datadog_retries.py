"""Datadog's retry loop: what is retried, how long it waits, and that giving up always raises.

Datadog is a loopback HTTP server (pytest-httpserver) speaking the Events API's status codes and
headers; time is a FakeClock, so every wait is recorded instead of slept. Lambda's deadline is the
FakeContext's. Raising matters: the handler marks an object only after `post_event` returned, so a
`post_event` that gave up quietly would lose the alert.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws
from werkzeug import Response

from notifier import handler as notifier
from notifier.datadog import (
    DatadogAuthError,
    DatadogRejectedError,
    DatadogUnavailableError,
    EventsApi,
    RetryPolicy,
    _is_transient,
    events_api,
    post_event,
)
from notifier.render import EventDraft
from notifier.storage import MARK_TAG, REFUSED_TAG
from tests.notifier_support import (
    DATA_KEY,
    FAKE_KEY,
    FakeClock,
    gz,
    ndjson,
    notifier_context,
    s3_event,
    scanner_batch,
)

EVENTS = "/api/v1/events"
ACCEPTED = {"status": "ok", "event": {"id": 7700000000000000001, "id_str": "7700000000000000001"}}
DRAFT = EventDraft(title="3 rejected flows from 1 source · 123456789012 · 18:00 UTC",
                   text="%%%\nbody\n%%%", alert_type="warning",
                   aggregation_key="rejected-flows:dev:2026-11-27T18", date_happened=1_795_802_459,
                   tags=("env:dev", "source:rejected-flows"))
# Datadog's documented rate-limit headers on a 429 (docs.datadoghq.com/api/latest/rate-limits, 2026-11).
RATE_LIMITED = {"X-RateLimit-Limit": "1000", "X-RateLimit-Period": "60", "X-RateLimit-Remaining": "0"}



def datadog_answers(httpserver, *answers: tuple[int, dict | str, dict[str, str]]) -> None:
    """Datadog answers these (status, body, headers) in order, then keeps answering the last one."""
    for status, body, headers in answers[:-1]:
        httpserver.expect_ordered_request(EVENTS, method="POST") \
            .respond_with_response(response(status, body, headers))
    status, body, headers = answers[-1]
    httpserver.expect_request(EVENTS, method="POST").respond_with_response(response(status, body, headers))


def response(status: int, body: dict | str, headers: dict[str, str]) -> Response:
    if isinstance(body, dict):
        return Response(json.dumps(body), status=status, headers=headers, content_type="application/json")
    return Response(body, status=status, headers=headers, content_type="text/plain")


def post(api: EventsApi, clock: FakeClock, *, seconds_left: float = 60.0,
         policy: RetryPolicy | None = None) -> str | None:
    context = notifier_context(clock, seconds_left)
    return post_event(api, DRAFT, remaining_s=lambda: context.get_remaining_time_in_millis() / 1000,
                      sleep=clock.sleep, policy=policy or RetryPolicy())


def api_for(httpserver) -> EventsApi:
    return events_api(httpserver.url_for("").rstrip("/"), FAKE_KEY)


def unavailable(message: str = "Service Unavailable") -> tuple[int, dict, dict[str, str]]:
    return 503, {"errors": [message]}, {}


# --- giving up: attempts, deadline ------------------------------------------------------------

def test_when_every_attempt_fails_with_time_to_spare_post_event_raises_after_the_last(httpserver, clock):
    datadog_answers(httpserver, unavailable())

    with pytest.raises(DatadogUnavailableError, match=r"last answer: HTTP 503: Service Unavailable"):
        post(api_for(httpserver), clock, seconds_left=900.0, policy=RetryPolicy(max_attempts=3))

    assert len(httpserver.log) == 3
    assert clock.sleeps == [1.0, 2.0]  # no wait after the last attempt


def test_backoff_doubles_up_to_its_cap_over_the_default_eight_attempts(httpserver, clock):
    datadog_answers(httpserver, unavailable())

    with pytest.raises(DatadogUnavailableError):
        post(api_for(httpserver), clock, seconds_left=900.0)

    assert len(httpserver.log) == 8
    assert clock.sleeps == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]


def test_with_less_than_the_safety_margin_and_one_request_left_nothing_is_sent(httpserver, clock):
    datadog_answers(httpserver, (202, ACCEPTED, {}))
    policy = RetryPolicy(safety_margin_s=3.0, min_request_s=1.0)

    with pytest.raises(DatadogUnavailableError,
                       match=r"no time was left to post the event .*\(3\.9 s left, 4\.0 s needed\)"):
        post(api_for(httpserver), clock, seconds_left=3.9, policy=policy)

    assert httpserver.log == [] and clock.sleeps == []


def test_exactly_the_safety_margin_and_one_request_left_is_enough_to_try(httpserver, clock):
    datadog_answers(httpserver, (202, ACCEPTED, {}))
    api = api_for(httpserver)

    assert post(api, clock, seconds_left=4.0, policy=RetryPolicy(safety_margin_s=3.0, min_request_s=1.0)) \
        == "7700000000000000001"
    assert api.api_client.configuration.request_timeout == pytest.approx(1.0)


def test_a_wait_that_would_leave_less_than_one_request_before_the_margin_is_not_started(httpserver, clock):
    # 4.9 s left: one attempt (1.9 s of budget); waiting 1 s would leave 0.9 s, less than one request.
    datadog_answers(httpserver, unavailable())
    policy = RetryPolicy(safety_margin_s=3.0, min_request_s=1.0)

    with pytest.raises(DatadogUnavailableError):
        post(api_for(httpserver), clock, seconds_left=4.9, policy=policy)

    assert len(httpserver.log) == 1 and clock.sleeps == []


def test_a_wait_that_leaves_exactly_one_request_before_the_margin_is_taken(httpserver, clock):
    datadog_answers(httpserver, unavailable(), (202, ACCEPTED, {}))
    policy = RetryPolicy(safety_margin_s=3.0, min_request_s=1.0)

    assert post(api_for(httpserver), clock, seconds_left=5.0, policy=policy) == "7700000000000000001"
    assert clock.sleeps == [1.0]


# --- what each attempt may take -----------------------------------------------------------------

def record_timeouts(api: EventsApi) -> list[float | None]:
    """The client's request timeout at the moment of each request."""
    seen: list[float | None] = []
    create = api.create_event

    def recording(**kwargs):
        seen.append(api.api_client.configuration.request_timeout)
        return create(**kwargs)

    api.create_event = recording  # type: ignore[method-assign]
    return seen


def test_each_attempt_gets_the_policy_timeout_or_what_is_left_before_the_margin(httpserver, clock):
    datadog_answers(httpserver, unavailable(), unavailable(), (202, ACCEPTED, {}))
    api = api_for(httpserver)
    timeouts = record_timeouts(api)

    event_id = post(api, clock, seconds_left=9.0, policy=RetryPolicy(safety_margin_s=3.0))

    assert event_id == "7700000000000000001"
    # 9 s left: 6 s of budget; after waiting 1 s, 5 s; after waiting 2 s more, 3 s.
    assert timeouts == [pytest.approx(6.0), pytest.approx(5.0), pytest.approx(3.0)]


def test_with_time_to_spare_an_attempt_waits_at_most_the_policy_timeout(httpserver, clock):
    datadog_answers(httpserver, (202, ACCEPTED, {}))
    api = api_for(httpserver)
    timeouts = record_timeouts(api)

    post(api, clock, seconds_left=900.0, policy=RetryPolicy(request_timeout_s=10.0))

    assert timeouts == [10.0]


def test_a_datadog_that_does_not_answer_in_time_is_retried_then_given_up(clock):
    slow = SilentServer()
    api = events_api(slow.url, FAKE_KEY)
    started = time.monotonic()

    with pytest.raises(DatadogUnavailableError, match=r"last answer: \w*Timeout"):
        post(api, clock, seconds_left=900.0, policy=RetryPolicy(max_attempts=2, request_timeout_s=0.2))

    assert time.monotonic() - started < 5.0  # two 0.2 s timeouts; without them it would hang
    assert slow.connections() == 2
    assert clock.sleeps == [1.0]


class SilentServer:
    """Takes connections (the kernel's backlog completes them) and never answers: a Datadog that hangs."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._accepted: list[socket.socket] = []
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def connections(self) -> int:
        """Connections made so far; closes the server."""
        self._listener.setblocking(False)
        try:
            while True:
                self._accepted.append(self._listener.accept()[0])
        except BlockingIOError:
            pass
        for conn in self._accepted:
            conn.close()
        self._listener.close()
        return len(self._accepted)


def test_the_client_never_retries_on_its_own(clock):
    # urllib3 would otherwise retry a refused connection itself, outside the deadline arithmetic,
    # and report MaxRetryError instead of the error that happened.
    api = events_api("http://127.0.0.1:9", FAKE_KEY)  # discard port: nothing listens

    with pytest.raises(DatadogUnavailableError) as raised:
        post(api, clock, seconds_left=900.0, policy=RetryPolicy(max_attempts=2))

    assert "last answer: NewConnectionError: " in str(raised.value)
    assert "Max retries" not in str(raised.value)
    assert clock.sleeps == [1.0]
    configuration = api.api_client.configuration
    assert configuration.enable_retry is False and configuration.retry_policy is False


# --- rate limits --------------------------------------------------------------------------------

def test_rate_limited_waits_for_the_reset_datadog_names(httpserver, clock):
    datadog_answers(httpserver, (429, {"errors": ["Rate limit exceeded"]}, {**RATE_LIMITED,
                                                                             "X-RateLimit-Reset": "12"}),
                    (202, ACCEPTED, {}))

    assert post(api_for(httpserver), clock) == "7700000000000000001"
    assert clock.sleeps == [12.0]


@pytest.mark.parametrize(("reset", "waited"), [(None, 1.0), ("soon", 1.0), ("-5", 0.0), ("2.5", 2.5)],
                         ids=["absent", "malformed", "negative", "fractional"])
def test_rate_limited_without_a_usable_reset_backs_off_instead(httpserver, clock, reset, waited):
    headers = {**RATE_LIMITED, **({"X-RateLimit-Reset": reset} if reset is not None else {})}
    datadog_answers(httpserver, (429, {"errors": ["Rate limit exceeded"]}, headers), (202, ACCEPTED, {}))

    assert post(api_for(httpserver), clock) == "7700000000000000001"
    assert clock.sleeps == [waited]


def test_a_reset_header_on_a_server_error_is_not_a_rate_limit(httpserver, clock):
    datadog_answers(httpserver, (500, {"errors": ["Internal error"]}, {"X-RateLimit-Reset": "40"}),
                    (202, ACCEPTED, {}))

    post(api_for(httpserver), clock)

    assert clock.sleeps == [1.0]


# --- which answers are worth another attempt ----------------------------------------------------

@pytest.mark.parametrize(("status", "transient"), [
    (0, True),  # the client's status for a connection-level (TLS) failure
    (200, False), (400, False), (401, False), (403, False), (404, False),
    (408, True), (413, False), (429, True), (499, False),
    (500, True), (502, True), (503, True), (599, True), (600, False),
])
def test_only_timeouts_rate_limits_server_errors_and_broken_connections_are_transient(status, transient):
    assert _is_transient(status) is transient


@pytest.mark.parametrize("status", [408, 599])
def test_edge_statuses_that_may_heal_are_retried(httpserver, clock, status):
    datadog_answers(httpserver, (status, {"errors": ["try again"]}, {}), (202, ACCEPTED, {}))

    assert post(api_for(httpserver), clock) == "7700000000000000001"
    assert len(httpserver.log) == 2 and clock.sleeps == [1.0]


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_key_is_not_retried(httpserver, clock, status):
    datadog_answers(httpserver, (status, {"errors": ["Unauthorized"]}, {}))

    with pytest.raises(DatadogAuthError, match=f"HTTP {status}") as raised:
        post(api_for(httpserver), clock)

    assert f"at {httpserver.url_for('').rstrip('/')}:" in str(raised.value), "names the host it tried"

    assert len(httpserver.log) == 1 and clock.sleeps == []


def test_a_refused_event_quotes_every_datadog_error_and_is_not_retried(httpserver, clock):
    datadog_answers(httpserver, (400, {"errors": ["title too long", "text too long"]}, {}))

    with pytest.raises(DatadogRejectedError, match=r"\(HTTP 400\): title too long; text too long$"):
        post(api_for(httpserver), clock)

    assert len(httpserver.log) == 1 and clock.sleeps == []


def test_datadogs_words_are_cut_short_for_the_log(httpserver, clock):
    datadog_answers(httpserver, (422, {"errors": ["x" * 2000]}, {}))

    with pytest.raises(DatadogRejectedError) as raised:
        post(api_for(httpserver), clock)

    assert str(raised.value).endswith(": " + "x" * 500)


def test_a_plain_text_refusal_is_quoted_as_it_came(httpserver, clock):
    datadog_answers(httpserver, (404, "no such endpoint on this intake", {}))

    with pytest.raises(DatadogRejectedError, match=r"\(HTTP 404\): no such endpoint on this intake$"):
        post(api_for(httpserver), clock)


def test_a_long_plain_text_refusal_is_cut_short(httpserver, clock):
    datadog_answers(httpserver, (404, "<html>" + "y" * 2000, {}))

    with pytest.raises(DatadogRejectedError) as raised:
        post(api_for(httpserver), clock)

    assert str(raised.value).endswith(": <html>" + "y" * 494)


def test_a_refusal_without_a_body_names_the_reason(httpserver, clock):
    datadog_answers(httpserver, (405, "", {}))

    with pytest.raises(DatadogRejectedError, match=r"\(HTTP 405\): METHOD NOT ALLOWED$"):
        post(api_for(httpserver), clock)


def test_a_refusal_without_a_body_or_a_reason_phrase_says_there_was_no_message(httpserver, clock):
    # HTTP/1.1 allows an empty reason phrase ("HTTP/1.1 422 "); some proxies send one.
    bare = Response("", status=422)
    bare._status = "422 "
    httpserver.expect_request(EVENTS, method="POST").respond_with_response(bare)

    with pytest.raises(DatadogRejectedError, match=r"\(HTTP 422\): no message$"):
        post(api_for(httpserver), clock)


def test_a_tls_failure_is_retried_like_a_network_error(httpserver, clock):
    # An https URL to a plain-HTTP listener: the handshake fails, the client reports status 0.
    datadog_answers(httpserver, (202, ACCEPTED, {}))
    api = events_api(httpserver.url_for("").rstrip("/").replace("http://", "https://"), FAKE_KEY)

    with pytest.raises(DatadogUnavailableError, match=r"last answer: HTTP 0: SSLError"):
        post(api, clock, seconds_left=900.0, policy=RetryPolicy(max_attempts=2))

    assert clock.sleeps == [1.0]


# --- what an accepted event returns -------------------------------------------------------------

@pytest.mark.parametrize(("answer", "event_id"), [
    ({"status": "ok", "event": {"id": 42, "id_str": "42"}}, "42"),
    ({"status": "ok", "event": {"id": 42}}, "42"),
    ({"status": "ok", "event": {"id_str": "42"}}, "42"),
    ({"status": "ok"}, None),
    ({"status": "ok", "event": None}, None),
    ({"status": "ok", "event": {"title": "no id given"}}, None),
])
def test_the_event_id_is_datadogs_when_it_gives_one(httpserver, clock, answer, event_id):
    datadog_answers(httpserver, (202, answer, {}))

    assert post(api_for(httpserver), clock) == event_id


def test_an_accepted_event_with_an_unexpected_answer_still_counts_as_posted(httpserver, clock):
    # Raising here would make Lambda retry and post the same alert twice.
    answer = {"status": "ok", "event": {"id": 42, "id_str": "42", "date_happened": "2026-11-27T18:00:00Z"}}
    datadog_answers(httpserver, (202, answer, {}))

    assert post(api_for(httpserver), clock) == "42"


# --- the handler: an alert that was not accepted is never marked as sent ---------------------

BUCKET = "rejected-flows-archive-test"


@pytest.fixture
def archive(monkeypatch, httpserver, clock) -> Iterator:
    """moto's S3 with one archived object, and the notifier configured for the loopback Datadog."""
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "eu-west-1", "DD_API_KEY": FAKE_KEY,
                        "DD_API_URL": httpserver.url_for("/").rstrip("/"), "STACK_NAME": "test",
                        "ATHENA_DATABASE": "rejected_flows_test", "ATHENA_TABLE": "rejected_flows",
                        "ATHENA_WORKGROUP": "rejected-flows-test"}.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_ENDPOINT_URL", "DD_API_KEY_SECRET_ARN", "DD_SITE"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        s3.put_object(Bucket=BUCKET, Key=DATA_KEY, Body=gz(ndjson(scanner_batch())))
        notifier.set_runtime(None)
        rt = notifier.runtime()
        rt.sleep, rt.clock = clock.sleep, clock.time
        yield s3
        notifier.set_runtime(None)


def tags(s3) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=BUCKET, Key=DATA_KEY)["TagSet"]}


def test_when_datadog_keeps_failing_until_the_attempts_run_out_the_object_is_not_marked(archive, httpserver,
                                                                                       clock):
    datadog_answers(httpserver, unavailable())

    with pytest.raises(DatadogUnavailableError):
        notifier.handler(s3_event(BUCKET, DATA_KEY), notifier_context(clock, 900.0))

    assert len(httpserver.log) == 8, "every attempt was made, with most of the invocation's time left"
    assert MARK_TAG not in tags(archive)

    # Lambda's retry after Datadog recovered posts the alert and marks the object.
    httpserver.clear()
    datadog_answers(httpserver, (202, ACCEPTED, {}))
    outcome = notifier.handler(s3_event(BUCKET, DATA_KEY), notifier_context(clock, 900.0))
    assert outcome == {"objects": {f"s3://{BUCKET}/{DATA_KEY}": "posted"}}
    assert tags(archive)[MARK_TAG] == "7700000000000000001"


def test_a_refused_event_marks_the_object_refused_and_returns(archive, httpserver, clock):
    datadog_answers(httpserver, (400, {"errors": ["Event too old"]}, {}))

    outcome = notifier.handler(s3_event(BUCKET, DATA_KEY), notifier_context(clock, 900.0))

    assert outcome == {"objects": {f"s3://{BUCKET}/{DATA_KEY}": "refused"}}
    assert tags(archive) == {REFUSED_TAG: "HTTP 400: Event too old"}
    assert len(httpserver.log) == 1, "no retry can fix a 400"
