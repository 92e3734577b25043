"""Opt-in: deploy a real stack with Pulumi's Automation API, push REJECT lines through it, destroy it.

Runs only with REJECTED_FLOWS_LIVE=1, the `pulumi` CLI on PATH and AWS credentials (it creates billable
resources for a few minutes). Optional: REJECTED_FLOWS_LIVE_STACK (default `live-<random>`),
DATADOG_API_KEY (a real key makes the notifier post; any value deploys), AWS_REGION.
"""

from __future__ import annotations

import gzip
import os
import shutil
import time
import uuid
from collections.abc import Iterator

import pytest

from contracts.queries import TOP_REJECTED_SOURCES
from infra.packaging import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.live, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

WAIT_ARCHIVE_SECONDS = 15 * 60  # Firehose buffers up to archiveBufferSeconds, plus delivery latency


def _skip_reason() -> str | None:
    if os.environ.get("REJECTED_FLOWS_LIVE") != "1":
        return "live deployment test: set REJECTED_FLOWS_LIVE=1 to deploy a real stack (costs money)"
    if shutil.which("pulumi") is None:
        return "live deployment test: the pulumi CLI is not on PATH"
    try:
        import boto3

        if boto3.Session().get_credentials() is None:
            return "live deployment test: no AWS credentials found"
    except ImportError as error:
        return f"live deployment test: boto3 unavailable ({error})"
    return None


_REASON = _skip_reason()
if _REASON:
    pytest.skip(_REASON, allow_module_level=True)


@pytest.fixture(scope="module")
def stack() -> Iterator[object]:
    from pulumi import automation as auto

    name = os.environ.get("REJECTED_FLOWS_LIVE_STACK", f"live-{uuid.uuid4().hex[:6]}")
    stack = auto.create_or_select_stack(stack_name=name, work_dir=str(ROOT))
    region = os.environ.get("AWS_REGION", "us-east-1")
    stack.set_config("aws:region", auto.ConfigValue(region))
    stack.set_config("datadogApiKey", auto.ConfigValue(os.environ.get("DATADOG_API_KEY", "live-test"),
                                                       secret=True))
    stack.set_config("archiveBufferSeconds", auto.ConfigValue("60"))
    stack.set_config("datadogTags", auto.ConfigValue('["env:live-test"]'))
    try:
        stack.up(on_output=print)
        yield stack
    finally:
        _empty_bucket(stack)
        stack.destroy(on_output=print)
        stack.workspace.remove_stack(name)


def _empty_bucket(stack) -> None:
    import boto3

    try:
        bucket = stack.outputs()["bucketName"].value
    except KeyError:  # nothing deployed, nothing to empty
        return
    boto3.resource("s3").Bucket(bucket).objects.all().delete()


def _flow_lines(now: int) -> list[str]:
    return [
        f"2 123456789012 eni-0a1b2c3d4e5f60000 198.51.100.{i} 10.0.0.5 {40000 + i} 22 6 1 40 "
        f"{now - 60} {now} REJECT OK"
        for i in range(1, 21)
    ]


def test_reject_lines_reach_the_archive_and_athena(stack) -> None:
    import boto3

    outputs = {key: value.value for key, value in stack.outputs().items()}
    logs = boto3.client("logs")
    group = outputs["logGroupName"]
    log_stream = f"live-{uuid.uuid4().hex[:8]}"
    logs.create_log_stream(logGroupName=group, logStreamName=log_stream)
    now = int(time.time())
    # The created group's default format is the rich v2-v5 one; lines of another field count are not
    # shipped, so the live test writes to a stack configured with the created group and its format.
    from contracts.settings import defaults

    fields = defaults().flow_logs.format.fields
    lines = [_rich_line(line, fields) for line in _flow_lines(now)]
    logs.put_log_events(logGroupName=group, logStreamName=log_stream,
                        logEvents=[{"timestamp": now * 1000, "message": line} for line in lines])

    s3 = boto3.client("s3")
    deadline = time.time() + WAIT_ARCHIVE_SECONDS
    keys: list[str] = []
    while time.time() < deadline and not keys:
        listing = s3.list_objects_v2(Bucket=outputs["bucketName"], Prefix="rejected/")
        keys = [item["Key"] for item in listing.get("Contents", [])]
        time.sleep(15)
    assert keys, "no archive object under rejected/ in time"
    body = gzip.decompress(s3.get_object(Bucket=outputs["bucketName"], Key=keys[0])["Body"].read())
    assert b'"action":"REJECT"' in body.replace(b" ", b"")

    athena = boto3.client("athena")
    named = athena.get_named_query(NamedQueryId=outputs["athenaNamedQueryIds"][TOP_REJECTED_SOURCES.name])
    day = time.gmtime(now)
    execution = athena.start_query_execution(
        QueryString=named["NamedQuery"]["QueryString"],
        QueryExecutionContext={"Database": outputs["glueDatabaseName"]},
        WorkGroup=outputs["athenaWorkgroupName"],
        ExecutionParameters=[str(day.tm_year), str(day.tm_mon), str(day.tm_mday)],
    )["QueryExecutionId"]
    state = "QUEUED"
    while state in ("QUEUED", "RUNNING"):
        time.sleep(3)
        state = athena.get_query_execution(QueryExecutionId=execution)["QueryExecution"]["Status"]["State"]
    assert state == "SUCCEEDED"
    rows = athena.get_query_results(QueryExecutionId=execution)["ResultSet"]["Rows"]
    assert len(rows) > 1  # header + at least one source


def _rich_line(v2_line: str, fields: tuple[str, ...]) -> str:
    """Extend a version-2 line with `-` for every further field of the format."""
    values = v2_line.split()
    return " ".join(values + ["-"] * (len(fields) - len(values)))
