"""Replay's lock per error object (replay/lock.py), step by step, against moto in-process and botocore's
Stubber: what a second run, a stopped run and a sweep see, and the edge paths S3 rarely takes.

tests/test_replay_lock.py runs the lock against moto's server, and the slow tests run whole replays
against each other.
"""

from __future__ import annotations

import hashlib
from typing import Any

import boto3
import orjson
import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber

from contracts.layout import REPLAY_LOCK_PREFIX
from replay.aws import ObjectAccessError, ReplaySetupError
from replay.lock import MAX_KEY_BYTES, RENEW_FRACTION, Holder, Lease, LockLostError, Locks, lock_key
from tests.conftest import BUCKET

ERROR_KEY = "errors/processing-failed/2026/12/03/07/rejected-flows-1-2026-12-03-07-00-00-abc.gz"


class Clock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def locks(s3: Any, run: str, clock: Clock | None = None, lease_seconds: float = 600.0) -> Locks:
    return Locks(s3, BUCKET, lease_seconds=lease_seconds, run=run, monotonic=clock or Clock())


def lock_body(s3: Any, key: str = ERROR_KEY) -> dict[str, Any]:
    body: dict[str, Any] = orjson.loads(s3.get_object(Bucket=BUCKET, Key=lock_key(key))["Body"].read())
    return body


def test_a_lock_lives_under_its_prefix_and_a_key_too_long_for_s3_is_named_by_its_hash() -> None:
    longest = "e" * (MAX_KEY_BYTES - len(REPLAY_LOCK_PREFIX))

    assert lock_key(ERROR_KEY) == REPLAY_LOCK_PREFIX + ERROR_KEY
    assert lock_key(longest) == REPLAY_LOCK_PREFIX + longest
    assert lock_key(longest + "e") == \
        REPLAY_LOCK_PREFIX + "sha256/" + hashlib.sha256((longest + "e").encode()).hexdigest()
    assert lock_key("é" * 600).startswith(REPLAY_LOCK_PREFIX + "sha256/")  # 1,200 bytes in 600 characters


def test_the_first_run_takes_the_lock_and_a_second_run_is_told_who_holds_it(aws: Any) -> None:
    first = locks(aws, "run-one").acquire(ERROR_KEY)
    second = locks(aws, "run-two").acquire(ERROR_KEY)

    assert isinstance(first, Lease) and (first.key, first.lock, first.took_over) == \
        (ERROR_KEY, lock_key(ERROR_KEY), None)
    assert isinstance(second, Holder)
    assert (second.run, second.pid) == ("run-one", lock_body(aws)["pid"])
    assert second.age_seconds < 60
    assert second.describe() == f"another run ({second.who()}) is replaying it"
    assert second.who() == f"a run on {second.host} pid {second.pid}, last renewed " \
        f"{second.age_seconds:,.0f} s ago"
    assert lock_body(aws)["run"] == "run-one"


def test_a_holder_without_a_pid_is_described_without_one() -> None:
    assert Holder("r", "laptop", None, 1234.4).who() == "a run on laptop, last renewed 1,234 s ago"


def test_a_lock_is_renewed_only_once_a_fifth_of_the_lease_has_passed(aws: Any) -> None:
    clock = Clock()
    mine = locks(aws, "run-one", clock)
    lease = mine.acquire(ERROR_KEY)
    assert isinstance(lease, Lease)
    first_etag = lease.etag

    clock.now += 600 * RENEW_FRACTION - 1
    mine.renew_if_due(lease)
    assert (lease.etag, lock_body(aws)["write"]) == (first_etag, 1)

    clock.now += 1
    mine.renew_if_due(lease)
    assert lease.etag != first_etag
    assert (lease.written_at, lock_body(aws)["write"]) == (clock.now, 2)


def test_a_stale_lock_is_taken_over_and_its_old_holder_learns_it_lost_the_lock(aws: Any) -> None:
    clock = Clock()
    stopped = locks(aws, "run-stopped", clock, lease_seconds=0.0)
    old = stopped.acquire(ERROR_KEY)
    assert isinstance(old, Lease)

    new = locks(aws, "run-new", lease_seconds=0.0).acquire(ERROR_KEY)

    assert isinstance(new, Lease) and new.took_over is not None
    assert new.took_over.run == "run-stopped"
    assert lock_body(aws)["run"] == "run-new"
    clock.now += 1
    with pytest.raises(LockLostError, match="another run took over its lock"):
        stopped.renew_if_due(old)
    stopped.release(old)  # not its lock any more: the new holder's stays
    assert lock_body(aws)["run"] == "run-new"


def test_releasing_deletes_the_lock_so_the_next_run_takes_it_at_once(aws: Any) -> None:
    first = locks(aws, "run-one")
    lease = first.acquire(ERROR_KEY)
    assert isinstance(lease, Lease)

    first.release(lease)
    again = locks(aws, "run-two").acquire(ERROR_KEY)

    assert isinstance(again, Lease) and again.took_over is None
    assert lock_body(aws)["run"] == "run-two"


def test_a_sweep_deletes_stale_locks_of_replayed_objects_only(aws: Any) -> None:
    replayed_key, pending_key = ERROR_KEY, ERROR_KEY.replace("abc", "def")
    for key in (replayed_key, pending_key):
        assert isinstance(locks(aws, "run-stopped").acquire(key), Lease)
    fresh = locks(aws, "run-sweeper")
    stale = locks(aws, "run-sweeper", lease_seconds=0.0)

    assert fresh.sweep(lambda key: True) == 0  # neither is stale yet
    assert stale.sweep(lambda key: key == replayed_key) == 1

    left = [item["Key"] for item in aws.list_objects_v2(Bucket=BUCKET, Prefix=REPLAY_LOCK_PREFIX)["Contents"]]
    assert left == [lock_key(pending_key)]


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"run": 7, "pid": "12"}'])
def test_a_lock_that_does_not_say_who_holds_it_still_keeps_a_second_run_out(aws: Any, body: bytes) -> None:
    aws.put_object(Bucket=BUCKET, Key=lock_key(ERROR_KEY), Body=body)

    holder = locks(aws, "run-two").acquire(ERROR_KEY)

    assert isinstance(holder, Holder)
    assert (holder.run, holder.host, holder.pid) == ("7" if body.startswith(b"{") else "?", "?", None)
    assert holder.who().startswith("a run on ?, last renewed ")


def test_a_lock_released_while_a_run_looked_is_taken_on_the_next_try(aws: Any) -> None:
    stubbed = boto3.client("s3", region_name="eu-west-1")
    with Stubber(stubbed) as s3:
        s3.add_client_error("put_object", "PreconditionFailed", http_status_code=412)
        s3.add_client_error("get_object", "NoSuchKey", http_status_code=404)
        s3.add_response("put_object", {"ETag": '"e1"'})

        lease = locks(stubbed, "run-two").acquire(ERROR_KEY)

        assert isinstance(lease, Lease) and (lease.etag, lease.took_over) == ('"e1"', None)
        s3.assert_no_pending_responses()


def test_a_run_kept_out_by_locks_taken_and_released_under_it_leaves_the_object(aws: Any) -> None:
    stubbed = boto3.client("s3", region_name="eu-west-1")
    with Stubber(stubbed) as s3:
        for _ in range(3):
            s3.add_client_error("put_object", "ConditionalRequestConflict", http_status_code=409)
            s3.add_client_error("get_object", "NoSuchKey", http_status_code=404)

        holder = locks(stubbed, "run-two").acquire(ERROR_KEY)

    assert holder == Holder("?", "another host", None, 0.0)


@pytest.mark.parametrize("operation", ["put_object", "get_object"])
def test_a_lock_refused_for_permissions_says_which_permissions_replay_needs(aws: Any, operation: str) -> None:
    stubbed = boto3.client("s3", region_name="eu-west-1")
    with Stubber(stubbed) as s3:
        if operation == "get_object":
            s3.add_client_error("put_object", "PreconditionFailed", http_status_code=412)
        s3.add_client_error(operation, "AccessDenied", "Access Denied", http_status_code=403)

        with pytest.raises(ReplaySetupError) as refused:
            locks(stubbed, "run-two").acquire(ERROR_KEY)

    assert str(refused.value) == (
        f"access denied to s3://{BUCKET}/{lock_key(ERROR_KEY)} (AccessDenied: Access Denied): replay locks "
        f"each object it replays, and needs s3:PutObject, s3:GetObject and s3:DeleteObject on "
        f"{REPLAY_LOCK_PREFIX}*")


def test_a_lock_that_cannot_be_written_for_another_reason_is_an_object_error(aws: Any) -> None:
    stubbed = boto3.client("s3", region_name="eu-west-1")
    with Stubber(stubbed) as s3:
        s3.add_client_error("put_object", "InternalError", "We encountered an internal error",
                            http_status_code=500)

        with pytest.raises(ObjectAccessError, match=r"^cannot lock the object \(InternalError: We enc"):
            locks(stubbed, "run-two").acquire(ERROR_KEY)


def test_releasing_without_a_network_leaves_the_lock_to_run_out(aws: Any) -> None:
    lease = locks(aws, "run-one").acquire(ERROR_KEY)
    assert isinstance(lease, Lease)

    class Unreachable:
        def delete_object(self, **_: Any) -> None:
            raise EndpointConnectionError(endpoint_url="https://s3.eu-west-1.amazonaws.com")

    Locks(Unreachable(), BUCKET).release(lease)

    assert lock_body(aws)["run"] == "run-one"
