"""Both handlers on AWS's own sample events (tests/events/, sources in its README): the Firehose CloudWatch
Logs processor test event, an S3 put notification and a Firehose processing-failed record, each changed
only where the case needs it (the messages, the bucket and key, the record's values)."""

from __future__ import annotations

import base64
import copy
import gzip
import json
from typing import Any

import orjson
import pytest

from notifier.storage import MARK_TAG
from tests.aws_events import load_event
from tests.notifier_support import (
    ACCEPTED,
    BUCKET,
    DATA_KEY,
    ERROR_KEY,
    EVENTS,
    HOUR_START,
    gz,
    invoke,
    ndjson,
    posted,
    put,
    s3_event,
    scanner_batch,
    tags_of,
)
from tests.transform_support import expected_record, flow_line, lambda_context
from transform.handler import handler as transform

pytestmark = pytest.mark.usefixtures("default_config")

FIREHOSE_EVENT = "firehose-cloudwatch-logs-processor"


def messages(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The CloudWatch Logs subscription message inside each record of a Firehose event."""
    return [json.loads(gzip.decompress(base64.b64decode(r["data"]))) for r in event["records"]]


def with_messages(event: dict[str, Any], texts: list[list[str]]) -> dict[str, Any]:
    """The event with the log events' messages of each DATA_MESSAGE replaced, in order; all else as it was."""
    changed = copy.deepcopy(event)
    data_records = [(record, message) for record, message in zip(changed["records"], messages(event),
                                                                   strict=True)
                    if message["messageType"] == "DATA_MESSAGE"]
    for (record, message), lines in zip(data_records, texts, strict=True):
        message["logEvents"] = [{**log_event, "message": line}
                                for log_event, line in zip(message["logEvents"], lines, strict=False)]
        record["data"] = base64.b64encode(gzip.compress(json.dumps(message).encode())).decode()
    return changed


def results(response: dict[str, Any]) -> list[tuple[str, str]]:
    return [(r["recordId"], r["result"]) for r in response["records"]]


def test_transform_on_awss_test_event_drops_the_control_message_and_fails_lines_that_are_not_flows() -> None:
    event = load_event(FIREHOSE_EVENT)
    kinds = [m["messageType"] for m in messages(event)]
    assert kinds == ["CONTROL_MESSAGE", "DATA_MESSAGE", "DATA_MESSAGE", "DATA_MESSAGE"]

    response = transform(event, lambda_context())

    # AWS's data messages carry UUIDs, not flow-log lines: each record fails whole and comes back as
    # it came (Firehose keeps it under errors/), the health check is dropped.
    ids = [r["recordId"] for r in event["records"]]
    assert results(response) == [(ids[0], "Dropped"), (ids[1], "ProcessingFailed"),
                                 (ids[2], "ProcessingFailed"), (ids[3], "ProcessingFailed")]
    assert [r["data"] for r in response["records"][1:]] == [r["data"] for r in event["records"][1:]]


def test_transform_on_awss_test_event_with_flow_lines_archives_each_reject_with_its_log_group() -> None:
    event = load_event(FIREHOSE_EVENT)
    data = [m for m in messages(event) if m["messageType"] == "DATA_MESSAGE"]
    texts = [[flow_line(srcaddr=f"198.51.100.{i}", dstport=str(port)) for port in (22, 3389)]
             + [flow_line(action="ACCEPT", dstport="443")] for i in range(len(data))]

    response = transform(with_messages(event, texts), lambda_context())

    assert [result for _, result in results(response)] == ["Dropped", "Ok", "Ok", "Ok"]
    archived = [[json.loads(line) for line in base64.b64decode(r["data"]).decode().splitlines()]
                for r in response["records"][1:]]
    assert archived == [
        [expected_record(log_group=m["logGroup"], log_stream=m["logStream"],
                         srcaddr=f"198.51.100.{i}", dstport=str(port)) for port in (22, 3389)]
        for i, m in enumerate(data)
    ]


def test_notifier_on_awss_put_notification_posts_one_event_and_marks_the_object(aws, env, httpserver,
                                                                                   clock) -> None:
    httpserver.expect_request(EVENTS, method="POST").respond_with_json(ACCEPTED, status=202)
    put(aws, DATA_KEY, gz(ndjson(scanner_batch())))
    event = s3_event(BUCKET, DATA_KEY)
    sample = load_event("s3-put")["Records"][0]
    assert event["Records"][0]["eventName"] == sample["eventName"] == "ObjectCreated:Put"
    assert event["Records"][0]["s3"]["object"]["eTag"] == sample["s3"]["object"]["eTag"]

    assert invoke(event, clock) == {"objects": {f"s3://{BUCKET}/{DATA_KEY}": "posted"}}

    body, = posted(httpserver)
    assert body["title"] == "30 rejected flows from 5 sources · 123456789012 · 18:00 UTC"
    assert tags_of(aws, DATA_KEY) == {MARK_TAG: ACCEPTED["event"]["id_str"]}


def error_record(code: str, message: str, raw: bytes, arrival_ms: int) -> bytes:
    """AWS's documented processing-failed record, each placeholder given this case's value."""
    template = load_event("firehose-processing-failed-record")
    values = {"attemptsMade": 4, "arrivalTimestamp": arrival_ms, "errorCode": code, "errorMessage": message,
              "attemptEndingTimestamp": arrival_ms + 900, "rawData": base64.b64encode(raw).decode(),
              "lambdaArn": "arn:aws:lambda:us-east-1:123456789012:function:rejected-flows-test-transform"}
    assert set(values) == set(template), "every documented field, and no other"
    return orjson.dumps({name: values[name] for name in template}) + b"\n"


def test_notifier_on_awss_processing_failed_records_posts_one_error_event(aws, env, httpserver,
                                                                            clock) -> None:
    httpserver.expect_request(EVENTS, method="POST").respond_with_json(ACCEPTED, status=202)
    arrival = HOUR_START * 1000 + 5_000
    lines = [error_record("Lambda.ProcessingFailedStatus", "ProcessingFailed status set for record",
                          b"not a gzip payload", arrival + i) for i in range(3)]
    put(aws, ERROR_KEY, gz(b"".join(lines)))

    assert invoke(s3_event(BUCKET, ERROR_KEY), clock) == {"objects": {f"s3://{BUCKET}/{ERROR_KEY}": "posted"}}

    body, = posted(httpserver)
    assert body["alert_type"] == "error"
    assert body["title"].startswith("3 records failed")
    assert "`Lambda.ProcessingFailedStatus`: 3 records" in body["text"]
    assert "not a gzip payload" not in body["text"] and "bm90IGEgZ3ppcCBwYXlsb2Fk" not in body["text"]
    assert tags_of(aws, ERROR_KEY) == {MARK_TAG: ACCEPTED["event"]["id_str"]}
