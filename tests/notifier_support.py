"""Builders shared by the notifier's tests: realistic flow records, archived objects, S3 events."""

from __future__ import annotations

import copy
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

from contracts.error_record import error_line as write_error_line
from local.lambdas import FakeContext, function_arn
from notifier import handler as notifier
from notifier.datadog import RetryPolicy
from tests.aws_events import load_event

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
    """AWS's own S3 put notification (tests/events/s3-put.json), one record per key, for `bucket`; keys
    are URL-encoded as S3 sends them (`=` -> `%3D`)."""
    template = load_event("s3-put")["Records"][0]
    records = []
    for key in keys:
        record = copy.deepcopy(template)
        record["s3"]["bucket"].update(name=bucket, arn=f"arn:aws:s3:::{bucket}")
        record["s3"]["object"]["key"] = quote_plus(key)
        records.append(record)
    return {"Records": records}


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


NOTIFIER_NAME = "rejected-flows-notifier"
REQUEST_ID = "00000000-0000-4000-8000-000000000000"


def notifier_context(clock: FakeClock, seconds_left: float = 60.0) -> FakeContext:
    """The notifier's Lambda context, its deadline `seconds_left` after the clock's now."""
    return FakeContext(NOTIFIER_NAME, function_arn(NOTIFIER_NAME, "eu-west-1", ACCOUNT),
                       timeout_s=seconds_left, aws_request_id=REQUEST_ID, clock=clock.time)


def reader(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)


# --- the function end to end: moto's S3 and Secrets Manager in-process, pytest-httpserver as Datadog
# (the fixtures `aws`, `clock` and `env` are in tests/conftest.py) ---

BUCKET = "rejected-flows-archive-test"
EVENTS = "/api/v1/events"
ACCEPTED = {"status": "ok", "event": {"id": 7700000000000000042, "id_str": "7700000000000000042"}}


def fake_aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Obvious fake credentials for moto in-process, and no endpoint override from the shell."""
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "eu-west-1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


SECRET_NAME = "rejected-flows/datadog-api-key"


def create_secret(value: str) -> str:
    """The Datadog API key as a Secrets Manager secret (moto); its ARN."""
    return boto3.client("secretsmanager").create_secret(Name=SECRET_NAME, SecretString=value)["ARN"]


def notifier_environment(datadog_url: str) -> dict[str, str]:
    """The stack's environment for the notifier, the key's secret created first."""
    return {
        "DD_API_KEY_SECRET_ARN": create_secret(FAKE_KEY),
        "DD_API_URL": datadog_url,
        "DD_TAGS": "env:test,team:netsec",
        "STACK_NAME": "test",
        "ATHENA_DATABASE": "rejected_flows_test",
        "ATHENA_TABLE": "rejected_flows",
        "ATHENA_WORKGROUP": "rejected-flows-test",
    }


def fresh_container(clock: FakeClock, **policy: Any) -> notifier.Runtime:
    """A new Lambda container: the notifier's runtime built again, on the test's clock."""
    notifier.reset()
    rt = notifier.runtime()
    rt.sleep, rt.clock = clock.sleep, clock.time
    if policy:
        rt.policy = RetryPolicy(**policy)
    return rt


def invoke(event, clock, seconds_left=60.0):
    return notifier.handler(event, notifier_context(clock, seconds_left))


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
