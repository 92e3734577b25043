"""Builders shared by the notifier's tests: realistic flow records, archived objects, S3 events."""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

import boto3
import orjson
import pytest
from moto import mock_aws

from contracts.error_record import error_line as write_error_line
from notifier import handler as notifier
from notifier.datadog import RetryPolicy

FAKE_KEY = "fake-dd-api-key-for-tests"
ACCOUNT = "123456789012"
# 2026-11-27 18:00:00 UTC: the archive hour of DATA_KEY.
HOUR_START = 1_795_802_400
DATA_KEY = ("rejected/year=2026/month=11/day=27/hour=18/"
            "rejected-flows-1-2026-11-27-18-04-59-0b1c2d3e-aaaa-bbbb-cccc-0123456789ab.gz")
ERROR_KEY = ("errors/processing-failed/year=2026/month=11/day=27/hour=18/"
             "rejected-flows-1-2026-11-27-18-05-10-1f2e3d4c-aaaa-bbbb-cccc-0123456789ab.gz")


def flow(srcaddr: str = "203.0.113.7", dstport: int = 22, *, start: int = HOUR_START + 60,
         interface_id: str = "eni-0a1b2c3d4e5f60718", protocol: int = 6, **extra: object) -> dict:
    """One archived flow record as the transform writes it (archive keys, v2 fields + some of v3/v4)."""
    record: dict[str, object] = {
        "version": 4,
        "account_id": ACCOUNT,
        "interface_id": interface_id,
        "srcaddr": srcaddr,
        "dstaddr": "2001:db8::10" if ":" in srcaddr else "10.0.1.25",
        "srcport": 49152 + dstport % 1000,
        "dstport": dstport,
        "protocol": protocol,
        "packets": 1,
        "bytes": 60 if ":" not in srcaddr else 80,
        "start": start,
        "end": start + 59,
        "action": "REJECT",
        "log_status": "OK",
        "vpc_id": "vpc-0123456789abcdef0",
        "subnet_id": "subnet-0123456789abcdef0",
        "instance_id": None,
        "region": "eu-west-1",
        "log_group": "/vpc/flow-logs/dev",
        "log_stream": "eni-0a1b2c3d4e5f60718-all",
    }
    record.update(extra)
    return record


def scanner_batch() -> list[dict]:
    """A scanner sweeping 5 ports, a noisy IPv6 neighbour, and a few one-off sources."""
    flows = [flow("198.51.100.23", port, start=HOUR_START + 30 + i)
             for i, port in enumerate([22, 23, 445, 3389, 1433] * 4)]
    flows += [flow("2001:db8:bad::1", 443, interface_id="eni-0ffeeddccbbaa9988", start=HOUR_START + 120)] * 7
    flows += [flow(f"192.0.2.{i}", 3389, start=HOUR_START + 200 + i) for i in range(1, 4)]
    return flows


def ndjson(records: Iterable[dict], extra_lines: Iterable[bytes] = ()) -> bytes:
    lines = [orjson.dumps(r) + b"\n" for r in records]
    return b"".join(lines) + b"".join(extra_lines)


def gz(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=6)


def error_line(code: str = "Lambda.ProcessingFailedStatus", message: str = "record failed: not gzip",
               arrival_ms: int = HOUR_START * 1000 + 5_000) -> bytes:
    """One line of an `errors/` object, through the one writer (`contracts.error_record`)."""
    return write_error_line(
        b"not a gzip payload", code=code, message=message, attempts=1, arrival_ms=arrival_ms,
        ending_ms=arrival_ms + 900,
        lambda_arn="arn:aws:lambda:eu-west-1:123456789012:function:rejected-flows-transform:$LATEST")


def s3_event(bucket: str, *keys: str) -> dict:
    """An S3 ObjectCreated notification; keys are URL-encoded as S3 sends them (`=` -> `%3D`)."""
    return {"Records": [{
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
               "object": {"key": quote_plus(key), "size": 1}},
    } for key in keys]}


@dataclass
class FakeClock:
    """Time that only moves when the code sleeps: sleeps are recorded, never waited."""

    now: float = HOUR_START + 600.0

    def __post_init__(self) -> None:
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class FakeContext:
    """A Lambda context whose deadline follows a FakeClock."""

    clock: FakeClock
    deadline: float

    function_name: str = "rejected-flows-notifier"
    aws_request_id: str = "00000000-0000-4000-8000-000000000000"
    # What Powertools' inject_lambda_context reads besides the request id.
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:rejected-flows-notifier"
    function_version: str = "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        return int((self.deadline - self.clock.now) * 1000)


def reader(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)


# --- the function end to end: moto's S3 and Secrets Manager in-process, pytest-httpserver as Datadog ---

BUCKET = "rejected-flows-archive-test"
EVENTS = "/api/v1/events"
ACCEPTED = {"status": "ok", "event": {"id": 7700000000000000042, "id_str": "7700000000000000042"}}


def fake_aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Obvious fake credentials for moto in-process, and no endpoint override from the shell."""
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "eu-west-1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


@pytest.fixture(name="aws")
def aws_fixture(monkeypatch):
    """moto's S3 and Secrets Manager in-process, with the archive bucket; yields an S3 client."""
    fake_aws_credentials(monkeypatch)
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        yield s3


SECRET_NAME = "rejected-flows/datadog-api-key"


def _secret(value: str) -> str:
    return boto3.client("secretsmanager").create_secret(Name=SECRET_NAME,
                                                        SecretString=value)["ARN"]


@pytest.fixture(name="clock")
def clock_fixture():
    return FakeClock()


@pytest.fixture(name="env")
def env_fixture(aws, httpserver, monkeypatch, clock):
    """The stack's environment for the function, with the secret as a plain string; returns a setup hook."""
    values = {
        "DD_API_KEY_SECRET_ARN": _secret(FAKE_KEY),
        "DD_API_URL": httpserver.url_for("/").rstrip("/"),
        "DD_TAGS": "env:test,team:netsec",
        "STACK_NAME": "test",
        "ATHENA_DATABASE": "rejected_flows_test",
        "ATHENA_TABLE": "rejected_flows",
        "ATHENA_WORKGROUP": "rejected-flows-test",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DD_API_KEY", raising=False)
    monkeypatch.delenv("DD_SITE", raising=False)
    monkeypatch.delenv("INTERNAL_CIDRS", raising=False)
    notifier.reset()

    def fresh_container(**policy):
        notifier.reset()
        rt = notifier.runtime()
        rt.sleep, rt.clock = clock.sleep, clock.time
        if policy:
            rt.policy = RetryPolicy(**policy)
        return rt

    fresh_container()
    yield fresh_container
    notifier.reset()


def invoke(event, clock, seconds_left=60.0):
    return notifier.handler(event, FakeContext(clock, deadline=clock.now + seconds_left))


def put(s3, key, body, tagging=None):
    s3.put_object(Bucket=BUCKET, Key=key, Body=body, **({"Tagging": tagging} if tagging else {}))


def tags_of(s3, key):
    return {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=BUCKET, Key=key)["TagSet"]}


def posted(httpserver):
    return [json.loads(request.data) for request, _ in httpserver.log]


def emf_metrics(out: str) -> list[dict[str, Any]]:
    """Every metric of the Powertools EMF lines in `out`: name, namespace, dimensions, unit, values."""
    found = []
    for line in out.splitlines():
        if '"_aws"' not in line:
            continue
        entry = json.loads(line)
        for directive in entry["_aws"]["CloudWatchMetrics"]:
            dimension_names = {name for names in directive["Dimensions"] for name in names}
            for metric in directive["Metrics"]:
                found.append({"namespace": directive["Namespace"], "name": metric["Name"],
                              "dimensions": {name: entry[name] for name in dimension_names},
                              "unit": metric.get("Unit"), "value": entry[metric["Name"]]})
    return found
