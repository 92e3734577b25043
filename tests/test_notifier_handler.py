"""The notifier end to end: moto's S3 and Secrets Manager in-process, pytest-httpserver as Datadog."""

from __future__ import annotations

import json
import os

import boto3
import pytest
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from botocore.exceptions import ClientError

from contracts import metrics as metrics_contract
from notifier import handler as notifier
from notifier.datadog import DatadogAuthError, DatadogUnavailableError
from notifier.reading import SummaryTimeoutError
from notifier.storage import MARK_TAG
from tests.aws_events import load_event
from tests.notifier_support import (
    ACCEPTED,
    BUCKET,
    DATA_KEY,
    ERROR_KEY,
    EVENTS,
    FAKE_KEY,
    SECRET_NAME,
    emf_metrics,
    error_line,
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


def test_a_rejected_object_posts_one_event_and_is_marked(aws, env, httpserver, clock, caplog):
    httpserver.expect_request(EVENTS, method="POST").respond_with_json(ACCEPTED, status=202)
    put(aws, DATA_KEY, gz(ndjson(scanner_batch())), tagging="owner=netsec")
    event = s3_event(BUCKET, DATA_KEY)
    assert "%3D" in event["Records"][0]["s3"]["object"]["key"]  # S3 URL-encodes keys

    assert invoke(event, clock) == {"objects": {f"s3://{BUCKET}/{DATA_KEY}": "posted"}}

    (request, _), = httpserver.log
    assert request.headers["DD-API-KEY"] == FAKE_KEY
    body = json.loads(request.data)
    assert body["title"] == "30 rejected flows from 5 sources · 123456789012 · 18:00 UTC"
    assert body["alert_type"] == "info"  # the scanners are all on the internet
    assert "`198.51.100.23`: 20 flows to ports 22, 23, 445, 1433, 3389" in body["text"]
    assert "`2001:db8:bad::1`: 7 flows" in body["text"]
    assert f"s3://{BUCKET}/{DATA_KEY}" in body["text"]
    assert 'FROM "rejected_flows_test"."rejected_flows" WHERE year = 2026' in body["text"]
    assert {"env:test", "team:netsec", "aws_account:123456789012", "region:eu-west-1",
            "vpc_id:vpc-0123456789abcdef0", "stack:test"} <= set(body["tags"])
    assert body["aggregation_key"] == "rejected-flows:test:2026-11-27T18"
    assert clock.now - 17 * 3600 <= body["date_happened"] <= clock.now
    # Marked with the event id, the object's own tags kept.
    assert tags_of(aws, DATA_KEY) == {"owner": "netsec", MARK_TAG: "7700000000000000042"}
    # One structured summary line with the object, the flows and the event id; never the key.
    lines = [json.loads(notifier.logger.registered_formatter.format(r)) for r in caplog.records
             if r.name == notifier.logger.name]
    assert lines and FAKE_KEY not in json.dumps(lines)
    line = next(x for x in lines if x["message"] == "event posted")
    assert (line["object_key"], line["flows"], line["event_id"]) == (DATA_KEY, 30, "7700000000000000042")


def test_a_redelivered_notification_posts_nothing_new(aws, env, httpserver, clock):
    httpserver.expect_request(EVENTS, method="POST").respond_with_json(ACCEPTED, status=202)
    put(aws, DATA_KEY, gz(ndjson(scanner_batch())))
    event = s3_event(BUCKET, DATA_KEY)
    invoke(event, clock)
    env()  # even a new container sees the mark
    assert invoke(event, clock)["objects"][f"s3://{BUCKET}/{DATA_KEY}"] == "already-notified"
    assert len(httpserver.log) == 1


def test_rate_limited_then_accepted_posts_once(aws, env, httpserver, clock):
    httpserver.expect_ordered_request(EVENTS, method="POST").respond_with_json(
        {"errors": ["Rate limit exceeded"]}, status=429, headers={"X-RateLimit-Reset": "4"})
    httpserver.expect_ordered_request(EVENTS, method="POST").respond_with_json(ACCEPTED, status=202)
    put(aws, DATA_KEY, gz(ndjson(scanner_batch())))
    invoke(s3_event(BUCKET, DATA_KEY), clock)
    assert [status for _, status in ((r, resp.status_code) for r, resp in httpserver.log)] == [429, 202]
    assert clock.sleeps == [4.0]
    assert MARK_TAG in tags_of(aws, DATA_KEY)


def test_a_persistent_outage_raises_in_time_and_a_later_retry_posts_once(aws, env, httpserver, clock):
    httpserver.expect_request(EVENTS, method="POST").respond_with_json(
        {"errors": ["unavailable"]}, status=503)
    put(aws, DATA_KEY, gz(ndjson(scanner_batch())))
    event = s3_event(BUCKET, DATA_KEY)
    start = clock.now
    with pytest.raises(DatadogUnavailableError):
        invoke(event, clock, seconds_left=30.0)
    assert clock.now - start < 30.0
    assert MARK_TAG not in tags_of(aws, DATA_KEY)

    # Lambda's asynchronous retry, after Datadog recovered.
    httpserver.clear()
    httpserver.expect_request(EVENTS, method="POST").respond_with_json(ACCEPTED, status=202)
    invoke(event, clock)
    invoke(event, clock)  # and a duplicate notification on top
    assert len(httpserver.log) == 1
    assert tags_of(aws, DATA_KEY)[MARK_TAG] == "7700000000000000042"


def test_a_wrong_key_raises_naming_the_key(aws, env, httpserver, clock):
    httpserver.expect_request(EVENTS, method="POST").respond_with_json({"errors": ["Forbidden"]}, status=403)
    put(aws, DATA_KEY, gz(ndjson(scanner_batch())))
    with pytest.raises(DatadogAuthError, match="API key"):
        invoke(s3_event(BUCKET, DATA_KEY), clock)
    assert MARK_TAG not in tags_of(aws, DATA_KEY)
    # The secret was read again after the 403 (force_fetch), found unchanged, so the error stands.
    assert len(httpserver.log) == 1


def test_an_errors_object_posts_an_error_event(aws, env, httpserver, clock):
    httpserver.expect_request(EVENTS, method="POST").respond_with_json(ACCEPTED, status=202)
    put(aws, ERROR_KEY, gz(b"".join([error_line()] * 4 + [error_line("Lambda.FunctionError", "timed out")])))
    invoke(s3_event(BUCKET, ERROR_KEY), clock)
    body, = posted(httpserver)
    assert body["alert_type"] == "error"
    assert body["title"].startswith("5 records failed")
    assert "`Lambda.ProcessingFailedStatus`: 4 records" in body["text"]
    assert f"s3://{BUCKET}/{ERROR_KEY}" in body["text"]
    assert body["aggregation_key"] == "rejected-flows-errors:test:2026-11-27T18"
    assert MARK_TAG in tags_of(aws, ERROR_KEY)


def test_invalid_lines_are_counted_and_mentioned(aws, env, httpserver, clock):
    httpserver.expect_request(EVENTS, method="POST").respond_with_json(ACCEPTED, status=202)
    put(aws, DATA_KEY, gz(ndjson([flow(), flow("192.0.2.44")], [b'{"srcaddr": "10.0.0.1"\n', b"\x00\xff\n"])))
    invoke(s3_event(BUCKET, DATA_KEY), clock)
    body, = posted(httpserver)
    assert body["title"].startswith("2 rejected flows from 2 sources")
    assert "2 lines were not flow records (skipped): 2 not JSON (1 not UTF-8 text)" in body["text"]


@pytest.mark.parametrize("key", [DATA_KEY, ERROR_KEY], ids=["rejected", "errors"])
@pytest.mark.parametrize("content", [b"", gz(b"")], ids=["zero-bytes", "empty-gzip"])
def test_an_empty_object_posts_nothing(aws, env, httpserver, clock, content, key):
    put(aws, key, content)
    assert invoke(s3_event(BUCKET, key), clock)["objects"][f"s3://{BUCKET}/{key}"] == "empty"
    assert httpserver.log == []


def test_keys_with_spaces_and_equals_are_decoded_once(aws, env, httpserver, clock):
    httpserver.expect_request(EVENTS, method="POST").respond_with_json(ACCEPTED, status=202)
    key = "rejected/year=2026/month=11/day=27/hour=18/manual replay+1.gz"
    put(aws, key, gz(ndjson([flow()])))
    invoke(s3_event(BUCKET, key), clock)
    assert len(httpserver.log) == 1
    assert MARK_TAG in tags_of(aws, key)


def test_the_secret_may_be_json(aws, env, httpserver, clock, monkeypatch):
    httpserver.expect_request(EVENTS, method="POST", headers={"DD-API-KEY": FAKE_KEY}) \
        .respond_with_json(ACCEPTED, status=202)
    secrets = boto3.client("secretsmanager")
    arn = secrets.create_secret(Name="dd-json", SecretString=json.dumps({"DD_API_KEY": FAKE_KEY}))["ARN"]
    monkeypatch.setenv("DD_API_KEY_SECRET_ARN", arn)
    env()
    put(aws, DATA_KEY, gz(ndjson([flow()])))
    invoke(s3_event(BUCKET, DATA_KEY), clock)
    (_, response), = httpserver.log
    assert response.status_code == 202


def test_objects_outside_the_archive_prefixes_are_ignored(aws, env, httpserver, clock):
    put(aws, "athena-results/x.csv", b"a,b\n")
    assert invoke(s3_event(BUCKET, "athena-results/x.csv"), clock)["objects"] == {
        f"s3://{BUCKET}/athena-results/x.csv": "ignored"}
    assert httpserver.log == []


def test_a_failed_mark_is_logged_not_raised(aws, env, httpserver, clock, caplog):
    httpserver.expect_request(EVENTS, method="POST").respond_with_json(ACCEPTED, status=202)
    put(aws, DATA_KEY, gz(ndjson([flow()])))
    rt = notifier.runtime()

    def denied(**_):
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "PutObjectTagging")

    rt.s3.put_object_tagging = denied
    assert invoke(s3_event(BUCKET, DATA_KEY), clock)["objects"][f"s3://{BUCKET}/{DATA_KEY}"] == "posted"
    assert len(httpserver.log) == 1
    assert any("could not be marked" in r.getMessage() and "AccessDenied" in r.error for r in caplog.records
               if hasattr(r, "error"))


def test_an_object_with_ten_tags_is_posted_and_left_unmarked(aws, env, httpserver, clock):
    httpserver.expect_request(EVENTS, method="POST").respond_with_json(ACCEPTED, status=202)
    put(aws, DATA_KEY, gz(ndjson([flow()])), tagging="&".join(f"t{i}=v" for i in range(10)))
    invoke(s3_event(BUCKET, DATA_KEY), clock)
    assert len(httpserver.log) == 1
    assert MARK_TAG not in tags_of(aws, DATA_KEY) and len(tags_of(aws, DATA_KEY)) == 10


# --- the metrics each outcome publishes (docs/architecture.md lists them; alarms and dashboards read them)

def published(out: str) -> dict[str, list[float]]:
    """An invocation's metrics by name; all are counts in the notifier's namespace and dimension."""
    found = emf_metrics(out)
    assert all((m["namespace"], m["dimensions"], m["unit"]) == (
        metrics_contract.NAMESPACE, metrics_contract.notifier_dimensions(), "Count") for m in found)
    return {m["name"]: m["value"] for m in found}


def _accepts(httpserver) -> None:
    httpserver.expect_request(EVENTS, method="POST").respond_with_json(ACCEPTED, status=202)


def _scanner_object(aws, httpserver) -> str:
    _accepts(httpserver)
    put(aws, DATA_KEY, gz(ndjson(scanner_batch())))
    return DATA_KEY


def _object_with_invalid_lines(aws, httpserver) -> str:
    _accepts(httpserver)
    put(aws, DATA_KEY, gz(ndjson(scanner_batch(), [b"{not json\n", b"[1, 2]\n", b"\xff\xfe\n"])))
    return DATA_KEY


def _errors_object(aws, httpserver) -> str:
    _accepts(httpserver)
    put(aws, ERROR_KEY, gz(b"".join([error_line()] * 4 + [b"{cut short\n"])))
    return ERROR_KEY


def _unreadable_object(aws, httpserver) -> str:
    _accepts(httpserver)
    put(aws, DATA_KEY, bytes(range(256)) * 4)
    return DATA_KEY


def _notified_object(aws, httpserver) -> str:
    put(aws, DATA_KEY, gz(ndjson(scanner_batch())), tagging=f"{MARK_TAG}=7700000000000000001")
    return DATA_KEY


def _deleted_object(aws, httpserver) -> str:
    return DATA_KEY  # notified, but never written (or deleted since)


def _empty_object(aws, httpserver) -> str:
    put(aws, DATA_KEY, gz(b""))
    return DATA_KEY


def _unmarkable_object(aws, httpserver) -> str:
    _accepts(httpserver)
    put(aws, DATA_KEY, gz(ndjson(scanner_batch())), tagging="&".join(f"t{i}=v" for i in range(10)))
    return DATA_KEY


OUTCOMES = {
    "posted": (_scanner_object, "posted",
               {"ObjectsReceived": [1.0], "EventsPosted": [1.0], "RejectedFlowsReported": [30.0]}),
    "posted-with-invalid-lines": (_object_with_invalid_lines, "posted",
                                  {"ObjectsReceived": [1.0], "EventsPosted": [1.0],
                                   "RejectedFlowsReported": [30.0], "InvalidLines": [3.0]}),
    "errors-object": (_errors_object, "posted",
                      {"ObjectsReceived": [1.0], "EventsPosted": [1.0], "FailedRecordsReported": [4.0],
                       "InvalidLines": [1.0]}),
    "unreadable": (_unreadable_object, "unreadable",
                   {"ObjectsReceived": [1.0], "EventsPosted": [1.0], "UnreadableObjects": [1.0]}),
    "already-notified": (_notified_object, "already-notified",
                         {"ObjectsReceived": [1.0], "ObjectsAlreadyNotified": [1.0]}),
    "missing": (_deleted_object, "missing", {"ObjectsReceived": [1.0], "ObjectsMissing": [1.0]}),
    "empty": (_empty_object, "empty", {"ObjectsReceived": [1.0]}),
    "mark-failed": (_unmarkable_object, "posted",
                    {"ObjectsReceived": [1.0], "EventsPosted": [1.0], "RejectedFlowsReported": [30.0],
                     "MarkFailed": [1.0]}),
}


@pytest.mark.parametrize(("prepare", "outcome", "expected"), OUTCOMES.values(), ids=OUTCOMES.keys())
def test_each_outcome_publishes_its_metrics_and_no_others(aws, env, httpserver, clock, capsys,
                                                          prepare, outcome, expected):
    key = prepare(aws, httpserver)
    capsys.readouterr()

    assert invoke(s3_event(BUCKET, key), clock)["objects"] == {f"s3://{BUCKET}/{key}": outcome}

    assert published(capsys.readouterr().out) == expected


def test_an_event_without_time_to_post_publishes_events_failed_and_raises(aws, env, httpserver, clock,
                                                                          capsys):
    httpserver.expect_request(EVENTS, method="POST").respond_with_json(ACCEPTED, status=202)
    put(aws, DATA_KEY, gz(ndjson(scanner_batch())))
    capsys.readouterr()

    with pytest.raises(SummaryTimeoutError):
        invoke(s3_event(BUCKET, DATA_KEY), clock, seconds_left=2.0)

    assert published(capsys.readouterr().out) == {"ObjectsReceived": [1.0], "EventsFailed": [1.0]}
    assert MARK_TAG not in tags_of(aws, DATA_KEY) and httpserver.log == []


def test_one_notification_for_several_objects_counts_each(aws, env, httpserver, clock, capsys):
    _accepts(httpserver)
    put(aws, DATA_KEY, gz(ndjson(scanner_batch())))
    put(aws, ERROR_KEY, gz(error_line() * 2))
    capsys.readouterr()

    answer = invoke(s3_event(BUCKET, DATA_KEY, ERROR_KEY, "athena-results/x.csv"), clock)

    assert list(answer["objects"].values()) == ["posted", "posted", "ignored"]
    assert published(capsys.readouterr().out) == {
        "ObjectsReceived": [3.0], "EventsPosted": [1.0, 1.0], "RejectedFlowsReported": [30.0],
        "FailedRecordsReported": [2.0]}


def test_an_event_datadog_accepts_without_an_id_marks_the_object_as_accepted(aws, env, httpserver, clock):
    httpserver.expect_request(EVENTS, method="POST").respond_with_json({"status": "ok"}, status=202)
    put(aws, DATA_KEY, gz(ndjson([flow()])))

    assert invoke(s3_event(BUCKET, DATA_KEY), clock)["objects"] == {f"s3://{BUCKET}/{DATA_KEY}": "posted"}

    assert tags_of(aws, DATA_KEY) == {MARK_TAG: "accepted"}


def _deny_tagging(rt: notifier.Runtime) -> None:
    def denied(**_):
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "PutObjectTagging")

    rt.s3.put_object_tagging = denied


def _ten_tags(rt: notifier.Runtime) -> None:
    rt.s3.put_object_tagging(Bucket=BUCKET, Key=DATA_KEY, Tagging={"TagSet": [
        {"Key": f"t{i}", "Value": "v"} for i in range(10)]})


@pytest.mark.parametrize(("obstacle", "error"), [
    (_deny_tagging, "AccessDenied: An error occurred (AccessDenied) when calling the PutObjectTagging "
                    "operation: no"),
    (_ten_tags, "the object has 10 tags already"),
], ids=["denied", "ten-tags"])
def test_an_unmarked_object_logs_why_with_the_event_it_may_post_again(aws, env, httpserver, clock, caplog,
                                                                       obstacle, error):
    httpserver.expect_request(EVENTS, method="POST").respond_with_json(ACCEPTED, status=202)
    put(aws, DATA_KEY, gz(ndjson(scanner_batch())))
    obstacle(notifier.runtime())

    invoke(s3_event(BUCKET, DATA_KEY), clock)

    lines = [json.loads(notifier.logger.registered_formatter.format(r)) for r in caplog.records
             if r.name == notifier.logger.name and r.levelname == "ERROR"]
    line, = lines
    assert line["message"] == ("event posted but the object could not be marked; a redelivery would post "
                               "again")
    assert (line["object_key"], line["event_id"], line["error"], line["flows"]) == (
        DATA_KEY, "7700000000000000042", error, 30)


# --- the log line of each posted event (what Logs Insights queries select on) --------------------------

POSTED_LINES = {
    "rejected": (DATA_KEY, lambda: gz(ndjson([*scanner_batch(), flow("10.0.3.17", 5432)], [b"{cut\n"])),
                 {"kind": "rejected", "flows": 31, "invalid_lines": 1, "sources": 6, "internal_flows": 1,
                  "alert_type": "warning",
                  "title": "31 rejected flows from 6 sources (1 internal) · 123456789012 · 18:00 UTC"}),
    "errors": (ERROR_KEY, lambda: gz(error_line() * 3 + b"{cut\n"),
               {"kind": "errors", "records": 3, "invalid_lines": 1, "alert_type": "error"}),
    "unreadable": (DATA_KEY, lambda: bytes(range(256)) * 4,
                   {"kind": "unreadable", "alert_type": "error"}),
}


@pytest.mark.parametrize(("key", "content", "expected"), POSTED_LINES.values(), ids=POSTED_LINES.keys())
def test_the_event_posted_line_carries_the_objects_facts(aws, env, httpserver, clock, caplog,
                                                         key, content, expected):
    httpserver.expect_request(EVENTS, method="POST").respond_with_json(ACCEPTED, status=202)
    put(aws, key, content())

    invoke(s3_event(BUCKET, key), clock)

    lines = [json.loads(notifier.logger.registered_formatter.format(r)) for r in caplog.records
             if r.name == notifier.logger.name]
    line = next(x for x in lines if x["message"] == "event posted")
    expected = {"bucket": BUCKET, "object_key": key, "event_id": "7700000000000000042", **expected}
    assert {name: line.get(name) for name in expected} == expected
    assert ("reason" in line) is (expected["kind"] == "unreadable")


# --- the container's Datadog client and key -----------------------------------------------------------

def test_a_warm_container_keeps_its_datadog_client_until_the_key_changes(aws, env):
    rt = env()
    api = rt.events_api()
    assert rt.events_api() is api and rt.key_in_use() == FAKE_KEY
    boto3.client("secretsmanager").put_secret_value(SecretId=SECRET_NAME, SecretString="fake-rotated-key")
    assert rt.events_api() is api  # the cached key is still the one in use

    fresh = rt.events_api(refresh_key=True)

    assert fresh is not api and rt.key_in_use() == "fake-rotated-key"
    assert fresh.api_client.configuration.api_key == {"apiKeyAuth": "fake-rotated-key"}


def test_after_a_refusal_the_secret_is_read_once_more_before_the_key_is_blamed(aws, env, httpserver, clock):
    httpserver.expect_request(EVENTS, method="POST").respond_with_json({"errors": ["Forbidden"]}, status=403)
    put(aws, DATA_KEY, gz(ndjson(scanner_batch())))
    client = boto3.client("secretsmanager")
    reads: list[str] = []
    client.meta.events.register("provide-client-params.secrets-manager.GetSecretValue",
                                lambda params, **_: reads.append(params["SecretId"]))
    rt = env()
    rt.secrets_factory = lambda: SecretsProvider(boto3_client=client)

    with pytest.raises(DatadogAuthError):
        invoke(s3_event(BUCKET, DATA_KEY), clock)

    arn = os.environ["DD_API_KEY_SECRET_ARN"]
    assert reads == [arn, arn]  # the first read, then the forced one after the 403
    assert len(httpserver.log) == 1  # the same key is not sent twice


def test_s3s_test_event_processes_nothing_and_says_it_skipped_it(aws, env, httpserver, clock, capsys):
    # Sent by S3 when the notification is configured: no `Records` at all.
    capsys.readouterr()

    assert invoke(load_event("s3-test-event"), clock) == {
        "objects": {}, "skipped": [{"event": "s3:TestEvent", "via": "s3"}]}

    assert published(capsys.readouterr().out) == {"ObjectsReceived": [0.0]}
    assert httpserver.log == []
