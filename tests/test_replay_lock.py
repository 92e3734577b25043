"""Replay's lock per error object (S3 conditional writes on a moto server): who holds it, races S3
reports, stale locks, and the permissions it needs."""

from __future__ import annotations

import io
import itertools
import os
import socket

import orjson
import pytest

from contracts.layout import REPLAY_LOCK_PREFIX
from local.aws import LocalAws
from replay.__main__ import main
from replay.aws import ReplaySetupError
from replay.lock import Holder, Lease, Locks, lock_key
from tests.replay_support import Faulty, aws_error, error_key, error_object

_names = itertools.count(1)


@pytest.fixture(scope="module")
def aws():
    local = LocalAws()
    yield local
    local.stop()


@pytest.fixture
def bucket(aws):
    name = f"locks-{next(_names)}"
    aws.client("s3").create_bucket(Bucket=name)
    return name


def test_a_lock_names_its_run_host_and_pid_and_only_one_run_gets_it(aws, bucket):
    s3 = aws.client("s3")
    mine, theirs = Locks(s3, bucket), Locks(aws.client("s3"), bucket)
    lease = mine.acquire(error_key())
    assert isinstance(lease, Lease) and lease.lock == REPLAY_LOCK_PREFIX + error_key()
    body = orjson.loads(s3.get_object(Bucket=bucket, Key=lease.lock)["Body"].read())
    assert (body["object"], body["run"], body["host"], body["pid"]) == (
        error_key(), mine.run, socket.gethostname(), os.getpid())
    held = theirs.acquire(error_key())
    assert isinstance(held, Holder) and (held.run, held.pid) == (mine.run, os.getpid())
    assert held.age_seconds < 60
    mine.release(lease)
    assert isinstance(theirs.acquire(error_key()), Lease), "released: the next run gets it"


def test_a_race_s3_reports_as_a_conflict_leaves_the_object_to_the_other_run(aws, bucket):
    s3 = aws.client("s3")
    other = Locks(s3, bucket).acquire(error_key())
    assert isinstance(other, Lease)
    conflict = aws_error("ConditionalRequestConflict", "A conflicting operation is in progress", "PutObject")
    held = Locks(Faulty(s3, put_object=iter([conflict])), bucket).acquire(error_key())
    assert isinstance(held, Holder)


def test_a_renewal_rewrites_the_lock_and_a_release_after_a_takeover_leaves_the_new_holders_lock(aws, bucket):
    s3 = aws.client("s3")
    first = Locks(s3, bucket, lease_seconds=0.0)
    lease = first.acquire(error_key())
    assert isinstance(lease, Lease)
    etag = lease.etag
    first.renew_if_due(lease)
    assert lease.etag != etag, "rewritten: a new ETag"
    taker = Locks(s3, bucket, lease_seconds=0.0).acquire(error_key())
    assert isinstance(taker, Lease) and taker.took_over is not None and taker.took_over.run == first.run
    first.release(lease)  # its ETag no longer matches: the taker's lock stays
    assert s3.get_object(Bucket=bucket, Key=taker.lock)["ETag"] == taker.etag


def test_a_caller_not_allowed_to_write_locks_is_told_which_permissions_replay_needs(aws, bucket):
    denied = aws_error("AccessDenied", "Access Denied", "PutObject")
    locks = Locks(Faulty(aws.client("s3"), put_object=itertools.repeat(denied)), bucket)
    with pytest.raises(ReplaySetupError) as caught:
        locks.acquire(error_key())
    assert str(caught.value) == (
        f"access denied to s3://{bucket}/{lock_key(error_key())} (AccessDenied: Access Denied): replay locks "
        f"each object it replays, and needs s3:PutObject, s3:GetObject and s3:DeleteObject on "
        f"{REPLAY_LOCK_PREFIX}*")


def test_the_command_exits_2_when_it_may_not_lock(aws, bucket, monkeypatch):
    s3 = aws.client("s3")
    s3.put_object(Bucket=bucket, Key=error_key(), Body=error_object([b"record\n"]))
    stream = f"locks-stream-{next(_names)}"
    aws.client("firehose").create_delivery_stream(
        DeliveryStreamName=stream, ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::123456789012:role/firehose", "BucketARN": f"arn:aws:s3:::{bucket}"})
    denied = aws_error("AccessDenied", "Access Denied", "PutObject")
    monkeypatch.setattr("replay.__main__.clients", lambda: (
        Faulty(s3, put_object=itertools.repeat(denied)), aws.client("firehose")))
    out, err = io.StringIO(), io.StringIO()
    assert main(["--bucket", bucket, "--stream", stream], out=out, err=err) == 2
    assert err.getvalue().startswith(f"error: access denied to s3://{bucket}/{REPLAY_LOCK_PREFIX}")
    assert s3.get_object_tagging(Bucket=bucket, Key=error_key())["TagSet"] == []
    aws.client("firehose").delete_delivery_stream(DeliveryStreamName=stream)


def test_a_sweep_deletes_stale_locks_of_replayed_objects_only(aws, bucket):
    s3 = aws.client("s3")
    done, pending = error_key(3, "done"), error_key(4, "pending")
    for key in (done, pending):
        assert isinstance(Locks(s3, bucket).acquire(key), Lease)  # left behind by killed runs
    replayed = {done}
    assert Locks(s3, bucket).sweep(replayed.__contains__) == 0, "fresh locks are kept"
    assert Locks(s3, bucket, lease_seconds=0.0).sweep(replayed.__contains__) == 1
    left = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket, Prefix=REPLAY_LOCK_PREFIX)["Contents"]]
    assert left == [lock_key(pending)], "a stale lock on an object not replayed waits to be taken over"
