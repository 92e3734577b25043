"""At most one event per accepted answer: the notifier end to end against an intake that answers badly.

moto's S3 and Secrets Manager in-process; Datadog is a loopback server (pytest-httpserver) that records
every request when it arrives, so a request answered too late still counts as an event Datadog received.
Each case asserts what a user would check: how many events Datadog received, whether and how the object
is marked, the metrics the alarms watch and the log line.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from contracts.events import notification_tag
from contracts.metrics import EVENTS_FAILED
from notifier import handler as notifier
from notifier.datadog import DatadogUnavailableError, RetryPolicy, events_api, post_event
from notifier.shrink import wire_size
from notifier.storage import MARK_TAG, REFUSED_TAG
from tests.notifier_support import (
    ACCEPTED,
    BUCKET,
    DATA_KEY,
    EVENTS,
    FAKE_KEY,
    emf_metrics,
    flow,
    gz,
    invoke,
    ndjson,
    notifier_context,
    put,
    s3_event,
    scanner_batch,
    tags_of,
)
from tests.test_notifier_datadog_retries import DRAFT, SilentServer

URI = f"s3://{BUCKET}/{DATA_KEY}"


class Intake:
    """Datadog answering a script of (status, body, delay_s), then the last answer again; records arrivals."""

    def __init__(self, httpserver, *answers: tuple[int, dict | str, float]) -> None:
        self.received: list[dict] = []
        self._answers = list(answers)
        self._lock = threading.Lock()
        self.released = threading.Event()
        httpserver.expect_request(EVENTS, method="POST").respond_with_handler(self._answer)

    def _answer(self, request: Request) -> Response:
        with self._lock:
            self.received.append(json.loads(request.data))
            status, body, delay = self._answers.pop(0) if len(self._answers) > 1 else self._answers[0]
        if delay:
            self.released.wait(delay)
        if isinstance(body, dict):
            return Response(json.dumps(body), status=status, content_type="application/json")
        return Response(body, status=status, content_type="text/plain")

    def settle(self, count: int) -> None:
        """Let late answers finish (the client stopped waiting for them)."""
        self.released.set()
        deadline = time.monotonic() + 5.0
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)


def published(out: str) -> dict[str, list[float]]:
    return {m["name"]: m["value"] for m in emf_metrics(out)}


def log_lines(caplog) -> list[dict]:
    return [json.loads(notifier.logger.registered_formatter.format(r)) for r in caplog.records
            if r.name == notifier.logger.name]


def line(caplog, message: str) -> dict:
    return next(x for x in log_lines(caplog) if x["message"] == message)


@pytest.fixture(name="httpserver")
def threaded_httpserver_fixture():
    """pytest-httpserver, threaded: a request answered late must not hold up the next one."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture(name="archived")
def archived_fixture(aws, env, capsys):
    """One archived object of rejected flows, and the output captured so far dropped."""
    put(aws, DATA_KEY, gz(ndjson(scanner_batch())))
    capsys.readouterr()
    return DATA_KEY


# --- any 2xx is accepted -------------------------------------------------------------------------

@pytest.mark.parametrize(("status", "body"), [
    (202, "OK"), (200, ""), (201, "<html><body>accepted</body></html>"), (202, '{"status": "ok"'),
    (202, {"status": "ok", "event": "not an object"}),
], ids=["text", "empty", "html", "cut-json", "odd-json"])
def test_a_2xx_without_a_readable_id_is_accepted_once_and_marked(archived, aws, httpserver, clock, capsys,
                                                                 caplog, status, body):
    intake = Intake(httpserver, (status, body, 0.0))

    assert invoke(s3_event(BUCKET, archived), clock) == {"objects": {URI: "posted"}}

    assert len(intake.received) == 1
    assert tags_of(aws, archived) == {MARK_TAG: "accepted"}
    assert published(capsys.readouterr().out) == {"ObjectsReceived": [1.0], "EventsPosted": [1.0],
                                                  "RejectedFlowsReported": [30.0]}
    posted = line(caplog, "event posted")
    assert (posted["object_key"], posted.get("event_id")) == (archived, None)
    # A redelivery posts nothing more.
    assert invoke(s3_event(BUCKET, archived), clock)["objects"] == {URI: "already-notified"}
    assert len(intake.received) == 1


# --- a slow answer -----------------------------------------------------------------------------------

def test_a_2xx_slower_than_the_timeout_is_posted_again_with_the_same_notification_tag(
        archived, aws, env, httpserver, clock, capsys, caplog):
    env(request_timeout_s=0.3)
    slow = {"status": "ok", "event": {"id": 1, "id_str": "1"}}
    intake = Intake(httpserver, (202, slow, 1.0), (202, ACCEPTED, 0.0))
    try:
        assert invoke(s3_event(BUCKET, archived), clock) == {"objects": {URI: "posted"}}
    finally:
        intake.settle(2)

    # Datadog received it twice (the first answer came too late): both carry one notification tag.
    assert len(intake.received) == 2
    marker = notification_tag(URI)
    assert all(marker in event["tags"] for event in intake.received)
    assert intake.received[0] == intake.received[1]
    assert tags_of(aws, archived) == {MARK_TAG: "7700000000000000042"}
    assert published(capsys.readouterr().out) == {"ObjectsReceived": [1.0], "EventsPosted": [1.0],
                                                  "RejectedFlowsReported": [30.0]}
    warning = line(caplog, "Datadog may have the event already; posting it again: a second event would "
                           "carry the same notification tag")
    assert warning["notification"] == marker and "ReadTimeoutError" in warning["error"]
    assert clock.sleeps == [1.0]


def test_a_2xx_within_the_timeout_is_posted_once(archived, aws, env, httpserver, clock):
    env(request_timeout_s=2.0)
    intake = Intake(httpserver, (202, ACCEPTED, 0.3))

    assert invoke(s3_event(BUCKET, archived), clock) == {"objects": {URI: "posted"}}

    assert len(intake.received) == 1 and tags_of(aws, archived)[MARK_TAG] == "7700000000000000042"


def test_each_request_may_wait_what_datadogs_agent_waits_for_the_intake():
    # The Agent's `forwarder_timeout` default (20 s); the notifier's Lambda timeout (120 s) leaves room.
    assert RetryPolicy().request_timeout_s == 20.0


# --- refused: 400, 413 ---------------------------------------------------------------------------------

def test_a_400_marks_the_object_refused_counts_it_and_returns(archived, aws, httpserver, clock, capsys,
                                                              caplog):
    intake = Intake(httpserver, (400, {"errors": ["Event too old: date_happened must be recent"]}, 0.0))

    assert invoke(s3_event(BUCKET, archived), clock) == {"objects": {URI: "refused"}}

    assert len(intake.received) == 1
    assert tags_of(aws, archived) == {REFUSED_TAG: "HTTP 400: Event too old: date_happened must be recent"}
    assert published(capsys.readouterr().out) == {"ObjectsReceived": [1.0], EVENTS_FAILED: [1.0]}
    refused = line(caplog, "Datadog refused the event: the object is marked refused and not retried")
    assert (refused["object_key"], refused["status"]) == (archived, 400)
    assert refused["error"] == ("Datadog refused the event (HTTP 400): "
                                "Event too old: date_happened must be recent")
    # S3's redelivery (or Lambda's retry) posts nothing: the same event would be refused again.
    assert invoke(s3_event(BUCKET, archived), clock)["objects"] == {URI: "already-refused"}
    assert len(intake.received) == 1


def big_object() -> bytes:
    """Many sources with several flows to several ports each, so that the text is long."""
    return gz(ndjson([flow(f"198.18.{i}.1", 1000 + i * 7 + k) for i in range(100) for k in range(6)]
                     + [flow("10.0.3.17", 5432)]))


def test_a_413_is_resent_once_smaller_and_accepted(aws, env, httpserver, clock, capsys):
    put(aws, DATA_KEY, big_object())
    capsys.readouterr()
    intake = Intake(httpserver, (413, "Request Entity Too Large", 0.0), (202, ACCEPTED, 0.0))

    assert invoke(s3_event(BUCKET, DATA_KEY), clock) == {"objects": {URI: "posted"}}

    first, second = intake.received
    assert wire_size(second["text"]) <= wire_size(first["text"]) // 2
    assert (second["title"], second["tags"]) == (first["title"], first["tags"])
    # Its beginning (the summary, the internal source) and its end (the object, the query) are kept.
    assert second["text"].startswith(first["text"][:200])
    assert "`10.0.3.17`" in second["text"] and f"`{URI}`" in second["text"]
    assert second["text"].endswith("```\n%%%") and "HTTP 413" in second["text"]
    assert clock.sleeps == []
    assert tags_of(aws, DATA_KEY) == {MARK_TAG: "7700000000000000042"}
    assert published(capsys.readouterr().out) == {"ObjectsReceived": [1.0], "EventsPosted": [1.0],
                                                  "RejectedFlowsReported": [601.0]}


def test_a_second_413_marks_the_object_refused(aws, env, httpserver, clock, capsys, caplog):
    put(aws, DATA_KEY, big_object())
    capsys.readouterr()
    intake = Intake(httpserver, (413, {"errors": ["Payload too large"]}, 0.0))

    assert invoke(s3_event(BUCKET, DATA_KEY), clock) == {"objects": {URI: "refused"}}

    assert len(intake.received) == 2, "resent once, smaller; then not again"
    assert tags_of(aws, DATA_KEY) == {REFUSED_TAG: "HTTP 413: Payload too large"}
    assert published(capsys.readouterr().out) == {"ObjectsReceived": [1.0], EVENTS_FAILED: [1.0]}
    refused = line(caplog, "Datadog refused the event: the object is marked refused and not retried")
    assert refused["status"] == 413 and "second time with a smaller text" in refused["error"]


def test_a_refused_object_with_ten_tags_is_logged_as_unmarked(aws, env, httpserver, clock, capsys, caplog):
    put(aws, DATA_KEY, gz(ndjson(scanner_batch())), tagging="&".join(f"t{i}=v" for i in range(10)))
    capsys.readouterr()
    Intake(httpserver, (400, {"errors": ["bad"]}, 0.0))

    assert invoke(s3_event(BUCKET, DATA_KEY), clock) == {"objects": {URI: "refused"}}

    assert REFUSED_TAG not in tags_of(aws, DATA_KEY)
    assert published(capsys.readouterr().out) == {"ObjectsReceived": [1.0], EVENTS_FAILED: [1.0],
                                                  "MarkFailed": [1.0]}
    assert line(caplog, "event refused but the object could not be marked refused; a redelivery would "
                        "post again")["error"] == "the object has 10 tags already"


# --- transient answers, as before ----------------------------------------------------------------------

def test_a_429_then_202_posts_once_after_the_reset(archived, aws, httpserver, clock, capsys):
    httpserver.expect_ordered_request(EVENTS, method="POST").respond_with_response(Response(
        '{"errors": ["Rate limit exceeded"]}', status=429, headers={"X-RateLimit-Reset": "6"},
        content_type="application/json"))
    httpserver.expect_ordered_request(EVENTS, method="POST").respond_with_json(ACCEPTED, status=202)

    assert invoke(s3_event(BUCKET, archived), clock) == {"objects": {URI: "posted"}}

    assert [response.status_code for _, response in httpserver.log] == [429, 202]
    assert clock.sleeps == [6.0]
    assert tags_of(aws, archived)[MARK_TAG] == "7700000000000000042"
    assert published(capsys.readouterr().out)["EventsPosted"] == [1.0]


def test_a_lasting_5xx_raises_unmarked_for_lambda_to_retry(archived, aws, httpserver, clock, capsys):
    intake = Intake(httpserver, (503, {"errors": ["unavailable"]}, 0.0))

    with pytest.raises(DatadogUnavailableError, match="HTTP 503: unavailable"):
        invoke(s3_event(BUCKET, archived), clock, seconds_left=30.0)

    assert len(intake.received) == 5  # 1 + 2 + 4 + 8 s of waits fit in 30 s less the margin
    assert MARK_TAG not in tags_of(aws, archived) and REFUSED_TAG not in tags_of(aws, archived)
    assert published(capsys.readouterr().out) == {"ObjectsReceived": [1.0], EVENTS_FAILED: [1.0]}


def test_a_connection_never_made_is_retried_without_a_repeat_warning(clock):
    # Nothing listens on the discard port: no request was sent, so no event can be doubled.
    repeats: list[str] = []
    context = notifier_context(clock, 900.0)
    with pytest.raises(DatadogUnavailableError, match="NewConnectionError"):
        post_event(events_api("http://127.0.0.1:9", FAKE_KEY), DRAFT,
                   remaining_s=lambda: context.get_remaining_time_in_millis() / 1000, sleep=clock.sleep,
                   policy=RetryPolicy(max_attempts=3), on_repeat=repeats.append)
    assert repeats == [] and clock.sleeps == [1.0, 2.0]


def test_a_timed_out_request_is_warned_of_once_before_its_one_repeat_and_not_after_the_last(clock):
    silent, repeats = SilentServer(), []
    context = notifier_context(clock, 900.0)
    with pytest.raises(DatadogUnavailableError, match="ReadTimeoutError"):
        post_event(events_api(silent.url, FAKE_KEY), DRAFT,
                   remaining_s=lambda: context.get_remaining_time_in_millis() / 1000, sleep=clock.sleep,
                   policy=RetryPolicy(max_attempts=2, request_timeout_s=0.2), on_repeat=repeats.append)
    assert silent.connections() == 2
    assert len(repeats) == 1 and "ReadTimeoutError" in repeats[0], "warned once: before the one repeat"
