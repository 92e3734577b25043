"""The notifier never lies and never loops: damaged lines, unreadable or vanished objects, time running out,
Datadog failing to the end, a rotated key. End to end through the handler (moto S3, loopback Datadog)."""

from __future__ import annotations

import gzip
import json
import os

import boto3
import pytest

from contracts.events import KIND_ERRORS, SOURCE_TAG, UNREADABLE_OBJECT_TAG, internal_sources_tag
from notifier import handler as notifier
from notifier import storage
from notifier.datadog import DatadogUnavailableError
from notifier.reading import SummaryTimeoutError
from notifier.settings import NotifierSettingsError, load_settings
from notifier.storage import MARK_TAG
from tests.notifier_support import (
    ACCEPTED,
    BUCKET,
    DATA_KEY,
    ERROR_KEY,
    EVENTS,
    FAKE_KEY,
    SECRET_NAME,
    flow,
    gz,
    invoke,
    ndjson,
    posted,
    put,
    s3_event,
    scanner_batch,
    tags_of,
)

URI = f"s3://{BUCKET}/{DATA_KEY}"


def outcome(answer, key=DATA_KEY):
    return answer["objects"][f"s3://{BUCKET}/{key}"]


# --- wrong-typed values --------------------------------------------------------------------------

def test_wrong_typed_values_count_as_invalid_lines_and_the_good_flows_still_count(
        aws, env, httpserver, clock):
    httpserver.expect_request(EVENTS, method="POST").respond_with_json(ACCEPTED, status=202)
    damaged = [flow(packets="3"), {**flow(), "srcaddr": 3232235777}, {**flow(), "dstport": [22, 23]},
               flow(bytes=True), flow(account_id={"id": "123456789012"})]
    put(aws, DATA_KEY, gz(ndjson(scanner_batch() + damaged)))

    assert outcome(invoke(s3_event(BUCKET, DATA_KEY), clock)) == "posted"

    body, = posted(httpserver)
    assert body["title"].startswith("30 rejected flows from 5 sources")
    assert "5 lines were not flow records (skipped): 5 JSON but not a flow record" in body["text"]
    assert body["alert_type"] == "info"
    assert MARK_TAG in tags_of(aws, DATA_KEY)


# --- unreadable objects ------------------------------------------------------------------------------

def _truncated() -> bytes:
    return gz(ndjson(scanner_batch() * 50))[:-200]


def _corrupt() -> bytes:
    data = bytearray(gz(ndjson(scanner_batch() * 50)))
    data[len(data) // 2: len(data) // 2 + 16] = b"\x00" * 16
    return bytes(data)


UNREADABLE = {
    "binary-not-gzip": (bytes(range(256)) * 40, "none of its"),
    "png-not-gzip": (b"\x89PNG\r\n\x1a\n" + os.urandom(0) + bytes(range(7, 250)) * 9, "none of its"),
    "truncated-gzip": (_truncated(), "truncated or corrupt gzip after"),
    "corrupt-gzip": (_corrupt(), "truncated or corrupt gzip after"),
    "not-utf8-text": (gz("café\tnot a flow\n".encode("latin-1") * 20), "not UTF-8 text"),
}


@pytest.mark.parametrize(("content", "reason"), UNREADABLE.values(), ids=UNREADABLE.keys())
def test_an_unreadable_object_posts_one_error_event_naming_it_and_is_marked(
        aws, env, httpserver, clock, content, reason):
    httpserver.expect_request(EVENTS, method="POST").respond_with_json(ACCEPTED, status=202)
    put(aws, DATA_KEY, content)
    event = s3_event(BUCKET, DATA_KEY)

    assert outcome(invoke(event, clock)) == "unreadable"  # returned normally: no retry can fix it

    body, = posted(httpserver)
    assert body["alert_type"] == "error"
    assert {SOURCE_TAG, KIND_ERRORS, UNREADABLE_OBJECT_TAG, "stack:test", "env:test"} <= set(body["tags"])
    assert not any(tag.startswith("internal_sources:") for tag in body["tags"])
    assert body["title"].startswith("Unreadable object in the archive · 18:00 UTC")
    assert f"could not read `{URI}`**" in body["text"]
    assert reason in body["text"]
    assert tags_of(aws, DATA_KEY)[MARK_TAG] == "7700000000000000042"
    # Marked like any notified object: a redelivery posts nothing more.
    assert outcome(invoke(event, clock)) == "already-notified"
    assert len(httpserver.log) == 1


def test_an_unreadable_errors_object_is_reported_once_too(aws, env, httpserver, clock):
    httpserver.expect_request(EVENTS, method="POST").respond_with_json(ACCEPTED, status=202)
    put(aws, ERROR_KEY, gz(b"\x00\x01 not json at all\n" * 5))
    assert outcome(invoke(s3_event(BUCKET, ERROR_KEY), clock), ERROR_KEY) == "unreadable"
    body, = posted(httpserver)
    assert body["alert_type"] == "error" and UNREADABLE_OBJECT_TAG in body["tags"]
    assert "none of its 5 lines is a Firehose error record" in body["text"]


def test_the_reason_counts_lines_read_before_the_damage(aws, env, httpserver, clock):
    httpserver.expect_request(EVENTS, method="POST").respond_with_json(ACCEPTED, status=202)
    good = gz(ndjson([flow()] * 3))
    put(aws, DATA_KEY, good + gz(ndjson([flow()] * 1000))[:40])  # a second gzip member cut short
    invoke(s3_event(BUCKET, DATA_KEY), clock)
    body, = posted(httpserver)
    assert "truncated or corrupt gzip after 3 lines" in body["text"]


# --- objects that are gone -----------------------------------------------------------------------

def test_a_notification_for_a_deleted_object_is_skipped_without_event_or_failure(aws, env, httpserver, clock):
    answer = invoke(s3_event(BUCKET, DATA_KEY), clock)  # never written (or already deleted)
    assert outcome(answer) == "missing"
    assert httpserver.log == []


def test_an_object_deleted_between_the_tag_check_and_the_read_is_skipped(
        aws, env, httpserver, clock, monkeypatch):
    put(aws, DATA_KEY, gz(ndjson(scanner_batch())))
    open_body = storage.open_body

    def delete_then_open(s3, obj):
        s3.delete_object(Bucket=obj.bucket, Key=obj.key)  # e.g. a lifecycle rule or an operator
        return open_body(s3, obj)

    monkeypatch.setattr(storage, "open_body", delete_then_open)
    assert outcome(invoke(s3_event(BUCKET, DATA_KEY), clock)) == "missing"
    assert httpserver.log == []


def test_other_s3_errors_still_fail_the_invocation(aws, env, httpserver, clock):
    event = s3_event("a-bucket-that-does-not-exist", DATA_KEY)
    with pytest.raises(aws.exceptions.NoSuchBucket):
        invoke(event, clock)


# --- time ----------------------------------------------------------------------------------------

def test_running_out_of_time_while_summarising_says_so_and_posts_nothing(aws, env, httpserver, clock, caplog,
                                                                          capsys):
    put(aws, DATA_KEY, gz(ndjson(scanner_batch() * 400)))  # 12,000 lines
    # 3.5 s left: less than the 3 s safety margin plus the 1 s a request needs.
    with pytest.raises(SummaryTimeoutError) as raised:
        invoke(s3_event(BUCKET, DATA_KEY), clock, seconds_left=3.5)
    output = capsys.readouterr().out
    assert '"EventsFailed":[1.0]' in output.replace(" ", ""), "counted for the events-failed alarm"
    errors = [(r.message, getattr(r, "object_key", None)) for r in caplog.records if r.levelname == "ERROR"]
    assert errors == [("event not posted", DATA_KEY)]
    message = str(raised.value)
    assert message.startswith(f"ran out of time while summarising {URI}: 4,096 lines read, 3.5 s left")
    assert "Datadog" not in message and "timeout" in message
    assert httpserver.log == []
    assert MARK_TAG not in tags_of(aws, DATA_KEY)


def test_a_small_object_summarised_too_late_is_not_blamed_on_datadog(aws, env, httpserver, clock):
    put(aws, DATA_KEY, gz(ndjson([flow()])))
    with pytest.raises(SummaryTimeoutError, match=r"1 lines read, 2\.0 s left but 4\.0 s are need"):
        invoke(s3_event(BUCKET, DATA_KEY), clock, seconds_left=2.0)
    assert httpserver.log == []


def test_a_small_object_with_exactly_the_time_to_post_it_is_posted(aws, env, httpserver, clock):
    httpserver.expect_request(EVENTS, method="POST").respond_with_json(ACCEPTED, status=202)
    put(aws, DATA_KEY, gz(ndjson([flow()])))
    # 4 s left: the 3 s safety margin plus the 1 s a request needs, to the millisecond.
    assert outcome(invoke(s3_event(BUCKET, DATA_KEY), clock, seconds_left=4.0)) == "posted"
    assert len(httpserver.log) == 1


# --- Datadog failing to the end ------------------------------------------------------------------

def test_when_datadog_keeps_failing_until_the_attempts_run_out_the_object_is_not_marked_and_it_fails(
        aws, env, httpserver, clock):
    env(max_attempts=3)
    httpserver.expect_request(EVENTS, method="POST").respond_with_json({"errors": ["unavailable"]},
                                                                       status=503)
    put(aws, DATA_KEY, gz(ndjson(scanner_batch())))
    with pytest.raises(DatadogUnavailableError, match="HTTP 503: unavailable"):
        invoke(s3_event(BUCKET, DATA_KEY), clock, seconds_left=600.0)  # time is not what ran out
    assert len(httpserver.log) == 3
    assert clock.sleeps == [1.0, 2.0]
    assert MARK_TAG not in tags_of(aws, DATA_KEY)


def test_a_key_rotated_before_the_invocation_is_read_again_after_the_403_and_the_event_posted(
        aws, env, httpserver, clock):
    rotated = "fake-rotated-key-for-tests"
    httpserver.expect_request(EVENTS, method="POST", headers={"DD-API-KEY": rotated}) \
        .respond_with_json(ACCEPTED, status=202)
    httpserver.expect_request(EVENTS, method="POST").respond_with_json({"errors": ["Forbidden"]}, status=403)
    env().events_api()  # the container read the old key (it stays in Powertools' cache)
    boto3.client("secretsmanager").put_secret_value(SecretId=SECRET_NAME, SecretString=rotated)
    put(aws, DATA_KEY, gz(ndjson(scanner_batch())))

    assert outcome(invoke(s3_event(BUCKET, DATA_KEY), clock)) == "posted"

    assert [request.headers["DD-API-KEY"] for request, _ in httpserver.log] == [FAKE_KEY, rotated]
    assert tags_of(aws, DATA_KEY)[MARK_TAG] == "7700000000000000042"


# --- internal sources and configuration ---------------------------------------------------------------

def test_a_single_internal_source_makes_a_warning_tagged_for_monitors(aws, env, httpserver, clock):
    httpserver.expect_request(EVENTS, method="POST").respond_with_json(ACCEPTED, status=202)
    put(aws, DATA_KEY, gz(ndjson([*scanner_batch(), flow("10.0.3.17", 5432)])))
    invoke(s3_event(BUCKET, DATA_KEY), clock)
    body, = posted(httpserver)
    assert body["alert_type"] == "warning"
    assert internal_sources_tag(True) in body["tags"] and internal_sources_tag(False) not in body["tags"]
    assert body["title"] == "31 rejected flows from 6 sources (1 internal) · 123456789012 · 18:00 UTC"
    text = body["text"]
    assert text.index("### Internal sources\n- `10.0.3.17`: 1 flow to port 5432") < text.index("### Internet")


def test_internal_cidrs_from_the_environment_count_as_internal(aws, env, httpserver, clock, monkeypatch):
    httpserver.expect_request(EVENTS, method="POST").respond_with_json(ACCEPTED, status=202)
    monkeypatch.setenv("INTERNAL_CIDRS", " 198.51.100.0/24 , 2001:db8:bad::/48")
    env()
    put(aws, DATA_KEY, gz(ndjson(scanner_batch())))
    invoke(s3_event(BUCKET, DATA_KEY), clock)
    body, = posted(httpserver)
    assert body["alert_type"] == "warning" and "internal_sources:true" in body["tags"]
    assert "(2 internal)" in body["title"]


def test_an_invalid_internal_cidr_is_a_configuration_error_at_cold_start(aws, env, clock, monkeypatch):
    monkeypatch.setenv("INTERNAL_CIDRS", "10.20.0.0/16,10.30.1.1/16")
    notifier.reset()
    expected = r"INTERNAL_CIDRS entry '10\.30\.1\.1/16' .*did you mean 10\.30\.0\.0/16"
    with pytest.raises(NotifierSettingsError, match=expected):
        invoke(s3_event(BUCKET, DATA_KEY), clock)


def test_reset_forgets_the_containers_settings_and_clients(aws, env, monkeypatch):
    first = notifier.runtime()
    assert notifier.runtime() is first
    monkeypatch.setenv("DD_TAGS", "env:other")
    notifier.reset()
    second = notifier.runtime()
    assert second is not first and second.settings.tags == ("env:other",)


def test_a_runtime_built_with_its_own_clients_and_clock_is_the_one_the_handler_uses(aws, env, httpserver,
                                                                                    clock):
    httpserver.expect_request(EVENTS, method="POST", headers={"DD-API-KEY": "fake-local-key"}) \
        .respond_with_json(ACCEPTED, status=202)
    put(aws, DATA_KEY, gz(ndjson([flow()])))
    settings = load_settings({"DD_API_KEY": "fake-local-key", "DD_API_URL": httpserver.url_for("/"),
                              "STACK_NAME": "test"})
    rt = notifier.Runtime(settings=settings, s3_factory=lambda: aws, sleep=clock.sleep, clock=clock.time)

    notifier.set_runtime(rt)

    assert notifier.runtime() is rt
    assert outcome(invoke(s3_event(BUCKET, DATA_KEY), clock)) == "posted"
    assert rt.s3 is aws and tags_of(aws, DATA_KEY)[MARK_TAG] == "7700000000000000042"


def test_log_lines_carry_the_request_id(aws, env, httpserver, clock, caplog):
    httpserver.expect_request(EVENTS, method="POST").respond_with_json(ACCEPTED, status=202)
    put(aws, DATA_KEY, gz(ndjson([flow()])))
    invoke(s3_event(BUCKET, DATA_KEY), clock)
    lines = [json.loads(notifier.logger.registered_formatter.format(r)) for r in caplog.records
             if r.name == notifier.logger.name]
    posted_line = next(x for x in lines if x["message"] == "event posted")
    assert posted_line["function_request_id"] == "00000000-0000-4000-8000-000000000000"
    assert posted_line["alert_type"] == "info"


def test_a_gzip_body_with_blank_lines_only_is_empty_not_unreadable(aws, env, httpserver, clock):
    put(aws, DATA_KEY, gzip.compress(b"\n\n  \n"))
    assert outcome(invoke(s3_event(BUCKET, DATA_KEY), clock)) == "empty"
    assert httpserver.log == []


def test_an_empty_object_with_no_time_left_is_still_just_empty(aws, env, httpserver, clock):
    put(aws, DATA_KEY, gz(b""))
    assert outcome(invoke(s3_event(BUCKET, DATA_KEY), clock, seconds_left=1.0)) == "empty"
    assert httpserver.log == []
