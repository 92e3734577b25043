"""`python -m replay` end to end: a moto S3 server holds the error objects, the loopback Firehose takes
the records back (PutRecordBatch), through the real command line."""

from __future__ import annotations

import base64
import gzip
import io
import itertools
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError, NoCredentialsError
from botocore.stub import Stubber
from tqdm import tqdm

from contracts.layout import FIREHOSE_DATA_PREFIX, FIREHOSE_ERROR_PREFIX, GZIP_EXTENSION
from contracts.object_tags import PROGRESS_TAG, REPLAYED_TAG
from local.aws import CREDENTIALS, LocalAws
from local.firehose import DeliveryStream, StreamConfig
from local.firehose_api import FirehoseApi, serve
from replay.__main__ import main, options_from, parser, replay
from replay.aws import NO_CREDENTIALS, Bucket, ReplaySetupError, Stream
from replay.run import Options, Replayer
from replay.summary import FAILED, REPLAYED, SKIPPED, ObjectOutcome
from tests.replay_support import (
    ACCEPTED_SSH,
    NO_DATA,
    REJECTED_RDP,
    Faulty,
    aws_error,
    error_key,
    error_object,
    subscription_record,
)

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "errors/processing-failed/"
STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
NOTIFIED = {"Key": "rejected-flows-notified", "Value": "7781234567890123456"}
_names = itertools.count(1)

# replay prints through tqdm.write, which takes tqdm's lock: by default also a multiprocessing lock, shared
# by every process forked once it exists. `make mutate` forks one process per mutant from one that ran
# these tests, and kills a process that runs too long; killed while printing, it would leave the lock
# held and every later one blocked until its own timeout. These tests print from one process only.
tqdm.set_lock(threading.RLock())


@pytest.fixture(scope="module")
def aws():
    local = LocalAws()
    yield local
    local.stop()


@pytest.fixture(scope="module")
def firehose():
    api = FirehoseApi()
    with serve(api) as server:
        yield api, server.url


@pytest.fixture
def environment(aws, firehose, monkeypatch, tmp_path):
    """Only the service-specific endpoint variables point boto3 at the stand-ins; no user config."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    values = {
        **CREDENTIALS, "AWS_DEFAULT_REGION": aws.region, "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "AWS_ENDPOINT_URL_S3": aws.url, "AWS_ENDPOINT_URL_FIREHOSE": firehose[1],
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


class Received:
    """A delivery stream on the loopback Firehose whose processor records what reaches it."""

    def __init__(self, api: FirehoseApi, name: str):
        self.records: list[bytes] = []
        self.stream = DeliveryStream(StreamConfig(
            name=name, lambda_arn="arn:aws:lambda:us-east-1:123456789012:function:t:$LATEST",
            data_prefix=FIREHOSE_DATA_PREFIX, error_prefix=FIREHOSE_ERROR_PREFIX, extension=GZIP_EXTENSION,
            processor_buffer_bytes=10**6, processor_buffer_ms=60_000,
            archive_buffer_bytes=10**6, archive_buffer_ms=300_000), self._process, lambda key, body: None)
        api.register(self.stream)

    def _process(self, event: dict) -> dict:
        self.records += [base64.b64decode(record["data"]) for record in event["records"]]
        return {"records": [{"recordId": r["recordId"], "result": "Dropped", "data": ""}
                            for r in event["records"]]}

    def drain(self) -> list[bytes]:
        """What the stream took in so far (puts are accepted into an inbox until the stream runs)."""
        self.stream.close()
        return self.records


@pytest.fixture
def setup(aws, firehose, environment):
    """A fresh bucket and stream per test: (s3 client, bucket, stream name, Received)."""
    number = next(_names)
    bucket, stream = f"rejected-flows-replay-{number}", f"rejected-flows-replay-{number}"
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=bucket)
    return s3, bucket, stream, Received(firehose[0], stream)


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def tags(s3, bucket: str, key: str) -> list[dict]:
    return s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]


def put_errors(s3, bucket: str, key: str, raws: list[bytes], compressed: bool = True) -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=error_object(raws, compressed=compressed))


FIRST = [subscription_record(REJECTED_RDP), subscription_record(REJECTED_RDP, ACCEPTED_SSH, NO_DATA)]
# The second object also holds a plain-text record, as flow logs delivered straight to Firehose are.
SECOND = [subscription_record(NO_DATA, log_stream="eni-2"),
          b"2 123456789010 eni-9 - - - - - - - 1 2 - NODATA\n"]


def two_objects(s3, bucket: str) -> tuple[str, str]:
    gzipped, plain = error_key(3, "a"), error_key(4, "b").removesuffix(".gz")
    put_errors(s3, bucket, gzipped, FIRST)
    put_errors(s3, bucket, plain, SECOND, compressed=False)
    s3.put_object_tagging(Bucket=bucket, Key=gzipped, Tagging={"TagSet": [NOTIFIED]})
    return gzipped, plain


def test_dry_run_lists_what_it_would_put_and_puts_and_tags_nothing(setup, firehose):
    s3, bucket, stream, received = setup
    gzipped, plain = two_objects(s3, bucket)
    calls_before = len(firehose[0].calls)
    code, out, err = run_cli("--bucket", bucket, "--stream", stream, "--dry-run")
    assert (code, err) == (0, "")
    first_bytes, second_bytes = sum(map(len, FIRST)), sum(map(len, SECOND))
    assert out.splitlines() == [
        f"would replay: s3://{bucket}/{gzipped}: 2 records, {first_bytes:,} bytes, 1 PutRecordBatch call",
        f"would replay: s3://{bucket}/{plain}: 2 records, {second_bytes:,} bytes, 1 PutRecordBatch call",
        f"dry run: would put back 4 records ({first_bytes + second_bytes:,} bytes): 2 objects to replay, "
        "0 skipped (already replayed), 0 failed",
    ]
    assert len(firehose[0].calls) == calls_before
    assert received.drain() == []
    assert tags(s3, bucket, gzipped) == [NOTIFIED] and tags(s3, bucket, plain) == []


def test_replay_puts_back_the_exact_records_in_order_and_tags_each_object(setup, firehose):
    s3, bucket, stream, received = setup
    gzipped, plain = two_objects(s3, bucket)
    code, out, err = run_cli("--bucket", bucket, "--stream", stream)
    assert (code, err) == (0, "")
    assert received.drain() == FIRST + SECOND
    first_bytes, second_bytes = sum(map(len, FIRST)), sum(map(len, SECOND))
    assert out.splitlines() == [
        f"replayed: s3://{bucket}/{gzipped}: 2 records, {first_bytes:,} bytes, 1 PutRecordBatch call",
        f"replayed: s3://{bucket}/{plain}: 2 records, {second_bytes:,} bytes, 1 PutRecordBatch call",
        f"put back 4 records ({first_bytes + second_bytes:,} bytes): 2 objects replayed, "
        "0 skipped (already replayed), 0 failed",
    ]
    notified, replayed = tags(s3, bucket, gzipped)
    assert notified == NOTIFIED, "the notifier's tag is kept"
    assert replayed["Key"] == REPLAYED_TAG and STAMP.fullmatch(replayed["Value"])
    (only,) = tags(s3, bucket, plain)
    assert only["Key"] == REPLAYED_TAG


def test_a_second_run_puts_nothing(setup, firehose):
    s3, bucket, stream, received = setup
    two_objects(s3, bucket)
    assert run_cli("--bucket", bucket, "--stream", stream)[0] == 0
    calls_after_first = len(firehose[0].calls)
    code, out, err = run_cli("--bucket", bucket, "--stream", stream)
    assert (code, err) == (0, "")
    assert out == "put back 0 records (0 bytes): 0 objects replayed, 2 skipped (already replayed), 0 failed\n"
    assert len(firehose[0].calls) == calls_after_first
    assert received.drain() == FIRST + SECOND, "each record exactly once"


def test_entries_firehose_refuses_are_retried_until_accepted(setup, firehose):
    s3, bucket, stream, received = setup
    raws = [subscription_record(REJECTED_RDP, log_stream=f"eni-{i}") for i in range(5)]
    put_errors(s3, bucket, error_key(), raws)
    api = firehose[0]
    before = len(api.calls)
    api.fail_next(2)
    code, out, _ = run_cli("--bucket", bucket, "--stream", stream)
    assert code == 0
    assert api.calls[before:] == [("PutRecordBatch", 5), ("PutRecordBatch", 2)]
    assert sorted(received.drain()) == sorted(raws), "every record once, the refused ones on retry"
    assert "5 records" in out and "2 PutRecordBatch calls" in out


def test_records_firehose_keeps_refusing_leave_their_object_untagged_and_exit_1(setup, firehose):
    s3, bucket, stream, received = setup
    refused, fine = error_key(3, "a"), error_key(5, "b")
    put_errors(s3, bucket, refused, FIRST)
    put_errors(s3, bucket, fine, SECOND)
    firehose[0].fail_next(2 * 5)  # both records of the first object, on each of the 5 attempts
    out, err = io.StringIO(), io.StringIO()
    options = options_from(parser().parse_args(["--bucket", bucket, "--stream", stream]))
    waits: list[float] = []
    code = replay(options, Bucket(s3, bucket), Stream(boto3.client("firehose"), stream), out, err,
                  sleep=waits.append)
    assert code == 1
    assert waits == [0.2, 0.4, 0.8, 1.6], "a backoff that doubles between the 5 attempts"
    first, advice = err.getvalue().splitlines()
    assert first == (
        f"error: failed: s3://{bucket}/{refused}: Firehose still refused records after 5 attempts (last "
        "answer: ServiceUnavailableException: Slow down.); 0 of its 2 records are back; a re-run puts "
        "the other 2")
    assert advice == f"left untagged (a re-run retries exactly these once the cause is fixed): {refused}"
    assert tags(s3, bucket, refused) == []
    assert [t["Key"] for t in tags(s3, bucket, fine)] == [REPLAYED_TAG]
    assert received.drain() == SECOND
    # Once Firehose takes records again, a re-run puts exactly the object left untagged.
    assert run_cli("--bucket", bucket, "--stream", stream)[0] == 0
    assert received.drain() == SECOND + FIRST


class RefusingAfter:
    """The loopback Firehose's client, with the stream refusing every entry after the first `calls` calls."""

    def __init__(self, api: FirehoseApi, calls: int):
        self.client, self.api, self.calls_left = boto3.client("firehose"), api, calls

    def put_record_batch(self, **kwargs):
        if self.calls_left <= 0:
            self.api.fail_next(len(kwargs["Records"]))
        self.calls_left -= 1
        return self.client.put_record_batch(**kwargs)

    def describe_delivery_stream(self, **kwargs):
        return self.client.describe_delivery_stream(**kwargs)


def test_an_object_refused_half_way_resumes_where_firehose_stopped_taking_it(setup, firehose):
    s3, bucket, stream, received = setup
    raws = [b"record %d\n" % i for i in range(501)]  # two PutRecordBatch calls: 500, then 1
    put_errors(s3, bucket, error_key(), raws)
    options = options_from(parser().parse_args(["--bucket", bucket, "--stream", stream]))
    out, err = io.StringIO(), io.StringIO()
    code = replay(options, Bucket(s3, bucket), Stream(RefusingAfter(firehose[0], calls=1), stream), out, err,
                  sleep=lambda seconds: None)
    assert code == 1
    assert err.getvalue().splitlines()[0].endswith(
        "500 of its 501 records are back (tag rejected-flows-replay-progress); a re-run puts the other 1")
    assert out.getvalue() == (f"put back 500 records ({sum(map(len, raws[:500])):,} bytes): 0 objects "
                              "replayed, 0 skipped (already replayed), 1 failed\n")
    assert tags(s3, bucket, error_key()) == [{"Key": "rejected-flows-replay-progress", "Value": "500"}]

    code, out_dry, _ = run_cli("--bucket", bucket, "--stream", stream, "--dry-run")
    assert code == 0 and "1 record, 11 bytes, 1 PutRecordBatch call (resumed after the 500 records" in out_dry
    code, out_real, _ = run_cli("--bucket", bucket, "--stream", stream)
    assert code == 0 and out_real.splitlines()[0] == (
        f"replayed: s3://{bucket}/{error_key()}: 1 record, 11 bytes, 1 PutRecordBatch call (resumed after "
        "the 500 records an earlier run put back)")
    assert received.drain() == raws, "each record exactly once, in order"
    (tag,) = tags(s3, bucket, error_key())
    assert tag["Key"] == REPLAYED_TAG, "the progress tag gives way to the replayed tag"


class InterruptedAfter(RefusingAfter):
    """The loopback Firehose's client, with the user pressing Ctrl-C during the call after `calls` calls."""

    def put_record_batch(self, **kwargs):
        if self.calls_left <= 0:
            raise KeyboardInterrupt
        self.calls_left -= 1
        return self.client.put_record_batch(**kwargs)


def test_an_interrupted_object_resumes_after_the_batches_firehose_took(setup, firehose):
    s3, bucket, stream, received = setup
    raws = [b"record %d\n" % i for i in range(1001)]  # three PutRecordBatch calls: 500, 500, 1
    put_errors(s3, bucket, error_key(), raws)
    options = options_from(parser().parse_args(["--bucket", bucket, "--stream", stream]))
    with pytest.raises(KeyboardInterrupt):
        replay(options, Bucket(s3, bucket), Stream(InterruptedAfter(firehose[0], calls=1), stream),
               io.StringIO(), io.StringIO(), sleep=lambda seconds: None)
    # The first 500 are back; the next 500 were being sent when the run stopped.
    assert tags(s3, bucket, error_key()) == [{"Key": "rejected-flows-replay-progress", "Value": "500+500"}]

    code, out, _ = run_cli("--bucket", bucket, "--stream", stream)
    assert code == 0 and out.splitlines()[0] == (
        f"replayed: s3://{bucket}/{error_key()}: 501 records, {sum(map(len, raws[500:])):,} bytes, "
        "2 PutRecordBatch calls (resumed after the 500 records an earlier run put back; the 500 records "
        "after them, which a stopped run was sending, went again and may be in the stream twice)")
    assert received.drain() == raws, "each record exactly once, in order, across the interruption"


def test_a_progress_tag_larger_than_the_object_is_an_error_not_a_guess(setup):
    s3, bucket, stream, received = setup
    put_errors(s3, bucket, error_key(), FIRST)
    s3.put_object_tagging(Bucket=bucket, Key=error_key(), Tagging={"TagSet": [
        {"Key": "rejected-flows-replay-progress", "Value": "7"}]})
    code, _, err = run_cli("--bucket", bucket, "--stream", stream)
    assert code == 1
    assert "its progress tag says '7' records were put back, but it holds 2" in err
    assert received.drain() == []


def test_lines_without_raw_data_are_named_and_the_objects_other_records_replayed(setup):
    s3, bucket, stream, received = setup
    mixed, good = error_key(3, "mixed"), error_key(4, "good")
    lines = gzip.decompress(error_object(FIRST)).splitlines(keepends=True)
    s3.put_object(Bucket=bucket, Key=mixed, Body=gzip.compress(
        lines[0] + b'{"srcaddr":"198.51.100.7","dstport":22,"action":"REJECT"}\n' + lines[1] + b"garbage\n"))
    put_errors(s3, bucket, good, SECOND)
    code, out, err = run_cli("--bucket", bucket, "--stream", stream)
    assert code == 0
    assert err.splitlines() == [
        f"warning: s3://{bucket}/{mixed}: 2 lines cannot be put back and stay in the object: line 2: no "
        "rawData; line 4: not JSON (starts b'garbage')",
    ]
    assert out.splitlines()[0] == (f"replayed: s3://{bucket}/{mixed}: 2 records, {sum(map(len, FIRST)):,} "
                                   "bytes, 1 PutRecordBatch call")
    assert out.splitlines()[-1].endswith("2 objects replayed, 0 skipped (already replayed), 0 failed, "
                                         "2 lines that cannot be put back (named above)")
    assert [t["Key"] for t in tags(s3, bucket, mixed)] == [REPLAYED_TAG]
    assert received.drain() == FIRST + SECOND, "every record with raw data, once"


def test_an_object_without_any_record_to_put_back_is_reported_by_line_and_left_untagged(setup):
    s3, bucket, stream, received = setup
    corrupt = error_key(3, "corrupt")
    s3.put_object(Bucket=bucket, Key=corrupt, Body=gzip.compress(
        b'{"srcaddr":"198.51.100.7","dstport":22,"action":"REJECT"}\n'))
    code, _, err = run_cli("--bucket", bucket, "--stream", stream)
    assert code == 1
    assert err.splitlines() == [
        f"error: failed: s3://{bucket}/{corrupt}: no line can be put back: line 1: no rawData",
        f"left untagged (a re-run retries exactly these once the cause is fixed): {corrupt}",
    ]
    assert tags(s3, bucket, corrupt) == [] and received.drain() == []


def test_a_truncated_gzip_object_is_reported_and_left_untagged(setup):
    s3, bucket, stream, received = setup
    body = error_object(FIRST * 30)
    s3.put_object(Bucket=bucket, Key=error_key(), Body=body[:100])
    code, _, err = run_cli("--bucket", bucket, "--stream", stream)
    assert code == 1
    assert "starts like gzip but cannot be decompressed" in err.splitlines()[0]
    assert tags(s3, bucket, error_key()) == [] and received.drain() == []


def test_an_object_with_s3s_maximum_of_tags_is_refused_before_anything_is_put(setup, firehose):
    s3, bucket, stream, received = setup
    put_errors(s3, bucket, error_key(), FIRST)
    full = [{"Key": f"team-{i}", "Value": "x"} for i in range(10)]
    s3.put_object_tagging(Bucket=bucket, Key=error_key(), Tagging={"TagSet": full})
    code, _, err = run_cli("--bucket", bucket, "--stream", stream)
    assert code == 1
    assert "it has 10 tags, S3's maximum" in err
    assert received.drain() == [] and tags(s3, bucket, error_key()) == full


def test_objects_outside_the_prefix_are_left_alone(setup):
    s3, bucket, stream, received = setup
    put_errors(s3, bucket, error_key(), FIRST)
    other = "errors/format-conversion-failed/year=2026/month=11/day=27/hour=03/x.gz"
    put_errors(s3, bucket, other, SECOND)
    assert run_cli("--bucket", bucket, "--stream", stream)[0] == 0
    assert received.drain() == FIRST and tags(s3, bucket, other) == []
    other_prefix = "errors/format-conversion-failed/"
    assert run_cli("--bucket", bucket, "--stream", stream, "--prefix", other_prefix)[0] == 0
    assert received.drain() == FIRST + SECOND


@pytest.mark.parametrize(("argv", "message"), [
    (["--stream", "s"], "the following arguments are required: --bucket"),
    (["--bucket", "b"], "the following arguments are required: --stream"),
    (["--bucket", "s3://archive", "--stream", "s"], "error: --bucket takes a bucket name"),
    (["--bucket", "b", "--stream", "arn:aws:firehose:us-east-1:1:deliverystream/s"],
     "error: --stream takes a delivery stream name"),
    (["--bucket", "b", "--stream", "s", "--prefix", "rejected/"], "holds archived flows, not failed records"),
    (["--bucket", "b", "--stream", "s", "--prefix", ""], "holds archived flows, not failed records"),
])
def test_usage_errors_exit_2_with_one_clear_line(argv, message, capsys):
    code, _, err = run_cli(*argv)
    assert code == 2
    assert message in err + capsys.readouterr().err


def test_a_bucket_that_does_not_exist_exits_2(setup):
    _, _, stream, _ = setup
    assert run_cli("--bucket", "no-such-archive-bucket", "--stream", stream) == (
        2, "", "error: bucket 'no-such-archive-bucket' does not exist (check `pulumi stack output "
               "bucketName` and the account you are using)\n")


def test_a_stream_that_does_not_exist_exits_2_and_tags_nothing(setup):
    s3, bucket, _, _ = setup
    put_errors(s3, bucket, error_key(), FIRST)
    code, out, err = run_cli("--bucket", bucket, "--stream", "no-such-stream")
    assert (code, out) == (2, "")
    assert err == ("error: delivery stream 'no-such-stream' does not exist in this account and region "
                   "(check `pulumi stack output deliveryStreamName` and AWS_REGION)\n")
    assert tags(s3, bucket, error_key()) == []


def test_no_credentials_exits_2_saying_where_boto3_looked(setup, monkeypatch):
    _, bucket, stream, _ = setup
    for name in CREDENTIALS:
        monkeypatch.delenv(name)
    code, out, err = run_cli("--bucket", bucket, "--stream", stream)
    assert (code, out) == (2, "")
    assert err.startswith("error: no AWS credentials found: boto3 looks in the environment")


def test_no_region_exits_2(setup, monkeypatch):
    _, bucket, stream, _ = setup
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert run_cli("--bucket", bucket, "--stream", stream) == (
        2, "", "error: no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION, or a profile's region) to the "
               "stack's region\n")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("err_stream", "objects", "shown"), [
    (Terminal, 20, True), (io.StringIO, 20, False), (Terminal, 3, False),
], ids=["terminal", "not-a-terminal", "few-objects"])
def test_a_progress_bar_over_many_objects_only_on_a_terminal(setup, err_stream, objects, shown):
    s3, bucket, stream, received = setup
    keys = [error_key(3, f"n{i:02d}") for i in range(objects)]
    for key in keys:
        put_errors(s3, bucket, key, [subscription_record(REJECTED_RDP, log_stream=key)])
    out, err = io.StringIO(), err_stream()
    options = options_from(parser().parse_args(["--bucket", bucket, "--stream", stream]))
    assert replay(options, Bucket(s3, bucket), Stream(boto3.client("firehose"), stream), out, err) == 0
    assert (f"replay:   0%|          | 0/{objects} [" in err.getvalue()) is shown
    assert shown or err.getvalue() == ""
    if shown:  # counted in objects, and wiped at the end: the summary line starts on a clean line
        assert err.getvalue().startswith(f"\rreplay:   0%|          | 0/{objects} [00:00<?, ?object/s]")
        assert err.getvalue().endswith("\r") and "\n" not in err.getvalue()
    assert len(received.drain()) == objects


def test_the_command_in_a_subprocess_uses_the_service_endpoint_variables(setup, environment):
    s3, bucket, stream, received = setup
    gzipped, plain = two_objects(s3, bucket)
    env = {"PATH": os.environ.get("PATH", ""), **environment}
    result = subprocess.run([sys.executable, "-m", "replay", "--bucket", bucket, "--stream", stream],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines()[-1].startswith("put back 4 records (")
    assert received.drain() == FIRST + SECOND
    assert all(REPLAYED_TAG in {t["Key"] for t in tags(s3, bucket, key)} for key in (gzipped, plain))


def test_help_names_each_option_the_tag_and_the_exit_codes(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")  # argparse wraps to the terminal's width, even inside a name
    assert run_cli("--help") == (0, "", "")
    text = " ".join(capsys.readouterr().out.split())
    assert text.startswith("usage: python -m replay [-h] --bucket BUCKET --stream STREAM [--prefix PREFIX] "
                           "[--dry-run] `python -m replay`: put Firehose's failed records (under `errors/`) "
                           "back into the delivery stream.")
    for option in ("--bucket BUCKET the archive bucket (`pulumi stack output bucketName`)",
                   "--stream STREAM the delivery stream (`pulumi stack output deliveryStreamName`)",
                   "--prefix PREFIX where the failed records are (default errors/processing-failed/)",
                   "--dry-run list the objects, records and bytes that would be put; put and tag nothing"):
        assert option in text
    assert text.endswith(
        "Each object is tagged rejected-flows-replayed=<UTC time> once Firehose has accepted all its "
        "records; tagged objects are skipped. Before each PutRecordBatch call (at most 500 records, 4 MiB) "
        "the object's rejected-flows-replay-progress tag records how far it got, so a run stopped at any "
        "point (a kill, a lost network, a second Ctrl-C) makes the next run send again at most that one "
        "call's records, which may then be in the stream twice; nothing is lost. A first Ctrl-C stops once "
        "the call in flight is answered, and nothing goes twice. Each object is locked while it is "
        "replayed (s3://BUCKET/replay-locks/<key>): a second run at the same time skips it and says so; a "
        "lock not renewed for 10 minutes (its run was killed) is taken over. Lines without usable rawData "
        "are named and left in the object. Exit codes: 0 done, 1 some objects left untagged (named; a "
        "re-run retries exactly those), 2 usage or setup error, 130 interrupted (a re-run resumes each "
        "object where its progress tag says).")


def test_a_prefix_with_nothing_under_it_says_where_it_looked(setup):
    _, bucket, stream, received = setup
    assert run_cli("--bucket", bucket, "--stream", stream) == (
        0, "put back 0 records (0 bytes): 0 objects replayed, 0 skipped (already replayed), 0 failed "
           f"(nothing under s3://{bucket}/{PREFIX})\n", "")
    assert received.drain() == []


def test_every_page_of_the_listing_is_replayed():
    """S3 lists at most 1,000 keys per answer; an object on a later page is not forgotten."""
    s3 = boto3.client("s3", region_name="us-east-1", aws_access_key_id="testing",
                      aws_secret_access_key="testing")
    first, second = error_key(3, "page-1"), error_key(4, "page-2")
    with Stubber(s3) as stub:
        stub.add_response("list_objects_v2", {"Contents": [{"Key": first}], "IsTruncated": True,
                                              "NextContinuationToken": "page-2"},
                          {"Bucket": "archive", "Prefix": PREFIX})
        stub.add_response("list_objects_v2", {"Contents": [{"Key": second}], "IsTruncated": False},
                          {"Bucket": "archive", "Prefix": PREFIX, "ContinuationToken": "page-2"})
        assert Bucket(s3, "archive").keys(PREFIX) == [first, second]


def test_the_stream_is_looked_up_by_its_name_before_anything_is_read():
    firehose_client = boto3.client("firehose", region_name="us-east-1", aws_access_key_id="testing",
                                   aws_secret_access_key="testing")
    with Stubber(firehose_client) as stub:
        stub.add_client_error(
            "describe_delivery_stream", "ResourceNotFoundException",
            "Firehose rejected-flows-dev-flows under account 123456789012 not found.",
            expected_params={"DeliveryStreamName": "rejected-flows-dev-flows"})
        with pytest.raises(ReplaySetupError) as caught:
            Stream(firehose_client, "rejected-flows-dev-flows").check()
    assert str(caught.value) == (
        "delivery stream 'rejected-flows-dev-flows' does not exist in this account and region (check "
        "`pulumi stack output deliveryStreamName` and AWS_REGION)")


def test_a_large_object_goes_back_in_as_few_calls_as_firehoses_limits_allow(setup, firehose):
    s3, bucket, stream, received = setup
    raws = [b"record %d\n" % i for i in range(1001)]
    put_errors(s3, bucket, error_key(), raws)
    before = len(firehose[0].calls)
    code, out, err = run_cli("--bucket", bucket, "--stream", stream)
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == (
        f"replayed: s3://{bucket}/{error_key()}: 1,001 records, {sum(map(len, raws)):,} bytes, "
        "3 PutRecordBatch calls")
    assert firehose[0].calls[before:] == [("PutRecordBatch", 500), ("PutRecordBatch", 500),
                                          ("PutRecordBatch", 1)]
    assert received.drain() == raws


def replayer(setup: tuple, s3: Any = None, firehose_client: Any = None, waits: list[float] | None = None,
             reported: list[ObjectOutcome] | None = None) -> Replayer:
    """A replay of the setup's bucket into its stream, through the clients given (by default boto3's)."""
    default_s3, bucket, stream, _ = setup
    return Replayer(Options(bucket, stream, PREFIX), Bucket(s3 or default_s3, bucket),
                    Stream(firehose_client or boto3.client("firehose"), stream),
                    (reported if reported is not None else []).append,
                    sleep=(waits if waits is not None else []).append)


def progress_tag(value: int) -> dict[str, str]:
    return {"Key": PROGRESS_TAG, "Value": str(value)}


def test_the_summary_names_each_object_with_what_happened_to_it(setup):
    s3, bucket, _, received = setup
    done, corrupt, resumed = error_key(3, "done"), error_key(4, "corrupt"), error_key(5, "resumed")
    put_errors(s3, bucket, done, FIRST)
    s3.put_object_tagging(Bucket=bucket, Key=done, Tagging={"TagSet": [{"Key": REPLAYED_TAG, "Value": "x"}]})
    s3.put_object(Bucket=bucket, Key=corrupt, Body=b"not json\n")
    put_errors(s3, bucket, resumed, SECOND)
    s3.put_object_tagging(Bucket=bucket, Key=resumed, Tagging={"TagSet": [progress_tag(1)]})
    reported: list[ObjectOutcome] = []
    summary = replayer(setup, reported=reported).run()
    assert summary.outcomes == reported == [
        ObjectOutcome(done, SKIPPED),
        ObjectOutcome(corrupt, FAILED,
                      reason="no line can be put back: line 1: not JSON (starts b'not json')"),
        ObjectOutcome(resumed, REPLAYED, records=1, bytes=len(SECOND[1]), calls=1, resumed_after=1),
    ]
    assert received.drain() == SECOND[1:]


@pytest.mark.parametrize(("calls_taken", "back", "how_many_are_back"), [
    (0, 1, "1 of its 1,002 records are back (tag rejected-flows-replay-progress); a re-run puts the other "
           "1,001"),
    (1, 501, "501 of its 1,002 records are back (tag rejected-flows-replay-progress); a re-run puts the "
             "other 501"),
])
def test_a_resumed_object_refused_again_says_how_many_of_its_records_are_back(
        setup, firehose, calls_taken, back, how_many_are_back):
    s3, bucket, _, received = setup
    raws = [b"record %d\n" % i for i in range(1002)]  # after the first, three calls: 500, 500, 1
    put_errors(s3, bucket, error_key(), raws)
    s3.put_object_tagging(Bucket=bucket, Key=error_key(), Tagging={"TagSet": [progress_tag(1)]})
    summary = replayer(setup, firehose_client=RefusingAfter(firehose[0], calls=calls_taken)).run()
    taken = raws[1:back]
    assert summary.outcomes == [ObjectOutcome(
        error_key(), FAILED, records=len(taken), bytes=sum(map(len, taken)), calls=calls_taken,
        resumed_after=1, reason="Firehose still refused records after 5 attempts (last answer: "
                                f"ServiceUnavailableException: Slow down.); {how_many_are_back}")]
    assert tags(s3, bucket, error_key()) == [progress_tag(back)]
    assert received.drain() == taken


def refusing_tags(s3: Any) -> Faulty:
    """The archive bucket, with S3 refusing every change to the objects' tags."""
    denied = aws_error("AccessDenied", "Access Denied", "PutObjectTagging")
    return Faulty(s3, put_object_tagging=itertools.repeat(denied))


def test_records_put_back_on_an_object_s3_will_not_tag_are_reported_to_tag_by_hand(setup):
    s3, bucket, _, received = setup
    raws = [*FIRST, SECOND[0]]
    put_errors(s3, bucket, error_key(), raws)
    s3.put_object_tagging(Bucket=bucket, Key=error_key(), Tagging={"TagSet": [NOTIFIED, progress_tag(1)]})
    denied = aws_error("AccessDenied", "Access Denied", "PutObjectTagging")
    # S3 takes the progress written before the batch, then refuses the replayed tag.
    summary = replayer(setup, s3=Faulty(s3, put_object_tagging=iter([None, denied]))).run()
    assert summary.outcomes == [ObjectOutcome(
        error_key(), FAILED, records=2, bytes=sum(map(len, raws[1:])), calls=1, resumed_after=1,
        reason="all its records were put back but cannot tag the object (AccessDenied: Access Denied): "
               "tag it 'rejected-flows-replayed' by hand (and remove 'rejected-flows-replay-progress'), or a "
               "re-run puts its last 2 records again")]
    assert tags(s3, bucket, error_key()) == [NOTIFIED, {"Key": PROGRESS_TAG, "Value": "1+2"}]
    assert received.drain() == raws[1:]


def test_an_object_s3_will_not_tag_is_not_put_at_all(setup, firehose):
    s3, bucket, stream, received = setup
    raws = [b"record %d\n" % i for i in range(501)]
    put_errors(s3, bucket, error_key(), raws)
    options = options_from(parser().parse_args(["--bucket", bucket, "--stream", stream]))
    out, err = io.StringIO(), io.StringIO()
    code = replay(options, Bucket(refusing_tags(s3), bucket), Stream(boto3.client("firehose"), stream), out,
                  err, sleep=lambda seconds: None)
    assert code == 1
    assert err.getvalue().splitlines()[0] == (
        f"error: failed: s3://{bucket}/{error_key()}: cannot tag the object (AccessDenied: Access Denied), "
        "so nothing more of it is put: 0 of its 501 records are back; a re-run puts the other 501")
    assert tags(s3, bucket, error_key()) == []
    assert received.drain() == [], "no record is put before its progress is recorded"


def test_an_object_s3_stops_tagging_half_way_keeps_what_firehose_took(setup, firehose):
    s3, bucket, _, received = setup
    raws = [b"record %d\n" % i for i in range(501)]
    put_errors(s3, bucket, error_key(), raws)
    denied = aws_error("AccessDenied", "Access Denied", "PutObjectTagging")
    summary = replayer(setup, s3=Faulty(s3, put_object_tagging=iter([None, denied]))).run()
    assert summary.outcomes[0].reason == (
        "cannot tag the object (AccessDenied: Access Denied), so nothing more of it is put: 500 of its 501 "
        "records are back; a re-run puts the other 1")
    assert tags(s3, bucket, error_key()) == [{"Key": PROGRESS_TAG, "Value": "0+500"}]
    assert received.drain() == raws[:500]


def run_cli_with(monkeypatch: pytest.MonkeyPatch, s3: Any, firehose_client: Any,
                 *argv: str) -> tuple[int, str, str]:
    """`run_cli`, with these clients in place of the ones boto3 makes (to have AWS refuse some calls)."""
    monkeypatch.setattr("replay.__main__.clients", lambda: (s3, firehose_client))
    return run_cli(*argv)


def test_ctrl_c_exits_130_and_keeps_what_firehose_took(setup, firehose, monkeypatch):
    s3, bucket, stream, received = setup
    raws = [b"record %d\n" % i for i in range(501)]
    put_errors(s3, bucket, error_key(), raws)
    code = run_cli_with(monkeypatch, s3, InterruptedAfter(firehose[0], calls=1),
                        "--bucket", bucket, "--stream", stream)
    assert code == (130, "", "interrupted: the next run resumes each object where its progress tag says (the "
                             "records of the PutRecordBatch call in flight, if any, go again)\n")
    assert tags(s3, bucket, error_key()) == [{"Key": PROGRESS_TAG, "Value": "500+1"}]
    assert received.drain() == raws[:500]


@pytest.mark.parametrize(("operation", "action"), [
    ("get_object_tagging", "read the tags of"), ("get_object", "read"),
])
def test_an_object_s3_will_not_let_us_read_is_reported_and_the_others_replayed(setup, operation, action):
    s3, bucket, stream, received = setup
    denied, fine = error_key(3, "denied"), error_key(4, "fine")
    put_errors(s3, bucket, denied, FIRST)
    put_errors(s3, bucket, fine, SECOND)
    once = iter([aws_error("AccessDenied", "Access Denied", "GetObject")])
    options = options_from(parser().parse_args(["--bucket", bucket, "--stream", stream]))
    out, err = io.StringIO(), io.StringIO()
    code = replay(options, Bucket(Faulty(s3, **{operation: once}), bucket),
                  Stream(boto3.client("firehose"), stream), out, err)
    assert code == 1
    assert err.getvalue().splitlines() == [
        f"error: failed: s3://{bucket}/{denied}: cannot {action} the object (AccessDenied: Access Denied)",
        f"left untagged (a re-run retries exactly these once the cause is fixed): {denied}",
    ]
    assert tags(s3, bucket, denied) == [] and [t["Key"] for t in tags(s3, bucket, fine)] == [REPLAYED_TAG]
    assert received.drain() == SECOND


def test_credentials_lost_during_a_run_stop_it_with_exit_2(setup, monkeypatch):
    s3, bucket, stream, received = setup
    put_errors(s3, bucket, error_key(), FIRST)
    lost = Faulty(s3, get_object_tagging=iter([NoCredentialsError()]))
    code = run_cli_with(monkeypatch, lost, boto3.client("firehose"), "--bucket", bucket, "--stream", stream)
    assert code == (2, "", f"error: {NO_CREDENTIALS}\n")
    assert received.drain() == [] and tags(s3, bucket, error_key()) == []


class RefusingWithoutMessage:
    """A Firehose client refusing every entry with an error code and no message."""

    def put_record_batch(self, **kwargs: Any) -> dict[str, Any]:
        entries = [{"ErrorCode": "InternalFailure"} for _ in kwargs["Records"]]
        return {"FailedPutCount": len(entries), "Encrypted": False, "RequestResponses": entries}

    def describe_delivery_stream(self, **kwargs: Any) -> dict[str, Any]:
        return {}


def always(error: Exception) -> Callable[[], Faulty]:
    """A Firehose client whose every PutRecordBatch call fails with `error`."""
    return lambda: Faulty(boto3.client("firehose"), put_record_batch=itertools.repeat(error))


@pytest.mark.parametrize(("client", "last_answer"), [
    (always(aws_error("ThrottlingException", "Rate exceeded", "PutRecordBatch")),
     "ThrottlingException: Rate exceeded"),
    (always(aws_error("ServiceUnavailableException", "", "PutRecordBatch")), "ServiceUnavailableException"),
    (always(EndpointConnectionError(endpoint_url="https://firehose.us-east-1.amazonaws.com/")),
     'Could not connect to the endpoint URL: "https://firehose.us-east-1.amazonaws.com/"'),
    (RefusingWithoutMessage, "InternalFailure"),
], ids=["throttled", "no-message", "unreachable", "entries-refused-without-message"])
def test_a_put_that_keeps_failing_leaves_the_object_untagged_naming_firehoses_last_answer(
        setup, client, last_answer):
    s3, bucket, stream, received = setup
    put_errors(s3, bucket, error_key(), FIRST)
    options = options_from(parser().parse_args(["--bucket", bucket, "--stream", stream]))
    out, err = io.StringIO(), io.StringIO()
    waits: list[float] = []
    code = replay(options, Bucket(s3, bucket), Stream(client(), stream), out, err, sleep=waits.append)
    assert code == 1
    assert err.getvalue().splitlines()[0] == (
        f"error: failed: s3://{bucket}/{error_key()}: Firehose still refused records after 5 attempts (last "
        f"answer: {last_answer}); 0 of its 2 records are back; a re-run puts the other 2")
    assert waits == [0.2, 0.4, 0.8, 1.6]
    assert tags(s3, bucket, error_key()) == [] and received.drain() == []


def test_a_put_that_fails_once_is_retried_and_the_object_replayed(setup):
    s3, bucket, stream, received = setup
    put_errors(s3, bucket, error_key(), FIRST)
    throttled = aws_error("ThrottlingException", "Rate exceeded", "PutRecordBatch")
    options = options_from(parser().parse_args(["--bucket", bucket, "--stream", stream]))
    out, err = io.StringIO(), io.StringIO()
    code = replay(options, Bucket(s3, bucket), Stream(Faulty(boto3.client("firehose"),
                  put_record_batch=iter([throttled])), stream), out, err, sleep=lambda seconds: None)
    assert (code, err.getvalue()) == (0, "")
    assert out.getvalue().splitlines()[0] == (
        f"replayed: s3://{bucket}/{error_key()}: 2 records, {sum(map(len, FIRST)):,} bytes, "
        "2 PutRecordBatch calls")
    assert received.drain() == FIRST


@pytest.mark.parametrize(("error", "message"), [
    (aws_error("ResourceNotFoundException", "Firehose s under account 123456789012 not found.",
               "DescribeDeliveryStream"),
     "delivery stream '{stream}' does not exist in this account and region (check `pulumi stack output "
     "deliveryStreamName` and AWS_REGION)"),
    (aws_error("ExpiredTokenException", "The security token included in the request is expired",
               "DescribeDeliveryStream"),
     "AWS refused the credentials (ExpiredTokenException: The security token included in the request is "
     "expired); refresh them"),
    (EndpointConnectionError(endpoint_url="https://firehose.example/"),
     "cannot reach delivery stream '{stream}': Could not connect to the endpoint URL: "
     '"https://firehose.example/"'),
], ids=["no-such-stream", "expired-credentials", "unreachable"])
def test_a_stream_that_cannot_be_used_exits_2_before_anything_is_read(setup, monkeypatch, error, message):
    s3, bucket, stream, received = setup
    put_errors(s3, bucket, error_key(), FIRST)
    firehose_client = Faulty(boto3.client("firehose"), describe_delivery_stream=iter([error]))
    assert run_cli_with(monkeypatch, s3, firehose_client, "--bucket", bucket, "--stream", stream) == (
        2, "", f"error: {message.format(stream=stream)}\n")
    assert received.drain() == [] and tags(s3, bucket, error_key()) == []


def test_a_caller_allowed_to_put_but_not_to_describe_the_stream_still_replays(setup, monkeypatch):
    s3, bucket, stream, received = setup
    put_errors(s3, bucket, error_key(), FIRST)
    denied = aws_error("AccessDeniedException", "User: arn:aws:sts::123456789012:assumed-role/ops/me is not "
                       "authorized to perform: firehose:DescribeDeliveryStream", "DescribeDeliveryStream")
    firehose_client = Faulty(boto3.client("firehose"), describe_delivery_stream=iter([denied]))
    code, out, err = run_cli_with(monkeypatch, s3, firehose_client, "--bucket", bucket, "--stream", stream)
    assert (code, err) == (0, "") and out.startswith(f"replayed: s3://{bucket}/{error_key()}: 2 records")
    assert received.drain() == FIRST


@pytest.mark.parametrize(("error", "message"), [
    (aws_error("AccessDenied", "Access Denied", "ListObjectsV2"),
     "access denied to bucket '{bucket}' (AccessDenied: Access Denied)"),
    (aws_error("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.",
               "ListObjectsV2"),
     "AWS refused the credentials (InvalidAccessKeyId: The AWS Access Key Id you provided does not exist in "
     "our records.); refresh them"),
    (aws_error("InternalError", "We encountered an internal error. Please try again.", "ListObjectsV2"),
     "cannot list s3://{bucket}/errors/processing-failed/: InternalError: We encountered an internal error. "
     "Please try again."),
    (EndpointConnectionError(endpoint_url="https://s3.example/"),
     "cannot reach bucket '{bucket}': Could not connect to the endpoint URL: \"https://s3.example/\""),
], ids=["access-denied", "bad-credentials", "s3-error", "unreachable"])
def test_a_bucket_that_cannot_be_listed_exits_2_saying_why(setup, monkeypatch, error, message):
    s3, bucket, stream, received = setup
    put_errors(s3, bucket, error_key(), FIRST)
    listing_fails = Faulty(s3, get_paginator=iter([error]))
    code = run_cli_with(monkeypatch, listing_fails, boto3.client("firehose"),
                        "--bucket", bucket, "--stream", stream)
    assert code == (2, "", f"error: {message.format(bucket=bucket)}\n")
    assert received.drain() == []


def test_half_the_credentials_exits_2_saying_where_boto3_looked(setup, monkeypatch):
    _, bucket, stream, _ = setup
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    assert run_cli("--bucket", bucket, "--stream", stream) == (2, "", f"error: {NO_CREDENTIALS}\n")
