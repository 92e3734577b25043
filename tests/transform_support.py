"""Builders for the transform's tests: flow-log lines, CloudWatch payloads, Firehose events."""

from __future__ import annotations

import base64
import json
from typing import Any

from contracts.cloudwatch_logs import LogEvent, encode_payload
from contracts.cloudwatch_logs import data_message as subscription_message
from contracts.flowlog import FlowLogFormat, parse_format
from local.cloudwatch import FirehoseRecord, transformation_event
from local.lambdas import FakeContext, function_arn

STREAM_ARN = "arn:aws:firehose:us-east-1:123456789012:deliverystream/rejected-flows-test"
LOG_GROUP = "/vpc/flow-logs/test"
LOG_STREAM = "eni-0a1b2c3d4e5f60718-all"

# One realistic value per field of every version; tests override what they are about.
FIELD_VALUES: dict[str, str] = {
    "version": "2", "account-id": "123456789012", "interface-id": "eni-0a1b2c3d4e5f60718",
    "srcaddr": "203.0.113.45", "dstaddr": "10.0.1.17", "srcport": "51234", "dstport": "22",
    "protocol": "6", "packets": "3", "bytes": "180", "start": "1764201600", "end": "1764201660",
    "action": "REJECT", "log-status": "OK", "vpc-id": "vpc-0f1e2d3c4b5a69788",
    "subnet-id": "subnet-0123456789abcdef0", "instance-id": "i-0abcdef1234567890", "tcp-flags": "2",
    "type": "IPv4", "pkt-srcaddr": "203.0.113.45", "pkt-dstaddr": "10.0.1.17", "region": "us-east-1",
    "az-id": "use1-az4", "sublocation-type": "-", "sublocation-id": "-", "pkt-src-aws-service": "-",
    "pkt-dst-aws-service": "-", "flow-direction": "ingress", "traffic-path": "-",
    "ecs-cluster-arn": "-", "ecs-cluster-name": "-", "ecs-container-instance-arn": "-",
    "ecs-container-instance-id": "-", "ecs-container-id": "-", "ecs-second-container-id": "-",
    "ecs-service-name": "-", "ecs-task-definition-arn": "-", "ecs-task-arn": "-", "ecs-task-id": "-",
    "reject-reason": "-", "flow-note": "-",
}
V5_FORMAT = parse_format(
    "${version} ${vpc-id} ${subnet-id} ${instance-id} ${interface-id} ${account-id} ${type} ${srcaddr} "
    "${dstaddr} ${srcport} ${dstport} ${pkt-srcaddr} ${pkt-dstaddr} ${protocol} ${bytes} ${packets} "
    "${start} ${end} ${action} ${tcp-flags} ${log-status} ${region} ${az-id} ${flow-direction} "
    "${traffic-path} ${pkt-src-aws-service} ${pkt-dst-aws-service}"
)

# With a field the catalogue does not know (`flow-note`): any printable text is archived there as it is,
# so it carries the values that need JSON escaping (every documented field has a shape that needs none).
NOTED_FORMAT = parse_format(V5_FORMAT.text + " ${flow-note}")


def lambda_context() -> FakeContext:
    """What Lambda passes as `context` (Powertools reads the request id and function name from it)."""
    name = "rejected-flows-test-transform"
    return FakeContext(name, function_arn(name, "us-east-1", "123456789012"))


def flow_values(fmt: FlowLogFormat | None = None, **overrides: str) -> list[str]:
    """Field values in the format's order; keyword names use `_` for `-` (`dstport`, `log_status`)."""
    fmt = fmt or parse_format(None)
    values = {**FIELD_VALUES, **{k.replace("_", "-"): v for k, v in overrides.items()}}
    return [values[f] for f in fmt.fields]


def flow_line(fmt: FlowLogFormat | None = None, **overrides: str) -> str:
    return " ".join(flow_values(fmt, **overrides))


def expected_record(fmt: FlowLogFormat | None = None, log_group: str | None = LOG_GROUP,
                    log_stream: str | None = LOG_STREAM, **overrides: str) -> dict[str, Any]:
    """The archived record, written out independently of the encoder: `-` is null, numbers are numbers."""
    fmt = fmt or parse_format(None)
    record: dict[str, Any] = {}
    for field, column, value in zip(fmt.fields, fmt.columns, flow_values(fmt, **overrides), strict=True):
        if value == "-":
            record[column] = None
        elif field in {"version", "srcport", "dstport", "protocol", "packets", "bytes", "start", "end",
                       "tcp-flags", "traffic-path"}:
            record[column] = int(value)
        else:
            record[column] = value
    record["log_group"], record["log_stream"] = log_group, log_stream
    return record


def data_message(lines: list[str], *, extracted: FlowLogFormat | None = None, log_group: str = LOG_GROUP,
                 log_stream: str = LOG_STREAM, timestamp_ms: int = 1_764_201_660_000) -> dict[str, Any]:
    """A DATA_MESSAGE; with `extracted`, each event also carries the filter's `extractedFields`."""
    events = [
        LogEvent(line, timestamp_ms, extracted_fields=(
            dict(zip(extracted.columns, line.split(" "), strict=True)) if extracted else None
        ))
        for line in lines
    ]
    return subscription_message(events, log_group=log_group, log_stream=log_stream).as_dict()


def record(message: dict[str, Any] | bytes, record_id: str | None = None) -> FirehoseRecord:
    payload = message if isinstance(message, bytes) else encode_payload(message)
    return FirehoseRecord(payload, record_id=record_id) if record_id else FirehoseRecord(payload)


def raw_record(data_b64: str, record_id: str) -> dict[str, Any]:
    return {"recordId": record_id, "approximateArrivalTimestamp": 1_764_201_660_000, "data": data_b64}


def event_of(*records: FirehoseRecord) -> dict[str, Any]:
    return transformation_event(records, stream_arn=STREAM_ARN)


def ok_lines(response_record: dict[str, Any]) -> list[dict[str, Any]]:
    text = base64.b64decode(response_record["data"]).decode()
    assert text.endswith("\n"), "every archived line ends in a newline"
    return [json.loads(line) for line in text.splitlines()]
