"""The loop the local demo shows: a transform with a wrong format fails its records into errors/;
replay, with the format fixed, puts them back and their flows are archived, each exactly once."""

from __future__ import annotations

import gzip
import json
import os
from datetime import UTC, datetime

import pytest

from contracts import environment as env
from contracts.cloudwatch_logs import encode_payload
from contracts.flowlog import FlowLogFormat, parse_format, subscription_filter_pattern
from contracts.layout import FIREHOSE_DATA_PREFIX, FIREHOSE_ERROR_PREFIX, GZIP_EXTENSION
from local.firehose import DeliveryStream, StreamConfig
from local.lambdas import LocalFunction, function_arn
from local.replaying import replay_failed
from local.sample import sample_lines
from local.services import LocalServices
from local.subscription import apply_filter, compile_pattern, deliveries
from replay.aws import REPLAYED_TAG
from replay.summary import counted
from tests.local_support import flow_multiset, rejected_flows

pytestmark = pytest.mark.slow

START = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
RIGHT = parse_format(None)  # the flow log's real format: version 2
# The same fields with `interface-id` and `packets` swapped: CloudWatch's filter still ships every
# REJECT line (same width, `action` in place), but no `packets` value (`eni-...`) is a number.
WRONG = parse_format(RIGHT.text.replace("${interface-id}", "${tmp}").replace("${packets}", "${interface-id}")
                     .replace("${tmp}", "${packets}"))
COLUMNS = ("srcaddr", "dstaddr", "srcport", "dstport", "protocol", "packets", "bytes", "start", "end",
           "interface_id", "action")


@pytest.fixture(scope="module")
def services():
    with LocalServices() as running:
        yield running


@pytest.fixture
def lambda_environment(services, monkeypatch):
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    for name, value in {**services.aws.environment(), "AWS_ENDPOINT_URL_FIREHOSE": services.firehose_url,
                        env.KEEP_ACTIONS: "REJECT"}.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def first_run(services: LocalServices, bucket: str, stream_name: str, lines: list[str],
              fmt: FlowLogFormat, monkeypatch: pytest.MonkeyPatch) -> DeliveryStream:
    """Lines -> CloudWatch filter -> the stream and the real transform, both configured with `fmt`."""
    s3 = services.aws.client("s3")
    s3.create_bucket(Bucket=bucket)
    arn = function_arn("transform", services.aws.region, "123456789012")
    config = StreamConfig(
        name=stream_name, lambda_arn=arn + ":$LATEST", data_prefix=FIREHOSE_DATA_PREFIX,
        error_prefix=FIREHOSE_ERROR_PREFIX, extension=GZIP_EXTENSION,
        processor_buffer_bytes=200_000, processor_buffer_ms=60_000,
        archive_buffer_bytes=5 * 1024 * 1024, archive_buffer_ms=300_000)
    stream = DeliveryStream(config, LocalFunction("transform.handler", "transform", arn, 120.0),
                            lambda key, body: s3.put_object(Bucket=bucket, Key=key, Body=body))
    services.firehose.register(stream)
    pattern = subscription_filter_pattern(fmt, frozenset({"REJECT"}))
    shipped = apply_filter(lines, compile_pattern(pattern))
    monkeypatch.setenv(env.FLOW_LOG_FORMAT, fmt.text)
    for delivery in deliveries(shipped, fmt, "/vpc/flow-logs/local", "123456789012", "rejected-flows",
                               int(START.timestamp() * 1000)):
        stream.put(encode_payload(delivery.message.as_dict()), delivery.arrival_ms)
    stream.close()
    return stream


def archived(services: LocalServices, bucket: str) -> list[dict]:
    s3 = services.aws.client("s3")
    rows = []
    for item in s3.list_objects_v2(Bucket=bucket, Prefix="rejected/").get("Contents", []):
        body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
        rows += [json.loads(line) for line in gzip.decompress(body).splitlines()]
    return rows


def test_replay_with_the_fixed_format_archives_what_the_wrong_one_failed(services, lambda_environment):
    lines = sample_lines(RIGHT, 3, 5, START)
    expected = rejected_flows(lines, RIGHT)
    stream = first_run(services, "loop-archive", "loop-stream", lines, WRONG, lambda_environment)
    errors = [o for o in stream.stats.objects if o.kind == "error"]
    assert errors, "the wrong format fails every record"
    assert not [o for o in stream.stats.objects if o.kind == "data"], "and archives nothing"
    failed_records = sum(o.records for o in errors)

    outcome = replay_failed(services, "loop-archive", "loop-stream", RIGHT.text)

    assert len(outcome.summary.put) == len(errors) and outcome.summary.records == failed_records
    assert outcome.lines[-1].startswith(
        f"put back {counted(failed_records, 'record')} (")
    assert f": {counted(len(errors), 'object')} replayed, 0 skipped" in outcome.lines[-1]
    assert outcome.archived and not outcome.failed_again
    rows = archived(services, "loop-archive")
    assert len(rows) == len(expected) > 100
    assert flow_multiset(rows, COLUMNS) == flow_multiset(expected, COLUMNS), "every REJECT flow, once"
    s3 = services.aws.client("s3")
    for error in errors:
        keys = [t["Key"] for t in s3.get_object_tagging(Bucket="loop-archive", Key=error.key)["TagSet"]]
        assert keys == [REPLAYED_TAG]

    again = replay_failed(services, "loop-archive", "loop-stream", RIGHT.text)
    assert again.summary.put == [] and len(again.summary.outcomes) == len(errors)
    assert again.written == [] and len(archived(services, "loop-archive")) == len(expected)


def test_replay_without_a_fix_fails_the_records_again_into_new_error_objects(services, lambda_environment):
    lines = sample_lines(RIGHT, 1, 6, START)
    stream = first_run(services, "still-broken", "still-broken-stream", lines, WRONG, lambda_environment)
    failed = sum(o.records for o in stream.stats.objects if o.kind == "error")

    outcome = replay_failed(services, "still-broken", "still-broken-stream", WRONG.text)

    assert outcome.summary.records == failed and not outcome.archived
    assert sum(o.records for o in outcome.failed_again) == failed, "kept, under new error objects"
    assert archived(services, "still-broken") == []
