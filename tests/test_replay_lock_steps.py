"""Replay's lock per error object (replay/lock.py), step by step, against moto in-process and botocore's
Stubber: the lock's name, when it is renewed, a run that lost it, and the paths S3 rarely takes.

tests/test_replay_lock.py holds taking, holding, releasing, taking over and sweeping against moto's
server; the slow tests run whole replays against each other.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
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
from tests.notifier_support import fake_aws_credentials

ERROR_KEY = "errors/processing-failed/2026/12/03/07/rejected-flows-1-2026-12-03-07-00-00-abc.gz"


class Clock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def locks(s3: Any, run: str, clock: Clock | None = None, lease_seconds: float = 600.0) -> Locks:
    return Locks(s3, BUCKET, lease_seconds=lease_seconds, run=run, monotonic=clock or Clock())


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Stubber]]:
    """An S3 client whose answers the test lines up (botocore's Stubber); fails if one is left unused."""
    fake_aws_credentials(monkeypatch)
    client = boto3.client("s3", region_name="eu-west-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


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


def test_a_holder_is_described_by_host_pid_and_age_and_without_a_pid_it_does_not_know() -> None:
    assert Holder("r", "laptop", 4321, 12.4).describe() == \
        "another run (a run on laptop pid 4321, last renewed 12 s ago) is replaying it"
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


def test_a_run_whose_stale_lock_was_taken_over_learns_it_at_its_next_renewal(aws: Any) -> None:
    clock = Clock()
    stopped = locks(aws, "run-stopped", clock, lease_seconds=0.0)
    old = stopped.acquire(ERROR_KEY)
    assert isinstance(old, Lease)
    new = locks(aws, "run-new", lease_seconds=0.0).acquire(ERROR_KEY)
    assert isinstance(new, Lease) and new.took_over is not None and new.took_over.run == "run-stopped"

    clock.now += 1
    with pytest.raises(LockLostError, match="another run took over its lock"):
        stopped.renew_if_due(old)
    assert lock_body(aws)["run"] == "run-new"


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"run": 7, "pid": "12"}'])
def test_a_lock_that_does_not_say_who_holds_it_still_keeps_a_second_run_out(aws: Any, body: bytes) -> None:
    aws.put_object(Bucket=BUCKET, Key=lock_key(ERROR_KEY), Body=body)

    holder = locks(aws, "run-two").acquire(ERROR_KEY)

    assert isinstance(holder, Holder)
    assert (holder.run, holder.host, holder.pid) == ("7" if body.startswith(b"{") else "?", "?", None)
    assert holder.who().startswith("a run on ?, last renewed ")


def test_a_lock_released_while_a_run_looked_is_taken_on_the_next_try(stubbed: tuple[Any, Stubber]) -> None:
    s3, answers = stubbed
    answers.add_client_error("put_object", "PreconditionFailed", http_status_code=412)
    answers.add_client_error("get_object", "NoSuchKey", http_status_code=404)
    answers.add_response("put_object", {"ETag": '"e1"'})

    lease = locks(s3, "run-two").acquire(ERROR_KEY)

    assert isinstance(lease, Lease) and (lease.etag, lease.took_over) == ('"e1"', None)


def test_a_run_kept_out_by_locks_taken_and_released_under_it_leaves_the_object(
        stubbed: tuple[Any, Stubber]) -> None:
    s3, answers = stubbed
    for _ in range(3):
        answers.add_client_error("put_object", "ConditionalRequestConflict", http_status_code=409)
        answers.add_client_error("get_object", "NoSuchKey", http_status_code=404)

    holder = locks(s3, "run-two").acquire(ERROR_KEY)

    assert holder == Holder("?", "another host", None, 0.0)


def test_a_lock_that_may_not_be_read_says_which_permissions_replay_needs(
        stubbed: tuple[Any, Stubber]) -> None:
    s3, answers = stubbed
    answers.add_client_error("put_object", "PreconditionFailed", http_status_code=412)
    answers.add_client_error("get_object", "AccessDenied", "Access Denied", http_status_code=403)

    with pytest.raises(ReplaySetupError) as refused:
        locks(s3, "run-two").acquire(ERROR_KEY)

    assert str(refused.value) == (
        f"access denied to s3://{BUCKET}/{lock_key(ERROR_KEY)} (AccessDenied: Access Denied): replay locks "
        f"each object it replays, and needs s3:PutObject, s3:GetObject and s3:DeleteObject on "
        f"{REPLAY_LOCK_PREFIX}*")


def test_a_lock_that_cannot_be_written_for_another_reason_is_an_object_error(
        stubbed: tuple[Any, Stubber]) -> None:
    s3, answers = stubbed
    answers.add_client_error("put_object", "InternalError", "We encountered an internal error",
                             http_status_code=500)

    with pytest.raises(ObjectAccessError, match=r"^cannot lock the object \(InternalError: We enc"):
        locks(s3, "run-two").acquire(ERROR_KEY)


def test_releasing_without_a_network_leaves_the_lock_to_run_out(aws: Any) -> None:
    lease = locks(aws, "run-one").acquire(ERROR_KEY)
    assert isinstance(lease, Lease)

    class Unreachable:
        def delete_object(self, **_: Any) -> None:
            raise EndpointConnectionError(endpoint_url="https://s3.eu-west-1.amazonaws.com")

    Locks(Unreachable(), BUCKET).release(lease)

    assert lock_body(aws)["run"] == "run-one"
